// This file defines tests of how every command that waits stops on a
// signal (issue 18 item 3): real pirun processes, real SIGINT and
// SIGTERM, a hub that never answers. Each says one line on stderr,
// "pirun CMD: interrupted" (or "terminated"), leaves nothing half-done and
// exits 130 after SIGINT, 143 after SIGTERM.

package integration

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/hub"
	"github.com/pirun-dev/pirun/host/launch"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// signalTimeout bounds how long a command may take to stop after a
// signal: less than the 5 s that connecting to a silent hub waits, so a
// command that only gives up at that timeout fails.
const signalTimeout = 3 * time.Second

// abortTimeout bounds how long a command that runs tasks may take to stop
// after a signal: it aborts them and stops its in-process engines, which
// under -race on a loaded machine takes seconds. No silent hub is in play,
// so signalTimeout's 5 s reason does not apply; a command that ignores the
// signal or hangs while aborting still fails.
const abortTimeout = 20 * time.Second

// silentHub is a TCP listener that accepts connections and never says a
// word: a hub that hangs, or another program on the hub's port.
type silentHub struct {
	ln       net.Listener
	mu       sync.Mutex
	accepted int
	conns    []net.Conn
}

func startSilentHub(t *testing.T) *silentHub {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &silentHub{ln: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.accepted++
			h.conns = append(h.conns, c)
			h.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		h.mu.Lock()
		for _, c := range h.conns {
			c.Close()
		}
		h.mu.Unlock()
	})
	return h
}

// connections returns how many connections it accepted.
func (h *silentHub) connections() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.accepted
}

