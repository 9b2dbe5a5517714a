package engine

import (
	"runtime/debug"
	"sync"
	"testing"
)

// gcPercent returns GOGC without changing it for long.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestTaskGCRaisesWhileTasksRun(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(150))
	g := &taskGC{percent: 400}
	end1 := g.begin()
	if got := gcPercent(); got != 400 {
		t.Errorf("GOGC with one task running = %d, want 400", got)
	}
	end2 := g.begin()
	end1()
	if got := gcPercent(); got != 400 {
		t.Errorf("GOGC with the second task still running = %d, want 400", got)
	}
	end2()
	if got := gcPercent(); got != 150 {
		t.Errorf("GOGC after the last task = %d, want 150 (as before)", got)
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
		g := &taskGC{percent: 400, fixed: test.fixed}
		end := g.begin()
		during := gcPercent()
		end()
		if after := gcPercent(); during != test.before || after != test.before {
			t.Errorf("GOGC %d (fixed %v): during a task %d, after %d; want %d both", test.before, test.fixed, during, after, test.before)
		}
	}
}

func TestTaskGCConcurrent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(120))
	g := &taskGC{percent: 400}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				g.begin()()
			}
		})
	}
	wg.Wait()
	if got := gcPercent(); got != 120 {
		t.Errorf("GOGC after 800 overlapping tasks = %d, want 120", got)
	}
}
