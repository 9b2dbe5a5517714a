// This file defines the tests of detached jobs' owners and of detached
// direct tasks on several engines (SPEC §15), with real hub, engine and
// client processes and a raw client on the real client credentials.

package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestSecurityDetachedAbortOnlyByOwner: a detached job's ids leak (its
// client printed them). A raw client with the client credentials and its
// own identity aborts them on the daemon (running and queued direct
// tasks), through the scheduler, and on the scheduler's old unpinned
// subject; a second real client that fetched the job tries ar.abort().
// Each is refused and every task completes; the submitting client
// still aborts its own detached task. The victim's tasks run until the
// test opens the gate file go in the engines' data_dir, after the last
// attempt, so every attempt meets them unfinished however slow the run.
func TestSecurityDetachedAbortOnlyByOwner(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	gates := t.TempDir()
	startPirun(t, "engine", "--connect", engineConn, "-n", "2", "--data-dir", gates)
	victim := startPirun(t, "--connect", clientConn, writeScript(t, "victim.star", `c = Client()
c.wait_for_engines(2, timeout=30)
def slow(x):
    while not files.exists("go"):
        time.sleep(0.02)
    return x
e0, e1 = c.ids[0], c.ids[1]
d = c[e0].apply_async(slow, "direct", detached=True)
q = c[e0].apply_async(slow, "queued", detached=True)
lv = c.load_balanced_view(targets=[e1])
l = lv.apply_async(slow, "lb", detached=True)
w = lv.apply_async(slow, "lb queued", detached=True)
print(json.encode([d.task_ids, q.task_ids, l.task_ids, w.task_ids]))
print(d.get(timeout=60), q.get(timeout=60), l.get(timeout=60), w.get(timeout=60))
own = c[e1].apply_async(lambda: time.sleep(60), detached=True)
time.sleep(0.3)
own.abort()
print(own.get(timeout=20, return_exceptions=True).type)
`)+"/victim.star")
	var ids []uint64
	waitFor(t, 60*time.Second, "the victim's detached task ids", func() bool {
		line, _, ok := strings.Cut(victim.stdout.String(), "\n")
		return ok && json.Unmarshal([]byte(line), &ids) == nil
	})
	nc, attacker, errs := rawConnect(t, loadConnFile(t, clientConn))
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines})
	m, err := nc.Request(wire.SubjectQuery, q, 10*time.Second)
	var r wire.QueryReply
	if err != nil || wire.UnmarshalMsg(m.Data, &r) != nil || len(r.Engines) != 2 {
		t.Fatalf("the engines: %+v, %v", r, err)
	}
	abort, _ := wire.MarshalMsg(&wire.Control{Op: wire.OpAbort, Client: wire.DetachedClient, Tasks: ids})
	m, err = nc.Request(wire.DaemonControlFrom(r.Engines[0].Daemon, attacker), abort, 10*time.Second)
	var cr wire.ControlReply
	if err != nil || wire.UnmarshalMsg(m.Data, &cr) != nil || !strings.Contains(cr.Error, "refused") {
		t.Errorf("the attacker aborting the victim's detached tasks on their daemon: reply %+v, err %v; want refused", cr, err)
	}
	nc.Publish(wire.SchedControlFrom(attacker), abort)
	nc.Publish(wire.SubjectSchedControl, abort)
	if err := violated(nc, errs, wire.SubjectSchedControl); err != nil {
		t.Errorf("the attacker aborting on the scheduler's stem subject: %v", err)
	}
	// A collaborator who fetches the job may not stop it either.
	b := runPirun(t, "", 60*time.Second, "--connect", clientConn, scriptFile(t, "b.star", `
c = Client()
r = c.get_result(json.decode(argv[0]))
r.abort()
`), strings.SplitN(victim.stdout.String(), "\n", 2)[0])
	if b.code != 1 || !strings.Contains(b.stderr, "not submitted by this client") || !strings.Contains(b.stderr, "pirun abort") {
		t.Errorf("a second client aborting the detached job it fetched: exit %d, stderr:\n%s\nwant exit 1 saying only its client or pirun abort may", b.code, b.stderr)
	}
	if err := os.WriteFile(filepath.Join(gates, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-victim.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("the victim did not finish within 90s\nstdout:\n%s\nstderr:\n%s", victim.stdout, victim.stderr)
	}
	out := victim.stdout.String()
	if _, rest, _ := strings.Cut(out, "\n"); victim.cmd.ProcessState.ExitCode() != 0 || rest != "direct queued lb lb queued\nTaskAborted\n" {
		t.Errorf("the victim: exit %d, stdout:\n%s\nwant its 4 detached tasks done and its own abort of the 5th\nstderr:\n%s",
			victim.cmd.ProcessState.ExitCode(), out, victim.stderr)
	}
}

