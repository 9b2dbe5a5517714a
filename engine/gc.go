// This file defines how engines set the Go garbage collector while tasks
// run: pure Starlark allocates a boxed value for nearly every float and
// every int past 2³¹ and keeps little alive, so the collector, paced by a
// small live heap, runs cycle after cycle; collecting less often while a
// task runs, and as usual when the engines are idle, trades memory the
// task was about to churn through anyway for 10–15% less time on
// allocation-heavy loops. Large arrays (num's, of a megabyte or more)
// are the opposite case: a collection costs little with a heap of
// pointer-free arrays, while each megabyte the heap grows by is memory
// the system must hand out afresh (5–10 ms per MB on this project's
// loaded VM, against ~0.1 ms to rewrite a megabyte the heap reuses); so
// once a task allocates big arrays, GOGC drops to bigGCPercent until the
// engines are idle again.

package engine

import (
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pirun-dev/pirun/starlib/num"
)

// taskGCPercent is GOGC while at least one task runs in the process.
// GOMEMLIMIT (pirun sets it to half the machine's memory) still bounds the
// heap, so a task with a large live heap is collected in time.
const taskGCPercent = 400

// bigGCPercent is GOGC while tasks run that allocate big arrays: the
// heap peaks at 2× the arrays alive at once instead of 5×. A fresh
// `pirun -n 2` computing π over 2 × 10M samples in 1M chunks (~40 MB of
// arrays alive per engine) faults in ~180 MB instead of ~350 MB. At 50
// it faulted in ~160 MB, which paid before big arrays got huge pages
// (num's hugepage_linux.go); with them, 100 takes less time: 1.85 ->
// 1.33 s and 0.59 -> 0.50 CPU s, medians of 5 interleaved pairs at load
// 20.
const bigGCPercent = 100

// taskGCIdle is how long the process must run no task before GOGC is
// restored: a stream of short tasks then changes it once, not twice per
// task (a change takes the heap lock, ~0.5 µs).
const taskGCIdle = 100 * time.Millisecond

// taskGC raises GOGC to percent while at least one task runs in the
// process, and restores the previous value once none has run for idle. It
// leaves GOGC alone when the environment sets it (the user chose), or when
// it is already at least percent or off. Its methods are safe for
// concurrent use; every engine of a process shares one.
type taskGC struct {
	percent int
	idle    time.Duration
	fixed   bool // GOGC is set in the environment

	mu      sync.Mutex
	running int
	prev    int         // GOGC before it was raised
	raised  bool        // GOGC is percent because of tasks
	big     atomic.Bool // GOGC is at most bigGCPercent because of big arrays
	timer   *time.Timer // restores GOGC after idle; nil until first needed
}

// busyGC is the process's taskGC.
var busyGC = &taskGC{percent: taskGCPercent, idle: taskGCIdle, fixed: os.Getenv("GOGC") != ""}

func init() { num.SetBigArrayHook(busyGC.bigArrays) }

// begin notes that a task starts, and returns the function that notes its
// end; the usual call is defer busyGC.begin()().
func (g *taskGC) begin() (end func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running++
	if g.running == 1 && !g.fixed && !g.raised {
		g.prev = debug.SetGCPercent(g.percent)
		if g.raised = g.prev >= 0 && g.prev < g.percent; !g.raised {
			debug.SetGCPercent(g.prev) // already collecting as rarely, or off
		}
	}
	return g.end
}

// end notes that a task ended, and arms the restore when none runs.
func (g *taskGC) end() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	if g.running > 0 {
		return
	}
	if g.timer == nil {
		g.timer = time.AfterFunc(g.idle, g.restore)
	} else {
		g.timer.Reset(g.idle)
	}
}

// bigArrays notes that a big array was allocated: while tasks run with
// GOGC raised, it lowers GOGC to bigGCPercent (or the process's own value
// if that is lower) until the engines are idle. After the first call of a
// busy period it costs one atomic load.
func (g *taskGC) bigArrays() {
	if g.big.Load() {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running == 0 || !g.raised || g.big.Load() {
		return
	}
	debug.SetGCPercent(min(bigGCPercent, g.prev))
	g.big.Store(true)
}

// restore puts GOGC back if no task runs, and lets num release the memory
// it kept for the tasks' arrays (see num.Idle).
func (g *taskGC) restore() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running != 0 {
		return
	}
	num.Idle()
	if g.raised {
		debug.SetGCPercent(g.prev)
		g.raised = false
		g.big.Store(false)
	}
}
