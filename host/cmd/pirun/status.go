// This file defines the flags of `pirun status`: a cluster's engines, what
// they do, its queues and where the hub and its logs are
// (host/cluster.Status asks and prints).

package main

import (
	"context"
	"encoding/json"
	"flag"

	"github.com/pirun-dev/pirun/host/cluster"
)

func runStatus(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun status", flag.ContinueOnError)
	profile := fs.String("profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	connect := fs.String("connect", "", "a client connection file, instead of the profile's")
	ssh := fs.String("ssh", "", "reach the hub through an ssh tunnel to [user@]gateway[:port]")
	asJSON := fs.Bool("json", false, "print JSON (keys: hub, profile, logs, engines[], hosts, unassigned, queued, running, done)")
	verbose := fs.Bool("v", false, "debug logs")
	tasks := fs.Bool("tasks", false, "the hub's records of its most recent tasks (id, client, engine, state, times)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	if *tasks { // the hub's 50 most recent task records
		ts, err := cluster.Tasks(ctx, e.stderr, e.getenv, *profile, *connect, *ssh, *verbose, 50)
		if err != nil {
			return reportAs(e, "pirun status", err)
		}
		cluster.PrintTasks(e.stdout, ts, *asJSON)
		return exitOK
	}
	st, err := cluster.Status(ctx, e.stderr, e.getenv, *profile, *connect, *ssh, *verbose)
	if err != nil {
		return reportAs(e, "pirun status", err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return exitOK
	}
	st.Print(e.stdout)
	return exitOK
}
