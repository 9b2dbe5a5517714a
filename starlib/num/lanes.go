// This file defines lanes, the 1-D runs of elements that a reduction,
// a cumulative sum or a sort along an axis walks, and the typed gathers
// that read one lane into a contiguous slice.

package num

import "go.starlark.net/starlark"

// lanes describes count runs of n elements each: run j starts at buffer
// index start + j*outer, and its elements lie step apart.
type lanes struct {
	a                  *Array
	n, count           int
	start, outer, step int
	shape              []int // the shape of a reduction's result
}

// lanesOf returns the lanes of a along axis, or of all of a (flattened in
// row-major order) if all is set.
func lanesOf(a *Array, axis int, all bool) lanes {
	if all || len(a.shape) < 2 {
		if len(a.shape) == 2 && !a.IsContiguous() {
			a = a.Copy()
		}
		step := 1
		if len(a.shape) == 1 {
			step = a.strides[0]
		}
		return lanes{a: a, n: a.Size(), count: 1, start: a.offset, step: step}
	}
	other := 1 - axis
	return lanes{
		a: a, n: a.shape[axis], count: a.shape[other],
		start: a.offset, outer: a.strides[other], step: a.strides[axis],
		shape: []int{a.shape[other]},
	}
}

// at returns the buffer index of lane j's first element.
func (l *lanes) at(j int) int { return l.start + j*l.outer }

// floats returns lane j as float64s: the array's own memory when it is a
// contiguous float64 run (do not modify it), else scratch (of capacity at
// least n) filled by conversion.
func (l *lanes) floats(j int, scratch []float64) []float64 {
	p := l.at(j)
	if l.n == 0 {
		return scratch[:0]
	}
	if l.a.dtype == Float64 && l.step == 1 {
		return l.a.buf.f[p : p+l.n]
	}
	out := scratch[:l.n]
	switch l.a.dtype {
	case Float64:
		f := l.a.buf.f
		for i := range out {
			out[i] = f[p]
			p += l.step
		}
	case Int64:
		x := l.a.buf.i
		for i := range out {
			out[i] = float64(x[p])
			p += l.step
		}
	case Bool:
		x := l.a.buf.b
		for i := range out {
			out[i] = b2f(x[p])
			p += l.step
		}
	}
	return out
}

// ints returns lane j of an int64 or bool array as int64s, as floats does.
func (l *lanes) ints(j int, scratch []int64) []int64 {
	p := l.at(j)
	if l.n == 0 {
		return scratch[:0]
	}
	if l.a.dtype == Int64 && l.step == 1 {
		return l.a.buf.i[p : p+l.n]
	}
	out := scratch[:l.n]
	switch l.a.dtype {
	case Int64:
		x := l.a.buf.i
		for i := range out {
			out[i] = x[p]
			p += l.step
		}
	case Bool:
		x := l.a.buf.b
		for i := range out {
			out[i] = int64(b2f(x[p]))
			p += l.step
		}
	}
	return out
}

// scratchFloats returns a buffer for floats, nil when every lane can be
// read in place.
func (l *lanes) scratchFloats() []float64 {
	if l.a.dtype == Float64 && l.step == 1 {
		return nil
	}
	return make([]float64, l.n)
}

// scratchInts is scratchFloats for ints.
func (l *lanes) scratchInts() []int64 {
	if l.a.dtype == Int64 && l.step == 1 {
		return nil
	}
	return make([]int64, l.n)
}

// bools returns lane j of a bool array, as floats does.
func (l *lanes) bools(j int, scratch []bool) []bool {
	p := l.at(j)
	if l.n == 0 {
		return scratch[:0]
	}
	if l.step == 1 {
		return l.a.buf.b[p : p+l.n]
	}
	out := scratch[:l.n]
	x := l.a.buf.b
	for i := range out {
		out[i] = x[p]
		p += l.step
	}
	return out
}

// setFloats writes x over lane j of a float64 array.
func (l *lanes) setFloats(j int, x []float64) {
	p, f := l.at(j), l.a.buf.f
	for _, v := range x {
		f[p] = v
		p += l.step
	}
}

// setInts writes x over lane j of an int64 array.
func (l *lanes) setInts(j int, x []int64) {
	p, d := l.at(j), l.a.buf.i
	for _, v := range x {
		d[p] = v
		p += l.step
	}
}

// setBools writes x over lane j of a bool array.
func (l *lanes) setBools(j int, x []bool) {
	p, d := l.at(j), l.a.buf.b
	for _, v := range x {
		d[p] = v
		p += l.step
	}
}

// copyArray returns a new contiguous copy of a, allocated under thread's
// limits.
func copyArray(thread *starlark.Thread, a *Array) (*Array, error) {
	out, err := allocFull(thread, a.dtype, a.shape)
	if err != nil {
		return nil, err
	}
	var l, ol lanes
	if len(a.shape) == 2 {
		l, ol = lanesOf(a, 1, false), lanesOf(out, 1, false)
	} else {
		l, ol = lanesOf(a, 0, true), lanesOf(out, 0, true)
	}
	m := &meter{thread: thread}
	for j := range l.count {
		if err := m.add(l.n); err != nil {
			return nil, err
		}
		p := ol.at(j)
		switch a.dtype {
		case Float64:
			dst := out.buf.f[p : p+l.n]
			copy(dst, l.floats(j, dst))
		case Int64:
			dst := out.buf.i[p : p+l.n]
			copy(dst, l.ints(j, dst))
		case Bool:
			dst := out.buf.b[p : p+l.n]
			copy(dst, l.bools(j, dst))
		}
	}
	return out, nil
}
