// This file defines every NATS subject pirun uses, built in one place.
//
// The wire package does not import NATS; subjects are plain strings here so
// that the hub's permissions, the engine daemon and the client agree on them.

package wire

import (
	"crypto/rand"
	"strconv"
	"strings"
)

// Subject prefixes and fixed subjects.
const (
	// SubjectRegister is the hub's request subject for engine daemons joining.
	SubjectRegister = "pirun.hub.register"
	// SubjectHeartbeat receives every daemon's periodic Heartbeat.
	SubjectHeartbeat = "pirun.hub.hb"
	// SubjectQuery is the hub's request subject for client queries (Query).
	SubjectQuery = "pirun.hub.query"
	// SubjectEvents is where the hub announces engines joining and leaving.
	SubjectEvents = "pirun.hub.events"
	// SubjectSubmit is the stem of the subjects on which clients submit
	// load-balanced task batches (SubmitFrom).
	SubjectSubmit = "pirun.sched.submit"
	// SubjectSchedControl is the stem of the subjects on which clients
	// abort load-balanced tasks (SchedControlFrom).
	SubjectSchedControl = "pirun.sched.ctl"
	// SubjectHubAcks receives acknowledgements of the parts of large
	// messages the hub forwards.
	SubjectHubAcks = "pirun.hub.ack"
	// SubjectJobs receives clients' reports of their calls in flight
	// (Jobs), read by the hub only while its dashboard is watched.
	SubjectJobs = "pirun.hub.jobs"
	// SubjectDone receives daemons' reports of finished load-balanced tasks.
	SubjectDone = "pirun.sched.done"

	daemonPrefix = "pirun.d."
	clientPrefix = "pirun.c."
	commPrefix   = "pirun.comm."
)

// RegisterFrom, HeartbeatFrom and DoneFrom are the subjects on which
// daemon d sends its Register, Heartbeat and Done messages. The hub lets a
// daemon publish only with its own id as the last token and checks that
// the message speaks for that daemon; the plain SubjectRegister,
// SubjectHeartbeat and SubjectDone remain for the hub's own connection
// and hubs without authentication.
func RegisterFrom(d string) string  { return SubjectRegister + "." + d }
func HeartbeatFrom(d string) string { return SubjectHeartbeat + "." + d }
func DoneFrom(d string) string      { return SubjectDone + "." + d }

// LastToken returns what follows the last dot of subj.
func LastToken(subj string) string { return subj[strings.LastIndexByte(subj, '.')+1:] }

// DaemonTasks is the stem of the subjects on which daemon d receives task
// batches: each sender sends on its own, DaemonTasksFrom.
func DaemonTasks(d string) string { return daemonPrefix + d + ".task" }

// DaemonTasksFrom is the subject on which s sends daemon d task batches:
// a client's id, or SenderHub. The hub lets a client publish only with
// its own id as the last token, so a daemon knows who sent a message (and
// bounds the memory of large ones per sender) by that token. With s "*"
// it matches every sender.
func DaemonTasksFrom(d, s string) string { return DaemonTasks(d) + "." + s }

// SubmitFrom is the subject on which client c submits load-balanced task
// batches; as with DaemonTasksFrom, its last token is the sender, which
// only c may publish, and "*" matches every client.
func SubmitFrom(c string) string { return SubjectSubmit + "." + c }

// HeaderSync, on a request with no data on SubmitFrom(c), asks the hub
// to answer (a ControlReply) once the detached tasks of one submission c
// made before it are kept on disk, or with the reason they were refused
// (SPEC §15). Its value names the submission: the id of its first
// detached task, in decimal.
const HeaderSync = "Pirun-Sync"

// SchedControlFrom is the subject on which client c sends the scheduler
// its aborts of load-balanced tasks; its last token is the sender, which
// only c may publish, and "*" matches every client.
func SchedControlFrom(c string) string { return SubjectSchedControl + "." + c }

// SenderHub is the sender token of the hub's own messages on subjects
// that end in their sender (DaemonTasksFrom, ClientResults): no client or
// daemon id is "hub" (they are 56-character public keys).
const SenderHub = "hub"

// DaemonControl is the stem of the subjects on which daemon d receives
// Control requests. It is separate from DaemonTasks so that aborts never
// wait behind tasks.
func DaemonControl(d string) string { return daemonPrefix + d + ".ctl" }

// DaemonControlFrom is the subject on which s sends daemon d Control
// requests: a client's id, or SenderHub. As with DaemonTasksFrom, the hub
// lets a client publish only with its own id as the last token, so the
// daemon knows who asks; with s "*" it matches every sender.
func DaemonControlFrom(d, s string) string { return DaemonControl(d) + "." + s }

// SubjectAdmin is where the hub takes the admin's requests (pirun abort):
// only the hub's own credential may publish there.
const SubjectAdmin = "pirun.hub.admin"

// DaemonAdmin is the subject on which daemon d receives the hub's admin
// requests (abort any client's tasks); only the hub publishes there.
func DaemonAdmin(d string) string { return daemonPrefix + d + ".admin" }

// DaemonAcks is the subject on which daemon d receives acknowledgements
// of the parts of large messages it sends.
func DaemonAcks(d string) string { return daemonPrefix + d + ".ack" }

// DaemonAll matches every subject of every daemon (for permissions).
const DaemonAll = daemonPrefix + ">"

// EngineInboxPrefix is the reply inbox prefix of engine daemons, apart
// from clients' "_INBOX", so that engine credentials cannot read the
// replies that clients get.
const EngineInboxPrefix = "_INBOX_ENGINE"

// ClientInboxPrefix is the reply inbox prefix of clients.
const ClientInboxPrefix = "_INBOX"

// EngineInbox is daemon d's own reply inbox prefix: the hub lets a daemon
// subscribe only under its own.
func EngineInbox(d string) string { return EngineInboxPrefix + "." + d }

// ClientInbox is client c's own reply inbox prefix: the hub lets a client
// subscribe only under its own.
func ClientInbox(c string) string { return ClientInboxPrefix + "." + c }

// ClientResults is the subject on which client c receives Results batches
// from the hub (tasks the hub itself fails).
func ClientResults(c string) string { return clientPrefix + c + ".r" }

// ClientResultsFrom is the subject on which daemon d sends client c
// Results. The hub lets a daemon publish only with its own id as the last
// token, so the client knows which daemon sent them.
func ClientResultsFrom(c, d string) string { return clientPrefix + c + ".r." + d }

// ClientOutput is the subject on which client c receives streamed Output.
func ClientOutput(c string) string { return clientPrefix + c + ".o" }

// ClientOutputFrom is the subject on which daemon d streams Output to
// client c; the last token is pinned to d as in ClientResultsFrom.
func ClientOutputFrom(c, d string) string { return clientPrefix + c + ".o." + d }

// ClientSubject splits a subject of client c's (under ClientAll(c)) into
// its kind ("r", "o", "a" or "f") and its sending daemon ("" when the hub or
// the client itself sent it).
func ClientSubject(subj string) (kind, daemon string) {
	rest, ok := strings.CutPrefix(subj, clientPrefix)
	if !ok {
		return "", ""
	}
	toks := strings.Split(rest, ".")
	switch len(toks) {
	case 2:
		return toks[1], ""
	case 3:
		return toks[1], toks[2]
	}
	return "", ""
}

// ClientFence is the subject on which client c sends itself a marker
// through its own subscription: once it is handled, so is everything the
// subscription received before it. Only c may publish on it.
func ClientFence(c string) string { return clientPrefix + c + ".f" }

// ClientAcks is the subject on which client c receives chunk acknowledgements.
func ClientAcks(c string) string { return clientPrefix + c + ".a" }

// ClientAll is the wildcard covering every subject of client c.
func ClientAll(c string) string { return clientPrefix + c + ".>" }

// ClientsAll matches every client subject (for permissions).
const ClientsAll = clientPrefix + ">"

// CommTo is the subject on which daemon d receives, for its engine id,
// the messages of the SPMD jobs it takes part in (wire.CommMsg) from daemon
// from. Engines are addressed rather than ranks so that a message sent
// before the receiver's task started (it may wait behind other tasks) is
// not lost. The hub lets a daemon read only its own (CommOf) and send only
// with its own id last, so a receiver knows which daemon sent a message
// and no daemon reads the messages of jobs it takes no part in.
func CommTo(d string, engine int, from string) string {
	return commPrefix + d + ".e." + strconv.Itoa(engine) + "." + from
}

// CommQueryTo is the request subject on which daemon d answers, for its
// engine id, a CommQuery of daemon from with a CommStatus (deadlock
// detection).
func CommQueryTo(d string, engine int, from string) string {
	return commPrefix + d + ".q." + strconv.Itoa(engine) + "." + from
}

// CommOf matches every communicator subject of daemon d (to subscribe, and
// for permissions).
func CommOf(d string) string { return commPrefix + d + ".>" }

// CommFrom returns the patterns of the communicator subjects that daemon
// from may send on (for permissions).
func CommFrom(from string) []string {
	return []string{commPrefix + "*.e.*." + from, commPrefix + "*.q.*." + from}
}

// CommAll matches every communicator subject (for permissions).
const CommAll = commPrefix + ">"

// NewID returns a random identifier of 22 letters and digits (about 131
// bits), safe in subject tokens: daemon, client and hub ids.
func NewID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	var b [22]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:])
}
