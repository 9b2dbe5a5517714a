// This file defines the module's elementwise functions: num.sqrt and the
// other one-argument functions, the two-argument ones (num.add,
// num.arctan2, num.minimum, …), round and clip.

package num

import (
	"fmt"
	"math"

	"go.starlark.net/starlark"
)

// operand returns v as an array: an ndarray, a number as a 0-d array, or a
// list converted as num.array does.
func operand(thread *starlark.Thread, fn string, v starlark.Value) (*Array, error) {
	a, ok, err := scalarOrArray(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn, err)
	}
	if ok {
		return a, nil
	}
	return fromValue(thread, fn, v, 0, false)
}

// unaryFn makes num.NAME(x) of op: an array for an array, a number for a
// number.
func unaryFn(op *unop) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x, outv starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x, "out?", &outv); err != nil {
			return nil, err
		}
		a, err := operand(thread, b.Name(), x)
		if err != nil {
			return nil, err
		}
		into, err := outArg(b.Name(), outv)
		if err != nil {
			return nil, err
		}
		out, err := op.applyInto(thread, a, into)
		if err != nil {
			return nil, err
		}
		return valueOf(out), nil
	}
}

// binaryFn makes num.NAME(x1, x2) of op, with broadcasting.
func binaryFn(op *binop) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var x, y, outv starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x1", &x, "x2", &y, "out?", &outv); err != nil {
			return nil, err
		}
		into, err := outArg(b.Name(), outv)
		if err != nil {
			return nil, err
		}
		a, err := operand(thread, b.Name(), x)
		if err != nil {
			return nil, err
		}
		c, err := operand(thread, b.Name(), y)
		if err != nil {
			return nil, err
		}
		out, err := op.named().applyInto(thread, a, c, into)
		if err != nil {
			return nil, err
		}
		return valueOf(out), nil
	}
}

// outArg reads an out= argument: None or an ndarray that the result is
// written into, as numpy's out= (it saves allocating a new array).
func outArg(fn string, v starlark.Value) (*Array, error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case *Array:
		return v, nil
	}
	return nil, fmt.Errorf("%s: out must be an ndarray or None, not %s", fn, v.Type())
}

// named returns op as a module function names it in errors: num.add
// rather than +.
func (op *binop) named() *binop {
	if op.sym == "" {
		return op
	}
	c := *op
	c.sym = ""
	return &c
}

// roundFn is num.round(a, decimals=0) (and num.around): numpy's
// round-half-to-even, at decimals digits after the point (negative:
// before it).
func roundFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x starlark.Value
	decimals := 0
	if recv := b.Receiver(); recv != nil {
		x = recv
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "decimals?", &decimals); err != nil {
			return nil, err
		}
	} else if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &x, "decimals?", &decimals); err != nil {
		return nil, err
	}
	a, err := operand(thread, b.Name(), x)
	if err != nil {
		return nil, err
	}
	out, err := round(thread, a, decimals)
	if err != nil {
		return nil, err
	}
	return valueOf(out), nil
}

func round(thread *starlark.Thread, a *Array, decimals int) (*Array, error) {
	if a.dtype != Float64 && decimals >= 0 {
		return convert(thread, a, a.dtype)
	}
	f, err := convert(thread, a, Float64)
	if err != nil {
		return nil, err
	}
	x := f.buf.f
	for lo := 0; lo < len(x); lo += chunk {
		part := x[lo:min(lo+chunk, len(x))]
		switch {
		case decimals == 0:
			uRintF(part, part, 0, 1)
		case decimals > 0:
			scale := math.Pow(10, float64(decimals))
			for k, v := range part {
				part[k] = math.RoundToEven(v*scale) / scale
			}
		default:
			scale := math.Pow(10, float64(-decimals))
			for k, v := range part {
				part[k] = math.RoundToEven(v/scale) * scale
			}
		}
		if err := work(thread, len(part)); err != nil {
			return nil, err
		}
	}
	if a.dtype != Float64 {
		return convert(thread, f, a.dtype)
	}
	return f, nil
}

// clipFn is num.clip(a, a_min, a_max) (and a.clip(a_min, a_max)):
// minimum(maximum(a, a_min), a_max); either bound may be None.
func clipFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, lo, hi starlark.Value
	if recv := b.Receiver(); recv != nil {
		x = recv
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a_min?", &lo, "a_max?", &hi); err != nil {
			return nil, err
		}
	} else if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &x, "a_min", &lo, "a_max", &hi); err != nil {
		return nil, err
	}
	a, err := operand(thread, b.Name(), x)
	if err != nil {
		return nil, err
	}
	none := func(v starlark.Value) bool { return v == nil || v == starlark.None }
	if none(lo) && none(hi) {
		return nil, fmt.Errorf("%s: give a_min or a_max (or both); both are None", b.Name())
	}
	out := a
	for _, bound := range []struct {
		v  starlark.Value
		op *binop
	}{{lo, opMaximum}, {hi, opMinimum}} {
		if none(bound.v) {
			continue
		}
		c, err := operand(thread, b.Name(), bound.v)
		if err != nil {
			return nil, err
		}
		op := *bound.op
		op.name = "clip"
		if out, err = op.apply(thread, out, c); err != nil {
			return nil, err
		}
	}
	if out == a {
		out, err = convert(thread, a, a.dtype)
		if err != nil {
			return nil, err
		}
	}
	return valueOf(out), nil
}

// elementwiseFuncs are the module's elementwise functions.
func elementwiseFuncs() map[string]builtinFunc {
	m := map[string]builtinFunc{
		"abs":         unaryFn(uopAbs),
		"absolute":    unaryFn(uopAbs),
		"square":      unaryFn(uopSquare),
		"sign":        unaryFn(uopSign),
		"negative":    unaryFn(uopNegative),
		"positive":    unaryFn(uopPositive),
		"isnan":       unaryFn(uopIsnan),
		"isinf":       unaryFn(uopIsinf),
		"isfinite":    unaryFn(uopIsfinite),
		"logical_not": unaryFn(uopNot),
		"invert":      unaryFn(uopInvert),
		"round":       roundFn,
		"around":      roundFn,
		"rint":        unaryFn(&unop{name: "rint", f: uRintF, float: true}),
		"clip":        clipFn,
	}
	for name, f := range floatUnops {
		m[name] = unaryFn(&unop{name: name, f: f, float: true})
	}
	for _, op := range []*binop{opAdd, opSub, opMul, opDiv, opFloorDiv, opMod, opBitAnd, opBitOr, opXor,
		opPower, opMinimum, opMaximum, opArctan2, opHypot,
		opLess, opLessEq, opGreater, opGreaterE, opEqual, opNotEqual, opLogAnd, opLogOr, opLogXor} {
		m[op.name] = binaryFn(op)
	}
	m["divide"] = binaryFn(opDiv)
	m["mod"] = binaryFn(opMod)
	return m
}
