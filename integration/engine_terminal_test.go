// This file defines the test of what `pirun engine` says on its terminal
// and where it logs (issue 18 item 2).

package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/conf"
)

// TestEngineTerminal: an engine says where it connects and with which
// file, which ids it joined as and on which machine, that the hub was lost
// and that it reconnected, and that it stops; it logs into --log, not into
// the profile of $PIRUN_DIR; --quiet says none of it.
func TestEngineTerminal(t *testing.T) {
	hub, clientConn, engineConn := startHub(t)
	cf, _, err := conf.LoadConnFile(clientConn)
	if err != nil {
		t.Fatal(err)
	}
	url := cf.URLs[0]
	port := url[strings.LastIndex(url, ":")+1:]
	dir := t.TempDir()
	conn := filepath.Join(dir, "engine-connection.toml")
	data, err := os.ReadFile(engineConn)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conn, data, 0o600); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "engine.log")
	eng := startPirun(t, "engine", "--connect", conn, "-n", "2", "--log", logFile)
	machine, _ := os.Hostname()
	said := func(what string) func() bool {
		return func() bool { return strings.Contains(eng.stderr.String(), what) }
	}
	waitFor(t, 30*time.Second, "the engine to say it joined", said("pirun engine: joined as engines 0-1 on "+machine+"\n"))
	if want := "pirun engine: connecting to " + url + " (engine connection file " + conn + ")\n"; !strings.HasPrefix(eng.stderr.String(), want) {
		t.Errorf("engine stderr = %q, want it to start with %q", eng.stderr.String(), want)
	}
	if !strings.Contains(eng.stderr.String(), "pirun engine: log: "+logFile+"\n") {
		t.Errorf("engine stderr = %q, want it to name its log %s", eng.stderr.String(), logFile)
	}
	quiet := startPirun(t, "engine", "--connect", conn, "-n", "1", "--quiet", "--log", filepath.Join(dir, "quiet.log"))
	waitFor(t, 30*time.Second, "the quiet engine to join", func() bool {
		r := runPirun(t, "", 20*time.Second, "status", "--json")
		return r.code == 0 && strings.Count(r.stdout, `"state": "idle"`) == 3
	})

	hub.cmd.Process.Kill()
	<-hub.done
	waitFor(t, 30*time.Second, "the engine to say the hub was lost", said("pirun engine: hub lost; retrying every "))
	startPirun(t, "hub", "--port", port)
	waitFor(t, 60*time.Second, "the engine to say it reconnected", said("pirun engine: reconnected as engines 0-1\n"))
	if n := strings.Count(eng.stderr.String(), "pirun engine: hub lost"); n != 1 {
		t.Errorf("engine said hub lost %d times, want once per loss:\n%s", n, eng.stderr)
	}

	eng.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-eng.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the engine did not stop within 30s of SIGINT")
	}
	if eng.err != nil || !strings.HasSuffix(eng.stderr.String(), "pirun engine: stopping (interrupted)\n") {
		t.Errorf("engine after SIGINT: %v, stderr %q; want exit 0 and that it stops", eng.err, eng.stderr)
	}
	if strings.Contains(eng.stderr.String(), "\x1b") {
		t.Errorf("engine stderr holds escape codes: %q", eng.stderr)
	}
	log, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(log), "registered") {
		t.Errorf("--log %s: %v, %q; want the engine's log records", logFile, err, log)
	}
	if _, err := os.Stat(filepath.Join(pirunDir(t), "default", "log", "engine.log")); !os.IsNotExist(err) {
		t.Errorf("an engine with --connect and --log logged into the default profile too (stat: %v)", err)
	}
	if s := quiet.stderr.String(); strings.Contains(s, "pirun engine:") {
		t.Errorf("engine --quiet said %q, want nothing of its connection", s)
	}
}
