// This file defines the constructors: num.array, zeros, ones, full, empty,
// the *_like forms, arange, linspace, eye, identity, and the joins
// concatenate, stack, vstack and hstack.

package num

import (
	"fmt"
	"math"

	"go.starlark.net/starlark"
)

// dtypeArg reads a dtype= argument: None (ok false), a name such as
// "float64", or the builtin float, int or bool, as numpy accepts them.
func dtypeArg(fn string, v starlark.Value) (dt DType, ok bool, err error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return 0, false, nil
	case starlark.String:
		dt, err := ParseDType(string(v))
		if err != nil {
			return 0, false, fmt.Errorf("%s: dtype: %v", fn, err)
		}
		return dt, true, nil
	case *starlark.Builtin:
		if dt, err := ParseDType(v.Name()); err == nil {
			return dt, true, nil
		}
	}
	return 0, false, fmt.Errorf("%s: dtype must be \"float64\", \"int64\" or \"bool\" (or float, int, bool), not %s", fn, v)
}

// shapeArg reads a shape: an int or a tuple or list of at most two
// non-negative ints.
func shapeArg(fn string, v starlark.Value) ([]int, error) {
	if n, ok := v.(starlark.Int); ok {
		d, ok := n.Int64()
		if !ok || d < 0 || d > maxElems {
			return nil, fmt.Errorf("%s: shape %v is not a valid dimension: give a non-negative int or a tuple of them", fn, v)
		}
		return []int{int(d)}, nil
	}
	seq, ok := v.(starlark.Indexable)
	if _, isStr := v.(starlark.String); !ok || isStr {
		return nil, fmt.Errorf("%s: shape must be an int or a tuple of ints, not %s", fn, v.Type())
	}
	if seq.Len() > maxDims {
		return nil, fmt.Errorf("%s: shape %v has %d dimensions; num arrays have at most %d", fn, v, seq.Len(), maxDims)
	}
	shape := make([]int, seq.Len())
	for k := range shape {
		n, ok := seq.Index(k).(starlark.Int)
		d, ok2 := n.Int64()
		if !ok || !ok2 || d < 0 || d > maxElems {
			return nil, fmt.Errorf("%s: shape %v: dimension [%d] must be a non-negative int", fn, v, k)
		}
		shape[k] = int(d)
	}
	return shape, nil
}

// kindOf returns the dtype of a Starlark number, or false (also for an
// int that does not fit in int64).
func kindOf(v starlark.Value) (DType, bool) {
	switch v := v.(type) {
	case starlark.Float:
		return Float64, true
	case starlark.Int:
		_, ok := v.Int64()
		return Int64, ok
	case starlark.Bool:
		return Bool, true
	}
	return 0, false
}

