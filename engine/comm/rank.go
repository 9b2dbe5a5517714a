// This file defines Rank: one engine's rank in one SPMD job — the
// messages it received that no receive took yet, the receives it posted,
// flow-control credit per peer, large messages on their way, and the
// counters that deadlock detection compares.
//
// Small messages (up to eagerMax encoded bytes) are sent at once while the
// sender has credit: each receiver accepts at most windowBytes and
// windowMsgs of them per sender that no receive took yet, and gives credit
// back as its receives take them. Larger messages send only an RTS; the
// receiver answers CTS when a receive matches it, and the data follows in
// parts of partBytes, at most commPartWindow unacknowledged. So a fast
// sender cannot run a slow receiver out of memory.
//
// Every mutation happens under mu. Messages are sent under mu too, so that
// messages to one peer leave in the order they were made; messages to a
// rank of the same daemon go into its inbox, which the sender drains after
// releasing mu (see drainList).

package comm

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Flow-control limits, per pair of ranks.
const (
	eagerMax       = 256 << 10 // larger values go as RTS, CTS and parts
	windowBytes    = 4 << 20   // bytes of small messages unreceived at one receiver, per sender
	windowMsgs     = 1024      // messages (small, or RTS) unreceived at one receiver, per sender
	partBytes      = 1 << 20   // parts of a large message through the hub
	commPartWindow = 4         // parts of a large message unacknowledged
	maxMessage     = 1 << 30   // the codec's limit on a value
)

type phase uint8

const (
	phasePending phase = iota // messages arrived, the task has not started
	phaseRunning
	phaseEnded
)

// peerState is what a rank keeps about one other rank of its job.
type peerState struct {
	sent, arrived uint64     // messages of every kind, for deadlock detection
	credit        credit     // what this rank may still send it
	owed          credit     // what its receives took and this rank has not given back
	queue         []*request // sends waiting for credit, in order
	local         bool       // it runs in this daemon: messages go through its inbox
	reached       bool       // another daemon's engine answered: it listens
	rec           *Rank      // its record, when local
}

type credit struct{ bytes, msgs int }

// recvKey names a large message being received.
type recvKey struct {
	src int
	seq uint64
}

// Rank is one engine's rank in one job. It is safe for concurrent
// use: the task's thread, NATS callbacks and drainers share it under mu
// (and the inbox under inMu, taken after mu when both are).
type Rank struct {
	mux    *Mux
	job    string
	engine int

	inMu     sync.Mutex
	inbox    []*wire.CommMsg // messages from ranks of this daemon, not yet delivered
	draining bool

	mu         sync.Mutex
	phase      phase
	rank       int
	ranks      []int      // engine id of each world rank
	daemons    []string   // the daemon of each world rank, which alone may send its messages
	early      []earlyMsg // messages through the hub before the task started, checked by start
	lost       []string   // daemons whose early messages were dropped over the bounds (see Mux.reserveEarly)
	born       time.Time  // when the record was made: a pending one expires after pendingStall
	expired    bool       // pending past pendingStall: its early messages were dropped
	peers      []peerState
	broken     error               // the job failed: every operation fails with it
	unexpected []*wire.CommMsg     // Data and RTS that no receive took yet, in arrival order (only their envelope once the task ended)
	posted     []*request          // receives and probes waiting for a message, in order
	sends      map[uint64]*request // large sends waiting for CTS or acknowledgements
	recvs      map[recvKey]*request
	seq        uint64
	busy       int      // large messages moving: the rank is not blocked
	waiting    *request // what the task's thread waits for
	wake       chan struct{}
	timer      *time.Timer
	lastLive   int                  // the peer found running at the last deadlock check
	calls      map[collKey]collCall // the rank's last collectives (see mismatch.go)
	callOrder  []collKey            // the keys of calls, oldest first
	checking   bool                 // a collective mismatch is being reported: operations wait
	closing    bool                 // the task's code ended: it confirms its last collectives
	mismatched bool                 // this rank reported a collective mismatch: even complete operations fail
}

