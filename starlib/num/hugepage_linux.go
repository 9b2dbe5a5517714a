// This file defines how big arrays ask Linux for transparent huge pages,
// as numpy does for its allocations of 4 MiB or more: where THP is
// "madvise" (Debian's and Raspberry Pi OS's default), each 2 MiB of a
// fresh array then costs one page fault instead of 512. On this project's
// VM a 4 KiB fault costs ~20 µs: a fresh `pirun -n 2` computing the
// trapezoid of sin over 10M points faulted 60.7k times, and 2.6k with the
// advice.
//
// Go's heap, not the array, owns the memory, so the advice covers the
// huge pages the array overlaps, neighbours included (the advice changes
// no contents; memory not yet touched reads as zeros either way). While
// the advice stays, khugepaged may also collapse partly used huge pages of
// those ranges, holding on to memory the Go scavenger gave back; so the
// engine withdraws it (Idle) once tasks stop running.

package num

import (
	"os"
	"strings"
	"sync"
	"syscall"
	"unsafe"
)

// hugePageBytes is the size of a transparent huge page on the platforms
// pirun runs on (amd64, arm64 with 4 KiB pages, arm with LPAE). Go's heap
// arenas are multiples of it, so a range rounded out to it stays inside
// the arena that holds the array.
const hugePageBytes = 2 << 20

// Linux's MADV_HUGEPAGE and MADV_NOHUGEPAGE (the same on every
// architecture).
const (
	madvHugepage   = 14
	madvNoHugepage = 15
)

// hugeAdvice is the span of memory advised since the last endHugePages
// (one range: Go's heap grows upwards from one hint, and madvise skips
// the holes of a range that spans them).
var hugeAdvice struct {
	once    sync.Once
	enabled bool // THP is "madvise": the advice changes something

	mu     sync.Mutex
	lo, hi uintptr
}

// thpMadvise reports whether the kernel's THP mode is "madvise".
func thpMadvise() bool {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	return err == nil && strings.Contains(string(b), "[madvise]")
}

// adviseHuge asks the kernel to back the huge pages b overlaps with
// transparent huge pages. It must run before b is first touched to help:
// memory already faulted in stays in small pages. Errors are ignored: the
// advice is only a hint, and the memory works the same without it. It is
// safe for concurrent use.
func adviseHuge(b []byte) {
	hugeAdvice.once.Do(func() { hugeAdvice.enabled = thpMadvise() })
	if !hugeAdvice.enabled || len(b) == 0 {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := p &^ (hugePageBytes - 1)
	hi := (p + uintptr(len(b)) + hugePageBytes - 1) &^ (hugePageBytes - 1)
	// A raw call: the range reaches past b, which unsafe.Pointer may not.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvHugepage)
	hugeAdvice.mu.Lock()
	if hugeAdvice.hi == 0 {
		hugeAdvice.lo, hugeAdvice.hi = lo, hi
	} else {
		hugeAdvice.lo, hugeAdvice.hi = min(hugeAdvice.lo, lo), max(hugeAdvice.hi, hi)
	}
	hugeAdvice.mu.Unlock()
}

// endHugePages withdraws the huge-page advice given to big arrays'
// memory since the last call, so that khugepaged leaves those ranges
// alone and memory the Go scavenger returns stays returned. Huge pages
// already in place stay until they are freed or split. Arrays made later
// are advised again. It is safe for concurrent use.
func endHugePages() {
	hugeAdvice.mu.Lock()
	lo, hi := hugeAdvice.lo, hugeAdvice.hi
	hugeAdvice.lo, hugeAdvice.hi = 0, 0
	hugeAdvice.mu.Unlock()
	if hi == 0 {
		return
	}
	// The range may span holes and memory Go never advised: with THP in
	// "madvise" mode, no advice and MADV_NOHUGEPAGE mean the same.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, madvNoHugepage)
}