// fromValue converts v (an array, a number, or a list or tuple of numbers,
// of arrays or of equal-length lists) to a new array, of dtype if given,
// else of the widest kind among its elements as numpy infers it.
func fromValue(thread *starlark.Thread, fn string, v starlark.Value, dtype DType, given bool) (*Array, error) {
	if a, ok := v.(*Array); ok {
		if !given {
			dtype = a.dtype
		}
		return convert(thread, a, dtype)
	}
	if _, ok := kindOf(v); ok {
		a, _, err := scalarOrArray(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		if !given {
			dtype = a.dtype
		}
		return convert(thread, a, dtype)
	}
	seq, ok := v.(starlark.Indexable)
	if _, isStr := v.(starlark.String); !ok || isStr {
		return nil, fmt.Errorf("%s: got %s, want a list of numbers, a list of lists of numbers, or an ndarray", fn, v.Type())
	}
	// First pass: the shape, and the widest kind.
	n := seq.Len()
	var shape []int
	kind, seen := Bool, false
	widen := func(d DType) {
		if !seen || promote(kind, d) != kind {
			kind = d
		}
		seen = true
	}
	cols := -1
	for r := range n {
		e := seq.Index(r)
		if d, ok := kindOf(e); ok {
			if cols >= 0 {
				return nil, fmt.Errorf("%s: element [%d] is a number but element [0] is a row: all rows must be lists of the same length", fn, r)
			}
			widen(d)
			continue
		}
		var rowLen int
		switch row := e.(type) {
		case *Array:
			if row.NDim() != 1 {
				return nil, fmt.Errorf("%s: row [%d] is an ndarray of shape %s; rows must be 1-D (num arrays have at most 2 dimensions)", fn, r, shapeString(row.shape))
			}
			rowLen = row.shape[0]
			widen(row.dtype)
		case starlark.Indexable:
			if _, isStr := e.(starlark.String); isStr {
				return nil, fmt.Errorf("%s: element [%d] is a string; want int, float or bool", fn, r)
			}
			rowLen = row.Len()
			for c := range rowLen {
				d, ok := kindOf(row.Index(c))
				if !ok {
					x := row.Index(c)
					if _, nested := x.(starlark.Indexable); nested {
						return nil, fmt.Errorf("%s: element [%d][%d] is a %s: num arrays have at most 2 dimensions", fn, r, c, x.Type())
					}
					return nil, fmt.Errorf("%s: element [%d][%d] is %s; want an int64, a float or a bool", fn, r, c, describe(x))
				}
				widen(d)
			}
		default:
			return nil, fmt.Errorf("%s: element [%d] is %s; want an int64, a float or a bool", fn, r, describe(e))
		}
		if r > 0 && cols < 0 {
			return nil, fmt.Errorf("%s: element [%d] is a row but element [0] is a number: all rows must be lists of the same length", fn, r)
		}
		if cols >= 0 && rowLen != cols {
			return nil, fmt.Errorf("%s: row [%d] has %d elements but row [0] has %d: the array must be rectangular (ragged lists are not arrays)", fn, r, rowLen, cols)
		}
		cols = rowLen
	}
	if cols >= 0 {
		shape = []int{n, cols}
	} else {
		shape = []int{n}
	}
	if !seen {
		kind = Float64 // numpy: num.array([]) is float64
	}
	if !given {
		dtype = kind
	}
	out, err := alloc(thread, dtype, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	// Second pass: fill.
	k := 0
	put := func(e starlark.Value) {
		switch e := e.(type) {
		case starlark.Float:
			out.setFloat(k, float64(e))
		case starlark.Int:
			if i, ok := e.Int64(); ok {
				out.setInt(k, i)
			} else {
				f, _ := starlark.AsFloat(e)
				out.setFloat(k, f)
			}
		case starlark.Bool:
			out.setBool(k, bool(e))
		}
		k++
	}
	for r := range n {
		switch row := seq.Index(r).(type) {
		case *Array:
			if err := assign(thread, out.row(r), row); err != nil {
				return nil, fmt.Errorf("%s: %v", fn, err)
			}
			k += row.shape[0]
		case starlark.Indexable:
			for c := range row.Len() {
				put(row.Index(c))
			}
		default:
			put(row)
		}
	}
	return out, work(thread, out.Size())
}

// setFloat, setInt and setBool store a number at buffer index p of a
// contiguous array, converting it to a's dtype.
func (a *Array) setFloat(p int, x float64) {
	switch a.dtype {
	case Float64:
		a.buf.f[p] = x
	case Int64:
		a.buf.i[p] = int64(x)
	default:
		a.buf.b[p] = x != 0
	}
}

func (a *Array) setInt(p int, x int64) {
	switch a.dtype {
	case Float64:
		a.buf.f[p] = float64(x)
	case Int64:
		a.buf.i[p] = x
	default:
		a.buf.b[p] = x != 0
	}
}

func (a *Array) setBool(p int, x bool) {
	switch a.dtype {
	case Float64:
		a.buf.f[p] = b2f(x)
	case Int64:
		a.buf.i[p] = b2i(x)
	default:
		a.buf.b[p] = x
	}
}

// row returns row r of a 2-D array as a 1-D view.
func (a *Array) row(r int) *Array {
	return &Array{dtype: a.dtype, shape: []int{a.shape[1]}, strides: []int{a.strides[1]}, offset: a.offset + r*a.strides[0], buf: a.buf, th: a.th}
}

// arrayFn is num.array(object, dtype=None).
func arrayFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var obj, dtv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "object", &obj, "dtype?", &dtv); err != nil {
		return nil, err
	}
	dt, given, err := dtypeArg(b.Name(), dtv)
	if err != nil {
		return nil, err
	}
	a, err := fromValue(thread, b.Name(), obj, dt, given)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// asarrayFn is num.asarray(a, dtype=None): a itself if it is an ndarray
// of that dtype (no copy, as numpy), else num.array(a, dtype).
func asarrayFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var obj, dtv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &obj, "dtype?", &dtv); err != nil {
		return nil, err
	}
	dt, given, err := dtypeArg(b.Name(), dtv)
	if err != nil {
		return nil, err
	}
	if a, ok := obj.(*Array); ok && (!given || a.dtype == dt) {
		return a, nil
	}
	return fromValue(thread, b.Name(), obj, dt, given)
}

