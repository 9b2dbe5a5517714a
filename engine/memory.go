// This file defines max_memory: a watchdog that reads the Go heap while
// tasks run and stops them with a MemoryError when the process's engines
// pass their budget, before the kernel kills the process for lack of
// memory.
//
// Starlark has no allocation hook, and one expression allocates at once
// (`[0] * 100000000` makes a 1.6 GB list in one call), so the watchdog
// reads runtime/metrics every memoryEvery while a task runs (about 1 µs a
// read, so ~0.01% of a core). The heap counts an allocation as soon as it
// is made, before its pages are touched. When the heap passes the budget:
//
//   - past the collector's goal too, the heap outran the collector: an
//     allocation made since its last cycle is bigger than what garbage
//     pacing allows, so it is the running task's and the task is stopped;
//   - under the goal, the excess may be garbage (engines collect less
//     often while tasks run, gc.go): the watchdog collects (at most every
//     memoryGCEvery) and stops the tasks only if the live heap is still
//     past the budget.
//
// Go cannot tell which goroutine allocated, so when several tasks run in
// one process they are all stopped: the process as a whole passed what its
// engines may use. A stopped task fails at its next Starlark step; an
// allocation in progress finishes first, so a single allocation larger
// than the machine's free memory can still end the process.

package engine

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/starlib/num"
)

// memoryEvery is how often the watchdog reads the heap while tasks run.
const memoryEvery = 10 * time.Millisecond

// memoryGCEvery bounds how often the watchdog collects to tell garbage
// from live data.
const memoryGCEvery = 200 * time.Millisecond

// memoryReserve is the machine's memory kept out of the default budget
// (the system, the pirun process itself).
const memoryReserve = 256 << 20

// MemoryError is the cancellation cause of tasks stopped because the
// heap of their process passed its engines' max_memory.
type MemoryError struct {
	Heap    int64 // the heap when the tasks were stopped, in bytes
	Limit   int64 // max_memory of one engine, in bytes
	Engines int   // the engines of the process, which share Limit × Engines
}

func (e *MemoryError) Error() string {
	share := ""
	if e.Engines > 1 {
		share = fmt.Sprintf("; the process's %d engines may use %s together", e.Engines, conf.Size(e.Limit*int64(e.Engines)))
	}
	return fmt.Sprintf("the task used more memory than its engine may: the heap reached %d MiB against max_memory %s per engine%s. "+
		"The task was stopped and the engine stays usable; use less memory (a num array takes 8 bytes per number, a list 16 or more), "+
		"or raise max_memory in the engine's [engine] table (pirun.toml)",
		e.Heap>>20, conf.Size(e.Limit), share)
}

// memoryLimit returns max_memory of d's engines: the configured one, else
// (RAM × 0.8 − memoryReserve) divided among its engines, at least 64 MiB;
// 0 (no limit) where the machine's memory cannot be read.
func (d *Daemon) memoryLimit() int64 {
	if d.cfg.MaxMemory > 0 {
		return d.cfg.MaxMemory
	}
	total := num.MachineMemory()
	if total <= 0 {
		return 0
	}
	return max((total*8/10-memoryReserve)/int64(max(d.cfg.Engines, 1)), 64<<20)
}

// memWatch is the state of a daemon's memory checks. Its methods are
// safe for concurrent use.
type memWatch struct {
	limit   int64  // max_memory of one engine; 0 = none
	engines int    // of the process
	budget  uint64 // limit × engines

	mu        sync.Mutex // held while collecting, so that one check waits for another's
	collected time.Time  // when a check last collected
	live      uint64     // the live heap then
}

func newMemWatch(limit int64, engines int) *memWatch {
	return &memWatch{limit: limit, engines: engines, budget: uint64(max(limit, 0)) * uint64(engines)}
}

// over returns a MemoryError when the heap is past the budget and that is
// not garbage, else nil. It collects to tell (at most every
// memoryGCEvery) only when the collector's goal is past the budget too.
func (m *memWatch) over() *MemoryError {
	if m.limit <= 0 {
		return nil
	}
	samples := [...]metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	metrics.Read(samples[:])
	heap, goal := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	if heap <= m.budget {
		return nil
	}
	if heap <= goal {
		if heap = m.liveHeap(); heap <= m.budget {
			return nil
		}
	}
	return &MemoryError{Heap: int64(heap), Limit: m.limit, Engines: m.engines}
}

// liveHeap collects and returns the live heap, or returns the one a
// collection found less than memoryGCEvery ago.
func (m *memWatch) liveHeap() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.collected) >= memoryGCEvery {
		runtime.GC()
		live := [...]metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		metrics.Read(live[:])
		m.live, m.collected = live[0].Value.Uint64(), time.Now()
	}
	return m.live
}

// watchMemory stops the running tasks when the heap passes the budget of
// d's engines, until ctx is done. It does nothing without a limit.
func (d *Daemon) watchMemory(ctx context.Context) {
	if d.mem.limit <= 0 {
		return
	}
	t := time.NewTicker(memoryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if d.running.Load() == 0 {
			continue
		}
		if me := d.mem.over(); me != nil {
			d.stopForMemory(me)
		}
	}
}

// memoryError returns the MemoryError that stopped the task of thread's
// context, or the one its heap makes now, or nil. A task checks before it
// keeps values in its engine's namespace, and when it ends: a watchdog
// stalled with the whole process by one large allocation (the Go runtime
// waits for it to stop the world) may not have run in between.
func (d *Daemon) memoryError(ctx context.Context) error {
	var me *MemoryError
	if errors.As(context.Cause(ctx), &me) {
		return me
	}
	if me = d.mem.over(); me != nil {
		return me
	}
	return nil
}

// stopForMemory cancels every running task with cause.
func (d *Daemon) stopForMemory(cause *MemoryError) {
	d.mu.Lock()
	engines := make([]*Engine, 0, len(d.engines))
	for _, e := range d.engines {
		engines = append(engines, e)
	}
	d.mu.Unlock()
	for _, e := range engines {
		e.mu.Lock()
		if e.running != nil && e.cancel != nil && e.memStopped != e.running {
			e.memStopped = e.running
			d.log.Warn("stop a task: max_memory", "engine", e.ID, "task", e.running.Label, "heap_mib", cause.Heap>>20)
			e.cancel(cause)
		}
		e.mu.Unlock()
	}
}

// freeMemory returns the memory of a task stopped for using too much to
// the system at once, rather than over the next minutes.
func freeMemory() { debug.FreeOSMemory() }