// earlyMsg is a message that arrived through the hub before its rank's
// task told which daemon runs each rank.
type earlyMsg struct {
	m    *wire.CommMsg
	from string // the sending daemon, pinned by the hub
	size int    // the bytes it counts against the Mux's bounds
}

// maxEarly bounds the messages a rank keeps before its task starts.
const maxEarly = 1 << 14

func newRankState(mux *Mux, job string, engine int) *Rank {
	return &Rank{mux: mux, job: job, engine: engine, wake: make(chan struct{}, 1), lastLive: -1, born: mux.now()}
}

// request is a send, receive or probe of the rank's thread.
type request struct {
	kind reqKind
	ctx  uint64 // communicator context
	peer int    // world rank: destination, or source (anySource)
	tag  int    // anyTag for receives of any tag
	desc string // for reports: "recv(source=0, tag=10)"
	call string // a collective's send: the call, for the receiver to compare
	comm *communicator

	data      []byte // send: the encoded value; receive: the message, when done
	seq       uint64 // large message number
	next, ack int    // large send: parts sent, parts acknowledged
	size      int    // large receive: announced bytes

	src, gotTag int // receive, probe: what matched (world rank)
	done        bool
	value       starlark.Value // decoded once
	sync        bool           // ssend, issend: completes once a receive matched it
	cancelled   bool           // Request.cancel took it back before it matched

	group []*request // reqAny: complete when one of them is
}

// complete reports whether r is done; a group, when one of its requests
// is. rs.mu is held.
func (r *request) complete() bool {
	if r.kind != reqAny {
		return r.done
	}
	for _, g := range r.group {
		if g.done {
			return true
		}
	}
	return false
}

type reqKind uint8

const (
	reqSend reqKind = iota + 1
	reqRecv
	reqProbe
	reqAny // waitany, waitsome: several requests
)

// The special ranks and tags, as mpi4py names them (Open MPI's values).
const (
	anySource = -1
	anyTag    = -1
	procNull  = -2     // send to it and receive from it complete at once
	undefined = -32766 // waitany's index when there is nothing to wait for; split's color to stay out
)

// matches reports whether m is what receive or probe r waits for.
func (r *request) matches(m *wire.CommMsg) bool {
	return m.Ctx == r.ctx && (r.peer == anySource || r.peer == m.Src) && (r.tag == anyTag || r.tag == m.Tag)
}

// cost is the credit a message takes.
func cost(m *wire.CommMsg) credit {
	if m.Kind == wire.CommData {
		return credit{len(m.Data), 1}
	}
	return credit{0, 1}
}

// peer returns the state of world rank p, growing the table for messages
// that arrive before the task started.
func (rs *Rank) peer(p int) *peerState {
	if p >= len(rs.peers) {
		rs.peers = append(rs.peers, make([]peerState, p+1-len(rs.peers))...)
	}
	return &rs.peers[p]
}

// start binds the record to its task: rank of len(ranks) ranks, run by
// daemons, and delivers the messages that came before, if their daemon
// runs their sender.
func (rs *Rank) start(rank int, ranks []int, daemons []string, dl *drainList) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.rank, rs.ranks, rs.daemons, rs.phase = rank, ranks, daemons, phaseRunning
	if len(daemons) != len(ranks) {
		rs.broken = &jobError{msg: "this SPMD job's task does not say which daemon runs each rank: the client runs an older pirun than this engine; run the same pirun release on the client and every engine"}
	}
	defer func() {
		for _, e := range rs.early {
			rs.deliverFrom(e.m, e.from, dl)
		}
		rs.mux.releaseEarly(rs.early)
		rs.early = nil
		for _, d := range rs.lost {
			if slices.Contains(rs.daemons, d) {
				rs.breakJob(rs.lostError(d), dl)
				break
			}
		}
		rs.lost = nil
	}()
	rs.peer(len(ranks) - 1)
	for p := range rs.peers {
		ps := &rs.peers[p]
		ps.credit.bytes += windowBytes
		ps.credit.msgs += windowMsgs
		switch {
		case p == rank:
			ps.rec, ps.local = rs, true
		case p < len(ranks):
			ps.rec = rs.mux.localRecord(rs.job, ranks[p])
			ps.local = ps.rec != nil
		}
	}
}

