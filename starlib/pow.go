// This file defines the pow builtin, since Starlark has no ** operator.

package starlib

import (
	"fmt"
	"math"
	"math/big"

	"go.starlark.net/starlark"
)

// maxPowBits bounds the size of an int result of pow, so that a typo such
// as pow(10, 10**9) fails at once instead of exhausting memory.
const maxPowBits = 1 << 26

// def pow(x, y, mod=None):
//
// pow returns x raised to the power y, following Python:
//   - If x and y are ints and y >= 0, the result is the exact int.
//     A result of more than 2**26 bits is an error ("result too large").
//   - If x and y are ints and y < 0, the result is a float, like
//     float(x) ** float(y).
//   - If either is a float, the result is a float computed by math.Pow; it
//     is an error to raise 0 to a negative power or a negative number to a
//     power that is not an integer.
//   - pow(x, y, mod) requires three ints and returns x**y % mod, computed
//     efficiently; mod must not be 0, and a negative y needs x to be
//     invertible modulo mod. Like %, the result has the sign of mod.
//
// Booleans are not numbers here, as in the rest of Starlark.
func pow(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x, y, mod starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x, "y", &y, "mod?", &mod); err != nil {
		return nil, err
	}
	if err := checkNumbers(x, y); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	var v starlark.Value
	var err error
	switch {
	case mod != nil && mod != starlark.None:
		v, err = powMod(x, y, mod)
	default:
		xi, xok := x.(starlark.Int)
		yi, yok := y.(starlark.Int)
		if xok && yok && yi.Sign() >= 0 {
			v, err = powInt(xi, yi)
		} else {
			v, err = powFloat(x, y)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return v, nil
}

// checkNumbers fails unless each value is an int or a float.
func checkNumbers(values ...starlark.Value) error {
	for _, v := range values {
		switch v.(type) {
		case starlark.Int, starlark.Float:
		default:
			return fmt.Errorf("got %s, want int or float", v.Type())
		}
	}
	return nil
}

// powInt returns x**y for y >= 0, exactly.
func powInt(x, y starlark.Int) (starlark.Value, error) {
	bx, by := x.BigInt(), y.BigInt()
	if bx.CmpAbs(big.NewInt(1)) > 0 {
		// |x| >= 2, so the result has at least (bits(x)-1)*y+1 bits.
		if !by.IsInt64() || by.Int64() > maxPowBits ||
			int64(bx.BitLen()-1)*by.Int64() >= maxPowBits {
			return nil, fmt.Errorf("result too large (more than %d bits)", maxPowBits)
		}
	}
	return starlark.MakeBigInt(new(big.Int).Exp(bx, by, nil)), nil
}

// powFloat returns float(x)**float(y).
func powFloat(x, y starlark.Value) (starlark.Value, error) {
	fx, err := finiteFloat(x)
	if err != nil {
		return nil, err
	}
	fy, err := finiteFloat(y)
	if err != nil {
		return nil, err
	}
	switch {
	case fx == 0 && fy < 0:
		return nil, fmt.Errorf("0.0 cannot be raised to a negative power")
	case fx < 0 && fy != math.Trunc(fy) && !math.IsNaN(fy):
		return nil, fmt.Errorf("negative number cannot be raised to a fractional power")
	}
	return starlark.Float(math.Pow(fx, fy)), nil
}

// finiteFloat converts an int or a float to a float64, failing for ints
// too large to be finite floats (float values pass unchanged).
func finiteFloat(v starlark.Value) (float64, error) {
	switch v := v.(type) {
	case starlark.Float:
		return float64(v), nil
	case starlark.Int:
		f := float64(v.Float())
		if math.IsInf(f, 0) {
			return 0, fmt.Errorf("int too large to convert to float")
		}
		return f, nil
	}
	return 0, fmt.Errorf("got %s, want int or float", v.Type())
}

// powMod returns x**y % mod for ints, as Python's three-argument pow.
func powMod(x, y, mod starlark.Value) (starlark.Value, error) {
	xi, xok := x.(starlark.Int)
	yi, yok := y.(starlark.Int)
	mi, mok := mod.(starlark.Int)
	if !xok || !yok || !mok {
		return nil, fmt.Errorf("3rd argument not allowed unless all arguments are integers")
	}
	m := mi.BigInt()
	if m.Sign() == 0 {
		return nil, fmt.Errorf("3rd argument cannot be 0")
	}
	abs := new(big.Int).Abs(m)
	base := new(big.Int).Mod(xi.BigInt(), abs)
	exp := yi.BigInt()
	if exp.Sign() < 0 {
		if base.ModInverse(base, abs) == nil {
			return nil, fmt.Errorf("base is not invertible for the given modulus")
		}
		exp.Neg(exp)
	}
	r := new(big.Int).Exp(base, exp, abs)
	r.Mod(r, abs)
	if m.Sign() < 0 && r.Sign() != 0 {
		r.Add(r, m)
	}
	return starlark.MakeBigInt(r), nil
}
