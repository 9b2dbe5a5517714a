// This file defines requireTool: the programs (and root) that the network
// namespace, SSH and qemu-user tests need. A missing prerequisite fails the
// run under CI=true and skips the test elsewhere, naming the Debian
// package that provides it.

package integration

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// toolRoot is the name requireTool takes for "running as root": network
// namespaces, veth links and bridges need CAP_NET_ADMIN.
const toolRoot = "root"

// toolPackages names the Debian package of each program the tests run.
var toolPackages = map[string]string{
	"ip":                  "iproute2",
	"unshare":             "util-linux",
	"sshd":                "openssh-server",
	"ssh":                 "openssh-client",
	"ssh-keygen":          "openssh-client",
	"qemu-aarch64-static": "qemu-user-static",
	"qemu-arm-static":     "qemu-user-static",
	"dpkg":                "dpkg",
	"dpkg-deb":            "dpkg",
	"useradd":             "passwd",
	"systemd-analyze":     "systemd",
	"zsh":                 "zsh",
	"fish":                "fish",
}

// requireTool checks that each named program is on PATH (sshd also in
// /usr/sbin) and, for toolRoot, that the test runs as root. When one is
// missing it fails the test under CI=true and skips it otherwise.
func requireTool(t *testing.T, names ...string) {
	t.Helper()
	var missing []string
	for _, name := range names {
		if problem := checkTool(name); problem != "" {
			missing = append(missing, problem)
		}
	}
	if len(missing) == 0 {
		return
	}
	msg := "missing prerequisite: " + strings.Join(missing, "; ") + " (.ci/run installs them)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// checkTool returns what is missing of name, or "".
func checkTool(name string) string {
	if name == toolRoot {
		if os.Geteuid() != 0 {
			return "root (network namespaces need CAP_NET_ADMIN)"
		}
		return ""
	}
	if _, err := toolPath(name); err != nil {
		pkg := toolPackages[name]
		if pkg == "" {
			pkg = "unknown"
		}
		return fmt.Sprintf("%s (Debian package %s)", name, pkg)
	}
	return ""
}

// toolPath finds a program on PATH, or in /usr/sbin where Debian puts
// sshd and ip even when PATH lacks it.
func toolPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return exec.LookPath("/usr/sbin/" + name)
}
