// This file defines num.diff, num.trapz (num.trapezoid) and num.average.

package num

import (
	"fmt"

	"go.starlark.net/starlark"
)

// numDiff is num.diff(a, n=1, axis=-1): the n-th differences along axis,
// a[i+1] - a[i] applied n times; the axis shrinks by n (to 0 at least).
// The dtype stays (bool differences are a[i+1] != a[i], as numpy's).
func numDiff(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av starlark.Value
	var axisv starlark.Value = starlark.MakeInt(-1)
	n := 1
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "n?", &n, "axis?", &axisv); err != nil {
		return nil, err
	}
	a, err := computeArray(b.Name(), av)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("%s: order must be non-negative but got %d", b.Name(), n)
	}
	if a.NDim() == 0 {
		return nil, fmt.Errorf("%s: diff requires input that is at least one dimensional", b.Name())
	}
	axis, _, err := parseAxis(b.Name(), axisv, a.NDim())
	if err != nil {
		return nil, err
	}
	shape := append([]int(nil), a.shape...)
	shape[axis] = max(0, shape[axis]-n)
	out, err := alloc(thread, a.dtype, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	l, ol := lanesOf(a, axis, false), lanesOf(out, axis, false)
	m := &meter{thread: thread}
	fs, is, bs := make([]float64, l.n), make([]int64, l.n), make([]bool, l.n)
	for j := range l.count {
		if err := m.add(l.n * max(n, 1)); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		if a.dtype == Float64 {
			x := differences(append(fs[:0], l.floats(j, fs)...), n)
			ol.setFloats(j, x)
			continue
		}
		if a.dtype == Bool {
			ol.setBools(j, boolDifferences(append(bs[:0], l.bools(j, bs)...), n))
			continue
		}
		ol.setInts(j, differences(append(is[:0], l.ints(j, is)...), n))
	}
	return out, nil
}

// differences replaces x by its n-th differences, in place, and returns
// them (len(x) - n of them).
func differences[T float64 | int64](x []T, n int) []T {
	if n >= len(x) {
		return x[:0]
	}
	for range n {
		for i := 0; i+1 < len(x); i++ {
			x[i] = x[i+1] - x[i]
		}
		x = x[:len(x)-1]
	}
	return x
}

// boolDifferences is differences for bools: x[i+1] != x[i], as numpy.
func boolDifferences(x []bool, n int) []bool {
	if n >= len(x) {
		return x[:0]
	}
	for range n {
		for i := 0; i+1 < len(x); i++ {
			x[i] = x[i+1] != x[i]
		}
		x = x[:len(x)-1]
	}
	return x
}

// numTrapz is num.trapz(y, x=None, dx=1.0, axis=-1), also
// num.trapezoid: the integral of y along axis by the trapezoidal rule,
// with the sample points x (a 1-D array as long as the axis) or a
// spacing dx; computed as numpy does (the sum of d*(y[i+1]+y[i])/2.0).
func numTrapz(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var yv, xv starlark.Value = nil, starlark.None
	var axisv starlark.Value = starlark.MakeInt(-1)
	dx := floatParam{1}
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "y", &yv, "x?", &xv, "dx?", &dx, "axis?", &axisv); err != nil {
		return nil, err
	}
	y, err := computeArray(b.Name(), yv)
	if err != nil {
		return nil, err
	}
	if y.NDim() == 0 {
		return nil, fmt.Errorf("%s: y is a scalar: give a 1-D or 2-D array of samples", b.Name())
	}
	axis, _, err := parseAxis(b.Name(), axisv, y.NDim())
	if err != nil {
		return nil, err
	}
	l := lanesOf(y, axis, false)
	var d []float64
	if xv != starlark.None {
		x, err := computeArray(b.Name(), xv)
		if err != nil {
			return nil, err
		}
		if x.NDim() != 1 || x.Size() != l.n {
			return nil, fmt.Errorf("%s: x has shape %s and y %s: give x as a 1-D array of the %d sample points along axis %d", b.Name(), shapeString(x.shape), shapeString(y.shape), l.n, axis)
		}
		d = differences(append([]float64(nil), x.Float64s()...), 1)
	}
	out, err := alloc(thread, Float64, l.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	m := &meter{thread: thread}
	err = eachFloatLane(m, &l, func(v []float64) float64 { return trapezoids(m, v, d, dx.f, &l) }, out.buf.f)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return result(out), nil
}

