// This file defines the hub's load-balancing scheduler: the central queue
// of load-balanced tasks, their dispatch to engines by the rules of
// package sched, retries when an engine dies, and taking unstarted tasks
// back from busy engines.

package hub

import (
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/host/sched"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

type lbTask struct {
	ref    wire.TaskRef
	t      wire.Task
	bundle []byte
	engine int // -1 while queued
	// aborting: its abort went to its engine's daemon, so it is not run
	// elsewhere if it comes back (revoked before the abort arrived, or
	// its engine lost).
	aborting bool
}

type lbEngine struct {
	id       int
	daemon   string
	inflight []*lbTask // in the order sent
	progress time.Time // last done, or when inflight became non-empty
	revoking bool
	asked    time.Time // when its tasks were last asked back
	busy     int       // work it reported beyond our tasks (heartbeats)
	leaving  bool      // being shut down: it takes no more tasks
}

// askEvery bounds how often one engine is asked for its tasks back.
const askEvery = 50 * time.Millisecond

// releaseAbove is how many tasks the scheduler must have held at once for
// it to hand their memory back to the system once they are all done and
// releaseAfter passed with no new task: Go maps never shrink, and the
// runtime keeps freed pages for minutes, so a hub that ran a large map
// would otherwise stay that size.
//
// The whole process must be quiet too: when it allocated more than
// releaseBusy during releaseAfter, the release waits. In-process engines
// and clients moving big values would otherwise pay for its full
// collection and then fault in again the pages it handed back (a push
// right after a large map took twice as long).
const (
	releaseAbove = 1 << 12
	releaseAfter = time.Second
	releaseBusy  = 16 << 20
)

// heapAllocs returns the bytes the process has allocated since it started.
func heapAllocs() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// schedOut is what the scheduler needs of its hub, a narrow seam instead
// of *Hub: the Hub does it over NATS, the test Harness records it.
type schedOut interface {
	// receive returns the whole message of m (nil while parts are
	// missing), reassembling parts with asm.
	receive(asm *transport.Assembler, m *nats.Msg) ([]byte, error)
	publish(subj string, msg any)  // a small message
	sendData(subj string, msg any) // a task batch, in parts when large
	// ask sends msg to a daemon and returns its reply.
	ask(subj string, msg any, timeout time.Duration) (wire.ControlReply, error)
}

type scheduler struct {
	out    schedOut
	log    *slog.Logger
	policy sched.Policy
	stop   <-chan struct{} // closed when the hub shuts down
	spawn  func(func())    // starts a goroutine its owner waits for
	kick   chan struct{}
	asm    transport.Assembler
	recs   *records // keeps detached tasks on disk; nil in the test Harness
	// work starts a goroutine its owner waits for, unless the hub is
	// stopping (it returns false then); nil in the test Harness.
	work func(func()) bool

	mu      sync.Mutex
	queue   []*lbTask
	tasks   map[wire.TaskRef]*lbTask
	engines map[int]*lbEngine
	order   []int                      // engine ids, rotated for fairness
	aborted map[wire.TaskRef]time.Time // aborts that arrived before their task
	peak    int                        // most tasks held since the last release

	// batches holds dispatch's batch per daemon, reused from one dispatch
	// to the next; only run's goroutine uses it.
	batches map[string]*batchBuilder
}

func newScheduler(out schedOut, policy sched.Policy, stop <-chan struct{}, spawn func(func()), log *slog.Logger) *scheduler {
	return &scheduler{out: out, policy: policy, stop: stop, spawn: spawn, log: log, kick: make(chan struct{}, 1), tasks: make(map[wire.TaskRef]*lbTask),
		engines: make(map[int]*lbEngine), aborted: make(map[wire.TaskRef]time.Time)}
}

func (s *scheduler) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// queued returns how many tasks wait for an engine.
func (s *scheduler) queued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// queuedOf returns the ids of client's tasks that wait for an engine.
func (s *scheduler) queuedOf(client string) []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []uint64
	for _, t := range s.queue {
		if t.ref.Client == client {
			out = append(out, t.ref.ID)
		}
	}
	return out
}

func (s *scheduler) addEngines(daemon string, ids []int) {
	s.mu.Lock()
	for _, id := range ids {
		s.engines[id] = &lbEngine{id: id, daemon: daemon}
		s.order = append(s.order, id)
	}
	s.mu.Unlock()
	s.wake()
}

