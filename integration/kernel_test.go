// This file tests `pirun kernel` with real Jupyter clients: the Debian
// packages' jupyter_client runs cells through the installed kernelspec,
// and nbclient executes scripts/tour.ipynb end to end.

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Debian Jupyter packages' interpreter and console.
const (
	jupyterPython  = "/usr/bin/python3"
	jupyterConsole = "/usr/bin/jupyter-console"
)

// requireJupyter fails (under CI=true) or skips the test unless
// /usr/bin/python3 imports jupyter_client, nbclient and nbformat, and
// jupyter-console is installed.
func requireJupyter(t *testing.T) {
	t.Helper()
	out, err := exec.Command(jupyterPython, "-c", "import jupyter_client, nbclient, nbformat").CombinedOutput()
	if err == nil {
		_, err = os.Stat(jupyterConsole)
		if err == nil {
			return
		}
	}
	msg := fmt.Sprintf("missing prerequisite: %s with jupyter_client, nbclient and nbformat, and %s (Debian packages python3-jupyter-client python3-nbclient python3-nbformat jupyter-console; .ci/run installs them): %v %s",
		jupyterPython, jupyterConsole, err, strings.TrimSpace(string(out)))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// installKernel runs pirun kernel install --prefix into a temp folder,
// checks the kernelspec and returns the folder for JUPYTER_PATH.
func installKernel(t *testing.T, flags ...string) string {
	t.Helper()
	prefix := t.TempDir()
	r := runPirun(t, "", time.Minute, append([]string{"kernel", "install", "--prefix", prefix}, flags...)...)
	if r.code != 0 {
		t.Fatalf("pirun kernel install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	data := filepath.Join(prefix, "share", "jupyter")
	body, err := os.ReadFile(filepath.Join(data, "kernels", "pirun", "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Argv          []string `json:"argv"`
		DisplayName   string   `json:"display_name"`
		InterruptMode string   `json:"interrupt_mode"`
	}
	if err := json.Unmarshal(body, &spec); err != nil {
		t.Fatalf("kernel.json: %v\n%s", err, body)
	}
	want := append([]string{pirunBin, "kernel", "-f", "{connection_file}"}, flags...)
	if !slices.Equal(spec.Argv, want) || spec.DisplayName != "pirun (Starlark)" || spec.InterruptMode != "message" {
		t.Errorf("kernel.json = %s, want argv %q, display_name \"pirun (Starlark)\", interrupt_mode message", body, want)
	}
	return data
}

// runJupyter runs a Python script of testdata/kernel with the kernelspec
// in jupyterPath and returns what it wrote into its output file.
func runJupyter(t *testing.T, jupyterPath, script string, args ...string) []byte {
	t.Helper()
	outFile := filepath.Join(t.TempDir(), "out.json")
	abs, _ := filepath.Abs(filepath.Join("testdata", "kernel", script))
	out, err := jupyterCmd(t, jupyterPath, "", jupyterPython, append([]string{abs, outFile}, args...)...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	body, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatalf("%s wrote no result: %v\n%s", script, err, out)
	}
	return body
}

// jupyterCmd runs a Jupyter client program with the kernelspec in
// jupyterPath, stdin as its input, in a temp folder, and returns its
// combined output; it is killed after 8 minutes.
func jupyterCmd(t *testing.T, jupyterPath, stdin, name string, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(testEnv(t), "JUPYTER_PATH="+jupyterPath, "JUPYTER_RUNTIME_DIR="+t.TempDir(),
		"JUPYTER_DATA_DIR="+t.TempDir(), "JUPYTER_CONFIG_DIR="+t.TempDir(), "JUPYTER_PLATFORM_DIRS=1", "PYTHONUNBUFFERED=1")
	timer := time.AfterFunc(8*time.Minute, func() {
		t.Errorf("%s did not finish within 8 minutes", name)
		cmd.Process.Kill()
	})
	defer timer.Stop()
	out, err := cmd.CombinedOutput()
	// the kernel's stderr is the client's: a race-built kernel reports there
	if strings.Contains(string(out), "WARNING: DATA RACE") {
		t.Errorf("the kernel reported a data race:\n%s", out)
	}
	return out, err
}

// kernelStep is a request's answer as client.py records it.
type kernelStep struct {
	Reply struct {
		Status    string   `json:"status"`
		Ename     string   `json:"ename"`
		Evalue    string   `json:"evalue"`
		Traceback []string `json:"traceback"`
	} `json:"reply"`
	IOPub []struct {
		Type    string `json:"type"`
		Content struct {
			Name string            `json:"name"`
			Text string            `json:"text"`
			Data map[string]string `json:"data"`
		} `json:"content"`
	} `json:"iopub"`
	Seconds float64 `json:"seconds"`
}

// streams returns the text of the step's stream messages.
func (s kernelStep) streams() string {
	var b strings.Builder
	for _, m := range s.IOPub {
		if m.Type == "stream" {
			b.WriteString(m.Content.Text)
		}
	}
	return b.String()
}

// result returns the text of the step's execute_result.
func (s kernelStep) result() string {
	for _, m := range s.IOPub {
		if m.Type == "execute_result" {
			return m.Content.Data["text/plain"]
		}
	}
	return ""
}

func TestKernelJupyterClient(t *testing.T) {
	requireJupyter(t)
	jp := installKernel(t, "-n", "2")
	body := runJupyter(t, jp, "client.py")
	var out map[string]json.RawMessage
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("client.py output: %v\n%s", err, body)
	}
	step := func(name string) kernelStep {
		var s kernelStep
		if err := json.Unmarshal(out[name], &s); err != nil {
			t.Errorf("step %s: %v in %s", name, err, out[name])
		}
		return s
	}
	var info struct {
		ProtocolVersion string `json:"protocol_version"`
		Implementation  string `json:"implementation"`
		LanguageInfo    struct {
			Name          string `json:"name"`
			FileExtension string `json:"file_extension"`
			PygmentsLexer string `json:"pygments_lexer"`
		} `json:"language_info"`
	}
	json.Unmarshal(out["info"], &info)
	if info.ProtocolVersion != "5.3" || info.Implementation != "pirun" || info.LanguageInfo.Name != "starlark" ||
		info.LanguageInfo.FileExtension != ".star" || info.LanguageInfo.PygmentsLexer != "python" {
		t.Errorf("kernel_info = %s, want protocol 5.3, pirun, starlark, .star, python lexer", out["info"])
	}

	for _, test := range []struct {
		step   string
		status string
		check  func(s kernelStep) (got string, ok bool)
		want   string
	}{
		{"map", "ok", resultIs("[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"), "the squares"},
		{"print", "ok", streamsHave("[engine 0 ", "hello from 0", "hello from 1"), "engine output streamed with its prefix"},
		{"px", "ok", streamsHave("Out[0]: 0", "Out[1]: 10"), "each engine's value"},
		{"fail", "error", tracebackHas("<cell:4>:3:"), "the cell's line 3 in the traceback"},
		{"remote_fail", "error", tracebackHas("<cell:5>:2:", "division by zero"), "the engine's error at the cell's line 2"},
		{"interrupt", "error", interrupted, "ename Interrupted within 30s"},
		{"after_interrupt", "ok", resultIs(`["alive", "alive"]`), "both engines usable"},
		{"queue", "ok", idleQueues, "no task queued or running on any engine"},
		{"before_restart", "ok", resultIs("42"), "42"},
		{"after_restart", "error", tracebackHas("kept"), "kept undefined in the new kernel"},
		{"after_restart_ok", "ok", resultIs("2"), "2"},
	} {
		s := step(test.step)
		got, ok := test.check(s)
		if s.Reply.Status != test.status || !ok {
			t.Errorf("%s: status %s, %s; want status %s and %s\n%s", test.step, s.Reply.Status, got, test.status, test.want, out[test.step])
		}
	}

	var complete struct {
		Matches     []string `json:"matches"`
		CursorStart int      `json:"cursor_start"`
		CursorEnd   int      `json:"cursor_end"`
	}
	json.Unmarshal(out["complete"], &complete)
	if !slices.Contains(complete.Matches, "load_balanced_view") || complete.CursorStart != 2 || complete.CursorEnd != 7 {
		t.Errorf("complete(c.load_) = %s, want load_balanced_view replacing 2:7", out["complete"])
	}
	var isComplete struct{ Status, Indent string }
	json.Unmarshal(out["is_complete"], &isComplete)
	if isComplete.Status != "incomplete" || isComplete.Indent != "    " {
		t.Errorf("is_complete(def f(x):) = %s, want incomplete with a 4-space indent", out["is_complete"])
	}
	if got := string(out["inspect"]); !strings.Contains(got, `"found": true`) || !strings.Contains(got, "LoadBalancedView") {
		t.Errorf("inspect(c.load_balanced_view) = %s, want its doc", got)
	}
	if got := string(out["alive_after_shutdown"]); got != "false" {
		t.Errorf("kernel alive after shutdown = %s, want false", got)
	}
}

func resultIs(want string) func(kernelStep) (string, bool) {
	return func(s kernelStep) (string, bool) { return "result " + s.result(), s.result() == want }
}

func streamsHave(want ...string) func(kernelStep) (string, bool) {
	return func(s kernelStep) (string, bool) {
		text := s.streams()
		for _, w := range want {
			if !strings.Contains(text, w) {
				return fmt.Sprintf("output %q", text), false
			}
		}
		return "", true
	}
}

func tracebackHas(want ...string) func(kernelStep) (string, bool) {
	return func(s kernelStep) (string, bool) {
		tb := strings.Join(s.Reply.Traceback, "\n") + "\n" + s.Reply.Evalue
		for _, w := range want {
			if !strings.Contains(tb, w) {
				return fmt.Sprintf("traceback %q", tb), false
			}
		}
		return "", true
	}
}

func interrupted(s kernelStep) (string, bool) {
	return fmt.Sprintf("ename %s after %.1fs", s.Reply.Ename, s.Seconds), s.Reply.Ename == "Interrupted" && s.Seconds < 30
}

// busyQueue matches a queue_status entry with tasks queued or running.
var busyQueue = regexp.MustCompile(`"queue": [1-9]`)

func idleQueues(s kernelStep) (string, bool) {
	r := s.result()
	return "queue_status " + r, strings.Contains(r, `"queue": 0`) && !busyQueue.MatchString(r)
}

// notebookOutput is a code cell's outputs in an executed notebook.
type notebookOutput struct {
	OutputType string          `json:"output_type"`
	Name       string          `json:"name"`
	Text       json.RawMessage `json:"text"`
	Data       map[string]any  `json:"data"`
	Ename      string          `json:"ename"`
	Evalue     string          `json:"evalue"`
	Traceback  []string        `json:"traceback"`
}

// text returns everything an output shows as text.
func (o notebookOutput) text() string {
	var b strings.Builder
	var s any
	json.Unmarshal(o.Text, &s)
	b.WriteString(joinText(s))
	for _, mime := range []string{"text/plain", "text/html"} {
		b.WriteString(joinText(o.Data[mime]))
	}
	b.WriteString(o.Ename + " " + o.Evalue + " " + strings.Join(o.Traceback, "\n"))
	return b.String()
}

// joinText joins nbformat's multiline strings (a string or a list).
func joinText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case []any:
		var b strings.Builder
		for _, x := range v {
			b.WriteString(joinText(x))
		}
		return b.String()
	}
	return ""
}

func TestKernelNotebookTour(t *testing.T) {
	requireJupyter(t)
	jp := installKernel(t, "-n", "2")
	tour, _ := filepath.Abs(filepath.Join("..", "scripts", "tour.ipynb"))
	body := runJupyter(t, jp, "notebook.py", tour)
	var nb struct {
		Cells []struct {
			CellType string           `json:"cell_type"`
			Source   any              `json:"source"`
			Outputs  []notebookOutput `json:"outputs"`
		} `json:"cells"`
	}
	if err := json.Unmarshal(body, &nb); err != nil {
		t.Fatalf("executed notebook: %v", err)
	}
	var code [][]notebookOutput
	var sources []string
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			code = append(code, c.Outputs)
			sources = append(sources, joinText(c.Source))
		}
	}
	for i, test := range []struct {
		types string   // output types in order
		want  []string // texts the outputs show
	}{
		{"execute_result", []string{"[0, 1]"}},
		{"execute_result", []string{"[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]"}},
		{"stream execute_result", []string{"[engine 0 ", "hello from engine 0", "hello from engine 1", "[0, 1]"}},
		{"stream", []string{"Out[0]: 100", "Out[1]: 101"}},
		{"display_data execute_result", []string{"12/12 tasks", "<progress", "66"}},
		{"display_data execute_result", []string{"30/30 tasks", "<progress", "30"}},
		{"error", []string{"RemoteError", "<cell:7>:2", "division by zero"}},
		{"execute_result", []string{"<table", "<th>19</th>", "⋮", "shape (20, 3)"}},
		{"stream", []string{"idle", "2 engine(s)"}},
	} {
		if i >= len(code) {
			t.Fatalf("the tour has %d code cells, want at least %d", len(code), i+1)
		}
		var types []string
		var text strings.Builder
		for _, o := range code[i] {
			if len(types) == 0 || types[len(types)-1] != o.OutputType { // streams come in pieces
				types = append(types, o.OutputType)
			}
			text.WriteString(o.text())
		}
		if got := strings.Join(types, " "); got != test.types {
			t.Errorf("cell %d (%q): outputs %s, want %s\n%s", i+1, sources[i], got, test.types, text.String())
		}
		for _, w := range test.want {
			if !strings.Contains(text.String(), w) {
				t.Errorf("cell %d (%q): output %q, want it to contain %q", i+1, sources[i], text.String(), w)
			}
		}
	}
}

