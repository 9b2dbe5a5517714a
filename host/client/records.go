// This file defines the client's side of the task records of SPEC §15:
// it tells the hub about the tasks it submits and how they end (batched,
// a few times a second), keeps its own history, and asks the hub about
// any task by id, its own or another client's.

package client

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// recordEvery is how often a client sends its task events to the hub.
const recordEvery = 200 * time.Millisecond

// maxRecordBatch bounds the events of one Records message.
const maxRecordBatch = 8192

// maxHistory bounds the client's history; the oldest ids go first.
const maxHistory = 1 << 20

// Bounds of the results of its own tasks a client keeps for get_result,
// as ipyparallel's Client.results: the most recent go first.
const (
	keptResults = 4096
	keptBytes   = 32 << 20
)

// keptResult is one of the results a client keeps.
type keptResult struct {
	r    wire.Result
	size int
}

// Detacher is implemented by Sinks of detached=True calls: their results
// come from the hub, which keeps them, and the abort of a dead client
// leaves them alone.
type Detacher interface{ Detached() bool }

// recordSubmitLocked notes a task submitted; c.mu is held.
func (c *Client) recordSubmitLocked(id uint64, sink Sink, slots map[int]int, lb bool) {
	detached := false
	if d, ok := sink.(Detacher); ok && d.Detached() {
		detached = true
		c.pending[id].detached = true
	}
	engine := -1
	var engines []int
	if !lb {
		// In slot order, the order of its AsyncResult's values, which a
		// fetch by another client gives them in.
		for e := range slots {
			engines = append(engines, e)
		}
		slices.SortFunc(engines, func(a, b int) int { return slots[a] - slots[b] })
		if len(engines) == 1 {
			engine = engines[0]
		}
	}
	ev := wire.TaskEvent{Task: id, Engine: engine, Time: time.Now().UnixNano(), Detached: detached, Engines: engines}
	if detached {
		// The hub must know the owner before the results come: now, not
		// with the next batch.
		if !lb {
			c.pending[id].announce = &ev
		}
		if data, err := wire.MarshalMsg(&wire.Records{Client: c.id, Events: []wire.TaskEvent{ev}}); err == nil {
			c.nc.Publish(wire.RecordsFrom(c.id), data)
		}
	}
	c.life.mu.Lock()
	defer c.life.mu.Unlock()
	if c.life.labels == nil {
		c.life.labels = make(map[uint64]Sink)
	}
	c.life.labels[id] = sink
	c.life.events = append(c.life.events, ev)
	if n := len(c.life.history); n == 0 || c.life.history[n-1] != id {
		c.life.history = append(c.life.history, id)
		if len(c.life.history) > maxHistory {
			c.life.history = c.life.history[1:] // the oldest goes; append reallocates in time
		}
	}
}

// keepResultLocked keeps r for get_result, forgetting the oldest past
// the bounds; c.mu is held.
func (c *Client) keepResultLocked(r wire.Result) {
	l := &c.life
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.kept == nil {
		l.kept = make(map[uint64][]keptResult)
	}
	if size := len(r.Value) + len(r.Stdout) + 64; size > keptBytes {
		// Over the bound on its own: the loop below would forget it (and
		// its task's other results) at once, so it is not copied first
		// (an 80 MB array's copy is fresh memory, ~20k page faults).
		l.forgetLocked(r.Task)
		return
	}
	// Copies: r's slices point into the whole reassembled batch, which
	// keeping them would pin.
	r.Value = bytes.Clone(r.Value)
	r.Stdout = strings.Clone(r.Stdout)
	k := keptResult{r: r, size: len(r.Value) + len(r.Stdout) + 64}
	if _, ok := l.kept[r.Task]; !ok {
		l.keptOrder = append(l.keptOrder, r.Task)
	}
	l.kept[r.Task] = append(l.kept[r.Task], k)
	l.keptBytes += k.size
	for len(l.keptOrder) > 0 && (len(l.keptOrder) > keptResults || l.keptBytes > keptBytes) {
		for _, x := range l.kept[l.keptOrder[0]] {
			l.keptBytes -= x.size
		}
		delete(l.kept, l.keptOrder[0])
		l.keptOrder = l.keptOrder[1:]
	}
}

