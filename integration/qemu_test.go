// This file defines the test of the Raspberry Pi builds: the linux/arm64
// and linux/arm GOARM=6 binaries run as engines under qemu-user, join a
// hub on loopback and run tasks.

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// crossBuild builds pirun for linux/goarch (GOARM goarm) as .ci/run does,
// so that the build cache serves both.
func crossBuild(t *testing.T, goarch, goarm string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "pirun-"+goarch+goarm)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, "github.com/pirun-dev/pirun/host/cmd/pirun")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch, "GOARM="+goarm)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build linux/%s GOARM=%s: %v\n%s", goarch, goarm, err, b)
	}
	return out
}

// TestQemuEngines runs the arm64 and the armv6 build of pirun under
// qemu-user: `pirun version` names the platform, each joins a hub as an
// engine that announces its architecture, and a script runs direct and
// load-balanced tasks on both.
func TestQemuEngines(t *testing.T) {
	requireTool(t, "qemu-aarch64-static", "qemu-arm-static")
	_, clientConn, engineConn := startHub(t)
	var pids []int
	for _, test := range []struct {
		goarch, goarm, qemu, platform, arch string
	}{
		{"arm64", "", "qemu-aarch64-static", "linux/arm64", "linux/arm64"},
		{"arm", "6", "qemu-arm-static", "linux/arm GOARM=6", "linux/arm/v6"},
	} {
		bin := crossBuild(t, test.goarch, test.goarm)
		out, err := exec.Command(test.qemu, bin, "version").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "\n"+test.platform+"\n") {
			t.Fatalf("%s %s version = %q, %v; want a line %q", test.qemu, filepath.Base(bin), out, err, test.platform)
		}
		p := startQemuEngine(t, test.qemu, bin, test.arch, engineConn)
		pids = append(pids, p.cmd.Process.Pid)
	}
	dir := writeScript(t, "qemu.star", `
c = Client()
c.wait_for_engines(2, timeout=60)
print("pids", sorted(c[:].apply_sync(lambda: engine.pid)))
def collatz(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps
r = c.load_balanced_view().map_sync(collatz, range(1, 201))
print("collatz", len(r), max(r))
`)
	r := runPirun(t, dir, 120*time.Second, "--connect", clientConn, "qemu.star")
	slices.Sort(pids)
	want := fmt.Sprintf("pids [%d, %d]\ncollatz 200 124\n", pids[0], pids[1])
	if r.code != 0 || r.stdout != want {
		t.Errorf("script on the qemu engines: exit %d, stdout %q, want 0 and %q\nstderr:\n%s", r.code, r.stdout, want, r.stderr)
	}
}

// startQemuEngine starts `pirun engine -n 1` of bin under qemu and waits
// until the hub of the test's default profile logged it joined with arch
// (as linux/arm/v6).
func startQemuEngine(t *testing.T, qemu, bin, arch, engineConn string) *proc {
	t.Helper()
	cmd := exec.Command(qemu, bin, "engine", "--connect", engineConn, "-n", "1")
	cmd.Env = testEnv(t)
	p := startProc(t, cmd)
	joined := regexp.MustCompile(`msg="engines joined".* pid=` + strconv.Itoa(p.cmd.Process.Pid) + ` arch=` + regexp.QuoteMeta(arch) + `\b`)
	waitFor(t, 60*time.Second, "the "+arch+" engine to join", func() bool {
		return joined.MatchString(hubLog(t)) || exited(p)
	})
	if exited(p) {
		t.Fatalf("the %s engine exited: %v\nstderr:\n%s", arch, p.err, p.stderr)
	}
	return p
}

// hubLog returns the default profile's hub log.
func hubLog(t *testing.T) string {
	b, _ := os.ReadFile(filepath.Join(pirunDir(t), "default", "log", "hub.log"))
	return string(b)
}
