// This file defines the tests of the release artifacts that `go run
// ./host/cmd/release` builds: the tarballs' contents, each .deb as
// dpkg-deb shows it, the amd64 .deb installed into a throwaway root with
// dpkg --root (user, /etc/pirun, the unit, systemd-analyze verify, purge),
// the arm64 and armv6 binaries joining a hub under qemu-user, and a second
// build giving the same SHA256SUMS. TestInstallService checks `pirun
// engine install-service` the same way.

package integration

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/host/launch"
)

const (
	releaseVersion = "1.2.3-test"       // stamped by the test's builds
	releaseDebVer  = "1.2.3~test"       // its Debian form
	releaseEpoch   = 1764900000         // SOURCE_DATE_EPOCH of the test's builds
	releaseListed  = "2025-12-05 02:00" // releaseEpoch as dpkg-deb --contents lists it (TZ=UTC)
)

// releaseTargets are the tarballs' architectures.
var releaseTargets = []string{"amd64", "arm64", "armv6", "armv7"}

// releaseDebs are the .debs: file name → package, architecture.
var releaseDebs = map[string][2]string{
	"pirun_" + releaseDebVer + "_amd64.deb":       {"pirun", "amd64"},
	"pirun_" + releaseDebVer + "_arm64.deb":       {"pirun", "arm64"},
	"pirun_" + releaseDebVer + "_armhf.deb":       {"pirun", "armhf"},
	"pirun-armv6_" + releaseDebVer + "_armhf.deb": {"pirun-armv6", "armhf"},
}

func TestRelease(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("-short: the release builds take minutes (under CI=true they always run)")
	}
	requireTool(t, "dpkg-deb", "qemu-aarch64-static", "qemu-arm-static")
	dist := buildRelease(t)
	bins, binDir := map[string]string{}, t.TempDir() // outlives the subtest
	t.Run("tarballs", func(t *testing.T) {
		for _, arch := range releaseTargets {
			bins[arch] = checkTarball(t, dist, arch, binDir)
		}
	})
	t.Run("debs", func(t *testing.T) {
		for name, want := range releaseDebs {
			checkDeb(t, filepath.Join(dist, name), want[0], want[1])
		}
	})
	t.Run("install", func(t *testing.T) {
		requireTool(t, toolRoot, "dpkg", "useradd", "systemd-analyze")
		checkDebInstall(t, filepath.Join(dist, "pirun_"+releaseDebVer+"_amd64.deb"))
	})
	t.Run("qemu", func(t *testing.T) {
		if bins["arm64"] == "" || bins["armv6"] == "" {
			t.Fatal("the tarballs gave no arm64 and armv6 binaries")
		}
		_, _, engineConn := startHub(t)
		for _, test := range []struct{ bin, qemu, platform, arch string }{
			{bins["arm64"], "qemu-aarch64-static", "linux/arm64", "linux/arm64"},
			{bins["armv6"], "qemu-arm-static", "linux/arm GOARM=6", "linux/arm/v6"},
		} {
			checkVersionOutput(t, exec.Command(test.qemu, test.bin, "version"), test.platform)
			startQemuEngine(t, test.qemu, test.bin, test.arch, engineConn)
		}
	})
	t.Run("reproducible", func(t *testing.T) {
		again := buildRelease(t)
		first, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
		second, err := os.ReadFile(filepath.Join(again, "SHA256SUMS"))
		if err != nil || string(first) != string(second) || len(first) == 0 {
			t.Errorf("two builds of the same tree: SHA256SUMS\n%s\nthen\n%s(%v); want the same", first, second, err)
		}
	})
}

// buildRelease runs the release program into a new folder and returns it.
func buildRelease(t *testing.T) string {
	t.Helper()
	dist := t.TempDir()
	cmd := exec.Command("go", "run", "./host/cmd/release", "--out", dist, "--version", releaseVersion)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", releaseEpoch))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run ./host/cmd/release: %v\n%s", err, out)
	}
	sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		names = append(names, line[strings.LastIndex(line, " ")+1:])
	}
	var want []string
	for _, arch := range releaseTargets {
		want = append(want, fmt.Sprintf("pirun_%s_linux_%s.tar.gz", releaseVersion, arch))
	}
	for name := range releaseDebs {
		want = append(want, name)
	}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("SHA256SUMS lists %q, want %q", names, want)
	}
	check := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum --check SHA256SUMS: %v\n%s", err, out)
	}
	return dist
}