// filled returns a new array of shape and dtype with every element v.
func filled(thread *starlark.Thread, fn string, shape []int, dtype DType, v starlark.Value) (*Array, error) {
	out, err := alloc(thread, dtype, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	s, _, err := scalarOrArray(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	if s == nil || s.NDim() != 0 {
		return nil, fmt.Errorf("%s: fill value must be a number, not %s", fn, v.Type())
	}
	if err := assign(thread, out, s); err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	return out, nil
}

// zerosFn makes num.zeros, num.ones and num.empty: shape, dtype="float64".
func zerosFn(fill starlark.Value) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var shapev, dtv starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "shape", &shapev, "dtype?", &dtv); err != nil {
			return nil, err
		}
		shape, err := shapeArg(b.Name(), shapev)
		if err != nil {
			return nil, err
		}
		dt, given, err := dtypeArg(b.Name(), dtv)
		if err != nil {
			return nil, err
		}
		if !given {
			dt = Float64
		}
		if fill == nil {
			out, err := alloc(thread, dt, shape)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", b.Name(), err)
			}
			return out, work(thread, out.Size())
		}
		return filled(thread, b.Name(), shape, dt, fill)
	}
}

// fullFn is num.full(shape, fill_value, dtype=None).
func fullFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var shapev, fill, dtv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "shape", &shapev, "fill_value", &fill, "dtype?", &dtv); err != nil {
		return nil, err
	}
	shape, err := shapeArg(b.Name(), shapev)
	if err != nil {
		return nil, err
	}
	dt, given, err := dtypeArg(b.Name(), dtv)
	if err != nil {
		return nil, err
	}
	if !given {
		k, ok := kindOf(fill)
		if !ok {
			return nil, fmt.Errorf("%s: fill_value must be a number, not %s", b.Name(), fill.Type())
		}
		dt = k
	}
	return filled(thread, b.Name(), shape, dt, fill)
}

// likeFn makes num.zeros_like, ones_like, empty_like (fill given) and
// full_like (fill nil: an argument): the shape and dtype of a.
func likeFn(fill starlark.Value) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var av, fv, dtv starlark.Value
		var err error
		if fill == nil {
			err = starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "fill_value", &fv, "dtype?", &dtv)
		} else {
			fv = fill
			err = starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "dtype?", &dtv)
		}
		if err != nil {
			return nil, err
		}
		a, ok := av.(*Array)
		if !ok {
			if a, err = fromValue(thread, b.Name(), av, 0, false); err != nil {
				return nil, err
			}
		}
		dt, given, err := dtypeArg(b.Name(), dtv)
		if err != nil {
			return nil, err
		}
		if !given {
			dt = a.dtype
		}
		return filled(thread, b.Name(), a.shape, dt, fv)
	}
}