// trapezoids returns the sum of the trapezoids d[i]*(v[i+1]+v[i])/2.0
// (dx for d[i] if d is nil) in the order laneSum would add them from an
// array (numpy's, which makes that array), without making it: pairwise
// blocks of up to 128 terms are filled in a small buffer.
func trapezoids(m *meter, v, d []float64, dx float64, l *lanes) float64 {
	var buf [128]float64
	fill := func(lo, hi int) []float64 {
		t := buf[:hi-lo]
		for i := range t {
			k := lo + i
			w := dx
			if d != nil {
				w = d[k]
			}
			t[i] = w * (v[k+1] + v[k]) / 2.0
		}
		return t
	}
	n := max(0, len(v)-1)
	if !(l.step == 1 || l.count == 1 || len(l.shape) == 0) {
		s := 0.0
		for lo := 0; lo < n; lo += len(buf) {
			for _, t := range fill(lo, min(n, lo+len(buf))) {
				s += t
			}
		}
		return s
	}
	var pairwise func(lo, hi int) float64
	pairwise = func(lo, hi int) float64 {
		k := hi - lo
		if k <= len(buf) {
			return pairwiseSum(fill(lo, hi))
		}
		if k > longChunk && !m.poll() {
			return 0
		}
		k2 := k / 2
		k2 -= k2 % 8
		return pairwise(lo, lo+k2) + pairwise(lo+k2, hi)
	}
	return pairwise(0, n)
}

// numAverage is num.average(a, axis=None, weights=None): the mean of a
// along axis (or of all of it), weighted by weights (of a's shape, or
// 1-D along axis) if given: sum(a*weights)/sum(weights).
func numAverage(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av, axisv, wv starlark.Value = nil, starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "axis?", &axisv, "weights?", &wv); err != nil {
		return nil, err
	}
	if wv == starlark.None {
		return reduceValue(thread, b.Name(), reduceMean, av, axisv, false)
	}
	a, err := computeArray(b.Name(), av)
	if err != nil {
		return nil, err
	}
	w, err := computeArray(b.Name(), wv)
	if err != nil {
		return nil, err
	}
	axis, all, err := parseAxis(b.Name(), axisv, a.NDim())
	if err != nil {
		return nil, err
	}
	l := lanesOf(a, axis, all)
	var wl lanes
	switch {
	case sameShape(w.shape, a.shape):
		wl = lanesOf(w, axis, all)
	case !all && w.NDim() == 1 && w.Size() == l.n:
		wl = lanes{a: w, n: l.n, count: l.count, start: w.offset, step: w.strides[0]}
	default:
		return nil, fmt.Errorf("%s: weights has shape %s and a %s: give weights of a's shape, or 1-D along axis", b.Name(), shapeString(w.shape), shapeString(a.shape))
	}
	out, err := alloc(thread, Float64, l.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	m := &meter{thread: thread}
	xs, ws, prod := l.scratchFloats(), make([]float64, l.n), make([]float64, l.n)
	zero := false
	for j := range l.count {
		if err := m.add(2 * l.n); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		x, wx := l.floats(j, xs), wl.floats(j, ws)
		for i, v := range x {
			prod[i] = v * wx[i]
		}
		scl := laneSum(m, wx, &l)
		zero = zero || scl == 0
		out.buf.f[j] = laneSum(m, prod, &l) / scl
	}
	if m.err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), m.err)
	}
	if zero {
		return nil, fmt.Errorf("%s: Weights sum to zero, can't be normalized", b.Name())
	}
	return result(out), nil
}
