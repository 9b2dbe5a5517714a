// This file defines the golden tests of scripts/: every example a user reads
// first is run through the pirun binary and its output compared with
// testdata/golden/NAME.golden.

package integration

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.golden from the scripts' output")

// scriptTimeout bounds one script run; pi.star takes ~10 s under -race.
const scriptTimeout = 2 * time.Minute

// goldenDir holds one NAME.golden per scripts/NAME.star.
const goldenDir = "testdata/golden"

// TestScripts runs every scripts/*.star with `pirun -n 2` from the
// repository's root and compares its exit status, stdout and stderr with
// its golden file. With -update it rewrites the golden files instead.
func TestScripts(t *testing.T) {
	root, scripts := exampleScripts(t)
	checkGoldenSet(t, scripts)
	for _, script := range scripts {
		name := strings.TrimSuffix(filepath.Base(script), ".star")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rel := filepath.ToSlash(filepath.Join("scripts", filepath.Base(script)))
			args := scriptArgs(rel, "2")
			r := runPirun(t, root, scriptTimeout, args...)
			got := renderGolden(args, r, hostname(t))
			compareGolden(t, filepath.Join(goldenDir, name+".golden"), got)
		})
	}
}

// TestScriptsEngineCounts runs every script on one and on four engines:
// the examples must not assume the number of engines. Their output may
// differ from the golden's (it lists engines), so only success is checked.
func TestScriptsEngineCounts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every script twice more; skipped with -short")
	}
	root, scripts := exampleScripts(t)
	for _, script := range scripts {
		for _, n := range []string{"1", "4"} {
			name := strings.TrimSuffix(filepath.Base(script), ".star") + "/n=" + n
			t.Run(name, func(t *testing.T) {
				// Not parallel: four busy engines per process already load a
				// small machine, and starved in-process engines can miss
				// their heartbeats and be declared lost.
				rel := filepath.ToSlash(filepath.Join("scripts", filepath.Base(script)))
				args := scriptArgs(rel, n)
				r := runPirun(t, root, scriptTimeout, args...)
				if r.code != 0 || r.stderr != "" {
					t.Errorf("pirun %s = exit %d, want 0 and no stderr\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
				}
			})
		}
	}
}

// scriptArgs is how a user runs the example rel on n engines: scripts
// named mpi_*.star run whole on every engine (pirun mpi).
func scriptArgs(rel, n string) []string {
	if strings.HasPrefix(filepath.Base(rel), "mpi_") {
		return []string{"mpi", "-n", n, rel}
	}
	return []string{"-n", n, rel}
}

// exampleScripts returns the repository's root and its scripts/*.star.
func exampleScripts(t *testing.T) (root string, scripts []string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	scripts, err = filepath.Glob(filepath.Join(root, "scripts", "*.star"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) == 0 {
		t.Fatalf("no scripts in %s", filepath.Join(root, "scripts"))
	}
	return root, scripts
}

// checkGoldenSet fails for a golden file whose script is gone (and removes
// it with -update); a script without a golden fails in its own subtest.
func checkGoldenSet(t *testing.T, scripts []string) {
	t.Helper()
	goldens, err := filepath.Glob(filepath.Join(goldenDir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".golden")
		if slices.ContainsFunc(scripts, func(s string) bool { return filepath.Base(s) == name+".star" }) {
			continue
		}
		if *update {
			if err := os.Remove(g); err != nil {
				t.Fatal(err)
			}
			t.Logf("removed %s: scripts/%s.star is gone", g, name)
			continue
		}
		t.Errorf("%s has no scripts/%s.star: delete it, or run go test ./integration -run TestScripts -update", g, name)
	}
}

// compareGolden compares got with the golden file at path, or writes it
// there with -update (only when it differs, so a second -update is a no-op).
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	want, err := os.ReadFile(path)
	switch {
	case *update && string(want) == got:
		return
	case *update:
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
	case os.IsNotExist(err):
		t.Fatalf("no golden file %s for this script: run go test ./integration -run TestScripts -update, then read and commit it\ngot:\n%s", path, got)
	case err != nil:
		t.Fatal(err)
	case string(want) != got:
		t.Errorf("output differs from %s (run with -update if the change is intended)\n%s\ngot:\n%s", path, lineDiff(string(want), got), got)
	}
}

// enginePrefix matches the prefix of a streamed engine output line:
// [engine ID HOST], or [rank R] for pirun mpi.
var enginePrefix = regexp.MustCompile(`^\[(?:engine|rank) (\d+)(?: [^\]]*)?\] `)