// checkTarball checks the tarball of arch and returns its pirun, unpacked
// into binDir.
func checkTarball(t *testing.T, dist, arch, binDir string) string {
	t.Helper()
	top := fmt.Sprintf("pirun_%s_linux_%s", releaseVersion, arch)
	f, err := os.Open(filepath.Join(dist, top+".tar.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s.tar.gz: %v", top, err)
	}
	readme, _ := os.ReadFile("../README.md")
	license, _ := os.ReadFile("../LICENSE")
	unit, _ := launch.PackageFile("pirun-engine.service")
	want := []struct {
		name string
		mode int64
		data []byte
	}{{top + "/", 0o755, nil}, {top + "/LICENSE", 0o644, license}, {top + "/README.md", 0o644, readme},
		{top + "/pirun", 0o755, nil}, {top + "/pirun-engine.service", 0o644, unit}, {top + "/pirun.1", 0o644, nil}}
	bin := filepath.Join(binDir, "pirun-"+arch)
	tr := tar.NewReader(zr)
	for i := 0; ; i++ {
		h, err := tr.Next()
		if err == io.EOF {
			if i != len(want) {
				t.Errorf("%s.tar.gz has %d entries, want %d", top, i, len(want))
			}
			break
		}
		if err != nil || i >= len(want) {
			t.Fatalf("%s.tar.gz entry %d: %v (want %d entries)", top, i, err, len(want))
		}
		data, _ := io.ReadAll(tr)
		w := want[i]
		if h.Name != w.name || h.Mode != w.mode || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.ModTime.Unix() != releaseEpoch {
			t.Errorf("%s.tar.gz entry %d = %s %o %d:%d %q:%q %v; want %s %o 0:0, no owner names, time %d",
				top, i, h.Name, h.Mode, h.Uid, h.Gid, h.Uname, h.Gname, h.ModTime.Unix(), w.name, w.mode, releaseEpoch)
		}
		if w.data != nil && string(data) != string(w.data) {
			t.Errorf("%s.tar.gz: %s differs from the repository's", top, h.Name)
		}
		if h.Name == top+"/pirun.1" && (!strings.HasPrefix(string(data), ".TH PIRUN 1 ") || !strings.Contains(string(data), ".SS pirun engine\n") || !strings.Contains(string(data), "Usage: pirun cluster start")) {
			t.Errorf("%s.tar.gz: pirun.1 is not the man page made from pirun's help:\n%.300s", top, data)
		}
		if h.Name == top+"/pirun" {
			if err := os.WriteFile(bin, data, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	if arch == "amd64" {
		checkVersionOutput(t, exec.Command(bin), "linux/amd64")
	}
	return bin
}

// checkVersionOutput runs cmd with the argument version and checks that it
// prints the release's version and platform.
func checkVersionOutput(t *testing.T, cmd *exec.Cmd, platform string) {
	t.Helper()
	if len(cmd.Args) == 1 {
		cmd.Args = append(cmd.Args, "version")
	}
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "pirun "+releaseVersion+"\n") || !strings.Contains(string(out), "\n"+platform+"\n") {
		t.Errorf("%v = %q, %v; want it to start with %q and have a line %q", cmd.Args, out, err, "pirun "+releaseVersion, platform)
	}
}

// checkDeb checks a .deb's fields, control files and contents.
func checkDeb(t *testing.T, deb, pkg, arch string) {
	t.Helper()
	name := filepath.Base(deb)
	fields := debOutput(t, "--field", deb, "Package", "Version", "Architecture", "Maintainer", "Conflicts", "Provides")
	want := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\n", pkg, releaseDebVer, arch)
	if pkg == "pirun-armv6" {
		want += "Conflicts: pirun\nProvides: pirun\n"
	}
	if got := regexp.MustCompile(`(?m)^Maintainer: .*\n`).ReplaceAllString(fields, ""); got != want || !strings.Contains(fields, "Maintainer: ") {
		t.Errorf("%s: dpkg-deb --field =\n%s\nwant a Maintainer and\n%s", name, fields, want)
	}
	info := debOutput(t, "--info", deb)
	for _, member := range []string{" control", " md5sums", " conffiles", " postinst", " prerm", " postrm"} {
		if !strings.Contains(info, member) {
			t.Errorf("%s: dpkg-deb --info lacks the control member %q:\n%s", name, strings.TrimSpace(member), info)
		}
	}
	if got := debOutput(t, "--info", deb, "conffiles"); got != "/etc/pirun/pirun.toml\n" {
		t.Errorf("%s: conffiles = %q, want /etc/pirun/pirun.toml", name, got)
	}
	doc := "./usr/share/doc/" + pkg + "/"
	wantFiles := map[string]string{
		"./etc/pirun/": "drwxr-x---", "./etc/pirun/pirun.toml": "-rw-r--r--",
		"./lib/systemd/system/pirun-engine.service": "-rw-r--r--", "./usr/bin/pirun": "-rwxr-xr-x",
		doc + "copyright": "-rw-r--r--", doc + "changelog.gz": "-rw-r--r--",
		"./usr/share/lintian/overrides/" + pkg: "-rw-r--r--", "./usr/share/man/man1/pirun.1.gz": "-rw-r--r--",
	}
	for _, line := range strings.Split(strings.TrimSpace(debOutput(t, "--contents", deb)), "\n") {
		f := strings.Fields(line)
		if len(f) != 6 {
			t.Errorf("%s: dpkg-deb --contents line %q: want 6 fields", name, line)
			continue
		}
		mode, owner, date, path := f[0], f[1], f[3]+" "+f[4], f[5]
		if owner != "root/root" || date != releaseListed {
			t.Errorf("%s: %s is %s at %s, want root/root at %s", name, path, owner, date, releaseListed)
		}
		if m, ok := wantFiles[path]; ok {
			if mode != m {
				t.Errorf("%s: %s has mode %s, want %s", name, path, mode, m)
			}
			delete(wantFiles, path)
		} else if mode[0] != 'd' {
			t.Errorf("%s: unexpected file %s", name, path)
		}
	}
	for path := range wantFiles {
		t.Errorf("%s: lacks %s", name, path)
	}
}

// debOutput runs dpkg-deb with args and returns its output.
func debOutput(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("dpkg-deb", args...)
	cmd.Env = append(os.Environ(), "TZ=UTC")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v", strings.Join(args, " "), err)
	}
	return string(out)
}

// newSystemRoot makes a throwaway system tree that dpkg --root and useradd
// --prefix can work on: root in passwd and group, an empty dpkg database.
func newSystemRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"etc", "var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/bash\n", "etc/group": "root:x:0:\n",
		"etc/shadow": "root:*:20000:0:99999:7:::\n", "etc/gshadow": "root:*::\n",
		"var/lib/dpkg/status": "", "var/lib/dpkg/available": "",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// dpkgRoot runs dpkg on the system tree root, its maintainer scripts on
// this machine with DPKG_ROOT=root.
func dpkgRoot(t *testing.T, root string, args ...string) {
	t.Helper()
	all := append([]string{"--root", root, "--force-not-root", "--force-script-chrootless", "--log=/dev/null"}, args...)
	cmd := exec.Command("dpkg", all...)
	cmd.Env = append(os.Environ(), "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dpkg %s: %v\n%s", strings.Join(all, " "), err, out)
	}
}

