package integration

// The Chromium driver below is host/dash's (browser_test.go), copied: test
// helpers do not cross packages. This test points it at a real hub.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// browser is a headless Chromium driven over the DevTools protocol on a
// pipe (--remote-debugging-pipe: JSON messages ending in NUL on fds 3
// and 4), attached to its one page.
type browser struct {
	t       *testing.T
	cmd     *exec.Cmd
	in      *os.File // Chromium's fd 3: our commands
	msgs    chan json.RawMessage
	session string
	id      int
	stderr  *bytes.Buffer
}

// chromium finds Debian's chromium. A missing browser fails the test under
// CI=true (.ci/run installs it) and skips it elsewhere.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("the browser test needs chromium (apt-get install chromium); .ci/run installs it")
	}
	t.Skip("no chromium on PATH (apt-get install chromium); under CI=true this fails")
	return ""
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromium(t)
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{t: t, in: cmdW, msgs: make(chan json.RawMessage, 64), stderr: &bytes.Buffer{}}
	b.cmd = exec.Command(path, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--mute-audio", "--user-data-dir="+t.TempDir(), "--remote-debugging-pipe", "about:blank")
	b.cmd.ExtraFiles = []*os.File{cmdR, outW}
	b.cmd.Stderr = &lockedWriter{w: b.stderr}
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	cmdR.Close()
	outW.Close()
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(b.msgs)
		r := bufio.NewReader(outR)
		for {
			msg, err := r.ReadBytes(0)
			if err != nil {
				return
			}
			b.msgs <- json.RawMessage(msg[:len(msg)-1])
		}
	})
	t.Cleanup(func() {
		cmdW.Close() // Chromium exits when its pipe closes
		done := make(chan struct{})
		go func() { b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			b.cmd.Process.Kill()
			<-done
		}
		outR.Close()
		for range b.msgs { // let the reader finish if it waits to hand over an event
		}
		wg.Wait()
	})
	var targets struct {
		TargetInfos []struct{ TargetID, Type string } `json:"targetInfos"`
	}
	b.call("", "Target.getTargets", nil, &targets)
	for _, ti := range targets.TargetInfos {
		if ti.Type == "page" {
			var att struct{ SessionID string }
			b.call("", "Target.attachToTarget", map[string]any{"targetId": ti.TargetID, "flatten": true}, &att)
			b.session = att.SessionID
			return b
		}
	}
	t.Fatalf("chromium has no page target: %+v", targets)
	return nil
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// call sends a command (to the page when session is set) and decodes its
// result into out, skipping events; it fails the test on an error or
// after 30s.
func (b *browser) call(session, method string, params, out any) {
	b.t.Helper()
	b.id++
	msg := map[string]any{"id": b.id, "method": method, "params": params}
	if params == nil {
		msg["params"] = map[string]any{}
	}
	if session != "" {
		msg["sessionId"] = session
	}
	data, _ := json.Marshal(msg)
	if _, err := b.in.Write(append(data, 0)); err != nil {
		b.t.Fatalf("%s: write to chromium: %v", method, err)
	}
	timeout := time.After(30 * time.Second)
	for {
		select {
		case raw, ok := <-b.msgs:
			if !ok {
				b.t.Fatalf("%s: chromium closed its pipe; its stderr: %s", method, b.stderr)
			}
			var reply struct {
				ID     int
				Result json.RawMessage
				Error  *struct{ Message string }
			}
			if json.Unmarshal(raw, &reply) != nil || reply.ID != b.id {
				continue // an event, or not ours
			}
			if reply.Error != nil {
				b.t.Fatalf("%s: %s", method, reply.Error.Message)
			}
			if out != nil {
				if err := json.Unmarshal(reply.Result, out); err != nil {
					b.t.Fatalf("%s: %v in %s", method, err, reply.Result)
				}
			}
			return
		case <-timeout:
			b.t.Fatalf("%s: no answer from chromium within 30s", method)
		}
	}
}

