// This file defines tests of pirun's command line as a user meets it:
// exit statuses, error reports that name the user's file and line, help,
// version and usage errors.

package integration

import (
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cliTimeout bounds one pirun run of these tests.
const cliTimeout = time.Minute

// TestCLIRemoteError: a task that fails on an engine fails the script with
// exit status 1, and the traceback names the user's file and lines: the
// host's call and the engine's frames.
func TestCLIRemoteError(t *testing.T) {
	const file = "testdata/cli/remote_error.star"
	r := runPirun(t, ".", cliTimeout, "-n", "2", file)
	if r.code != 1 {
		t.Errorf("pirun %s = exit %d, want 1\nstderr:\n%s", file, r.code, r.stderr)
	}
	for _, want := range []string{
		"RemoteError",
		"floored division by zero",
		file + ":" + lineOf(t, file, "# host call here") + ":",
		file + ":" + lineOf(t, file, "# engine calls ratio here") + ":",
		file + ":" + lineOf(t, file, "# engine error here") + ":",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("pirun %s: stderr lacks %q\nstderr:\n%s", file, want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "goroutine ") {
		t.Errorf("pirun %s: stderr holds a Go stack trace:\n%s", file, r.stderr)
	}
	if !strings.Contains(r.stdout, "before the map") || strings.Contains(r.stdout, "not reached") {
		t.Errorf("pirun %s: stdout = %q, want the lines before the failed call only", file, r.stdout)
	}
}

// TestCLIScriptErrors: syntax and resolve errors are reported as
// file:line:col with exit status 1, and nothing of the script runs.
func TestCLIScriptErrors(t *testing.T) {
	for _, test := range []struct {
		file, marker string
	}{
		{"testdata/cli/syntax_error.star", "def f(:"},
		{"testdata/cli/resolve_error.star", "print(undefined_name)"},
	} {
		r := runPirun(t, ".", cliTimeout, "-n", "2", test.file)
		at := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(test.file) + `:` + lineOf(t, test.file, test.marker) + `:\d+: `)
		if r.code != 1 || !at.MatchString(r.stderr) {
			t.Errorf("pirun %s = exit %d, stderr %q; want exit 1 and an error at %s", test.file, r.code, r.stderr, at)
		}
		if r.stdout != "" {
			t.Errorf("pirun %s: stdout = %q, want nothing (the script must not run)", test.file, r.stdout)
		}
	}
}

// TestCLISyntaxErrorBeforeCluster: a syntax error is reported even when
// the cluster is unreachable, since it is found before anything is sent.
func TestCLISyntaxErrorBeforeCluster(t *testing.T) {
	const file = "testdata/cli/syntax_error.star"
	r := runPirun(t, ".", cliTimeout, "--connect", "nats://127.0.0.1:1", file)
	if r.code != 1 || !strings.Contains(r.stderr, file+":"+lineOf(t, file, "def f(:")+":") {
		t.Errorf("pirun --connect nats://127.0.0.1:1 %s = exit %d, stderr %q; want exit 1 and the syntax error", file, r.code, r.stderr)
	}
}

// TestCLIArgv: the words after SCRIPT.star are the script's argv, flags
// included.
func TestCLIArgv(t *testing.T) {
	r := runPirun(t, ".", cliTimeout, "-n", "1", "testdata/cli/argv.star", "1000", "two words", "--quiet")
	if want := `["1000", "two words", "--quiet"]` + "\n"; r.code != 0 || r.stdout != want {
		t.Errorf("pirun argv.star ... = exit %d, stdout %q, stderr %q; want exit 0, stdout %q", r.code, r.stdout, r.stderr, want)
	}
}

// TestCLIUsageErrors: mistakes on the command line exit with status 2,
// say what is wrong on stderr and print nothing on stdout.
func TestCLIUsageErrors(t *testing.T) {
	for _, test := range []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"testdata/cli/missing.star"}, "missing.star"},
		{[]string{"-n", "2", "testdata/cli/missing.star"}, "missing.star"},
		{[]string{"--bogus", "testdata/cli/argv.star"}, "bogus"},
		{[]string{"-n", "two", "testdata/cli/argv.star"}, `"two"`},
		{[]string{"-n", "-1", "testdata/cli/argv.star"}, "-1"},
		{[]string{"run"}, "SCRIPT.star"},
		{[]string{"version", "--bogus"}, "bogus"},
		{[]string{"bogus-command"}, "bogus-command"},
	} {
		r := runPirun(t, ".", cliTimeout, test.args...)
		if r.code != 2 || !strings.Contains(r.stderr, test.want) || r.stdout != "" {
			t.Errorf("pirun %q = exit %d, stdout %q, stderr %q; want exit 2, no stdout, stderr naming %q",
				test.args, r.code, r.stdout, r.stderr, test.want)
		}
	}
}

// TestCLIHelp: --help (and its spellings) prints the usage with examples on
// stdout and exits 0; a command's --help exits 0 too.
func TestCLIHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := runPirun(t, ".", cliTimeout, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("pirun %q = exit %d, stderr %q; want exit 0 and no stderr", args, r.code, r.stderr)
		}
		for _, want := range []string{"Usage:", "SCRIPT.star", "Examples:", "version"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("pirun %q: stdout lacks %q:\n%s", args, want, r.stdout)
			}
		}
	}
	for _, cmd := range []string{"run", "version", "hub", "engine"} {
		r := runPirun(t, ".", cliTimeout, cmd, "--help")
		if r.code != 0 || !strings.Contains(r.stdout+r.stderr, "Usage: pirun") {
			t.Errorf("pirun %s --help = exit %d, output %q; want exit 0 and the command's usage", cmd, r.code, r.stdout+r.stderr)
		}
	}
}

// TestCLIVersion: `pirun version` prints the release, the protocol, the
// Go version and the platform, one per line.
func TestCLIVersion(t *testing.T) {
	r := runPirun(t, ".", cliTimeout, "version")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("pirun version = exit %d, stderr %q; want exit 0 and no stderr", r.code, r.stderr)
	}
	got := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	platform := runtime.GOOS + "/" + runtime.GOARCH
	for i, want := range []*regexp.Regexp{
		regexp.MustCompile(`^pirun \d+\.\d+\.\d+\S*$`),
		regexp.MustCompile(`^protocol [1-9]\d*$`),
		regexp.MustCompile(`^` + regexp.QuoteMeta(runtime.Version()) + `$`),
		regexp.MustCompile(`^` + regexp.QuoteMeta(platform) + `( GOARM=[5-7])?$`),
	} {
		if i >= len(got) || !want.MatchString(got[i]) {
			t.Errorf("pirun version: line %d of %q, want a match of %s", i+1, r.stdout, want)
		}
	}
	if len(got) != 4 {
		t.Errorf("pirun version printed %d lines, want 4:\n%s", len(got), r.stdout)
	}
}

// lineOf returns the number of the only line of file that holds marker.
func lineOf(t *testing.T, file, marker string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for i, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, marker) {
			if found != 0 {
				t.Fatalf("%s: %q on lines %d and %d, want one", file, marker, found, i+1)
			}
			found = i + 1
		}
	}
	if found == 0 {
		t.Fatalf("%s: no line holds %q", file, marker)
	}
	return strconv.Itoa(found)
}
