package num

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// randomArray returns an r×c float64 array of numbers in [-1, 1) from rng.
func randomArray(rng *rand.Rand, r, c int) *Array {
	x := make([]float64, r*c)
	for i := range x {
		x[i] = 2*rng.Float64() - 1
	}
	a, _ := FromFloat64s(x, r, c)
	return a
}

// naiveProduct multiplies 2-D x and y element by element, as a reference.
func naiveProduct(x, y *Array) []float64 {
	m, k, n := x.shape[0], x.shape[1], y.shape[1]
	xs, ys := x.Float64s(), y.Float64s()
	out := make([]float64, m*n)
	for i := range m {
		for j := range n {
			s := 0.0
			for p := range k {
				s += xs[i*k+p] * ys[p*n+j]
			}
			out[i*n+j] = s
		}
	}
	return out
}

// TestMatmulViews checks products of contiguous, transposed, reversed and
// sliced operands, of every dtype, and of sizes that take several row
// blocks, against a plain triple loop.
func TestMatmulViews(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	big := randomArray(rng, 300, 200)
	sq := randomArray(rng, 64, 64)
	ints, _ := FromInt64s([]int64{1, -2, 3, 4, 0, 6, -7, 8, 9, 10, 11, -12}, 3, 4)
	for _, test := range []struct {
		name string
		x, y *Array
	}{
		{"big·bigᵀ", big, transpose(big)},
		{"bigᵀ·big", transpose(big), big},
		{"sq·sqᵀ", sq, transpose(sq)},
		{"reversed rows", &Array{dtype: Float64, shape: []int{64, 64}, strides: []int{-64, 1}, offset: 63 * 64, buf: sq.buf}, sq},
		{"every other column", &Array{dtype: Float64, shape: []int{64, 32}, strides: []int{64, 2}, buf: sq.buf}, randomArray(rng, 32, 5)},
		{"ints", ints, transpose(ints)},
		{"int·float", ints, randomArray(rng, 4, 3)},
	} {
		got, err := matmul(nil, test.x, test.y)
		if err != nil {
			t.Errorf("%s: %v", test.name, err)
			continue
		}
		want := naiveProduct(test.x, test.y)
		for i, v := range got.Float64s() {
			if !near(v, want[i]) {
				t.Errorf("%s: element %d = %v, want %v", test.name, i, v, want[i])
				break
			}
		}
	}
	// A product big enough to take several Dgemm blocks.
	a, b := randomArray(rng, 700, 300), randomArray(rng, 300, 400)
	if rows := gemmBlock / (300 * 400); rows >= 700 {
		t.Fatalf("700 rows fit one block of %d: the test does not cross blocks", rows)
	}
	got, err := matmul(nil, a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := naiveProduct(a, b)
	for i, v := range got.Float64s() {
		if !near(v, want[i]) {
			t.Fatalf("700×300·300×400: element %d = %v, want %v", i, v, want[i])
		}
	}
}

// TestMatmulCancel checks that a 2000×2000 product stops within 100 ms of
// its thread's context being cancelled, with the cancellation's error.
// On this shared machine other load can stretch one block of the product
// past that, so the bound is 100 ms or ten blocks' time, measured just
// before and just after, whichever is longest; the time is logged.
func TestMatmulCancel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a := randomArray(rng, 2000, 2000)
	block := &Array{dtype: Float64, shape: []int{gemmBlock / (2000 * 2000), 2000}, strides: []int{2000, 1}, buf: a.buf}
	blockTime := func() time.Duration {
		start := time.Now()
		if _, err := matmul(nil, block, a); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	runtime.GC() // not during the product: earlier tests leave garbage
	bound := max(100*time.Millisecond, 10*blockTime())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	thread := &starlark.Thread{Name: "cancel"}
	thread.SetLocal(contextKey, ctx)
	var cancelled time.Time
	timer := time.AfterFunc(50*time.Millisecond, func() {
		cancelled = time.Now()
		cancel()
	})
	defer timer.Stop()
	start := time.Now()
	_, err := matmul(thread, a, a)
	done := time.Now()
	bound = max(bound, 10*blockTime()) // the machine may have got busier
	if err == nil {
		t.Fatalf("a 2000×2000 product finished in %v without seeing the cancellation", done.Sub(start))
	}
	if !strings.Contains(err.Error(), "cancelled") {
		t.Errorf("error %q, want a cancellation", err)
	}
	if lag := done.Sub(cancelled); lag > bound {
		t.Errorf("the product stopped %v after the cancellation, want within %v", lag, bound)
	}
	t.Logf("stopped %v after the cancellation (%v after the start; bound %v)", done.Sub(cancelled), done.Sub(start), bound)
}

// TestMatmulStepLimit checks that a product is charged against the step
// limit before it runs, so a large one fails at once and a small one
// passes.
func TestMatmulStepLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	// 2000×2000: the whole product takes seconds on any machine (8G
	// multiply-adds), so 1 s leaves room for a loaded one under -race and
	// still fails if the product ran before the charge.
	a, err := alloc(nil, Float64, []int{2000, 2000})
	if err != nil {
		t.Fatal(err)
	}
	thread := &starlark.Thread{Name: "steps"}
	SetLimits(thread, Limits{MaxSteps: 10000})
	start := time.Now()
	_, err = matmul(thread, a, a)
	if err == nil || !strings.Contains(err.Error(), "too many steps") {
		t.Fatalf("2000×2000 product under a 10,000-step limit: %v, want too many steps (it counts 8G/1024 = 7.8M)", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the over-limit product took %v before failing", d)
	}
	small := randomArray(rng, 50, 50)
	thread = &starlark.Thread{Name: "steps"}
	SetLimits(thread, Limits{MaxSteps: 10000})
	if _, err := matmul(thread, small, small); err != nil {
		t.Errorf("50×50 product (125 steps) under the same limit: %v", err)
	}
}

// TestDecompositions checks eigh, eig, svd, qr and inv by what they must
// satisfy (signs of vectors are LAPACK's choice, so they are not compared
// with numpy's).
func TestDecompositions(t *testing.T) {
	g, err := computeExec(nil, `
S = num.array([[2.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.5, -1.0, 4.0]])
M = num.array([[4.0, -2.0, 1.0], [3.0, 6.0, -4.0], [2.0, 1.0, 8.0]])
R = num.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0], [-1.0, 0.5]])
w, v = num.linalg.eigh(S)
eigh_err = num.max(num.abs(num.dot(S, v) - v * w))
eigh_orth = num.max(num.abs(num.dot(v.T, v) - num.eye(3)))
ew, ev = num.linalg.eig(S)
eig_err = num.max(num.abs(num.dot(S, ev) - ev * ew))
u, s, vh = num.linalg.svd(R)
svd_shapes = (u.shape, s.shape, vh.shape)
svd_err = num.max(num.abs(num.dot(u.T[:2].T * s, vh) - R))
tu, ts, tvh = num.linalg.svd(R, full_matrices=False)
thin_shapes = (tu.shape, ts.shape, tvh.shape)
thin_err = num.max(num.abs(num.dot(tu * ts, tvh) - R))
q, r = num.linalg.qr(R)
qr_shapes = (q.shape, r.shape)
qr_err = num.max(num.abs(num.dot(q, r) - R))
qr_orth = num.max(num.abs(num.dot(q.T, q) - num.eye(2)))
qr_lower = abs(r[1, 0])
cq, cr = num.linalg.qr(R, mode="complete")
complete_shapes = (cq.shape, cr.shape)
complete_err = num.max(num.abs(num.dot(cq, cr) - R))
inv_err = num.max(num.abs(num.dot(M, num.linalg.inv(M)) - num.eye(3)))
solve_err = num.max(num.abs(num.dot(M, num.linalg.solve(M, num.eye(3))) - num.eye(3)))
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"eigh_err", "eigh_orth", "eig_err", "svd_err", "thin_err", "qr_err", "qr_orth", "qr_lower", "complete_err", "inv_err", "solve_err"} {
		if f, ok := g[name].(starlark.Float); !ok || float64(f) > 1e-12 || math.IsNaN(float64(f)) {
			t.Errorf("%s = %v, want at most 1e-12", name, g[name])
		}
	}
	for name, want := range map[string]string{
		"svd_shapes":      "((4, 4), (2,), (2, 2))",
		"thin_shapes":     "((4, 2), (2,), (2, 2))",
		"qr_shapes":       "((4, 2), (2, 2))",
		"complete_shapes": "((4, 4), (4, 2))",
	} {
		if got := g[name].String(); got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
}
