package hub

import (
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/host/sched"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// harness runs the hub's scheduler without a network (nomad's
// scheduler/tests Harness): it is the scheduler's schedOut, recording the
// messages it sends and answering revokes as a daemon would.
type harness struct {
	t *testing.T
	s *scheduler
	w sync.WaitGroup // the scheduler's revoke goroutines

	mu      sync.Mutex
	sent    []sentMsg        // every message, in order
	revoked map[int][]uint64 // engine → the unstarted tasks its daemon gives back
	asked   []wire.Control   // revoke requests, in order
	stop    chan struct{}    // closed at cleanup
}

type sentMsg struct {
	subj string
	data []byte // the encoded message: the scheduler reuses its values
}

func newHarness(t *testing.T, p sched.Policy) *harness {
	h := &harness{t: t, revoked: make(map[int][]uint64), stop: make(chan struct{})}
	h.s = newScheduler(h, p, h.stop, h.w.Go, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() { close(h.stop); h.w.Wait() })
	return h
}

func (h *harness) receive(_ *transport.Assembler, m *nats.Msg) ([]byte, error) { return m.Data, nil }
func (h *harness) publish(subj string, msg any)                                { h.record(subj, msg) }
func (h *harness) sendData(subj string, msg any)                               { h.record(subj, msg) }

func (h *harness) record(subj string, msg any) {
	data, err := wire.MarshalMsg(msg)
	if err != nil {
		h.t.Errorf("encode %s: %v", subj, err)
		return
	}
	h.mu.Lock()
	h.sent = append(h.sent, sentMsg{subj, data})
	h.mu.Unlock()
}

func (h *harness) ask(subj string, msg any, _ time.Duration) (wire.ControlReply, error) {
	c, ok := msg.(*wire.Control)
	if !ok || c.Op != wire.OpRevoke || len(c.Engines) != 1 {
		return wire.ControlReply{}, errors.New("harness: only revokes of one engine are answered")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.asked = append(h.asked, *c)
	return wire.ControlReply{Revoked: h.revoked[c.Engines[0]]}, nil
}

// submit hands tasks to the scheduler as one client batch.
func (h *harness) submit(tasks ...wire.Task) {
	h.t.Helper()
	data, err := wire.MarshalMsg(&wire.Batch{Tasks: tasks})
	if err != nil {
		h.t.Fatal(err)
	}
	h.s.onSubmit(&nats.Msg{Subject: wire.SubmitFrom("c"), Data: data})
}

// done reports engine's tasks ids of client c finished.
func (h *harness) done(engine int, ids ...uint64) {
	h.t.Helper()
	d := wire.Done{Engine: engine}
	for _, id := range ids {
		d.Tasks = append(d.Tasks, wire.TaskRef{Client: "c", ID: id})
	}
	data, err := wire.MarshalMsg(&d)
	if err != nil {
		h.t.Fatal(err)
	}
	h.s.onDone(&nats.Msg{Subject: wire.SubjectDone, Data: data})
}

// take returns engine → task ids sent to daemons since the last
// call, and the results published to client c; it skips the aborts
// sent to daemons.
func (h *harness) take() (map[int][]uint64, []wire.Result) {
	h.t.Helper()
	h.mu.Lock()
	sent := h.sent
	h.sent = nil
	h.mu.Unlock()
	got := make(map[int][]uint64)
	var results []wire.Result
	for _, m := range sent {
		switch {
		case m.subj == wire.ClientResults("c"):
			var rs wire.Results
			if err := wire.UnmarshalMsg(m.data, &rs); err != nil {
				h.t.Fatal(err)
			}
			results = append(results, rs.Results...)
		case strings.HasSuffix(m.subj, ".ctl."+wire.SenderHub):
		default:
			var b wire.Batch
			if err := wire.UnmarshalMsg(m.data, &b); err != nil {
				h.t.Fatalf("%s: %v", m.subj, err)
			}
			for _, task := range b.Tasks {
				if len(task.Targets) != 1 {
					h.t.Fatalf("%s: task %d has targets %v, want one engine", m.subj, task.ID, task.Targets)
				}
				got[task.Targets[0]] = append(got[task.Targets[0]], task.ID)
			}
		}
	}
	return got, results
}

func tasks(from, to uint64, retries int) []wire.Task {
	var ts []wire.Task
	for id := from; id <= to; id++ {
		ts = append(ts, wire.Task{ID: id, Client: "c", Kind: wire.KindApply, Retries: retries})
	}
	return ts
}

func TestSchedulerQueueAndPrefetch(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 3, Slow: time.Hour})
	h.s.addEngines("d", []int{0, 1})
	h.submit(tasks(1, 8, 0)...)
	h.s.dispatch()
	got, _ := h.take()
	if len(got[0]) != 3 || len(got[1]) != 3 || h.s.queued() != 2 {
		t.Fatalf("8 tasks, 2 engines, prefetch 3: dispatched %v with %d queued, want 3 each and 2 queued", got, h.s.queued())
	}
	h.done(0, got[0][:2]...)
	h.s.dispatch()
	if again, _ := h.take(); len(again[0]) != 2 || len(again[1]) != 0 || h.s.queued() != 0 {
		t.Errorf("after engine 0 finished 2: dispatched %v with %d queued, want the 2 queued tasks on engine 0", again, h.s.queued())
	}
}

