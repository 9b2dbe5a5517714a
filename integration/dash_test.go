package integration

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// dashStatus is the part of /api/status these tests read.
type dashStatus struct {
	Hub     string `json:"hub"`
	Summary struct {
		Engines int     `json:"engines"`
		Done    uint64  `json:"done"`
		Rate    float64 `json:"rate"`
	} `json:"summary"`
	Engines []struct {
		ID     int    `json:"id"`
		Host   string `json:"host"`
		Arch   string `json:"arch"`
		State  string `json:"state"`
		Task   string `json:"task"`
		Done   uint64 `json:"done"`
		Uptime float64
	} `json:"engines"`
	Hosts []struct {
		Host       string   `json:"host"`
		CPUs       int      `json:"cpus"`
		CPUPercent *float64 `json:"cpu_percent"`
		Load1      *float64 `json:"load1"`
		MemTotal   uint64   `json:"mem_total"`
		Engines    int      `json:"engines"`
	} `json:"hosts"`
	Jobs []struct {
		Client string `json:"client"`
		Label  string `json:"label"`
		Done   int    `json:"done"`
		Total  int    `json:"total"`
	} `json:"jobs"`
	Rate   []float64           `json:"rate"`
	Output map[string][]string `json:"output"`
}

var dashLine = regexp.MustCompile(`dashboard: (http://\S+)`)

// startDashHub starts `pirun hub --http ADDR` and returns its connection
// files and the dashboard's printed URL.
func startDashHub(t *testing.T, addr string) (p *proc, clientConn, engineConn, dashURL string) {
	t.Helper()
	p = startPirun(t, "hub", "--port", "0", "--http", addr)
	sec := filepath.Join(pirunDir(t), "default", "security")
	waitFor(t, 20*time.Second, "the hub's dashboard address", func() bool {
		return dashLine.MatchString(p.stdout.String())
	})
	return p, filepath.Join(sec, "client-connection.toml"), filepath.Join(sec, "engine-connection.toml"),
		dashLine.FindStringSubmatch(p.stdout.String())[1]
}

func getStatus(t *testing.T, base string) dashStatus {
	t.Helper()
	resp, err := http.Get(base + "api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/status: %s", resp.Status)
	}
	var s dashStatus
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("GET /api/status: %v", err)
	}
	return s
}

// TestDashboardCluster runs a long map on a hub and two engine processes
// and reads the dashboard: engines' rows and host figures from
// /api/status, then the job's progress moving, the tasks/s and the
// engines' output from /api/events.
func TestDashboardCluster(t *testing.T) {
	hub, clientConn, engineConn, base := startDashHub(t, "127.0.0.1:0")
	if strings.Contains(base, "token=") {
		t.Errorf("a loopback dashboard printed a token: %s", base)
	}
	if strings.Contains(hub.stdout.String()+hub.stderr.String(), "8222") {
		t.Errorf("the hub mentions NATS's monitoring port 8222:\n%s", hub.stdout)
	}
	startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	var s dashStatus
	waitFor(t, 20*time.Second, "two engines and their host's figures on /api/status", func() bool {
		s = getStatus(t, base)
		return len(s.Engines) == 2 && len(s.Hosts) == 1 && s.Hosts[0].MemTotal > 0
	})
	host, _ := os.Hostname()
	for i, e := range s.Engines {
		if e.ID != i || e.Host != host || !strings.HasPrefix(e.Arch, "linux/") || (e.State != "idle" && e.State != "busy") {
			t.Errorf("engine row %d = %+v, want id %d on %s, linux/..., idle or busy", i, e, i, host)
		}
	}
	if h := s.Hosts[0]; h.Host != host || h.CPUs < 1 || h.Load1 == nil || h.Engines != 2 {
		t.Errorf("host row = %+v, want %s with CPUs, a load average and 2 engines", h, host)
	}
	if s.Hub == "" || s.Summary.Engines != 2 {
		t.Errorf("hub %q, summary engines %d; want the hub's URL and 2", s.Hub, s.Summary.Engines)
	}

	dir := t.TempDir()
	script := filepath.Join(dir, "long.star")
	os.WriteFile(script, []byte(`
def work(i):
    print("item", i)
    time.sleep(0.05)
    return i

ar = Client().load_balanced_view().map_async(work, range(160))
print(len(ar.get()))
`), 0o644)
	run := startPirun(t, "--connect", clientConn, "--quiet", script)

	resp, err := http.Get(base + "api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("/api/events Content-Type %q, want text/event-stream", ct)
	}
	events := make(chan dashStatus)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var ev dashStatus
			if err := json.Unmarshal([]byte(data), &ev); err != nil {
				t.Errorf("event data: %v", err)
				return
			}
			events <- ev
		}
	}()
	var seen []int // the job's done counts, event by event
	var rate float64
	var output, busy bool
	deadline := time.After(40 * time.Second)
	for len(seen) < 2 || seen[len(seen)-1] <= seen[0] || rate == 0 || !output || !busy {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the event stream ended")
			}
			for _, j := range ev.Jobs {
				if j.Total != 160 || !strings.Contains(j.Label, "work") || j.Client == "" {
					t.Fatalf("job = %+v, want 160 tasks of work from a named client", j)
				}
				seen = append(seen, j.Done)
			}
			rate = max(rate, ev.Summary.Rate)
			for _, lines := range ev.Output {
				output = output || strings.Contains(strings.Join(lines, "\n"), "item ")
			}
			for _, e := range ev.Engines {
				busy = busy || (e.State == "busy" && strings.Contains(e.Task, "work"))
			}
		case <-deadline:
			t.Fatalf("within 40s: job progress %v, max tasks/s %v, output seen %v, a busy engine running work %v; want progress moving, a rate, output and a busy engine", seen, rate, output, busy)
		}
	}
	<-run.done
	if run.err != nil || strings.TrimSpace(run.stdout.String()) != "160" {
		t.Fatalf("the script: %v, stdout %q", run.err, run.stdout)
	}
	waitFor(t, 10*time.Second, "the finished job to leave the dashboard", func() bool {
		s = getStatus(t, base)
		return len(s.Jobs) == 0
	})
	if s.Summary.Done < 160 {
		t.Errorf("summary done = %d after the map, want at least 160", s.Summary.Done)
	}
}

