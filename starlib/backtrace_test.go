package starlib_test

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

// TestBacktraceShortensRecursion overflows the stack by direct and mutual
// recursion and checks the shortened traceback: the first and last frames
// kept, the others counted (every frame shown or counted once), the error
// line, and a few lines in all. A short traceback is Starlark's own.
func TestBacktraceShortensRecursion(t *testing.T) {
	for _, test := range []struct {
		name, src string
		want      []string // in this order
		maxLines  int
	}{
		{"direct", "def f(n):\n    return f(n + 1)\nf(0)\n",
			[]string{"Traceback (most recent call last):\n  rec.star:3:2: in <toplevel>\n",
				"  rec.star:2:13: in f\n  rec.star:2:13: in f\n  rec.star:2:13: in f\n  [Previous line repeated ",
				" more times]\n", "Error: Starlark stack overflow"}, 10},
		{"mutual", "def f(n):\n    return g(n + 1)\ndef g(n):\n    return f(n)\nf(0)\n",
			[]string{"Traceback (most recent call last):\n  rec.star:5:2: in <toplevel>\n  rec.star:2:13: in f\n  rec.star:4:13: in g\n",
				"  … ", " more frames\n", "  rec.star:2:13: in f\n", "Error: Starlark stack overflow"}, 45},
		{"short", "def f():\n    fail('x')\nf()\n",
			[]string{"Traceback (most recent call last):\n  rec.star:3:2: in <toplevel>\n  rec.star:2:9: in f\nError in fail: fail: x"}, 4},
	} {
		t.Run(test.name, func(t *testing.T) {
			_, err := starlark.ExecFileOptions(starlib.FileOptions(), new(starlark.Thread), "rec.star", test.src, nil)
			var ee *starlark.EvalError
			if !errors.As(err, &ee) {
				t.Fatalf("running the recursion: %v, want an EvalError", err)
			}
			got := starlib.Backtrace(ee)
			rest := got
			for _, w := range test.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("Backtrace = %q, want it to contain %q (after the earlier parts)", got, w)
				}
				rest = rest[i+len(w):]
			}
			if n := strings.Count(got, "\n") + 1; n > test.maxLines {
				t.Errorf("Backtrace has %d lines, want at most %d:\n%s", n, test.maxLines, got)
			}
			frames := strings.Count(got, ": in ")
			for _, m := range regexp.MustCompile(`repeated (\d+) more times|… (\d+) more frames`).FindAllStringSubmatch(got, -1) {
				n, _ := strconv.Atoi(m[1] + m[2])
				frames += n
			}
			want := len(ee.CallStack)
			if strings.Contains(got, "\nError in ") { // a builtin's frame is named there
				want--
			}
			if frames != want {
				t.Errorf("Backtrace shows or counts %d frames, want the stack's %d:\n%s", frames, want, got)
			}
			if len(ee.CallStack) < 10 && got != ee.Backtrace() {
				t.Errorf("Backtrace of a short stack = %q, want ee.Backtrace() %q", got, ee.Backtrace())
			}
		})
	}
}