func TestSchedulerRetriesElsewhereThenFails(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 1, Slow: time.Hour})
	h.s.addEngines("a", []int{0})
	h.s.addEngines("b", []int{1})
	h.submit(tasks(1, 1, 1)...)
	h.s.dispatch()
	got, _ := h.take()
	first := -1
	for e, ids := range got {
		if slices.Equal(ids, []uint64{1}) {
			first = e
		}
	}
	if first < 0 {
		t.Fatalf("dispatched %v, want task 1 on one engine", got)
	}
	h.s.removeEngines([]int{first})
	h.s.dispatch()
	got, results := h.take()
	other := 1 - first
	if !slices.Equal(got[other], []uint64{1}) || len(results) != 0 {
		t.Fatalf("engine %d lost with task 1 (retries=1): dispatched %v, results %v; want a retry on engine %d", first, got, results, other)
	}
	h.s.removeEngines([]int{other})
	got, results = h.take()
	if len(got) != 0 || len(results) != 1 || results[0].Task != 1 || results[0].Status != wire.StatusLost ||
		results[0].Err == nil || results[0].Err.Type != wire.EngineError {
		t.Errorf("both engines lost: dispatched %v, results %+v; want task 1 failed with EngineError", got, results)
	}
}

func TestSchedulerTakesBackUnstartedTasks(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 4, Slow: time.Hour})
	h.s.addEngines("a", []int{0})
	h.submit(tasks(1, 3, 0)...)
	h.s.dispatch()
	if got, _ := h.take(); !slices.Equal(got[0], []uint64{1, 2, 3}) {
		t.Fatalf("one engine, prefetch 4: dispatched %v, want tasks 1-3 on engine 0", got)
	}
	h.s.addEngines("b", []int{1})
	h.mu.Lock()
	h.revoked[0] = []uint64{2, 3} // task 1 runs; 2 and 3 wait behind it
	h.mu.Unlock()
	h.s.policy.Slow = 0 // engine 0 counts as making no progress
	h.s.steal()
	h.w.Wait()
	h.mu.Lock()
	asked := h.asked
	h.mu.Unlock()
	if len(asked) != 1 || !slices.Equal(asked[0].Tasks, []uint64{1, 2, 3}) || !slices.Equal(asked[0].Engines, []int{0}) {
		t.Fatalf("steal asked %+v, want one revoke of tasks 1-3 from engine 0", asked)
	}
	h.s.mu.Lock()
	var queue []uint64
	for _, lt := range h.s.queue {
		queue = append(queue, lt.ref.ID)
	}
	inflight := len(h.s.engines[0].inflight)
	h.s.mu.Unlock()
	if !slices.Equal(queue, []uint64{2, 3}) || inflight != 1 {
		t.Errorf("after the revoke: queue %v, engine 0 holds %d; want 2, 3 queued and task 1 left on engine 0", queue, inflight)
	}
}

// TestSchedulerAbortOfATaskComingBack: an abort of a task on an engine
// goes to its daemon. When the daemon had given the task back (a revoke
// that crossed the abort) or its engine is lost, the task is aborted, not
// run elsewhere.
func TestSchedulerAbortOfATaskComingBack(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 4, Slow: time.Hour})
	h.s.addEngines("a", []int{0})
	h.submit(tasks(1, 3, 1)...)
	h.s.dispatch()
	if got, _ := h.take(); !slices.Equal(got[0], []uint64{1, 2, 3}) {
		t.Fatalf("one engine, prefetch 4: dispatched %v, want tasks 1-3 on engine 0", got)
	}
	abort := func(ids ...uint64) {
		data, _ := wire.MarshalMsg(&wire.Control{Op: wire.OpAbort, Client: "c", Tasks: ids})
		h.s.onControl(&nats.Msg{Subject: wire.SchedControlFrom("c"), Data: data})
	}
	abort(1, 2)
	h.s.addEngines("b", []int{1})
	h.mu.Lock()
	h.revoked[0] = []uint64{2, 3} // given back before the abort arrived
	h.mu.Unlock()
	h.s.policy.Slow = 0
	h.s.steal()
	h.w.Wait()
	h.s.removeEngines([]int{0}) // with task 1, its abort on the way
	h.s.dispatch()
	got, results := h.take()
	status := make(map[uint64]wire.Status)
	for _, r := range results {
		status[r.Task] = r.Status
	}
	if !slices.Equal(got[1], []uint64{3}) || len(results) != 2 || status[1] != wire.StatusAborted || status[2] != wire.StatusAborted {
		t.Errorf("tasks 1 and 2 aborted, 2 given back and engine 0 lost with 1: dispatched %v, results %+v; want only task 3 on engine 1 and 1, 2 aborted", got, results)
	}
}

