// This file defines the reductions: sum, prod, mean, var, std, min, max,
// argmin, argmax, ptp, count_nonzero, any, all, nansum and nanmean, over
// the whole array or along an axis, as num.f(a, axis=None) and as
// a.f(axis=None).

package num

import (
	"fmt"
	"math"
	"slices"

	"go.starlark.net/starlark"
)

// A reduction reduces each lane of an array to one element of its result.
type reduction struct {
	name string // numpy's name of the operation
	// dtype returns the result's dtype for an input of dtype in, or an
	// error for an input the operation does not take.
	dtype func(in DType) (DType, error)
	// empty is the error for a lane without elements, "" if the operation
	// has an identity (sum of nothing is 0).
	empty string
	// run fills out (of the dtype above, one element per lane).
	run func(m *meter, l *lanes, out *Array) error
	// dtyped reports that the builtin takes numpy's dtype= argument: the
	// array is converted to it first.
	dtyped bool
}

// reduceBuiltin returns the builtin num.NAME(a, axis=None) (and the method
// a.NAME(axis=None)) of r.
func reduceBuiltin(r *reduction) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var av, axisv, dtv starlark.Value = nil, starlark.None, starlark.None
		keepdims := false
		params := []any{"a", &av, "axis?", &axisv, "keepdims?", &keepdims}
		if r.dtyped {
			params = append(params, "dtype?", &dtv)
		}
		if err := starlark.UnpackArgs(b.Name(), receiverArgs(b, args), kwargs, params...); err != nil {
			return nil, err
		}
		av, err := withDType(thread, b.Name(), av, dtv)
		if err != nil {
			return nil, err
		}
		return reduceValue(thread, b.Name(), r, av, axisv, keepdims)
	}
}

// withDType returns v converted to the dtype dtv names, v itself if dtv
// is None.
func withDType(thread *starlark.Thread, fname string, v, dtv starlark.Value) (starlark.Value, error) {
	dt, ok, err := dtypeArg(fname, dtv)
	if err != nil || !ok {
		return v, err
	}
	if dt == Bool {
		return nil, fmt.Errorf("%s: dtype=bool is not supported here: give \"int64\" or \"float64\"", fname)
	}
	a, err := computeArray(fname, v)
	if err != nil {
		return nil, err
	}
	if a.dtype == dt {
		return a, nil
	}
	c, err := convert(thread, a, dt)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	return c, nil
}

// reduceValue applies r to the array of av along the axis axisv. With
// keepdims the reduced axes stay, with length one, so that the result
// broadcasts against the input.
func reduceValue(thread *starlark.Thread, fname string, r *reduction, av, axisv starlark.Value, keepdims bool) (starlark.Value, error) {
	a, err := computeArray(fname, av)
	if err != nil {
		return nil, err
	}
	axis, all, err := parseAxis(fname, axisv, a.NDim())
	if err != nil {
		return nil, err
	}
	out, err := reduce(thread, fname, r, a, axis, all)
	if err != nil {
		return nil, err
	}
	if keepdims {
		return keptDims(out, a, axis, all), nil
	}
	return result(out), nil
}

// keptDims returns out, a reduction of a along axis (or all of it),
// reshaped to a's dimensions with the reduced ones of length one.
func keptDims(out, a *Array, axis int, all bool) *Array {
	shape := slices.Clone(a.shape)
	for k := range shape {
		if all || k == axis {
			shape[k] = 1
		}
	}
	return &Array{dtype: out.dtype, shape: shape, strides: rowMajorStrides(shape), offset: out.offset, buf: out.buf}
}

