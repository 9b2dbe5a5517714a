package ship

import (
	"fmt"
	"sync"
	"testing"

	"go.starlark.net/starlark"
)

// bundles returns the bundles of n different functions.
func bundles(t testing.TB, n int) [][]byte {
	t.Helper()
	h := newHost(t, "")
	var out [][]byte
	for i := range n {
		name := fmt.Sprintf("job%d.star", i)
		g := h.mustExec(name, fmt.Sprintf("def f(x):\n    return x * %d\n", i))
		data, err := CaptureBytes(function(t, g, "f"), h.src)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// TestCache checks hits, LRU eviction and keying by predeclared dict.
func TestCache(t *testing.T) {
	data := bundles(t, 3)
	pre := engineDict(t)
	c := NewCache(2)
	load := func(i int, pre starlark.StringDict) *starlark.Function {
		t.Helper()
		fn, err := c.Load(data[i], pre)
		if err != nil {
			t.Fatal(err)
		}
		return fn
	}
	f0 := load(0, pre)
	if again := load(0, pre); again != f0 {
		t.Errorf("Load(bundle 0) twice gave two functions, want the cached one")
	}
	load(1, pre)
	load(0, pre) // 0 is now more recent than 1
	load(2, pre) // evicts 1
	if n := c.Len(); n != 2 {
		t.Errorf("Len() = %d, want 2", n)
	}
	if again := load(0, pre); again != f0 {
		t.Errorf("Load(bundle 0) after evicting the least recent gave a new function, want the cached one")
	}
	other := engineDict(t)
	if fn := load(0, other); fn == f0 {
		t.Errorf("Load(bundle 0) with another predeclared dict gave the function rebuilt for the first")
	}
	got, _, err := call(f0, starlark.Tuple{starlark.MakeInt(21)}, nil)
	if want := starlark.MakeInt(0); err != nil || !equal(got, want) {
		t.Errorf("f(21) = %v (error %v), want %v", got, err, want)
	}
	if _, err := c.Load([]byte("junk"), pre); err == nil {
		t.Errorf("Load(junk) succeeded, want an error")
	}
}

// TestCacheConcurrent loads and calls cached functions from several
// goroutines (run with -race).
func TestCacheConcurrent(t *testing.T) {
	data := bundles(t, 4)
	pre := engineDict(t)
	c := NewCache(3)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				k := (g + i) % len(data)
				fn, err := c.Load(data[k], pre)
				if err != nil {
					errs <- err
					return
				}
				got, _, err := call(fn, starlark.Tuple{starlark.MakeInt(2)}, nil)
				if err != nil || !equal(got, starlark.MakeInt(2*k)) {
					errs <- fmt.Errorf("f(2) of bundle %d = %v (error %v), want %d", k, got, err, 2*k)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