// removeEngines forgets engines; their in-flight tasks are retried or fail.
func (s *scheduler) removeEngines(ids []int) {
	s.mu.Lock()
	var failed, aborted []*lbTask
	for _, id := range ids {
		e := s.engines[id]
		if e == nil {
			continue
		}
		delete(s.engines, id)
		s.order = slices.DeleteFunc(s.order, func(x int) bool { return x == id })
		var retry []*lbTask
		for _, t := range e.inflight {
			t.engine = -1
			t.t.Exclude = append(t.t.Exclude, id)
			if t.aborting {
				delete(s.tasks, t.ref)
				aborted = append(aborted, t)
				continue
			}
			if t.t.Attempt < t.t.Retries {
				t.t.Attempt++
				retry = append(retry, t)
			} else {
				delete(s.tasks, t.ref)
				failed = append(failed, t)
			}
		}
		s.queue = append(retry, s.queue...)
	}
	s.mu.Unlock()
	for _, t := range failed {
		s.fail(t, wire.StatusLost, wire.EngineError, fmt.Sprintf(
			"engine %d died or was lost while running the task (attempt %d of %d; set retries on the view to run it again elsewhere)",
			t.t.Exclude[len(t.t.Exclude)-1], t.t.Attempt+1, t.t.Retries+1))
	}
	for _, t := range aborted {
		s.fail(t, wire.StatusAborted, wire.TaskAborted, "aborted (its engine was lost as the abort reached it)")
	}
	s.wake()
}

// leave stops giving tasks to engines ids (every engine when empty),
// which are being shut down; removeEngines then retries or fails the
// tasks they hold.
func (s *scheduler) leave(ids []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, e := range s.engines {
		if len(ids) == 0 || slices.Contains(ids, id) {
			e.leaving = true
		}
	}
}

// observe records what engines reported in a heartbeat: work beyond the
// tasks the scheduler gave them (direct tasks) makes them not idle.
func (s *scheduler) observe(stats []wire.EngineStat) {
	s.mu.Lock()
	for _, st := range stats {
		e := s.engines[st.ID]
		if e == nil {
			continue
		}
		held := st.Queue
		if st.State == wire.StateBusy {
			held++
		}
		e.busy = max(held-len(e.inflight), 0)
	}
	s.mu.Unlock()
	s.wake()
}

// fail reports a task's failure to its client.
func (s *scheduler) fail(t *lbTask, status wire.Status, typ wire.ErrorKind, msg string) {
	now := time.Now().UnixNano()
	s.out.publish(wire.ClientResults(t.ref.Client), &wire.Results{Results: []wire.Result{{
		Task: t.ref.ID, Engine: -1, Status: status, Attempt: t.t.Attempt, Started: now, Finished: now,
		Err: &wire.Error{Type: typ, Message: msg}}}})
}

func (s *scheduler) onSubmit(m *nats.Msg) {
	from := wire.LastToken(m.Subject)
	if m.Header.Get(wire.HeaderSync) != "" {
		s.sync(m, from)
		return
	}
	data, err := s.out.receive(&s.asm, m)
	if err != nil {
		s.log.Warn("drop a large submission", "err", err)
	}
	if data == nil {
		return
	}
	var b wire.Batch
	if err := wire.UnmarshalMsg(data, &b); err != nil {
		s.log.Warn("drop a malformed submission", "err", err)
		return
	}
	b = ownTasks(s.log, from, b)
	if s.recs != nil {
		b = s.recs.admit(from, b)
	}
	s.enqueue(b)
}

// sync answers a client's wire.HeaderSync, which names one submission by
// its first detached task's id, once that submission's detached tasks
// are on disk, or with why they were refused.
func (s *scheduler) sync(m *nats.Msg, from string) {
	if m.Reply == "" || s.recs == nil {
		return
	}
	token, err := strconv.ParseUint(m.Header.Get(wire.HeaderSync), 10, 64)
	if err != nil {
		s.out.publish(m.Reply, &wire.ControlReply{Error: fmt.Sprintf("the hub cannot tell which submission a sync is for: its %s header is %q, want the id of the submission's first detached task; is this client as new as the hub (pirun version)?",
			wire.HeaderSync, m.Header.Get(wire.HeaderSync))})
		return
	}
	c, why := s.recs.syncOf(from, token)
	answer := func() {
		select {
		case <-c.done:
		case <-s.stop:
			return // no answer: the client hears the hub went away
		}
		r := &wire.ControlReply{Error: why}
		if why == "" && c.err != nil {
			r.Error = "the hub runs these detached tasks but could not keep them on disk, so a hub restart would lose them: " + c.err.Error()
		}
		s.out.publish(m.Reply, r)
	}
	select {
	case <-c.done:
		answer() // nothing to wait for
	default:
		if s.work == nil || !s.work(answer) {
			return
		}
	}
}