// reduce applies r to a along axis (or all of it) and returns the result
// array: 0-d for a full reduction.
func reduce(thread *starlark.Thread, fname string, r *reduction, a *Array, axis int, all bool) (*Array, error) {
	dt, err := r.dtype(a.dtype)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	l := lanesOf(a, axis, all)
	if l.n == 0 && l.count > 0 && r.empty != "" {
		return nil, fmt.Errorf("%s: %s (the array has shape %s): check a.size first", fname, r.empty, shapeString(a.shape))
	}
	out, err := alloc(thread, dt, l.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	m := &meter{thread: thread}
	if err := r.run(m, &l, out); err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	if err := m.flush(); err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	return out, nil
}

// Result dtypes.

// sumDType is numpy's dtype of a sum or product: ints and bools add up as
// int64.
func sumDType(in DType) (DType, error) {
	if in == Float64 {
		return Float64, nil
	}
	return Int64, nil
}

func floatDType(DType) (DType, error) { return Float64, nil }
func intDType(DType) (DType, error)   { return Int64, nil }
func boolDType(DType) (DType, error)  { return Bool, nil }
func sameDType(in DType) (DType, error) {
	return in, nil
}

// numericDType is sameDType refusing bools, for ptp (numpy cannot subtract
// booleans).
func numericDType(in DType) (DType, error) {
	if in == Bool {
		return 0, fmt.Errorf("boolean arrays are not supported (numpy's subtract has no boolean form): convert with a.astype(\"int64\")")
	}
	return in, nil
}

// The reductions.

var (
	reduceSum = &reduction{name: "sum", dtype: sumDType, dtyped: true, run: func(m *meter, l *lanes, out *Array) error {
		if columnLanes(l) {
			return sumColumns(m, l, out.buf.f)
		}
		if out.dtype == Float64 {
			return eachFloatLane(m, l, func(x []float64) float64 { return laneSum(m, x, l) }, out.buf.f)
		}
		return eachIntLane(m, l, sumInts, out.buf.i)
	}}
	reduceProd = &reduction{name: "prod", dtype: sumDType, dtyped: true, run: func(m *meter, l *lanes, out *Array) error {
		if out.dtype == Float64 {
			return eachFloatLane(m, l, prodFloats, out.buf.f)
		}
		return eachIntLane(m, l, prodInts, out.buf.i)
	}}
	reduceMean = &reduction{name: "mean", dtype: floatDType, run: func(m *meter, l *lanes, out *Array) error {
		if columnLanes(l) {
			err := sumColumns(m, l, out.buf.f)
			for j := range out.buf.f {
				out.buf.f[j] /= float64(l.n)
			}
			return err
		}
		return eachFloatLane(m, l, func(x []float64) float64 { return laneSum(m, x, l) / float64(len(x)) }, out.buf.f)
	}}
	reduceNansum = &reduction{name: "nansum", dtype: sumDType, run: func(m *meter, l *lanes, out *Array) error {
		if out.dtype == Float64 {
			return eachFloatLane(m, l, func(x []float64) float64 { s, _ := nanSum(m, x); return s }, out.buf.f)
		}
		return eachIntLane(m, l, sumInts, out.buf.i)
	}}
	reduceNanmean = &reduction{name: "nanmean", dtype: floatDType, run: func(m *meter, l *lanes, out *Array) error {
		return eachFloatLane(m, l, func(x []float64) float64 { s, n := nanSum(m, x); return s / float64(n) }, out.buf.f)
	}}
	reduceMin = &reduction{name: "min", dtype: sameDType, empty: "zero-size array to reduction operation minimum which has no identity", run: func(m *meter, l *lanes, out *Array) error {
		return extremum(m, l, out, false)
	}}
	reduceMax = &reduction{name: "max", dtype: sameDType, empty: "zero-size array to reduction operation maximum which has no identity", run: func(m *meter, l *lanes, out *Array) error {
		return extremum(m, l, out, true)
	}}
	reducePtp    = &reduction{name: "ptp", dtype: numericDType, empty: "zero-size array to reduction operation maximum which has no identity", run: ptpLanes}
	reduceArgmin = &reduction{name: "argmin", dtype: intDType, empty: "attempt to get argmin of an empty sequence", run: func(m *meter, l *lanes, out *Array) error {
		return argExtremum(m, l, out, false)
	}}
	reduceArgmax = &reduction{name: "argmax", dtype: intDType, empty: "attempt to get argmax of an empty sequence", run: func(m *meter, l *lanes, out *Array) error {
		return argExtremum(m, l, out, true)
	}}
	reduceCountNonzero = &reduction{name: "count_nonzero", dtype: intDType, run: func(m *meter, l *lanes, out *Array) error {
		return countNonzero(m, l, func(j, nz int) { out.buf.i[j] = int64(nz) })
	}}
	reduceAny = &reduction{name: "any", dtype: boolDType, run: func(m *meter, l *lanes, out *Array) error {
		return countNonzero(m, l, func(j, nz int) { out.buf.b[j] = nz > 0 })
	}}
	reduceAll = &reduction{name: "all", dtype: boolDType, run: func(m *meter, l *lanes, out *Array) error {
		return countNonzero(m, l, func(j, nz int) { out.buf.b[j] = nz == l.n })
	}}
)

// eachFloatLane sets out[j] to f of lane j read as floats.
func eachFloatLane(m *meter, l *lanes, f func(x []float64) float64, out []float64) error {
	scratch := l.scratchFloats()
	for j := range l.count {
		if err := m.add(l.n); err != nil {
			return err
		}
		out[j] = f(l.floats(j, scratch))
		if m.err != nil {
			return m.err
		}
	}
	return nil
}

// eachIntLane sets out[j] to f of lane j read as ints.
func eachIntLane(m *meter, l *lanes, f func(x []int64) int64, out []int64) error {
	scratch := l.scratchInts()
	for j := range l.count {
		if err := m.add(l.n); err != nil {
			return err
		}
		out[j] = f(l.ints(j, scratch))
	}
	return nil
}

// columnLanes reports whether l's lanes are the columns of a float64
// array whose rows are contiguous: then sums run row by row.
func columnLanes(l *lanes) bool {
	return l.a.dtype == Float64 && l.outer == 1 && l.step != 1 && l.count > 1
}

// sumColumns sets out to the sums of the columns l describes, adding row
// after row as numpy does along axis 0: the same order as laneSum's for
// such lanes, but walking memory in order.
func sumColumns(m *meter, l *lanes, out []float64) error {
	clear(out)
	f := l.a.buf.f
	for i := range l.n {
		if err := m.add(l.count); err != nil {
			return err
		}
		row := f[l.start+i*l.step : l.start+i*l.step+l.count]
		for j, v := range row {
			out[j] += v
		}
	}
	return nil
}

// laneSum adds up x the way numpy does for a lane of l: pairwise when
// the lane is contiguous in memory or the whole array (numpy's inner
// loop), one after the other when it runs across rows (numpy then adds
// row after row). Long lanes poll m between chunks.
func laneSum(m *meter, x []float64, l *lanes) float64 {
	if l.step == 1 || l.count == 1 || len(l.shape) == 0 {
		return pairwiseSumM(m, x)
	}
	s := 0.0
	for lo := 0; lo < len(x); lo += longChunk {
		if lo > 0 && !m.poll() {
			return 0
		}
		for _, v := range x[lo:min(len(x), lo+longChunk)] {
			s += v
		}
	}
	return s
}

// pairwiseSumM is pairwiseSum polling m between blocks of a long x: it
// splits x as numpy does, so the sum is the same to the last bit.
func pairwiseSumM(m *meter, x []float64) float64 {
	n := len(x)
	if n <= longChunk {
		return pairwiseSum(x)
	}
	if !m.poll() {
		return 0
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSumM(m, x[:n2]) + pairwiseSumM(m, x[n2:])
}

// pairwiseSum adds up x exactly as numpy's pairwise_sum does: blocks of
// up to 128 with eight accumulators, halves (cut at a multiple of 8) above
// that.
func pairwiseSum(x []float64) float64 {
	n := len(x)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], x[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			y := x[i : i+8 : i+8]
			r[0] += y[0]
			r[1] += y[1]
			r[2] += y[2]
			r[3] += y[3]
			r[4] += y[4]
			r[5] += y[5]
			r[6] += y[6]
			r[7] += y[7]
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += x[i]
		}
		return s
	}
	n2 := n / 2
	n2 -= n2 % 8
	return pairwiseSum(x[:n2]) + pairwiseSum(x[n2:])
}

