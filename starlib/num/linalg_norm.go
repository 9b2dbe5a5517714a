// This file defines num.linalg.norm.

package num

import (
	"fmt"
	"math"
	"slices"

	"go.starlark.net/starlark"
	"gonum.org/v1/gonum/mat"
)

// normOrd is a parsed ord argument: None, a number (±inf included), or
// "fro" or "nuc".
type normOrd struct {
	none bool
	p    float64
	name string
}

func (o normOrd) String() string {
	switch {
	case o.none:
		return "None"
	case o.name != "":
		return fmt.Sprintf("%q", o.name)
	}
	return fmt.Sprint(o.p)
}

// linalgNorm is num.linalg.norm(x, ord=None, axis=None): numpy's vector
// or matrix norm. A 1-D x (or axis an int) gives vector norms: ord None
// or 2 the Euclidean norm, inf max(abs), -inf min(abs), 0 the count of
// non-zeros, any other p sum(abs(x)**p)**(1/p). A 2-D x (axis None or
// (0, 1)) gives a matrix norm: None or "fro" Frobenius, "nuc" the sum of
// singular values, 1 / -1 the max / min column sum of abs, inf / -inf the
// max / min row sum of abs, 2 / -2 the largest / smallest singular value.
func linalgNorm(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var xv, ordv, axisv starlark.Value = nil, starlark.None, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &xv, "ord?", &ordv, "axis?", &axisv); err != nil {
		return nil, err
	}
	x, err := computeArray(b.Name(), xv)
	if err != nil {
		return nil, err
	}
	ord, err := parseOrd(b.Name(), ordv)
	if err != nil {
		return nil, err
	}
	if t, ok := axisv.(starlark.Tuple); ok && len(t) == 2 && x.NDim() == 2 {
		a0, _, err0 := parseAxis(b.Name(), t[0], 2)
		a1, _, err1 := parseAxis(b.Name(), t[1], 2)
		if err0 != nil || err1 != nil || a0 == a1 {
			return nil, fmt.Errorf("%s: axis=%v: give two different axes of a 2-D array, (0, 1) or (1, 0)", b.Name(), axisv)
		}
		if a0 == 1 {
			x = transpose(x)
		}
		axisv = starlark.None
	}
	axis, all, err := parseAxis(b.Name(), axisv, x.NDim())
	if err != nil {
		return nil, err
	}
	if err := work(thread, x.Size()); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if all && x.NDim() == 2 && !(ord.none) {
		v, err := matrixNorm(thread, b.Name(), x, ord)
		if err != nil {
			return nil, err
		}
		return starlark.Float(v), nil
	}
	if !ord.none && ord.name != "" && (!all || x.NDim() < 2) {
		return nil, fmt.Errorf("%s: Invalid norm order %s for vectors: give None, a number or inf", b.Name(), ord)
	}
	l := lanesOf(x, axis, all)
	out, err := alloc(thread, Float64, l.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	m := &meter{thread: thread}
	if err := eachFloatLane(m, &l, func(v []float64) float64 { return vectorNorm(v, ord) }, out.buf.f); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return result(out), nil
}

// parseOrd reads norm's ord.
func parseOrd(fname string, v starlark.Value) (normOrd, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return normOrd{none: true}, nil
	case starlark.String:
		if v == "fro" || v == "nuc" {
			return normOrd{name: string(v)}, nil
		}
	case starlark.Int, starlark.Float:
		f, _ := starlark.AsFloat(v)
		return normOrd{p: f}, nil
	}
	return normOrd{}, fmt.Errorf("%s: Invalid norm order %s: give None, a number, inf, -inf, \"fro\" or \"nuc\"", fname, v.String())
}

// vectorNorm returns the ord-norm of x.
func vectorNorm(x []float64, ord normOrd) float64 {
	p := ord.p
	if ord.none || p == 2 {
		s := 0.0
		for _, v := range x {
			s += v * v
		}
		return math.Sqrt(s)
	}
	if len(x) == 0 && (math.IsInf(p, 0)) {
		return math.NaN()
	}
	switch {
	case math.IsInf(p, 1):
		m := 0.0
		for _, v := range x {
			m = math.Max(m, math.Abs(v))
		}
		return m
	case math.IsInf(p, -1):
		m := math.Inf(1)
		for _, v := range x {
			m = math.Min(m, math.Abs(v))
		}
		return m
	case p == 0:
		n := 0.0
		for _, v := range x {
			if v != 0 {
				n++
			}
		}
		return n
	case p == 1:
		s := 0.0
		for _, v := range x {
			s += math.Abs(v)
		}
		return s
	}
	s := 0.0
	for _, v := range x {
		s += math.Pow(math.Abs(v), p)
	}
	return math.Pow(s, 1/p)
}

// matrixNorm returns the ord-norm of the 2-D array x.
func matrixNorm(thread *starlark.Thread, fname string, x *Array, ord normOrd) (float64, error) {
	r, c := x.shape[0], x.shape[1]
	switch {
	case ord.name == "fro":
		return vectorNorm(x.Float64s(), normOrd{none: true}), nil
	case ord.name == "nuc" || ord.p == 2 || ord.p == -2:
		if r == 0 || c == 0 {
			return 0, fmt.Errorf("%s: x has shape %s: the matrix must not be empty for ord=%s", fname, shapeString(x.shape), ord)
		}
		if err := cost(thread, fname, max(r, c)); err != nil {
			return 0, err
		}
		var svd mat.SVD
		if !svd.Factorize(mat.NewDense(r, c, slices.Clone(x.Float64s())), mat.SVDNone) {
			return 0, fmt.Errorf("%s: SVD did not converge", fname)
		}
		s := svd.Values(nil)
		switch {
		case ord.name == "nuc":
			return pairwiseSum(s), nil
		case ord.p == 2:
			return s[0], nil
		}
		return s[len(s)-1], nil
	case ord.p == 1 || ord.p == -1:
		return absSums(x, 0, ord.p > 0), nil
	case math.IsInf(ord.p, 0):
		return absSums(x, 1, ord.p > 0), nil
	}
	return 0, fmt.Errorf("%s: Invalid norm order %s for matrices: give None, \"fro\", \"nuc\", 1, -1, 2, -2, inf or -inf", fname, ord)
}

// absSums returns the largest (or smallest) sum of absolute values along
// axis: over rows (axis 0, giving column sums) or columns (axis 1).
func absSums(x *Array, axis int, largest bool) float64 {
	l := lanesOf(x, axis, false)
	if l.count == 0 || l.n == 0 && !largest {
		return 0
	}
	best := math.Inf(-1)
	if !largest {
		best = math.Inf(1)
	}
	scratch := l.scratchFloats()
	for j := range l.count {
		s := 0.0
		for _, v := range l.floats(j, scratch) {
			s += math.Abs(v)
		}
		if largest {
			best = math.Max(best, s)
		} else {
			best = math.Min(best, s)
		}
	}
	return best
}
