// This file defines `pirun SCRIPT.star`: run a script on the embedded
// default (an in-process hub and local engines) or on a cluster.

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/pirun-dev/pirun/engine"
	"github.com/pirun-dev/pirun/engine/node"
	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/host/cli"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/cluster"
	"github.com/pirun-dev/pirun/starlib"
)

// scriptFlags are the cluster flags of every command that runs Starlark.
type scriptFlags = cli.RunFlags

// checkEngines reports -n as a mistake of command cmd unless it is 0 (one
// per CPU) or more.
func checkEngines(e *env, f scriptFlags, cmd string) bool {
	if msg := f.CheckEngines(); msg != "" {
		fmt.Fprintf(e.stderr, "%s: %s\n", cmd, msg)
		return false
	}
	return true
}

// runScript is `pirun run`: a script is required.
func runScript(ctx context.Context, e *env, args []string) int { return script(ctx, e, args, true) }

// runDefault is `pirun [flags] [SCRIPT.star ...]`: the REPL when no
// script is named.
func runDefault(ctx context.Context, e *env, args []string) int { return script(ctx, e, args, false) }

func script(ctx context.Context, e *env, args []string, needScript bool) int {
	fs := flag.NewFlagSet("pirun", flag.ContinueOnError)
	var f scriptFlags
	f.Register(fs, "number of local engines (default: number of CPUs)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() == 0 && !needScript {
		return runREPL(ctx, e, replFlags{f})
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(e.stderr, "pirun: missing SCRIPT.star (pirun --help shows how to run one)")
		return exitUsage
	}
	if !checkEngines(e, f, "pirun") {
		return exitUsage
	}
	path, src, code := readScript(e, "pirun", fs.Arg(0))
	if src == nil {
		return code
	}
	return execScript(ctx, e, f, path, src, fs.Args()[1:])
}

// readScript reads the script of command cmd and checks its syntax and
// names, before any cluster work (SPEC §7). src is nil when it reported a
// failure with exit status code.
func readScript(e *env, cmd, path string) (string, []byte, int) {
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(e.stderr, "%s: cannot read the script: %v\n", cmd, err)
		return path, nil, exitUsage
	}
	if err := (&api.Script{}).Check(path, src); err != nil {
		return path, nil, report(e, err)
	}
	return path, src, exitOK
}

func execScript(ctx context.Context, e *env, f scriptFlags, path string, src []byte, argv []string) int {
	cl, _, stop, code := openCluster(ctx, e, "pirun", f, e.stdout, path)
	if cl == nil {
		return code
	}
	defer stop()
	others := cluster.NewOthers(e.stderr, e.getenv, f.SSH, client.Config{Output: e.stdout, Stderr: e.stderr, Quiet: f.Quiet}, f.Verbose)
	defer others.Close()
	s := &api.Script{Client: cl, Argv: argv, Stdout: e.stdout, Connect: others.Connect}
	err := s.Run(ctx, path, src)
	if in := e.interrupted(err); in != nil && err != nil {
		cl.AbortPending()
		return in.Say(e.stderr, "pirun", "; the tasks this script started were aborted")
	}
	return report(e, err)
}

// report prints err the way a user should read it and returns the exit
// status.
func report(e *env, err error) int {
	switch {
	case err == nil:
		return exitOK
	case e.interrupted(err) != nil:
		return reportAs(e, "pirun", err)
	case cluster.IsConfig(err):
		fmt.Fprintf(e.stderr, "pirun: %v\n", err)
		return exitUsage
	case client.IsCluster(err):
		fmt.Fprintf(e.stderr, "pirun: %v\n", starlib.Cause(err))
		return exitUnavailable
	}
	text, script := starlib.ErrorText(err)
	if !script {
		fmt.Fprint(e.stderr, "pirun: ")
	}
	fmt.Fprint(e.stderr, text)
	return exitFailed
}

// openCluster connects the client of a run: to the cluster of f.Connect
// (or of f.Profile's client connection file), or to local engines started
// here (their data_dir is script's folder). stop closes the client and
// stops local engines; engines is how many were started here (0 with
// --connect). On failure it has reported the error and returns the exit
// status.
func openCluster(ctx context.Context, e *env, cmd string, f scriptFlags, out io.Writer, script string) (c *client.Client, engines int, stop func(), code int) {
	t := cluster.Target{Profile: f.Profile, Connect: f.Connect, SSH: f.SSH, HTTP: f.HTTP, Verbose: f.Verbose}
	ccfg := client.Config{Output: out, Stderr: e.stderr, Quiet: f.Quiet}
	c, engines, stop, err := cluster.Open(ctx, e.stderr, e.getenv, t, ccfg, version, func(lc *cluster.Local, log *slog.Logger) (int, error) {
		cfg, err := node.LocalConfig(e.getenv, f.N, script)
		if err != nil {
			return 0, &configError{Err: err}
		}
		cfg.Version, cfg.GOARM = version, goarm()
		d, err := engine.New(cfg, lc.Dial, log)
		if err != nil { // a data_dir or out_dir that cannot be opened
			return 0, &configError{Err: err}
		}
		lc.Go(ctx, d.Run)
		return cfg.Engines, nil
	})
	if err != nil && e.interrupted(err) != nil {
		return nil, 0, nil, reportAs(e, cmd, err)
	}
	if err != nil {
		return nil, 0, nil, report(e, err)
	}
	return c, engines, stop, exitOK
}