// send sends m to world rank dst; rs.mu is held.
func (rs *Rank) send(dst int, m *wire.CommMsg, dl *drainList) {
	if rs.phase == phasePending || dst < 0 || dst >= len(rs.ranks) {
		return
	}
	m.Job, m.Src, m.Dst = rs.job, rs.rank, dst
	p := rs.peer(dst)
	p.sent++
	if p.local {
		if p.rec.push(m) {
			*dl = append(*dl, p.rec)
		}
		return
	}
	rs.mux.publish(rs.daemon(dst), rs.ranks[dst], m)
}

// knows reports whether daemon d runs a rank of the job (true before the
// task started, when that is not known yet).
func (rs *Rank) knows(d string) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.phase == phasePending || slices.Contains(rs.daemons, d)
}

// daemon returns the daemon of world rank p, or "" if unknown.
func (rs *Rank) daemon(p int) string {
	if p < 0 || p >= len(rs.daemons) {
		return ""
	}
	return rs.daemons[p]
}

// receive handles message m that daemon from sent through the hub (the
// last token of its subject, which the hub pins to the sender's identity).
// Before the task started, which tells the daemon of each rank, it is
// kept for start to check.
func (rs *Rank) receive(m *wire.CommMsg, from string, dl *drainList) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.phase == phasePending {
		size := earlySize(m)
		if rs.expired || len(rs.early) >= maxEarly || !rs.mux.reserveEarly(from, size) {
			rs.loseFrom(from)
			return
		}
		rs.early = append(rs.early, earlyMsg{m, from, size})
		return
	}
	rs.deliverFrom(m, from, dl)
}

// loseFrom notes that a message of daemon from was dropped before the
// task started: if from runs a rank of the job, start fails the job.
// rs.mu is held.
func (rs *Rank) loseFrom(from string) {
	if !slices.Contains(rs.lost, from) && len(rs.lost) < maxLost {
		rs.lost = append(rs.lost, from)
		rs.mux.log.Warn("drop a comm message that arrived before its rank's task started: over the bounds of early messages", "job", rs.job, "engine", rs.engine, "from", from)
	}
}

// lostError is the job's failure when messages of daemon d, which runs a
// rank of it, were dropped before this rank's task started.
func (rs *Rank) lostError(d string) error {
	return &jobError{msg: fmt.Sprintf("rank %d (engine %d on %s) lost messages from daemon %s that arrived before its task started (more than %d MiB from one daemon, %d MiB in all, %d messages, or for longer than %s); "+
		"the job cannot go on: start the job's ranks together (engines free, one job at a time) or send less before every rank has started",
		rs.rank, rs.engine, rs.mux.host, d, earlyPerSender>>20, earlyTotal>>20, maxEarly, pendingStall)}
}

// expire drops the early messages of a rank whose task has not started
// pendingStall after its first message, and reports whether it did.
func (rs *Rank) expire() bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.phase != phasePending || rs.expired {
		return false
	}
	rs.expired = true
	for _, e := range rs.early {
		rs.loseFrom(e.from)
	}
	rs.mux.releaseEarly(rs.early)
	rs.early = nil
	return true
}

// deliverFrom delivers m if daemon from runs its sending rank, and drops
// it otherwise: no daemon speaks for ranks it does not run. rs.mu is held.
func (rs *Rank) deliverFrom(m *wire.CommMsg, from string, dl *drainList) {
	if from == "" || rs.daemon(m.Src) != from {
		rs.mux.log.Warn("drop a comm message from a daemon that does not run its rank", "job", rs.job, "rank", m.Src, "from", from, "kind", m.Kind)
		return
	}
	rs.deliverLocked(m, dl)
}

