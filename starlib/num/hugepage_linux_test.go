package num

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// vmFlags returns the VmFlags of the mapping of /proc/self/smaps that
// holds addr.
func vmFlags(t *testing.T, addr uintptr) []string {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	inside := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := strings.Cut(strings.Fields(line)[0], "-"); ok && !strings.HasSuffix(lo, ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			inside = err1 == nil && err2 == nil && uint64(addr) >= l && uint64(addr) < h
			continue
		}
		if rest, ok := strings.CutPrefix(line, "VmFlags:"); ok && inside {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no mapping of %#x in /proc/self/smaps", addr)
	return nil
}

func TestBigArraysAdviseHugePagesUntilIdle(t *testing.T) {
	a, err := alloc(nil, Float64, []int{1 << 20}) // 8 MiB
	if err != nil {
		t.Fatal(err)
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(a.buf.f)))
	flags := fmt.Sprint(vmFlags(t, addr))
	if !thpMadvise() {
		// THP "always" or "never": the advice would change nothing.
		if hugeAdvice.hi != 0 {
			t.Errorf("huge-page advice given with THP not in madvise mode (flags %s)", flags)
		}
		return
	}
	if !strings.Contains(flags, "hg") {
		t.Errorf("VmFlags of an 8 MiB array's memory = %s, want hg (MADV_HUGEPAGE)", flags)
	}
	Idle()
	if flags := fmt.Sprint(vmFlags(t, addr)); strings.Contains(flags, "hg") || !strings.Contains(flags, "nh") {
		t.Errorf("VmFlags after Idle = %s, want nh and no hg", flags)
	}
	if hugeAdvice.hi != 0 {
		t.Errorf("advised range after Idle = [%#x, %#x), want none", hugeAdvice.lo, hugeAdvice.hi)
	}
	a.buf.f[0], a.buf.f[len(a.buf.f)-1] = 1, 2 // the memory works the same
	if a.buf.f[0]+a.buf.f[len(a.buf.f)-1] != 3 {
		t.Error("array memory lost its contents")
	}
}
