// This file defines the tests of the REPL: in a real terminal driven with
// tmux (line editing, history, completion, Ctrl-C, Ctrl-D), and with
// standard input piped, where the same session runs without prompts.

package integration

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/startest"
)

// replTimeout bounds one step of a REPL test (the binary is built with
// -race under go test -race, and the machine is shared).
const replTimeout = 30 * time.Second

// TestREPLPipedSession runs testdata/repl/session.star through `pirun`
// with no arguments and standard input piped: no prompts, no banner; the
// functions it defines are shipped, %px/%%px/%autopx keep state on the
// engines, and errors name their chunk <stdin:N>. Output is golden.
func TestREPLPipedSession(t *testing.T) {
	const file = "testdata/repl/session.star"
	in, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r := runPirunStdin(t, bytes.NewReader(in), []string{"PIRUN_ENGINES=2"})
	if strings.Contains(r.stdout, ">>>") {
		t.Errorf("piped session printed a prompt:\n%s", r.stdout)
	}
	got := renderGolden([]string{"(no arguments) PIRUN_ENGINES=2 <", file}, r, hostname(t))
	compareGolden(t, "testdata/repl/session.golden", got)
}

// TestREPLPipedProfile runs a piped session on the cluster of a profile
// (a separate hub and engine process), with the %engines table.
func TestREPLPipedProfile(t *testing.T) {
	_, _, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	session := `c.wait_for_engines(2, timeout=20)
c[:].apply_sync(lambda: engine.id)
%px z = engine.id + 100
%px z
%engines
`
	r := runPirunStdin(t, strings.NewReader(session), nil, "repl", "--profile", "default")
	want := "[0, 1]\nOut[0]: 100\nOut[1]: 101\nid  host"
	if r.code != 0 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, "2 engine(s) on the hub at nats://") {
		t.Errorf("pirun repl --profile default: exit %d, stdout %q, stderr %q; want 0, a start %q and the hub's URL", r.code, r.stdout, r.stderr, want)
	}
}