// push appends m to the inbox and reports whether the caller must drain it.
func (rs *Rank) push(m *wire.CommMsg) bool {
	rs.inMu.Lock()
	defer rs.inMu.Unlock()
	rs.inbox = append(rs.inbox, m)
	if rs.draining {
		return false
	}
	rs.draining = true
	return true
}

// pop takes the next inbox message; when there is none the draining ends.
func (rs *Rank) pop() (*wire.CommMsg, bool) {
	rs.inMu.Lock()
	defer rs.inMu.Unlock()
	if len(rs.inbox) == 0 {
		rs.draining = false
		rs.inbox = nil
		return nil, false
	}
	m := rs.inbox[0]
	rs.inbox[0] = nil
	rs.inbox = rs.inbox[1:]
	return m, true
}

// drainList holds the inboxes a goroutine became responsible for
// draining. Draining happens with no lock held, never recursively.
type drainList []*Rank

func (dl *drainList) run() {
	for len(*dl) > 0 {
		rs := (*dl)[len(*dl)-1]
		*dl = (*dl)[:len(*dl)-1]
		for {
			m, ok := rs.pop()
			if !ok {
				break
			}
			rs.deliver(m, dl)
		}
	}
}

// deliver handles a message from another rank of the job.
func (rs *Rank) deliver(m *wire.CommMsg, dl *drainList) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.deliverLocked(m, dl)
}

// deliverLocked is deliver with rs.mu held.
func (rs *Rank) deliverLocked(m *wire.CommMsg, dl *drainList) {
	if m.Src < 0 || m.Src >= 1<<20 {
		return
	}
	rs.peer(m.Src).arrived++
	if m.Bytes != 0 || m.Msgs != 0 {
		rs.credit(m.Src, credit{m.Bytes, m.Msgs}, dl)
	}
	switch m.Kind {
	case wire.CommData, wire.CommRTS:
		rs.arrive(m, dl)
	case wire.CommCTS:
		rs.clear(m, dl)
	case wire.CommPart:
		rs.part(m, dl)
	case wire.CommAck:
		rs.acked(m, dl)
	case wire.CommFail:
		rs.fail(&jobError{msg: m.Error, aborted: m.Aborted})
	}
	if rs.waiting != nil {
		rs.flushCredit(dl)
		rs.poke()
	}
}

// poke wakes the task's thread if what it waits for changed; rs.mu is held.
func (rs *Rank) poke() {
	if rs.waiting != nil && (rs.waiting.complete() || rs.broken != nil) {
		select {
		case rs.wake <- struct{}{}:
		default:
		}
	}
}

// arrive matches a Data or RTS message with the posted receives, or keeps it.
func (rs *Rank) arrive(m *wire.CommMsg, dl *drainList) {
	switch {
	case rs.broken != nil:
		return
	}
	rs.checkCall(m)
	switch {
	case rs.phase == phaseEnded: // kept for deadlock reports; no credit goes back, so they are few
		rs.unexpected = append(rs.unexpected, &wire.CommMsg{Src: m.Src, Ctx: m.Ctx, Tag: m.Tag})
		return
	}
	for i := 0; i < len(rs.posted); i++ {
		r := rs.posted[i]
		if !r.matches(m) {
			continue
		}
		rs.posted = slices.Delete(rs.posted, i, i+1)
		if r.kind == reqProbe {
			r.src, r.gotTag, r.done = m.Src, m.Tag, true
			i--
			continue
		}
		rs.consume(m, r, dl)
		return
	}
	rs.unexpected = append(rs.unexpected, m)
}