// checkDebInstall installs deb into a throwaway root, checks what its
// maintainer scripts did, runs the unit's command against a hub, installs
// it again over itself and purges it.
func checkDebInstall(t *testing.T, deb string) {
	root := newSystemRoot(t)
	dpkgRoot(t, root, "--install", deb)
	uid, gid := checkServiceUser(t, root, "pirun")
	checkMode(t, filepath.Join(root, "etc/pirun"), 0o750|os.ModeDir, 0, gid)
	checkMode(t, filepath.Join(root, "usr/bin/pirun"), 0o755, 0, 0)
	unit, _ := launch.PackageFile("pirun-engine.service")
	if got, err := os.ReadFile(filepath.Join(root, "lib/systemd/system/pirun-engine.service")); err != nil || string(got) != string(unit) {
		t.Errorf("installed unit = %q, %v; want host/launch/service/pirun-engine.service", got, err)
	}
	wants := filepath.Join(root, "etc/systemd/system/multi-user.target.wants/pirun-engine.service")
	if target, err := os.Readlink(wants); err != nil || target != "/lib/systemd/system/pirun-engine.service" {
		t.Errorf("postinst enabled the unit: %s → %q, %v; want a link to /lib/systemd/system/pirun-engine.service", wants, target, err)
	}
	verifyUnit(t, root, "/lib/systemd/system/pirun-engine.service")

	// The connection file arrives; the unit's command joins the hub with
	// the packaged pirun.toml. Installing again (an upgrade) hands the
	// file to the pirun user and creates no second user.
	_, _, engineConn := startHub(t)
	conn := filepath.Join(root, "etc/pirun/engine-connection.toml")
	copyFile(t, engineConn, conn, 0o644)
	runUnitCommand(t, root, string(unit))
	dpkgRoot(t, root, "--install", deb)
	checkServiceUser(t, root, "pirun")
	checkMode(t, conn, 0o600, uid, gid)

	dpkgRoot(t, root, "--purge", "pirun")
	for _, gone := range []string{"etc/pirun", "var/lib/pirun", "lib/systemd/system/pirun-engine.service", "usr/bin/pirun",
		"etc/systemd/system/multi-user.target.wants/pirun-engine.service"} {
		if _, err := os.Lstat(filepath.Join(root, gone)); err == nil {
			t.Errorf("after dpkg --purge pirun, /%s is still there", gone)
		}
	}
	for _, file := range []string{"etc/passwd", "etc/group"} {
		if b, _ := os.ReadFile(filepath.Join(root, file)); strings.Contains(string(b), "\npirun:") {
			t.Errorf("after dpkg --purge pirun, /%s still has pirun:\n%s", file, b)
		}
	}
}