// ownTasks returns b without the tasks whose Client is neither sender, the
// submitting client proven by the subject's last token (wire.SubmitFrom),
// nor wire.DetachedClient: a client may not submit under another's id,
// which would send results to the other client or pre-empt its own
// submission of the same task. A detached task's Owner becomes sender,
// the only client that may abort it.
func ownTasks(log *slog.Logger, sender string, b wire.Batch) wire.Batch {
	kept, refused := b.Tasks[:0], 0
	for _, t := range b.Tasks {
		if t.Client != sender && t.Client != wire.DetachedClient {
			if refused++; refused == 1 {
				log.Warn("refuse tasks submitted under another client's id", "sender", sender, "client", t.Client, "task", t.ID)
			}
			continue
		}
		if t.Client == wire.DetachedClient {
			t.Owner = sender
		}
		if t.Bundle < 0 || t.Bundle > len(b.Bundles) || (t.Bundle > 0 && len(b.Bundles[t.Bundle-1]) == 0) {
			t.Bundle = 0 // no such bundle: the task runs without one, as the engine would see it
		}
		kept = append(kept, t)
	}
	if refused > 1 {
		log.Warn("refused tasks submitted under another client's id", "sender", sender, "tasks", refused)
	}
	b.Tasks = kept
	return b
}

// enqueue queues the tasks of a submitted batch, skipping those already
// queued or in flight (a client submits its unfinished tasks again after
// a hub restart, and may race its first submission).
func (s *scheduler) enqueue(b wire.Batch) {
	var aborted []*lbTask
	var client, label string // shared by the batch's tasks, not one copy each
	s.mu.Lock()
	for _, t := range b.Tasks {
		t.Client, client = intern(t.Client, client)
		t.Label, label = intern(t.Label, label)
		var bundle []byte
		if t.Bundle > 0 && t.Bundle <= len(b.Bundles) {
			bundle = b.Bundles[t.Bundle-1]
		}
		lt := &lbTask{ref: wire.TaskRef{Client: t.Client, ID: t.ID}, t: t, bundle: bundle, engine: -1}
		lt.t.Balanced = true
		if s.tasks[lt.ref] != nil {
			continue
		}
		if _, ok := s.aborted[abortRef(&t)]; ok {
			delete(s.aborted, abortRef(&t))
			aborted = append(aborted, lt)
			continue
		}
		s.tasks[lt.ref] = lt
		s.queue = append(s.queue, lt)
	}
	s.peak = max(s.peak, len(s.tasks))
	s.mu.Unlock()
	for _, t := range aborted {
		s.fail(t, wire.StatusAborted, wire.TaskAborted, "aborted before it started")
	}
	s.wake()
}

// intern returns s, or prev when they are equal so that s's copy can be
// freed, and the string to compare the next one with.
func intern(s, prev string) (string, string) {
	if s == prev {
		return prev, prev
	}
	return s, s
}

func (s *scheduler) onDone(m *nats.Msg) {
	var d wire.Done
	if err := wire.UnmarshalMsg(m.Data, &d); err != nil {
		s.log.Warn("drop a malformed done report", "err", err)
		return
	}
	s.mu.Lock()
	e := s.engines[d.Engine]
	for _, ref := range d.Tasks {
		t := s.tasks[ref]
		if t == nil || t.engine != d.Engine || e == nil {
			continue // a late report from an engine declared lost
		}
		delete(s.tasks, ref)
		if i := slices.Index(e.inflight, t); i >= 0 {
			e.inflight = slices.Delete(e.inflight, i, i+1)
		}
		e.progress = time.Now()
	}
	s.mu.Unlock()
	s.wake()
}

// abortRef is the key of an abort of t remembered before t arrived: its
// owner and id (a client's ids are unique among its detached tasks and
// its others).
func abortRef(t *wire.Task) wire.TaskRef { return wire.TaskRef{Client: t.OwnerID(), ID: t.ID} }