// forgetLocked forgets the kept results of task id; l.mu is held.
func (l *lifeState) forgetLocked(id uint64) {
	ks, ok := l.kept[id]
	if !ok {
		return
	}
	for _, x := range ks {
		l.keptBytes -= x.size
	}
	delete(l.kept, id)
	l.keptOrder = slices.DeleteFunc(l.keptOrder, func(t uint64) bool { return t == id })
}

// keptOf returns the results this client keeps of task id.
func (c *Client) keptOf(id uint64) []wire.Result {
	c.life.mu.Lock()
	defer c.life.mu.Unlock()
	var out []wire.Result
	for _, k := range c.life.kept[id] {
		out = append(out, k.r)
	}
	return out
}

// recordLocked notes a task's outcome; c.mu is held.
func (c *Client) recordLocked(ev wire.TaskEvent, _ Sink) {
	if ev.Status == 0 {
		return
	}
	if ev.Time == 0 {
		ev.Time = time.Now().UnixNano()
	}
	c.life.mu.Lock()
	c.life.events = append(c.life.events, ev)
	c.life.mu.Unlock()
}

// reportRecords sends the task events every recordEvery until the client
// closes, and what is left then.
func (c *Client) reportRecords() {
	t := time.NewTicker(recordEvery)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		c.flushRecords(false)
	}
}

// flushRecords sends the events noted so far. With sync (a client
// closing), it waits, briefly, for the hub to have them on disk.
func (c *Client) flushRecords(sync bool) {
	c.life.mu.Lock()
	events, labels := c.life.events, c.life.labels
	c.life.events, c.life.labels = nil, nil
	c.life.mu.Unlock()
	for i := range events {
		if s := labels[events[i].Task]; s != nil && events[i].Status == 0 {
			if l, ok := s.(interface{ Label() string }); ok {
				events[i].Label = l.Label()
			}
		}
	}
	for len(events) > 0 || sync {
		n := min(len(events), maxRecordBatch)
		data, err := wire.MarshalMsg(&wire.Records{Client: c.id, Events: events[:n]})
		switch {
		case err != nil:
		case sync && n == len(events):
			sync = false
			if c.nc.IsConnected() {
				_, err = c.nc.Request(wire.RecordsFrom(c.id), data, 2*time.Second)
			}
		default:
			err = c.nc.Publish(wire.RecordsFrom(c.id), data)
		}
		if err != nil {
			c.log.Debug("report task records", "err", err)
		}
		events = events[n:]
	}
}

// History returns the ids of the tasks this client submitted, in order
// (ipyparallel's Client.history).
func (c *Client) History() []uint64 {
	c.life.mu.Lock()
	defer c.life.mu.Unlock()
	return slices.Clone(c.life.history)
}

// Owns reports whether task id is an unfinished task of this client.
func (c *Client) Owns(id uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.pending[id]
	return ok
}

// TaskRecords asks the hub for the records of tasks ids, or for the
// limit most recent (all it keeps when 0) when ids is empty. Events this
// client has not sent yet are sent first, so its own tasks are current.
func (c *Client) TaskRecords(ctx context.Context, ids []uint64, limit int) (*wire.QueryReply, error) {
	c.flushRecords(false)
	return c.Query(ctx, wire.Query{Op: wire.QueryTasks, Tasks: ids, Limit: limit})
}

// ResultSlot is one slot of a fetch (FetchResults): the result of task
// Task from engine Engine, or from whichever engine ran it when Engine
// is -1.
type ResultSlot struct {
	Task   uint64
	Engine int
}

// PlanFetch returns the slots of a fetch of tasks ids, as the AsyncResult
// of the call that submitted them has them: one per engine of a direct
// task on several engines, in that call's order, and one for any other
// task. An id given more than once (ar.task_ids repeats a direct task's
// id once per engine) counts once. It asks the hub for the records of
// ids, which say a direct task's engines.
func (c *Client) PlanFetch(ctx context.Context, ids []uint64) ([]ResultSlot, error) {
	r, err := c.TaskRecords(ctx, ids, 0)
	if err != nil {
		return nil, err
	}
	engines := make(map[uint64][]int, len(r.Records))
	for _, rec := range r.Records {
		engines[rec.ID] = rec.Engines
	}
	var out []ResultSlot
	seen := make(map[uint64]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		es := engines[id]
		if len(es) < 2 {
			out = append(out, ResultSlot{Task: id, Engine: -1})
			continue
		}
		for _, e := range es {
			out = append(out, ResultSlot{Task: id, Engine: e})
		}
	}
	return out, nil
}

