// This file defines the comparisons that give one answer or choose between
// arrays: num.where, array_equal, isclose, allclose; and the ndarray's
// Starlark comparison (==, <), which refuses to guess.

package num

import (
	"fmt"
	"math"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

var _ starlark.Comparable = (*Array)(nil)

// CompareSameType implements starlark.Comparable. Starlark's comparisons
// must give one bool, and numpy's give arrays, so both == and < between
// arrays are errors that say which function to call.
func (a *Array) CompareSameType(op syntax.Token, y starlark.Value, depth int) (bool, error) {
	switch op {
	case syntax.EQL, syntax.NEQ:
		return false, fmt.Errorf("ndarray %s ndarray is ambiguous in Starlark: use num.array_equal(a, b) for one bool, or num.equal(a, b) / num.not_equal(a, b) for an array of bools", op)
	}
	names := map[syntax.Token]string{syntax.LT: "less", syntax.LE: "less_equal", syntax.GT: "greater", syntax.GE: "greater_equal"}
	return false, fmt.Errorf("ndarray %s ndarray: Starlark comparisons cannot give arrays: use num.%s(a, b)", op, names[op])
}

// whereFn is num.where(condition, x, y), choosing elementwise with
// broadcasting, and num.where(condition), the indices of the true elements
// as a tuple of int64 arrays, one per axis.
func whereFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cv, xv, yv starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &cv, &xv, &yv); err != nil {
		return nil, err
	}
	c, err := operand(thread, b.Name(), cv)
	if err != nil {
		return nil, err
	}
	if c, err = astype(thread, c, Bool); err != nil {
		return nil, err
	}
	if xv == nil && yv == nil {
		return nonzero(thread, b.Name(), c)
	}
	if xv == nil || yv == nil {
		return nil, fmt.Errorf("%s: give both x and y, or neither", b.Name())
	}
	x, err := operand(thread, b.Name(), xv)
	if err != nil {
		return nil, err
	}
	y, err := operand(thread, b.Name(), yv)
	if err != nil {
		return nil, err
	}
	shape, err := broadcastShape(c.shape, x.shape, y.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	dt := promote(x.dtype, y.dtype)
	if x, err = astype(thread, x, dt); err != nil {
		return nil, err
	}
	if y, err = astype(thread, y, dt); err != nil {
		return nil, err
	}
	out, err := allocFull(thread, dt, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	rows, cols := dims2(shape)
	cw, xw, yw := viewOf(c, shape), viewOf(x, shape), viewOf(y, shape)
	err = pieces(thread, rows, cols, func(r, col, n int) {
		o := r*cols + col
		ci, xi, yi := cw.off+r*cw.s0+col*cw.s1, xw.off+r*xw.s0+col*xw.s1, yw.off+r*yw.s0+col*yw.s1
		switch dt {
		case Float64:
			choose(out.buf.f[o:o+n], c.buf.b, ci, cw.s1, x.buf.f, xi, xw.s1, y.buf.f, yi, yw.s1)
		case Int64:
			choose(out.buf.i[o:o+n], c.buf.b, ci, cw.s1, x.buf.i, xi, xw.s1, y.buf.i, yi, yw.s1)
		default:
			choose(out.buf.b[o:o+n], c.buf.b, ci, cw.s1, x.buf.b, xi, xw.s1, y.buf.b, yi, yw.s1)
		}
	})
	if err != nil {
		return nil, err
	}
	return valueOf(out), nil
}

// choose fills out with x where c is true and y elsewhere, reading each
// from its index by its stride.
func choose[T any](out []T, c []bool, ci, cs int, x []T, xi, xs int, y []T, yi, ys int) {
	for k := range out {
		if c[ci] {
			out[k] = x[xi]
		} else {
			out[k] = y[yi]
		}
		ci += cs
		xi += xs
		yi += ys
	}
}

// nonzero returns the indices of c's true elements, one int64 array per
// axis, as numpy's nonzero.
func nonzero(thread *starlark.Thread, fn string, c *Array) (starlark.Value, error) {
	if len(c.shape) == 0 {
		return nil, fmt.Errorf("%s: the condition is a single value, not an array: give an array, or use x if c else y", fn)
	}
	m := c.Contiguous().Bools()
	n := 0
	for _, x := range m {
		if x {
			n++
		}
	}
	_, cols := dims2(c.shape)
	idx := make(starlark.Tuple, len(c.shape))
	arrays := make([]*Array, len(c.shape))
	for k := range arrays {
		a, err := alloc(thread, Int64, []int{n})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn, err)
		}
		arrays[k], idx[k] = a, a
	}
	j := 0
	for p, x := range m {
		if !x {
			continue
		}
		if len(c.shape) == 1 {
			arrays[0].buf.i[j] = int64(p)
		} else {
			arrays[0].buf.i[j] = int64(p / cols)
			arrays[1].buf.i[j] = int64(p % cols)
		}
		j++
	}
	return idx, work(thread, len(m))
}