// arangeFn is num.arange([start,] stop[, step], dtype=None).
func arangeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dtv starlark.Value
	var pos []starlark.Value
	for _, kv := range kwargs {
		switch kv[0].(starlark.String) {
		case "dtype":
			dtv = kv[1]
		default:
			return nil, fmt.Errorf("%s: unexpected keyword argument %s: use num.arange([start,] stop[, step], dtype=None)", b.Name(), kv[0])
		}
	}
	pos = args
	if len(pos) < 1 || len(pos) > 3 {
		return nil, fmt.Errorf("%s: got %d positional arguments, want 1 to 3: num.arange([start,] stop[, step])", b.Name(), len(pos))
	}
	start, stop, step := starlark.Value(starlark.MakeInt(0)), pos[0], starlark.Value(starlark.MakeInt(1))
	if len(pos) >= 2 {
		start, stop = pos[0], pos[1]
	}
	if len(pos) == 3 {
		step = pos[2]
	}
	kind := Int64
	for _, v := range []starlark.Value{start, stop, step} {
		k, ok := kindOf(v)
		if !ok {
			return nil, fmt.Errorf("%s: arguments must be numbers, not %s", b.Name(), v.Type())
		}
		if k == Float64 {
			kind = Float64
		}
	}
	dt, given, err := dtypeArg(b.Name(), dtv)
	if err != nil {
		return nil, err
	}
	if !given {
		dt = kind
	}
	if kind == Int64 {
		i0, ok0 := asInt64(start)
		i1, ok1 := asInt64(stop)
		st, ok2 := asInt64(step)
		if !ok0 || !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: arguments must fit in int64", b.Name())
		}
		if st == 0 {
			return nil, fmt.Errorf("%s: step must not be zero", b.Name())
		}
		n := int64(0)
		if st > 0 && i1 > i0 {
			n = (i1 - i0 + st - 1) / st
		} else if st < 0 && i1 < i0 {
			n = (i0 - i1 - st - 1) / -st
		}
		if n > maxElems || n < 0 {
			return nil, fmt.Errorf("%s: a range from %d to %d by %d has too many elements", b.Name(), i0, i1, st)
		}
		out, err := alloc(thread, Int64, []int{int(n)})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		x := out.buf.i
		err = pieces(thread, 1, len(x), func(_, c, n int) {
			for k := c; k < c+n; k++ {
				x[k] = i0 + int64(k)*st
			}
		})
		if err != nil {
			return nil, err
		}
		return astype(thread, out, dt)
	}
	f0, _ := starlark.AsFloat(start)
	f1, _ := starlark.AsFloat(stop)
	fs, _ := starlark.AsFloat(step)
	if fs == 0 {
		return nil, fmt.Errorf("%s: step must not be zero", b.Name())
	}
	nf := math.Ceil((f1 - f0) / fs)
	if math.IsNaN(nf) || math.IsInf(nf, 0) {
		return nil, fmt.Errorf("%s: cannot make a range from %v to %v by %v", b.Name(), f0, f1, fs)
	}
	if nf > maxElems {
		return nil, fmt.Errorf("%s: a range from %v to %v by %v has too many elements", b.Name(), f0, f1, fs)
	}
	n := max(int(nf), 0)
	out, err := alloc(thread, Float64, []int{n})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	x := out.buf.f
	err = pieces(thread, 1, len(x), func(_, c, n int) {
		for k := c; k < c+n; k++ {
			x[k] = f0 + float64(k)*fs
		}
	})
	if err != nil {
		return nil, err
	}
	return astype(thread, out, dt)
}

// linspaceFn is num.linspace(start, stop, num=50, endpoint=True,
// retstep=False, dtype=None); with retstep, the pair (samples, step), the
// step NaN when there is no interval (num < 2 with the endpoint).
func linspaceFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var startv, stopv, dtv starlark.Value
	num := 50
	endpoint, retstep := true, false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "start", &startv, "stop", &stopv, "num?", &num, "endpoint?", &endpoint, "retstep?", &retstep, "dtype?", &dtv); err != nil {
		return nil, err
	}
	start, ok1 := starlark.AsFloat(startv)
	stop, ok2 := starlark.AsFloat(stopv)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%s: start and stop must be numbers, not %s and %s", b.Name(), startv.Type(), stopv.Type())
	}
	if num < 0 {
		return nil, fmt.Errorf("%s: num=%d must be non-negative", b.Name(), num)
	}
	dt, given, err := dtypeArg(b.Name(), dtv)
	if err != nil {
		return nil, err
	}
	out, err := allocFull(thread, Float64, []int{num})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	div := num
	if endpoint {
		div = num - 1
	}
	x := out.buf.f
	step := math.NaN() // numpy's step when there is no interval
	if div > 0 {
		step = (stop - start) / float64(div)
		for k := range x {
			x[k] = float64(k)*step + start
		}
		if endpoint {
			x[num-1] = stop
		}
	} else if num > 0 {
		x[0] = start
	}
	if err := work(thread, num); err != nil {
		return nil, err
	}
	res := out
	if given {
		if dt == Int64 {
			uFloorF(x, x, 0, 1) // numpy floors when it casts linspace to ints
		}
		if res, err = astype(thread, out, dt); err != nil {
			return nil, err
		}
	}
	if retstep {
		return starlark.Tuple{res, starlark.Float(step)}, nil
	}
	return res, nil
}

