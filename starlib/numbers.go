// This file defines the Python-habit number builtins sum, round and
// divmod.

package starlib

import (
	"fmt"
	"math"
	"math/big"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// def sum(iterable, start=0):
//
// sum returns start plus the elements of iterable, added left to right
// with +, as Python 3.11's sum: ints stay exact ints of any size, an int
// and a float give a float, and lists or tuples concatenate when start is
// one. Strings are refused, as in Python: use "".join(seq). For long
// float sums, num.sum is faster and rounds less.
func sum(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var iterable starlark.Iterable
	var acc starlark.Value = starlark.MakeInt(0)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "iterable", &iterable, "start?", &acc); err != nil {
		return nil, err
	}
	switch acc.(type) {
	case starlark.String:
		return nil, fmt.Errorf(`%s: cannot sum strings: use "".join(seq) instead`, b.Name())
	case starlark.Bytes:
		return nil, fmt.Errorf(`%s: cannot sum bytes: use b"".join(seq) instead`, b.Name())
	}
	iter := iterable.Iterate()
	defer iter.Done()
	var x starlark.Value
	for i := 0; iter.Next(&x); i++ {
		var err error
		if acc, err = starlark.Binary(syntax.PLUS, acc, x); err != nil {
			return nil, fmt.Errorf("%s: element %d: %v", b.Name(), i, err)
		}
	}
	return acc, nil
}

// def round(x, ndigits=None):
//
// round rounds x (an int or a float) to the nearest multiple of
// 10**-ndigits, a tie going to the even neighbour (banker's rounding), as
// Python 3's round:
//   - with ndigits None or omitted, the result is an int: round(2.5) is 2,
//     round(3.5) is 4; it fails for an infinite or NaN float;
//   - with ndigits an int, the result has x's type: round(2.675, 2) is 2.67
//     (2.675 is really 2.67499…), round(1234, -2) is 1200; a float is
//     rounded from its exact value and infinities and NaN stay as they are.
func round(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, nd starlark.Value = nil, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x, "ndigits?", &nd); err != nil {
		return nil, err
	}
	v, err := roundValue(x, nd)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return v, nil
}

// roundValue returns round(x, nd).
func roundValue(x, nd starlark.Value) (starlark.Value, error) {
	if err := checkNumbers(x); err != nil {
		return nil, err
	}
	if nd == starlark.None {
		if f, ok := x.(starlark.Float); ok {
			return starlark.NumberToInt(starlark.Float(math.RoundToEven(float64(f))))
		}
		return x, nil
	}
	ndi, ok := nd.(starlark.Int)
	if !ok {
		return nil, fmt.Errorf("for parameter ndigits: got %s, want int or None", nd.Type())
	}
	n, ok := ndi.Int64()
	if !ok {
		n = int64(ndi.Sign()) * math.MaxInt32
	}
	if i, ok := x.(starlark.Int); ok {
		return roundInt(i, n)
	}
	return roundFloat(float64(x.(starlark.Float)), n)
}

// roundInt returns x rounded to a multiple of 10**-n, ties to even.
func roundInt(x starlark.Int, n int64) (starlark.Value, error) {
	if n >= 0 {
		return x, nil
	}
	if -n > int64(len(x.String())) {
		return starlark.MakeInt(0), nil // 10**-n > 2*|x|
	}
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(-n), nil)
	q := roundHalfEven(new(big.Rat).SetFrac(x.BigInt(), p))
	return starlark.MakeBigInt(q.Mul(q, p)), nil
}

// roundFloat returns f rounded to a multiple of 10**-n, ties to even, as
// CPython's float.__round__: the exact value is rounded, then converted
// back to the nearest float.
func roundFloat(f float64, n int64) (starlark.Value, error) {
	switch {
	case math.IsInf(f, 0) || math.IsNaN(f) || n > 323:
		return starlark.Float(f), nil // 323: past the last digit of any float
	case n < -308:
		return starlark.Float(math.Copysign(0, f)), nil
	}
	p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(abs64(n)), nil))
	r := new(big.Rat).SetFloat64(f)
	if n >= 0 {
		r.Mul(r, p)
	} else {
		r.Quo(r, p)
	}
	r.SetInt(roundHalfEven(r))
	if n >= 0 {
		r.Quo(r, p)
	} else {
		r.Mul(r, p)
	}
	g, _ := r.Float64()
	if math.IsInf(g, 0) {
		return nil, fmt.Errorf("rounded value too large to represent")
	}
	return starlark.Float(math.Copysign(g, f)), nil
}

// abs64 returns |n|.
func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// roundHalfEven returns the int nearest r, the even one of two.
func roundHalfEven(r *big.Rat) *big.Int {
	q, m := new(big.Int).DivMod(r.Num(), r.Denom(), new(big.Int)) // floor, 0 <= m < denom
	switch c := new(big.Int).Lsh(m, 1).Cmp(r.Denom()); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		q.Add(q, big.NewInt(1))
	}
	return q
}

// def divmod(x, y):
//
// divmod returns the tuple (x // y, x % y) of two ints or floats, as
// Python's divmod: the quotient is floored and the remainder has the
// sign of y; ints give exact ints, and a float on either side gives
// floats. y must not be zero.
func divmod(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 2, &x, &y); err != nil {
		return nil, err
	}
	if err := checkNumbers(x, y); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	xi, xok := x.(starlark.Int)
	yi, yok := y.(starlark.Int)
	if xok && yok {
		if yi.Sign() == 0 {
			return nil, fmt.Errorf("%s: division by zero (divmod(%v, 0))", b.Name(), x)
		}
		return starlark.Tuple{xi.Div(yi), xi.Mod(yi)}, nil
	}
	fx, err := finiteFloat(x)
	if err == nil {
		var fy float64
		if fy, err = finiteFloat(y); err == nil && fy == 0 {
			err = fmt.Errorf("division by zero (divmod(%v, %v))", x, y)
		}
		if err == nil {
			q, m := floatDivmod(fx, fy)
			return starlark.Tuple{starlark.Float(q), starlark.Float(m)}, nil
		}
	}
	return nil, fmt.Errorf("%s: %v", b.Name(), err)
}

// floatDivmod returns x // y and x % y for y != 0, as CPython's
// float_divmod.
func floatDivmod(x, y float64) (float64, float64) {
	mod := math.Mod(x, y)
	div := (x - mod) / y
	if mod != 0 {
		if (y < 0) != (mod < 0) {
			mod += y
			div -= 1
		}
	} else {
		mod = math.Copysign(0, y)
	}
	if div == 0 {
		return math.Copysign(0, x/y), mod
	}
	floor := math.Floor(div)
	if div-floor > 0.5 {
		floor++
	}
	return floor, mod
}
