// Command pirun turns a few machines into an interactive parallel computer:
// it runs Starlark scripts on engines connected to a NATS hub.
//
// This package is the composition root: it alone reads os.Args, handles
// signals and calls os.Exit. Each subcommand lives in its own file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/pirun-dev/pirun/engine/node"
	"github.com/pirun-dev/pirun/host/cli"
	"github.com/pirun-dev/pirun/host/cluster"
	"github.com/pirun-dev/pirun/host/launch"
)

// Exit statuses (SPEC §2).
const (
	exitOK          = 0
	exitFailed      = 1 // the script failed
	exitUsage       = 2 // usage or configuration error
	exitUnavailable = 3 // no hub, no engines, timed out
	// 130 after SIGINT (Ctrl-C), 143 after SIGTERM: cluster.Interrupt.Status
)

// env is what a subcommand may touch of the process.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	flagSets       *[]*flag.FlagSet          // when set, commands only record their flags here (completion, man page)
	interrupt      func() *cluster.Interrupt // the signal that ended the command's context, or nil
}

type command struct {
	name, summary string
	run           func(ctx context.Context, e *env, args []string) int
}

func commands() []command {
	return []command{
		{"run", "run a script (the default: pirun SCRIPT.star)", runScript},
		{"mpi", "run a script on N engines at once, one rank each (comm)", runMPI},
		{"version", "print versions (also: pirun --version)", runVersion},
		{"hub", "start a hub on its own and write its connection files", runHub},
		{"engine", "start engines that connect to a hub", runEngine},
		{"repl", "the interactive session (the default: pirun with no arguments)", runRepl},
		{"cluster", "start or stop a hub and engines here and over SSH (pirun.toml)", runCluster},
		{"status", "show a cluster's engines, their tasks and queues (--tasks: recent tasks)", runStatus},
		{"abort", "stop any client's tasks: the admin's command, on the hub's machine", runAbort},
		{"profile", "create a profile folder with a commented pirun.toml", runProfile},
		{"bench", "measure a cluster: latency, tasks/s, MB/s", runBench},
		{"kernel", "the Jupyter kernel (pirun kernel install sets it up)", runKernel},
		{"completion", "print the shell completion script: bash, zsh or fish", runCompletion},
	}
}

func main() {
	// SIGINT and SIGTERM end the context with a *cluster.Interrupt as its
	// cause: a command stops cleanly, says so and exits 130 or 143; the
	// hub, engines, a foreground cluster and the kernel stop and exit 0.
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for sig := range sigs {
			cancel(&cluster.Interrupt{Signal: sig}) // the first one counts
		}
	}()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv,
		interrupt: func() *cluster.Interrupt { return cluster.InterruptOf(ctx) }}
	launch.TuneGC(e.getenv, launch.GCPercentFor(os.Args[1:]))
	code := run(ctx, e, os.Args[1:])
	signal.Stop(sigs)
	os.Exit(code)
}

func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		return runRepl(ctx, e, nil)
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(e.stdout, usage())
		return exitOK
	case "help":
		return runHelp(ctx, e, args[1:])
	case "--version", "-version":
		return runVersion(ctx, e, nil)
	case "__complete":
		return runComplete(ctx, e, args[1:])
	}
	for _, c := range commands() {
		if args[0] == c.name {
			return c.run(ctx, e, args[1:])
		}
	}
	if fi, err := os.Stat(args[0]); strings.HasPrefix(args[0], "-") || strings.HasSuffix(args[0], ".star") || err == nil && !fi.IsDir() {
		return runDefault(ctx, e, args)
	}
	fmt.Fprint(e.stderr, cli.UnknownCommand("pirun", args[0], commandNames()))
	return exitUsage
}

func usage() string { return cli.Usage(commandList()) }

// commandList lists the commands for the usage and completion.
func commandList() (cmds []cli.Command) {
	for _, c := range commands() {
		cmds = append(cmds, cli.Command{Name: c.name, Summary: c.summary})
	}
	return cmds
}

func commandNames() []string { return cli.Names(commandList()) }

// reportAs prints the error of command cmd and returns its exit status
// (cluster.Report): 130 or 143 after a signal, 2 for a mistake in flags,
// files or the environment, else 3 (the cluster is unavailable).
func reportAs(e *env, cmd string, err error) int {
	return cluster.Report(e.stderr, cmd, err, e.interrupted(err), isConfig(err))
}

// configError is a mistake in a flag, a file or the environment: exit 2.
type configError = cluster.ConfigError

// isConfig reports whether err is a mistake in a flag, a file or the
// environment, of main, host/cluster or engine/node.
func isConfig(err error) bool {
	var ne *node.ConfigError
	return cluster.IsConfig(err) || errors.As(err, &ne)
}

// io is what host/cluster may touch of the process.
func (e *env) io() *cluster.IO {
	return &cluster.IO{Stdout: e.stdout, Stderr: e.stderr, Getenv: e.getenv}
}

// interrupted returns the signal that stopped a command that ended with
// err, or nil.
func (e *env) interrupted(err error) *cluster.Interrupt {
	var in *cluster.Interrupt
	switch {
	case errors.As(err, &in):
		return in
	case e.interrupt != nil:
		return e.interrupt()
	}
	return nil
}
