// This file defines `pirun engine install-service`: pirun-engine.service
// for a pirun binary copied by hand, as the .deb installs it.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

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
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	if err := s.Run(e.stdout, dryRun); err != nil {
		if in := e.interrupted(nil); in != nil { // a step (systemctl, useradd) got the signal too
			fmt.Fprintf(e.stderr, "%s: %v (the steps printed above were done): %v\n", cmd, in, err)
			return in.Status()
		}
		fmt.Fprintf(e.stderr, "%s: %v\n", cmd, err)
		if errors.Is(err, launch.ErrInstall) {
			return exitFailed
		}
		return exitUsage
	}
	return exitOK
}
