// This file defines the .debs, built with dpkg-deb --root-owner-group from
// a staged tree: /usr/bin/pirun, /lib/systemd/system/pirun-engine.service,
// /etc/pirun/pirun.toml (a conffile), the copyright, changelog and lintian
// overrides, and the maintainer scripts of host/launch/service/.

package main

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pirun-dev/pirun/host/launch"
)

const (
	maintainer = "The pirun authors <pirun-dev@users.noreply.github.com>"
	homepage   = "https://github.com/pirun-dev/pirun"
)

// deb writes t's .deb and returns its name.
func (r *release) deb(ctx context.Context, t target, bin string) (string, error) {
	version := debVersion(r.version)
	name := fmt.Sprintf("%s_%s_%s.deb", t.debPkg, version, t.debArch)
	stage := filepath.Join(r.work, strings.TrimSuffix(name, ".deb"))
	files, err := r.debFiles(t, bin, version)
	if err != nil {
		return "", err
	}
	for _, e := range files {
		if err := r.stageFile(stage, e); err != nil {
			return "", fmt.Errorf("stage %s: %w", name, err)
		}
	}
	if err := r.stageControl(stage, t, version, files); err != nil {
		return "", fmt.Errorf("stage %s: %w", name, err)
	}
	if err := r.fixTimes(stage); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--build", "--root-owner-group", "-Zxz", stage, filepath.Join(r.out, name))
	cmd.Env = append(os.Environ(), fmt.Sprintf("SOURCE_DATE_EPOCH=%d", r.epoch.Unix()))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb --build %s (Debian package dpkg): %w\n%s", name, err, out)
	}
	return name, nil
}

// debFiles are the files a package installs (names without a leading
// '/'), folders first.
func (r *release) debFiles(t target, bin, version string) ([]entry, error) {
	binary, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	unit, err1 := launch.PackageFile("pirun-engine.service")
	config, err2 := launch.PackageFile("pirun.toml")
	changelog, err3 := gz([]byte(r.changelog(t, version)))
	man, err4 := gz(r.man)
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return nil, err
	}
	doc := "usr/share/doc/" + t.debPkg + "/"
	return []entry{
		{name: "etc/pirun/", mode: 0o750}, // postinst gives it the group pirun
		{name: "etc/pirun/pirun.toml", mode: 0o644, data: config},
		{name: "lib/systemd/system/pirun-engine.service", mode: 0o644, data: unit},
		{name: "usr/bin/pirun", mode: 0o755, data: binary},
		{name: doc + "changelog.gz", mode: 0o644, data: changelog}, // a native package's
		{name: doc + "copyright", mode: 0o644, data: []byte(copyright)},
		{name: "usr/share/lintian/overrides/" + t.debPkg, mode: 0o644, data: []byte(lintianOverrides)},
		{name: "usr/share/man/man1/pirun.1.gz", mode: 0o644, data: man},
	}, nil
}

// conffiles are the package's files that dpkg keeps when changed locally.
var conffiles = []string{"/etc/pirun/pirun.toml"}

// stageControl writes DEBIAN/: control, md5sums, conffiles and the
// maintainer scripts.
func (r *release) stageControl(stage string, t target, version string, files []entry) error {
	var md5s strings.Builder
	size := int64(0)
	for _, e := range files {
		size += (int64(len(e.data)) + 1023) / 1024
		if strings.HasSuffix(e.name, "/") {
			size++
			continue
		}
		if !slices.Contains(conffiles, "/"+e.name) {
			sum := md5.Sum(e.data)
			fmt.Fprintf(&md5s, "%s  %s\n", hex.EncodeToString(sum[:]), e.name)
		}
	}
	control := []entry{
		{name: "DEBIAN/control", mode: 0o644, data: []byte(controlText(t, version, size))},
		{name: "DEBIAN/md5sums", mode: 0o644, data: []byte(md5s.String())},
		{name: "DEBIAN/conffiles", mode: 0o644, data: []byte(strings.Join(conffiles, "\n") + "\n")},
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		b, err := launch.PackageFile(script)
		if err != nil {
			return err
		}
		control = append(control, entry{name: "DEBIAN/" + script, mode: 0o755, data: b})
	}
	for _, e := range control {
		if err := r.stageFile(stage, e); err != nil {
			return err
		}
	}
	return nil
}