// arrayEqualFn is num.array_equal(a1, a2, equal_nan=False): True if both
// have one shape and equal elements.
func arrayEqualFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var xv, yv starlark.Value
	equalNaN := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a1", &xv, "a2", &yv, "equal_nan?", &equalNaN); err != nil {
		return nil, err
	}
	x, err := operand(thread, b.Name(), xv)
	if err != nil {
		return nil, err
	}
	y, err := operand(thread, b.Name(), yv)
	if err != nil {
		return nil, err
	}
	if !sameShape(x.shape, y.shape) {
		return starlark.False, nil
	}
	eq, err := opEqual.named().apply(thread, x, y)
	if err != nil {
		return nil, err
	}
	if equalNaN && x.dtype == Float64 && y.dtype == Float64 {
		xn, err := uopIsnan.apply(thread, x)
		if err != nil {
			return nil, err
		}
		yn, err := uopIsnan.apply(thread, y)
		if err != nil {
			return nil, err
		}
		both, err := opLogAnd.apply(thread, xn, yn)
		if err != nil {
			return nil, err
		}
		if eq, err = opLogOr.apply(thread, eq, both); err != nil {
			return nil, err
		}
	}
	for _, v := range eq.buf.b {
		if !v {
			return starlark.False, nil
		}
	}
	return starlark.True, nil
}

// isclose returns |a - b| <= atol + rtol*|b| elementwise, as numpy's
// isclose: infinities are close to themselves, NaN to nothing unless
// equalNaN.
func isclose(thread *starlark.Thread, fn string, a, b *Array, rtol, atol float64, equalNaN bool) (*Array, error) {
	shape, err := broadcastShape(a.shape, b.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	if a, err = astype(thread, a, Float64); err != nil {
		return nil, err
	}
	if b, err = astype(thread, b, Float64); err != nil {
		return nil, err
	}
	out, err := allocFull(thread, Bool, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	rows, cols := dims2(shape)
	av, bv := viewOf(a, shape), viewOf(b, shape)
	err = drive2(thread, rows, cols, av, bv, func(o, n, ai, as, bi, bs int) {
		res := out.buf.b[o : o+n]
		for k := range res {
			x, y := a.buf.f[ai], b.buf.f[bi]
			switch {
			case x == y:
				res[k] = true
			case x != x || y != y:
				res[k] = equalNaN && x != x && y != y
			case math.IsInf(x, 0) || math.IsInf(y, 0):
				res[k] = false
			default:
				res[k] = math.Abs(x-y) <= atol+rtol*math.Abs(y)
			}
			ai += as
			bi += bs
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// closeArgs unpacks isclose's and allclose's arguments.
func closeArgs(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*Array, error) {
	var xv, yv starlark.Value
	rtol, atol := 1e-05, 1e-08
	equalNaN := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &xv, "b", &yv, "rtol?", &rtol, "atol?", &atol, "equal_nan?", &equalNaN); err != nil {
		return nil, err
	}
	x, err := operand(thread, b.Name(), xv)
	if err != nil {
		return nil, err
	}
	y, err := operand(thread, b.Name(), yv)
	if err != nil {
		return nil, err
	}
	return isclose(thread, b.Name(), x, y, rtol, atol, equalNaN)
}

// iscloseFn is num.isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False).
func iscloseFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	out, err := closeArgs(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return valueOf(out), nil
}

// allcloseFn is num.allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
// True if every pair is close.
func allcloseFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	out, err := closeArgs(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	for _, v := range out.buf.b {
		if !v {
			return starlark.False, nil
		}
	}
	return starlark.True, nil
}

var _ starlark.Container = (*Array)(nil)

// Has implements starlark.Container: x in a is true if some element of a
// equals x, as numpy's (a == x).any().
func (a *Array) Has(y starlark.Value) (bool, error) {
	b, ok, err := scalarOrArray(y)
	if err != nil {
		return false, fmt.Errorf("in ndarray: %v", err)
	}
	if !ok {
		return false, fmt.Errorf("in ndarray: got %s, want a number or an ndarray", y.Type())
	}
	eq, err := opEqual.named().apply(opThread(a, b), a, b)
	if err != nil {
		return false, err
	}
	for _, v := range eq.Bools() {
		if v {
			return true, nil
		}
	}
	return false, nil
}
