package num

import (
	"encoding/json"
	"math"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// computeEval evaluates a Starlark expression with num and the test data
// PAIRWISE predeclared, on thread (a fresh one if nil).
func computeEval(thread *starlark.Thread, expr string) (starlark.Value, error) {
	if thread == nil {
		thread = &starlark.Thread{Name: "test"}
	}
	env := starlark.StringDict{"num": Module, "PAIRWISE": pairwiseData()}
	return starlark.EvalOptions(&syntax.FileOptions{}, thread, "expr", expr, env)
}

// computeExec executes a Starlark program with num predeclared and
// returns its globals.
func computeExec(thread *starlark.Thread, src string) (starlark.StringDict, error) {
	if thread == nil {
		thread = &starlark.Thread{Name: "test"}
	}
	return starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "test.star", src, starlark.StringDict{"num": Module})
}

// pairwiseData returns the 100,000 floats gen_compute.py builds as
// PAIRWISE, computed by the same float operations, frozen.
var pairwiseData = sync.OnceValue(func() *Array {
	x := make([]float64, 100000)
	for i := range x {
		x[i] = float64(i%1000)*0.001 + 1.0/float64(i+1)
	}
	a, _ := FromFloat64s(x)
	a.Freeze()
	return a
})

// computeCase is one case of testdata/compute_expected.json: an array
// (dtype, shape, values), a scalar (type, value) or a tuple (items).
type computeCase struct {
	Expr   string        `json:"expr"`
	DType  string        `json:"dtype"`
	Shape  []int         `json:"shape"`
	Values []any         `json:"values"`
	Type   string        `json:"type"`
	Value  any           `json:"value"`
	Items  []computeCase `json:"items"`
}

// jsonFloat decodes a JSON number, bool or "nan"/"inf"/"-inf".
func jsonFloat(v any) float64 {
	switch v := v.(type) {
	case float64:
		return v
	case bool:
		return b2f(v)
	case string:
		switch v {
		case "nan":
			return math.NaN()
		case "inf":
			return math.Inf(1)
		case "-inf":
			return math.Inf(-1)
		}
	}
	return math.NaN()
}

// near reports whether got equals want within 1e-12 relative (or 1e-12
// absolute near zero, where LAPACK's and gonum's rounding differ), NaN
// equal to NaN.
func near(got, want float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	if got == want {
		return true
	}
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Max(math.Abs(got), math.Abs(want)))
}

// TestComputeAgainstNumpy evaluates each expression of
// compute_expected.json and compares the result with numpy's: dtype,
// shape and values of arrays, type and value of scalars.
func TestComputeAgainstNumpy(t *testing.T) {
	data, err := os.ReadFile("testdata/compute_expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []computeCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 1000 {
		t.Fatalf("compute_expected.json has %d cases, want the full set", len(cases))
	}
	for _, c := range cases {
		got, err := computeEval(nil, c.Expr)
		if err != nil {
			t.Errorf("%s: %v", c.Expr, err)
			continue
		}
		checkComputed(t, c.Expr, c, got)
	}
}

// checkComputed compares got with the case want.
func checkComputed(t *testing.T, expr string, want computeCase, got starlark.Value) {
	t.Helper()
	switch {
	case want.Items != nil:
		tup, ok := got.(starlark.Tuple)
		if !ok || len(tup) != len(want.Items) {
			t.Errorf("%s = %s, want a tuple of %d", expr, got.Type(), len(want.Items))
			return
		}
		for k, item := range want.Items {
			checkComputed(t, expr+"["+string(rune('0'+k))+"]", item, tup[k])
		}
	case want.Type != "":
		checkComputedScalar(t, expr, want, got)
	default:
		a, ok := got.(*Array)
		if !ok {
			t.Errorf("%s = %s %v, want an ndarray", expr, got.Type(), got)
			return
		}
		if a.dtype.String() != want.DType || !slices.Equal(a.shape, want.Shape) {
			t.Errorf("%s: dtype %s shape %s, want %s %s", expr, a.dtype, shapeString(a.shape), want.DType, shapeString(want.Shape))
			return
		}
		vals := a.Float64s()
		for k, w := range want.Values {
			if !near(vals[k], jsonFloat(w)) {
				t.Errorf("%s: element %d = %v, want %v", expr, k, vals[k], w)
				return
			}
		}
	}
}