// consume gives message m to receive r: a small message completes it, a
// large one is asked for (CTS) and completes when its parts are in.
func (rs *Rank) consume(m *wire.CommMsg, r *request, dl *drainList) {
	p := rs.peer(m.Src)
	c := cost(m)
	p.owed.bytes += c.bytes
	p.owed.msgs += c.msgs
	r.src, r.gotTag = m.Src, m.Tag
	if m.Kind == wire.CommData {
		r.data, r.done = m.Data, true
	} else {
		if m.Size < 0 || m.Size > maxMessage {
			rs.breakJob(fmt.Errorf("rank %d announced a message of %d bytes; the limit is %d", m.Src, m.Size, maxMessage), dl)
			return
		}
		r.size, r.seq = m.Size, m.Seq
		r.data = make([]byte, 0, m.Size)
		if rs.recvs == nil {
			rs.recvs = make(map[recvKey]*request)
		}
		rs.recvs[recvKey{m.Src, m.Seq}] = r
		rs.busy++
		rs.send(m.Src, &wire.CommMsg{Kind: wire.CommCTS, Seq: m.Seq}, dl)
	}
	if p.owed.msgs >= windowMsgs/2 || p.owed.bytes >= windowBytes/2 {
		rs.giveCredit(m.Src, dl)
	}
}

// giveCredit sends peer src the credit owed to it.
func (rs *Rank) giveCredit(src int, dl *drainList) {
	p := rs.peer(src)
	if p.owed == (credit{}) || rs.phase != phaseRunning {
		return
	}
	m := &wire.CommMsg{Kind: wire.CommCredit, Bytes: p.owed.bytes, Msgs: p.owed.msgs}
	p.owed = credit{}
	rs.send(src, m, dl)
}

// flushCredit gives back all credit owed: the thread is about to wait, and
// a peer may be waiting for that credit.
func (rs *Rank) flushCredit(dl *drainList) {
	for p := range rs.peers {
		if rs.peers[p].owed != (credit{}) {
			rs.giveCredit(p, dl)
		}
	}
}

// credit records credit from peer p and sends what waited for it.
func (rs *Rank) credit(p int, c credit, dl *drainList) {
	ps := rs.peer(p)
	ps.credit.bytes += c.bytes
	ps.credit.msgs += c.msgs
	rs.release(p, dl)
}

// release sends the queued sends to p that its credit allows, in order.
func (rs *Rank) release(p int, dl *drainList) {
	ps := rs.peer(p)
	for len(ps.queue) > 0 && rs.phase == phaseRunning && rs.broken == nil {
		r := ps.queue[0]
		if !fits(ps.credit, r) {
			return
		}
		ps.queue[0] = nil
		ps.queue = ps.queue[1:]
		rs.emit(r, dl)
	}
}

// eager reports whether send r goes at once as data, rather than as an
// RTS waiting for a matching receive.
func (r *request) eager() bool {
	return len(r.data) <= eagerMax && !r.sync
}

func fits(c credit, r *request) bool {
	if !r.eager() {
		return c.msgs >= 1
	}
	return c.msgs >= 1 && c.bytes >= len(r.data)
}

// postSend sends r now if credit allows and nothing waits before it.
func (rs *Rank) postSend(r *request, dl *drainList) {
	ps := rs.peer(r.peer)
	if len(ps.queue) == 0 && fits(ps.credit, r) {
		rs.emit(r, dl)
		return
	}
	ps.queue = append(ps.queue, r)
}

// emit sends r's message, taking its credit: a small message completes r,
// a large one sends its RTS and waits for CTS.
func (rs *Rank) emit(r *request, dl *drainList) {
	ps := rs.peer(r.peer)
	m := &wire.CommMsg{Ctx: r.ctx, Tag: r.tag, Bytes: ps.owed.bytes, Msgs: ps.owed.msgs, Call: r.call}
	ps.owed = credit{}
	if r.eager() {
		m.Kind, m.Data = wire.CommData, r.data
		r.done = true
	} else {
		rs.seq++
		r.seq = rs.seq
		m.Kind, m.Seq, m.Size = wire.CommRTS, r.seq, len(r.data)
		if rs.sends == nil {
			rs.sends = make(map[uint64]*request)
		}
		rs.sends[r.seq] = r
	}
	c := cost(m)
	ps.credit.bytes -= c.bytes
	ps.credit.msgs -= c.msgs
	rs.send(r.peer, m, dl)
}

