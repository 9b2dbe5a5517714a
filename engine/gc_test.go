package engine

import (
	"runtime/debug"
	"sync"
	"testing"
	"time"
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
