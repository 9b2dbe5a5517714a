package dash

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var screenshots = flag.Bool("screenshots", false, "write the dashboard's screenshots to docs/ (desktop and phone widths)")

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

// screenshot returns a PNG of the page at the current width, down to
// maxHeight CSS pixels.
func (b *browser) screenshot(maxHeight float64) []byte {
	b.t.Helper()
	var m struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	b.call(b.session, "Page.getLayoutMetrics", nil, &m)
	var shot struct{ Data string }
	b.call(b.session, "Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": m.CSSContentSize.Width, "height": min(m.CSSContentSize.Height, maxHeight), "scale": 1}}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		b.t.Fatalf("Page.captureScreenshot gave no PNG: %v", err)
	}
	return png
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

func TestBrowser(t *testing.T) {
	s, _ := start(t, "0.0.0.0:0", 300*time.Millisecond)
	b := startBrowser(t)
	b.resize(1280, 800, 1, false)
	b.call(b.session, "Page.enable", nil, nil)
	b.call(b.session, "Page.addScriptToEvaluateOnNewDocument", map[string]any{
		"source": `window.__errors = []; addEventListener("error", e => __errors.push(e.message));`}, nil)
	_, port, _ := net.SplitHostPort(s.Addr())
	b.call(b.session, "Page.navigate", map[string]any{"url": "http://127.0.0.1:" + port + "/?token=" + s.Token()}, nil)

	first := b.state("the page shows 8 engines and a job", 30*time.Second, func(st pageState) bool {
		return len(st.Engines) == 8 && len(st.Jobs) == 2 && st.Conn == "live"
	})
	if first.Search != "" {
		t.Errorf("after loading, location.search = %q, want the token gone from the address", first.Search)
	}
	for i, e := range first.Engines {
		wantHost := fakeHosts[min(i/2, 3)]
		if i == 7 {
			wantHost = fakeHosts[3]
		}
		wantState := "busy"
		if i == 5 {
			wantState = "idle"
		}
		if e.ID != fmt.Sprint(i) || e.Host != wantHost.host || e.Arch != wantHost.arch || e.State != wantState {
			t.Errorf("engine row %d = %+v, want id %d host %s arch %s state %s", i, e, i, wantHost.host, wantHost.arch, wantState)
		}
	}
	job := first.Jobs[0]
	if job.ID != "c1f3-7" || job.Total != "20000" || !strings.Contains(job.Count, "/ 20,000") {
		t.Errorf("job row = %+v, want c1f3-7 of 20000", job)
	}
	// The numbers move without a reload: the job's progress and each
	// engine's done count, over the event stream (the cookie carries the
	// token now that the address has lost it).
	moved := b.state("the job's progress moves", 30*time.Second, func(st pageState) bool {
		return len(st.Jobs) == 2 && atoi(st.Jobs[0].Done) > atoi(job.Done)
	})
	for i, e := range moved.Engines {
		if atoi(e.Done) <= atoi(first.Engines[i].Done) {
			t.Errorf("engine %d done: %s then %s, want it to grow", i, first.Engines[i].Done, e.Done)
		}
	}
	for _, h := range moved.Hosts {
		want := map[string]string{"rpi1": "CPU load mem temp", "rpi2": "CPU load mem temp", "rpi0": "CPU load mem temp", "laptop": "CPU load mem"}[h.Host]
		if got := strings.Join(h.Gauges, " "); got != want {
			t.Errorf("host %s gauges = %q, want %q", h.Host, got, want)
		}
	}
	if len(moved.Hosts) != 4 || moved.Output != 8 || !strings.HasPrefix(moved.Rate, "M") {
		t.Errorf("page shows %d hosts, %d output tails, rate path %.20q; want 4, 8 and a plotted line", len(moved.Hosts), moved.Output, moved.Rate)
	}
	flags := map[string]string{}
	for _, h := range moved.Hosts {
		flags[h.Host] = strings.Join(h.Flags, ", ")
	}
	if flags["rpi0"] != "under-voltage, throttled, under-voltage since boot, throttled since boot" || flags["rpi2"] != "not throttled" || flags["laptop"] != "" {
		t.Errorf("throttle flags shown = %q, want rpi0's four, rpi2 not throttled, none for the laptop", flags)
	}

	for _, shot := range []struct {
		name          string
		width, height int
		scale         float64
		mobile        bool
		maxHeight     float64 // of the picture
	}{
		{"dashboard-desktop.png", 1280, 800, 1, false, 1100},
		{"dashboard-phone.png", 390, 844, 2, true, 2 * 844},
	} {
		b.resize(shot.width, shot.height, shot.scale, shot.mobile)
		b.state("the page redrawn at "+shot.name, 10*time.Second, func(st pageState) bool { return len(st.Engines) == 8 })
		var width int
		b.eval("document.documentElement.scrollWidth", &width)
		if width > shot.width {
			t.Errorf("%s: the page is %d px wide in a %d px viewport, want no sideways scrolling", shot.name, width, shot.width)
		}
		var overflow []string
		b.eval(`[...document.querySelectorAll(".card, .card > *")].filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.className + " " + c.id)`, &overflow)
		if len(overflow) > 0 {
			t.Errorf("%s: content wider than its box in %q, want everything inside its card", shot.name, overflow)
		}
		png := b.screenshot(shot.maxHeight)
		dir := t.TempDir()
		if *screenshots {
			dir = "docs"
		}
		if err := os.WriteFile(filepath.Join(dir, shot.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.noErrors()

	// A hub nobody has joined yet: the page says so, and nothing breaks.
	empty, err := New(Config{Addr: "127.0.0.1:0", Source: SourceFunc(func() Snapshot { return Snapshot{} })})
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(empty.Shutdown)
	b.call(b.session, "Page.navigate", map[string]any{"url": "http://" + empty.Addr() + "/"}, nil)
	b.state("the empty cluster's page is live", 30*time.Second, func(st pageState) bool { return st.Conn == "live" })
	var shown []string
	b.eval(`[...document.querySelectorAll(".empty")].filter(e => !e.hidden).map(e => e.textContent)`, &shown)
	if want := []string{"No jobs running.", "No engines have joined yet.", "Nothing printed yet."}; strings.Join(shown, "|") != strings.Join(want, "|") {
		t.Errorf("an empty cluster's page says %q, want %q", shown, want)
	}
	b.noErrors()
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

func atoi(s string) int {
	var n int
	fmt.Sscan(strings.ReplaceAll(s, ",", ""), &n)
	return n
}
