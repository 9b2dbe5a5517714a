// This file defines tests of the command line's manners that a new user
// expects (issue 18 item 3): --version, -n4, help COMMAND, completion,
// and errors that say what to do.

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCLIVersionFlag: pirun --version prints what pirun version prints.
func TestCLIVersionFlag(t *testing.T) {
	want := runPirun(t, ".", cliTimeout, "version")
	r := runPirun(t, ".", cliTimeout, "--version")
	if r.code != 0 || r.stdout != want.stdout || !strings.HasPrefix(r.stdout, "pirun ") {
		t.Errorf("pirun --version = exit %d, stdout %q; want exit 0 and %q", r.code, r.stdout, want.stdout)
	}
}

// TestCLIEnginesFlagForms: -n4, -n 4, -n=4 and --n=4 all ask for 4 local
// engines, and a script's own -n4 after the script stays in its argv.
func TestCLIEnginesFlagForms(t *testing.T) {
	for _, form := range [][]string{{"-n3"}, {"-n", "3"}, {"-n=3"}, {"--n=3"}} {
		r := runPirun(t, ".", cliTimeout, append(form, "testdata/cli/engines.star")...)
		if r.code != 0 || r.stdout != "3\n" {
			t.Errorf("pirun %s engines.star = exit %d, stdout %q, stderr %q; want 3 engines", strings.Join(form, " "), r.code, r.stdout, r.stderr)
		}
	}
	r := runPirun(t, ".", cliTimeout, "-n1", "testdata/cli/argv.star", "-n4")
	if r.code != 0 || r.stdout != `["-n4"]`+"\n" {
		t.Errorf("pirun -n1 argv.star -n4 = exit %d, stdout %q; want argv [\"-n4\"]", r.code, r.stdout)
	}
}

// TestCLIHelpCommand: pirun help COMMAND prints what COMMAND --help does,
// for subcommands too; an unknown one is a usage error.
func TestCLIHelpCommand(t *testing.T) {
	for _, cmd := range [][]string{{"engine"}, {"mpi"}, {"cluster", "start"}, {"hub", "add-engine"}, {"completion"}} {
		want := runPirun(t, ".", cliTimeout, append(cmd, "--help")...)
		r := runPirun(t, ".", cliTimeout, append([]string{"help"}, cmd...)...)
		if r.code != 0 || r.stdout != want.stdout || !strings.Contains(r.stdout, "Usage: ") {
			t.Errorf("pirun help %s = exit %d, stdout %q; want exit 0 and %q", strings.Join(cmd, " "), r.code, r.stdout, want.stdout)
		}
	}
	r := runPirun(t, ".", cliTimeout, "help", "bogus")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown command "bogus"`) {
		t.Errorf("pirun help bogus = exit %d, stderr %q; want exit 2 naming it", r.code, r.stderr)
	}
}

// TestCLICompletion: the bash script, sourced in a real bash, completes
// commands, subcommands and each command's flags from the binary; the zsh
// and fish scripts are printed; another shell is a usage error.
func TestCLICompletion(t *testing.T) {
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatalf("bash is needed for this test: %v", err)
	}
	for _, test := range []struct {
		line string // the words typed, the last one being completed
		want []string
	}{
		{"pirun clu", []string{"cluster"}},
		{"pirun cluster st", []string{"start", "stop"}},
		{"pirun engine --co", []string{"--config", "--connect"}},
		{"pirun cluster start --p", []string{"--profile", "--push-binary"}},
		{"pirun completion ", []string{"bash", "fish", "zsh"}},
		{"pirun -n 2 --q", []string{"--quiet"}},
		{"pirun help mp", []string{"mpi"}},
	} {
		words := strings.Fields(test.line)
		if strings.HasSuffix(test.line, " ") {
			words = append(words, "")
		}
		script := `source <(pirun completion bash)
COMP_WORDS=(` + quoteWords(words) + `); COMP_CWORD=` + itoa(len(words)-1) + `
_pirun; printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command(bash, "--norc", "-c", script)
		cmd.Env = append(testEnv(t), "PATH="+filepath.Dir(pirunBin)+":"+os.Getenv("PATH"))
		out, err := cmd.Output()
		got := strings.Fields(string(out))
		slices.Sort(got)
		if err != nil || !slices.Equal(got, test.want) {
			t.Errorf("bash completion of %q = %q (%v), want %q", test.line, got, err, test.want)
		}
	}
	for shell, want := range map[string]string{"zsh": "compdef _pirun pirun", "fish": "complete -c pirun"} {
		r := runPirun(t, ".", cliTimeout, "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "pirun __complete") {
			t.Errorf("pirun completion %s = exit %d, stdout %q; want its script", shell, r.code, r.stdout)
		}
	}
	r := runPirun(t, ".", cliTimeout, "completion", "tcsh")
	if r.code != 2 || !strings.Contains(r.stderr, "bash, zsh or fish") {
		t.Errorf("pirun completion tcsh = exit %d, stderr %q; want exit 2 and the shells", r.code, r.stderr)
	}
}

func quoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + w + "'"
	}
	return strings.Join(q, " ")
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestCLIErrorsSayWhatToDo: a status with no hub, an engine given a URL
// instead of its connection file, and a run that waits for more engines
// than it started each say what to do.
func TestCLIErrorsSayWhatToDo(t *testing.T) {
	r := runPirun(t, "", cliTimeout, "status")
	if r.code != 3 || !strings.Contains(r.stderr, "no hub to connect to") || !strings.Contains(r.stderr, "pirun hub") || strings.Contains(r.stderr, "no such file") {
		t.Errorf("pirun status with no hub = exit %d, stderr %q; want exit 3 and how to start a hub", r.code, r.stderr)
	}
	r = runPirun(t, "", cliTimeout, "engine", "--connect", "nats://127.0.0.1:4222")
	if r.code != 2 || !strings.Contains(r.stderr, "not a URL") || !strings.Contains(r.stderr, "security/") || !strings.Contains(r.stderr, "pirun engine --connect engine-connection.toml") {
		t.Errorf("pirun engine --connect nats://… = exit %d, stderr %q; want exit 2, that a connection file is needed and where", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(pirunDir(t), "default", "log", "engine.log")); !os.IsNotExist(err) {
		t.Errorf("pirun engine --connect URL made the default profile's engine log (stat: %v)", err)
	}
	r = runPirun(t, ".", cliTimeout, "-n", "2", "testdata/cli/wait_more.star")
	if r.code != 3 || !strings.Contains(r.stderr, "2 local engines") || !strings.Contains(r.stderr, "pirun -n N") || strings.Contains(r.stderr, "errors above") {
		t.Errorf("wait_for_engines(7) on -n 2 = exit %d, stderr %q; want exit 3, the 2 local engines and how to get more", r.code, r.stderr)
	}
}

// TestCLIProgressNotTerminal: wait_interactive writes no "\r" progress
// into a pipe, only its last line; no output holds colour codes, with or
// without NO_COLOR.
func TestCLIProgressNotTerminal(t *testing.T) {
	for _, env := range [][]string{nil, {"NO_COLOR=1"}} {
		r := runCmd(t, cliTimeout, func(cmd *exec.Cmd) { cmd.Dir = "."; cmd.Env = append(cmd.Env, env...) }, "-n", "2", "testdata/cli/progress.star")
		if r.code != 0 || r.stdout != "361\n" {
			t.Fatalf("progress.star = exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if strings.Contains(r.stderr, "\r") || !strings.Contains(r.stderr, "20/20 items") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("wait_interactive into a pipe wrote %q; want one last line and no \\r", r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, "\x1b") {
			t.Errorf("output with %q holds escape codes: %q", env, r.stdout+r.stderr)
		}
	}
}