// checkServiceUser checks that name is in root's passwd once, as a system
// user without a login, and returns its uid and gid.
func checkServiceUser(t *testing.T, root, name string) (uid, gid int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`(?m)^` + name + `:x:(\d+):(\d+):[^:]*:/var/lib/pirun:/usr/sbin/nologin$`)
	m := re.FindAllStringSubmatch(string(b), -1)
	if len(m) != 1 || strings.Count(string(b), "\n"+name+":") != 1 {
		t.Fatalf("/etc/passwd =\n%s\nwant one system user %s, home /var/lib/pirun, shell /usr/sbin/nologin", b, name)
	}
	uid, _ = strconv.Atoi(m[0][1])
	gid, _ = strconv.Atoi(m[0][2])
	if uid == 0 || uid >= 1000 {
		t.Errorf("user %s has uid %d, want a system uid (1-999)", name, uid)
	}
	return uid, gid
}

// checkMode checks a file's mode and owner.
func checkMode(t *testing.T, path string, mode os.FileMode, uid, gid int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode() != mode || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Errorf("%s: mode %v owner %d:%d, want %v %d:%d", path, fi.Mode(), st.Uid, st.Gid, mode, uid, gid)
	}
}

// copyFile copies src to dst with mode perm.
func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err == nil {
		err = os.WriteFile(dst, b, perm)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// verifyUnit runs systemd-analyze verify on the unit file (a path inside
// the tree root), with this machine's targets and slices copied into root
// so that its dependencies resolve. Any message fails the test.
func verifyUnit(t *testing.T, root, unit string) {
	t.Helper()
	hostUnits, _ := filepath.Glob("/lib/systemd/system/*.target")
	sliceUnits, _ := filepath.Glob("/lib/systemd/system/*.slice")
	dir := filepath.Join(root, "lib/systemd/system")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, u := range append(hostUnits, sliceUnits...) {
		if fi, err := os.Stat(u); err == nil && fi.Mode().IsRegular() {
			copyFile(t, u, filepath.Join(dir, filepath.Base(u)), 0o644)
		}
	}
	out, err := exec.Command("systemd-analyze", "verify", "--root="+root, unit).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify --root=%s %s: %v\n%s", root, unit, err, out)
	}
}

