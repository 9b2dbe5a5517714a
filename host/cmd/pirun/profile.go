// This file defines the flags of `pirun profile`: create a profile folder
// with the commented example pirun.toml, and list or locate profiles.

package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/pirun-dev/pirun/host/cli"
	"github.com/pirun-dev/pirun/host/cluster"
)

func runProfile(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun profile", flag.ContinueOnError)
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	rest := fs.Args()
	switch {
	case len(rest) == 2 && rest[0] == "create":
		return profileDone(e, cluster.CreateProfile(e.stdout, e.getenv, rest[1]))
	case len(rest) <= 2 && len(rest) >= 1 && rest[0] == "locate":
		return profileDone(e, cluster.LocateProfile(e.stdout, e.getenv, rest[1:]))
	case len(rest) == 1 && rest[0] == "list":
		return profileDone(e, cluster.ListProfiles(e.stdout, e.getenv))
	}
	fmt.Fprintf(e.stderr, "pirun profile: expected create NAME, locate [NAME] or list, got %q%s\nRun 'pirun profile --help' for usage.\n", rest, cli.DidYouMean(append(rest, "")[0], cli.Subcommands["profile"]))
	return exitUsage
}

// profileDone reports err of a profile command.
func profileDone(e *env, err error) int {
	if err != nil {
		return reportAs(e, "pirun profile", &configError{Err: err})
	}
	return exitOK
}