// eyeFn is num.eye(N, M=None, k=0, dtype="float64").
func eyeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var n, k int
	var mv, dtv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "N", &n, "M?", &mv, "k?", &k, "dtype?", &dtv); err != nil {
		return nil, err
	}
	m := n
	if mv != nil && mv != starlark.None {
		if err := starlark.AsInt(mv, &m); err != nil {
			return nil, fmt.Errorf("%s: M: %v", b.Name(), err)
		}
	}
	return eye(thread, b.Name(), n, m, k, dtv)
}

// identityFn is num.identity(n, dtype="float64").
func identityFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var n int
	var dtv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n", &n, "dtype?", &dtv); err != nil {
		return nil, err
	}
	return eye(thread, b.Name(), n, n, 0, dtv)
}

func eye(thread *starlark.Thread, fn string, n, m, k int, dtv starlark.Value) (starlark.Value, error) {
	if n < 0 || m < 0 {
		return nil, fmt.Errorf("%s: negative dimensions (%d, %d) are not allowed", fn, n, m)
	}
	dt, given, err := dtypeArg(fn, dtv)
	if err != nil {
		return nil, err
	}
	if !given {
		dt = Float64
	}
	out, err := alloc(thread, dt, []int{n, m})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	for r := range n {
		if c := r + k; c >= 0 && c < m {
			out.setInt(r*m+c, 1)
		}
	}
	return out, work(thread, n*m)
}

// arraysArg reads a sequence of arrays (or lists or numbers) for the joins.
func arraysArg(thread *starlark.Thread, fn string, v starlark.Value) ([]*Array, error) {
	seq, ok := v.(starlark.Indexable)
	if _, isStr := v.(starlark.String); !ok || isStr {
		return nil, fmt.Errorf("%s: want a list or tuple of arrays, not %s", fn, v.Type())
	}
	if seq.Len() == 0 {
		return nil, fmt.Errorf("%s: need at least one array to join", fn)
	}
	out := make([]*Array, seq.Len())
	for k := range out {
		e := seq.Index(k)
		a, ok := e.(*Array)
		if !ok {
			var err error
			if a, err = fromValue(thread, fmt.Sprintf("%s: array [%d]", fn, k), e, 0, false); err != nil {
				return nil, err
			}
		}
		out[k] = a
	}
	return out, nil
}

// axisArg reads an axis for an array of ndim dimensions (negative counts
// from the end).
func axisArg(fn string, axis, ndim int) (int, error) {
	if axis < -ndim || axis >= ndim {
		return 0, fmt.Errorf("%s: axis %d is out of bounds for an array of dimension %d", fn, axis, ndim)
	}
	if axis < 0 {
		axis += ndim
	}
	return axis, nil
}

// concatenate joins arrays of the same ndim along axis.
func concatenate(thread *starlark.Thread, fn string, arrays []*Array, axis int) (*Array, error) {
	nd := arrays[0].NDim()
	if nd == 0 {
		return nil, fmt.Errorf("%s: zero-dimensional arrays cannot be concatenated: use num.stack or num.array", fn)
	}
	axis, err := axisArg(fn, axis, nd)
	if err != nil {
		return nil, err
	}
	shape := append([]int(nil), arrays[0].shape...)
	dt := arrays[0].dtype
	for k, a := range arrays[1:] {
		if a.NDim() != nd {
			return nil, fmt.Errorf("%s: all the input arrays must have the same number of dimensions, but the array at index 0 has %d dimension(s) and the array at index %d has %d dimension(s)", fn, nd, k+1, a.NDim())
		}
		for d := range nd {
			if d == axis {
				continue
			}
			if a.shape[d] != shape[d] {
				return nil, fmt.Errorf("%s: all the input array dimensions except for the concatenation axis must match exactly, but along dimension %d, the array at index 0 has size %d and the array at index %d has size %d", fn, d, shape[d], k+1, a.shape[d])
			}
		}
		shape[axis] += a.shape[axis]
		dt = promote(dt, a.dtype)
	}
	out, err := alloc(thread, dt, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	at := 0
	for _, a := range arrays {
		part := out.sliceAxis(axis, at, a.shape[axis])
		if err := assign(thread, part, a); err != nil {
			return nil, err
		}
		at += a.shape[axis]
	}
	return out, nil
}

// sliceAxis returns the view of a's elements start to start+n along axis.
func (a *Array) sliceAxis(axis, start, n int) *Array {
	v := &Array{dtype: a.dtype, shape: append([]int(nil), a.shape...), strides: append([]int(nil), a.strides...), offset: a.offset + start*a.strides[axis], buf: a.buf, th: a.th}
	v.shape[axis] = n
	return v
}

// concatenateFn is num.concatenate(arrays, axis=0); axis=None flattens.
func concatenateFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Value
	var axisv starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "arrays", &seq, "axis?", &axisv); err != nil {
		return nil, err
	}
	arrays, err := arraysArg(thread, b.Name(), seq)
	if err != nil {
		return nil, err
	}
	if axisv == starlark.None {
		for k, a := range arrays {
			if arrays[k], err = reshape(thread, b.Name(), a, []int{a.Size()}); err != nil {
				return nil, err
			}
		}
		return concatenate(thread, b.Name(), arrays, 0)
	}
	var axis int
	if err := starlark.AsInt(axisv, &axis); err != nil {
		return nil, fmt.Errorf("%s: axis must be an int or None, not %s", b.Name(), axisv.Type())
	}
	return concatenate(thread, b.Name(), arrays, axis)
}