// TestREPLPipedCtrlC interrupts a piped session while an engine runs an
// endless loop: the chunk stops, the loop is aborted, and the session
// goes on with the same engine.
func TestREPLPipedCtrlC(t *testing.T) {
	cmd := exec.Command(pirunBin, "repl", "-n", "1")
	cmd.Env = testEnv(t)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	io.WriteString(stdin, "def forever():\n    print(\"spinning\")\n    while True:\n        pass\nc[0].apply_sync(forever)\n")
	waitFor(t, replTimeout, "the loop to start", func() bool { return strings.Contains(stdout.String(), "spinning") })
	cmd.Process.Signal(syscall.SIGINT)
	waitFor(t, replTimeout, "the chunk to stop", func() bool { return strings.Contains(stderr.String(), "interrupted by Ctrl-C") })
	io.WriteString(stdin, "c[0].apply_sync(lambda: \"usable\")\n")
	stdin.Close()
	select {
	case <-done:
	case <-time.After(replTimeout):
		t.Fatalf("pirun did not leave after its input ended\nstdout:\n%s\nstderr:\n%s", &stdout, &stderr)
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.HasSuffix(stdout.String(), "\"usable\"\n") {
		t.Errorf("after Ctrl-C: exit %d, stdout %q; want 1 (a chunk failed) and \"usable\" last\nstderr:\n%s", code, &stdout, &stderr)
	}
}

// runPirunStdin runs pirun with args and stdin in a temporary folder,
// with env added to the test environment.
func runPirunStdin(t *testing.T, stdin io.Reader, env []string, args ...string) result {
	t.Helper()
	dir := t.TempDir()
	return runCmd(t, 2*replTimeout, func(cmd *exec.Cmd) {
		cmd.Dir, cmd.Stdin = dir, stdin
		cmd.Env = append(cmd.Env, env...)
	}, args...)
}

// TestREPLTerminal drives a session in a terminal: a multi-line def typed
// at the prompt and mapped on the engines, %px and %autopx state on the
// engines, engine print output streamed live, an error naming its chunk,
// and Ctrl-D leaving with status 0.
func TestREPLTerminal(t *testing.T) {
	tm := startTerm(t, "repl", "-n", "2")
	tm.line("def triple(x):")
	tm.line("    return x * 3")
	tm.line("")
	tm.line("c[:].map_sync(triple, range(4))")
	tm.wait("[0, 3, 6, 9]")
	tm.line("%px a = engine.id * 10")
	tm.line("%px a")
	tm.wait("Out[1]: 10")
	tm.line("%autopx")
	tm.wait("%autopx enabled")
	tm.line("b = a + 1")
	tm.line("b")
	tm.wait("Out[1]: 11")
	tm.line("%autopx")
	tm.wait("%autopx disabled")
	tm.line("c[:].apply_sync(lambda: print('hello from', engine.id))")
	tm.wait("] hello from 1")
	tm.line("1 // 0")
	tm.wait("<stdin:8>:1:3: in <toplevel>")
	tm.keys("C-d")
	tm.wait("[exit 0]")
}

// TestREPLTerminalCtrlC stops an endless remote loop with Ctrl-C: the
// chunk is cancelled, the task aborted, and the engine serves the next
// chunk.
func TestREPLTerminalCtrlC(t *testing.T) {
	tm := startTerm(t, "repl", "-n", "1")
	for _, l := range []string{"def forever():", "    print('spinning')", "    while True:", "        pass", ""} {
		tm.line(l)
	}
	tm.line("c[0].apply_sync(forever)")
	// The engine's print, not the typed source line: the chunk runs, so
	// the line editor gave the terminal back and Ctrl-C is a signal.
	tm.wait("] spinning")
	tm.keys("C-c")
	tm.wait("interrupted by Ctrl-C")
	tm.line("c[0].apply_sync(lambda: 'usable')")
	tm.wait(`"usable"`)
	tm.keys("C-d")
	tm.wait("[exit 0]")
}

// TestREPLTerminalHistoryCompletion recalls a line of one session in the
// next (the history is kept in the profile) and completes c.load_.
func TestREPLTerminalHistoryCompletion(t *testing.T) {
	tm := startTerm(t, "repl", "-n", "1")
	tm.line("answer = 6 * 7")
	tm.line("answer")
	tm.wait("42")
	tm.keys("C-d")
	tm.wait("[exit 0]")

	tm = startTerm(t, "repl", "-n", "1")
	tm.keys("Up")
	tm.waitPrompt(">>> answer")
	tm.keys("Up")
	tm.waitPrompt(">>> answer = 6 * 7")
	tm.keys("C-u")
	tm.text("lb = c.load_")
	tm.keys("Tab")
	tm.waitPrompt(">>> lb = c.load_balanced_view")
	tm.text("()")
	tm.keys("Enter")
	tm.line("lb")
	tm.wait("<LoadBalancedView>")
	tm.keys("C-d")
	tm.wait("[exit 0]")
}

// term is a pirun process in a tmux terminal of its own (a private tmux
// server), killed at cleanup.
type term struct {
	t      *testing.T
	socket string
}

// startTerm starts pirun with args in a 200x50 terminal and waits for the
// banner. Without tmux the test is skipped, or fails under CI.
func startTerm(t *testing.T, args ...string) *term {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("tmux is not installed: the REPL's terminal tests need it (CI=%s, so this fails instead of skipping)", os.Getenv("CI"))
		}
		t.Skip("tmux is not installed: the REPL's terminal tests need it (under CI=true this fails)")
	}
	tm := &term{t: t, socket: filepath.Join(t.TempDir(), "tmux.sock")}
	// The shell outlives pirun to show its exit status; Ctrl-C, which the
	// terminal sends to both, must not end it.
	var cmdline strings.Builder
	cmdline.WriteString("trap true INT; env")
	for _, kv := range testEnv(t) {
		cmdline.WriteString(" " + shellQuote(kv))
	}
	cmdline.WriteString(" " + shellQuote(pirunBin))
	for _, a := range args {
		cmdline.WriteString(" " + shellQuote(a))
	}
	cmdline.WriteString(`; echo "[exit $?]"; exec sleep 600`)
	tm.tmux("new-session", "-d", "-x", "200", "-y", "50", "-s", "repl", "-c", t.TempDir(), "sh", "-c", cmdline.String())
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("terminal:\n%s", tm.screen())
		}
		exec.Command("tmux", "-S", tm.socket, "kill-server").Run()
	})
	tm.wait("Ctrl-D leaves")
	return tm
}

