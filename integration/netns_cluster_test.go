// This file defines the tests of `pirun cluster start/stop` between
// network namespaces: a hub bound to all interfaces on pi0 launches
// engines over SSH on the other "Pis", and nothing of it outlives `stop`
// or a killed SSH session.

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/startest"
)

// writeLabProfile writes the pirun.toml of profile "lab": a hub on all
// interfaces of pi0, local engines, a grace period, and a [[hosts]] table
// for each of hosts with engines there, reached with the lab's key.
func writeLabProfile(t *testing.T, l *lab, local, engines int, grace string, hosts ...*labHost) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[hub]\nip = \"*\"\nport = %d\n\n[cluster]\nengines = %d\ngrace = %q\n", labHubPort, local, grace)
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n[[hosts]]\nhost = %q\nuser = \"root\"\nengines = %d\npirun = %q\nssh_options = [", h.addr, engines, pirunBin)
		for i, o := range l.sshOptions() {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", o)
		}
		b.WriteString("]\n")
	}
	dir := filepath.Join(pirunDir(t), "lab")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pirun.toml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// clusterStart runs `pirun cluster start --profile lab` on h and registers
// `pirun cluster stop` for cleanup (the lab kills whatever it leaves).
func clusterStart(t *testing.T, h *labHost) result {
	t.Helper()
	r := h.runPirun(t, 90*time.Second, "cluster", "start", "--profile", "lab")
	t.Cleanup(func() {
		if stop := h.runPirun(t, 60*time.Second, "cluster", "stop", "--profile", "lab"); t.Failed() {
			t.Logf("cleanup: pirun cluster stop: exit %d\nstdout:\n%s\nstderr:\n%s", stop.code, stop.stdout, stop.stderr)
		}
	})
	if r.code != 0 {
		t.Fatalf("pirun cluster start on %s: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", h.hostname, r.code, r.stdout, r.stderr)
	}
	return r
}

// leftovers lists the pirun and ssh processes in the lab's namespaces.
func (l *lab) leftovers() []string {
	var left []string
	for _, h := range l.hosts {
		for _, comm := range []string{"pirun", "ssh"} {
			for _, pid := range h.processes(comm) {
				left = append(left, fmt.Sprintf("%s %s[%d]", h.hostname, comm, pid))
			}
		}
	}
	return left
}

// TestNetnsClusterOverSSH starts a cluster from pi0 with one local engine
// and two engines on each of pi1 and pi2 launched over SSH; a client
// script on pi0 sees the three host names through engine.hostname, and
// `pirun cluster stop` leaves no pirun or ssh process in any namespace.
func TestNetnsClusterOverSSH(t *testing.T) {
	l := newLab(t, 3)
	master := l.hosts[0]
	for _, h := range l.hosts[1:] {
		h.startSSHD(t)
	}
	writeLabProfile(t, l, 1, 2, "2s", l.hosts[1:]...)
	start := clusterStart(t, master)
	t.Logf("pirun cluster start:\n%s", start.stdout)
	dir := writeScript(t, "hosts.star", `
c = Client()
c.wait_for_engines(5, timeout=30)
print("engines", len(c.ids))
print("hosts", sorted(set(c[:].apply_sync(lambda: engine.hostname))))
`)
	r := master.runPirun(t, 60*time.Second, "--profile", "lab", filepath.Join(dir, "hosts.star"))
	if want := "engines 5\nhosts [\"pi0\", \"pi1\", \"pi2\"]\n"; r.code != 0 || r.stdout != want {
		t.Errorf("client on pi0: exit %d, stdout %q, want 0 and %q\nstderr:\n%s", r.code, r.stdout, want, r.stderr)
	}
	stop := master.runPirun(t, 60*time.Second, "cluster", "stop", "--profile", "lab")
	if stop.code != 0 {
		t.Errorf("pirun cluster stop: exit %d, want 0\nstdout:\n%s\nstderr:\n%s", stop.code, stop.stdout, stop.stderr)
	}
	startest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if left := l.leftovers(); len(left) > 0 {
			return fmt.Errorf("after pirun cluster stop, these processes are left: %v", left)
		}
		return nil
	})
}

// TestNetnsSSHSessionKilled starts a cluster from pi0 with an engine
// launched over SSH on pi1 ([cluster] grace = "2s"), kills the sshd
// session processes under that engine, and checks that the engine is gone
// from pi1 once the grace period has passed.
func TestNetnsSSHSessionKilled(t *testing.T) {
	l := newLab(t, 2)
	master, pi := l.hosts[0], l.hosts[1]
	pi.startSSHD(t)
	writeLabProfile(t, l, 1, 1, "2s", pi)
	clusterStart(t, master)
	engines := pi.processes("pirun")
	sessions := pi.sessionPids()
	if len(engines) != 1 || len(sessions) == 0 {
		t.Fatalf("on pi1 after pirun cluster start: pirun processes %v and sshd sessions %v, want one engine under a session", engines, sessions)
	}
	for _, pid := range sessions {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Errorf("kill sshd session %d: %v", pid, err)
		}
	}
	killed := time.Now()
	waitFor(t, 15*time.Second, "the engine on pi1 to exit after its SSH session was killed", func() bool {
		return len(pi.processes("pirun")) == 0
	})
	t.Logf("the engine on pi1 exited %v after its SSH session was killed (grace 2s)", time.Since(killed).Round(time.Millisecond))
}
