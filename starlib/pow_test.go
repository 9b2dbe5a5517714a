package starlib_test

import (
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

// eval evaluates expr in the dialect with the host's predeclared names.
func eval(t *testing.T, expr string) (starlark.Value, error) {
	t.Helper()
	thread := &starlark.Thread{Name: "eval"}
	return starlark.EvalOptions(starlib.FileOptions(), thread, "expr", expr, predeclared(t, starlib.Host))
}

func TestPow(t *testing.T) {
	for _, test := range []struct {
		expr, want string
	}{
		{"pow(2, 10)", "1024"},
		{"pow(2, 100)", "1267650600228229401496703205376"},
		{"pow(-2, 3)", "-8"},
		{"pow(0, 0)", "1"},
		{"pow(7, 0)", "1"},
		{"pow(1, 10 * 10000000000000000000000)", "1"},
		{"pow(-1, 10000000000000000000001)", "-1"},
		{"pow(0, 10000000000000000000001)", "0"},
		{"pow(2, -1)", "0.5"},
		{"pow(-2, -2)", "0.25"},
		{"pow(2.0, 3)", "8.0"},
		{"pow(4, 0.5)", "2.0"},
		{"pow(-8.0, 3)", "-512.0"},
		{"pow(x=3, y=2)", "9"},
		{"pow(3, 4, 5)", "1"},
		{"pow(-2, 3, 5)", "2"},
		{"pow(2, 3, -5)", "-2"},
		{"pow(38, -1, 97)", "23"},
		{"pow(5, -1, 1)", "0"},
		{"pow(7, 0, 1)", "0"},
		{"pow(3, 1000, 10000000000000000000000000007)", "9158763437597338943705316701"},
		{"pow(2, 3, None)", "8"},
	} {
		got, err := eval(t, test.expr)
		if err != nil {
			t.Errorf("%s failed: %v, want %s", test.expr, err, test.want)
			continue
		}
		if got.String() != test.want {
			t.Errorf("%s = %s, want %s", test.expr, got, test.want)
		}
	}
}

func TestPowErrors(t *testing.T) {
	for _, test := range []struct {
		expr, want string
	}{
		{"pow(2, 1 << 30)", tooLarge},
		{"pow(3, 1 << 26)", tooLarge},
		{"pow(-2, pow(10, 30))", tooLarge},
		{"pow(pow(2, 1000), 1 << 20)", tooLarge},
		{"pow(pow(2, 2000), -1)", "pow: int too large to convert to float"},
		{"pow(2.0, pow(2, 2000))", "pow: int too large to convert to float"},
		{"pow(0, -1)", "pow: 0.0 cannot be raised to a negative power"},
		{"pow(0.0, -2.5)", "pow: 0.0 cannot be raised to a negative power"},
		{"pow(-8, 1.0 / 3)", "pow: negative number cannot be raised to a fractional power"},
		{"pow(2, 3, 0)", "pow: 3rd argument cannot be 0"},
		{"pow(2.0, 3, 5)", "pow: 3rd argument not allowed unless all arguments are integers"},
		{"pow(2, 3, 5.0)", "pow: 3rd argument not allowed unless all arguments are integers"},
		{"pow(2, -1, 4)", "pow: base is not invertible for the given modulus"},
		{`pow("a", 1)`, "pow: got string, want int or float"},
		{"pow(True, 1)", "pow: got bool, want int or float"},
		{"pow(2)", "pow: missing argument for y"},
	} {
		got, err := eval(t, test.expr)
		if err == nil || err.Error() != test.want {
			t.Errorf("%s = %v, %v, want error %q", test.expr, got, err, test.want)
		}
	}
}

// tooLarge is the error for an int result over the size limit.
const tooLarge = "pow: result too large (more than 67108864 bits)"
