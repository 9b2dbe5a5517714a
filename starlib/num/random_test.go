package num

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// seededThread returns a thread with its own RandSource seeded with seed.
func seededThread(seed int64) *starlark.Thread {
	thread := &starlark.Thread{Name: "test"}
	SetRandSource(thread, NewRandSource(seed))
	return thread
}

// evalOn evaluates expr on thread and fails the test on error.
func evalOn(t *testing.T, thread *starlark.Thread, expr string) starlark.Value {
	t.Helper()
	v, err := computeEval(thread, expr)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// TestRandomGolden pins the numbers a seed gives: they must be the same
// on every run and platform, so a change here breaks users' seeded
// results and must be deliberate.
func TestRandomGolden(t *testing.T) {
	for _, test := range []struct{ expr, want string }{
		{"num.random.random(4).tolist()", "[0.3358350514255748, 0.8779001142378786, 0.0865910787555133, 0.07614710583324158]"},
		{"num.random.random()", "0.3358350514255748"},
		{"num.random.uniform(-1.0, 1.0, 3).tolist()", "[-0.3283298971488504, 0.7558002284757572, -0.8268178424889734]"},
		{"num.random.normal(10.0, 2.0, 3).tolist()", "[8.511813588825703, 8.552557702827064, 12.229301772685975]"},
		{"num.random.standard_normal((2, 2)).tolist()", "[[-0.7440932055871485, -0.7237211485864682], [1.1146508863429871, 1.1589724564336032]]"},
		{"num.random.integers(0, 100, 6).tolist()", "[33, 87, 8, 7, 70, 97]"},
		{"num.random.integers(5)", "1"},
		{"num.random.randint(-3, 3, size=(2, 3)).tolist()", "[[-1, 2, -3], [-3, 1, 2]]"},
		{"num.random.choice(10, 5).tolist()", "[3, 8, 0, 0, 7]"},
		{"num.random.choice(num.array([1.5, 2.5, 3.5]), 4, p=[0.2, 0.0, 0.8]).tolist()", "[3.5, 3.5, 1.5, 1.5]"},
		{"num.random.choice(6, 6, replace=False).tolist()", "[2, 5, 0, 3, 1, 4]"},
		{"num.random.permutation(6).tolist()", "[5, 1, 3, 0, 4, 2]"},
		{"num.random.exponential(2.0, 2).tolist()", "[0.818449487656462, 4.2058316669501545]"},
	} {
		got := evalOn(t, seededThread(42), test.expr)
		if got.String() != test.want {
			t.Errorf("seed 42: %s = %s, want %s", test.expr, got, test.want)
		}
	}
}

// TestRandomTransforms checks the golden numbers' construction against
// math/rand/v2 itself: uniform floats are the PCG's top 53 bits over
// 2**53, normals are NormFloat64 over the same PCG.
func TestRandomTransforms(t *testing.T) {
	pcg := rand.NewPCG(7, randSeedMix)
	got := evalOn(t, seededThread(7), "num.random.random(1000)").(*Array).Float64s()
	for i, v := range got {
		if want := float64(pcg.Uint64()>>11) / (1 << 53); v != want {
			t.Fatalf("random(1000)[%d] = %v, want %v", i, v, want)
		}
	}
	r := rand.New(rand.NewPCG(7, randSeedMix))
	got = evalOn(t, seededThread(7), "num.random.standard_normal(1000)").(*Array).Float64s()
	for i, v := range got {
		if want := r.NormFloat64(); v != want {
			t.Fatalf("standard_normal(1000)[%d] = %v, want %v", i, v, want)
		}
	}
}

// TestRandomSeed checks that num.random.seed restarts the thread's stream
// (its own, or the process-wide one), and that threads with different
// sources draw different numbers.
func TestRandomSeed(t *testing.T) {
	thread := seededThread(1)
	first := evalOn(t, thread, "num.random.random(3).tolist()").String()
	evalOn(t, thread, "num.random.seed(1)")
	if again := evalOn(t, thread, "num.random.random(3).tolist()").String(); again != first {
		t.Errorf("after seed(1): %s, want %s as at the start", again, first)
	}
	if other := evalOn(t, seededThread(2), "num.random.random(3).tolist()").String(); other == first {
		t.Errorf("seeds 1 and 2 both gave %s", first)
	}
	// A thread without a source uses the process-wide default, which seed
	// reseeds.
	plain := &starlark.Thread{Name: "plain"}
	evalOn(t, plain, "num.random.seed(1)")
	if got := evalOn(t, plain, "num.random.random(3).tolist()").String(); got != first {
		t.Errorf("default source after seed(1): %s, want %s", got, first)
	}
	evalOn(t, plain, "num.random.seed()")
	if got := evalOn(t, plain, "num.random.random(3).tolist()").String(); got == first {
		t.Errorf("default source after seed(): %s again", got)
	}
	// Big seeds are hashed, the same way every time.
	a := evalOn(t, seededThread(0), "[num.random.seed(1180591620717411303424), num.random.random()][1]").String()
	b := evalOn(t, seededThread(5), "[num.random.seed(1180591620717411303424), num.random.random()][1]").String()
	if a != b {
		t.Errorf("seed(1180591620717411303424) gave %s and %s", a, b)
	}
}

// TestRandomDistributions checks shapes, dtypes, ranges and the first two
// moments of large samples (bounds of about 6 standard errors, so they
// fail only if the transform is wrong).
func TestRandomDistributions(t *testing.T) {
	thread := seededThread(3)
	const n = 200000
	for _, test := range []struct {
		expr       string
		mean, sdev float64
		lo, hi     float64
	}{
		{"num.random.random(200000)", 0.5, math.Sqrt(1.0 / 12), 0, 1},
		{"num.random.uniform(-2.0, 6.0, 200000)", 2, 8 / math.Sqrt(12), -2, 6},
		{"num.random.normal(3.0, 0.5, 200000)", 3, 0.5, math.Inf(-1), math.Inf(1)},
		{"num.random.exponential(2.0, 200000)", 2, 2, 0, math.Inf(1)},
		{"num.random.integers(-5, 5, 200000)", -0.5, math.Sqrt(99.0 / 12), -5, 4},
		{"num.random.integers(0, 2, 200000, endpoint=True)", 1, math.Sqrt(8.0 / 12), 0, 2},
	} {
		a := evalOn(t, thread, test.expr).(*Array)
		if !slices.Equal(a.shape, []int{n}) {
			t.Errorf("%s: shape %s", test.expr, shapeString(a.shape))
			continue
		}
		x := a.Float64s()
		mean := pairwiseSum(x) / n
		ss := 0.0
		for _, v := range x {
			ss += (v - mean) * (v - mean)
			if v < test.lo || v > test.hi || (test.hi == 1 && v == 1) {
				t.Errorf("%s: %v outside [%v, %v]", test.expr, v, test.lo, test.hi)
				break
			}
		}
		sdev := math.Sqrt(ss / n)
		if math.Abs(mean-test.mean) > 6*test.sdev/math.Sqrt(n) || math.Abs(sdev-test.sdev) > 0.02*test.sdev {
			t.Errorf("%s: mean %v sdev %v, want %v and %v", test.expr, mean, sdev, test.mean, test.sdev)
		}
	}
	if v := evalOn(t, thread, "num.random.integers(0, 100, (3, 4))").(*Array); v.dtype != Int64 || !slices.Equal(v.shape, []int{3, 4}) {
		t.Errorf("integers(0, 100, (3, 4)): %s %s, want int64 (3, 4)", v.dtype, shapeString(v.shape))
	}
	if v := evalOn(t, thread, "num.random.random((0,))").(*Array); v.Size() != 0 {
		t.Errorf("random((0,)) has %d elements", v.Size())
	}
	// The whole int64 range, and a range wider than int64's positive half.
	evalOn(t, thread, "num.random.integers(-9223372036854775808, 9223372036854775807, 10, endpoint=True)")
	evalOn(t, thread, "num.random.integers(-9223372036854775808, 9223372036854775807, 10)")
}

// TestRandomPermutations checks shuffle, permutation and choice without
// replacement keep exactly the elements they were given.
func TestRandomPermutations(t *testing.T) {
	g, err := computeExec(seededThread(9), `
a = num.arange(100)
num.random.shuffle(a)
m = num.arange(12).reshape(4, 3)
num.random.shuffle(m)
p = num.random.permutation(num.array([1.5, 2.5, 3.5, 4.5]))
c = num.random.choice(50, 50, replace=False)
`)
	if err != nil {
		t.Fatal(err)
	}
	sortedCopyOf := func(name string) []float64 {
		x := slices.Clone(g[name].(*Array).Float64s())
		slices.Sort(x)
		return x
	}
	if got := sortedCopyOf("a"); !slices.Equal(got, counting(100)) {
		t.Errorf("shuffle(arange(100)) lost elements: %v", got)
	}
	if slices.Equal(g["a"].(*Array).Float64s(), counting(100)) {
		t.Errorf("shuffle(arange(100)) left it in order")
	}
	m := g["m"].(*Array).Int64s()
	for r := range 4 {
		if m[3*r]%3 != 0 || m[3*r+1] != m[3*r]+1 || m[3*r+2] != m[3*r]+2 {
			t.Errorf("shuffle of a 2-D array broke a row: %v", m)
		}
	}
	if got := sortedCopyOf("p"); !slices.Equal(got, []float64{1.5, 2.5, 3.5, 4.5}) {
		t.Errorf("permutation lost elements: %v", got)
	}
	if got := sortedCopyOf("c"); !slices.Equal(got, counting(50)) {
		t.Errorf("choice(50, 50, replace=False) = %v, want every index once", got)
	}
}

func counting(n int) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = float64(i)
	}
	return x
}

