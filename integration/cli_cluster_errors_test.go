// This file defines tests of what the hub and pirun mpi say when the
// cluster is not as the user thinks (issue 14 items 9 and 10).

package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHubPortInUse: a hub on a taken port says so in one line naming the
// port and what to do, and exits 3 at once.
func TestHubPortInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	start := time.Now()
	r := runPirun(t, "", cliTimeout, "hub", "--port", port)
	took := time.Since(start)
	if r.code != 3 || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "port "+port+" is in use") || !strings.Contains(r.stderr, "--port") {
		t.Errorf("pirun hub --port %s (taken) = exit %d, stderr %q; want exit 3 and one line naming the port and --port", port, r.code, r.stderr)
	}
	if took > 5*time.Second {
		t.Errorf("pirun hub on a taken port took %v to fail, want at once", took)
	}
}

// TestHubLoopbackNote: a hub on 127.0.0.1 does not tell users to copy the
// engine file to other nodes without saying that they cannot reach it.
func TestHubLoopbackNote(t *testing.T) {
	hub, _, _ := startHub(t)
	waitFor(t, 20*time.Second, "the hub's note", func() bool {
		return strings.Contains(hub.stderr.String(), "which no other machine can reach")
	})
	if out := hub.stdout.String(); strings.Contains(out, "on each node") || !strings.Contains(out, "engines on this machine: pirun engine") {
		t.Errorf("hub on 127.0.0.1 printed %q; want engines on this machine only", out)
	}
	if !strings.Contains(hub.stderr.String(), "--ip '*'") {
		t.Errorf("hub on 127.0.0.1: stderr %q lacks how to listen for other machines", hub.stderr.String())
	}
}

// TestPlainURLToTLSHub: a connection file whose URL was changed to plain
// nats:// while it holds the TLS hub's CA is refused, saying why.
func TestPlainURLToTLSHub(t *testing.T) {
	hub := startPirun(t, "hub", "--port", "0", "--tls", "auto")
	waitFor(t, 30*time.Second, "the TLS hub", func() bool { return strings.Contains(hub.stdout.String(), "listening on tls://") })
	data, err := os.ReadFile(filepath.Join(pirunDir(t), "default", "security", "client-connection.toml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "client-connection.toml")
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(data), "tls://", "nats://")), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runPirun(t, "", cliTimeout, "status", "--connect", file)
	if r.code != 2 || !strings.Contains(r.stderr, "plain nats://") || !strings.Contains(r.stderr, "tls://") {
		t.Errorf("pirun status with nats:// and a CA = exit %d, stderr %q; want exit 2 and that the URL must be tls://", r.code, r.stderr)
	}
	if r := runPirun(t, "", cliTimeout, "status"); r.code != 0 {
		t.Errorf("pirun status with the hub's own file = exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestMPITimeout: pirun mpi on a cluster with too few engines says what it
// waits for and how to start more, and exits 3 at --timeout saying what to
// do; with enough engines it runs.
func TestMPITimeout(t *testing.T) {
	_, _, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	waitFor(t, 30*time.Second, "an engine", func() bool {
		r := runPirun(t, "", 20*time.Second, "status", "--json")
		return r.code == 0 && strings.Contains(r.stdout, `"state": "idle"`)
	})
	script := filepath.Join(t.TempDir(), "rank.star")
	os.WriteFile(script, []byte("print(comm.rank, comm.size)\n"), 0o644)
	start := time.Now()
	r := runPirun(t, "", cliTimeout, "mpi", "--profile", "default", "-n", "3", "--timeout", "2s", script)
	if took := time.Since(start); took < 2*time.Second || took > 30*time.Second {
		t.Errorf("pirun mpi --timeout 2s took %v", took)
	}
	for _, want := range []string{"waiting for 3 engines, 1 connected", "pirun engine --connect " + engineConn, "timed out after 2s", "-n 1", "--timeout"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("pirun mpi -n 3 on 1 engine: stderr %q lacks %q", r.stderr, want)
		}
	}
	if r.code != 3 {
		t.Errorf("pirun mpi -n 3 on 1 engine = exit %d, want 3", r.code)
	}
	r = runPirun(t, "", cliTimeout, "mpi", "--profile", "default", "-n", "1", script)
	if r.code != 0 || r.stdout != "[rank 0] 0 1\n" || strings.Contains(r.stderr, "waiting") {
		t.Errorf("pirun mpi -n 1 on 1 engine = exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestScriptBadDataDir: a zero-setup run whose data_dir does not exist is
// a configuration mistake: exit 2, naming the setting and what to do.
func TestScriptBadDataDir(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "x.star")
	if err := os.WriteFile(script, []byte("print(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nope")
	r := runCmd(t, cliTimeout, func(cmd *exec.Cmd) { cmd.Env = append(cmd.Env, "PIRUN_DATA_DIR="+missing) }, script)
	if r.code != 2 || !strings.Contains(r.stderr, "data_dir") || !strings.Contains(r.stderr, "to an existing folder") {
		t.Errorf("PIRUN_DATA_DIR=%s pirun x.star = exit %d, stderr %q; want exit 2 naming data_dir and what to set", missing, r.code, r.stderr)
	}
}
