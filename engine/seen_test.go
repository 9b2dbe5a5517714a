package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestDirectTaskKnownAndRunOnce: after a hub restart a client asks which
// of its direct tasks a daemon received (OpResend's reply) and sends the
// others again. The daemon answers only for the asking client's own tasks
// (and the detached ones it sent), and a task that arrives twice runs
// once, while another client's task with the same id still runs. It
// also sends again the results it still has: to the client, or to the hub
// for the detached tasks of the asker.
func TestDirectTaskKnownAndRunOnce(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	detached := h.detachedResults(t)
	send := func(sender string, task wire.Task) {
		t.Helper()
		task.Targets = []int{0}
		data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{task}})
		if err := h.nc.Publish(wire.DaemonTasksFrom(d.id, sender), data); err != nil {
			t.Fatal(err)
		}
	}
	ask := func(sender, client string, ids ...uint64) wire.ControlReply {
		t.Helper()
		return h.control(t, d, sender, wire.Control{Op: wire.OpResend, Client: client, Tasks: ids})
	}
	count := execute("runs = runs + 1")
	count.Client, count.ID = "c", 100
	setup := execute("runs = 0")
	setup.Client, setup.ID = "c", 99
	send("c", setup)
	send("c", count)
	for range 2 {
		if r := h.result(t); r.Status != wire.StatusOK {
			t.Fatalf("task %d: %+v", r.Task, r.Err)
		}
	}
	if r := ask("c", "c", 99, 100, 101); r.Error != "" || !slices.Equal(r.Known, []uint64{99, 100}) {
		t.Errorf("client c asking which of 99, 100, 101 arrived: %+v, want 99 and 100", r)
	}
	for _, want := range []uint64{99, 100} { // and it sends their results again
		if r := h.result(t); r.Task != want || r.Status != wire.StatusOK {
			t.Errorf("the results sent again: task %d %v, want %d ok", r.Task, r.Status, want)
		}
	}
	if r := ask("x", "c", 100); !strings.Contains(r.Error, "refused") || len(r.Known) != 0 {
		t.Errorf("client x asking about client c's tasks: %+v, want refused", r)
	}
	send("c", count) // sent again, but the first copy had come
	if v := pullValue(t, h, d, "runs"); v != starlark.MakeInt(1) {
		t.Errorf("runs = %v after the same task arrived twice, want 1", v)
	}

	// A detached task: known to the client that sent it only, and a task
	// of another client with its id is not taken for a copy.
	job := wire.Task{ID: 200, Client: wire.DetachedClient, Kind: wire.KindExecute, File: "t.star", Code: "runs = runs + 10"}
	send("A", job)
	if r := <-detached; r.Task != 200 || r.Status != wire.StatusOK {
		t.Fatalf("detached task 200 of A: %+v", r)
	}
	if r := ask("A", wire.DetachedClient, 200); r.Error != "" || !slices.Equal(r.Known, []uint64{200}) {
		t.Errorf("client A asking about its detached task 200: %+v, want it known", r)
	}
	// Its result goes to the hub again, which may have dropped it.
	if r := <-detached; r.Task != 200 || r.Status != wire.StatusOK {
		t.Fatalf("detached task 200 of A sent again: %+v", r)
	}
	if r := ask("B", wire.DetachedClient, 200); r.Error != "" || len(r.Known) != 0 {
		t.Errorf("client B asking about A's detached task 200: %+v, want it unknown to B", r)
	}
	send("B", job)
	if r := <-detached; r.Task != 200 || r.Status != wire.StatusOK {
		t.Fatalf("detached task 200 of B: %+v", r)
	}
	if v := pullValue(t, h, d, "runs"); v != starlark.MakeInt(21) {
		t.Errorf("runs = %v after A's and B's detached tasks 200, want 21 (both ran)", v)
	}
	select {
	case r := <-detached:
		t.Errorf("a detached result more than A's twice and B's once: %+v (B's question sent A's again?)", r)
	default:
	}
}

// TestSeenBounded: the memory of tasks received forgets the oldest past
// seenTasks.
func TestSeenBounded(t *testing.T) {
	var s seen
	for id := range uint64(seenTasks + 10) {
		if !s.add(seenKey{Client: "c", By: "c", ID: id}) {
			t.Fatalf("task %d taken for a copy", id)
		}
	}
	if s.add(seenKey{Client: "c", By: "c", ID: seenTasks + 9}) {
		t.Error("the newest task was not remembered")
	}
	if s.has(seenKey{Client: "c", By: "c", ID: 9}) || !s.has(seenKey{Client: "c", By: "c", ID: 10}) {
		t.Error("want the 10 oldest forgotten and the rest remembered")
	}
	if len(s.set) != seenTasks {
		t.Errorf("remembers %d tasks, want %d", len(s.set), seenTasks)
	}
}

