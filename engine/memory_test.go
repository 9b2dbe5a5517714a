package engine

import (
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestMaxMemoryStopsTheTask runs the two runaway allocations of issue 14
// under a 24 MiB max_memory: one big list at once, and a list doubled
// until it passes the limit. Each fails with a MemoryError naming the
// limit and how to raise it, and the engine runs the next task.
func TestMaxMemoryStopsTheTask(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1, MaxMemory: 24 << 20})
	for _, code := range []string{
		"x = [0] * 2000000",                            // 32 MB in one allocation
		"x = [0]\nfor _ in range(40):\n    x = x + x",  // doubling
		"s = 'ab'\nfor _ in range(40):\n    s = s + s", // strings too
	} {
		start := time.Now()
		h.send(t, d, execute(code))
		r := h.result(t)
		t.Logf("%q: %v after %v: %s", code, r.Err.Type, time.Since(start).Round(time.Millisecond), r.Err.Message)
		if r.Status != wire.StatusError || r.Err == nil || r.Err.Type != wire.MemoryError {
			t.Fatalf("%q: status %d, err %+v; want a MemoryError", code, r.Status, r.Err)
		}
		for _, want := range []string{"max_memory 24MiB", "[engine]", "stays usable"} {
			if !strings.Contains(r.Err.Message, want) {
				t.Errorf("%q: MemoryError %q does not say %q", code, r.Err.Message, want)
			}
		}
		h.send(t, d, execute("ok = len([1] * 1000)"))
		if r := h.result(t); r.Status != wire.StatusOK {
			t.Fatalf("the task after %q: %+v", code, r.Err)
		}
	}
}

// TestMaxMemoryLetsGarbageBe checks that a task churning through much
// more garbage than its limit, with little alive at once, is not stopped.
func TestMaxMemoryLetsGarbageBe(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1, MaxMemory: 64 << 20})
	h.send(t, d, execute("n = 0\nfor i in range(200):\n    x = [i] * 50000\n    n += len(x)")) // 160 MB allocated, 0.8 MB alive
	if r := h.result(t); r.Status != wire.StatusOK {
		t.Fatalf("a task allocating 2.5× its limit in garbage: %+v", r.Err)
	}
}

// BenchmarkMemoryRead measures one read of the heap figures the watchdog
// makes every memoryEvery while tasks run.
func BenchmarkMemoryRead(b *testing.B) {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/gc/heap/goal:bytes"}}
	for b.Loop() {
		metrics.Read(samples)
	}
}
