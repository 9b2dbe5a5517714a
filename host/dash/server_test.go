package dash

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// start runs a dashboard on addr fed by a fake cluster; it stops with the
// test.
func start(t *testing.T, addr string, interval time.Duration) (*Server, *fakeCluster) {
	t.Helper()
	f := newFakeCluster(time.Now())
	s, err := New(Config{Addr: addr, Source: f, Rate: f.rate, Tail: f.tail, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s, f
}

// base is the server's address as reached from this machine.
func base(s *Server) string {
	_, port, _ := net.SplitHostPort(s.Addr())
	return "http://127.0.0.1:" + port
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(t *testing.T, c *http.Client, method, u string, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestStatusJSON(t *testing.T) {
	s, _ := start(t, "127.0.0.1:0", time.Second)
	resp, body := get(t, http.DefaultClient, "GET", base(s)+"/api/status", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/status = %d %s, want 200 application/json: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var snap Snapshot
	if err := json.Unmarshal([]byte(body), &snap); err != nil {
		t.Fatalf("GET /api/status: %v in %s", err, body)
	}
	var ids []int
	for _, e := range snap.Engines {
		ids = append(ids, e.ID)
	}
	var raw struct {
		Engines []map[string]any `json:"engines"`
		Hosts   []map[string]any `json:"hosts"`
		Output  map[string]any   `json:"output"`
	}
	json.Unmarshal([]byte(body), &raw)
	rpi0 := snap.Hosts[slices.IndexFunc(snap.Hosts, func(h Host) bool { return h.Host == "rpi0" })]
	laptop := raw.Hosts[slices.IndexFunc(raw.Hosts, func(h map[string]any) bool { return h["host"] == "laptop" })]
	for _, test := range []struct {
		what      string
		got, want any
	}{
		{"engine ids", ids, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"engine 5 state", snap.Engines[5].State, "idle"},
		{"engine 3 errors", snap.Engines[3].Errors, uint64(2)},
		{"engine row keys", sortedKeys(raw.Engines[0]), []string{"arch", "done", "errors", "host", "id", "queue", "state", "task", "task_age_s", "uptime_s"}},
		{"summary.engines", snap.Summary.Engines, 8},
		{"summary.hosts", snap.Summary.Hosts, 4},
		{"summary.busy", snap.Summary.Busy, 7},
		{"summary.errors", snap.Summary.Errors, uint64(2)},
		{"summary.unassigned", snap.Summary.Unassigned, 412},
		{"rpi0 engines", rpi0.Engines, 2},
		{"rpi0 throttle_flags", rpi0.ThrottleFlags, []string{"under-voltage", "throttled", "under-voltage since boot", "throttled since boot"}},
		{"rpi0 temp_c", *rpi0.TempC, 81.2},
		{"laptop has no temp_c", laptop["temp_c"], nil},
		{"laptop has no throttled", laptop["throttled"], nil},
		{"rate samples", len(snap.Rate), 300},
		{"rate step", snap.RateStep, 1.0},
		{"summary.rate is the last sample", snap.Summary.Rate, snap.Rate[len(snap.Rate)-1]},
		{"jobs", len(snap.Jobs), 2},
		{"job 0 total", snap.Jobs[0].Total, 20000},
		{"output engines", len(raw.Output), 8},
		{"engine 2's last line", last(snap.Output[2]), "chunk 1810: mean=0.5206 n=25000"},
	} {
		if !equal(test.got, test.want) {
			t.Errorf("%s = %v, want %v", test.what, test.got, test.want)
		}
	}
	if snap.Time.IsZero() || time.Since(snap.Time) > time.Minute {
		t.Errorf("time = %v, want now", snap.Time)
	}
}

func sortedKeys(m map[string]any) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

func equal(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// sse reads server-sent events from a response body.
type sse struct {
	r      *bufio.Reader
	events chan sseEvent
}

type sseEvent struct {
	name, data string
	err        error
}

func readSSE(body io.Reader) *sse {
	s := &sse{r: bufio.NewReader(body), events: make(chan sseEvent, 16)}
	go func() {
		var ev sseEvent
		for {
			line, err := s.r.ReadString('\n')
			if err != nil {
				s.events <- sseEvent{err: err}
				close(s.events)
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data += line[len("data: "):]
			}
		}
	}()
	return s
}

// next returns the next event within d.
func (s *sse) next(t *testing.T, d time.Duration) sseEvent {
	t.Helper()
	select {
	case ev := <-s.events:
		if ev.err != nil {
			t.Fatalf("event stream ended: %v", ev.err)
		}
		return ev
	case <-time.After(d):
		t.Fatalf("no event within %v", d)
	}
	return sseEvent{}
}

func TestEventStream(t *testing.T) {
	s, _ := start(t, "127.0.0.1:0", 50*time.Millisecond)
	if s.watching() || s.builds.Load() != 0 {
		t.Fatalf("before anyone watches: ticking %v, %d snapshots built; want none", s.watching(), s.builds.Load())
	}
	resp, err := http.Get(base(s) + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("GET /api/events = %d %s, want 200 text/event-stream", resp.StatusCode, ct)
	}
	events := readSSE(resp.Body)
	prev := -1
	for i := range 4 {
		ev := events.next(t, 5*time.Second)
		var snap Snapshot
		if err := json.Unmarshal([]byte(ev.data), &snap); ev.name != "status" || err != nil {
			t.Fatalf("event %d = %q (%v), want a status event with a snapshot", i, ev.name, err)
		}
		if len(snap.Engines) != 8 {
			t.Errorf("event %d: %d engines, want 8", i, len(snap.Engines))
		}
		if done := snap.Jobs[0].Done; done <= prev {
			t.Errorf("event %d: job done = %d, want more than the previous event's %d", i, done, prev)
		} else {
			prev = done
		}
	}
	resp.Body.Close()
	// Nobody watches any more: the ticker stops, no snapshot is built.
	waitFor(t, "the ticker stops once the page is gone", 5*time.Second, func() bool { return !s.watching() })
	built := s.builds.Load()
	if got, _ := get(t, http.DefaultClient, "GET", base(s)+"/api/status", nil); got.StatusCode != 200 || s.builds.Load() != built+1 {
		t.Errorf("a poll after the stream: %d, builds %d -> %d, want 200 and one build", got.StatusCode, built, s.builds.Load())
	}
}

func TestWatchingCallback(t *testing.T) {
	f := newFakeCluster(time.Now())
	calls := make(chan bool, 8)
	s, err := New(Config{Addr: "127.0.0.1:0", Source: f, Interval: 20 * time.Millisecond, Watching: func(on bool) { calls <- on }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	get(t, http.DefaultClient, "GET", base(s)+"/api/status", nil) // a poll is not watching
	want := func(on bool) {
		t.Helper()
		select {
		case got := <-calls:
			if got != on {
				t.Fatalf("Watching(%v), want Watching(%v)", got, on)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no Watching(%v) within 5s", on)
		}
	}
	for range 2 {
		resp, err := http.Get(base(s) + "/api/events")
		if err != nil {
			t.Fatal(err)
		}
		want(true)
		readSSE(resp.Body).next(t, 5*time.Second)
		resp.Body.Close()
		want(false)
	}
	if len(calls) != 0 {
		t.Errorf("Watching called again: %v", <-calls)
	}
}

func TestShutdownEndsStreams(t *testing.T) {
	before := runtime.NumGoroutine()
	s, _ := start(t, "127.0.0.1:0", time.Hour)
	resp, err := http.Get(base(s) + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	events := readSSE(resp.Body)
	events.next(t, 5*time.Second) // the first snapshot comes at once
	done := make(chan struct{})
	go func() { s.Shutdown(); s.Shutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Shutdown with a page open did not return within 3s")
	}
	if s.watching() {
		t.Error("after Shutdown the ticker still runs")
	}
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, "goroutines back to where they were", 5*time.Second, func() bool { return runtime.NumGoroutine() <= before+1 })
}

func TestToken(t *testing.T) {
	s, _ := start(t, "0.0.0.0:0", time.Second)
	if len(s.Token()) != 32 {
		t.Fatalf("Token() = %q, want 32 hex digits on a wildcard address", s.Token())
	}
	if u := s.URL(); !strings.HasSuffix(u, "/?token="+s.Token()) {
		t.Errorf("URL() = %q, want it to end in /?token=TOKEN", u)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	page := base(s) + "/"
	cookie := s.cookieName() + "=" + s.Token()
	for _, test := range []struct {
		name   string
		url    string
		header http.Header
		code   int
		body   string // a part of the body
	}{
		{"no token", page, nil, 401, "no token was given"},
		{"no token on the API", base(s) + "/api/status", nil, 401, "/?token="},
		{"no token on the events", base(s) + "/api/events", nil, 401, "needs the token"},
		{"no token on an unknown path", base(s) + "/nope", nil, 401, "no token"},
		{"wrong token", page + "?token=0123456789abcdef0123456789abcdef", nil, 401, "the token in the ?token= is wrong"},
		{"empty token", page + "?token=", nil, 401, "is wrong"},
		{"wrong cookie", page, http.Header{"Cookie": {s.cookieName() + "=nope"}}, 401, "the token in the cookie is wrong"},
		{"another port's cookie", page, http.Header{"Cookie": {"pirun_dash_1=" + s.Token()}}, 401, "no token"},
		{"token", page + "?token=" + url.QueryEscape(s.Token()), nil, 200, "<title>pirun dashboard</title>"},
		{"cookie alone", page, http.Header{"Cookie": {cookie}}, 200, "<title>pirun dashboard</title>"},
		{"cookie on the API", base(s) + "/api/status", http.Header{"Cookie": {cookie}}, 200, `"engines":[`},
		{"bearer", base(s) + "/api/status", http.Header{"Authorization": {"Bearer " + s.Token()}}, 200, `"hosts":[`},
		{"wrong bearer", base(s) + "/api/status", http.Header{"Authorization": {"Bearer x"}}, 401, "Authorization header is wrong"},
	} {
		t.Run(test.name, func(t *testing.T) {
			resp, body := get(t, noRedirect, "GET", test.url, test.header)
			if resp.StatusCode != test.code || !strings.Contains(body, test.body) {
				t.Errorf("GET %s = %d %q, want %d containing %q", test.url, resp.StatusCode, body, test.code, test.body)
			}
			set := resp.Header.Get("Set-Cookie")
			if test.name == "token" {
				for _, want := range []string{cookie, "HttpOnly", "SameSite=Strict", "Path=/"} {
					if !strings.Contains(set, want) {
						t.Errorf("Set-Cookie = %q, want it to have %q", set, want)
					}
				}
			} else if set != "" {
				t.Errorf("Set-Cookie = %q, want none", set)
			}
		})
	}
}

func TestNoTokenOnLoopback(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "localhost:0", "[::1]:0"} {
		s, err := New(Config{Addr: addr, Source: newFakeCluster(time.Now()), Token: "ignored"})
		if err != nil {
			t.Fatal(err)
		}
		if s.Token() != "" {
			t.Errorf("New(%s).Token() = %q, want none on loopback", addr, s.Token())
		}
	}
}

func TestBadRequests(t *testing.T) {
	s, _ := start(t, "127.0.0.1:0", time.Second)
	for _, test := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"POST", "/api/status", 405, "POST is not served; the dashboard is read-only, use GET or HEAD"},
		{"DELETE", "/", 405, "use GET or HEAD"},
		{"GET", "/nope", 404, "nothing at /nope; the pages are / (the dashboard), /api/status (JSON) and /api/events"},
		{"GET", "/api", 404, "nothing at /api"},
		{"GET", "/api/status?pretty=1", 400, `unknown parameter "pretty" in /api/status`},
		{"GET", "/?x", 400, `unknown parameter "x" in /`},
		{"HEAD", "/", 200, ""},
		{"HEAD", "/api/events", 200, ""},
		{"GET", "/app.js", 200, "EventSource"},
		{"GET", "/app.css", 200, "@media"},
	} {
		resp, body := get(t, http.DefaultClient, test.method, base(s)+test.path, nil)
		if resp.StatusCode != test.code || !strings.Contains(body, test.body) || (test.method == "HEAD" && body != "") {
			t.Errorf("%s %s = %d %q, want %d with %q", test.method, test.path, resp.StatusCode, body, test.code, test.body)
		}
		if test.code == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow = %q, want GET, HEAD", test.method, test.path, resp.Header.Get("Allow"))
		}
	}
	resp, _ := get(t, http.DefaultClient, "GET", base(s)+"/", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the page's Content-Security-Policy = %q, want scripts from itself only", csp)
	}
}

func TestNewErrors(t *testing.T) {
	src := newFakeCluster(time.Now())
	for _, test := range []struct {
		cfg  Config
		want string
	}{
		{Config{Addr: "127.0.0.1:0"}, "no Source"},
		{Config{Addr: "8080", Source: src}, `dashboard address "8080": address 8080: missing port in address; give host:port`},
		{Config{Addr: ":0", Source: src, Token: "short"}, "5 characters is too short"},
	} {
		if _, err := New(test.cfg); err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("New(%+v) = %v, want an error with %q", test.cfg, err, test.want)
		}
	}
	s, _ := start(t, "127.0.0.1:0", time.Second)
	s2, _ := New(Config{Addr: s.Addr(), Source: src})
	if err := s2.Start(); err == nil || !strings.Contains(err.Error(), "dashboard: listen on "+s.Addr()) {
		t.Errorf("Start on a busy port = %v, want a listen error naming the address", err)
	}
}

func TestThrottleFlags(t *testing.T) {
	for _, test := range []struct {
		word uint32
		want []string
	}{
		{0, nil},
		{0x50005, []string{"under-voltage", "throttled", "under-voltage since boot", "throttled since boot"}},
		{0x80008, []string{"soft temperature limit", "soft temperature limit since boot"}},
		{0x20002, []string{"frequency capped", "frequency capped since boot"}},
		{0x100, nil},
	} {
		if got := ThrottleFlags(test.word); !slices.Equal(got, test.want) {
			t.Errorf("ThrottleFlags(%#x) = %q, want %q", test.word, got, test.want)
		}
	}
}

func TestRateMeter(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	r := NewRateMeter(time.Second, 5*time.Second)
	r.Add(t0, 3)
	r.Add(t0.Add(300*time.Millisecond), 2)
	r.Add(t0.Add(2*time.Second), 7)
	r.Add(t0.Add(3*time.Second), 1) // the current step at t0+3.5s: not complete, not shown
	for _, test := range []struct {
		at   time.Duration
		want []float64
	}{
		{3500 * time.Millisecond, []float64{0, 0, 5, 0, 7}},
		{4 * time.Second, []float64{0, 5, 0, 7, 1}},
		{20 * time.Second, []float64{0, 0, 0, 0, 0}}, // all old: slots are not mistaken for new ones
	} {
		if got := r.Samples(t0.Add(test.at)); !slices.Equal(got, test.want) {
			t.Errorf("Samples(t0+%v) = %v, want %v", test.at, got, test.want)
		}
	}
	r.Add(t0.Add(20*time.Second), 4) // reuses a slot of t0+2s
	if got := r.Samples(t0.Add(21 * time.Second)); !slices.Equal(got, []float64{0, 0, 0, 0, 4}) {
		t.Errorf("Samples after a slot is reused = %v, want [0 0 0 0 4]", got)
	}
}

func TestTail(t *testing.T) {
	tail := NewTail(3)
	tail.Write(1, "a\nb\n")
	tail.Write(1, "c")
	tail.Write(1, "d\ne")
	tail.Write(2, strings.Repeat("é", 300))
	got := tail.Lines()
	if !slices.Equal(got[1], []string{"c", "d", "e"}) {
		t.Errorf("engine 1's lines = %q, want the last 3: c d e", got[1])
	}
	if l := got[2][0]; len(l) > 404 || !strings.HasSuffix(l, "…") || !strings.HasPrefix(l, "éé") || !utf8Valid(l) {
		t.Errorf("a long line = %d bytes %q…, want it cut at 400 bytes on a rune boundary with …", len(l), l[:10])
	}
	tail.Forget(1)
	if _, ok := tail.Lines()[1]; ok {
		t.Error("Forget(1) kept engine 1's lines")
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }
