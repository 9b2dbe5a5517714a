package dash

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/host/dash/dashtest"
)

var screenshots = flag.Bool("screenshots", false, "write the dashboard's screenshots to docs/ (desktop and phone widths)")

func TestBrowser(t *testing.T) {
	s, _ := start(t, "0.0.0.0:0", 300*time.Millisecond)
	b := dashtest.Start(t)
	b.Resize(1280, 800, 1, false)
	_, port, _ := net.SplitHostPort(s.Addr())
	b.Load("http://127.0.0.1:" + port + "/?token=" + s.Token())

	first := b.State("the page shows 8 engines and a job", 30*time.Second, func(st dashtest.PageState) bool {
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
	moved := b.State("the job's progress moves", 30*time.Second, func(st dashtest.PageState) bool {
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
		b.Resize(shot.width, shot.height, shot.scale, shot.mobile)
		b.State("the page redrawn at "+shot.name, 10*time.Second, func(st dashtest.PageState) bool { return len(st.Engines) == 8 })
		var width int
		b.Eval("document.documentElement.scrollWidth", &width)
		if width > shot.width {
			t.Errorf("%s: the page is %d px wide in a %d px viewport, want no sideways scrolling", shot.name, width, shot.width)
		}
		var overflow []string
		b.Eval(`[...document.querySelectorAll(".card, .card > *")].filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.className + " " + c.id)`, &overflow)
		if len(overflow) > 0 {
			t.Errorf("%s: content wider than its box in %q, want everything inside its card", shot.name, overflow)
		}
		png := b.Screenshot(shot.maxHeight)
		dir := t.TempDir()
		if *screenshots {
			dir = "docs"
		}
		if err := os.WriteFile(filepath.Join(dir, shot.name), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.NoErrors()

	// A hub nobody has joined yet: the page says so, and nothing breaks.
	empty, err := New(Config{Addr: "127.0.0.1:0", Source: SourceFunc(func() Snapshot { return Snapshot{} })})
	if err != nil {
		t.Fatal(err)
	}
	if err := empty.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(empty.Shutdown)
	b.Navigate("http://" + empty.Addr() + "/")
	b.State("the empty cluster's page is live", 30*time.Second, func(st dashtest.PageState) bool { return st.Conn == "live" })
	var shown []string
	b.Eval(`[...document.querySelectorAll(".empty")].filter(e => !e.hidden).map(e => e.textContent)`, &shown)
	if want := []string{"No jobs running.", "No engines have joined yet.", "Nothing printed yet."}; strings.Join(shown, "|") != strings.Join(want, "|") {
		t.Errorf("an empty cluster's page says %q, want %q", shown, want)
	}
	b.NoErrors()
}

func atoi(s string) int {
	var n int
	fmt.Sscan(strings.ReplaceAll(s, ",", ""), &n)
	return n
}
