package integration

// The Chromium driver is host/dash/dashtest's, shared with host/dash's own
// browser test; this test points it at a real hub.

import (
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/host/dash/dashtest"
)

// TestDashboardBrowser loads a real hub's dashboard in headless Chromium
// while a long map runs on two engine processes, and reads from the
// rendered DOM every engine's row, the host and the job's progress moving.
func TestDashboardBrowser(t *testing.T) {
	b := dashtest.Start(t)
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
	b.Resize(1280, 800, 1, false)
	b.Load(u.String())
	b.State("the page shows both engines, live", 30*time.Second, func(st dashtest.PageState) bool {
		return len(st.Engines) == 2 && st.Conn == "live"
	})
	run := startPirun(t, "--connect", clientConn, "--quiet", script)
	first := b.State("the page shows the map's job", 30*time.Second, func(st dashtest.PageState) bool {
		return len(st.Jobs) == 1 && st.Jobs[0].Total == "200" && atoi(st.Jobs[0].Done) > 0
	})
	host, _ := os.Hostname()
	for i, e := range first.Engines {
		if e.ID != strconv.Itoa(i) || !strings.HasPrefix(e.Host, host) || !strings.HasPrefix(e.Arch, "linux/") || (e.State != "busy" && e.State != "idle") {
			t.Errorf("engine row %d = %+v, want id %d on %s, linux/..., busy or idle", i, e, i, host)
		}
	}
	moved := b.State("the job's progress moves", 30*time.Second, func(st dashtest.PageState) bool {
		return len(st.Jobs) == 1 && atoi(st.Jobs[0].Done) > atoi(first.Jobs[0].Done)
	})
	if len(moved.Hosts) != 1 || moved.Hosts[0].Host != host || !strings.Contains(strings.Join(moved.Hosts[0].Gauges, " "), "CPU load mem") {
		t.Errorf("hosts shown = %+v, want %s with CPU, load and memory gauges", moved.Hosts, host)
	}
	if moved.Search != "" {
		t.Errorf("location.search = %q, want the token gone from the address", moved.Search)
	}
	b.State("the engines' output and a tasks/s line", 30*time.Second, func(st dashtest.PageState) bool {
		return st.Output > 0 && strings.HasPrefix(st.Rate, "M")
	})
	<-run.done
	if run.err != nil {
		t.Fatalf("the script: %v", run.err)
	}
	b.State("the finished job leaves the page", 15*time.Second, func(st dashtest.PageState) bool { return len(st.Jobs) == 0 })
	b.NoErrors()
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	return n
}
