// This file defines Engine: one id, a namespace, a FIFO job queue and the
// worker that runs jobs one at a time.

package engine

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/engine/comm"
	"github.com/pirun-dev/pirun/starlib/num"
	"github.com/pirun-dev/pirun/starlib/random"
	"github.com/pirun-dev/pirun/starlib/ship"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// job is one task for one engine. Tasks naming several engines share
// their *wire.Task and bundle bytes; each engine decodes its own arguments.
type job struct {
	task   *wire.Task
	bundle []byte
}

// Engine is one engine of a Daemon. Its namespace and its running task's
// thread are touched only by its worker goroutine; the queue and the
// cancel hook are guarded by mu.
type Engine struct {
	ID int

	d       *Daemon
	ns      *starlark.Dict // the persistent namespace
	rand    *random.Source
	numRand *num.RandSource // num.random's stream, its own per engine
	limits  num.Limits      // of num's vectorised work, per task
	cache   *ship.Cache
	predecl starlark.StringDict // this engine's predeclared names
	value   *engineValue        // the `engine` module value
	started time.Time
	// threadName names the threads of its tasks (for debuggers; built
	// once, not per task).
	threadName string

	// The function of the last bundle the worker loaded, and a copy of
	// that bundle: the tasks of a map share one bundle, which then is
	// compared, not hashed again, for each.
	lastBundle []byte
	lastFn     *starlark.Function

	mu      sync.Mutex
	queue   []job
	wake    chan struct{} // signalled when queue grows
	running *wire.Task
	since   time.Time               // when the running task started
	cancel  context.CancelCauseFunc // cancels the running task
	// memStopped is the running task once max_memory stopped it.
	memStopped *wire.Task
	done       uint64
	nFailed    uint64 // of done, the tasks that did not succeed
	// recent holds the last wire.MaxDoneIDs finished tasks (by owner), oldest first,
	// for a verbose queue_status.
	recent []wire.TaskRef

	pulls pullable // what pull needs to send this engine's functions back (pull.go)
}

func newEngine(d *Daemon, id int) (*Engine, error) {
	e := &Engine{
		ID:      id,
		d:       d,
		ns:      new(starlark.Dict),
		rand:    random.NewSource(time.Now().UnixNano() ^ int64(id)<<32),
		numRand: num.NewRandSource(time.Now().UnixNano() ^ int64(id)<<32 ^ numSeedMix),
		limits:  num.Limits{MaxArrayBytes: d.arrayLimit(), MaxSteps: d.cfg.MaxSteps},
		cache:   ship.NewCache(256),
		wake:    make(chan struct{}, 1),
		started: time.Now(),
	}
	e.value = &engineValue{e: e}
	// Arrays no running task answers for (see num.BindThread) still get
	// this process's engines' array limit.
	num.SetDefaultMaxArrayBytes(e.limits.MaxArrayBytes)
	e.threadName = "engine " + strconv.Itoa(id)
	var err error
	e.predecl, err = d.predeclared(e)
	return e, err
}

// numSeedMix keeps an engine's num.random stream apart from its random
// stream, which is seeded from the same clock reading.
const numSeedMix = 0x5bd1e9955bd1e995

// arrayLimit returns the MaxArrayBytes of d's engines: the configured one,
// else half of the machine's memory divided among its engines (1 GiB each
// where the memory cannot be read), and at least 64 MiB, but never more
// than their max_memory (an array larger than that would only stop its
// task with a MemoryError, after allocating it).
func (d *Daemon) arrayLimit() int64 {
	if d.cfg.MaxArrayBytes > 0 {
		return d.cfg.MaxArrayBytes
	}
	limit := int64(1 << 30)
	if total := num.MachineMemory(); total > 0 {
		limit = max(total/2/int64(max(d.cfg.Engines, 1)), 64<<20)
	}
	if m := d.memoryLimit(); m > 0 {
		limit = min(limit, m)
	}
	return limit
}

// enqueue appends a job and wakes the worker.
func (e *Engine) enqueue(j job) {
	e.mu.Lock()
	e.queue = append(e.queue, j)
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// next blocks until a job is queued or ctx is done, and marks it running.
func (e *Engine) next(ctx context.Context) (job, context.Context, bool) {
	for {
		e.mu.Lock()
		if len(e.queue) > 0 && ctx.Err() == nil {
			j := e.queue[0]
			e.queue[0] = job{}
			e.queue = e.queue[1:]
			e.running, e.since = j.task, time.Now()
			e.d.running.Add(1)
			tctx, cancel := context.WithCancelCause(ctx)
			e.cancel = cancel
			e.mu.Unlock()
			return j, tctx, true
		}
		e.mu.Unlock()
		select {
		case <-e.wake:
		case <-ctx.Done():
			return job{}, nil, false
		}
	}
}

// finish clears the running task, which ended with status.
func (e *Engine) finish(status wire.Status) {
	e.mu.Lock()
	e.cancel(nil)
	if e.running != nil {
		if len(e.recent) == wire.MaxDoneIDs {
			e.recent = append(e.recent[:0], e.recent[1:]...)
		}
		e.recent = append(e.recent, wire.TaskRef{Client: e.running.OwnerID(), ID: e.running.ID})
	}
	e.running, e.cancel, e.memStopped = nil, nil, nil
	e.d.running.Add(-1)
	e.done++
	if status != wire.StatusOK {
		e.nFailed++
	}
	e.mu.Unlock()
}

// work runs jobs until ctx is done.
func (e *Engine) work(ctx context.Context) {
	for {
		j, tctx, ok := e.next(ctx)
		if !ok {
			e.drain()
			return
		}
		res, value := e.run(tctx, j)
		// Shut down under it, a load-balanced task is the hub's
		// scheduler's to retry or fail.
		lost := j.task.Balanced && res.Status == wire.StatusLost
		var it outItem
		if !lost {
			it = e.d.pub.keep(j.task, res, value) // remembered before the engine lets go of it
		}
		e.finish(res.Status)
		if res.Err != nil && res.Err.Type == wire.MemoryError {
			freeMemory()
		}
		if !lost {
			e.d.pub.queue(it)
		}
	}
}

// drain fails every queued job: the engine is stopping.
func (e *Engine) drain() {
	e.mu.Lock()
	q := e.queue
	e.queue = nil
	e.mu.Unlock()
	for _, j := range q {
		if j.task.Balanced {
			continue // the hub's scheduler runs it elsewhere or fails it
		}
		e.d.pub.result(j.task, e.failed(j.task, wire.StatusLost, wire.EngineError, "the engine was shut down before the task started"))
	}
}

// errAborted is the cancellation cause of an aborted task.
var errAborted = comm.ErrAborted

// errShutdown is the cancellation cause of tasks of an engine shut down.
var errShutdown = comm.ErrShutdown

// abort removes the client's queued tasks among ids and cancels the
// running one if it is among them, when by ("" for the hub) owns them;
// it returns the removed ones, for the caller to report aborted. In found
// it notes each task id of client it has: true when it was by's to abort,
// false when it is another client's detached job, which it leaves alone.
// all reports whether it had every task of ids.
func (e *Engine) abort(client, by string, ids []uint64, found map[uint64]bool) (all bool, removed []*wire.Task) {
	mine := func(t *wire.Task) bool { return by == "" || t.OwnerID() == by }
	n := 0
	note := func(t *wire.Task) {
		if t != nil && t.Client == client && slices.Contains(ids, t.ID) {
			found[t.ID] = found[t.ID] || mine(t)
			n++
		}
	}
	e.mu.Lock()
	for _, j := range e.queue {
		note(j.task)
	}
	note(e.running)
	e.mu.Unlock()
	removed, _ = e.removeWhere(func(t *wire.Task) bool { return t.Client == client && mine(t) && slices.Contains(ids, t.ID) })
	return n >= len(ids), removed
}

// holds sets ids[id] for the ids among its keys of client's tasks, sent
// by by, that are queued or running on e.
func (e *Engine) holds(client, by string, ids map[uint64]bool) {
	note := func(t *wire.Task) {
		if t == nil || t.Client != client || t.OwnerID() != by {
			return
		}
		if _, ok := ids[t.ID]; ok {
			ids[t.ID] = true
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range e.queue {
		note(j.task)
	}
	note(e.running)
}

// abortWhere aborts the queued and running tasks that match, and returns
// them.
func (e *Engine) abortWhere(match func(t *wire.Task) bool) []wire.TaskRef {
	removed, found := e.removeWhere(match)
	for _, t := range removed {
		e.d.pub.result(t, e.failed(t, wire.StatusAborted, wire.TaskAborted, "aborted before it started"))
	}
	return found
}

// removeWhere removes the queued tasks that match and cancels the running
// one if it matches (its worker reports it); it returns the removed ones,
// which the caller reports, and the refs of all of them.
func (e *Engine) removeWhere(match func(t *wire.Task) bool) (removed []*wire.Task, found []wire.TaskRef) {
	e.mu.Lock()
	e.queue = slices.DeleteFunc(e.queue, func(j job) bool {
		if match(j.task) {
			removed = append(removed, j.task)
			return true
		}
		return false
	})
	for _, t := range removed {
		found = append(found, wire.TaskRef{Client: t.Client, ID: t.ID})
	}
	if e.running != nil && match(e.running) {
		e.cancel(errAborted)
		found = append(found, wire.TaskRef{Client: e.running.Client, ID: e.running.ID})
	}
	e.mu.Unlock()
	return removed, found
}

// abortClient aborts every task of client, queued or running: its
// connection closed without a goodbye (SPEC §15).
func (e *Engine) abortClient(client string) {
	e.mu.Lock()
	var removed []*wire.Task
	e.queue = slices.DeleteFunc(e.queue, func(j job) bool {
		if j.task.Client == client {
			removed = append(removed, j.task)
			return true
		}
		return false
	})
	if e.running != nil && e.running.Client == client {
		e.cancel(errAborted)
	}
	e.mu.Unlock()
	for _, t := range removed {
		e.d.pub.result(t, e.failed(t, wire.StatusAborted, wire.TaskAborted, "aborted: its client's connection closed"))
	}
}

// revoke removes queued load-balanced tasks among refs that have not
// started and returns them, so the scheduler can run them elsewhere.
func (e *Engine) revoke(client string, ids []uint64) []uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	var got []uint64
	e.queue = slices.DeleteFunc(e.queue, func(j job) bool {
		if j.task.Client == client && slices.Contains(ids, j.task.ID) {
			got = append(got, j.task.ID)
			return true
		}
		return false
	})
	return got
}

// stat reports the engine's counters.
func (e *Engine) stat() wire.EngineStat {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := wire.EngineStat{ID: e.ID, State: wire.StateIdle, Queue: len(e.queue), Done: e.done,
		Failed: e.nFailed, Uptime: int64(time.Since(e.started))}
	if e.running != nil {
		s.State = wire.StateBusy
		s.Task = e.running.Label
		s.TaskFor = int64(max(time.Since(e.since), 1)) // never 0, which the wire leaves out
	}
	return s
}

// statOf is stat with the task ids of client's tasks (its detached jobs
// too): waiting, running and recently finished (a verbose queue_status).
func (e *Engine) statOf(client string) wire.EngineStat {
	s := e.stat()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, j := range e.queue {
		if j.task != nil && j.task.OwnerID() == client {
			s.QueueIDs = append(s.QueueIDs, j.task.ID)
		}
	}
	if e.running != nil && e.running.OwnerID() == client {
		s.TaskIDs = []uint64{e.running.ID}
	}
	for _, r := range e.recent {
		if r.Client == client {
			s.DoneIDs = append(s.DoneIDs, r.ID)
		}
	}
	return s
}

// failed builds a result for a task that did not run to completion.
func (e *Engine) failed(t *wire.Task, status wire.Status, typ wire.ErrorKind, msg string) wire.Result {
	now := time.Now().UnixNano()
	return wire.Result{Task: t.ID, Engine: e.ID, Status: status, Host: e.d.host,
		Attempt: t.Attempt, Started: now, Finished: now,
		Err: &wire.Error{Type: typ, Message: msg}}
}
