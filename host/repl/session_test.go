package repl

import (
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/api"
)

func TestCellStatus(t *testing.T) {
	for _, test := range []struct {
		code, status, indent string
	}{
		{"x = 1", "complete", ""},
		{"def f(x):", "incomplete", "    "},
		{"def f(x):\n    if x:", "incomplete", "        "},
		{"def f(x):\n    return x", "incomplete", "    "},
		{"def f(x):\n    return x\n", "complete", ""}, // Enter on the empty line runs it
		{"def f(x):\n    return x\n\n", "complete", ""},
		{"f(1,", "incomplete", ""},
		{"x = )", "invalid", ""},
		{"%px a = 1", "complete", ""},
		{"%%px\na = 1", "incomplete", ""},
		{"%%px\na = 1\n\n", "complete", ""},
	} {
		status, indent := CellStatus(test.code)
		if status != test.status || indent != test.indent {
			t.Errorf("CellStatus(%q) = %s %q, want %s %q", test.code, status, indent, test.status, test.indent)
		}
	}
}

func TestCellCompleteInspect(t *testing.T) {
	r := &REPL{globals: starlark.StringDict{
		"lview":  &api.LoadBalancedView{},
		"value":  starlark.MakeInt(3),
		"remote": starlark.NewBuiltin("remote", nil),
	}}
	for _, test := range []struct {
		code      string
		cursor    int
		want      string
		wantStart int
	}{
		{"lview.map_a", 11, "map_async", 6},
		{"x = 1\nlview.app", 15, "apply", 12},
		{"val", 3, "value", 0},
		{"%engi", 5, "%engines", 0},
	} {
		got, start := r.Complete(test.code, test.cursor)
		if !slices.Contains(got, test.want) || start != test.wantStart {
			t.Errorf("Complete(%q, %d) = %q, %d; want %q among them, %d", test.code, test.cursor, got, start, test.want, test.wantStart)
		}
	}
	for _, test := range []struct {
		code   string
		cursor int
		want   string
	}{
		{"lview.map(f, xs)", 7, "lview.map(f, *seqs, chunksize=1, ordered=True)"},
		{"remote", 2, "remote(f, targets=None, block=True)"},
		{"value", 5, "value: int = 3"},
	} {
		doc, ok := r.Inspect(test.code, test.cursor)
		if !ok || !strings.Contains(doc, test.want) {
			t.Errorf("Inspect(%q, %d) = %q, %v; want it to contain %q", test.code, test.cursor, doc, ok, test.want)
		}
	}
	if doc, ok := r.Inspect("nosuchname", 3); ok {
		t.Errorf("Inspect(nosuchname) = %q, true; want not found", doc)
	}
}

func TestChunkNames(t *testing.T) {
	r := &REPL{cfg: Config{Cells: true}}
	r.cell, r.n = 4, 3
	if got := []string{r.nextName(), r.nextName()}; !slices.Equal(got, []string{"<cell:4>", "<cell:4.2>"}) {
		t.Errorf("names of a cell's chunks = %q, want <cell:4> then <cell:4.2>", got)
	}
	r = &REPL{}
	if got := r.nextName(); got != "<stdin:1>" {
		t.Errorf("a terminal session's first chunk = %q, want <stdin:1>", got)
	}
}