// runUnitCommand runs the ExecStart command of unit with its paths moved
// into root, as systemd would start it, and waits until its engines join
// the test's hub.
func runUnitCommand(t *testing.T, root, unit string) {
	t.Helper()
	m := regexp.MustCompile(`(?m)^ExecStart=(.*)$`).FindStringSubmatch(unit)
	if m == nil {
		t.Fatalf("the unit has no ExecStart line:\n%s", unit)
	}
	argv := strings.Fields(m[1])
	for i, a := range argv {
		if strings.HasPrefix(a, "/") {
			argv[i] = filepath.Join(root, a)
		}
	}
	cmd := exec.Command(argv[0], append(argv[1:], "-n", "1")...)
	cmd.Env = testEnv(t)
	p := startProc(t, cmd)
	joined := regexp.MustCompile(`msg="engines joined".* pid=` + strconv.Itoa(p.cmd.Process.Pid) + `\b`)
	waitFor(t, 30*time.Second, "the unit's engine to join", func() bool {
		return joined.MatchString(hubLog(t)) || exited(p)
	})
	if exited(p) {
		t.Fatalf("%v exited: %v\nstderr:\n%s", argv, p.err, p.stderr)
	}
}

// TestInstallService installs pirun-engine.service with `pirun engine
// install-service --root` into a throwaway tree: --dry-run changes
// nothing, a missing connection file is an error that says what to give,
// and the installed unit, user and files are those of the .deb but for
// the binary's path.
func TestInstallService(t *testing.T) {
	requireTool(t, toolRoot, "useradd", "systemd-analyze")
	root := newSystemRoot(t)
	bin := filepath.Join(root, "usr/local/bin/pirun")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, pirunBin, bin, 0o755)
	_, _, engineConn := startHub(t)
	install := func(args ...string) result {
		t.Helper()
		return runBinary(t, bin, append([]string{"engine", "install-service", "--root", root}, args...)...)
	}

	r := install()
	if r.code != 2 || !strings.Contains(r.stderr, "no connection file") || !strings.Contains(r.stderr, "give --connect FILE") {
		t.Errorf("install-service without a connection file: exit %d, stderr %q; want 2 and what to give", r.code, r.stderr)
	}
	r = install("--connect", engineConn, "--dry-run")
	for _, want := range []string{"would create the system user pirun: useradd --prefix " + root + " --system",
		"would copy " + engineConn + " to /etc/pirun/engine-connection.toml (mode 0600, owner pirun)",
		"would write /etc/systemd/system/pirun-engine.service running /usr/local/bin/pirun as pirun"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("install-service --dry-run: exit %d, stdout %q; want 0 and a line %q\nstderr: %s", r.code, r.stdout, want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "etc/pirun")); err == nil {
		t.Errorf("install-service --dry-run created /etc/pirun")
	}

	for range 2 { // the second run finds everything in place
		if r = install("--connect", engineConn); r.code != 0 {
			t.Fatalf("install-service: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
	}
	if !strings.Contains(r.stdout, "use the existing user pirun\n") {
		t.Errorf("install-service again: stdout %q, want it to use the existing user", r.stdout)
	}
	uid, gid := checkServiceUser(t, root, "pirun")
	checkMode(t, filepath.Join(root, "etc/pirun"), 0o750|os.ModeDir, 0, gid)
	checkMode(t, filepath.Join(root, "etc/pirun/engine-connection.toml"), 0o600, uid, gid)
	want, err := launch.Unit("/usr/local/bin/pirun", "pirun")
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(filepath.Join(root, "etc/systemd/system/pirun-engine.service"))
	if err != nil || string(unit) != want {
		t.Errorf("installed unit = %q, %v; want launch.Unit(/usr/local/bin/pirun, pirun) = %q", unit, err, want)
	}
	verifyUnit(t, root, "/etc/systemd/system/pirun-engine.service")
	runUnitCommand(t, root, want)
}

// runBinary runs a pirun binary with args and the test environment.
func runBinary(t *testing.T, bin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = testEnv(t)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %s %v: %v", bin, args, err)
	}
	return result{out.String(), errb.String(), code}
}