// nanSum returns the pairwise sum of the elements of x that are not NaN,
// and their count.
func nanSum(m *meter, x []float64) (float64, int) {
	n := 0
	for _, v := range x {
		if v == v {
			n++
		}
	}
	if n == len(x) {
		return pairwiseSumM(m, x), n
	}
	y := make([]float64, 0, n)
	for _, v := range x {
		if v == v {
			y = append(y, v)
		}
	}
	return pairwiseSumM(m, y), n
}

func sumInts(x []int64) int64 {
	var s int64
	for _, v := range x {
		s += v
	}
	return s
}

func prodInts(x []int64) int64 {
	p := int64(1)
	for _, v := range x {
		p *= v
	}
	return p
}

func prodFloats(x []float64) float64 {
	p := 1.0
	for _, v := range x {
		p *= v
	}
	return p
}

// chunked returns f(x) for an f such as min, for which f of the results
// of f over parts of x is f(x), polling m between parts of a long x.
func chunked(m *meter, x []float64, f func([]float64) float64) float64 {
	if len(x) <= 2*longChunk {
		return f(x)
	}
	parts := make([]float64, 0, len(x)/longChunk+1)
	for lo := 0; lo < len(x); lo += longChunk {
		if !m.poll() {
			return 0
		}
		parts = append(parts, f(x[lo:min(len(x), lo+longChunk)]))
	}
	return f(parts)
}

// minFloats returns the least element of x (not empty), NaN if any is.
func minFloats(x []float64) float64 {
	m := x[0]
	for _, v := range x[1:] {
		if v < m {
			m = v
		} else if v != v {
			return v
		}
	}
	return m
}

// maxFloats returns the greatest element of x (not empty), NaN if any is.
func maxFloats(x []float64) float64 {
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		} else if v != v {
			return v
		}
	}
	return m
}

func minInts(x []int64) int64 {
	m := x[0]
	for _, v := range x[1:] {
		m = min(m, v)
	}
	return m
}

func maxInts(x []int64) int64 {
	m := x[0]
	for _, v := range x[1:] {
		m = max(m, v)
	}
	return m
}

