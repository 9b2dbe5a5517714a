package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCtrlCAbortsRemoteTasks interrupts a script whose engine runs an
// endless loop: pirun exits 130, the loop is aborted, and the engine
// serves the next script at once (SPEC §7).
func TestCtrlCAbortsRemoteTasks(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	dir := t.TempDir()
	loop := filepath.Join(dir, "loop.star")
	os.WriteFile(loop, []byte(`
c = Client()
c.wait_for_engines(1, timeout=20)
def forever():
    n = 0
    while True:
        n += 1
print("looping")
c[0].apply_sync(forever)
`), 0o644)
	p := startPirun(t, "--connect", clientConn, loop)
	waitFor(t, 30*time.Second, "the loop to start", func() bool { return strings.Contains(p.stdout.String(), "looping") })
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("pirun did not exit within 20s of SIGINT")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit status after SIGINT = %d, want 130\nstderr:\n%s", code, p.stderr)
	}
	next := filepath.Join(dir, "next.star")
	os.WriteFile(next, []byte(`print(Client()[0].apply_sync(lambda: "usable"))`), 0o644)
	r := runPirun(t, dir, 30*time.Second, "--connect", clientConn, next)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "usable" {
		t.Errorf("engine after the interrupted loop: exit %d, stdout %q, stderr %q; want 0, \"usable\"", r.code, r.stdout, r.stderr)
	}
}