// TestDashboardToken checks that a hub's dashboard beyond loopback asks
// for the token it printed: none is 401, ?token= lets in and sets a
// cookie, the cookie alone lets in afterwards.
func TestDashboardToken(t *testing.T) {
	_, _, _, printed := startDashHub(t, "0.0.0.0:0")
	u, err := url.Parse(printed)
	if err != nil {
		t.Fatal(err)
	}
	token := u.Query().Get("token")
	if len(token) < 16 {
		t.Fatalf("printed %s: want a token of 16 characters or more beyond loopback", printed)
	}
	base := "http://127.0.0.1:" + u.Port() + "/"
	for _, path := range []string{"", "api/status", "api/events"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "token") {
			t.Errorf("GET /%s without a token = %s %q, want 401 saying a token is needed", path, resp.Status, body)
		}
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<html") {
		t.Fatalf("GET /?token= = %s, want the page", resp.Status)
	}
	resp, err = c.Get(base + "api/status")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/status with the cookie = %s, want 200", resp.Status)
	}
	resp, err = http.Get(base + "api/status?token=" + strings.Repeat("0", len(token)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/status with a wrong token = %s, want 401", resp.Status)
	}
}

// TestDashboardEmbedded checks the dashboard of the zero-set-up mode:
// pirun --http ADDR SCRIPT.star serves the local hub's while it runs.
func TestDashboardEmbedded(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "wait.star")
	os.WriteFile(script, []byte("Client()[:].apply_sync(lambda: time.sleep(3))\nprint('ok')\n"), 0o644)
	p := startPirun(t, "-n", "2", "--http", "127.0.0.1:0", script)
	at := regexp.MustCompile(`dashboard at (http://\S+)`)
	waitFor(t, 20*time.Second, "the dashboard's address on stderr", func() bool { return at.MatchString(p.stderr.String()) })
	base := at.FindStringSubmatch(p.stderr.String())[1]
	var s dashStatus
	waitFor(t, 20*time.Second, "two busy engines on /api/status", func() bool {
		s = getStatus(t, base)
		return len(s.Engines) == 2 && s.Engines[0].State == "busy" && s.Engines[1].State == "busy"
	})
	if !strings.Contains(s.Hub, "in-process") {
		t.Errorf("hub = %q, want the in-process hub named", s.Hub)
	}
	<-p.done
	if p.err != nil || strings.TrimSpace(p.stdout.String()) != "ok" {
		t.Fatalf("pirun --http: %v, stdout %q", p.err, p.stdout)
	}
	r := runPirun(t, dir, 20*time.Second, "--http", "127.0.0.1:0", "--connect", filepath.Join(dir, "none.toml"), script)
	if r.code != 2 || !strings.Contains(r.stderr, "pirun hub --http ADDR") {
		t.Errorf("--http with --connect: exit %d, stderr %q; want 2 and where the dashboard is served", r.code, r.stderr)
	}
}
