package num

import (
	"math/rand/v2"
	"testing"

	"go.starlark.net/starlark"
)

// benchCall calls num's member path (e.g. "random.random") with args, b.N
// times, through starlark.Call as a script would.
func benchCall(b *testing.B, path []string, args ...starlark.Value) {
	b.Helper()
	var fn starlark.Value = Module
	for _, name := range path {
		v, err := fn.(starlark.HasAttrs).Attr(name)
		if err != nil || v == nil {
			b.Fatalf("num.%v: %v", path, err)
		}
		fn = v
	}
	thread := &starlark.Thread{Name: "bench"}
	SetRandSource(thread, NewRandSource(1))
	b.ResetTimer()
	for range b.N {
		if _, err := starlark.Call(thread, fn, args, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatmul400(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := randomArray(rng, 400, 400), randomArray(rng, 400, 400)
	benchCall(b, []string{"matmul"}, x, y)
}

func BenchmarkMatmul1000(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randomArray(rng, 1000, 1000)
	benchCall(b, []string{"dot"}, x, x)
}

func BenchmarkRandom1M(b *testing.B) {
	benchCall(b, []string{"random", "random"}, starlark.MakeInt(1000000))
}

func BenchmarkNormal1M(b *testing.B) {
	benchCall(b, []string{"random", "normal"}, starlark.Float(0), starlark.Float(1), starlark.MakeInt(1000000))
}

func BenchmarkIntegers1M(b *testing.B) {
	benchCall(b, []string{"random", "integers"}, starlark.MakeInt(0), starlark.MakeInt(1000), starlark.MakeInt(1000000))
}

func BenchmarkSum1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	benchCall(b, []string{"sum"}, randomArray(rng, 1, 1000000).Contiguous())
}

func BenchmarkSumAxis0(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	benchCall(b, []string{"sum"}, randomArray(rng, 1000, 1000), starlark.MakeInt(0))
}

func BenchmarkSort1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	x := randomArray(rng, 1, 1000000)
	x = &Array{dtype: Float64, shape: []int{1000000}, strides: []int{1}, buf: x.buf}
	benchCall(b, []string{"sort"}, x)
}

// BenchmarkPiChunk is one 1M-sample chunk of the Monte Carlo π job:
// two random arrays, x*x + y*y, the count below 1.
func BenchmarkPiChunk(b *testing.B) {
	thread := &starlark.Thread{Name: "bench"}
	SetRandSource(thread, NewRandSource(1))
	const src = `
def chunk(n):
    x = num.random.random(n)
    y = num.random.random(n)
    return num.count_nonzero(num.less(x * x + y * y, 1.0))
`
	g, err := computeExec(thread, src)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := starlark.Call(thread, g["chunk"], starlark.Tuple{starlark.MakeInt(1000000)}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrapz5M is one engine's half of the trapezoid integral over
// 10M points.
func BenchmarkTrapz5M(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	y := randomArray(rng, 1, 5000000)
	y = &Array{dtype: Float64, shape: []int{5000000}, strides: []int{1}, buf: y.buf}
	benchCall(b, []string{"trapz"}, y)
}
