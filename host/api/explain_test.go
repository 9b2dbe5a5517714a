package api

import (
	"errors"
	"testing"

	"go.starlark.net/syntax"
)

// TestScriptCheckExplainsPython: a script's Python constructs fail its
// check (before anything is sent) with the Starlark way, at their line.
func TestScriptCheckExplainsPython(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		{"x = 1\ny = x ** 2\n", "p.star:2:9: Starlark has no ** operator: use pow(x, y)"},
		{"import numpy\n", "p.star:1:1: Starlark has no import: modules are predeclared: json, math, time, random, num, struct; load(\"file.star\", \"name\") loads your own .star files"},
		{"n = 3\nprint(f\"n = {n}\")\n", "p.star:2:17: Starlark has no f-strings: use format(x, spec) or \"%s\" % x"},
	} {
		err := (&Script{}).Check("p.star", []byte(test.src))
		var se syntax.Error
		if !errors.As(err, &se) || err.Error() != test.want {
			t.Errorf("Check(%q) = %v, want syntax error %q", test.src, err, test.want)
		}
	}
}
