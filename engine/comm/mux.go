// This file defines Mux, a daemon's share of message passing: each
// engine's comm subscriptions, the records of the ranks its engines hold
// in SPMD jobs, the routing of messages (in memory between its own
// engines, through the hub otherwise) and the answers to other ranks'
// status questions.

package comm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// keepEnded is how many records of finished ranks a daemon keeps, to
// answer the status questions of ranks that still run.
const keepEnded = 4096

// queryTimeout bounds a status question to another daemon.
const queryTimeout = 2 * time.Second

// Bounds of the messages through the hub that wait for their rank's task
// to start (the early messages): any daemon may send them, for any job
// name, so they are bounded per sending daemon and in all, and a rank
// whose task does not start within pendingStall drops them. A job whose
// early messages from a daemon running one of its ranks were dropped
// fails with an error saying so (Rank.lostError) instead of hanging.
const (
	earlyPerSender = 64 << 20         // bytes of early messages from one daemon, over all ranks of this daemon
	earlyTotal     = 256 << 20        // bytes of early messages from all daemons
	pendingStall   = 60 * time.Second // how long a rank whose task has not started keeps them
	maxLost        = 64               // daemons a pending rank remembers dropping messages of
	maxRecords     = 1 << 16          // records messages through the hub may make (finished ones are keepEnded at most)
)

// earlySize is the bytes early message m counts against the bounds.
func earlySize(m *wire.CommMsg) int {
	return len(m.Data) + len(m.Error) + len(m.Call) + 128
}

type rankKey struct {
	job    string
	engine int
}

// Mux is a daemon's share of message passing. It is safe for concurrent
// use.
type Mux struct {
	host     string                // the daemon's host, for errors
	log      *slog.Logger          //
	exists   func(engine int) bool // whether engine runs in this daemon
	nc       *nats.Conn            // set by Connect
	maxChunk int                   // set by Connect
	self     string                // the daemon's id, set by Connect

	// mu is never held while calling exists (the daemon creates engines
	// under its own lock, and exists takes it).
	mu     sync.Mutex
	ranks  map[rankKey]*Rank
	ended  []rankKey      // finished ranks, oldest first
	values map[int]*Value // each engine's `comm`

	earlyFrom  map[string]int // bytes of early messages held, per sending daemon
	earlyAll   int            // bytes of early messages held in all
	nextExpiry time.Time      // when expireStalled looks again
	now        func() time.Time
}

// NewMux returns the Mux of a daemon on host whose engines are those for
// which exists reports true.
func NewMux(host string, exists func(engine int) bool, log *slog.Logger) *Mux {
	if host == "" {
		host = "a host without a name" // failure reports say "engine 5 on <host>"
	}
	return &Mux{host: host, exists: exists, log: log, ranks: make(map[rankKey]*Rank), values: make(map[int]*Value),
		earlyFrom: make(map[string]int), now: time.Now}
}

// Connect gives the Mux the daemon's connection, whose messages are at
// most maxChunk bytes, and the daemon's id (the identity the hub pins its
// subjects to). The daemon calls it before it creates engines.
func (m *Mux) Connect(nc *nats.Conn, maxChunk int, self string) {
	m.nc, m.maxChunk, m.self = nc, maxChunk, self
}

// Attach subscribes engine id's comm subjects and returns its `comm`. The
// subscriptions exist from the engine's creation, so that messages sent
// to it before its task starts wait for it.
func (m *Mux) Attach(id int) (*Value, error) {
	v := &Value{}
	m.mu.Lock()
	m.values[id] = v
	m.mu.Unlock()
	if m.nc == nil {
		return v, nil
	}
	for subj, cb := range map[string]nats.MsgHandler{
		wire.CommTo(m.self, id, "*"):      m.onMsg(id),
		wire.CommQueryTo(m.self, id, "*"): m.onQuery(id),
	} {
		sub, err := m.nc.Subscribe(subj, cb)
		if err != nil {
			return nil, fmt.Errorf("subscribe %s: %w", subj, err)
		}
		sub.SetPendingLimits(-1, -1)
	}
	return v, nil
}

