// This file defines num.histogram and num.bincount.

package num

import (
	"fmt"
	"math"
	"slices"

	"go.starlark.net/starlark"
)

// numHistogram is num.histogram(a, bins=10, range=None, weights=None,
// density=False): the counts of a's elements (flattened) in each bin, and
// the bins' edges, as numpy: bins is a count of equal bins over range
// (a's minimum to maximum by default, widened by 0.5 each side if they are
// equal) or a sequence of increasing edges; every bin is half-open
// [lo, hi) except the last, which includes its upper edge; elements
// outside the edges are not counted. Counts are int64, or float64 with
// weights (the sum of the weights in each bin) or density (counts over
// total times bin width, so that the histogram integrates to 1).
func numHistogram(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av, weightsv starlark.Value
	var binsv starlark.Value = starlark.MakeInt(10)
	var rangev starlark.Value = starlark.None
	density := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "bins?", &binsv, "range?", &rangev, "weights?", &weightsv, "density?", &density); err != nil {
		return nil, err
	}
	a, err := computeArray(b.Name(), av)
	if err != nil {
		return nil, err
	}
	x := a.Float64s()
	var w []float64
	if weightsv != nil && weightsv != starlark.None {
		wa, err := computeArray(b.Name(), weightsv)
		if err != nil {
			return nil, err
		}
		if !slices.Equal(wa.shape, a.shape) {
			return nil, fmt.Errorf("%s: weights has shape %s, a has shape %s: they must be the same", b.Name(), shapeString(wa.shape), shapeString(a.shape))
		}
		w = wa.Float64s()
	}
	edges, uniform, edgeArr, err := histogramEdges(b.Name(), x, binsv, rangev)
	if err != nil {
		return nil, err
	}
	if err := work(thread, logWork(len(x))); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	counts := make([]float64, len(edges)-1)
	if uniform {
		binUniform(x, w, edges, counts)
	} else {
		binEdges(x, w, edges, counts)
	}
	return starlark.Tuple{histogramCounts(counts, edges, w != nil, density), edgeArr}, nil
}

// histogramCounts returns counts as numpy's histogram does: int64 unless
// weighted or density.
func histogramCounts(counts, edges []float64, weighted, density bool) *Array {
	if density {
		total := 0.0
		for _, c := range counts {
			total += c
		}
		for i := range counts {
			counts[i] /= total * (edges[i+1] - edges[i])
		}
	}
	if weighted || density {
		arr, _ := FromFloat64s(counts)
		return arr
	}
	ints := make([]int64, len(counts))
	for i, c := range counts {
		ints[i] = int64(c)
	}
	arr, _ := FromInt64s(ints)
	return arr
}

// histogramEdges returns the bin edges from bins (an int or a sequence of
// edges) and range, whether the bins are equal (numpy's fast path), and
// the edges as histogram returns them: float64, or int64 if given so.
func histogramEdges(fname string, x []float64, binsv, rangev starlark.Value) ([]float64, bool, *Array, error) {
	if n, ok := binsv.(starlark.Int); ok {
		nb, ok := n.Int64()
		if !ok || nb < 1 || nb > 1<<26 {
			return nil, false, nil, fmt.Errorf("%s: bins=%v: give a positive number of bins, or a sequence of edges", fname, n)
		}
		lo, hi, err := histogramRange(fname, x, rangev)
		if err != nil {
			return nil, false, nil, err
		}
		edges := linspaceEdges(lo, hi, int(nb))
		arr, _ := FromFloat64s(edges)
		return edges, true, arr, nil
	}
	ea, err := computeArray(fname, binsv)
	if err != nil {
		return nil, false, nil, fmt.Errorf("%s: bins must be an int or a sequence of edges: %v", fname, err)
	}
	if ea.NDim() != 1 || ea.Size() < 2 {
		return nil, false, nil, fmt.Errorf("%s: bins has shape %s: give an int, or at least two edges in a 1-D sequence", fname, shapeString(ea.shape))
	}
	edges := slices.Clone(ea.Float64s())
	for i := 1; i < len(edges); i++ {
		if !(edges[i] >= edges[i-1]) {
			return nil, false, nil, fmt.Errorf("%s: bins must increase monotonically, when an array (edge [%d] = %s follows %s)", fname, i, starlark.Float(edges[i]), starlark.Float(edges[i-1]))
		}
	}
	arr, _ := FromFloat64s(edges)
	if ea.dtype != Float64 {
		arr, _ = FromInt64s(slices.Clone(ea.Int64s()))
	}
	return edges, false, arr, nil
}