// onControl aborts load-balanced tasks for the client that sent the
// abort, the subject's last token (wire.SchedControlFrom), which the hub
// pins to the connection's identity: its own tasks, and the detached
// ones it submitted.
func (s *scheduler) onControl(m *nats.Msg) {
	var c wire.Control
	if err := wire.UnmarshalMsg(m.Data, &c); err != nil || c.Op != wire.OpAbort {
		s.log.Warn("drop a malformed scheduler control message", "err", err)
		return
	}
	sender := wire.LastToken(m.Subject)
	if c.Client != sender && c.Client != wire.DetachedClient {
		s.log.Warn("refuse an abort of another client's tasks", "sender", sender, "client", c.Client, "tasks", len(c.Tasks))
		return
	}
	s.mu.Lock()
	var aborted []*lbTask
	onEngines := make(daemonAborts)
	now := time.Now()
	for ref, at := range s.aborted {
		if now.Sub(at) > time.Minute {
			delete(s.aborted, ref)
		}
	}
	refused := 0
	for _, id := range c.Tasks {
		ref := wire.TaskRef{Client: c.Client, ID: id}
		t := s.tasks[ref]
		if t != nil && t.t.OwnerID() != sender {
			refused++ // another client's detached task
			continue
		}
		if len(c.Engines) > 0 && (t == nil || !slices.Contains(c.Engines, t.engine)) {
			continue // abort(targets=…): only the tasks that run on those engines
		}
		switch {
		case t == nil && len(s.aborted) < 1<<16:
			s.aborted[wire.TaskRef{Client: sender, ID: id}] = now // it may still be on its way (submissions travel apart)
		case t == nil:
		case t.engine < 0:
			delete(s.tasks, t.ref)
			s.queue = slices.DeleteFunc(s.queue, func(x *lbTask) bool { return x == t })
			aborted = append(aborted, t)
		default:
			onEngines.addLocked(s, t)
		}
	}
	s.mu.Unlock()
	if refused > 0 {
		s.log.Warn("refuse to abort another client's detached tasks", "sender", sender, "tasks", refused)
	}
	for _, t := range aborted {
		s.fail(t, wire.StatusAborted, wire.TaskAborted, "aborted before it started")
	}
	onEngines.send(s.out)
}

// daemonAborts gathers the aborts of tasks given to engines, one control
// per daemon and client: no daemon learns another's task ids.
type daemonAborts map[[2]string]*wire.Control

// addLocked marks t, which an engine holds, aborting (given back, it is
// not run elsewhere) and adds it to its daemon's abort; s.mu is held.
func (a daemonAborts) addLocked(s *scheduler, t *lbTask) {
	t.aborting = true
	e := s.engines[t.engine]
	if e == nil {
		return
	}
	k := [2]string{e.daemon, t.ref.Client}
	c := a[k]
	if c == nil {
		c = &wire.Control{Op: wire.OpAbort, Client: t.ref.Client}
		a[k] = c
	}
	c.Tasks = append(c.Tasks, t.ref.ID)
	if !slices.Contains(c.Engines, e.id) {
		c.Engines = append(c.Engines, e.id)
	}
}

// send sends each daemon its abort.
func (a daemonAborts) send(out schedOut) {
	for k, c := range a {
		out.publish(wire.DaemonControlFrom(k[0], wire.SenderHub), c)
	}
}

// abortClient forgets the queued tasks of client and returns how many
// there were, and how many it had on engines (which the hub aborts
// through the daemons).
func (s *scheduler) abortClient(client string) (queued, running int) {
	s.mu.Lock()
	s.queue = slices.DeleteFunc(s.queue, func(t *lbTask) bool {
		if t.ref.Client == client {
			delete(s.tasks, t.ref)
			queued++
			return true
		}
		return false
	})
	for _, t := range s.tasks {
		if t.ref.Client == client {
			running++
			t.aborting = true // its daemon aborts it (OpAbortClient): given back, it does not run elsewhere
		}
	}
	s.mu.Unlock()
	return queued, running
}