// TestKnownWhenForgotten: a task the memory of received tasks forgot
// (past seenTasks newer ones) but that is still running or queued is
// known all the same: it is not sent again to run twice.
func TestKnownWhenForgotten(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	for _, id := range []uint64{300, 301} {
		task := execute("time.sleep(60)")
		task.ID, task.Client, task.Targets = id, "c", []int{0}
		data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{task}})
		if err := h.nc.Publish(wire.DaemonTasksFrom(d.id, "c"), data); err != nil {
			t.Fatal(err)
		}
	}
	waitBusy(t, d.engine(0), 1)
	d.seen.mu.Lock()
	d.seen.set, d.seen.order = nil, nil // forgotten
	d.seen.mu.Unlock()
	r := h.control(t, d, "c", wire.Control{Op: wire.OpResend, Client: "c", Tasks: []uint64{300, 301, 302, 301}})
	if r.Error != "" || !slices.Equal(r.Known, []uint64{300, 301}) {
		t.Errorf("asking about a running, a queued and an unknown task: %+v, want 300 and 301 known", r)
	}
	if r := h.control(t, d, "x", wire.Control{Op: wire.OpResend, Client: wire.DetachedClient, Tasks: []uint64{300, 301}}); len(r.Known) != 0 {
		t.Errorf("another client asking about them as detached tasks: %+v, want none known", r)
	}
	h.control(t, d, "c", wire.Control{Op: wire.OpAbort, Client: "c", Tasks: []uint64{300, 301}})
	for range 2 {
		if r := h.result(t); r.Status != wire.StatusAborted {
			t.Errorf("task %d: %v, want aborted", r.Task, r.Status)
		}
	}
}

// TestFinishedResultGoneRunsAgain: a task that finished, whose result the
// daemon no longer remembers (past its bounds) and that arrived more than
// seenSettle ago, is not answered for: its result was lost, so its client
// sends it again and it runs again, instead of waiting for ever.
func TestFinishedResultGoneRunsAgain(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	send := func(task wire.Task) {
		t.Helper()
		data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{task}})
		if err := h.nc.Publish(wire.DaemonTasksFrom(d.id, "c"), data); err != nil {
			t.Fatal(err)
		}
	}
	setup, count := execute("runs = 0"), execute("runs = runs + 1")
	setup.ID, setup.Client, setup.Targets = 399, "c", []int{0}
	count.ID, count.Client, count.Targets = 400, "c", []int{0}
	send(setup)
	send(count)
	for range 2 {
		if r := h.result(t); r.Status != wire.StatusOK {
			t.Fatalf("task %d: %+v", r.Task, r.Err)
		}
	}
	d.pub.sent.mu.Lock()
	d.pub.sent.items, d.pub.sent.order, d.pub.sent.bytes = nil, nil, 0 // its result forgotten
	d.pub.sent.mu.Unlock()
	ask := func() []uint64 {
		t.Helper()
		r := h.control(t, d, "c", wire.Control{Op: wire.OpResend, Client: "c", Tasks: []uint64{400}})
		if r.Error != "" {
			t.Fatal(r.Error)
		}
		return r.Known
	}
	if k := ask(); !slices.Equal(k, []uint64{400}) {
		t.Errorf("a task that arrived just now: known %v, want [400] (it may be on its way to the results)", k)
	}
	d.seen.mu.Lock()
	for r := range d.seen.set {
		d.seen.set[r] = time.Now().Add(-2 * seenSettle).UnixNano()
	}
	d.seen.mu.Unlock()
	if k := ask(); len(k) != 0 {
		t.Errorf("a task finished long ago whose result is gone: known %v, want none", k)
	}
	send(count) // its client sends it again: it runs
	if r := h.result(t); r.Task != 400 || r.Status != wire.StatusOK {
		t.Fatalf("task 400 sent again: %+v", r)
	}
	if v := pullValue(t, h, d, "runs"); v != starlark.MakeInt(2) {
		t.Errorf("runs = %v, want 2: the task whose result was lost ran again", v)
	}
}

// TestKnownWhileResultQueued: a finished task whose result still waits
// for the publisher (behind a large result to a slow client) is answered
// for, from the moment its engine lets go of it, however long ago it
// arrived: its copy would run again.
func TestKnownWhileResultQueued(t *testing.T) {
	_, d := startDaemon(t, Config{Engines: 1})
	task := &wire.Task{ID: 7, Client: "c", Owner: "c", Targets: []int{0}}
	k := seenKey{Client: "c", By: "c", ID: 7}
	d.seen.add(k)
	d.seen.mu.Lock()
	d.seen.set[d.seen.refLocked(k)] = time.Now().Add(-2 * seenSettle).UnixNano()
	d.seen.mu.Unlock()
	d.pub.keep(task, wire.Result{Task: 7, Engine: 0, Status: wire.StatusOK}, nil) // kept, not queued
	if got := d.known("c", "c", []uint64{7}); !slices.Equal(got, []uint64{7}) {
		t.Errorf("known = %v for a finished task whose result waits to be sent, want [7]", got)
	}
}
