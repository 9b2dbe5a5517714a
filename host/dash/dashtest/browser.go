// Package dashtest drives the dashboard in a real headless Chromium for
// tests: host/dash's own browser test and the integration test that points
// it at a real hub share this one driver. It speaks the DevTools protocol
// on a pipe (--remote-debugging-pipe: JSON messages ending in NUL on fds 3
// and 4) and reads the rendered DOM into a PageState.
package dashtest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// Browser is a headless Chromium attached to its one page. Its methods
// fail the test that started it on any error.
type Browser struct {
	t       testing.TB
	cmd     *exec.Cmd
	in      *os.File // Chromium's fd 3: our commands
	msgs    chan json.RawMessage
	session string
	id      int
	stderr  *bytes.Buffer
}

// Chromium finds Debian's chromium. A missing browser fails the test under
// CI=true (.ci/run installs it) and skips it elsewhere.
func Chromium(t testing.TB) string {
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

// Start runs Chromium for the length of the test and attaches to its page.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := Chromium(t)
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t, in: cmdW, msgs: make(chan json.RawMessage, 64), stderr: &bytes.Buffer{}}
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

// Call sends a DevTools command to the page and decodes its result into
// out (nil: ignore it), skipping events; it fails the test on an error or
// after 30s.
func (b *Browser) Call(method string, params, out any) {
	b.t.Helper()
	b.call(b.session, method, params, out)
}

func (b *Browser) call(session, method string, params, out any) {
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

// Load records the page's uncaught errors from now on (see NoErrors) and
// navigates to url.
func (b *Browser) Load(url string) {
	b.t.Helper()
	b.Call("Page.enable", nil, nil)
	b.Call("Page.addScriptToEvaluateOnNewDocument", map[string]any{
		"source": `window.__errors = []; addEventListener("error", e => __errors.push(e.message));`}, nil)
	b.Navigate(url)
}

// Navigate points the page at url.
func (b *Browser) Navigate(url string) {
	b.t.Helper()
	b.Call("Page.navigate", map[string]any{"url": url}, nil)
}

// Eval runs a JavaScript expression in the page and decodes its value.
func (b *Browser) Eval(expr string, out any) {
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
	b.Call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res)
	if res.ExceptionDetails != nil {
		b.t.Fatalf("eval %s: %s %s", expr, res.ExceptionDetails.Text, res.ExceptionDetails.Exception.Description)
	}
	if err := json.Unmarshal(res.Result.Value, out); err != nil {
		b.t.Fatalf("eval %s: %v in %s", expr, err, res.Result.Value)
	}
}

// Resize sets the viewport: width and height in CSS pixels.
func (b *Browser) Resize(width, height int, scale float64, mobile bool) {
	b.t.Helper()
	b.Call("Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile}, nil)
}

// Screenshot returns a PNG of the page at the current width, down to
// maxHeight CSS pixels.
func (b *Browser) Screenshot(maxHeight float64) []byte {
	b.t.Helper()
	var m struct {
		CSSContentSize struct{ Width, Height float64 } `json:"cssContentSize"`
	}
	b.Call("Page.getLayoutMetrics", nil, &m)
	var shot struct{ Data string }
	b.Call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true,
		"clip": map[string]any{"x": 0, "y": 0, "width": m.CSSContentSize.Width, "height": min(m.CSSContentSize.Height, maxHeight), "scale": 1}}, &shot)
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		b.t.Fatalf("Page.captureScreenshot gave no PNG: %v", err)
	}
	return png
}

// NoErrors fails the test if the page threw since Load.
func (b *Browser) NoErrors() {
	b.t.Helper()
	var errs []string
	b.Eval("window.__errors", &errs)
	if len(errs) > 0 {
		b.t.Errorf("the page threw: %q", errs)
	}
}
