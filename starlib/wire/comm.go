// This file defines the envelopes of message passing between the ranks of
// an SPMD job (the engines' `comm`), and of the questions ranks ask each
// other to tell a deadlock from a slow rank.
//
// Every CommMsg goes to CommTo(daemon of Dst, engine of Dst, sender's daemon). Messages from one rank
// to another keep their order: each daemon publishes on one connection,
// and ranks on the same daemon hand messages over in order in memory.

package wire

import "strconv"

// CommKind says what a CommMsg carries.
type CommKind uint8

// The message kinds. Data and RTS are what a receive matches; the others
// move large messages, give back flow-control credit or end the job.
const (
	CommData   CommKind = iota + 1 // a small message: Ctx, Tag, Data (a codec-encoded value)
	CommRTS                        // a large message is ready: Ctx, Tag, Seq, Size
	CommCTS                        // the receiver matched RTS Seq: send its parts
	CommPart                       // a part of large message Seq, in order
	CommAck                        // the receiver got one part of large message Seq
	CommCredit                     // the receiver consumed messages: Bytes and Msgs of credit back
	CommFail                       // rank Src failed, or found a deadlock: Error
)

var commKindNames = [...]string{"?", "data", "rts", "cts", "part", "ack", "credit", "fail"}

func (k CommKind) String() string {
	if int(k) < len(commKindNames) {
		return commKindNames[k]
	}
	return "commkind(" + strconv.Itoa(int(k)) + ")"
}

// CommMsg is one message between two ranks of SPMD job Job. Ranks are
// world ranks (indexes into Comm.Ranks); Ctx tells communicators apart
// (the world's point-to-point messages have Ctx 0).
//
// Data and RTS may carry credit back for the messages the receiver sent
// to the sender (Bytes, Msgs), saving a Credit message.
type CommMsg struct {
	Job      string   `wire:"1"`
	Kind     CommKind `wire:"2"`
	Src      int      `wire:"3"`
	Dst      int      `wire:"4"`
	Ctx      uint64   `wire:"5"`
	Tag      int      `wire:"6"`
	Seq      uint64   `wire:"7"`  // the sender's number for a large message
	Size     int      `wire:"8"`  // RTS: the large message's bytes
	Bytes    int      `wire:"9"`  // credit given back: bytes
	Msgs     int      `wire:"10"` // credit given back: messages
	Data     []byte   `wire:"11"` // Data: the value; Part: a piece of it
	Error    string   `wire:"12"` // Fail: what happened, for the other ranks' errors
	Deadlock bool     `wire:"13"` // Fail: Error is a deadlock report
	Aborted  bool     `wire:"14"` // Fail: the rank was aborted (the client aborts the whole job)
	Call     string   `wire:"15"` // a collective's Data or RTS: the sender's call, "bcast(root=0)", to detect ranks calling different collectives
}

// CommState is what a rank of a job is doing, as far as message passing
// is concerned.
type CommState uint8

// The rank states. Only Blocked and Done ranks can be part of a deadlock.
const (
	CommPending CommState = iota + 1 // its task has not started on the engine
	CommRunning                      // running, or moving a large message
	CommBlocked                      // waiting for a message from another rank (Wait says which)
	CommDone                         // its task finished
	CommFailed                       // the job failed (Error says how)
	CommGone                         // the engine is not running here any more
)

// CommQuery asks engine Engine about its rank in job Job; the answer is
// a CommStatus.
//
// With Seq > 0 it also asks which collective the rank called as its
// collective number Seq in collective context Ctx (CommStatus.Called).
type CommQuery struct {
	Job    string `wire:"1"`
	Engine int    `wire:"2"`
	Ctx    uint64 `wire:"3"`
	Seq    int    `wire:"4"`
}

// CommStatus is a rank's state at one instant. Sent[r] and Arrived[r]
// count the messages of every kind it sent to and received from rank r:
// when every rank is blocked or done and each Sent matches the peer's
// Arrived, no message is in flight and nothing can ever change.
type CommStatus struct {
	State      CommState `wire:"1"`
	Wait       string    `wire:"2"` // what a blocked rank waits for: "recv(source=0, tag=10)"
	Sent       []uint64  `wire:"3"`
	Arrived    []uint64  `wire:"4"`
	Error      string    `wire:"5"` // CommFailed: why
	Unreceived string    `wire:"6"` // messages that arrived and no receive took: "source=0 tag=0 (×2)"
	Called     string    `wire:"7"` // the collective asked about by CommQuery.Seq, "barrier()"; "" when not called (yet)
}
