package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGKILLedEngine runs a hub and two engine processes on loopback,
// SIGKILLs one while it runs a direct task and holds load-balanced tasks,
// and checks SPEC §10: the direct task fails with EngineError within 5 s,
// and a load-balanced map with retries completes with every result once.
func TestSIGKILLedEngine(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	victim := startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	script := filepath.Join(t.TempDir(), "kill.star")
	if err := os.WriteFile(script, []byte(`
c = Client()
c.wait_for_engines(3, timeout=20)
ids = c.ids
victim = [i for i in ids if c[i].apply_sync(lambda: engine.pid) == int(argv[0])][0]
def slow(s):
    time.sleep(s)
    return engine.id
ar = c[victim].apply_async(slow, 60)
lv = c.load_balanced_view()
lv.retries = 2
m = lv.map_async(slow, [0.2] * 30)
print("submitted", ids)
errs = ar.get(return_exceptions=True)
print("direct:", errs.type, "after", int(ar.elapsed))
r = m.get()
print("map:", len(r), "results,", len([x for x in r if x == victim]), "from the killed engine before it died")
`), 0o644); err != nil {
		t.Fatal(err)
	}
	client := startPirun(t, "--connect", clientConn, script, strconv.Itoa(victim.cmd.Process.Pid))
	waitFor(t, 30*time.Second, "the script to submit its tasks", func() bool {
		return strings.Contains(client.stdout.String(), "submitted")
	})
	killed := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-client.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the script did not finish within 60s of the kill\nstdout:\n%s\nstderr:\n%s", client.stdout, client.stderr)
	}
	out := client.stdout.String()
	if client.err != nil {
		t.Fatalf("script failed: %v\nstdout:\n%s\nstderr:\n%s", client.err, out, client.stderr)
	}
	if !strings.Contains(out, "direct: EngineError") {
		t.Errorf("the direct task on the killed engine did not fail with EngineError:\n%s", out)
	}
	if !strings.Contains(out, "map: 30 results") {
		t.Errorf("the retried map did not return exactly 30 results:\n%s", out)
	}
	t.Logf("script finished %v after the kill", time.Since(killed).Round(time.Millisecond))
}

// TestEngineErrorWithin5s checks the time from SIGKILL to EngineError.
func TestEngineErrorWithin5s(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	victim := startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	script := filepath.Join(t.TempDir(), "wait.star")
	if err := os.WriteFile(script, []byte(`
c = Client()
c.wait_for_engines(1, timeout=20)
def forever():
    while True:
        pass
ar = c[0].apply_async(forever)
print("running")
e = ar.get(return_exceptions=True)
print(e.type)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	client := startPirun(t, "--connect", clientConn, script)
	waitFor(t, 30*time.Second, "the task to start", func() bool {
		return strings.Contains(client.stdout.String(), "running")
	})
	victim.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	waitFor(t, 5*time.Second, "EngineError after the engine was killed", func() bool {
		return strings.Contains(client.stdout.String(), "EngineError")
	})
	t.Logf("EngineError %v after SIGKILL", time.Since(killed).Round(time.Millisecond))
}
