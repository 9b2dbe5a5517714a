// This file defines how engines set the Go garbage collector while tasks
// run: pure Starlark allocates a boxed value for nearly every float and
// every int past 2³¹ and keeps little alive, so the collector, paced by a
// small live heap, runs cycle after cycle; collecting less often while a
// task runs, and as usual when the engines are idle, trades memory the
// task was about to churn through anyway for 10–15% less time on
// allocation-heavy loops.

package engine

import (
	"os"
	"runtime/debug"
	"sync"
	"time"
)

// taskGCPercent is GOGC while at least one task runs in the process.
// GOMEMLIMIT (pirun sets it to half the machine's memory) still bounds the
// heap, so a task with a large live heap is collected in time.
const taskGCPercent = 400

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
	timer   *time.Timer // restores GOGC after idle; nil until first needed
}

// busyGC is the process's taskGC.
var busyGC = &taskGC{percent: taskGCPercent, idle: taskGCIdle, fixed: os.Getenv("GOGC") != ""}

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
	if g.running > 0 || !g.raised {
		return
	}
	if g.timer == nil {
		g.timer = time.AfterFunc(g.idle, g.restore)
	} else {
		g.timer.Reset(g.idle)
	}
}

// restore puts GOGC back if no task runs.
func (g *taskGC) restore() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running == 0 && g.raised {
		debug.SetGCPercent(g.prev)
		g.raised = false
	}
}
