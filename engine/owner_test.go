package engine

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestDetachedAbortOnlyByOwner: a detached task belongs to the client
// that sent it (the subject's last token, whatever Owner it claims).
// Another client's abort, sent before the task arrives, while it waits
// and while it runs, is refused; its owner's abort stops it.
func TestDetachedAbortOnlyByOwner(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	results := h.detachedResults(t)
	abort := func(by string, ids ...uint64) wire.ControlReply {
		t.Helper()
		return h.control(t, d, by, wire.Control{Op: wire.OpAbort, Client: wire.DetachedClient, Tasks: ids})
	}
	send := func(id uint64, code string) {
		t.Helper()
		// The owner it claims is the victim's: the daemon takes the sender's.
		task := wire.Task{ID: id, Client: wire.DetachedClient, Owner: "B", Kind: wire.KindExecute, File: "t.star", Code: code, Targets: []int{0}}
		data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{task}})
		if err := h.nc.Publish(wire.DaemonTasksFrom(d.id, "A"), data); err != nil {
			t.Fatal(err)
		}
	}
	if r := abort("B", 7); r.Error != "" {
		t.Errorf("an abort of a task not arrived yet: %q, want no error (it may be on its way)", r.Error)
	}
	send(7, "time.sleep(0.3)")
	send(8, "time.sleep(60)")
	send(9, "x = 1")
	startest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		held := map[uint64]bool{8: false, 9: false}
		d.engine(0).holds(wire.DetachedClient, "A", held)
		if !held[8] || !held[9] {
			return fmt.Errorf("engine 0 holds %v of tasks 8 and 9, want both", held)
		}
		return nil
	})
	if r := abort("B", 8, 9); !strings.Contains(r.Error, "refused") || !strings.Contains(r.Error, "2 of the tasks") {
		t.Errorf("client B aborting client A's detached tasks: reply %+v, want refused for 2 tasks", r)
	}
	if r := <-results; r.Task != 7 || r.Status != wire.StatusOK {
		t.Errorf("the detached task B aborted before it arrived: task %d status %v %+v, want 7 ok", r.Task, r.Status, r.Err)
	}
	waitBusy(t, d.engine(0), -1)
	if r := abort("A", 8); r.Error != "" {
		t.Errorf("client A aborting its own detached task: %q, want no error", r.Error)
	}
	if r := <-results; r.Task != 8 || r.Status != wire.StatusAborted {
		t.Errorf("the detached task its owner aborted: task %d status %v, want 8 aborted", r.Task, r.Status)
	}
	if r := <-results; r.Task != 9 || r.Status != wire.StatusOK {
		t.Errorf("the detached task B tried to abort while queued: task %d status %v %+v, want 9 ok", r.Task, r.Status, r.Err)
	}
}

// TestAbortRacesItsTask: an abort and its task reach the daemon on two
// subscriptions, handled at once, in either order. Each of many tasks,
// sent with its abort just before or just after it, is aborted, none
// runs (each would sleep a minute and hold the one engine).
func TestAbortRacesItsTask(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	const n = 4000
	abort := func(id uint64) {
		data, _ := wire.MarshalMsg(&wire.Control{Op: wire.OpAbort, Client: "c", Tasks: []uint64{id}})
		if err := h.nc.Publish(wire.DaemonControlFrom(d.id, wire.SenderHub), data); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		task := execute("time.sleep(60)")
		if i%2 == 0 {
			abort(taskSeq + 1) // the id send gives it
			h.send(t, d, task)
		} else {
			abort(h.send(t, d, task))
		}
	}
	deadline := time.After(60 * time.Second)
	for got := 0; got < n; got++ {
		select {
		case r := <-h.results:
			if r.Status != wire.StatusAborted {
				t.Fatalf("task %d: status %v %+v, want aborted", r.Task, r.Status, r.Err)
			}
		case <-deadline:
			t.Fatalf("%d of %d tasks aborted within 60s: an abort that raced its task was lost and the task runs", got, n)
		}
	}
}

// TestDetachedResultsSentAgainAfterRegistering: a detached task's result
// published while the hub did not know this daemon (a hub restart, a
// dropped connection) is dropped by the hub, and its client may be gone.
// After registering again, the daemon sends the hub again the detached
// results it remembers.
func TestDetachedResultsSentAgainAfterRegistering(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	results := h.detachedResults(t)
	task := wire.Task{ID: 5, Client: wire.DetachedClient, Kind: wire.KindExecute, File: "t.star", Code: "x = 1", Targets: []int{0}}
	data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{task}})
	if err := h.nc.Publish(wire.DaemonTasksFrom(d.id, "A"), data); err != nil {
		t.Fatal(err)
	}
	next := func(what string) wire.Result {
		t.Helper()
		select {
		case r := <-results:
			return r
		case <-time.After(60 * time.Second):
			t.Fatalf("%s: no detached result within 60s", what)
		}
		return wire.Result{}
	}
	if r := next("the task"); r.Task != 5 || r.Status != wire.StatusOK {
		t.Fatalf("the detached task: %+v, want task 5 ok", r)
	}
	register := func() {
		t.Helper()
		h.control(t, d, wire.SenderHub, wire.Control{Op: wire.OpRegister}) // the hub lost track of it
		select {
		case <-h.daemon:
		case <-time.After(10 * time.Second):
			t.Fatal("the daemon did not register again within 10s")
		}
	}
	register()
	if r := next("after registering again"); r.Task != 5 || r.Status != wire.StatusOK || r.Engine != 0 {
		t.Errorf("after registering again: %+v, want task 5's result sent again", r)
	}
}