// FetchResults tracks the tasks of slots (from PlanFetch) for sink, slot
// i for slots[i], and asks the hub to send their kept results (detached
// jobs): those it has at once, the others when they finish. This client's
// own results it keeps need no hub. It returns the hub's records of the
// tasks; tasks it does not know, or whose results it does not keep, fill
// their slots at once with an error that says why.
func (c *Client) FetchResults(ctx context.Context, slots []ResultSlot, sink Sink) (*wire.QueryReply, error) {
	c.flushRecords(false)
	var kept []wire.Result
	var ask []uint64
	bySlot := make(map[uint64]map[int]int) // task → engine → slot
	c.mu.Lock()
	for i, s := range slots {
		if p, ok := c.pending[s.Task]; ok && p.sink != sink {
			continue // the client's own: its results come to it anyway
		}
		m := bySlot[s.Task]
		if m == nil {
			m = make(map[int]int)
			bySlot[s.Task] = m
			c.pending[s.Task] = &pendingTask{sink: sink, slots: m, lb: s.Engine < 0, held: -1, detached: true, watch: true}
			if rs := c.keptOf(s.Task); len(rs) > 0 {
				kept = append(kept, rs...)
			} else {
				ask = append(ask, s.Task)
			}
		}
		m[s.Engine] = i
	}
	c.mu.Unlock()
	c.deliverOwned(kept, sink)
	if len(ask) == 0 {
		return &wire.QueryReply{}, nil
	}
	r, err := c.Query(ctx, wire.Query{Op: wire.QueryResults, Tasks: ask})
	if err != nil {
		c.mu.Lock()
		for _, id := range ask {
			if p := c.pending[id]; p != nil && p.sink == sink {
				delete(c.pending, id)
			}
		}
		c.mu.Unlock()
		return nil, err
	}
	var fails []wire.Result
	fail := func(id uint64, msg string) {
		for engine := range bySlot[id] { // every slot of the task
			fails = append(fails, wire.Result{Task: id, Engine: engine, Status: wire.StatusLost,
				Err: &wire.Error{Type: wire.EngineError, Message: msg}})
		}
	}
	for _, rec := range r.Records {
		if !rec.Detached {
			fail(rec.ID, fmt.Sprintf("task %d is not a detached job: the hub keeps the results of detached=True jobs only (c.result_status(%d) says whether it finished)", rec.ID, rec.ID))
		} else if rec.Note != "" && !rec.Result {
			fail(rec.ID, rec.Note)
		}
	}
	for _, id := range r.Unknown {
		fail(id, "the hub has no record of this task id (a typo, or a record evicted past [hub] task_records)")
	}
	c.deliverOwned(fails, sink)
	return r, nil
}

// deliverOwned delivers rs to sink's slots only (not to another call
// that tracks the same ids).
func (c *Client) deliverOwned(rs []wire.Result, sink Sink) {
	c.mu.Lock()
	var fs []func()
	for _, r := range rs {
		if p := c.pending[r.Task]; p != nil && p.sink == sink {
			if f := c.deliverLocked(r); f != nil {
				fs = append(fs, f)
			}
		}
	}
	c.mu.Unlock()
	for _, f := range fs {
		f()
	}
}

// byOwner groups tasks ids by the Client they carry: wire.DetachedClient
// for those submitted detached=True, else this client's id (the abort of
// every pending task mixes them).
func (c *Client) byOwner(ids []uint64) map[string][]uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string][]uint64, 1)
	for _, id := range ids {
		owner := c.id
		if p := c.pending[id]; p != nil && p.detached && !p.watch {
			owner = wire.DetachedClient
		}
		out[owner] = append(out[owner], id)
	}
	return out
}
