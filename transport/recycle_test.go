package transport

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestRecycleCollects: once every bytes of parts arrived, a collection
// runs; the bytes counted start again from zero after it.
func TestRecycleCollects(t *testing.T) {
	r := &recycler{every: 64 << 20, collect: runtime.GC}
	before, _ := gcState()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.add(64 << 20) // a collection of the runtime's in between only restarts the count
		if cycles, _ := gcState(); cycles > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no collection within 10s of adding parts past the %d bytes", r.every)
		}
		time.Sleep(time.Millisecond)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		r.mu.Lock()
		running, bytes := r.running, r.bytes
		r.mu.Unlock()
		if !running && bytes == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recycler still running=%v with %d bytes counted 10s after its collection", running, bytes)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRecycleScanBound: a heap with more scannable bytes than the parts
// received is not collected for them: the collection would cost more
// than the fresh memory it saves.
func TestRecycleScanBound(t *testing.T) {
	ptrs := make([]*int, 8<<20) // 64 MiB of pointers to scan
	runtime.GC()
	_, scan := gcState()
	if scan < 64<<20 {
		t.Fatalf("scannable bytes %d after allocating 64 MiB of pointers", scan)
	}
	var calls atomic.Int32
	r := &recycler{every: 1 << 20, collect: func() { calls.Add(1) }}
	r.add(2 << 20)
	if n := calls.Load(); n != 0 {
		t.Errorf("after 2 MiB of parts with %d bytes to scan: %d collections, want none", scan, n)
	}
	for deadline := time.Now().Add(10 * time.Second); calls.Load() == 0; time.Sleep(time.Millisecond) {
		r.add(int(scan)) // as many bytes as the heap has to scan (again if the runtime collected meanwhile)
		if time.Now().After(deadline) {
			t.Fatalf("no collection within 10s of adding parts of %d bytes with %d bytes to scan", scan, scan)
		}
	}
	runtime.KeepAlive(ptrs)
}
