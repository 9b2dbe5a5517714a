package transport

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// blockingCollect returns a collect for a recycler that counts its calls
// and returns only once release is closed, so that the test sees the
// recycler's state while its collection runs.
func blockingCollect(calls *atomic.Int32, release <-chan struct{}) func() {
	return func() {
		calls.Add(1)
		<-release
		runtime.GC()
	}
}

// state reads what the recycler counted and whether its collection runs.
func (r *recycler) state() (running bool, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running, r.bytes
}

// TestRecycleCollects: once every bytes of parts arrived, a collection
// starts (add marks it running before it returns); no second one starts
// while it runs; the bytes counted start again from zero after it.
func TestRecycleCollects(t *testing.T) {
	var calls atomic.Int32
	release := make(chan struct{})
	r := &recycler{every: 64 << 20, collect: blockingCollect(&calls, release)}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		r.add(64 << 20) // a collection of the runtime's in between only restarts the count
		if running, _ := r.state(); running {
			break
		}
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("no collection started within 10s of adding parts past the %d bytes", r.every)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); calls.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			close(release)
			t.Fatal("the recycler is marked running but its collect was not called within 10s")
		}
	}
	for range 4 {
		r.add(64 << 20)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d collections started while the first one ran, want 1", n)
	}
	close(release)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		running, bytes := r.state()
		if !running && bytes == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recycler still running=%v with %d bytes counted 10s after its collection", running, bytes)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d collections, want 1", n)
	}
}

// TestRecycleScanBound: a heap with more scannable bytes than the parts
// received is not collected for them: the collection would cost more
// than the fresh memory it saves; parts of as many bytes as the heap
// scans are.
func TestRecycleScanBound(t *testing.T) {
	ptrs := make([]*int, 8<<20) // 64 MiB of pointers to scan
	runtime.GC()
	_, scan := gcState()
	if scan < 64<<20 {
		t.Fatalf("scannable bytes %d after allocating 64 MiB of pointers", scan)
	}
	var calls atomic.Int32
	release := make(chan struct{})
	defer close(release)
	collect := blockingCollect(&calls, release)
	var r *recycler
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		r = &recycler{every: 1 << 20, collect: collect}
		r.add(2 << 20)
		running, bytes := r.state()
		if running {
			t.Fatalf("after 2 MiB of parts with %d bytes to scan: a collection started, want none", scan)
		}
		if bytes == 2<<20 { // counted, not reset by a collection of the runtime's
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the runtime collected at every try for 10s: bytes counted %d, want %d", bytes, 2<<20)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		r.add(int(scan)) // as many bytes as the heap has to scan (again if the runtime collected meanwhile)
		if running, _ := r.state(); running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no collection within 10s of adding parts of %d bytes with %d bytes to scan", scan, scan)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); calls.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the recycler is marked running but its collect was not called within 10s")
		}
	}
	runtime.KeepAlive(ptrs)
}