// clear starts sending large message m.Seq: the receiver matched it.
func (rs *Rank) clear(m *wire.CommMsg, dl *drainList) {
	r := rs.sends[m.Seq]
	if r == nil || r.peer != m.Src {
		return
	}
	if rs.peer(r.peer).local {
		rs.send(r.peer, &wire.CommMsg{Kind: wire.CommPart, Seq: r.seq, Data: r.data}, dl)
		delete(rs.sends, r.seq)
		r.done = true
		return
	}
	rs.busy++
	rs.sendParts(r, dl)
}

// sendParts sends the parts of r that the window allows.
func (rs *Rank) sendParts(r *request, dl *drainList) {
	size := rs.mux.partSize()
	total := (len(r.data) + size - 1) / size
	for r.next < total && r.next-r.ack < commPartWindow {
		end := min((r.next+1)*size, len(r.data))
		rs.send(r.peer, &wire.CommMsg{Kind: wire.CommPart, Seq: r.seq, Data: r.data[r.next*size : end]}, dl)
		r.next++
	}
}

// acked records the receiver's acknowledgement of a part.
func (rs *Rank) acked(m *wire.CommMsg, dl *drainList) {
	r := rs.sends[m.Seq]
	if r == nil || r.peer != m.Src {
		return
	}
	r.ack++
	size := rs.mux.partSize()
	if r.ack*size >= len(r.data) {
		delete(rs.sends, r.seq)
		rs.busy--
		r.done = true
		return
	}
	rs.sendParts(r, dl)
}

// part adds a part of a large message to its receive.
func (rs *Rank) part(m *wire.CommMsg, dl *drainList) {
	if !rs.peer(m.Src).local {
		rs.send(m.Src, &wire.CommMsg{Kind: wire.CommAck, Seq: m.Seq}, dl)
	}
	key := recvKey{m.Src, m.Seq}
	r := rs.recvs[key]
	if r == nil {
		return // the receive was dropped: the task ended or failed
	}
	if len(r.data) == 0 && len(m.Data) == r.size {
		r.data = m.Data
	} else {
		r.data = append(r.data, m.Data...)
	}
	if len(r.data) >= r.size {
		delete(rs.recvs, key)
		rs.busy--
		r.done = true
	}
}

// fail records that the job failed elsewhere; rs.mu is held.
func (rs *Rank) fail(err *jobError) {
	if rs.phase == phaseEnded || rs.broken != nil {
		return
	}
	rs.broken = err
}

// breakJob fails the job for every rank: this rank found err (a deadlock,
// a dead rank). rs.mu is held.
func (rs *Rank) breakJob(err error, dl *drainList) {
	if rs.broken != nil {
		return
	}
	rs.broken = err
	rs.broadcast(err, dl)
}

// broadcast tells every other rank that the job failed with err.
func (rs *Rank) broadcast(err error, dl *drainList) {
	var je *jobError
	aborted := errors.As(err, &je) && je.aborted
	for p := range rs.ranks {
		if p != rs.rank {
			rs.send(p, &wire.CommMsg{Kind: wire.CommFail, Error: err.Error(), Aborted: aborted}, dl)
		}
	}
}

// jobError is the failure of a job, as a rank described it; aborted says
// it was the client's abort, which reaches every rank of the job.
type jobError struct {
	msg     string
	aborted bool
}

func (e *jobError) Error() string { return e.msg }

// AbortedPeer reports whether err is a job failure caused by an aborted
// rank.
func AbortedPeer(err error) bool {
	var je *jobError
	return errors.As(err, &je) && je.aborted
}