// histogramRange returns the range of equal bins: range if given, else
// the data's extent, widened to [lo-0.5, hi+0.5] when it is a single
// point, and [0, 1] for no data.
func histogramRange(fname string, x []float64, rangev starlark.Value) (lo, hi float64, err error) {
	if rangev != starlark.None {
		r, ok := rangev.(starlark.Indexable)
		if !ok || r.Len() != 2 {
			return 0, 0, fmt.Errorf("%s: range must be a (min, max) pair, not %s", fname, rangev.String())
		}
		lo, ok1 := starlark.AsFloat(r.Index(0))
		hi, ok2 := starlark.AsFloat(r.Index(1))
		if !ok1 || !ok2 {
			return 0, 0, fmt.Errorf("%s: range must be a pair of numbers, not %s", fname, rangev.String())
		}
		if lo > hi {
			return 0, 0, fmt.Errorf("%s: max must be larger than min in range parameter (got %v)", fname, rangev.String())
		}
		if math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo != lo || hi != hi {
			return 0, 0, fmt.Errorf("%s: supplied range of [%s, %s] is not finite", fname, starlark.Float(lo), starlark.Float(hi))
		}
		return widen(lo, hi)
	}
	if len(x) == 0 {
		return 0, 1, nil
	}
	lo, hi = minFloats(x), maxFloats(x)
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo != lo || hi != hi {
		return 0, 0, fmt.Errorf("%s: autodetected range of [%s, %s] is not finite: give range=(min, max), or drop the NaNs and infinities first", fname, starlark.Float(lo), starlark.Float(hi))
	}
	return widen(lo, hi)
}

func widen(lo, hi float64) (float64, float64, error) {
	if lo == hi {
		return lo - 0.5, hi + 0.5, nil
	}
	return lo, hi, nil
}

// linspaceEdges returns n+1 equally spaced edges from lo to hi, computed
// as numpy's linspace does (i*step + lo, the last one exactly hi).
func linspaceEdges(lo, hi float64, n int) []float64 {
	edges := make([]float64, n+1)
	step := (hi - lo) / float64(n)
	for i := range edges {
		edges[i] = float64(i)*step + lo
	}
	edges[n] = hi
	return edges
}

// binUniform adds x's elements (weighted by w if not nil) to counts for
// equal bins, by numpy's computation: the index from the scaled offset,
// then corrected against the edges themselves.
func binUniform(x, w, edges, counts []float64) {
	n := len(counts)
	first, last := edges[0], edges[n]
	norm := float64(n) / (last - first)
	for k, v := range x {
		if !(v >= first && v <= last) {
			continue
		}
		i := int((v - first) * norm)
		if i == n {
			i--
		}
		if v < edges[i] {
			i--
		} else if v >= edges[i+1] && i != n-1 {
			i++
		}
		if w != nil {
			counts[i] += w[k]
		} else {
			counts[i]++
		}
	}
}

// binEdges adds x's elements to counts for bins given by their edges.
func binEdges(x, w, edges, counts []float64) {
	n := len(counts)
	first, last := edges[0], edges[n]
	for k, v := range x {
		if !(v >= first && v <= last) {
			continue
		}
		i := searchFloats(edges, v, true) - 1
		if i == n {
			i-- // the last edge belongs to the last bin
		}
		if w != nil {
			counts[i] += w[k]
		} else {
			counts[i]++
		}
	}
}

// numBincount is num.bincount(x, weights=None, minlength=0): the number of
// occurrences of each value 0..max(x) in the non-negative ints x (int64),
// or the sums of their weights (float64).
func numBincount(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var xv, weightsv starlark.Value
	minlength := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &xv, "weights?", &weightsv, "minlength?", &minlength); err != nil {
		return nil, err
	}
	xa, err := computeArray(b.Name(), xv)
	if err != nil {
		return nil, err
	}
	if xa.NDim() > 1 || xa.dtype == Float64 {
		return nil, fmt.Errorf("%s: x is a %s array of shape %s: give a 1-D array of non-negative ints", b.Name(), xa.dtype, shapeString(xa.shape))
	}
	if minlength < 0 {
		return nil, fmt.Errorf("%s: minlength must be non-negative, got %d", b.Name(), minlength)
	}
	x := xa.Int64s()
	n := int64(minlength)
	for k, v := range x {
		if v < 0 {
			return nil, fmt.Errorf("%s: x[%d] = %d: the values must be non-negative", b.Name(), k, v)
		}
		n = max(n, v+1)
	}
	var w []float64
	if weightsv != nil && weightsv != starlark.None {
		wa, err := computeArray(b.Name(), weightsv)
		if err != nil {
			return nil, err
		}
		if wa.Size() != len(x) || wa.NDim() > 1 {
			return nil, fmt.Errorf("%s: weights has shape %s, x has shape %s: they must be the same", b.Name(), shapeString(wa.shape), shapeString(xa.shape))
		}
		w = wa.Float64s()
	}
	dt := Int64
	if w != nil {
		dt = Float64
	}
	if n > maxDim {
		return nil, fmt.Errorf("%s: the largest value %d makes too many bins", b.Name(), n-1)
	}
	out, err := alloc(thread, dt, []int{int(n)})
	if err == nil {
		err = work(thread, len(x)+int(n))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	for k, v := range x {
		if w != nil {
			out.buf.f[v] += w[k]
		} else {
			out.buf.i[v]++
		}
	}
	return out, nil
}
