package startest_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/startest"
)

// reports is a Reporter that collects the messages it is given.
type reports []string

func (r *reports) Error(args ...any) {
	*r = append(*r, strings.TrimSpace(fmt.Sprint(args...)))
}

// run runs src as test.star and returns the reports.
func run(src string, opts startest.Options) []string {
	var r reports
	startest.RunFile(&r, "test.star", []byte(src), opts)
	return r
}

// checkReports fails unless got has one message matching each of want, in
// order.
func checkReports(t *testing.T, name string, got, want []string) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = regexp.MustCompile(want[i]).MatchString(got[i])
	}
	if !ok {
		t.Errorf("%s: reports = %q, want matches for %q", name, got, want)
	}
}

func TestRunFile(t *testing.T) {
	for _, test := range []struct {
		name string
		src  string
		want []string // regexps, one per report
	}{
		{"passing", "x = 1\n---\nfail('no') ### \"no\"\n", nil},
		{"assert passes", "load('assert.star', 'assert')\nassert.eq(1, 1)", nil},
		{"missing error", "x = 1\ny = 2 ### \"boom\"\n", []string{
			`^test.star:2: expected error matching "boom" did not occur$`}},
		{"missing errors in order", "x = 1 ### `b`\ny = 2 ### a\n", []string{
			`^test.star:1: expected error matching "b"`, `^test.star:2: expected error matching "a"`}},
		{"unexpected error", "x = 1\n---\n\nfail('oops')\n", []string{
			`(?s)^unexpected error: Traceback.*test.star:4:5: in <toplevel>.*Error in fail: fail: oops$`}},
		{"wrong line", "fail('oops')\nx = 1 ### oops\n", []string{
			`(?s)^unexpected error: .*test.star:1:5`, `^test.star:2: expected error matching "oops"`}},
		{"mismatch", "x = 1\n---\nfail('oops') ### \"boom\"\n", []string{
			`^test.star:3: error "fail: oops" does not match pattern "boom"$`}},
		{"assert failure", "load('assert.star', 'assert')\n\nassert.eq(1, 2)\n", []string{
			`(?s)test.star:3:10: in <toplevel>.*Error: 1 != 2`}},
		{"syntax error", "x = 1\n---\nx = = 1 ### `got '=', want primary`\n", nil},
		{"unexpected syntax error", "x = = 1\n", []string{`^test.star:1: unexpected error: got '=', want primary`}},
		{"resolve errors", "x = undefined1 ### undefined1\ny = undefined2 ### undefined2\n", nil},
		{"error in a function, expected at its line", "def f():\n  fail('deep') ### deep\n\nf()\n", nil},
		{"error in a function, expected at the call", "def f():\n  fail('deep')\n\nf() ### deep\n", nil},
		{"dialect", "x = 0\nwhile x < 3:\n  x += 1\ns = set([x])\n", nil},
		{"chunks are separate modules", "x = 1\n---\ny = x ### `undefined: x`\n", nil},
		{"bad quoted pattern", "x = 1 ### \"unterminated\n", []string{
			`^test.star:1: expected error "unterminated: not a Go-quoted string$`}},
		{"bad regexp", "x = 1 ### \"(\"\n", []string{`^test.star:1: expected error: error parsing regexp`}},
		{"empty pattern", "x = 1 ###\n", []string{`^test.star:1: expected error: empty pattern`}},
		{"unknown module", "load('x.star', 'x') ### `cannot load x.star: .*only assert.star`\n", nil},
		{"crlf separators", "x = 1\r\n---\r\nfail('a') ### a\r\n", nil},
		{"bad directive", "# pirun:engines>=zero\n# pirun:timeout=soon\n", []string{
			`(?s)^test.star:1: directive "engines>=zero": want a positive number of engines\n` +
				`test.star:2: directive "timeout=soon": want a positive duration`}},
	} {
		checkReports(t, test.name, run(test.src, startest.Options{}), test.want)
	}
}

func TestRunFileOptions(t *testing.T) {
	var setups int
	opts := startest.Options{
		Predeclared: starlark.StringDict{"answer": starlark.MakeInt(42)},
		Setup:       func(thread *starlark.Thread) { setups++ },
		Load: func(thread *starlark.Thread, module string) (starlark.StringDict, error) {
			if module != "lib.star" {
				return nil, fmt.Errorf("no module %s", module)
			}
			return starlark.StringDict{"f": starlark.String("lib")}, nil
		},
	}
	src := "load('lib.star', 'f')\nload('assert.star', 'assert')\nassert.eq(f, 'lib')\nassert.eq(answer, 42)\n" +
		"---\nload('other.star', 'g') ### `cannot load other.star: no module other.star`\n"
	checkReports(t, "options", run(src, opts), nil)
	if setups != 2 {
		t.Errorf("Setup calls for 2 chunks = %d, want 2", setups)
	}
}

func TestRunFileContext(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	timer := time.AfterFunc(20*time.Millisecond, func() { cancel(fmt.Errorf("test deadline")) })
	defer timer.Stop()
	src := "x = 1\n---\nwhile True: ### `cancelled: test deadline`\n  pass\n---\nx = 2\n"
	checkReports(t, "cancelled", run(src, startest.Options{Context: ctx}), []string{
		`^test.star:6: chunk not run: test deadline$`})
}

func TestParseDirectives(t *testing.T) {
	src := "# pirun:engines>=4\n  # pirun:timeout = 90s\nx = 1\n# pirun:golden=out.txt\n# not pirun:x=1\n"
	d, err := startest.ParseDirectives("t.star", []byte(src))
	if err != nil {
		t.Fatalf("ParseDirectives failed: %v", err)
	}
	want := startest.Directives{"engines>=": "4", "timeout": "90s", "golden": "out.txt"}
	if fmt.Sprint(d) != fmt.Sprint(want) {
		t.Errorf("ParseDirectives = %v, want %v", d, want)
	}
	if got := d.MinEngines(); got != 4 {
		t.Errorf("MinEngines() = %d, want 4", got)
	}
	if got := d.Timeout(); got != 90*time.Second {
		t.Errorf("Timeout() = %v, want 90s", got)
	}
	var none startest.Directives
	if none.MinEngines() != 0 || none.Timeout() != 0 {
		t.Errorf("nil Directives: MinEngines() = %d, Timeout() = %v, want 0, 0", none.MinEngines(), none.Timeout())
	}
}

func TestParseDirectivesErrors(t *testing.T) {
	for _, test := range []struct {
		src, want string
	}{
		{"# pirun:engines", `t.star:1: directive "engines": want # pirun:name=value`},
		{"# pirun:engines=4", `want engines>=N`},
		{"# pirun:engines>=0", `want a positive number of engines`},
		{"# pirun:timeout=-1s", `want a positive duration`},
		{"# pirun:a b=1", `bad name "a b"`},
		{"# pirun:x=1\n# pirun:x=2", `t.star:2: directive "x=2": x is already set`},
	} {
		_, err := startest.ParseDirectives("t.star", []byte(test.src))
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("ParseDirectives(%q) error = %v, want one containing %q", test.src, err, test.want)
		}
	}
}