// extremum fills out with each lane's maximum (if greatest) or minimum,
// in the lanes' dtype.
func extremum(m *meter, l *lanes, out *Array, greatest bool) error {
	switch out.dtype {
	case Float64:
		f := minFloats
		if greatest {
			f = maxFloats
		}
		return eachFloatLane(m, l, func(x []float64) float64 { return chunked(m, x, f) }, out.buf.f)
	case Int64:
		f := minInts
		if greatest {
			f = maxInts
		}
		return eachIntLane(m, l, f, out.buf.i)
	}
	// bool: the minimum is all, the maximum any.
	return countNonzero(m, l, func(j, nz int) {
		out.buf.b[j] = nz == l.n
		if greatest {
			out.buf.b[j] = nz > 0
		}
	})
}

// ptpLanes fills out with each lane's maximum minus its minimum.
func ptpLanes(m *meter, l *lanes, out *Array) error {
	if out.dtype == Float64 {
		return eachFloatLane(m, l, func(x []float64) float64 { return chunked(m, x, maxFloats) - chunked(m, x, minFloats) }, out.buf.f)
	}
	return eachIntLane(m, l, func(x []int64) int64 { return maxInts(x) - minInts(x) }, out.buf.i)
}

// argExtremum fills out with the index in each lane of its first maximum
// (if greatest) or minimum; of its first NaN if it has one, as numpy.
func argExtremum(m *meter, l *lanes, out *Array, greatest bool) error {
	fs, is := l.scratchFloats(), l.scratchInts()
	for j := range l.count {
		if err := m.add(l.n); err != nil {
			return err
		}
		if l.a.dtype == Float64 {
			out.buf.i[j] = int64(argFloats(l.floats(j, fs), greatest))
		} else {
			out.buf.i[j] = int64(argInts(l.ints(j, is), greatest))
		}
	}
	return nil
}

// argFloats returns the index of the first least (or greatest) element of
// x, or of its first NaN.
func argFloats(x []float64, greatest bool) int {
	k, m := 0, x[0]
	if m != m {
		return 0
	}
	for i, v := range x {
		if v != v {
			return i
		}
		if (greatest && v > m) || (!greatest && v < m) {
			k, m = i, v
		}
	}
	return k
}

// argInts returns the index of the first least (or greatest) element of x.
func argInts(x []int64, greatest bool) int {
	k, m := 0, x[0]
	for i, v := range x {
		if (greatest && v > m) || (!greatest && v < m) {
			k, m = i, v
		}
	}
	return k
}

// countNonzero calls set(j, nz) with the number nz of non-zero elements
// of each lane j.
func countNonzero(m *meter, l *lanes, set func(j, nz int)) error {
	for j := range l.count {
		if err := m.add(l.n); err != nil {
			return err
		}
		p, nz := l.at(j), 0
		for lo := 0; lo < l.n; lo += longChunk {
			if lo > 0 && !m.poll() {
				return m.err
			}
			k := min(l.n-lo, longChunk)
			switch l.a.dtype {
			case Float64:
				f := l.a.buf.f
				for range k {
					if f[p] != 0 {
						nz++
					}
					p += l.step
				}
			case Int64:
				x := l.a.buf.i
				for range k {
					if x[p] != 0 {
						nz++
					}
					p += l.step
				}
			case Bool:
				x := l.a.buf.b
				for range k {
					if x[p] {
						nz++
					}
					p += l.step
				}
			}
		}
		set(j, nz)
	}
	return nil
}

// varBuiltin returns num.var or num.std (if root) (a, axis=None, ddof=0).
func varBuiltin(root bool) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var av, axisv starlark.Value = nil, starlark.None
		ddof := 0
		keepdims := false
		if err := starlark.UnpackArgs(b.Name(), receiverArgs(b, args), kwargs, "a", &av, "axis?", &axisv, "ddof?", &ddof, "keepdims?", &keepdims); err != nil {
			return nil, err
		}
		r := &reduction{name: "var", dtype: floatDType, run: func(m *meter, l *lanes, out *Array) error {
			dev := make([]float64, l.n)
			return eachFloatLane(m, l, func(x []float64) float64 {
				v := variance(m, x, dev, l, ddof)
				if root {
					return math.Sqrt(v)
				}
				return v
			}, out.buf.f)
		}}
		return reduceValue(thread, b.Name(), r, av, axisv, keepdims)
	}
}

// variance computes the variance of x as numpy's _var does: the mean, the
// squared deviations (into dev), their sum over len(x)-ddof (at least 0).
func variance(m *meter, x, dev []float64, l *lanes, ddof int) float64 {
	n := float64(len(x))
	mean := laneSum(m, x, l) / n
	dev = dev[:len(x)]
	for i, v := range x {
		d := v - mean
		dev[i] = d * d
	}
	return laneSum(m, dev, l) / math.Max(n-float64(ddof), 0)
}
