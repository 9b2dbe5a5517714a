package num

import (
	"math/rand/v2"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// benchArrays returns two float64 arrays of n uniform numbers in [0, 1).
func benchArrays(b *testing.B, n int) (*Array, *Array) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float64, n), make([]float64, n)
	for k := range x {
		x[k], y[k] = r.Float64(), r.Float64()
	}
	xa, _ := FromFloat64s(x)
	ya, _ := FromFloat64s(y)
	return xa, ya
}

// BenchmarkPiKernel is the π kernel's arithmetic, x*x + y*y, on 1M floats.
func BenchmarkPiKernel(b *testing.B) {
	x, y := benchArrays(b, 1<<20)
	b.ReportAllocs()
	b.SetBytes(2 * 8 << 20)
	for b.Loop() {
		xx, _ := x.Binary(syntax.STAR, x, starlark.Left)
		yy, _ := y.Binary(syntax.STAR, y, starlark.Left)
		if _, err := xx.(*Array).Binary(syntax.PLUS, yy, starlark.Left); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLessEqual is num.less_equal(r, 1.0) on 1M floats.
func BenchmarkLessEqual(b *testing.B) {
	r, _ := benchArrays(b, 1<<20)
	thread := &starlark.Thread{}
	le := Module.Members["less_equal"].(*starlark.Builtin)
	args := starlark.Tuple{r, starlark.Float(1)}
	b.ReportAllocs()
	b.SetBytes(8 << 20)
	for b.Loop() {
		if _, err := starlark.Call(thread, le, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCountTrue counts the true elements of a 1M-element mask, the
// last step of the π kernel, as num.count_nonzero does (or a mask's
// selection, where count_nonzero is not in the module).
func BenchmarkCountTrue(b *testing.B) {
	r, _ := benchArrays(b, 1<<20)
	thread := &starlark.Thread{}
	mask, err := opLessEq.apply(thread, r, scalarF(0.5))
	if err != nil {
		b.Fatal(err)
	}
	count, ok := Module.Members["count_nonzero"].(*starlark.Builtin)
	b.ReportAllocs()
	b.SetBytes(1 << 20)
	for b.Loop() {
		if ok {
			if _, err := starlark.Call(thread, count, starlark.Tuple{mask}, nil); err != nil {
				b.Fatal(err)
			}
			continue
		}
		if _, _, err := r.Get(mask); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPiScript is the whole π estimate over 1M samples as a script
// writes it, through the interpreter.
func BenchmarkPiScript(b *testing.B) {
	x, y := benchArrays(b, 1<<20)
	predeclared := starlark.StringDict{"num": Module, "x": x, "y": y}
	prog := `n = num.count_nonzero(num.less_equal(x*x + y*y, 1.0)) if "count_nonzero" in dir(num) else len(x[num.less_equal(x*x + y*y, 1.0)])`
	b.ReportAllocs()
	for b.Loop() {
		thread := &starlark.Thread{}
		if _, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "pi.star", prog, predeclared); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSqrt is num.sqrt on 1M floats.
func BenchmarkSqrt(b *testing.B) {
	x, _ := benchArrays(b, 1<<20)
	thread := &starlark.Thread{}
	sqrt := Module.Members["sqrt"].(*starlark.Builtin)
	b.ReportAllocs()
	b.SetBytes(8 << 20)
	for b.Loop() {
		if _, err := starlark.Call(thread, sqrt, starlark.Tuple{x}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBroadcast is a (1000, 1) column plus a (1000,) row.
func BenchmarkBroadcast(b *testing.B) {
	x, y := benchArrays(b, 1000)
	col, _ := reshape(nil, "", x, []int{1000, 1})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := col.Binary(syntax.PLUS, y, starlark.Left); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSmallOp is a + 1.0 on a 3-element array: the fixed cost of an
// operator.
func BenchmarkSmallOp(b *testing.B) {
	a, _ := FromFloat64s([]float64{1, 2, 3})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Binary(syntax.PLUS, starlark.Float(1), starlark.Left); err != nil {
			b.Fatal(err)
		}
	}
}
