// This file defines `pirun bench`: it measures the cluster it runs on (local
// engines, or a profile's or connection file's cluster) with bench.Run
// and prints a table or JSON.

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"

	"github.com/pirun-dev/pirun/host/bench"
)

func runBench(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun bench", flag.ContinueOnError)
	var f scriptFlags
	f.Register(fs, "number of local engines (default: number of CPUs)")
	asJSON := fs.Bool("json", false, "print the figures as JSON (keys above)")
	quick := fs.Bool("quick", false, "small sizes: a quick look, for tests and slow Pis")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	if !checkEngines(e, f, "pirun bench") {
		return exitUsage
	}
	opts := bench.Options{Quick: *quick}
	if !*asJSON && !f.Quiet {
		opts.Progress = func(figure string) { fmt.Fprintf(e.stderr, "pirun bench: measuring %s\n", figure) }
	}
	return execBench(ctx, e, f, opts, *asJSON)
}

func execBench(ctx context.Context, e *env, f scriptFlags, opts bench.Options, asJSON bool) int {
	f.Quiet = true // engines print nothing here; keep stray output off the table
	cl, local, stop, code := openCluster(ctx, e, "pirun bench", f, io.Discard, ".")
	if cl == nil {
		return code
	}
	defer stop()
	rep, err := bench.Run(ctx, cl, opts)
	if in := e.interrupted(err); in != nil && err != nil {
		cl.AbortPending()
		return in.Say(e.stderr, "pirun bench", "; its tasks were aborted")
	}
	if err != nil {
		return reportAs(e, "pirun bench", err)
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return reportAs(e, "pirun bench", err)
		}
		return exitOK
	}
	rep.WriteTable(e.stdout, local > 0)
	return exitOK
}
