// This file defines what the hub does for clients beyond scheduling: it
// aborts the tasks of a client whose connection closed (SPEC §15, a
// client that dies takes its work with it), and serves the task records
// and the detached results of records.go.

package hub

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Client watching: how often connections are checked, and how long a
// client may stay away (a reconnection after a network blip comes back
// with the same identity) before its tasks are aborted. Together they
// keep the abort within SPEC's 5 s.
const (
	ClientCheckEvery = 250 * time.Millisecond
	ClientGrace      = 1500 * time.Millisecond
)

// clientWatch is the state of watchClients; only its goroutine uses it.
type clientWatch struct {
	goneAt map[string]time.Time // clients with no open connection, since
}

// watchClients aborts the queued and running tasks of every client that
// has had no open connection for ClientGrace: in the scheduler, and on
// every daemon (wire.OpAbortClient). Detached jobs belong to
// wire.DetachedClient and are left alone.
func (h *Hub) watchClients() {
	t := time.NewTicker(ClientCheckEvery)
	defer t.Stop()
	h.clients.goneAt = make(map[string]time.Time)
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			for _, id := range h.goneClients(now) {
				h.abortClient(id)
			}
		}
	}
}

// goneClients returns the clients away for longer than ClientGrace.
func (h *Hub) goneClients(now time.Time) []string {
	a := h.auth
	a.mu.Lock()
	conns := make(map[uint64]string, len(a.clients))
	for cid, id := range a.clients {
		conns[cid] = id
	}
	a.mu.Unlock()
	open := make(map[string]bool)
	var closed []uint64
	for cid, id := range conns {
		if h.connected(cid) {
			open[id] = true
		} else {
			closed = append(closed, cid)
			if _, ok := h.clients.goneAt[id]; !ok {
				h.clients.goneAt[id] = now
			}
		}
	}
	a.mu.Lock()
	for _, cid := range closed {
		delete(a.clients, cid)
	}
	a.mu.Unlock()
	var out []string
	for id, at := range h.clients.goneAt {
		switch {
		case open[id]:
			delete(h.clients.goneAt, id) // it reconnected
		case now.Sub(at) >= ClientGrace:
			delete(h.clients.goneAt, id)
			out = append(out, id)
		}
	}
	return out
}

// abortClient aborts every task of client id, queued or running.
func (h *Hub) abortClient(id string) {
	queued, running := h.sched.abortClient(id)
	h.mu.Lock()
	daemons := make([]string, 0, len(h.daemons))
	for d := range h.daemons {
		daemons = append(daemons, d)
	}
	h.mu.Unlock()
	for _, d := range daemons {
		h.publish(wire.DaemonControlFrom(d, wire.SenderHub), &wire.Control{Op: wire.OpAbortClient, Client: id})
	}
	level := slog.LevelDebug
	if queued+running > 0 || h.recs.pendingOf(id) > 0 {
		level = slog.LevelInfo
	}
	h.log.Log(context.Background(), level, "a client's connection closed: its tasks are aborted", "client", id,
		"queued", queued, "on_engines", running, "daemons", len(daemons))
}

// loadRecords loads the task records and queues the detached tasks that
// had not finished before a restart. It runs before the hub subscribes.
func (h *Hub) loadRecords() error {
	batches, err := h.recs.load()
	if err != nil {
		return err
	}
	n := 0
	for _, b := range batches {
		h.sched.enqueue(b)
		n += len(b.Tasks)
	}
	if n > 0 {
		h.log.Info("detached tasks queued again after a restart", "tasks", n)
	}
	return nil
}

// startRecords starts the records' writer and, with authentication, the
// client watcher.
func (h *Hub) startRecords() {
	h.wg.Go(func() { h.recs.run(h.stop) })
	if h.recs.dir != "" {
		h.wg.Go(func() { h.recs.commits(h.stop) })
	}
	if h.auth != nil {
		h.wg.Go(h.watchClients)
	}
}

// onRecords takes a client's task events.
func (h *Hub) onRecords(m *nats.Msg) {
	var rs wire.Records
	if err := wire.UnmarshalMsg(m.Data, &rs); err != nil {
		h.log.Warn("drop malformed task records", "err", err)
		return
	}
	if from := sender(m.Subject, wire.SubjectRecords); from != "" && from != rs.Client {
		h.log.Warn("drop task records naming another client", "client", rs.Client, "from", from)
		return
	}
	late := h.recs.onRecords(rs)
	if m.Reply != "" {
		// A client closing: its last records are on disk before it goes,
		// in the next flush, which clients closing meanwhile share.
		done := h.recs.flushed()
		h.goWork(func() {
			select {
			case <-done:
				m.Respond(nil)
			case <-h.stop:
			}
		})
	}
	if len(late) > 0 && !h.stopping() {
		// Large results go in parts, which wait for acknowledgements:
		// not on the subscription's goroutine.
		h.wg.Go(func() {
			if _, _, res := h.recs.fetch("", late); len(res) > 0 {
				h.sendData(wire.ClientResults(rs.Client), &wire.Results{Results: res})
			}
		})
	}
}

// onDetached receives the results of detached tasks, accepted only from
// the daemon that runs the result's engine, keeps them and forwards them
// to their owner and to the clients waiting for them.
func (h *Hub) onDetached(m *nats.Msg) {
	kind, daemon := wire.ClientSubject(m.Subject)
	if kind != "r" {
		return // output of detached tasks is kept in their results
	}
	data, err := h.receive(&h.detachedAsm, m)
	if err != nil {
		h.log.Warn("drop a large detached result", "err", err)
	}
	if data == nil {
		return
	}
	var rs wire.Results
	if err := wire.UnmarshalMsg(data, &rs); err != nil {
		h.log.Warn("drop malformed detached results", "err", err)
		return
	}
	h.mu.Lock()
	rs.Results = slices.DeleteFunc(rs.Results, func(r wire.Result) bool {
		if daemon == "" {
			return false // the hub's own scheduler failed the task
		}
		owner, ok := h.daemonOf(r.Engine)
		if !ok || owner != daemon {
			h.log.Warn("drop a detached result from a daemon that does not run its engine", "task", r.Task, "engine", r.Engine, "from", daemon)
			return true
		}
		return false
	})
	h.mu.Unlock()
	for client, out := range h.recs.onResults(rs.Results) {
		if !h.stopping() {
			h.wg.Go(func() { h.sendData(wire.ClientResults(client), &wire.Results{Results: out}) })
		}
	}
}

// fetchResults answers QueryResults: the records of the ids, and the
// kept results sent to the asking client (the owner of the reply inbox,
// whatever the query claims) on its results subject. Anyone who knows a
// detached job's random ids may fetch it (a collaborator pulls back data).
func (h *Hub) fetchResults(m *nats.Msg, q wire.Query) {
	to := asker(m.Reply, q.Client)
	recs, unknown, results := h.recs.fetch(to, q.Tasks)
	h.respond(m, &wire.QueryReply{HubID: h.id, Records: recs, Unknown: unknown})
	if len(results) > 0 && to != "" && !h.stopping() {
		// Large results go in parts, which wait for acknowledgements:
		// not on the query subscription's goroutine.
		h.wg.Go(func() { h.sendData(wire.ClientResults(to), &wire.Results{Results: results}) })
	}
}