// eval runs a JavaScript expression in the page and decodes its value.
func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage
		}
		ExceptionDetails *struct {
			Text      string
			Exception struct{ Description string }
		}
	}
	b.call(b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if res.ExceptionDetails != nil {
		b.t.Fatalf("eval %s: %s %s", expr, res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	if err := json.Unmarshal(res.Result.Value, out); err != nil {
		b.t.Fatalf("eval %s: %v in %s", expr, err, res.Result.Value)
	}
}

// resize sets the viewport: width and height in CSS pixels.
func (b *browser) resize(width, height int, scale float64, mobile bool) {
	b.t.Helper()
	b.call(b.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}, nil)
}

// pageState is what the test reads from the rendered DOM.
type pageState struct {
	Search  string
	Conn    string
	Engines []struct{ ID, Host, Arch, State, Done string }
	Jobs    []struct{ ID, Done, Total, Count string }
	Hosts   []struct {
		Host   string
		Gauges []string
		Flags  []string
	}
	Output int
	Rate   string
}

const readPage = `(() => {
  const txt = (root, sel) => { const e = root.querySelector(sel); return e ? e.textContent : ""; };
  if (!document.querySelector("#conn")) return {search: location.search}; // not loaded yet
  return {
    search: location.search,
    conn: document.querySelector("#conn").dataset.state,
    engines: [...document.querySelectorAll("#engines tbody tr")].map(tr => ({
      id: txt(tr, "td.c-id"), host: txt(tr, "td.c-host"), arch: txt(tr, "td.c-arch"), state: txt(tr, "td.c-state"), done: txt(tr, "td.c-done") })),
    jobs: [...document.querySelectorAll("#jobs .job")].map(d => ({
      id: d.dataset.jobId, done: d.dataset.done, total: d.dataset.total, count: txt(d, ".count") })),
    hosts: [...document.querySelectorAll("#hosts .host")].map(d => ({
      host: txt(d, ".host-head b"),
      gauges: [...d.querySelectorAll(".gauge")].map(g => g.dataset.gauge),
      flags: [...d.querySelectorAll(".flag")].map(f => f.textContent) })),
    output: document.querySelectorAll("#output .out").length,
    rate: document.querySelector("#rate-line").getAttribute("d") || "",
  };
})()`

// state polls the page until cond holds, failing after d.
func (b *browser) state(what string, d time.Duration, cond func(pageState) bool) pageState {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		var st pageState
		b.eval(readPage, &st)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: not within %v; the page shows %+v", what, d, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// noErrors fails the test if the page threw.
func (b *browser) noErrors() {
	b.t.Helper()
	var errs []string
	b.eval("window.__errors", &errs)
	if len(errs) > 0 {
		b.t.Errorf("the page threw: %q", errs)
	}
}

// TestDashboardBrowser loads a real hub's dashboard in headless Chromium
// while a long map runs on two engine processes, and reads from the
// rendered DOM every engine's row, the host and the job's progress moving.
func TestDashboardBrowser(t *testing.T) {
	b := startBrowser(t)
	_, clientConn, engineConn, printed := startDashHub(t, "0.0.0.0:0")
	startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	u, err := url.Parse(printed)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = "127.0.0.1:" + u.Port()
	dir := t.TempDir()
	script := filepath.Join(dir, "long.star")
	os.WriteFile(script, []byte(`
def work(i):
    print("item", i)
    time.sleep(0.05)
    return i

print(len(Client().load_balanced_view().map_async(work, range(200)).get()))
`), 0o644)
	b.resize(1280, 800, 1, false)
	b.call(b.session, "Page.enable", nil, nil)
	b.call(b.session, "Page.addScriptToEvaluateOnNewDocument", map[string]any{
		"source": `window.__errors = []; addEventListener("error", e => __errors.push(e.message));`}, nil)
	b.call(b.session, "Page.navigate", map[string]any{"url": u.String()}, nil)
	b.state("the page shows both engines, live", 30*time.Second, func(st pageState) bool {
		return len(st.Engines) == 2 && st.Conn == "live"
	})
	run := startPirun(t, "--connect", clientConn, "--quiet", script)
	first := b.state("the page shows the map's job", 30*time.Second, func(st pageState) bool {
		return len(st.Jobs) == 1 && st.Jobs[0].Total == "200" && atoi(st.Jobs[0].Done) > 0
	})
	host, _ := os.Hostname()
	for i, e := range first.Engines {
		if e.ID != strconv.Itoa(i) || !strings.HasPrefix(e.Host, host) || !strings.HasPrefix(e.Arch, "linux/") || (e.State != "busy" && e.State != "idle") {
			t.Errorf("engine row %d = %+v, want id %d on %s, linux/..., busy or idle", i, e, i, host)
		}
	}
	moved := b.state("the job's progress moves", 30*time.Second, func(st pageState) bool {
		return len(st.Jobs) == 1 && atoi(st.Jobs[0].Done) > atoi(first.Jobs[0].Done)
	})
	if len(moved.Hosts) != 1 || moved.Hosts[0].Host != host || !strings.Contains(strings.Join(moved.Hosts[0].Gauges, " "), "CPU load mem") {
		t.Errorf("hosts shown = %+v, want %s with CPU, load and memory gauges", moved.Hosts, host)
	}
	if moved.Search != "" {
		t.Errorf("location.search = %q, want the token gone from the address", moved.Search)
	}
	b.state("the engines' output and a tasks/s line", 30*time.Second, func(st pageState) bool {
		return st.Output > 0 && strings.HasPrefix(st.Rate, "M")
	})
	<-run.done
	if run.err != nil {
		t.Fatalf("the script: %v", run.err)
	}
	b.state("the finished job leaves the page", 15*time.Second, func(st pageState) bool { return len(st.Jobs) == 0 })
	b.noErrors()
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return n
}
