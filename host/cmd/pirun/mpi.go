// This file defines `pirun mpi -n N SCRIPT.star`: the whole script runs on
// N engines at once, each one rank of an SPMD job with `comm` bound, the
// way `mpirun -n N python script.py` runs mpi4py programs.

package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/host/cli"
	"github.com/pirun-dev/pirun/host/cluster"
)

func runMPI(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun mpi", flag.ContinueOnError)
	var f scriptFlags
	f.Register(fs, "number of ranks (default: one per CPU locally, every engine of a cluster)")
	fs.DurationVar(&f.Timeout, "timeout", time.Minute, "how long to wait for the engines the ranks need")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "pirun mpi: missing SCRIPT.star (pirun mpi --help shows how to run one)")
		return exitUsage
	}
	if msg := cli.CheckRanks(f.N, f.Timeout); msg != "" {
		fmt.Fprintf(e.stderr, "pirun mpi: %s\n", msg)
		return exitUsage
	}
	path, src, code := readScript(e, "pirun mpi", fs.Arg(0))
	if src == nil {
		return code
	}
	return execMPI(ctx, e, f, path, src, fs.Args()[1:])
}

func execMPI(ctx context.Context, e *env, f scriptFlags, path string, src []byte, argv []string) int {
	out := api.NewRankWriter(e.stdout)
	cl, local, stop, code := openCluster(ctx, e, "pirun mpi", f, out, path)
	if cl == nil {
		return code
	}
	defer stop()
	if local > 0 {
		f.N = local
	}
	engines, err := cluster.WaitForRanks(ctx, cl, f.N, f.Timeout, e.stderr)
	if err != nil {
		return reportAs(e, "pirun mpi", err)
	}
	out.SetRanks(engines)
	fails, err := api.RunMPI(ctx, cl, engines, path, src, argv)
	if in := e.interrupted(err); in != nil && err != nil {
		cl.AbortPending()
		return in.Say(e.stderr, "pirun mpi", "; the ranks were aborted")
	}
	if err != nil {
		return report(e, err)
	}
	code = exitOK
	for rank, te := range fails {
		if te != nil {
			code = exitFailed
			fmt.Fprintln(e.stderr, api.RankFailure(rank, te))
		}
	}
	return code
}
