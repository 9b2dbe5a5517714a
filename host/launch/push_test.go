package launch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeSSH writes an ssh stand-in that runs its last argument with sh on
// this machine, and returns its path.
func fakeSSH(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ssh")
	writeScript(t, path, "#!/bin/sh\nfor last; do :; done\nexec sh -c \"$last\"\n")
	return path
}

func TestProbeAndPush(t *testing.T) {
	ssh := fakeSSH(t)
	dir := t.TempDir()
	local := filepath.Join(dir, "pirun-build")
	if err := os.WriteFile(local, []byte("#!/bin/sh\necho pushed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "remote home", ".pirun", "bin", "pirun")
	h := Target{Host: "pi1"}
	ctx := t.Context()
	for i, wantCopied := range []bool{true, false} {
		p, sum, err := Probe(ctx, ssh, h, dest)
		if err != nil {
			t.Fatalf("Probe: %v", err)
		}
		if p.GOOS == "" || p.GOARCH == "" {
			t.Errorf("Probe platform = %+v, want this machine's", p)
		}
		copied, err := Push(ctx, ssh, h, local, dest, sum)
		if err != nil {
			t.Fatalf("Push #%d: %v", i, err)
		}
		if copied != wantCopied {
			t.Errorf("Push #%d copied = %v, want %v", i, copied, wantCopied)
		}
	}
	fi, err := os.Stat(dest)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("pushed file mode = %04o, want 0755", fi.Mode().Perm())
	}
	if _, err := os.Stat(dest + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
}

func TestTunnelError(t *testing.T) {
	ssh := filepath.Join(t.TempDir(), "ssh")
	writeScript(t, ssh, "#!/bin/sh\necho 'ssh: Could not resolve hostname nowhere: Name or service not known' >&2\nexit 255\n")
	start := time.Now()
	_, _, err := Tunnel(t.Context(), ssh, "pi@nowhere", "10.0.0.1:4222", nil)
	if err == nil || !strings.Contains(err.Error(), "cannot reach pi@nowhere with ssh: ssh: Could not resolve hostname nowhere") {
		t.Errorf("Tunnel error = %v, want ssh's own error", err)
	}
	if d := time.Since(start); d > tunnelWait/2 {
		t.Errorf("Tunnel took %v to fail, want it to notice ssh's exit at once", d)
	}
	if _, _, err := Tunnel(t.Context(), ssh, "-oProxyCommand=x", "10.0.0.1:4222", nil); err == nil {
		t.Error("Tunnel(bad gateway) = nil error")
	}
}