// TestSchedulerNothingToALeavingEngine: an engine being shut down takes
// no more tasks (its daemon would answer them Lost, unretried).
func TestSchedulerNothingToALeavingEngine(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 4, Slow: time.Hour})
	h.s.addEngines("a", []int{0, 1})
	h.s.leave([]int{0})
	h.submit(tasks(1, 4, 0)...)
	h.s.dispatch()
	if got, _ := h.take(); len(got[0]) != 0 || !slices.Equal(got[1], []uint64{1, 2, 3, 4}) {
		t.Errorf("engine 0 leaving: dispatched %v, want tasks 1-4 on engine 1 only", got)
	}
}

// TestSchedulerDeadClientsTasks: the tasks on engines of a client whose
// connection closed are its daemons' to abort (OpAbortClient); one that
// comes back (revoked as the abort crossed it) is not run elsewhere.
func TestSchedulerDeadClientsTasks(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 4, Slow: time.Hour})
	h.s.addEngines("a", []int{0})
	h.submit(tasks(1, 2, 0)...)
	h.s.dispatch()
	h.take()
	if queued, running := h.s.abortClient("c"); queued != 0 || running != 2 {
		t.Errorf("abortClient = %d queued, %d running; want 0, 2", queued, running)
	}
	h.s.addEngines("b", []int{1})
	h.s.requeue(h.s.engines[0], "c", []uint64{2})
	h.s.dispatch()
	if got, _ := h.take(); len(got[1]) != 0 {
		t.Errorf("a dead client's task given back: dispatched %v, want nothing", got)
	}
}

// TestSchedulerAdminAbortOnItsWay: the admin's abort of a client's tasks
// aborts those given to an engine by id on their daemon, which remembers
// one still on its way there, and counts them.
func TestSchedulerAdminAbortOnItsWay(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 2, Slow: time.Hour})
	h.s.addEngines("a", []int{0})
	h.submit(tasks(1, 3, 0)...)
	h.s.dispatch()
	h.take()
	refs := h.s.abortQueued("c", nil)
	var ids []uint64
	for _, r := range refs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	h.mu.Lock()
	var ctl wire.Control
	for _, m := range h.sent {
		if m.subj == wire.DaemonControlFrom("a", wire.SenderHub) {
			if err := wire.UnmarshalMsg(m.data, &ctl); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.mu.Unlock()
	slices.Sort(ctl.Tasks)
	if !slices.Equal(ids, []uint64{1, 2, 3}) || ctl.Op != wire.OpAbort || ctl.Client != "c" || !slices.Equal(ctl.Tasks, []uint64{1, 2}) {
		t.Errorf("admin abort: aborted %v, sent daemon a %+v; want 1-3 aborted, 1 and 2 (on engine 0) by id", ids, ctl)
	}
	_, results := h.take()
	if len(results) != 1 || results[0].Task != 3 || results[0].Status != wire.StatusAborted {
		t.Errorf("results %+v, want task 3 (queued in the hub) aborted", results)
	}
}

// TestSchedulerRefusesTasksOfAnotherClient: a submission's tasks belong
// to its proven sender (the subject's last token). Tasks another client
// sends under client c's id are refused, so they neither run for c nor
// pre-empt c's own submission of the same ids as duplicates; detached
// tasks are the sender's too.
func TestSchedulerRefusesTasksOfAnotherClient(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 8, Slow: time.Hour})
	h.s.addEngines("d", []int{0})
	forged := tasks(1, 3, 0)
	for i := range forged {
		forged[i].Label = "forged"
	}
	data, err := wire.MarshalMsg(&wire.Batch{Tasks: append(forged,
		wire.Task{ID: 9, Client: wire.DetachedClient, Kind: wire.KindApply})})
	if err != nil {
		t.Fatal(err)
	}
	h.s.onSubmit(&nats.Msg{Subject: wire.SubmitFrom("attacker"), Data: data})
	if n := h.s.queued(); n != 1 {
		t.Fatalf("another client submitted 3 tasks as client c and 1 detached: %d queued, want only the detached one", n)
	}
	h.submit(tasks(1, 3, 0)...)
	h.s.dispatch()
	h.mu.Lock()
	sent := h.sent
	h.sent = nil
	h.mu.Unlock()
	var ran []uint64
	for _, m := range sent {
		var b wire.Batch
		if wire.UnmarshalMsg(m.data, &b) != nil {
			continue
		}
		for _, task := range b.Tasks {
			if task.Client == "c" && task.Label != "forged" {
				ran = append(ran, task.ID)
			}
			if task.Label == "forged" {
				t.Errorf("task %d submitted by another client as c was dispatched", task.ID)
			}
		}
	}
	if slices.Sort(ran); !slices.Equal(ran, []uint64{1, 2, 3}) {
		t.Errorf("client c's own tasks dispatched: %v, want [1 2 3]", ran)
	}
}

