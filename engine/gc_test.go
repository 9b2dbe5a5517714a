package engine

import (
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib/num"
)

// gcPercent returns GOGC without changing it for long.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// waitGCPercent polls GOGC until it is want, and fails after a deadline.
func waitGCPercent(t *testing.T, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for gcPercent() != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %s = %d, want %d within 5s", what, gcPercent(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestTaskGCRaisesWhileTasksRun(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	g := &taskGC{percent: 400, idle: time.Hour} // the test calls restore itself
	end1 := g.begin()
	if got := gcPercent(); got != 400 {
		t.Errorf("GOGC with one task running = %d, want 400", got)
	}
	end2 := g.begin()
	end1()
	g.restore() // a timer armed earlier fires while a task runs
	if got := gcPercent(); got != 400 {
		t.Errorf("GOGC with the second task still running = %d, want 400", got)
	}
	end2()
	g.restore()
	if got := gcPercent(); got != 150 {
		t.Errorf("GOGC once idle = %d, want 150 (as before)", got)
	}
}

func TestTaskGCTimerRestores(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	g := &taskGC{percent: 400, idle: time.Millisecond}
	g.begin()()
	waitGCPercent(t, 150, "after the last task")
	g.begin()()
	waitGCPercent(t, 150, "after a second round")
}

func TestTaskGCWaitsForIdle(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	g := &taskGC{percent: 400, idle: time.Hour}
	g.begin()()
	g.begin()()
	if got := gcPercent(); got != 400 {
		t.Errorf("GOGC between tasks, before the idle time = %d, want 400", got)
	}
	g.restore() // what the timer does after an hour
	if got := gcPercent(); got != 150 {
		t.Errorf("GOGC after the idle time = %d, want 150", got)
	}
}

func TestTaskGCLeavesHigherOrFixed(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, test := range []struct {
		before int
		fixed  bool
	}{
		{800, false}, // already collecting less often
		{-1, false},  // off
		{100, true},  // GOGC set in the environment
	} {
		debug.SetGCPercent(test.before)
		g := &taskGC{percent: 400, idle: time.Millisecond, fixed: test.fixed}
		end := g.begin()
		during := gcPercent()
		end()
		g.restore()
		if after := gcPercent(); during != test.before || after != test.before {
			t.Errorf("GOGC %d (fixed %v): during a task %d, after %d; want %d both", test.before, test.fixed, during, after, test.before)
		}
	}
}

func TestTaskGCConcurrent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(120))
	g := &taskGC{percent: 400, idle: time.Millisecond}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				g.begin()()
			}
		})
	}
	wg.Wait()
	waitGCPercent(t, 120, "after 800 overlapping tasks")
}

func TestTaskGCBigArrays(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	g := &taskGC{percent: 400, idle: time.Hour}
	g.bigArrays() // no task runs: nothing to lower
	if got := gcPercent(); got != 150 {
		t.Errorf("GOGC after a big array with no task = %d, want 150", got)
	}
	end := g.begin()
	g.bigArrays()
	if got := gcPercent(); got != bigGCPercent {
		t.Errorf("GOGC after a task's big array = %d, want %d", got, bigGCPercent)
	}
	end()
	g.begin()() // a task soon after: still collecting as for big arrays
	if got := gcPercent(); got != bigGCPercent {
		t.Errorf("GOGC for the next task before idle = %d, want %d", got, bigGCPercent)
	}
	g.restore()
	if got := gcPercent(); got != 150 {
		t.Errorf("GOGC once idle = %d, want 150", got)
	}
	end = g.begin()
	if got := gcPercent(); got != 400 {
		t.Errorf("GOGC for a task after idle = %d, want 400 (big arrays forgotten)", got)
	}
	end()
	g.restore()

	debug.SetGCPercent(30) // the process collects more often already: kept
	end = g.begin()
	g.bigArrays()
	if got := gcPercent(); got != 30 {
		t.Errorf("GOGC 30 before, after a task's big array = %d, want 30", got)
	}
	end()
	g.restore()
}

func TestBigArrayHookLowersGC(t *testing.T) {
	defer func(fixed bool) { busyGC.fixed = fixed }(busyGC.fixed)
	busyGC.fixed = false // as if GOGC were not set in the environment
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	end := busyGC.begin()
	defer busyGC.restore()
	defer end()
	if _, err := starlark.ExecFileOptions(&syntax.FileOptions{}, &starlark.Thread{}, "big.star", "x = num.zeros(200000)",
		starlark.StringDict{"num": num.Module}); err != nil {
		t.Fatal(err)
	}
	if got := gcPercent(); got != bigGCPercent {
		t.Errorf("GOGC after num.zeros(200000) in a task = %d, want %d", got, bigGCPercent)
	}
}