func TestKernelJupyterConsole(t *testing.T) {
	requireJupyter(t)
	jp := installKernel(t, "-n", "2")
	input := "c.ids\n%px print(engine.id * 7)\nsum(c[:].apply_sync(lambda: 21))\n1 // 0\n"
	out, err := jupyterCmd(t, jp, input, jupyterConsole, "--kernel", "pirun", "--simple-prompt")
	if err != nil {
		t.Fatalf("jupyter console: %v\n%s", err, out)
	}
	for _, want := range []string{"pirun " /* the banner */, "Out[1]: [0, 1]", "[stdout:1] 7", "Out[3]: 42", "<cell:4>:1:3", "division by zero"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("jupyter console output lacks %q:\n%s", want, out)
		}
	}
}

func TestKernelBadInput(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	os.WriteFile(notJSON, []byte("{not json"), 0o600)
	badPort := filepath.Join(dir, "port.json")
	os.WriteFile(badPort, []byte(`{"ip": "127.0.0.1", "shell_port": 99999, "transport": "tcp"}`), 0o600)
	for _, test := range []struct {
		args []string
		want string
	}{
		{[]string{"kernel"}, "-f CONNECTION_FILE is required"},
		{[]string{"kernel", "-f", filepath.Join(dir, "missing.json")}, "connection file"},
		{[]string{"kernel", "-f", notJSON}, "bad.json: not Jupyter's JSON connection file"},
		{[]string{"kernel", "-f", badPort}, "shell_port: 99999 is not a port"},
		{[]string{"kernel", "install", "--prefix", dir, "--profile", "p", "-n", "2"}, "--profile and -n"},
		{[]string{"kernel", "install", "--user", "--prefix", dir}, "--user and --prefix"},
	} {
		r := runPirun(t, dir, time.Minute, test.args...)
		if r.code != 2 || !strings.Contains(r.stderr, test.want) {
			t.Errorf("pirun %q: exit %d, stderr %q; want exit 2 and %q", test.args, r.code, r.stderr, test.want)
		}
	}
}

