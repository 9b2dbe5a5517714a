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

// TestStalledEngineIsNotDead stalls a whole engine process while its
// tasks run, as one large allocation does (go.starlark.net's list repeat
// copies hundreds of MB in one non-preemptible memmove, and the Go
// collector waits for it to stop the world, heartbeats included): first
// with SIGSTOP for longer than the hub's engine_timeout, then with a real
// 80 MB allocation. SPEC §15: the tasks complete, no EngineError, the
// engine keeps its id; the hub waited for it because its connection
// stayed open.
func TestStalledEngineIsNotDead(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	eng := startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	script := filepath.Join(t.TempDir(), "stall.star")
	if err := os.WriteFile(script, []byte(`
c = Client()
c.wait_for_engines(1, timeout=20)
before = c.ids
def slow():
    time.sleep(1)
    return engine.id
ar = c[:].apply_async(slow)
print("running")
print("slow:", ar.get(return_exceptions=True) == before)
def big(n):
    x = [0] * n
    return len(x)
print("big:", c[:].apply_async(big, 5000000).get(return_exceptions=True))
print("ids kept:", c.ids == before, c[:].apply_sync(lambda: engine.id) == before)
`), 0o644); err != nil {
		t.Fatal(err)
	}
	client := startPirun(t, "--connect", clientConn, script)
	waitFor(t, 30*time.Second, "the task to start", func() bool {
		return strings.Contains(client.stdout.String(), "running")
	})
	if err := eng.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	hubLog := filepath.Join(pirunDir(t), "default", "log", "hub.log")
	waitFor(t, 20*time.Second, "the hub to see the engine silent but connected", func() bool {
		b, _ := os.ReadFile(hubLog)
		return strings.Contains(string(b), "silent but connected")
	})
	time.Sleep(2 * time.Second) // the stall itself: 2 s past the hub's notice
	if err := eng.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-client.done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the script did not finish\nstdout:\n%s\nstderr:\n%s", client.stdout, client.stderr)
	}
	out := client.stdout.String()
	for _, want := range []string{"slow: True", "big: [5000000]", "ids kept: True True"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s\nstderr:\n%s", want, out, client.stderr)
		}
	}
	if strings.Contains(out, "EngineError") || client.err != nil {
		t.Errorf("an engine was reported dead (%v):\n%s\nstderr:\n%s", client.err, out, client.stderr)
	}
}

// TestMaxMemoryRunaway runs issue 14's runaway allocations on an engine
// process with max_memory: each task fails with a MemoryError naming the
// limit, and the same engine runs the next task.
func TestMaxMemoryRunaway(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	cfg := filepath.Join(t.TempDir(), "engine.toml")
	if err := os.WriteFile(cfg, []byte("[engine]\nmax_memory = \"16MiB\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	eng := startPirun(t, "engine", "--connect", engineConn, "-n", "1", "--config", cfg)
	script := filepath.Join(t.TempDir(), "runaway.star")
	if err := os.WriteFile(script, []byte(`
c = Client()
c.wait_for_engines(1, timeout=20)
before = c.ids
def runaway():
    x = [0]
    for _ in range(40):
        x = x + x
    return len(x)
def big():
    return [0] * 2000000
for f in [runaway, big]:
    e = c[:].apply_async(f).get(return_exceptions=True)[0]
    print(f, e.type)
    print("message:", e.message)
    print("after:", c[:].apply_sync(lambda: engine.pid))
`), 0o644); err != nil {
		t.Fatal(err)
	}
	res := runPirun(t, t.TempDir(), 5*time.Minute, "--connect", clientConn, script)
	pid := strconv.Itoa(eng.cmd.Process.Pid)
	for _, want := range []string{"runaway> MemoryError", "big> MemoryError", "max_memory 16MiB", "[engine] table", "after: [" + pid + "]"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s\nstderr:\n%s", want, res.stdout, res.stderr)
		}
	}
	if strings.Count(res.stdout, "after: ["+pid+"]") != 2 {
		t.Errorf("the engine process did not run both tasks after the runaways:\n%s", res.stdout)
	}
}