// stackFn is num.stack(arrays, axis=0): 1-D arrays of one shape joined
// along a new axis.
func stackFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Value
	axis := 0
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "arrays", &seq, "axis?", &axis); err != nil {
		return nil, err
	}
	arrays, err := arraysArg(thread, b.Name(), seq)
	if err != nil {
		return nil, err
	}
	nd := arrays[0].NDim()
	for k, a := range arrays {
		if !sameShape(a.shape, arrays[0].shape) {
			return nil, fmt.Errorf("%s: all input arrays must have the same shape, but the array at index 0 has shape %s and the array at index %d has shape %s", b.Name(), shapeString(arrays[0].shape), k, shapeString(a.shape))
		}
	}
	if nd >= maxDims {
		return nil, fmt.Errorf("%s: stacking arrays of shape %s would make %d dimensions; num arrays have at most %d: use num.concatenate", b.Name(), shapeString(arrays[0].shape), nd+1, maxDims)
	}
	if axis, err = axisArg(b.Name(), axis, nd+1); err != nil {
		return nil, err
	}
	for k, a := range arrays {
		shape := []int{1, a.Size()}
		if axis == 1 {
			shape = []int{a.Size(), 1}
		}
		if arrays[k], err = reshape(thread, b.Name(), a, shape); err != nil {
			return nil, err
		}
	}
	return concatenate(thread, b.Name(), arrays, axis)
}

// vstackFn is num.vstack(arrays): 1-D arrays become rows.
func vstackFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tup", &seq); err != nil {
		return nil, err
	}
	arrays, err := arraysArg(thread, b.Name(), seq)
	if err != nil {
		return nil, err
	}
	for k, a := range arrays {
		if a.NDim() < 2 {
			if arrays[k], err = reshape(thread, b.Name(), a, []int{1, a.Size()}); err != nil {
				return nil, err
			}
		}
	}
	return concatenate(thread, b.Name(), arrays, 0)
}

// hstackFn is num.hstack(arrays): joins 1-D arrays end to end, 2-D arrays
// side by side.
func hstackFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "tup", &seq); err != nil {
		return nil, err
	}
	arrays, err := arraysArg(thread, b.Name(), seq)
	if err != nil {
		return nil, err
	}
	for k, a := range arrays {
		if a.NDim() == 0 {
			arrays[k], _ = reshape(thread, b.Name(), a, []int{1})
		}
	}
	if arrays[0].NDim() == 1 {
		return concatenate(thread, b.Name(), arrays, 0)
	}
	return concatenate(thread, b.Name(), arrays, 1)
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k] != b[k] {
			return false
		}
	}
	return true
}

// asInt64 returns an int or bool as an int64.
func asInt64(v starlark.Value) (int64, bool) {
	switch v := v.(type) {
	case starlark.Int:
		return v.Int64()
	case starlark.Bool:
		return b2i(bool(v)), true
	}
	return 0, false
}

// describe names a bad element in errors: its type, or the int that does
// not fit in int64.
func describe(v starlark.Value) string {
	if i, ok := v.(starlark.Int); ok {
		return fmt.Sprintf("%v, which does not fit in int64 (use a float)", i)
	}
	return "a " + v.Type()
}
