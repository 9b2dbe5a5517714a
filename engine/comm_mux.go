// This file defines commMux, a daemon's share of message passing: each
// engine's comm subscriptions, the records of the ranks its engines hold
// in SPMD jobs, the routing of messages (in memory between its own
// engines, through the hub otherwise) and the answers to other ranks'
// status questions.

package engine

import (
	"context"
	"errors"
	"fmt"
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

type rankKey struct {
	job    string
	engine int
}

// commMux is safe for concurrent use.
type commMux struct {
	d *Daemon

	// mu is never held while taking d.mu (engines are created under d.mu).
	mu     sync.Mutex
	ranks  map[rankKey]*rankState
	ended  []rankKey          // finished ranks, oldest first
	values map[int]*commValue // each engine's `comm`
}

func newCommMux(d *Daemon) *commMux {
	return &commMux{d: d, ranks: make(map[rankKey]*rankState), values: make(map[int]*commValue)}
}

// attach subscribes engine e's comm subjects and returns its `comm`. The
// subscriptions exist from the engine's creation, so that messages sent
// to it before its task starts wait for it.
func (m *commMux) attach(e *Engine) (*commValue, error) {
	v := &commValue{e: e}
	m.mu.Lock()
	m.values[e.ID] = v
	m.mu.Unlock()
	if m.d.nc == nil {
		return v, nil
	}
	for subj, cb := range map[string]nats.MsgHandler{
		wire.CommEngine(e.ID):      m.onMsg(e.ID),
		wire.CommStatusQuery(e.ID): m.onQuery(e.ID),
	} {
		sub, err := m.d.nc.Subscribe(subj, cb)
		if err != nil {
			return nil, fmt.Errorf("subscribe %s: %w", subj, err)
		}
		sub.SetPendingLimits(-1, -1)
	}
	return v, nil
}

// record returns the record of engine's rank in job, creating it when
// create is set and the engine runs here.
func (m *commMux) record(job string, engine int, create bool) *rankState {
	create = create && m.d.engine(engine) != nil
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

// localRecord returns the record of engine's rank in job when the engine
// runs in this daemon, else nil.
func (m *commMux) localRecord(job string, engine int) *rankState {
	return m.record(job, engine, true)
}

// retire notes that rs's task ended, and forgets the oldest finished ranks.
func (m *commMux) retire(rs *rankState) {
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
func (m *commMux) onMsg(id int) nats.MsgHandler {
	return func(msg *nats.Msg) {
		cm := new(wire.CommMsg)
		if err := wire.UnmarshalMsg(msg.Data, cm); err != nil {
			m.d.log.Warn("drop a malformed comm message", "err", err)
			return
		}
		create := cm.Kind == wire.CommData || cm.Kind == wire.CommRTS || cm.Kind == wire.CommFail
		rs := m.record(cm.Job, id, create)
		if rs == nil {
			return
		}
		var dl drainList
		rs.deliver(cm, &dl)
		dl.run()
	}
}

// publish sends m to engine through the hub. Errors are logged: a message
// that cannot leave shows as a deadlock or a dead rank on the other side.
func (m *commMux) publish(engine int, cm *wire.CommMsg) {
	data, err := wire.MarshalMsg(cm)
	if err == nil {
		err = m.d.nc.Publish(wire.CommEngine(engine), data)
	}
	if err != nil {
		m.d.log.Warn("send a comm message", "engine", engine, "kind", cm.Kind, "err", err)
	}
}

// partSize is the size of the parts of large messages through the hub.
func (m *commMux) partSize() int {
	return max(min(partBytes, m.d.maxChunk), 1024)
}

// onQuery answers another rank's question about engine id's rank.
func (m *commMux) onQuery(id int) nats.MsgHandler {
	return func(msg *nats.Msg) {
		var q wire.CommQuery
		if err := wire.UnmarshalMsg(msg.Data, &q); err != nil || msg.Reply == "" {
			return
		}
		st := m.status(q.Job, id)
		if data, err := wire.MarshalMsg(&st); err == nil {
			msg.Respond(data)
		}
	}
}

// status describes engine's rank in job now.
func (m *commMux) status(job string, engine int) wire.CommStatus {
	if m.d.engine(engine) == nil {
		return wire.CommStatus{State: wire.CommGone}
	}
	rs := m.record(job, engine, false)
	if rs == nil {
		return wire.CommStatus{State: wire.CommPending}
	}
	return rs.status()
}

// errNoAnswer means a rank's engine does not answer at all: it died.
var errNoAnswer = errors.New("no answer")

// query asks for the status of engine's rank in job, in memory when the
// engine runs here.
func (m *commMux) query(ctx context.Context, job string, engine int) (wire.CommStatus, error) {
	if m.d.engine(engine) != nil {
		return m.status(job, engine), nil
	}
	data, err := wire.MarshalMsg(&wire.CommQuery{Job: job, Engine: engine})
	if err != nil {
		return wire.CommStatus{}, err
	}
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	msg, err := m.d.nc.RequestWithContext(qctx, wire.CommStatusQuery(engine), data)
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