// run dispatches queued tasks whenever something changes, checks for
// work to take back from busy engines while tasks are in flight, and
// releases memory once a large load drained and stayed so for
// releaseAfter.
func (s *scheduler) run() {
	tick := time.NewTicker(s.policy.Slow)
	defer tick.Stop()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	defer quiet.Stop()
	armed := false
	var allocs uint64 // heapAllocs when quiet was last set
	for {
		select {
		case <-s.stop:
			return
		case <-s.kick:
		case <-tick.C:
			if !s.active() {
				continue
			}
		case <-quiet.C:
			if now := heapAllocs(); now-allocs > releaseBusy {
				s.log.Debug("memory release put off: the process is busy", "allocated_mib", (now-allocs)>>20)
				allocs = now // wait until it is not
				quiet.Reset(releaseAfter)
				continue
			}
			armed = false
			s.release()
			continue
		}
		s.dispatch()
		s.steal()
		if !armed && s.drained() {
			allocs = heapAllocs()
			quiet.Reset(releaseAfter)
			armed = true
		}
	}
}

// drained reports whether no task is left after the scheduler held more
// than releaseAbove at once.
func (s *scheduler) drained() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks) == 0 && s.peak > releaseAbove
}

// release drops the task table and queue when they are still drained,
// and returns the freed memory to the system (a full collection of a heap
// that is now small).
func (s *scheduler) release() {
	s.mu.Lock()
	drained := len(s.tasks) == 0 && s.peak > releaseAbove
	if drained {
		s.tasks, s.queue, s.peak = make(map[wire.TaskRef]*lbTask), nil, 0
		s.batches = nil // release runs on run's goroutine, as dispatch does
	}
	s.mu.Unlock()
	if drained {
		// Two collections: objects in sync.Pools (NATS's buffers, the
		// codec's encoders) survive the first in the pools' victim caches.
		runtime.GC()
		debug.FreeOSMemory()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		s.log.Debug("task table released", "heap_inuse_kib", m.HeapInuse>>10, "stack_kib", m.StackInuse>>10,
			"mspan_kib", m.MSpanInuse>>10, "gc_sys_kib", m.GCSys>>10, "other_sys_kib", m.OtherSys>>10,
			"heap_released_kib", m.HeapReleased>>10, "heap_idle_kib", m.HeapIdle>>10, "sys_kib", m.Sys>>10)
	}
}

// active reports whether any task is queued or in flight.
func (s *scheduler) active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tasks) > 0
}

// view returns the engines as sched sees them, rotated; s.mu must be held.
func (s *scheduler) view() []sched.Engine {
	out := make([]sched.Engine, 0, len(s.order))
	if len(s.order) > 1 {
		s.order = append(s.order[1:], s.order[0])
	}
	now := time.Now()
	for _, id := range s.order {
		e := s.engines[id]
		if e.leaving {
			continue
		}
		out = append(out, sched.Engine{ID: id, InFlight: len(e.inflight), Oldest: e.progress,
			Asked: e.revoking || now.Sub(e.asked) < askEvery, Busy: e.busy})
	}
	return out
}

// dispatch sends every queued task that an engine should take now.
func (s *scheduler) dispatch() {
	now := time.Now()
	s.mu.Lock()
	engines := s.view()
	if s.batches == nil {
		s.batches = make(map[string]*batchBuilder)
	}
	batches := s.batches
	var impossible []*lbTask
	var skipped []*lbTask
	i := 0
	for ; i < len(s.queue) && len(engines) > 0; i++ {
		t := s.queue[i]
		st := sched.Task{Exclude: t.t.Exclude, Allowed: t.t.Allowed}
		if !sched.Possible(st, engines) {
			delete(s.tasks, t.ref)
			impossible = append(impossible, t)
			continue
		}
		k := sched.Pick(s.policy, st, engines, now)
		if k < 0 {
			if st.Exclude == nil && st.Allowed == nil {
				break // no engine takes anything now
			}
			skipped = append(skipped, t)
			continue
		}
		e := s.engines[engines[k].ID]
		if len(e.inflight) == 0 {
			e.progress = now
			engines[k].Oldest = now
		}
		engines[k].InFlight++
		t.engine = e.id
		e.inflight = append(e.inflight, t)
		b := batches[e.daemon]
		if b == nil {
			b = &batchBuilder{}
			batches[e.daemon] = b
		}
		b.add(t.t, t.bundle, e.id)
	}
	if len(skipped) == 0 {
		s.queue = s.queue[i:]
	} else {
		s.queue = append(skipped, s.queue[i:]...)
	}
	s.mu.Unlock()
	for _, t := range impossible {
		s.failImpossible(t)
	}
	for d, b := range batches {
		if len(b.batch.Tasks) == 0 {
			delete(batches, d) // its daemon got nothing this time
			continue
		}
		s.out.sendData(wire.DaemonTasksFrom(d, wire.SenderHub), &b.batch)
		b.reset()
	}
}