// TestSchedulerDetachedAbortOnlyByOwner: a detached task belongs to the
// client that submitted it (the subject's last token, whatever Owner it
// claims). Another client's abort, sent before the task arrives, while it
// waits and while it runs, is ignored; an abort of another client's
// ordinary tasks is refused; the owner's abort stops it.
func TestSchedulerDetachedAbortOnlyByOwner(t *testing.T) {
	h := newHarness(t, sched.Policy{Prefetch: 8, Slow: time.Hour})
	abort := func(by, client string, ids ...uint64) {
		data, err := wire.MarshalMsg(&wire.Control{Op: wire.OpAbort, Client: client, Tasks: ids})
		if err != nil {
			t.Fatal(err)
		}
		h.s.onControl(&nats.Msg{Subject: wire.SchedControlFrom(by), Data: data})
	}
	detached := func(ids ...uint64) []byte {
		var b wire.Batch
		for _, id := range ids {
			b.Tasks = append(b.Tasks, wire.Task{ID: id, Client: wire.DetachedClient, Owner: "b", Kind: wire.KindApply})
		}
		data, err := wire.MarshalMsg(&b)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	abort("b", wire.DetachedClient, 5)
	h.s.onSubmit(&nats.Msg{Subject: wire.SubmitFrom("a"), Data: detached(5, 6)})
	h.submit(tasks(1, 1, 0)...)
	abort("b", wire.DetachedClient, 5, 6)
	abort("b", "c", 1)
	if n := h.s.queued(); n != 3 {
		t.Fatalf("client b aborted client a's 2 detached tasks and client c's task: %d queued, want all 3", n)
	}
	h.s.addEngines("d", []int{0})
	h.s.dispatch()
	h.mu.Lock()
	sent := h.sent
	h.sent = nil
	h.mu.Unlock()
	owners := make(map[uint64]string)
	for _, m := range sent {
		var b wire.Batch
		if m.subj == wire.DaemonTasksFrom("d", wire.SenderHub) && wire.UnmarshalMsg(m.data, &b) == nil {
			for _, task := range b.Tasks {
				owners[task.ID] = task.Owner
			}
		}
	}
	if owners[5] != "a" || owners[6] != "a" {
		t.Errorf("the owners of the detached tasks dispatched: %v, want a (the sender), not the b they claimed", owners)
	}
	abort("b", wire.DetachedClient, 5)
	abort("a", wire.DetachedClient, 6)
	h.mu.Lock()
	sent = h.sent
	h.sent = nil
	h.mu.Unlock()
	var aborts []wire.Control
	for _, m := range sent {
		var c wire.Control
		if m.subj == wire.DaemonControlFrom("d", wire.SenderHub) && wire.UnmarshalMsg(m.data, &c) == nil {
			aborts = append(aborts, c)
		}
	}
	if len(aborts) != 1 || !slices.Equal(aborts[0].Tasks, []uint64{6}) {
		t.Errorf("aborts of running detached tasks sent to the daemon: %+v, want only the owner's, of task 6", aborts)
	}
}

// submitForTest queues n tasks of client and waits until the running
// scheduler gave them to engines.
func (s *scheduler) submitForTest(t *testing.T, client string, n int) {
	t.Helper()
	var b wire.Batch
	for i := range n {
		b.Tasks = append(b.Tasks, wire.Task{ID: uint64(1000 + i), Client: client, Kind: wire.KindApply})
	}
	s.enqueue(b)
	deadline := time.Now().Add(10 * time.Second)
	for s.inflightForTest() < n {
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler gave %d of %d tasks to engines within 10s", s.inflightForTest(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// inflightForTest counts the tasks given to engines.
func (s *scheduler) inflightForTest() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, e := range s.engines {
		n += len(e.inflight)
	}
	return n
}
