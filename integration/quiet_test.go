package integration

import (
	"strings"
	"testing"
	"time"
)

// TestQuiet: engine print output streams with an [engine N host] prefix,
// and --quiet turns the stream off without touching the script's output.
func TestQuiet(t *testing.T) {
	loud := runPirun(t, "..", 60*time.Second, "-n", "2", "scripts/hello.star")
	quiet := runPirun(t, "..", 60*time.Second, "-n", "2", "--quiet", "scripts/hello.star")
	if loud.code != 0 || quiet.code != 0 {
		t.Fatalf("exit %d / %d, stderr %q / %q", loud.code, quiet.code, loud.stderr, quiet.stderr)
	}
	if !strings.Contains(loud.stdout, "[engine 0 ") || !strings.Contains(loud.stdout, "[engine 1 ") {
		t.Errorf("without --quiet, stdout lacks streamed engine lines:\n%s", loud.stdout)
	}
	if strings.Contains(quiet.stdout, "[engine ") {
		t.Errorf("with --quiet, stdout still has engine lines:\n%s", quiet.stdout)
	}
	var kept []string
	for line := range strings.Lines(loud.stdout) {
		if !strings.HasPrefix(line, "[engine ") {
			kept = append(kept, line)
		}
	}
	if got, want := quiet.stdout, strings.Join(kept, ""); got != want {
		t.Errorf("--quiet changed the script's own output:\ngot:\n%s\nwant:\n%s", got, want)
	}
}
