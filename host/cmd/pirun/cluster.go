// This file defines the flags of `pirun cluster start` and `pirun cluster
// stop` (ipcluster); host/cluster runs them.

package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/pirun-dev/pirun/host/cli"
	"github.com/pirun-dev/pirun/host/cluster"
)

func runCluster(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "pirun cluster: expected start or stop\n\n%s", cli.HelpOf("pirun cluster").Usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, cli.HelpOf("pirun cluster").Usage)
		return exitOK
	case "start":
		return runClusterStart(ctx, e, args[1:])
	case "stop":
		return runClusterStop(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "pirun cluster: unknown command %q (expected start or stop)%s\nRun 'pirun cluster --help' for usage.\n", args[0], cli.DidYouMean(args[0], cli.Subcommands["cluster"]))
	return exitUsage
}

func runClusterStart(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun cluster start", flag.ContinueOnError)
	var f cluster.StartOptions
	fs.IntVar(&f.N, "n", 0, "engines on this machine (default: [cluster] engines, else one per CPU)")
	fs.StringVar(&f.Profile, "profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	fs.BoolVar(&f.PushBinary, "push-binary", false, "copy the pirun build for each host's platform to ~/.pirun/bin/pirun there and run that one")
	fs.DurationVar(&f.Timeout, "timeout", time.Minute, "how long to wait for the engines to join")
	fs.BoolVar(&f.Foreground, "foreground", false, "run the cluster in this process until Ctrl-C or SIGTERM, instead of in the background")
	fs.IntVar(&f.NotifyFD, "notify-fd", -1, "(used by pirun cluster start itself) report readiness on this file descriptor")
	fs.BoolVar(&f.Verbose, "v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	if f.N < 0 || f.Timeout <= 0 {
		fmt.Fprintf(e.stderr, "pirun cluster start: -n must be 0 or more and --timeout positive\n")
		return exitUsage
	}
	f.Profile = cluster.ProfileName(f.Profile, e.getenv)
	return cluster.Start(ctx, e.io(), f)
}

func runClusterStop(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun cluster stop", flag.ContinueOnError)
	profile := fs.String("profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	return cluster.Stop(ctx, e.io(), cluster.ProfileName(*profile, e.getenv))
}