// TestBalancedTaskToAGoneEngine: a load-balanced task that reaches an
// engine already shut down is left to the hub's scheduler, which retries
// or fails it when it removes the engine; the daemon does not answer it
// Lost, which would end it unretried. A direct task is answered, and so
// is a load-balanced one for an engine the daemon never ran.
func TestBalancedTaskToAGoneEngine(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 2})
	h.control(t, d, wire.SenderHub, wire.Control{Op: wire.OpShutdown, Engines: []int{1}})
	send := func(id uint64, balanced bool, engine int) {
		task := execute("x = 1")
		task.ID, task.Client, task.Targets, task.Balanced = id, "c", []int{engine}, balanced
		data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{task}})
		if err := h.nc.Publish(wire.DaemonTasksFrom(d.id, wire.SenderHub), data); err != nil {
			t.Fatal(err)
		}
	}
	send(900, true, 1)
	send(901, false, 0)
	send(902, false, 1)
	send(903, true, 7) // an engine it never ran: answered, or it would wait for ever
	// A Lost answer to 900 would be queued before 902's.
	got := make(map[uint64]wire.Status)
	for len(got) < 3 {
		r := h.result(t)
		got[r.Task] = r.Status
	}
	if len(got) != 3 || got[901] != wire.StatusOK || got[902] != wire.StatusLost || got[903] != wire.StatusLost {
		t.Errorf("results %v, want 901 ok, the direct 902 and the balanced 903 (no such engine) lost, nothing for the balanced 900", got)
	}
}

// TestAbortBetweenCheckAndQueue: an abort that comes while an arriving
// task has been checked against the remembered aborts but not yet queued
// waits for it, finds it queued and aborts it. (Without the daemon's
// intake lock it would find nothing, remember the id too late, and the
// task would run: the test then sees no result within 60 s.)
func TestAbortBetweenCheckAndQueue(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	const id = 4242
	testHookTake = func(task *wire.Task) {
		if task.ID != id {
			return
		}
		done := make(chan struct{})
		go func() {
			d.abort(wire.Control{Op: wire.OpAbort, Client: "c", Tasks: []uint64{id}}, "")
			close(done)
		}()
		select {
		case <-done: // it did not wait: the bug
		case <-time.After(200 * time.Millisecond): // it waits for the task to be queued
		}
	}
	t.Cleanup(func() { testHookTake = nil })
	task := execute("time.sleep(60)")
	task.ID, task.Client, task.Targets = id, "c", []int{0}
	data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{task}})
	if err := h.nc.Publish(wire.DaemonTasksFrom(d.id, wire.SenderHub), data); err != nil {
		t.Fatal(err)
	}
	if r := h.result(t); r.Task != id || r.Status != wire.StatusAborted {
		t.Errorf("task %d: %v %+v, want %d aborted", r.Task, r.Status, r.Err, id)
	}
}

// TestRegistrationAskedAgain: a hub that does not answer a daemon's first
// registration in time (frozen, or too busy) is asked again; the daemon
// does not exit.
func TestRegistrationAskedAgain(t *testing.T) {
	wait := registerWait
	registerWait = 200 * time.Millisecond
	unanswered.Store(1)
	t.Cleanup(func() { registerWait, _ = wait, unanswered.Swap(0) })
	h, d := startDaemon(t, Config{Engines: 1}) // fails the test if it does not register
	if unanswered.Load() >= 0 {
		t.Fatal("the fake hub answered the first registration")
	}
	runOK(t, h, d, "x = 1")
}

// TestAbortBeforeEnginesStart: an abort can reach a daemon that is still
// starting its engines (the hub knows them from the registration, and a
// client may submit and abort at once); its tasks, which come after, are
// aborted.
func TestAbortBeforeEnginesStart(t *testing.T) {
	d, err := New(Config{Engines: 1}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	for _, engines := range [][]int{{0}, nil} {
		id := uint64(len(engines) + 70)
		d.abort(wire.Control{Op: wire.OpAbort, Client: "c", Tasks: []uint64{id}, Engines: engines}, "")
		if !d.wasAborted(&wire.Task{ID: id, Client: "c"}) {
			t.Errorf("an abort (engines %v) before the engines started is not remembered for its task", engines)
		}
	}
}
