// This file defines recycle: a garbage collection started as the parts of
// large messages arrive, so that the memory NATS took for earlier parts
// (the server's and the client's per-message buffers, garbage as soon as
// a part is forwarded or joined) is reused by the next parts instead of
// the heap growing into fresh pages.

package transport

import (
	"runtime"
	"runtime/metrics"
	"sync"
)

// recycleEvery is how many bytes of parts arrive, at least, between the
// collections that recycle starts: on the project's VM a fresh 4 KiB
// page costs ~12 µs to fault in, so 16 MiB of parts written into fresh
// memory cost ~50 ms, against a few ms to collect a heap of pointer-free
// arrays.
const recycleEvery = 16 << 20

// recycler starts a collection once every bytes of parts arrived since
// the last collection (its own or the runtime's), and at least as many
// bytes as the heap has scannable: marking costs about as much per
// scannable byte as faulting in a received one, so a process with a large
// heap of pointers (a client holding a big Starlark list) collects less
// often. It is safe for concurrent use.
type recycler struct {
	every   int64
	collect func() // runtime.GC; tests count calls

	mu      sync.Mutex
	bytes   int64  // part bytes counted since cycles
	cycles  uint64 // the runtime's collections when counting began
	running bool   // a collection this recycler started is running (parts are not counted meanwhile)
}

// collector is the process's recycler: all of its Assemblers share one
// heap.
var collector = &recycler{every: recycleEvery, collect: runtime.GC}

// recycle notes that n bytes of a large message's parts arrived.
func recycle(n int) { collector.add(n) }

func (r *recycler) add(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.running {
		return
	}
	if r.bytes == 0 {
		r.cycles, _ = gcState()
	}
	if r.bytes += int64(n); r.bytes < r.every {
		return
	}
	cycles, scan := gcState()
	if cycles != r.cycles { // the runtime collected meanwhile: count from there
		r.bytes = 0
		return
	}
	if r.bytes < int64(scan) {
		return
	}
	r.running = true
	go func() {
		r.collect()
		r.mu.Lock()
		r.running, r.bytes = false, 0
		r.mu.Unlock()
	}()
}

// gcState returns the runtime's completed collections and its scannable
// bytes (heap, stacks and globals).
func gcState() (cycles, scan uint64) {
	s := [...]metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/scan/total:bytes"}}
	metrics.Read(s[:])
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}
