// This file defines `pirun abort`: the cluster's admin stops any client's
// tasks (client.AdminAbort), with the hub's own credential.

package main

import (
	"context"
	"flag"

	"github.com/pirun-dev/pirun/host/cluster"
)

// runAbort is `pirun abort [--profile P] (--all | --client ID | TASK_ID...)`.
func runAbort(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun abort", flag.ContinueOnError)
	profile := fs.String("profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	all := fs.Bool("all", false, "stop every task of every client")
	clientID := fs.String("client", "", "stop the tasks of this client only (its id, as pirun status shows it)")
	verbose := fs.Bool("v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if err := cluster.Abort(ctx, e.io(), *profile, *all, *clientID, fs.Args(), *verbose); err != nil {
		return reportAs(e, "pirun abort", err)
	}
	return exitOK
}