// TestKernelProfile runs the kernel installed with --profile: it connects
// to that profile's running hub and its engines instead of starting its own.
func TestKernelProfile(t *testing.T) {
	requireJupyter(t)
	startHub(t)
	engineConn := filepath.Join(pirunDir(t), "default", "security", "engine-connection.toml")
	startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	jp := installKernel(t, "--profile", "default")
	body := runJupyter(t, jp, "cells.py", "c.wait_for_engines(2, timeout=60)\nlen(c.ids)",
		"sorted(c[:].apply_sync(lambda: engine.id))", "%engines", "%%px\nz = engine.id + 1\nz")
	var steps []kernelStep
	if err := json.Unmarshal(body, &steps); err != nil || len(steps) != 4 {
		t.Fatalf("cells.py output (%v): %s", err, body)
	}
	for i, test := range []struct {
		check func(kernelStep) (string, bool)
		want  string
	}{
		{resultIs("2"), "the profile's 2 engines"},
		{resultIs("[0, 1]"), "results from both"},
		{streamsHave("the hub at nats://"), "the profile's hub, not an in-process one"},
		{streamsHave("Out[0]: 1", "Out[1]: 2"), "a %%px cell's values"},
	} {
		if got, ok := test.check(steps[i]); steps[i].Reply.Status != "ok" || !ok {
			t.Errorf("cell %d: status %s, %s; want ok and %s", i+1, steps[i].Reply.Status, got, test.want)
		}
	}
}