// record returns the record of engine's rank in job, creating it when
// create is set and the engine runs here.
func (m *Mux) record(job string, engine int, create bool) *Rank {
	create = create && m.exists(engine)
	m.mu.Lock()
	defer m.mu.Unlock()
	k := rankKey{job, engine}
	rs := m.ranks[k]
	if rs == nil && create {
		rs = newRankState(m, job, engine)
		m.ranks[k] = rs
	}
	return rs
}

// reserveEarly counts size bytes of an early message from daemon from,
// and reports false, counting nothing, when that passes a bound.
func (m *Mux) reserveEarly(from string, size int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.earlyFrom[from]+size > earlyPerSender || m.earlyAll+size > earlyTotal {
		return false
	}
	m.earlyFrom[from] += size
	m.earlyAll += size
	return true
}

// releaseEarly uncounts early messages that were delivered or dropped.
func (m *Mux) releaseEarly(early []earlyMsg) {
	if len(early) == 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range early {
		m.earlyAll -= e.size
		if m.earlyFrom[e.from] -= e.size; m.earlyFrom[e.from] <= 0 {
			delete(m.earlyFrom, e.from)
		}
	}
}

// expireStalled drops the early messages of ranks whose task has not
// started pendingStall after they were made; their records join the
// finished ones, so that a task starting late still learns what was lost.
// It looks at most once a second. m.mu is not held.
func (m *Mux) expireStalled() {
	now := m.now()
	m.mu.Lock()
	if now.Before(m.nextExpiry) {
		m.mu.Unlock()
		return
	}
	m.nextExpiry = now.Add(time.Second)
	var old []*Rank
	for _, rs := range m.ranks {
		if now.Sub(rs.born) >= pendingStall {
			old = append(old, rs)
		}
	}
	m.mu.Unlock()
	for _, rs := range old {
		if rs.expire() {
			m.retire(rs)
		}
	}
}

// full reports whether a message for engine's rank in job, which has no
// record yet, must not make one: the daemon holds maxRecords already.
func (m *Mux) full(job string, engine int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.ranks[rankKey{job, engine}]
	return !ok && len(m.ranks) >= maxRecords
}

// localRecord returns the record of engine's rank in job when the engine
// runs in this daemon, else nil.
func (m *Mux) localRecord(job string, engine int) *Rank {
	return m.record(job, engine, true)
}

// retire notes that rs's task ended, and forgets the oldest finished ranks.
func (m *Mux) retire(rs *Rank) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ended = append(m.ended, rankKey{rs.job, rs.engine})
	for len(m.ended) > keepEnded {
		delete(m.ranks, m.ended[0])
		m.ended = m.ended[1:]
	}
}

// onMsg is the handler of engine id's message subject. Like every NATS
// callback it only decodes and hands over: deliver never blocks.
func (m *Mux) onMsg(id int) nats.MsgHandler {
	return func(msg *nats.Msg) {
		cm := new(wire.CommMsg)
		if err := wire.UnmarshalMsg(msg.Data, cm); err != nil {
			m.log.Warn("drop a malformed comm message", "err", err)
			return
		}
		m.expireStalled()
		create := cm.Kind == wire.CommData || cm.Kind == wire.CommRTS || cm.Kind == wire.CommFail
		if create && m.full(cm.Job, id) {
			m.log.Warn("drop a comm message for a job this daemon has no record of: too many ranks pending", "job", cm.Job, "engine", id, "from", wire.LastToken(msg.Subject), "limit", maxRecords)
			return
		}
		rs := m.record(cm.Job, id, create)
		if rs == nil {
			return
		}
		var dl drainList
		rs.receive(cm, wire.LastToken(msg.Subject), &dl)
		dl.run()
	}
}

