// This file defines the fault tests between network namespaces (SPEC
// §10): a "Pi" whose cable is pulled, and a hub SIGKILLed and restarted on
// the same port.

package integration

import (
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// labHubPort is the hub's port in the lab: free, as every lab host is a
// fresh network namespace.
const labHubPort = 4222

// labEngineConn is the engine connection file of a lab profile's hub.
func labEngineConn(t *testing.T, profile string) string {
	return filepath.Join(pirunDir(t), profile, "security", "engine-connection.toml")
}

// TestNetnsLinkDown runs a hub on pi0 and two engines on each of pi1 and
// pi2, pulls pi1's cable during a load-balanced map with retries, and
// checks that the hub notices within 5 s (the time of its "engines lost"
// log line; the client's polling is not counted), that pi1's ids leave
// c.ids, that
// the map returns all 40 results, each once, and that pi1's engines come
// back once the cable is plugged in again.
func TestNetnsLinkDown(t *testing.T) {
	l := newLab(t, 3)
	hub, cut := l.hosts[0], l.hosts[1]
	hubProc := hub.startHub(t, "lab", labHubPort)
	for _, h := range l.hosts[1:] {
		h.pirun(t, "engine", "--connect", labEngineConn(t, "lab"), "-n", "2")
	}
	dir := writeScript(t, "linkdown.star", `
c = Client()
c.wait_for_engines(4, timeout=30)
ids = sorted(c.ids)
hosts = c[ids].apply_sync(lambda: engine.hostname)
cut = [ids[k] for k in range(len(ids)) if hosts[k] == argv[0]]
def slow(x):
    time.sleep(0.25)
    return engine.hostname
lv = c.load_balanced_view()
lv.retries = 3
m = lv.map_async(slow, range(40))
while m.progress < 4:
    time.sleep(0.02)
print("cut", argv[0], cut)
while [i for i in c.ids if i in cut]:
    time.sleep(0.05)
print("lost", cut)
r = m.get(timeout=60)
print("results", len(r), sorted(set(r)))
c.wait_for_engines(4, timeout=40)
print("back", sorted(set(c[:].apply_sync(lambda: engine.hostname))))
`)
	client := hub.pirun(t, "--profile", "lab", filepath.Join(dir, "linkdown.star"), cut.hostname)
	waitFor(t, 60*time.Second, "the map to run on both hosts", func() bool {
		return strings.Contains(client.stdout.String(), "cut ") || exited(client)
	})
	// The link is down at some moment during linkDown; counting from
	// before it, the hub's figure is an upper bound.
	downAt := time.Now()
	cut.linkDown()
	waitFor(t, 30*time.Second, "the hub to drop pi1's engines", func() bool {
		return strings.Contains(client.stdout.String(), "lost ") || exited(client)
	})
	t.Logf("pi1's engines left c.ids %v after its link went down", time.Since(downAt).Round(time.Millisecond))
	lostLine := regexp.MustCompile(`(?m)^time=(\S+) level=WARN msg="engines lost: [^"\n]*".* host=pi1\b`)
	var lost []string
	waitFor(t, 10*time.Second, "the hub's log line that pi1's engines are lost", func() bool {
		lost = lostLine.FindStringSubmatch(hubProc.stderr.String())
		return lost != nil
	})
	if at, err := time.Parse(time.RFC3339, lost[1]); err != nil {
		t.Errorf("the hub's log line %q: time: %v", lost[0], err)
	} else if noticed := at.Sub(downAt); noticed > 5*time.Second {
		t.Errorf("the hub logged pi1's engines lost %v after its link went down, want ≤ 5s (SPEC §10):\n%s", noticed.Round(time.Millisecond), lost[0])
	} else {
		t.Logf("the hub logged pi1's engines lost %v after its link went down", noticed.Round(time.Millisecond))
	}
	waitFor(t, 60*time.Second, "the map's results", func() bool {
		return strings.Contains(client.stdout.String(), "results ") || exited(client)
	})
	cut.linkUp()
	select {
	case <-client.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the script did not end within 60s of the link coming back\nstdout:\n%s\nstderr:\n%s", client.stdout, client.stderr)
	}
	out := client.stdout.String()
	if client.err != nil {
		t.Fatalf("script: %v\nstdout:\n%s\nstderr:\n%s", client.err, out, client.stderr)
	}
	for _, want := range []string{`results 40 ["pi1", "pi2"]`, `back ["pi1", "pi2"]`} {
		if !strings.Contains(out, want) {
			t.Errorf("the script's output lacks %q:\n%s", want, out)
		}
	}
}

// TestNetnsHubRestart runs a hub on pi0 and engines on pi1 and pi2,
// pushes a value into each engine, SIGKILLs the hub and starts it again on
// the same port: the engines come back with the same ids, on the same
// hosts, with the values in their namespaces. A first engine, shut down
// before, holds id 0, so a hub that forgot its registry would hand out
// other ids.
func TestNetnsHubRestart(t *testing.T) {
	l := newLab(t, 3)
	hubHost := l.hosts[0]
	hub := hubHost.startHub(t, "lab", labHubPort)
	first := l.hosts[1].pirun(t, "engine", "--connect", labEngineConn(t, "lab"), "-n", "1")
	dir := writeScript(t, "first.star", "c = Client()\nc.wait_for_engines(1, timeout=20)\nc.shutdown(targets=c.ids)\n")
	if r := hubHost.runPirun(t, 30*time.Second, "--profile", "lab", filepath.Join(dir, "first.star")); r.code != 0 {
		t.Fatalf("shutting down the first engine: exit %d\nstderr:\n%s", r.code, r.stderr)
	}
	waitFor(t, 20*time.Second, "the first engine to exit", func() bool { return exited(first) })
	for _, h := range l.hosts[1:] {
		h.pirun(t, "engine", "--connect", labEngineConn(t, "lab"), "-n", "2")
	}
	dir = writeScript(t, "state.star", `
c = Client()
c.wait_for_engines(4, timeout=20)
ids = sorted(c.ids)
if argv[0] == "push":
    for i in ids:
        c[i].push({"token": "token-%d" % i}, block=True)
v = c[ids]
hosts = v.apply_sync(lambda: engine.hostname)
tokens = v.pull("token", block=True)
print("state", {ids[k]: (hosts[k], tokens[k]) for k in range(len(ids))})
`)
	script := filepath.Join(dir, "state.star")
	before := hubHost.runPirun(t, 60*time.Second, "--profile", "lab", script, "push")
	state := regexp.MustCompile(`(?m)^state \{.*\}$`)
	want := state.FindString(before.stdout)
	if before.code != 0 || !strings.HasPrefix(want, "state {1: (") || !strings.Contains(want, `"pi1"`) || !strings.Contains(want, `"pi2"`) {
		t.Fatalf("before the restart: exit %d, want 0 and a state line with engines 1… on pi1 and pi2\nstdout:\n%s\nstderr:\n%s", before.code, before.stdout, before.stderr)
	}
	if err := hub.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-hub.done
	restarted := time.Now()
	hubHost.startHub(t, "lab", labHubPort)
	after := hubHost.runPirun(t, 60*time.Second, "--profile", "lab", script, "pull")
	if got := state.FindString(after.stdout); after.code != 0 || got != want {
		t.Fatalf("after the restart: exit %d, state %q; want 0 and %q (same ids, hosts and namespaces)\nstdout:\n%s\nstderr:\n%s",
			after.code, got, want, after.stdout, after.stderr)
	}
	t.Logf("engines back with their ids and namespaces %v after the restart: %s", time.Since(restarted).Round(time.Millisecond), want)
}