func checkComputedScalar(t *testing.T, expr string, want computeCase, got starlark.Value) {
	t.Helper()
	switch want.Type {
	case "bool":
		if b, ok := got.(starlark.Bool); !ok || bool(b) != want.Value.(bool) {
			t.Errorf("%s = %s %v, want bool %v", expr, got.Type(), got, want.Value)
		}
	case "int":
		i, ok := got.(starlark.Int)
		if n, ok2 := i.Int64(); !ok || !ok2 || float64(n) != want.Value.(float64) {
			t.Errorf("%s = %s %v, want int %v", expr, got.Type(), got, want.Value)
		}
	case "float":
		f, ok := got.(starlark.Float)
		if !ok || !near(float64(f), jsonFloat(want.Value)) {
			t.Errorf("%s = %s %v, want float %v", expr, got.Type(), got, want.Value)
		}
	}
}

// TestComputeErrors checks that bad input fails with a message saying
// what is wrong, where, and what to do.
func TestComputeErrors(t *testing.T) {
	for _, test := range []struct{ expr, want string }{
		{"num.min(num.array([]))", "num.min: zero-size array to reduction operation minimum which has no identity (the array has shape (0,))"},
		{"num.max(num.zeros((3, 0)), axis=1)", "num.max: zero-size array to reduction operation maximum which has no identity (the array has shape (3, 0))"},
		{"num.argmin(num.array([]))", "num.argmin: attempt to get argmin of an empty sequence"},
		{"num.ones(3).argmax(axis=None) + num.ones(0).argmax()", "ndarray.argmax: attempt to get argmax of an empty sequence"},
		{"num.sum(num.ones(3), axis=1)", "num.sum: axis 1 is out of bounds for array of dimension 1"},
		{"num.mean(num.ones((2, 2)), axis=-3)", "num.mean: axis -3 is out of bounds for array of dimension 2"},
		{"num.sum(num.ones(3), axis='x')", "num.sum: axis must be None or an int, not string"},
		{"num.sum('abc')", "num.sum: got string, want an ndarray, a number or a list of numbers"},
		{"num.sum([[1, 2], [3]])", "num.sum: row [1] has 1 elements"},
		{"num.ptp(num.array([True]))", "num.ptp: boolean arrays are not supported"},
		{"num.percentile(num.ones(3), 101)", "num.percentile: Percentiles must be in the range [0, 100], got 101"},
		{"num.quantile(num.ones(3), -0.5)", "num.quantile: Quantiles must be in the range [0, 1], got -0.5"},
		{"num.quantile(num.ones(3), 0.5, method='nearest')", `num.quantile: method="nearest" is not supported`},
		{"num.percentile(num.array([]), 50)", "num.percentile: the array (shape (0,)) has no elements"},
		{"num.percentile(num.array([True]), 50)", "num.percentile: the array is boolean"},
		{"num.var(num.ones(3), ddof='x')", "num.var: for parameter \"ddof\": got string, want int"},
		{"num.dot(num.ones(3), num.ones(4))", "num.dot: shapes (3,) and (4,) not aligned: 3 (dim 0) != 4 (dim 0)"},
		{"num.dot(num.ones((2, 3)), num.ones((2, 3)))", "num.dot: shapes (2, 3) and (2, 3) not aligned: 3 (dim 1) != 2 (dim 0)"},
		{"num.matmul(num.ones((2, 3)), 2)", "num.matmul: operand 1 is a scalar"},
		{"num.inner(num.ones((2, 3)), num.ones((2, 2)))", "num.inner: shapes (2, 3) and (2, 2) do not match"},
		{"num.trace(num.ones(3))", "num.trace: a has shape (3,): trace needs a 2-D array"},
		{"num.linalg.solve(num.array([[1.0, 2.0], [2.0, 4.0]]), num.ones(2))", "num.linalg.solve: Singular matrix"},
		{"num.linalg.solve(num.eye(2), num.ones(3))", "num.linalg.solve: a has shape (2, 2) and b shape (3,): b must have 2 rows"},
		{"num.linalg.solve(num.ones((2, 3)), num.ones(2))", "num.linalg.solve: a has shape (2, 3): Last 2 dimensions of the array must be square"},
		{"num.linalg.inv(num.zeros((2, 2)))", "num.linalg.inv: Singular matrix"},
		{"num.linalg.inv(num.ones(3))", "num.linalg.inv: a has shape (3,): 1-dimensional array given. Array must be two-dimensional"},
		{"num.linalg.det(num.ones((2, 3)))", "num.linalg.det: a has shape (2, 3): Last 2 dimensions"},
		{"num.linalg.norm(num.ones(3), 'fro')", `num.linalg.norm: Invalid norm order "fro" for vectors`},
		{"num.linalg.norm(num.ones((2, 2)), 3)", "num.linalg.norm: Invalid norm order 3 for matrices"},
		{"num.linalg.norm(num.ones(2), 'x')", `num.linalg.norm: Invalid norm order "x"`},
		{"num.linalg.norm(num.ones((2, 2)), axis=(0, 0))", "num.linalg.norm: axis=(0, 0): give two different axes"},
		{"num.linalg.eig(num.array([[0.0, -1.0], [1.0, 0.0]]))", "num.linalg.eig: eigenvalue 0 is complex"},
		{"num.linalg.eigh(num.eye(2), UPLO='X')", `num.linalg.eigh: UPLO="X": give "L" or "U"`},
		{"num.linalg.qr(num.eye(2), mode='full')", `num.linalg.qr: mode="full": give "reduced", "complete" or "r"`},
		{"num.linalg.lstsq(num.eye(2), num.ones(3))", "num.linalg.lstsq: a has shape (2, 2) and b shape (3,)"},
		{"num.linalg.svd(num.zeros((0, 2)))", "num.linalg.svd: a has shape (0, 2): the matrix must not be empty"},
		{"num.sort(num.ones(3), axis=1)", "num.sort: axis 1 is out of bounds for array of dimension 1"},
		{"num.array([[2, 1], [0, 3]]).sort(axis=None)", "ndarray.sort: axis=None cannot sort a 2-D array in place"},
		{"num.searchsorted(num.ones((2, 2)), 1)", "num.searchsorted: a has shape (2, 2): give a sorted 1-D array"},
		{"num.searchsorted(num.ones(2), 1, side='middle')", `num.searchsorted: side="middle": give "left" or "right"`},
		{"num.histogram(num.ones(3), bins=0)", "num.histogram: bins=0: give a positive number of bins"},
		{"num.histogram(num.ones(3), bins=[3, 1, 2])", "num.histogram: bins must increase monotonically, when an array (edge [1] = 1.0 follows 3.0)"},
		{"num.histogram(num.ones(3), range=(2, 1))", "num.histogram: max must be larger than min in range parameter"},
		{"num.histogram(num.array([1.0, num.nan]))", "num.histogram: autodetected range of [nan, nan] is not finite"},
		{"num.histogram(num.ones(3), range=(0, num.inf))", "num.histogram: supplied range of [0.0, +inf] is not finite"},
		{"num.histogram(num.ones(3), weights=num.ones(2))", "num.histogram: weights has shape (2,), a has shape (3,)"},
		{"num.bincount(num.array([1, -1]))", "num.bincount: x[1] = -1: the values must be non-negative"},
		{"num.diff(num.ones(3), n=-1)", "num.diff: order must be non-negative but got -1"},
		{"num.diff(3)", "num.diff: diff requires input that is at least one dimensional"},
		{"num.trapz(num.ones(3), x=num.ones(4))", "num.trapz: x has shape (4,) and y (3,): give x as a 1-D array of the 3 sample points along axis 0"},
		{"num.trapz(2.0)", "num.trapz: y is a scalar"},
		{"num.average(num.ones(3), weights=num.zeros(3))", "num.average: Weights sum to zero, can't be normalized"},
		{"num.average(num.ones((2, 3)), weights=num.ones(3))", "num.average: weights has shape (3,) and a (2, 3)"},
		{"num.sum(num.ones(3), keepdims=1)", "num.sum: for parameter \"keepdims\": got int, want bool"},
		{"num.sum(num.ones(2), dtype='bool')", `num.sum: dtype=bool is not supported here: give "int64" or "float64"`},
		{"num.sum(num.ones(2), dtype='x')", `num.sum: dtype: unknown dtype "x"`},
		{"num.bincount(num.ones(2))", "num.bincount: x is a float64 array of shape (2,): give a 1-D array of non-negative ints"},
	} {
		_, err := computeEval(nil, test.expr)
		if err == nil {
			t.Errorf("%s: no error, want %q", test.expr, test.want)
			continue
		}
		if !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s: error %q, want it to contain %q", test.expr, err, test.want)
		}
	}
}
