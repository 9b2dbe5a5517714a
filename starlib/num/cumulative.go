// This file defines the cumulative reductions cumsum and cumprod, and the
// order statistics median, percentile and quantile.

package num

import (
	"fmt"
	"math"
	"slices"

	"go.starlark.net/starlark"
)

// cumulativeBuiltin returns num.cumsum or num.cumprod (if prod) (a,
// axis=None): the running sums (products) along axis, or of the flattened
// array; ints and bools accumulate as int64.
func cumulativeBuiltin(prod bool) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var av, axisv, dtv starlark.Value = nil, starlark.None, starlark.None
		if err := starlark.UnpackArgs(b.Name(), receiverArgs(b, args), kwargs, "a", &av, "axis?", &axisv, "dtype?", &dtv); err != nil {
			return nil, err
		}
		av, err := withDType(thread, b.Name(), av, dtv)
		if err != nil {
			return nil, err
		}
		a, err := computeArray(b.Name(), av)
		if err != nil {
			return nil, err
		}
		axis, all, err := parseAxis(b.Name(), axisv, a.NDim())
		if err != nil {
			return nil, err
		}
		out, err := cumulative(thread, a, axis, all, prod)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return out, nil
	}
}

// cumulative returns the running sums or products of a's lanes.
func cumulative(thread *starlark.Thread, a *Array, axis int, all, prod bool) (*Array, error) {
	shape := a.shape
	if all || len(a.shape) < 2 {
		shape = []int{a.Size()}
	}
	dt, _ := sumDType(a.dtype)
	out, err := alloc(thread, dt, shape)
	if err != nil {
		return nil, err
	}
	l, ol := lanesOf(a, axis, all), lanesOf(out, axis, all)
	m := &meter{thread: thread}
	fs, is := l.scratchFloats(), l.scratchInts()
	for j := range l.count {
		if err := m.add(l.n); err != nil {
			return nil, err
		}
		if dt == Float64 {
			accumulate(m, l.floats(j, fs), out.buf.f, ol.at(j), ol.step, prod)
		} else {
			accumulate(m, l.ints(j, is), out.buf.i, ol.at(j), ol.step, prod)
		}
		if m.err != nil {
			return nil, m.err
		}
	}
	return out, m.flush()
}

// accumulate writes the running sums (or products) of x to out from
// index p, step apart, polling m between chunks of a long x.
func accumulate[T float64 | int64](m *meter, x, out []T, p, step int, prod bool) {
	var acc T
	if prod {
		acc = 1
	}
	for lo := 0; lo < len(x); lo += longChunk {
		if lo > 0 && !m.poll() {
			return
		}
		for _, v := range x[lo:min(len(x), lo+longChunk)] {
			if prod {
				acc *= v
			} else {
				acc += v
			}
			out[p] = acc
			p += step
		}
	}
}

// medianBuiltin is num.median(a, axis=None): the middle value of each
// lane, the mean of the two middle ones for an even count; NaN for a lane
// with a NaN or without elements.
func medianBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av, axisv starlark.Value = nil, starlark.None
	if err := starlark.UnpackArgs(b.Name(), receiverArgs(b, args), kwargs, "a", &av, "axis?", &axisv); err != nil {
		return nil, err
	}
	r := &reduction{name: "median", dtype: floatDType, run: func(m *meter, l *lanes, out *Array) error {
		s := make([]float64, l.n)
		return eachFloatLane(m, l, func(x []float64) float64 {
			if !sortedCopy(m, s, x) || len(x) == 0 {
				return math.NaN()
			}
			n := len(s)
			if n%2 == 1 {
				return s[n/2]
			}
			return (s[n/2-1] + s[n/2]) / 2
		}, out.buf.f)
	}}
	return reduceValue(thread, b.Name(), r, av, axisv, false)
}

// sortedCopy copies x into s (of the same length) and sorts it, polling
// m, unless x has a NaN: then it reports false.
func sortedCopy(m *meter, s, x []float64) bool {
	copy(s, x)
	for _, v := range s {
		if v != v {
			return false
		}
	}
	sortFloats(m, s)
	return true
}

// quantileBuiltin returns num.percentile (scale 100) or num.quantile
// (scale 1) (a, q, axis=None, method="linear"). q is a number or a list
// of them; a list adds a first axis to the result, one entry per q.
func quantileBuiltin(scale float64) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var av, qv, axisv starlark.Value = nil, nil, starlark.None
		method := "linear"
		if err := starlark.UnpackArgs(b.Name(), receiverArgs(b, args), kwargs, "a", &av, "q", &qv, "axis?", &axisv, "method?", &method); err != nil {
			return nil, err
		}
		if method != "linear" {
			return nil, fmt.Errorf("%s: method=%q is not supported: num computes method=\"linear\" (numpy's default) only", b.Name(), method)
		}
		qa, err := computeArray(b.Name(), qv)
		if err != nil {
			return nil, err
		}
		if qa.NDim() > 1 {
			return nil, fmt.Errorf("%s: q has shape %s: give a number or a 1-D list of them", b.Name(), shapeString(qa.shape))
		}
		qs := slices.Clone(qa.Float64s())
		for _, q := range qs {
			if !(q >= 0 && q <= scale) {
				if scale == 100 {
					return nil, fmt.Errorf("%s: Percentiles must be in the range [0, 100], got %v", b.Name(), q)
				}
				return nil, fmt.Errorf("%s: Quantiles must be in the range [0, 1], got %v", b.Name(), q)
			}
		}
		return quantiles(thread, b.Name(), av, axisv, qs, qa.NDim() == 1, scale)
	}
}

// quantiles computes the quantiles qs/scale of each lane of av's array.
// With many (q given as a list) the result gains a first axis over qs.
func quantiles(thread *starlark.Thread, fname string, av, axisv starlark.Value, qs []float64, many bool, scale float64) (starlark.Value, error) {
	a, err := computeArray(fname, av)
	if err != nil {
		return nil, err
	}
	axis, all, err := parseAxis(fname, axisv, a.NDim())
	if err != nil {
		return nil, err
	}
	if a.dtype == Bool {
		return nil, fmt.Errorf("%s: the array is boolean, and numpy cannot interpolate booleans: convert with a.astype(\"float64\")", fname)
	}
	l := lanesOf(a, axis, all)
	if l.n == 0 {
		return nil, fmt.Errorf("%s: the array (shape %s) has no elements to take a quantile of", fname, shapeString(a.shape))
	}
	shape := l.shape
	if many {
		shape = append([]int{len(qs)}, shape...)
	}
	out, err := alloc(thread, Float64, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	m := &meter{thread: thread}
	scratch, s := l.scratchFloats(), make([]float64, l.n)
	for j := range l.count {
		if err := m.add(l.n); err != nil {
			return nil, fmt.Errorf("%s: %v", fname, err)
		}
		ok := sortedCopy(m, s, l.floats(j, scratch))
		if m.err != nil {
			return nil, fmt.Errorf("%s: %v", fname, m.err)
		}
		for k, q := range qs {
			v := math.NaN()
			if ok {
				v = linearQuantile(s, q/scale)
			}
			out.buf.f[k*l.count+j] = v
		}
	}
	return result(out), nil
}

// linearQuantile returns the q-th quantile of sorted s by numpy's "linear"
// method, with numpy's interpolation (_lerp) so that results agree to the
// last bit.
func linearQuantile(s []float64, q float64) float64 {
	n := len(s)
	vi := float64(n-1) * q
	lo := math.Floor(vi)
	prev, next := int(lo), int(lo)+1
	if vi >= float64(n-1) {
		prev, next = n-1, n-1
		lo = -1
	}
	t := vi - lo
	a, b := s[prev], s[next]
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}
