package starlib_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

// evalWith evaluates expr in the dialect with the host's predeclared names and
// extra.
func evalWith(t *testing.T, expr string, extra starlark.StringDict) (starlark.Value, error) {
	t.Helper()
	env := predeclared(t, starlib.Host)
	for k, v := range extra {
		env[k] = v
	}
	thread := &starlark.Thread{Name: "eval"}
	return starlark.EvalOptions(starlib.FileOptions(), thread, "expr.star", expr, env)
}

// same reports whether x and y have the same type and value: floats are
// compared bit for bit except that NaN equals NaN.
func same(x, y starlark.Value) bool {
	if x.Type() != y.Type() {
		return false
	}
	switch x := x.(type) {
	case starlark.Float:
		fx, fy := float64(x), float64(y.(starlark.Float))
		return math.Float64bits(fx) == math.Float64bits(fy) || math.IsNaN(fx) && math.IsNaN(fy)
	case starlark.Tuple:
		ty := y.(starlark.Tuple)
		if len(x) != len(ty) {
			return false
		}
		for i := range x {
			if !same(x[i], ty[i]) {
				return false
			}
		}
		return true
	}
	eq, err := starlark.Equal(x, y)
	return err == nil && eq
}

func TestFormatLikeCPython(t *testing.T) {
	for _, test := range formatCases {
		expr := "format(" + test.value + ", spec)"
		got, err := evalWith(t, expr, starlark.StringDict{"spec": starlark.String(test.spec)})
		switch {
		case test.err != "" && err == nil:
			t.Errorf("format(%s, %q) = %v, want an error (CPython raises %s)", test.value, test.spec, got, test.err)
		case test.err == "" && err != nil:
			t.Errorf("format(%s, %q) failed: %v, want %q", test.value, test.spec, err, test.want)
		case test.err == "" && got != starlark.String(test.want):
			t.Errorf("format(%s, %q) = %v, want %q", test.value, test.spec, got, test.want)
		case err != nil && !strings.HasPrefix(err.Error(), "format: "):
			t.Errorf("format(%s, %q) failed with %q, want an error starting \"format: \"", test.value, test.spec, err)
		}
	}
}

func TestNumbersLikeCPython(t *testing.T) {
	for _, test := range exprCases {
		got, err := evalWith(t, test.expr, nil)
		if test.err != "" {
			if err == nil {
				t.Errorf("%s = %v, want an error (CPython raises %s)", test.expr, got, test.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s failed: %v, want %s", test.expr, err, test.want)
			continue
		}
		want, err := evalWith(t, test.want, nil)
		if err != nil {
			t.Fatalf("expected value %s: %v", test.want, err)
		}
		if !same(got, want) {
			t.Errorf("%s = %v (%s), want %v (%s)", test.expr, got, got.Type(), want, want.Type())
		}
	}
}

func TestErrorMessages(t *testing.T) {
	for _, test := range []struct{ expr, want string }{
		{`format(1, ".2d")`, `format: format spec ".2d" for int: precision not allowed in integer format specifier`},
		{`format(1.5, "d")`, `format: format spec "d" for float: unknown format code 'd' for float`},
		{`format("a", "+")`, `format: format spec "+" for string: sign not allowed`},
		{`format([1], ">5")`, `format: cannot format a list with spec ">5"`},
		{`format(1, "5.3.2")`, `format spec "5.3.2" for int: invalid format spec: ".2" is left over`},
		{`format(1, "9" * 20)`, `width too large`},
		{`format(1, ",x")`, `cannot specify ',' with 'x'`},
		{`sum(["a", "b"], "")`, `sum: cannot sum strings: use "".join(seq) instead`},
		{`sum([1, "a"])`, `sum: element 1: unknown binary op: int + string`},
		{`round(float("inf"))`, `round: cannot convert float infinity to integer`},
		{`round("1")`, `round: got string, want int or float`},
		{`round(1.5, 1.0)`, `round: for parameter ndigits: got float, want int or None`},
		{`round(1.7976931348623157e308, -308)`, `round: rounded value too large to represent`},
		{`divmod(7, 0)`, `divmod: division by zero (divmod(7, 0))`},
		{`divmod(7.5, 0)`, `divmod: division by zero (divmod(7.5, 0))`},
		{`divmod(True, 1)`, `divmod: got bool, want int or float`},
	} {
		_, err := evalWith(t, test.expr, nil)
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%s = error %v, want an error containing %q", test.expr, err, test.want)
		}
	}
}

func TestMathInfNaN(t *testing.T) {
	for _, test := range []struct{ expr, want string }{
		{"math.inf", "+inf"},
		{"-math.inf", "-inf"},
		{"math.nan", "nan"},
		{`format(math.nan, "")`, `"nan"`},
		{`math.inf == float("inf")`, "True"},
		{"math.pi > 3.14", "True"},
		{`type(math.nan)`, `"float"`},
	} {
		got, err := evalWith(t, test.expr, nil)
		if err != nil {
			t.Errorf("%s failed: %v", test.expr, err)
			continue
		}
		if s := got.String(); s != test.want {
			t.Errorf("%s = %s, want %s", test.expr, s, test.want)
		}
	}
}

func TestTimeTime(t *testing.T) {
	before := float64(time.Now().UnixNano()) / 1e9
	got, err := evalWith(t, "time.time()", nil)
	after := float64(time.Now().UnixNano()) / 1e9
	f, ok := got.(starlark.Float)
	if err != nil || !ok || float64(f) < before || float64(f) > after {
		t.Errorf("time.time() = %v, %v; want a float between %f and %f", got, err, before, after)
	}
	got, err = evalWith(t, "time.time(year = 2024, month = 2, day = 29).day", nil)
	if err != nil || got != starlark.MakeInt(29) {
		t.Errorf("time.time(year = 2024, month = 2, day = 29).day = %v, %v; want 29", got, err)
	}
}