// tmux runs a tmux command on the test's server.
func (tm *term) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-S", tm.socket, "-f", "/dev/null"}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// keys sends named keys (Enter, Tab, Up, C-c, C-d, ...).
func (tm *term) keys(keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys", "-t", "repl"}, keys...)...)
}

// text types s literally.
func (tm *term) text(s string) {
	tm.t.Helper()
	if s != "" {
		tm.tmux("send-keys", "-t", "repl", "-l", "--", s)
	}
}

// line types s and Enter, once the previous line was taken: the screen
// ends with a prompt.
func (tm *term) line(s string) {
	tm.t.Helper()
	tm.waitFor("a prompt", func(screen string) bool {
		l := lastLine(screen)
		return l == ">>>" || l == "..." || l == "[px] >>>" || l == "[px] ..."
	})
	tm.text(s)
	tm.keys("Enter")
}

// screen returns the terminal's text, wrapped lines joined.
func (tm *term) screen() string {
	out, _ := exec.Command("tmux", "-S", tm.socket, "capture-pane", "-p", "-J", "-S", "-1000", "-t", "repl").Output()
	return string(out)
}

// wait waits until the screen shows s.
func (tm *term) wait(s string) {
	tm.t.Helper()
	tm.waitFor(fmt.Sprintf("%q on the screen", s), func(screen string) bool { return strings.Contains(screen, s) })
}

// waitPrompt waits until the last line of the screen is s.
func (tm *term) waitPrompt(s string) {
	tm.t.Helper()
	tm.waitFor(fmt.Sprintf("the prompt line %q", s), func(screen string) bool { return lastLine(screen) == s })
}

// waitFor polls the screen until cond holds.
func (tm *term) waitFor(what string, cond func(string) bool) {
	tm.t.Helper()
	startest.CheckFor(tm.t, replTimeout, 20*time.Millisecond, func() error {
		if screen := tm.screen(); !cond(screen) {
			return fmt.Errorf("waiting for %s; the terminal shows:\n%s", what, screen)
		}
		return nil
	})
}

// lastLine returns the last non-blank line of a screen, without trailing
// spaces.
func lastLine(screen string) string {
	ls := strings.Split(strings.TrimRight(screen, " \n"), "\n")
	return strings.TrimRight(ls[len(ls)-1], " ")
}

// shellQuote quotes s for sh.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// TestREPLShipsPredeclaredNames: a function typed at the prompt that uses
// the predeclared modules (which the REPL holds as globals) is shipped
// with them as names, not refused as unsendable values.
func TestREPLShipsPredeclaredNames(t *testing.T) {
	in := "def f(x):\n    return math.sqrt(x) + pow(2, 3) + len(json.encode([x]))\n\n" +
		"c[:].apply_sync(f, 16)\n" +
		"c[0].apply_sync(lambda: random.randint(1, 1) + struct(a=1).a + len(time.now().format(\"2006\")))\n"
	r := runPirunStdin(t, strings.NewReader(in), []string{"PIRUN_ENGINES=2"})
	if r.code != 0 || r.stdout != "[16.0, 16.0]\n6\n" {
		t.Errorf("pirun < session = exit %d, stdout %q, stderr %q; want 0, %q", r.code, r.stdout, r.stderr, "[16.0, 16.0]\n6\n")
	}
}
