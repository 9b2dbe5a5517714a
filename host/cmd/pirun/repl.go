// This file defines `pirun repl` (also `pirun` with no arguments): the
// interactive session, on the embedded default (an in-process hub and
// local engines) or on a cluster, with Ctrl-C delivered to the session.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"os"
	"os/signal"
	"syscall"

	"github.com/chzyer/readline"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/cluster"
	"github.com/pirun-dev/pirun/host/repl"
)

type replFlags struct {
	scriptFlags
}

func runRepl(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun repl", flag.ContinueOnError)
	var f replFlags
	f.Register(fs, "number of local engines (default: number of CPUs)")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "pirun repl: unexpected argument %q (to run a script: pirun SCRIPT.star)\n", fs.Arg(0))
		return exitUsage
	}
	if !checkEngines(e, f.scriptFlags, "pirun repl") {
		return exitUsage
	}
	return runREPL(ctx, e, f)
}

// repl sets up the session and its cluster, and runs it.
func runREPL(ctx context.Context, e *env, f replFlags) int {
	history, err := cluster.REPLHistory(e.stderr, e.getenv, f.Profile)
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun repl: %v\n", err)
		return exitUsage
	}
	others := cluster.NewOthers(e.stderr, e.getenv, f.SSH, client.Config{Output: e.stdout, Stderr: e.stderr, Quiet: f.Quiet}, f.Verbose)
	defer others.Close()
	r, err := repl.New(repl.Config{In: e.stdin, Out: e.stdout, Err: e.stderr, Terminal: isTerminal(e.stdin) && isTerminal(e.stdout), NoColor: e.getenv("NO_COLOR") != "" || !isTerminal(e.stderr),
		History: history, Banner: "pirun " + version, Connect: others.Connect})
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun repl: %v\n", err)
		return exitFailed
	}
	defer r.Close()
	cl, _, stop, code := openCluster(ctx, e, "pirun repl", f.scriptFlags, r.EngineOutput(), "<stdin>")
	if cl == nil {
		return code
	}
	defer stop()
	sctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancel(nil)
	defer deliverSignals(r, cancel)()
	// Ctrl-C belongs to the session from here on: it stops a chunk, not
	// the session, so main's signal says nothing about how it ended.
	se := *e
	se.interrupt = nil
	return replExit(&se, r.Run(sctx, cl))
}

// deliverSignals passes Ctrl-C to the session and ends it on SIGTERM
// until the returned function is called.
func deliverSignals(r *repl.REPL, cancel context.CancelCauseFunc) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case sig := <-ch:
				if sig == syscall.SIGTERM {
					cancel(&cluster.Interrupt{Signal: sig})
					continue
				}
				r.Interrupt()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// replExit returns the exit status of a session that ended with err.
func replExit(e *env, err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, repl.ErrChunkFailed):
		return exitFailed
	case errors.Is(err, repl.ErrInterrupted):
		err = &cluster.Interrupt{Signal: os.Interrupt}
		fallthrough
	case errors.As(err, new(*cluster.Interrupt)): // SIGTERM (deliverSignals)
		return e.interrupted(err).Say(e.stderr, "pirun", "; the session's tasks were aborted")
	}
	return report(e, err)
}

// isTerminal reports whether f is a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && readline.IsTerminal(int(file.Fd()))
}
