package starlib_test

import (
	"errors"
	"testing"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib"
)

func TestExplainKeepsTypeAndPosition(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		{"x = 1\ny = x ** 2\n", "f.star:2:9: Starlark has no ** operator: use pow(x, y)"},
		{"import os\n", "f.star:1:1: Starlark has no import: modules are predeclared: json, math, time, random, num, struct; load(\"file.star\", \"name\") loads your own .star files"},
		{"x = [f'{y}' for y in z]\n", "f.star:1:12: Starlark has no f-strings: use format(x, spec) or \"%s\" % x"},
		{"x = 1 +\n", "f.star:1:8: got newline, want primary expression"},
	} {
		_, _, err := starlark.SourceProgramOptions(starlib.FileOptions(), "f.star", test.src, func(string) bool { return true })
		got := starlib.Explain(test.src, err)
		var se syntax.Error
		if !errors.As(got, &se) || got.Error() != test.want {
			t.Errorf("Explain(%q) = %v (%T), want syntax.Error %q", test.src, got, got, test.want)
		}
	}
}

func TestExplainResolve(t *testing.T) {
	src := "a = isinstance(1, int)\nb = nosuch\n"
	_, _, err := starlark.SourceProgramOptions(starlib.FileOptions(), "f.star", src, func(n string) bool { return n == "int" })
	got := starlib.Explain(src, err)
	var list resolve.ErrorList
	if !errors.As(got, &list) || len(list) != 2 {
		t.Fatalf("Explain(resolve errors) = %v (%T), want a resolve.ErrorList of 2", got, got)
	}
	want := []string{
		"f.star:1:5: undefined: isinstance: Starlark has no isinstance: compare type(x) with a name such as \"int\", \"list\" or \"dict\"",
		"f.star:2:5: undefined: nosuch",
	}
	for i, e := range list {
		if s := e.Pos.String() + ": " + e.Msg; s != want[i] {
			t.Errorf("Explain(resolve errors)[%d] = %q, want %q", i, s, want[i])
		}
	}
	if orig := err.(resolve.ErrorList); orig[0].Msg != "undefined: isinstance" {
		t.Errorf("Explain modified its argument: %q", orig[0].Msg)
	}
}

func TestExplainPassesOthers(t *testing.T) {
	other := errors.New("boom")
	for _, err := range []error{nil, other, syntax.Error{Msg: "got '**', want newline"}} {
		got := starlib.Explain(nil, err)
		if se, ok := err.(syntax.Error); ok {
			if got.(syntax.Error).Msg == se.Msg {
				t.Errorf("Explain(nil, %v) kept the message, want the pow hint", err)
			}
			continue
		}
		if got != err {
			t.Errorf("Explain(nil, %v) = %v, want it unchanged", err, got)
		}
	}
}