// TestDetachedSeveralEnginesSecondClient: client A submits a detached
// direct task on the engines of two daemons, the last of which takes
// longer, and exits; client B sees it pending while only the first
// engine's result is in, then gets every engine's result in engine
// order, as A's AsyncResult has them, by the task ids of A's AsyncResult
// and by the one id. The last engine's task runs until the test opens the
// gate file go in the engines' data_dir, once B has seen it pending.
func TestDetachedSeveralEnginesSecondClient(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	gates := t.TempDir()
	startPirun(t, "engine", "--connect", engineConn, "-n", "1", "--data-dir", gates)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1", "--data-dir", gates)
	a := runPirun(t, "", 60*time.Second, "--connect", clientConn, scriptFile(t, "a.star", `
c = Client()
c.wait_for_engines(2, timeout=30)
last = c.ids[-1]
def f():
    if engine.id == last:
        while not files.exists("go"):
            time.sleep(0.02)
    return engine.id * 10
ar = c[:].apply_async(f, detached=True)
print(json.encode(ar.task_ids))
`))
	if a.code != 0 {
		t.Fatalf("client A: exit %d\nstdout:\n%s\nstderr:\n%s", a.code, a.stdout, a.stderr)
	}
	ids := strings.TrimSpace(a.stdout)
	b := startPirun(t, "--connect", clientConn, scriptFile(t, "b.star", `
c = Client()
ids = json.decode(argv[0])
r = c.get_result(ids)
while r.progress < 1:
    time.sleep(0.02)
print(len(r), r.ready(), c.result_status(ids)["pending"] == ids)
print(r.get(timeout=60), r.engine_ids == c.ids)
print(c.result_status(ids))
print(c.get_result(ids[0]).get(timeout=20), c.get_result([ids[0]], block=True))
`), ids)
	waitFor(t, 60*time.Second, "client B to see the task pending", func() bool {
		return strings.Contains(b.stdout.String(), "\n") || exited(b)
	})
	if err := os.WriteFile(filepath.Join(gates, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-b.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("client B did not finish within 90s\nstdout:\n%s\nstderr:\n%s", b.stdout, b.stderr)
	}
	var got []uint64
	json.Unmarshal([]byte(ids), &got)
	e := "[0, 10]"
	want := "2 False True\n" + e + " True\n" + `{"pending": [], "completed": ` + strings.ReplaceAll(ids, ",", ", ") + "}\n" + e + " " + e + "\n"
	if code := b.cmd.ProcessState.ExitCode(); len(got) != 2 || code != 0 || b.stdout.String() != want {
		t.Errorf("client B fetching A's detached task on 2 engines %s: exit %d\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", ids, code, b.stdout, want, b.stderr)
	}
}

// TestDetachedOwnerAbortsAfterHubRestart: a client's identity is its
// process's key, which it proves again when it reconnects, so after a
// hub restart the client that submitted a detached task still may abort
// it.
func TestDetachedOwnerAbortsAfterHubRestart(t *testing.T) {
	hub, clientConn, engineConn := startHub(t)
	port := hubPort(t, clientConn)
	eng := startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	dir := writeScript(t, "owner.star", `c = Client()
c.wait_for_engines(1, timeout=30)
d = c[c.ids[0]].apply_async(lambda: time.sleep(60), detached=True)
print("submitted")
while not files.exists("go"):
    time.sleep(0.02)
d.abort()
print(d.get(timeout=20, return_exceptions=True).type)
`)
	owner := startPirun(t, "--connect", clientConn, dir+"/owner.star")
	waitFor(t, 60*time.Second, "the detached task submitted", func() bool {
		return strings.Contains(owner.stdout.String(), "submitted")
	})
	restartHub(t, hub, port)
	waitFor(t, 60*time.Second, "the client and the engine to reconnect", func() bool {
		return strings.Contains(owner.stderr.String(), "reconnected") && strings.Contains(eng.stderr.String(), "reconnected as engine")
	})
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	select {
	case <-owner.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the owner did not finish within 60s\nstdout:\n%s\nstderr:\n%s", owner.stdout, owner.stderr)
	}
	if code := owner.cmd.ProcessState.ExitCode(); code != 0 || owner.stdout.String() != "submitted\nTaskAborted\n" {
		t.Errorf("the owner aborting its detached task after a hub restart: exit %d, stdout %q, want TaskAborted\nstderr:\n%s", code, owner.stdout, owner.stderr)
	}
}

// TestDirectTasksLostInHubCrash: a direct task and a detached direct task
// sent while the hub is frozen wait in its socket and die with it (or, if
// nats.go still held them, come again after the restart). After the hub
// restarts, the client asks the engine's daemon which of its unfinished
// direct tasks it received and sends the others again: both give their
// value, and the one that counts its runs ran once.
func TestDirectTasksLostInHubCrash(t *testing.T) {
	hub, clientConn, engineConn := startHub(t)
	port := hubPort(t, clientConn)
	eng := startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	dir := writeScript(t, "lost.star", `c = Client()
c.wait_for_engines(1, timeout=30)
e = c[c.ids[0]]
e.execute("runs = 0")
print("ready")
while not files.exists("go"):
    time.sleep(0.02)
a = e.execute("runs = runs + 1", block=False)
d = e.apply_async(lambda: 42, detached=True)
print("sent")
a.get(timeout=60)
print(d.get(timeout=60), e.pull("runs", block=True))
`)
	client := startPirun(t, "--connect", clientConn, dir+"/lost.star")
	// The client sees the engine as soon as the hub registered it; the
	// engine may not have the hub's answer yet.
	waitFor(t, 60*time.Second, "the client ready and the engine registered", func() bool {
		return strings.Contains(client.stdout.String(), "ready") && strings.Contains(eng.stderr.String(), "joined as engine")
	})
	if err := hub.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the tasks sent to the frozen hub", func() bool {
		return strings.Contains(client.stdout.String(), "sent")
	})
	restartHub(t, hub, port)
	select {
	case <-client.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("the client did not finish within 90s\nstdout:\n%s\nstderr:\n%s", client.stdout, client.stderr)
	}
	if code := client.cmd.ProcessState.ExitCode(); code != 0 || client.stdout.String() != "ready\nsent\n42 1\n" {
		t.Errorf("direct tasks sent as the hub died: exit %d, stdout %q, want both done, the counting one once (42 1)\nstderr:\n%s",
			code, client.stdout, client.stderr)
	}
}
