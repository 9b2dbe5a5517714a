// This file defines `pirun kernel` (the Jupyter kernel that Jupyter
// starts with a connection file) and `pirun kernel install` (the
// kernelspec that tells Jupyter how).

package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/cluster"
	"github.com/pirun-dev/pirun/host/kernel"
	"github.com/pirun-dev/pirun/host/repl"
)

type kernelFlags struct {
	scriptFlags
	file string
}

func runKernel(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 && args[0] == "install" {
		return runKernelInstall(e, args[1:])
	}
	fs := flag.NewFlagSet("pirun kernel", flag.ContinueOnError)
	var f kernelFlags
	f.Register(fs, "number of local engines (default: number of CPUs)")
	fs.StringVar(&f.file, "f", "", "the connection file Jupyter writes ({connection_file} in kernel.json)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "pirun kernel: unexpected argument %q (pirun kernel -f FILE, or pirun kernel install)\n", fs.Arg(0))
		return exitUsage
	}
	if f.file == "" {
		fmt.Fprintf(e.stderr, "pirun kernel: -f CONNECTION_FILE is required: Jupyter starts the kernel with it; to set that up run: pirun kernel install --user\n")
		return exitUsage
	}
	if !checkEngines(e, f.scriptFlags, "pirun kernel") {
		return exitUsage
	}
	return serveKernel(ctx, e, f)
}

// serveKernel binds the kernel's sockets, opens the cluster and serves
// cells until Jupyter shuts the kernel down.
func serveKernel(ctx context.Context, e *env, f kernelFlags) int {
	ppid := os.Getppid()
	ci, err := kernel.ReadConnInfo(f.file)
	if err != nil {
		return reportAs(e, "pirun kernel", &configError{Err: err})
	}
	log := cluster.NewLogger(e.stderr, f.Verbose, e.getenv)
	k, err := kernel.NewKernel(kernel.Config{Conn: ci, Version: version,
		Banner: "pirun " + version + ": Starlark on a cluster. c = Client() is defined; %help lists the magics."}, log)
	if err != nil {
		return reportAs(e, "pirun kernel", &configError{Err: err})
	}
	defer k.Close()
	others := cluster.NewOthers(e.stderr, e.getenv, f.SSH, client.Config{Output: e.stdout, Stderr: e.stderr, Quiet: f.Quiet}, f.Verbose)
	defer others.Close()
	r, err := repl.New(repl.Config{Out: k.Stdout(), Err: k.Stderr(), Cells: true, Connect: others.Connect})
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun kernel: %v\n", err)
		return exitFailed
	}
	defer r.Close()
	// progress bars (lines drawn after "\r") go to the notebook, logs to
	// the kernel's stderr
	ke := *e
	ke.stderr = kernel.ProgressSplit{Progress: k.Progress(), Other: e.stderr}
	client, _, stop, code := openCluster(ctx, &ke, "pirun kernel", f.scriptFlags, r.EngineOutput(), "kernel.star")
	if client == nil {
		return code
	}
	defer stop()
	if err := r.StartCells(client); err != nil {
		return report(e, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go kernel.WatchParent(ctx, cancel, e.getenv("JPY_PARENT_PID"), ppid)
	c := k.Conn()
	log.Debug("kernel: serving", "ip", c.IP, "shell", c.ShellPort, "control", c.ControlPort, "iopub", c.IOPubPort,
		"stdin", c.StdinPort, "hb", c.HBPort)
	if err := k.Run(ctx, kernel.NewREPLSession(r)); err != nil {
		return report(e, err)
	}
	return exitOK
}

// runKernelInstall is `pirun kernel install`.
func runKernelInstall(e *env, args []string) int {
	fs := flag.NewFlagSet("pirun kernel install", flag.ContinueOnError)
	var user bool
	var prefix, profile string
	var n int
	fs.BoolVar(&user, "user", false, "install for this user (~/.local/share/jupyter/kernels/pirun)")
	fs.StringVar(&prefix, "prefix", "", "install under DIR/share/jupyter/kernels/pirun (a virtualenv, a test folder)")
	fs.StringVar(&profile, "profile", "", "the kernel connects to this profile's running cluster")
	fs.IntVar(&n, "n", 0, "the kernel starts N local engines (default: number of CPUs)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	dir, err := kernel.Install(user, prefix, profile, n, e.getenv)
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun kernel install: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(e.stdout, "installed the Jupyter kernel %q in %s\nstart it with: jupyter console --kernel pirun (or pick \"pirun (Starlark)\" in a notebook)\n", kernel.SpecName, dir)
	return exitOK
}
