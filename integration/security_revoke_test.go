// This file defines the test of per-machine engine credentials (SPEC §15
// "Identity per machine"): `pirun hub add-engine NAME` and `pirun hub
// revoke-engine NAME` on a running hub.

package integration

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestSecurityAddRevokeEngine adds a credential for engine machine rpi2
// on a running hub, runs an engine with it beside one with the shared
// file, revokes it, and checks that its engine and a raw connection with
// it are disconnected at once and cannot come back, while the shared
// file keeps working.
func TestSecurityAddRevokeEngine(t *testing.T) {
	if r := runPirun(t, "", 30*time.Second, "hub", "add-engine", "rpi2"); r.code != 2 || !strings.Contains(r.stderr, "start `pirun hub` once") {
		t.Errorf("add-engine before the hub ever started: exit %d, stderr %q; want 2 and to start the hub first", r.code, r.stderr)
	}
	_, clientConn, engineConn := startHub(t)
	for _, args := range [][]string{{"../x"}, {"a.b"}, {}, {"a", "b"}} {
		r := runPirun(t, "", 30*time.Second, append([]string{"hub", "add-engine"}, args...)...)
		if r.code != 2 || r.stderr == "" {
			t.Errorf("pirun hub add-engine %q: exit %d, stderr %q; want 2 and why", args, r.code, r.stderr)
		}
	}
	r := runPirun(t, "", 30*time.Second, "hub", "add-engine", "rpi2")
	file := filepath.Join(pirunDir(t), "default", "security", "engines", "rpi2.toml")
	if r.code != 0 || !strings.Contains(r.stdout, file) {
		t.Fatalf("pirun hub add-engine rpi2: exit %d, stdout %q, stderr %q; want 0 and %s named", r.code, r.stdout, r.stderr, file)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("%s: %v, %v; want mode 0600", file, st.Mode(), err)
	}
	if r := runPirun(t, "", 30*time.Second, "hub", "add-engine", "rpi2"); r.code != 2 || !strings.Contains(r.stderr, "revoke it first") {
		t.Errorf("add-engine rpi2 twice: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
	named := loadConnFile(t, file)
	if named.User == loadConnFile(t, engineConn).User || named.Password == loadConnFile(t, engineConn).Password {
		t.Errorf("rpi2.toml has the shared engine credential (user %q)", named.User)
	}

	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	rpi2 := startPirun(t, "engine", "--connect", file, "-n", "1")
	watcher, _, _ := rawConnect(t, loadConnFile(t, clientConn))
	engines := func() int {
		q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines})
		m, err := watcher.Request(wire.SubjectQuery, q, 5*time.Second)
		var r wire.QueryReply
		if err != nil || wire.UnmarshalMsg(m.Data, &r) != nil {
			return -1
		}
		return len(r.Engines)
	}
	waitFor(t, 30*time.Second, "2 engines, one with the shared file and one with rpi2's", func() bool { return engines() == 2 })
	raw, _, _ := rawConnect(t, named)

	r = runPirun(t, "", 30*time.Second, "hub", "revoke-engine", "rpi2")
	revoked := time.Now()
	if r.code != 0 || !strings.Contains(r.stdout, "revoked") {
		t.Fatalf("pirun hub revoke-engine rpi2: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	waitFor(t, 5*time.Second, "the raw connection with rpi2's credential to be closed", func() bool { return !raw.IsConnected() })
	waitFor(t, 5*time.Second, "rpi2's engine to leave", func() bool { return engines() == 1 })
	t.Logf("revoked connections closed and the engine left %v after revoke-engine", time.Since(revoked).Round(time.Millisecond))
	select {
	case <-rpi2.done:
		if code := rpi2.cmd.ProcessState.ExitCode(); code != 3 || !strings.Contains(rpi2.stderr.String(), "revoked") {
			t.Errorf("the revoked engine: exit %d, stderr %q; want 3 and that its credential was revoked", code, rpi2.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("the revoked engine still runs 20s after revoke-engine, want it to exit 3 saying why")
	}
	ident := nats.UserInfo(named.User, named.Password)
	if _, err := nats.Connect(strings.Join(named.URLs, ","), ident); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("connect with the revoked credential: %v, want an authorization error", err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after revoke-engine: %v, want it deleted", file, err)
	}
	if r := runPirun(t, "", 30*time.Second, "hub", "revoke-engine", "rpi2"); r.code != 2 || !strings.Contains(r.stderr, "no credential") {
		t.Errorf("revoke-engine rpi2 twice: exit %d, stderr %q; want 2", r.code, r.stderr)
	}
	dir := writeScript(t, "after.star", "c = Client()\nc.wait_for_engines(1, timeout=20)\nprint(len(c.ids), c[:].apply_sync(lambda: 6 * 7))\n")
	if r := runPirun(t, dir, 60*time.Second, "--connect", clientConn, "after.star"); r.code != 0 || r.stdout != "1 [42]\n" {
		t.Errorf("a script after the revocation: exit %d, stdout %q, want 0 and the shared-file engine only: \"1 [42]\"\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
