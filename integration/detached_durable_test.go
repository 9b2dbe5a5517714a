package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDetachedAckSurvivesHubKill is issue 14's promise for detached jobs:
// a detached map of 2,000 tasks whose submit returned is kept by the hub
// (one group commit, not 2,000 fsyncs), so that a SIGKILL of the hub the
// moment the client exits loses none: after a restart, every task has
// its record, and a second client fetches all 2,000 results.
func TestDetachedAckSurvivesHubKill(t *testing.T) {
	hub, clientConn, engineConn := startHub(t)
	port := hubPort(t, clientConn)
	startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	a := runPirun(t, "", 60*time.Second, "--connect", clientConn, scriptFile(t, "a.star", `
c = Client()
c.wait_for_engines(2, timeout=30)
def f(x):
    time.sleep(0.005)
    return x * 2
t0 = time.now()
m = c.load_balanced_view().map_async(f, range(2000), detached=True)
took = time.now() - t0
print(json.encode(m.task_ids))
print("submit took %dms" % (took.milliseconds))
`))
	if a.code != 0 {
		t.Fatalf("client A: exit %d\nstdout:\n%s\nstderr:\n%s", a.code, a.stdout, a.stderr)
	}
	ids, took, _ := strings.Cut(strings.TrimSpace(a.stdout), "\n")
	t.Logf("client A: %s", took)
	restartHub(t, hub, port)
	b := runPirun(t, "", 120*time.Second, "--connect", clientConn, scriptFile(t, "b.star", `
c = Client()
ids = json.decode(argv[0])
st = c.result_status(ids)
print(len(st["pending"]) + len(st["completed"]))
r = c.get_result(ids)
got = r.get(timeout=100)
print(got == [[2 * x] for x in range(2000)])
print(len(c.result_status(ids)["completed"]))
`), ids)
	if want := "2000\nTrue\n2000\n"; b.code != 0 || b.stdout != want {
		t.Errorf("client B after the hub's SIGKILL and restart: exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", b.code, b.stdout, want, b.stderr)
	}
}

// TestDetachedBoundRefused checks [hub] detached_max_pending: a client's
// detached map past it fails at once with what, the limit and what to
// do, none of its tasks run, and one within it is accepted.
func TestDetachedBoundRefused(t *testing.T) {
	prof := filepath.Join(pirunDir(t), "default")
	if err := os.MkdirAll(prof, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prof, "pirun.toml"), []byte("[hub]\ndetached_max_pending = 100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	r := runPirun(t, "", 60*time.Second, "--connect", clientConn, scriptFile(t, "bound.star", `
c = Client()
c.wait_for_engines(1, timeout=30)
def f(x):
    time.sleep(60)
lv = c.load_balanced_view()
held = lv.map_async(f, range(60), detached=True)
print("60 accepted")
lv.map_async(f, range(41), detached=True)
print("41 more accepted")
`))
	for _, want := range []string{"refused 41 detached tasks", "already has 60 detached tasks pending", "detached_max_pending = 100", "wait for some to finish"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refused submission's error does not say %q:\n%s", want, r.stderr)
		}
	}
	if r.code != 1 || r.stdout != "60 accepted\n" {
		t.Errorf("exit %d, stdout %q; want 1 and only the first map accepted", r.code, r.stdout)
	}
	// The hub holds the 60 accepted tasks (one runs for 60 s, the others
	// wait), and none of the 41 refused: they are neither queued nor run.
	r = runPirun(t, "", 60*time.Second, "--connect", clientConn, scriptFile(t, "count.star", `
c = Client()
c.wait_for_engines(1, timeout=30)
def count():
    st = c.queue_status()
    return st["unassigned"] + sum([st[i]["queue"] + st[i]["tasks"] + st[i]["completed"] for i in c.ids])
for _ in range(2000):
    if count() >= 60:
        break
    time.sleep(0.01)
print(count(), c.queue_status()[c.ids[0]]["completed"])
`))
	if r.code != 0 || r.stdout != "60 0\n" {
		t.Errorf("tasks queued, running or done after the refusal, and done: exit %d, stdout %q, want \"60 0\" (the 41 refused ones never queued or run)\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