// publish sends m to engine of daemon through the hub. Errors are
// logged: a message that cannot leave shows as a deadlock or a dead rank
// on the other side.
func (m *Mux) publish(daemon string, engine int, cm *wire.CommMsg) {
	if daemon == "" {
		m.log.Warn("send a comm message: the job names no daemon for engine", "engine", engine, "kind", cm.Kind)
		return
	}
	data, err := wire.MarshalMsg(cm)
	if err == nil {
		err = m.nc.Publish(wire.CommTo(daemon, engine, m.self), data)
	}
	if err != nil {
		m.log.Warn("send a comm message", "engine", engine, "kind", cm.Kind, "err", err)
	}
}

// partSize is the size of the parts of large messages through the hub.
func (m *Mux) partSize() int {
	return max(min(partBytes, m.maxChunk), 1024)
}

// onQuery answers another rank's question about engine id's rank.
func (m *Mux) onQuery(id int) nats.MsgHandler {
	return func(msg *nats.Msg) {
		var q wire.CommQuery
		if err := wire.UnmarshalMsg(msg.Data, &q); err != nil || msg.Reply == "" {
			return
		}
		q.Engine = id
		st := m.status(q, wire.LastToken(msg.Subject))
		if data, err := wire.MarshalMsg(&st); err == nil {
			msg.Respond(data)
		}
	}
}

// status describes the rank q of daemon from asks about now; to a daemon
// that runs no rank of the job, a started rank says only that it is
// pending ("" is this daemon itself).
func (m *Mux) status(q wire.CommQuery, from string) wire.CommStatus {
	if !m.exists(q.Engine) {
		return wire.CommStatus{State: wire.CommGone}
	}
	rs := m.record(q.Job, q.Engine, false)
	if rs == nil {
		return wire.CommStatus{State: wire.CommPending}
	}
	if from != "" && !rs.knows(from) {
		return wire.CommStatus{State: wire.CommPending}
	}
	st := rs.status()
	if q.Seq > 0 {
		rs.mu.Lock()
		st.Called = rs.calls[collKey{q.Ctx, q.Seq}].call
		rs.mu.Unlock()
	}
	return st
}

// errNoAnswer means a rank's engine does not answer at all: it died.
var errNoAnswer = errors.New("no answer")

// query asks for the status of a rank, in memory when its engine runs
// here.
func (m *Mux) query(ctx context.Context, daemon string, q wire.CommQuery) (wire.CommStatus, error) {
	engine := q.Engine
	if m.exists(engine) {
		return m.status(q, ""), nil
	}
	data, err := wire.MarshalMsg(&q)
	if err != nil {
		return wire.CommStatus{}, err
	}
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	msg, err := m.nc.RequestWithContext(qctx, wire.CommQueryTo(daemon, engine, m.self), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return wire.CommStatus{}, errNoAnswer
	}
	if err != nil {
		return wire.CommStatus{}, err
	}
	var st wire.CommStatus
	err = wire.UnmarshalMsg(msg.Data, &st)
	return st, err
}

// MaxHeld bounds the bytes of messages a rank holds unreceived: its
// window of credit plus one eager message.
const MaxHeld = windowBytes + eagerMax

// Held returns the bytes of messages engine's ranks hold unreceived now.
func (m *Mux) Held(engine int) int {
	m.mu.Lock()
	recs := make([]*Rank, 0, len(m.ranks))
	for k, rs := range m.ranks {
		if k.engine == engine {
			recs = append(recs, rs)
		}
	}
	m.mu.Unlock()
	held := 0
	for _, rs := range recs {
		rs.mu.Lock()
		for _, msg := range rs.unexpected {
			held += len(msg.Data)
		}
		rs.mu.Unlock()
	}
	return held
}

// Waits reports whether a rank of engine is blocked in an operation now
// (waiting for a message, with none moving).
func (m *Mux) Waits(engine int) bool {
	m.mu.Lock()
	recs := make([]*Rank, 0, len(m.ranks))
	for k, rs := range m.ranks {
		if k.engine == engine {
			recs = append(recs, rs)
		}
	}
	m.mu.Unlock()
	for _, rs := range recs {
		rs.mu.Lock()
		w := rs.waiting != nil && !rs.waiting.complete() && rs.busy == 0
		rs.mu.Unlock()
		if w {
			return true
		}
	}
	return false
}