// writeSilentProfile writes the default profile's client connection file
// and hub credentials (what pirun abort needs) for the silent hub h, and
// returns the client connection file.
func writeSilentProfile(t *testing.T, h *silentHub) string {
	t.Helper()
	sec := filepath.Join(pirunDir(t), "default", "security")
	if err := os.MkdirAll(sec, 0o700); err != nil {
		t.Fatal(err)
	}
	const token = "silent-hub-token-0123456789"
	if err := conf.WriteHubSecrets(filepath.Join(sec, "hub.toml"), conf.HubSecrets{HubID: "silenthub0123456789", Hub: token, Client: token, Engine: token}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(sec, "client-connection.toml")
	cf := conf.ConnFile{Role: conf.RoleClient, Protocol: wire.ProtocolVersion, HubID: "silenthub0123456789",
		URLs: []string{"nats://" + h.ln.Addr().String()}, User: "pirun-client", Password: token}
	if err := conf.WriteConnFile(file, cf); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestSignalEngineSilentHub: pirun engine connecting to a hub that
// accepted the connection and says nothing stops at once on SIGINT or
// SIGTERM, instead of after the 5 s the connection may take, and as it
// does once joined (TestSignalDaemons).
func TestSignalEngineSilentHub(t *testing.T) {
	h := startSilentHub(t)
	writeSilentProfile(t, h)
	file := filepath.Join(pirunDir(t), "default", "security", "engine-connection.toml")
	cf := conf.ConnFile{Role: conf.RoleEngine, Protocol: wire.ProtocolVersion, HubID: "silenthub0123456789",
		URLs: []string{"nats://" + h.ln.Addr().String()}, User: hub.UserEngine, Password: "silent-hub-token-0123456789"}
	if err := conf.WriteConnFile(file, cf); err != nil {
		t.Fatal(err)
	}
	for i, s := range signals {
		before := h.connections()
		p := startPirun(t, "engine", "--connect", file, "-n", "1")
		code, stderr := stopWith(t, p, s.sig, "pirun engine to connect", func() bool { return h.connections() > before })
		// A service that was told to stop stops cleanly: exit 0.
		if want := "pirun engine: stopping (" + s.word + ")\n"; code != 0 || !strings.HasSuffix(stderr, want) {
			t.Errorf("#%d pirun engine after %v = exit %d, stderr %q; want 0, ending with %q", i, s.sig, code, stderr, want)
		}
	}
}

// stopWith sends sig to p once ready holds, and returns its exit status
// and stderr once it has exited, failing the test when that takes longer
// than signalTimeout.
func stopWith(t *testing.T, p *proc, sig syscall.Signal, what string, ready func() bool) (int, string) {
	t.Helper()
	return stopWithin(t, signalTimeout, p, sig, what, ready)
}

// stopWithin is stopWith with a limit of its own.
func stopWithin(t *testing.T, limit time.Duration, p *proc, sig syscall.Signal, what string, ready func() bool) (int, string) {
	t.Helper()
	waitFor(t, 30*time.Second, what, ready)
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("%v did not exit within %v of %v\nstderr:\n%s", p.cmd.Args, limit, sig, p.stderr)
	}
	return p.cmd.ProcessState.ExitCode(), p.stderr.String()
}

// signals are the signals each test sends, with the exit status and word
// they must give.
var signals = []struct {
	sig  syscall.Signal
	code int
	word string
}{
	{syscall.SIGINT, 130, "interrupted"},
	{syscall.SIGTERM, 143, "terminated"},
}

// TestSignalStatusSilentHub: pirun status (and status --tasks) waiting
// for a hub that accepted the connection and says nothing stops at once
// on SIGINT or SIGTERM.
func TestSignalStatusSilentHub(t *testing.T) {
	h := startSilentHub(t)
	file := writeSilentProfile(t, h)
	for i, s := range signals {
		for _, args := range [][]string{{"status", "--connect", file}, {"status", "--tasks"}} {
			before := h.connections()
			p := startPirun(t, args...)
			code, stderr := stopWith(t, p, s.sig, "pirun status to connect", func() bool { return h.connections() > before })
			want := "pirun status: " + s.word + "\n"
			if code != s.code || stderr != want {
				t.Errorf("#%d pirun %s after %v = exit %d, stderr %q; want %d, %q", i, strings.Join(args, " "), s.sig, code, stderr, s.code, want)
			}
		}
	}
	// Without a signal it says what is wrong, after its 5 s.
	r := runPirun(t, "", 30*time.Second, "status", "--connect", file)
	if r.code != 3 || !strings.Contains(r.stderr, "did not answer as a hub") {
		t.Errorf("pirun status on a silent hub = exit %d, stderr %q; want 3 and that it did not answer", r.code, r.stderr)
	}
}

// TestSignalAbortSilentHub: pirun abort interrupted before its request
// went out says that nothing was aborted.
func TestSignalAbortSilentHub(t *testing.T) {
	h := startSilentHub(t)
	writeSilentProfile(t, h)
	for _, s := range signals {
		before := h.connections()
		p := startPirun(t, "abort", "--all")
		code, stderr := stopWith(t, p, s.sig, "pirun abort to connect", func() bool { return h.connections() > before })
		want := "pirun abort: " + s.word + " before the abort request was sent: nothing was aborted\n"
		if code != s.code || stderr != want {
			t.Errorf("pirun abort --all after %v = exit %d, stderr %q; want %d, %q", s.sig, code, stderr, s.code, want)
		}
	}
}

// TestSignalBench: pirun bench interrupted while it measures aborts its
// tasks (within abortTimeout); interrupted while it connects, it stops at
// once (within signalTimeout).
func TestSignalBench(t *testing.T) {
	for _, s := range signals {
		p := startPirun(t, "bench", "-n", "1", "--quick")
		code, stderr := stopWithin(t, abortTimeout, p, s.sig, "the bench to measure", func() bool { return strings.Contains(p.stderr.String(), "pirun bench: measuring") })
		if want := "pirun bench: " + s.word + "; its tasks were aborted\n"; code != s.code || !strings.HasSuffix(stderr, want) || p.stdout.String() != "" {
			t.Errorf("pirun bench after %v = exit %d, stdout %q, stderr %q; want %d, no table and %q last", s.sig, code, p.stdout, stderr, s.code, want)
		}
	}
	h := startSilentHub(t)
	file := writeSilentProfile(t, h)
	p := startPirun(t, "bench", "--connect", file)
	code, stderr := stopWith(t, p, syscall.SIGINT, "pirun bench to connect", func() bool { return h.connections() > 0 })
	if code != 130 || stderr != "pirun bench: interrupted\n" {
		t.Errorf("pirun bench --connect SILENT after SIGINT = exit %d, stderr %q; want 130, one line", code, stderr)
	}
}

// TestSignalScriptTerminated: SIGTERM stops a script run as Ctrl-C does
// (TestCtrlCAbortsRemoteTasks), with 143; pirun mpi likewise. Both stop
// in-process engines, so the limit is abortTimeout.
func TestSignalScriptTerminated(t *testing.T) {
	dir := t.TempDir()
	loop, spmd := filepath.Join(dir, "loop.star"), filepath.Join(dir, "spmd.star")
	os.WriteFile(loop, []byte(`
def forever():
    n = 0
    while True:
        n += 1
print("looping")
Client()[:].apply_sync(forever)
`), 0o644)
	os.WriteFile(spmd, []byte("print(\"looping\")\nn = 0\nwhile True:\n    n += 1\n"), 0o644)
	for _, test := range []struct{ args, prefix string }{
		{"-n 1 " + loop, "pirun: terminated; the tasks this script started were aborted\n"},
		{"mpi -n 1 " + spmd, "pirun mpi: terminated; the ranks were aborted\n"},
	} {
		p := startPirun(t, strings.Fields(test.args)...)
		code, stderr := stopWithin(t, abortTimeout, p, syscall.SIGTERM, "the loop to start", func() bool { return strings.Contains(p.stdout.String(), "looping") })
		if code != 143 || !strings.HasSuffix(stderr, test.prefix) {
			t.Errorf("pirun %s loop.star after SIGTERM = exit %d, stderr %q; want 143 and %q", test.args, code, stderr, test.prefix)
		}
	}
}

// TestSignalClusterStart: Ctrl-C while pirun cluster start waits for an
// engine that never joins stops the cluster it was starting (no
// supervisor, no state file left) and says so.
func TestSignalClusterStart(t *testing.T) {
	hang := filepath.Join(t.TempDir(), "hang")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeClusterProfile(t, "sig", "", "[[hosts]]\nhost = \"pi1\"\npirun = \""+hang+"\"\n")
	state := clusterStatePath(t, "sig")
	p := startPirun(t, "cluster", "start", "-n", "1", "--profile", "sig", "--timeout", "60s")
	var supervisor launch.Process
	start := time.Now()
	code, stderr := stopWithin(t, 30*time.Second, p, syscall.SIGINT, "the supervisor's state file", func() bool {
		st, err := launch.ReadState(state)
		if err == nil {
			supervisor = st.Supervisor
		}
		return err == nil
	})
	t.Logf("pirun cluster start ran %v in all", time.Since(start))
	want := "pirun cluster start: interrupted; stopped the hub and the engines it was starting (profile sig)\n"
	if code != 130 || !strings.HasSuffix(stderr, want) {
		t.Errorf("pirun cluster start after SIGINT = exit %d, stderr %q; want 130 and %q", code, stderr, want)
	}
	if _, err := os.Stat(state); !os.IsNotExist(err) {
		t.Errorf("state file after an interrupted start: %v; want it removed", err)
	}
	if supervisor.Running() {
		supervisor.Signal(syscall.SIGKILL)
		t.Errorf("supervisor pid %d still runs after an interrupted start", supervisor.PID)
	}
	r := runPirun(t, "", cliTimeout, "cluster", "stop", "--profile", "sig")
	if r.code != 3 || !strings.Contains(r.stderr, "no cluster of profile sig is running") {
		t.Errorf("pirun cluster stop after an interrupted start = exit %d, stderr %q; want 3, nothing running", r.code, r.stderr)
	}
}

// TestSignalDaemons: for the hub and engines a signal is the way to
// stop: they say so and exit 0.
func TestSignalDaemons(t *testing.T) {
	hub, _, engineConn := startHub(t)
	eng := startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	code, stderr := stopWithin(t, 30*time.Second, eng, syscall.SIGTERM, "the engine to join", func() bool {
		return strings.Contains(eng.stderr.String(), "pirun engine: joined as engine 0 ")
	})
	if code != 0 || !strings.HasSuffix(stderr, "pirun engine: stopping (terminated)\n") {
		t.Errorf("pirun engine after SIGTERM = exit %d, stderr %q; want 0 and that it stops", code, stderr)
	}
	code, stderr = stopWithin(t, 30*time.Second, hub, syscall.SIGINT, "the hub", func() bool { return true })
	if code != 0 || !strings.HasSuffix(stderr, "pirun hub: stopping (interrupted)\n") {
		t.Errorf("pirun hub after SIGINT = exit %d, stderr %q; want 0 and that it stops", code, stderr)
	}
}

// TestSignalAbortSent: pirun abort interrupted after its request reached
// the hub (here a NATS server whose "hub" takes admin requests and never
// answers) says that the hub may have stopped tasks, and where to look.
func TestSignalAbortSent(t *testing.T) {
	const token = "stuck-hub-token-0123456789"
	opts := natstest.DefaultTestOptions
	opts.Port = server.RANDOM_PORT
	opts.NoLog, opts.NoSigs = true, true
	opts.Username, opts.Password = hub.UserHub, token
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL(), nats.UserInfo(hub.UserHub, token))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	asked := make(chan struct{}, 1)
	if _, err := nc.Subscribe(wire.SubjectAdmin, func(*nats.Msg) { asked <- struct{}{} }); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	sec := filepath.Join(pirunDir(t), "default", "security")
	os.MkdirAll(sec, 0o700)
	if err := conf.WriteHubSecrets(filepath.Join(sec, "hub.toml"), conf.HubSecrets{HubID: "stuckhub0123456789", Hub: token, Client: token, Engine: token}); err != nil {
		t.Fatal(err)
	}
	if err := conf.WriteConnFile(filepath.Join(sec, "client-connection.toml"), conf.ConnFile{Role: conf.RoleClient, Protocol: wire.ProtocolVersion,
		HubID: "stuckhub0123456789", URLs: []string{ns.ClientURL()}, User: "pirun-client", Password: token}); err != nil {
		t.Fatal(err)
	}
	p := startPirun(t, "abort", "--all")
	code, stderr := stopWith(t, p, syscall.SIGINT, "the abort request", func() bool {
		select {
		case <-asked:
			return true
		default:
			return false
		}
	})
	want := "pirun abort: interrupted after the abort request was sent: the hub may have stopped tasks; pirun status --tasks shows their states\n"
	if code != 130 || stderr != want {
		t.Errorf("pirun abort --all after SIGINT = exit %d, stderr %q; want 130, %q", code, stderr, want)
	}
}