// TestRandomErrors checks num.random's errors.
func TestRandomErrors(t *testing.T) {
	for _, test := range []struct{ expr, want string }{
		{"num.random.random(-1)", "num.random.random: size=-1 is not a valid dimension"},
		{"num.random.random((2, 2, 2))", "num.random.random: size=(2, 2, 2) has 3 dimensions; num arrays have at most 2"},
		{"num.random.random('x')", "num.random.random: size must be None, an int or a tuple of ints, not string"},
		{"num.random.normal(0, -1.0)", "num.random.normal: scale < 0"},
		{"num.random.uniform(0, num.inf)", "num.random.uniform: high - low is not finite"},
		{"num.random.integers(5, 5)", "num.random.integers: low >= high (low=5, high=5)"},
		{"num.random.integers(0)", "num.random.integers: low >= high (low=0, high=0)"},
		{"num.random.integers(1.5)", "num.random.integers: for parameter low"},
		{"num.random.choice(3, 4, replace=False)", "num.random.choice: Cannot take a larger sample than population when replace=False (size 4, population 3)"},
		{"num.random.choice(num.ones((2, 2)))", "num.random.choice: a has shape (2, 2): a must be 1-dimensional or an integer"},
		{"num.random.choice(0, 1)", "num.random.choice: a cannot be empty unless no samples are taken"},
		{"num.random.choice(3, p=[0.5, 0.5])", "num.random.choice: p has shape (2,): a and p must have same size (3)"},
		{"num.random.choice(2, p=[0.5, 0.6])", "num.random.choice: probabilities do not sum to 1"},
		{"num.random.choice(2, p=[1.5, -0.5])", "num.random.choice: p[1] = -0.5: probabilities are not non-negative"},
		{"num.random.shuffle([1, 2])", "num.random.shuffle: for parameter x: got list, want ndarray"},
		{"num.random.seed('x')", "num.random.seed: seed must be an int or None, not string"},
		{"num.random.permutation(-1)", "num.random.permutation: x=-1 must be a non-negative int or an array"},
	} {
		_, err := computeEval(seededThread(1), test.expr)
		if err == nil {
			t.Errorf("%s: no error, want %q", test.expr, test.want)
			continue
		}
		if !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: error %q, want it to contain %q", test.expr, err, test.want)
		}
	}
}

// TestRandomFrozen checks that shuffle refuses a frozen array and leaves
// it as it was.
func TestRandomFrozen(t *testing.T) {
	a, _ := FromFloat64s([]float64{1, 2, 3})
	a.Freeze()
	shuffle := Module.Members["random"].(starlark.HasAttrs)
	fn, _ := shuffle.Attr("shuffle")
	_, err := starlark.Call(seededThread(1), fn, starlark.Tuple{a}, nil)
	if err == nil || !strings.Contains(err.Error(), "num.random.shuffle: cannot shuffle frozen ndarray") {
		t.Errorf("shuffle(frozen) = %v, want a frozen-array error", err)
	}
	if !slices.Equal(a.Float64s(), []float64{1, 2, 3}) {
		t.Errorf("shuffle(frozen) changed it to %v", a.Float64s())
	}
}
