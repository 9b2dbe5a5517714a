package ship

import (
	"testing"

	"go.starlark.net/starlark"
)

// benchSrc holds the two-function bundle of the benchmarks: task and a
// helper that reads a global dict with tuple keys.
const benchSrc = `SCALE = 3
TABLE = {(1, "a"): 10, (2, "b"): 20}

def helper(x):
    if (x, "a") in TABLE:
        return TABLE[(x, "a")]
    return TABLE[(2, "b")] + x

def task(x, y = SCALE):
    return helper(x) * y + SCALE

def double(x):
    return x * 2
`

// benchHost runs benchSrc and returns the host and its globals.
func benchHost(b *testing.B) (*host, starlark.StringDict) {
	h := newHost(b, "")
	return h, h.mustExec("job.star", benchSrc)
}

// forgetAnalyses drops the cached static analyses, keeping parsed trees.
func forgetAnalyses(s *Sources) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.files {
		f.mu.Lock()
		f.snippets = nil
		f.mu.Unlock()
	}
}

// BenchmarkCapture captures and marshals the two-function bundle with the
// file already parsed but no cached analysis.
func BenchmarkCapture(b *testing.B) {
	h, g := benchHost(b)
	fn := function(b, g, "task")
	for b.Loop() {
		forgetAnalyses(h.src)
		if _, err := CaptureBytes(fn, h.src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCaptureWarm captures and marshals the two-function bundle again.
func BenchmarkCaptureWarm(b *testing.B) {
	h, g := benchHost(b)
	fn := function(b, g, "task")
	for b.Loop() {
		if _, err := CaptureBytes(fn, h.src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRebuildCold rebuilds the two-function bundle and calls it.
func BenchmarkRebuildCold(b *testing.B) {
	h, g := benchHost(b)
	data, err := CaptureBytes(function(b, g, "task"), h.src)
	if err != nil {
		b.Fatal(err)
	}
	pre := engineDict(b)
	args := starlark.Tuple{starlark.MakeInt(1)}
	for b.Loop() {
		fn, err := Rebuild(data, pre)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := starlark.Call(&starlark.Thread{}, fn, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCacheHitCall loads def double(x) from the cache and calls it in
// a fresh thread.
func BenchmarkCacheHitCall(b *testing.B) {
	h, g := benchHost(b)
	data, err := CaptureBytes(function(b, g, "double"), h.src)
	if err != nil {
		b.Fatal(err)
	}
	pre := engineDict(b)
	c := NewCache(16)
	args := starlark.Tuple{starlark.MakeInt(21)}
	for b.Loop() {
		fn, err := c.Load(data, pre)
		if err != nil {
			b.Fatal(err)
		}
		th := &starlark.Thread{Name: "task"}
		if _, err := starlark.Call(th, fn, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}