// renderGolden renders a run as a golden file: the command, the exit
// status, the host's stdout in order, the engines' output grouped by engine
// (each engine's lines in order, engines by id: streams of different
// engines interleave at random), and stderr. The machine's hostname is
// replaced by HOST.
func renderGolden(args []string, r result, host string) string {
	hostLines, engineLines := splitEngineOutput(r.stdout)
	hide := hostHider(host)
	var b strings.Builder
	fmt.Fprintf(&b, "# pirun %s\nexit %d\n", strings.Join(args, " "), r.code)
	for _, section := range []struct {
		title string
		lines []string
	}{
		{"stdout", hostLines},
		{"engine output, grouped by engine", engineLines},
		{"stderr", lines(r.stderr)},
	} {
		fmt.Fprintf(&b, "-- %s --\n", section.title)
		for _, l := range section.lines {
			b.WriteString(taskIDs.ReplaceAllString(hide(l), "task ID"))
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// taskIDs matches the task ids in error messages: 63 random bits each
// (no daemon can guess another's), so goldens show them as "task ID".
var taskIDs = regexp.MustCompile(`\btask [0-9]+\b`)

// splitEngineOutput splits stdout into the host's lines, in order, and
// the engines' lines grouped by engine id, in order within an engine.
func splitEngineOutput(stdout string) (hostLines, engineLines []string) {
	byEngine := map[int][]string{}
	for _, line := range lines(stdout) {
		m := enginePrefix.FindStringSubmatch(line)
		if m == nil {
			hostLines = append(hostLines, line)
			continue
		}
		id, _ := strconv.Atoi(m[1]) // the pattern holds digits only
		byEngine[id] = append(byEngine[id], line)
	}
	for _, id := range slices.Sorted(maps.Keys(byEngine)) {
		engineLines = append(engineLines, byEngine[id]...)
	}
	return hostLines, engineLines
}

// lines splits s into lines; a last line without "\n" keeps a marker so
// that a missing newline shows in the golden.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if !strings.HasSuffix(s, "\n") {
		out[len(out)-1] += "\\ no newline at end"
	}
	return out
}

// hostHider returns a function that replaces host, where it stands as a
// whole word (not inside a longer name), by HOST.
func hostHider(host string) func(string) string {
	if host == "" {
		return func(line string) string { return line }
	}
	// Go's regexp has no look-around: the boundaries are matched, kept and
	// re-scanned until nothing changes ("vm vm" needs two passes).
	re := regexp.MustCompile(`(^|[^\w.-])` + regexp.QuoteMeta(host) + `($|[^\w.-])`)
	return func(line string) string {
		for {
			next := re.ReplaceAllString(line, "${1}HOST${2}")
			if next == line {
				return line
			}
			line = next
		}
	}
}

// hostname is the name engines report as engine.hostname.
func hostname(t *testing.T) string {
	h, err := os.Hostname()
	if err != nil {
		t.Fatalf("hostname: %v", err)
	}
	return h
}

// lineDiff describes the first line where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(w), len(g)); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("first difference at golden line %d:\n  want %q\n  got  %q", i+1, wl, gl)
		}
	}
	return "no difference"
}

// TestScriptsGoldenRender checks the normalisation of goldens: engine
// lines grouped by engine whatever their interleaving, the hostname hidden
// as a whole word only, a missing final newline shown.
func TestScriptsGoldenRender(t *testing.T) {
	const head = "# pirun x.star\nexit 1\n"
	for _, test := range []struct {
		stdout, stderr, want string
	}{
		{"", "", head + "-- stdout --\n-- engine output, grouped by engine --\n-- stderr --\n"},
		{
			"[engine 10 pi] c\na\n[engine 2 pi] x\n[engine 10 pi] d\nb\n[engine 2 pi] y\n", "",
			head + "-- stdout --\na\nb\n-- engine output, grouped by engine --\n" +
				"[engine 2 HOST] x\n[engine 2 HOST] y\n[engine 10 HOST] c\n[engine 10 HOST] d\n-- stderr --\n",
		},
		{
			"pi pi, pies, raspi, pi.local, pi-2 (pi)\n", "on pi\nno newline",
			head + "-- stdout --\nHOST HOST, pies, raspi, pi.local, pi-2 (HOST)\n" +
				"-- engine output, grouped by engine --\n-- stderr --\non HOST\nno newline\\ no newline at end\n",
		},
	} {
		got := renderGolden([]string{"x.star"}, result{test.stdout, test.stderr, 1}, "pi")
		if got != test.want {
			t.Errorf("renderGolden(%q, %q) =\n%s\nwant\n%s", test.stdout, test.stderr, got, test.want)
		}
	}
}
