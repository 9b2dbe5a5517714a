// This file defines `pirun engine install-service`: pirun-engine.service
// for a pirun binary copied by hand, as the .deb installs it.

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pirun-dev/pirun/host/launch"
)

func runInstallService(_ context.Context, e *env, args []string) int {
	const cmd = "pirun engine install-service"
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	var s launch.ServiceInstall
	var dryRun bool
	fs.StringVar(&s.ConnFile, "connect", "", "the hub's engine connection file, copied to "+launch.ServiceConnFile+" (default: keep the one there)")
	fs.StringVar(&s.User, "user", launch.ServiceUser, "the user the service runs as; created as a system user when missing")
	fs.BoolVar(&s.Now, "now", false, "also enable and start the service (systemctl enable --now pirun-engine)")
	fs.BoolVar(&dryRun, "dry-run", false, "print what it would do and change nothing")
	fs.StringVar(&s.Root, "root", "", "install into the system tree under this folder (as dpkg --root); runs no systemctl")
	if code, ok := parseFlags(e, fs, args, `Usage: sudo pirun engine install-service [--connect FILE] [--user U] [--now] [--dry-run]

Installs `+launch.ServiceName+` for this pirun binary, as the .deb does: the
`+launch.ServiceUser+` system user, `+launch.ServiceConfDir+` with the connection file and a commented
pirun.toml, and the unit in /etc/systemd/system, which runs
  pirun engine --connect `+launch.ServiceConnFile+` --config `+launch.ServiceConfig+`
The service cannot see /home or /tmp: copy pirun to /usr/local/bin first.
`, `  sudo install -m 0755 pirun /usr/local/bin/
  sudo /usr/local/bin/pirun engine install-service --connect engine-connection.toml --now
  pirun engine install-service --connect engine-connection.toml --dry-run
`); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "%s: unexpected argument %q\nRun '%s --help' for usage.\n", cmd, fs.Arg(0), cmd)
		return exitUsage
	}
	bin, err := os.Executable()
	if err == nil {
		bin, err = filepath.EvalSymlinks(bin)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: cannot find this pirun binary: %v\n", cmd, err)
		return exitFailed
	}
	s.Binary = bin
	if s.Root != "" {
		if s.Root, err = filepath.Abs(s.Root); err == nil {
			s.Root, err = filepath.EvalSymlinks(s.Root)
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "%s: --root: %v\n", cmd, err)
			return exitUsage
		}
	}
	return installService(e, cmd, s, dryRun)
}

// installService prints, and unless dryRun carries out, the steps of s.
func installService(e *env, cmd string, s launch.ServiceInstall, dryRun bool) int {
	steps, err := s.Plan()
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd, err)
		return exitUsage
	}
	if dryRun {
		for _, st := range steps {
			fmt.Fprintf(e.stdout, "would %s\n", st.Say)
		}
		return exitOK
	}
	if err := s.Check(); err != nil {
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd, err)
		return exitUsage
	}
	for _, st := range steps {
		fmt.Fprintf(e.stdout, "%s\n", st.Say)
		if err := st.Do(); err != nil {
			fmt.Fprintf(e.stderr, "%s: %v\n", cmd, err)
			return exitFailed
		}
	}
	switch {
	case s.Root != "":
		fmt.Fprintf(e.stdout, "installed under %s; on that system run: systemctl enable --now pirun-engine\n", s.Root)
	case s.Now:
		fmt.Fprintf(e.stdout, "started; see it with: systemctl status pirun-engine; its log: journalctl -u pirun-engine\n")
	default:
		fmt.Fprintf(e.stdout, "installed; start it now and at every boot with:\n  sudo systemctl enable --now pirun-engine\n")
	}
	return exitOK
}
