package num

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFmod checks fmod against math.Mod bit for bit: edge values, and
// random pairs over many magnitudes and signs.
func TestFmod(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	edge := []float64{0, math.Copysign(0, -1), 1, -1, 7, -7, 0.1, -0.1, 3.5, 1e-300, 5e-324, -5e-324,
		1 << 52, 1<<52 + 1, 1 << 53, 1e16, 1e300, -1e300, math.MaxFloat64, math.SmallestNonzeroFloat64,
		inf, -inf, nan, 2.0 / 3, 1e-17, 6.02214076e23, 0.3, 0.7}
	same := func(a, b float64) {
		t.Helper()
		got, want := fmod(a, b), math.Mod(a, b)
		if math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
			t.Fatalf("fmod(%v, %v) = %v (%#x), want math.Mod's %v (%#x)", a, b, got, math.Float64bits(got), want, math.Float64bits(want))
		}
	}
	for _, a := range edge {
		for _, b := range edge {
			same(a, b)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2_000_000 {
		a := (r.Float64()*2 - 1) * math.Pow(10, float64(r.IntN(40)-20))
		b := (r.Float64()*2 - 1) * math.Pow(10, float64(r.IntN(40)-20))
		if r.IntN(4) == 0 {
			b = math.Trunc(b) + 1 // integral divisors, as in a % 7
		}
		if r.IntN(4) == 0 {
			a = b * math.Trunc(a) // exact multiples and their neighbours
			same(math.Nextafter(a, inf), b)
			same(math.Nextafter(a, -inf), b)
		}
		same(a, b)
	}
}

func BenchmarkFmod(b *testing.B) {
	xs := make([]float64, 1<<12)
	for i := range xs {
		xs[i] = float64(i * 40)
	}
	var sink float64
	for i := 0; b.Loop(); i++ {
		sink += fmod(xs[i&(len(xs)-1)], 7)
	}
	_ = sink
}

func BenchmarkMathMod(b *testing.B) {
	xs := make([]float64, 1<<12)
	for i := range xs {
		xs[i] = float64(i * 40)
	}
	var sink float64
	for i := 0; b.Loop(); i++ {
		sink += math.Mod(xs[i&(len(xs)-1)], 7)
	}
	_ = sink
}
