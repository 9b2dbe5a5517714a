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
	"slices"
	"strconv"
	"text/tabwriter"

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
	printBench(e.stdout, rep, local > 0)
	return exitOK
}

// printBench writes rep as a table.
func printBench(w io.Writer, rep bench.Report, local bool) {
	where := "a cluster"
	if local {
		where = "local engines in this process"
	}
	fmt.Fprintf(w, "pirun bench: %d %s on %d %s (%s)\n\n", rep.Engines, plural(rep.Engines, "engine"),
		rep.Hosts, plural(rep.Hosts, "host"), where)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure\tmeasured\n")
	fmt.Fprintf(tw, "apply_sync round trip, one engine\t%s µs median, %s µs p99 (%d calls)\n",
		decimal(rep.LatencyUS), decimal(rep.LatencyP99US), rep.Samples)
	fmt.Fprintf(tw, "load-balanced map, %s tasks, chunksize 1\t%s tasks/s\n", count(rep.Tasks), thousands(rep.Chunk1PerSec))
	fmt.Fprintf(tw, "the same, chunksize 100\t%s items/s\n", thousands(rep.Chunk100PerSec))
	fmt.Fprintf(tw, "%s separate apply_async, then wait\t%s tasks/s\n", count(rep.Tasks), thousands(rep.AsyncPerSec))
	fmt.Fprintf(tw, "push + pull of a %s-int list, one engine\t%.3f s\n", count(rep.PushPullInts), rep.PushPullS)
	fmt.Fprintf(tw, "scatter + gather of a %s list over %d %s\t%.3f s\n", count(rep.ScatterInts),
		rep.Engines, plural(rep.Engines, "engine"), rep.ScatterGatherS)
	printBandwidth(tw, rep)
	tw.Flush()
}

// printBandwidth writes the per-engine push and pull bandwidth: the
// median over engines, and each engine when there are few.
func printBandwidth(w io.Writer, rep bench.Report) {
	if len(rep.PerEngine) == 0 {
		return
	}
	push, pull := make([]float64, 0, len(rep.PerEngine)), make([]float64, 0, len(rep.PerEngine))
	for _, pe := range rep.PerEngine {
		push, pull = append(push, pe.PushMBps), append(pull, pe.PullMBps)
	}
	fmt.Fprintf(w, "push / pull of a %s string, per engine\t%s / %s MB/s median of %d (slowest %s / %s)\n",
		bytesCount(rep.BlobBytes), decimal(medianOf(push)), decimal(medianOf(pull)), len(push),
		decimal(slices.Min(push)), decimal(slices.Min(pull)))
	if len(rep.PerEngine) > 16 {
		return
	}
	for _, pe := range rep.PerEngine {
		fmt.Fprintf(w, "  engine %d (%s)\t%s / %s MB/s\n", pe.ID, pe.Host, decimal(pe.PushMBps), decimal(pe.PullMBps))
	}
}

// medianOf returns the median of xs, which is not empty.
func medianOf(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// decimal formats x with three significant digits below 1000, else as
// thousands.
func decimal(x float64) string {
	switch {
	case x >= 1000:
		return thousands(x)
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 2, 64)
}

// thousands formats x rounded to an integer with comma separators.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(x+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// count formats n as 10k or 2M when it is round, else as thousands.
func count(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n >= 1000 && n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return thousands(float64(n))
}

// bytesCount formats n bytes in KiB or MiB when round.
func bytesCount(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}
