package num

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// longFloats returns n floats from rng with about one NaN in a thousand
// and many repeats.
func longFloats(rng *rand.Rand, n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(rng.IntN(n/4)) - float64(n/8)
		if rng.IntN(1000) == 0 {
			x[i] = math.NaN()
		}
	}
	return x
}

// TestLongSorts checks the merge sort of long lanes (several runs of
// longChunk) against slices.Sort: sort, argsort (stable), unique and
// median.
func TestLongSorts(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n := 5*longChunk + 123
	x := longFloats(rng, n)
	a, _ := FromFloat64s(slices.Clone(x))
	thread := &starlark.Thread{Name: "sort"}
	sortFn, argsortFn := Module.Members["sort"], Module.Members["argsort"]

	got, err := starlark.Call(thread, sortFn, starlark.Tuple{a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(x)
	slices.SortFunc(want, cmpNaN)
	if !slices.EqualFunc(got.(*Array).Float64s(), want, func(p, q float64) bool { return p == q || p != p && q != q }) {
		t.Errorf("sort of %d floats differs from slices.SortFunc", n)
	}

	idx, err := starlark.Call(thread, argsortFn, starlark.Tuple{a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	perm := idx.(*Array).Int64s()
	for k := 1; k < n; k++ {
		p, q := x[perm[k-1]], x[perm[k]]
		if c := cmpNaN(p, q); c > 0 || c == 0 && perm[k-1] > perm[k] {
			t.Fatalf("argsort: position %d holds index %d (%v) after index %d (%v): not a stable order", k, perm[k], q, perm[k-1], p)
		}
	}

	ints := make([]int64, n)
	for i := range ints {
		ints[i] = int64(rng.IntN(1000))
	}
	ia, _ := FromInt64s(slices.Clone(ints))
	u, err := unique(thread, ia)
	if err != nil {
		t.Fatal(err)
	}
	sortedInts := slices.Clone(ints)
	slices.Sort(sortedInts)
	if want := slices.Compact(sortedInts); !slices.Equal(u.values.Int64s(), want) {
		t.Errorf("unique of %d ints: %d values, want %d", n, len(u.values.Int64s()), len(want))
	}

	clean := slices.DeleteFunc(slices.Clone(x), func(v float64) bool { return v != v })
	ca, _ := FromFloat64s(slices.Clone(clean))
	med, err := starlark.Call(thread, Module.Members["median"], starlark.Tuple{ca}, nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(clean)
	k := len(clean)
	wantMed := clean[k/2]
	if k%2 == 0 {
		wantMed = (clean[k/2-1] + clean[k/2]) / 2
	}
	if float64(med.(starlark.Float)) != wantMed {
		t.Errorf("median = %v, want %v", med, wantMed)
	}
}

// TestLongSortCancel checks that a cancelled argsort of 1M floats stops
// long before it would have finished: it polls between runs and merges.
// (On this shared machine the time to stop is dominated by other load,
// so the bound is relative to the whole argsort's time, the longer of a
// run before and one after; it is logged.)
func TestLongSortCancel(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	a, _ := FromFloat64s(longFloats(rng, 1<<20))
	wholeTime := func() time.Duration {
		start := time.Now()
		if _, err := starlark.Call(&starlark.Thread{Name: "whole"}, Module.Members["argsort"], starlark.Tuple{a}, nil); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	whole := wholeTime()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	thread := &starlark.Thread{Name: "cancel"}
	thread.SetLocal(contextKey, ctx)
	var cancelled time.Time
	timer := time.AfterFunc(whole/10, func() {
		cancelled = time.Now()
		cancel()
	})
	defer timer.Stop()
	start := time.Now()
	_, err := starlark.Call(thread, Module.Members["argsort"], starlark.Tuple{a}, nil)
	done := time.Now()
	whole = max(whole, wholeTime()) // the machine may have got busier
	if err == nil {
		t.Fatalf("argsort of 1M floats finished in %v without seeing the cancellation", done.Sub(start))
	}
	if !strings.Contains(err.Error(), "num.argsort: Starlark computation cancelled") {
		t.Errorf("error %q, want num.argsort's cancellation", err)
	}
	lag := done.Sub(cancelled)
	if lag > whole/2 {
		t.Errorf("argsort stopped %v after the cancellation; the whole argsort takes %v", lag, whole)
	}
	t.Logf("stopped %v after the cancellation; the whole argsort takes %v", lag, whole)
}

// TestPairwisePolls checks that the polling pairwise sum adds in numpy's
// order (the same bits as pairwiseSum) and stops on a cancelled thread.
func TestPairwisePolls(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	x := make([]float64, 9*longChunk+77)
	for i := range x {
		x[i] = rng.NormFloat64() * 1e6
	}
	m := &meter{thread: &starlark.Thread{Name: "sum"}}
	if got, want := pairwiseSumM(m, x), pairwiseSum(x); got != want || m.err != nil {
		t.Errorf("pairwiseSumM = %v (err %v), want %v exactly", got, m.err, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	thread := &starlark.Thread{Name: "cancelled"}
	thread.SetLocal(contextKey, ctx)
	m = &meter{thread: thread}
	pairwiseSumM(m, x)
	if m.err == nil || !strings.Contains(m.err.Error(), "cancelled") {
		t.Errorf("pairwiseSumM on a cancelled thread: err %v, want a cancellation", m.err)
	}
}

// TestLongLanes checks the chunked loops of count_nonzero and cumsum
// across chunk boundaries.
func TestLongLanes(t *testing.T) {
	const n = 3*longChunk + 5
	g, err := computeExec(nil, fmt.Sprintf(`
c = num.cumsum(num.ones(%d, dtype="int64"))
p = num.cumprod(num.ones(%d))
z = num.count_nonzero(num.arange(%d) %% 3)
`, n, n, n))
	if err != nil {
		t.Fatal(err)
	}
	c := g["c"].(*Array).Int64s()
	for i, v := range c {
		if v != int64(i+1) {
			t.Fatalf("cumsum(ones(%d))[%d] = %d, want %d", n, i, v, i+1)
		}
	}
	if p := g["p"].(*Array).Float64s(); p[n-1] != 1 {
		t.Errorf("cumprod(ones(%d))[-1] = %v, want 1", n, p[n-1])
	}
	if z := g["z"]; z.String() != fmt.Sprint(n-(n+2)/3) {
		t.Errorf("count_nonzero(arange(%d) %% 3) = %v, want %d", n, z, n-(n+2)/3)
	}
}