// TestKernelParentGone: a kernel whose Jupyter parent (JPY_PARENT_PID) is
// killed ends on its own, with its local engines.
func TestKernelParentGone(t *testing.T) {
	dir := t.TempDir()
	connFile := filepath.Join(dir, "kernel.json")
	os.WriteFile(connFile, []byte(`{"ip": "127.0.0.1", "transport": "tcp", "key": "k", "signature_scheme": "hmac-sha256"}`), 0o600)
	parent := exec.Command("/bin/sh", "-c", `JPY_PARENT_PID=$$ "$0" kernel -v -f "$1" -n 1 & echo $!; wait`, pirunBin, connFile)
	parent.Env = testEnv(t)
	p := startProc(t, parent)
	var pid int
	waitFor(t, 20*time.Second, "the kernel's pid", func() bool {
		_, err := fmt.Sscan(p.stdout.String(), &pid)
		return err == nil && pid > 0
	})
	alive := func() bool {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		return err == nil && !strings.Contains(string(stat), ") Z ")
	}
	waitFor(t, time.Minute, "the kernel to serve", func() bool { return strings.Contains(p.stderr.String(), "kernel: serving") })
	if !alive() {
		t.Fatalf("the kernel (pid %d) is not running:\n%s", pid, p.stderr)
	}
	parent.Process.Kill()
	waitFor(t, 30*time.Second, "the kernel to end after its parent was killed", func() bool { return !alive() })
}
