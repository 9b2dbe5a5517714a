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

const benchUsage = `Usage: pirun bench [flags]

Measures a cluster with the workloads of ipyparallel's usual benchmarks
and prints a table: the apply_sync round trip to one engine (median and
99th percentile), load-balanced map of trivial tasks at chunksize 1 and
100, separate apply_async then wait, push + pull of a list of ints to one
engine, scatter + gather of a list over every engine, and the push and
pull bandwidth of each engine. With no --profile or --connect, pirun
starts a hub and N engines in this process and measures those.

--quick uses small sizes (1k tasks, 20k ints; for tests and slow Pis).
Progress goes to stderr (not with --quiet or --json).

--json prints one object with these keys (times in seconds unless named
_us; rates per second; sizes are what the figures used):
  engines, hosts, quick           the cluster measured, and --quick
  lat_samples                     timed apply_sync calls (after a warm-up)
  lat_direct_us, lat_direct_p99_us   apply_sync round trip: median, p99
  lb_tasks                        tasks per load-balanced figure
  lb_chunk1_tps, lb_chunk100_tps  map_sync items/s at chunksize 1, 100 (median of 3)
  lb_apply_async_tps              separate apply_async then wait, tasks/s (median of 3)
  pushpull_ints, pushpull_s       push + pull of a list to one engine (median of 3)
  scatter_gather_ints, scatter_gather_s   scatter + gather over all engines (median of 3)
  blob_bytes                      size of the string each engine got
  per_engine                      [{id, host, push_mb_per_s, pull_mb_per_s}] (medians of 3)
`

func runBench(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun bench", flag.ContinueOnError)
	var f scriptFlags
	f.register(fs, "number of local engines (default: number of CPUs)")
	asJSON := fs.Bool("json", false, "print the figures as JSON (keys above)")
	quick := fs.Bool("quick", false, "small sizes: a quick look, for tests and slow Pis")
	if code, ok := parseFlags(e, fs, args, benchUsage, `  pirun bench                # two local engines on a 2-CPU machine
  pirun bench -n 4 --quick
  pirun bench --profile pis --json
`); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "pirun bench: unexpected argument %q (pirun bench --help shows the flags)\n", fs.Arg(0))
		return exitUsage
	}
	if !f.checkEngines(e, "pirun bench") {
		return exitUsage
	}
	opts := bench.Options{Quick: *quick}
	if !*asJSON && !f.quiet {
		opts.Progress = func(figure string) { fmt.Fprintf(e.stderr, "pirun bench: measuring %s\n", figure) }
	}
	return execBench(ctx, e, f, opts, *asJSON)
}

func execBench(ctx context.Context, e *env, f scriptFlags, opts bench.Options, asJSON bool) int {
	f.quiet = true // engines print nothing here; keep stray output off the table
	cl, local, stop, code := openCluster(ctx, e, f, io.Discard, ".")
	if cl == nil {
		return code
	}
	defer stop()
	rep, err := bench.Run(ctx, cl, opts)
	if err != nil && ctx.Err() != nil {
		cl.AbortPending()
		fmt.Fprintln(e.stderr, "pirun bench: interrupted")
		return exitInterrupted
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
