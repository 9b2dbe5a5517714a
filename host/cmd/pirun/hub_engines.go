// This file defines `pirun hub add-engine NAME` and `pirun hub
// revoke-engine NAME`: a credential per engine machine, in the profile's
// security/engines/ folder, which the running hub reads and watches.

package main

import (
	"flag"
	"fmt"

	"github.com/pirun-dev/pirun/host/cli"
	"github.com/pirun-dev/pirun/host/cluster"
)

// runHubEngines runs `pirun hub add-engine` or `pirun hub revoke-engine`
// (args after the word); ok is false for any other first word.
func runHubEngines(e *env, args []string) (code int, ok bool) {
	if len(args) == 0 || (args[0] != "add-engine" && args[0] != "revoke-engine") {
		return 0, false
	}
	cmd := "pirun hub " + args[0]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	profile := fs.String("profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	if code, ok := parseFlags(e, fs, args[1:]); !ok {
		return code, true
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(e.stderr, "%s: expected one engine name, got %d arguments\n\n%s", cmd, fs.NArg(), cli.HelpOf(cmd).Usage)
		return exitUsage, true
	}
	paths, _, err := cluster.OpenProfile(*profile, e.getenv, e.stderr)
	if err == nil {
		err = cluster.EngineCredential(e.stdout, paths, args[0] == "add-engine", fs.Arg(0))
	}
	if err != nil {
		return reportAs(e, cmd, &configError{Err: err}), true
	}
	return exitOK, true
}