func (s *scheduler) failImpossible(t *lbTask) {
	if t.t.Allowed != nil {
		s.fail(t, wire.StatusImpossible, wire.ImpossibleDependency, fmt.Sprintf(
			"the task must follow tasks that ran on engine(s) %v, and none of them is available any more", t.t.Allowed))
		return
	}
	s.fail(t, wire.StatusLost, wire.EngineError, fmt.Sprintf(
		"the task's engine(s) %v died and no other engine is left to retry it on", t.t.Exclude))
}

// steal takes unstarted tasks back from a busy engine when another is idle.
func (s *scheduler) steal() {
	s.mu.Lock()
	engines := s.view()
	k := sched.Steal(s.policy, len(s.queue), engines, time.Now())
	if k < 0 {
		s.mu.Unlock()
		return
	}
	e := s.engines[engines[k].ID]
	e.revoking, e.asked = true, time.Now()
	byClient := make(map[string][]uint64)
	for _, t := range e.inflight {
		byClient[t.ref.Client] = append(byClient[t.ref.Client], t.ref.ID)
	}
	s.mu.Unlock()
	s.spawn(func() { s.revoke(e, byClient) }) // steal runs in run, itself in wg: the count is > 0
}

// revoke asks e's daemon for unstarted tasks back and requeues them.
func (s *scheduler) revoke(e *lbEngine, byClient map[string][]uint64) {
	defer func() {
		s.mu.Lock()
		e.revoking = false
		s.mu.Unlock()
		s.wake()
	}()
	for client, ids := range byClient {
		r, err := s.out.ask(wire.DaemonControlFrom(e.daemon, wire.SenderHub),
			&wire.Control{Op: wire.OpRevoke, Client: client, Tasks: ids, Engines: []int{e.id}}, 2*time.Second)
		if err != nil {
			s.log.Debug("revoke tasks", "engine", e.id, "err", err)
			continue
		}
		s.requeue(e, client, r.Revoked)
	}
}

// requeue puts revoked tasks back at the front of the queue, in order.
// One whose abort went to the daemon after it was given back is aborted
// here: the daemon did not find it.
func (s *scheduler) requeue(e *lbEngine, client string, ids []uint64) {
	s.mu.Lock()
	var back, aborted []*lbTask
	for _, id := range ids {
		t := s.tasks[wire.TaskRef{Client: client, ID: id}]
		if t == nil || t.engine != e.id {
			continue
		}
		t.engine = -1
		if i := slices.Index(e.inflight, t); i >= 0 {
			e.inflight = slices.Delete(e.inflight, i, i+1)
		}
		if t.aborting {
			delete(s.tasks, t.ref)
			aborted = append(aborted, t)
			continue
		}
		back = append(back, t)
	}
	s.queue = append(back, s.queue...)
	s.mu.Unlock()
	for _, t := range aborted {
		s.fail(t, wire.StatusAborted, wire.TaskAborted, "aborted before it started")
	}
}

// batchBuilder gathers tasks for one daemon, sharing bundles.
type batchBuilder struct {
	batch   wire.Batch
	bundles map[*byte]int
	targets []int // the tasks' Targets, each one engine
}

func (b *batchBuilder) add(t wire.Task, bundle []byte, engine int) {
	b.targets = append(b.targets, engine)
	n := len(b.targets)
	t.Targets = b.targets[n-1 : n : n]
	t.Bundle = 0
	if len(bundle) > 0 {
		if b.bundles == nil {
			b.bundles = make(map[*byte]int)
		}
		k := &bundle[0]
		if b.bundles[k] == 0 {
			b.batch.Bundles = append(b.batch.Bundles, bundle)
			b.bundles[k] = len(b.batch.Bundles)
		}
		t.Bundle = b.bundles[k]
	}
	b.batch.Tasks = append(b.batch.Tasks, t)
}

// reset empties b once its batch was sent, keeping its memory for the
// next one, but no reference to the tasks' payloads and bundles.
func (b *batchBuilder) reset() {
	clear(b.batch.Tasks)
	clear(b.batch.Bundles)
	clear(b.bundles)
	b.batch.Tasks, b.batch.Bundles, b.targets = b.batch.Tasks[:0], b.batch.Bundles[:0], b.targets[:0]
}
