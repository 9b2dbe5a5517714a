// This file defines how arrays get their memory: large outputs that every
// element of is written before anyone sees them skip the clearing pass
// (on memory the heap reuses, clearing 8 MB is a pass as long as the
// operation's own), and a hook tells the engine when large arrays churn,
// so that it collects garbage often enough to reuse their memory rather
// than grow the heap (see engine/gc.go).

package num

import (
	"strings"
	"sync/atomic"
	"unsafe"
)

// bigArrayBytes is the size from which an array counts as big: its
// allocation calls the hook set by SetBigArrayHook, and may skip clearing.
const bigArrayBytes = 1 << 20

// bigArrayHook is called on each allocation of a big array.
var bigArrayHook atomic.Pointer[func()]

// SetBigArrayHook makes f be called whenever num allocates an array of at
// least 1 MiB (nil: nothing is called). f must be cheap and safe for
// concurrent use: it runs on the allocating goroutine, from any thread.
// An engine uses it to collect garbage more often while large arrays
// churn: each collection costs little with a heap of pointer-free arrays,
// where each megabyte the heap grows by is memory the system must hand out
// afresh (~5 ms per MB on a loaded VM).
func SetBigArrayHook(f func()) {
	if f == nil {
		bigArrayHook.Store(nil)
		return
	}
	bigArrayHook.Store(&f)
}

// noteBig calls the big-array hook if bytes is big.
func noteBig(bytes int) {
	if bytes >= bigArrayBytes {
		if f := bigArrayHook.Load(); f != nil {
			(*f)()
		}
	}
}

// uninitBytes returns n bytes of new memory that is not cleared first
// when it is big (strings.Builder.Grow allocates so), or cleared memory
// when it is small; it is 8-byte aligned (the heap's size classes are
// multiples of 8, and big objects start on a page). The caller must write
// every byte before any is read.
func uninitBytes(n int) []byte {
	if n < bigArrayBytes {
		return make([]byte, n)
	}
	var sb strings.Builder
	sb.Grow(n)
	p := unsafe.StringData(sb.String()) // the builder's buffer, of capacity ≥ n
	b := unsafe.Slice(p, n)             // sb is dropped: the bytes are ours
	if n >= hugeArrayBytes {
		adviseHuge(b)
	}
	return b
}

// hugeArrayBytes is the size from which an array's memory is advised to
// be backed by huge pages (numpy's threshold is 4 MiB; the arrays of a
// 400×400 matmul are 1.25 MiB, and their huge pages cut a fresh process's
// faults from 3.9k to 2.3k, most of them its start).
const hugeArrayBytes = bigArrayBytes

// newBuffer returns the memory of n elements of dtype, cleared unless
// full (the caller writes every element before the array is seen).
func newBuffer(dtype DType, n int, full bool) *buffer {
	bytes := n * dtype.ItemSize()
	noteBig(bytes)
	buf := &buffer{}
	if bytes >= bigArrayBytes {
		b := uninitBytes(bytes)
		if !full {
			clear(b) // after the huge-page advice, so that it faults huge pages
		}
		switch dtype {
		case Float64:
			buf.f = unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(b))), n)
		case Int64:
			buf.i = unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(b))), n)
		case Bool:
			buf.b = unsafe.Slice((*bool)(unsafe.Pointer(unsafe.SliceData(b))), n)
		}
		return buf
	}
	switch dtype {
	case Float64:
		buf.f = make([]float64, n)
	case Int64:
		buf.i = make([]int64, n)
	case Bool:
		buf.b = make([]bool, n)
	}
	return buf
}

// Idle tells num that no task runs in the process for now: it withdraws
// the huge-page advice of the memory big arrays used (see
// hugepage_linux.go), so that memory the scavenger returns to the system
// stays returned. Arrays made later are advised again. An engine calls it
// when no task has run for a while. It is safe for concurrent use.
func Idle() { endHugePages() }