// controlText is DEBIAN/control.
func controlText(t target, version string, installedKiB int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: %s\nInstalled-Size: %d\n",
		t.debPkg, version, t.debArch, maintainer, installedKiB)
	if t.debPkg != "pirun" {
		b.WriteString("Conflicts: pirun\nReplaces: pirun\nProvides: pirun\n")
	}
	b.WriteString("Section: net\nPriority: optional\nHomepage: " + homepage + "\n")
	b.WriteString("Description: interactive parallel computing on Raspberry Pis and other machines\n")
	b.WriteString(" pirun turns a few machines into an interactive parallel computer: a hub,\n" +
		" engines that run shipped Starlark functions, and an ipyparallel-style\n" +
		" client API, in one static binary.\n .\n" +
		" This package installs pirun and pirun-engine.service, which runs this\n" +
		" machine's engines as the pirun system user once the hub's engine\n" +
		" connection file is copied to /etc/pirun/engine-connection.toml.\n")
	if t.name == "armv6" {
		b.WriteString(" .\n This build is for ARMv6 (Raspberry Pi 1, Zero and Zero W); it also runs\n" +
			" on later Pis, a little slower than the armhf pirun package.\n")
	}
	return b.String()
}

// changelog is the Debian changelog of a release build.
func (r *release) changelog(t target, version string) string {
	return fmt.Sprintf("%s (%s) unstable; urgency=medium\n\n  * Release %s, built by host/cmd/release.\n\n -- %s  %s\n",
		t.debPkg, version, r.version, maintainer, r.epoch.Format("Mon, 02 Jan 2006 15:04:05 -0700"))
}

// copyright is /usr/share/doc/PACKAGE/copyright, machine-readable.
const copyright = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: pirun
Upstream-Contact: ` + maintainer + `
Source: ` + homepage + `

Files: *
Copyright: 2026 The pirun authors
License: Apache-2.0
 The pirun binary also contains Go modules under their own licences (BSD,
 Apache-2.0, MIT): go.starlark.net, github.com/nats-io and the Go standard
 library; see the repository's go.mod.
 .
 On Debian systems, the full text of the Apache License 2.0 can be found in
 /usr/share/common-licenses/Apache-2.0.
`

// lintianOverrides are the lintian tags the package earns on purpose.
const lintianOverrides = `# pirun is one static Go binary on purpose: it runs on any Pi OS as is.
statically-linked-binary [usr/bin/pirun]
# /etc/pirun holds the hub's engine credential: root and the pirun group only.
non-standard-dir-perm 0750 != 0755 [etc/pirun/]
# The maintainer scripts also work under dpkg --root (DPKG_ROOT), where
# getent cannot look: they read the tree's own passwd and group files.
maintainer-script-should-not-parse-etc-passwd-or-group *
# systemctl runs only when systemd runs and DPKG_ROOT is unset.
maintainer-script-calls-systemctl *
`

// stageFile writes one entry under stage with exactly its mode.
func (r *release) stageFile(stage string, e entry) error {
	path := filepath.Join(stage, filepath.FromSlash(e.name))
	if strings.HasSuffix(e.name, "/") {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return err
		}
		return os.Chmod(path, fs.FileMode(e.mode))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, e.data, fs.FileMode(e.mode)); err != nil {
		return err
	}
	return os.Chmod(path, fs.FileMode(e.mode)) // whatever the umask
}

// fixTimes gives every staged file and folder the release's time, and
// every folder mode 0755 (whatever the umask) but /etc/pirun's 0750.
func (r *release) fixTimes(stage string) error {
	return filepath.WalkDir(stage, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			mode := fs.FileMode(0o755)
			if path == filepath.Join(stage, "etc", "pirun") {
				mode = 0o750
			}
			if err := os.Chmod(path, mode); err != nil {
				return err
			}
		}
		return os.Chtimes(path, r.epoch, r.epoch)
	})
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
