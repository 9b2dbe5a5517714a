// This file defines pirun help COMMAND, pirun completion SHELL and the
// completion candidates its scripts ask for (pirun __complete).

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/pirun-dev/pirun/host/cli"
)

// runHelp is pirun help [COMMAND [SUBCOMMAND]]: the command's --help.
func runHelp(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 || len(args) == 1 && slices.Contains([]string{"help", "-h", "-help", "--help"}, args[0]) {
		fmt.Fprint(e.stdout, usage())
		return exitOK
	}
	if !slices.Contains(commandNames(), args[0]) {
		fmt.Fprint(e.stderr, cli.UnknownCommand("pirun help", args[0], commandNames()))
		return exitUsage
	}
	if cli.OneHelp[args[0]] {
		args = args[:1]
	}
	return run(ctx, e, append(slices.Clip(args), "--help"))
}

// runCompletion is pirun completion SHELL.
func runCompletion(_ context.Context, e *env, args []string) int {
	script, err := cli.CompletionCommand(args)
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun completion: %v\n", err)
		return exitUsage
	}
	fmt.Fprint(e.stdout, script)
	return exitOK
}

// runComplete is pirun __complete: the completion scripts ask it for
// candidates (cli.CompleteLines).
func runComplete(ctx context.Context, e *env, args []string) int {
	for _, line := range cli.CompleteLines(args, commandList(), func(path []string) []*flag.FlagSet {
		var sets []*flag.FlagSet // the command runs in recording mode and stops at parseFlags
		re := &env{stdout: io.Discard, stderr: io.Discard, stdin: e.stdin, getenv: e.getenv, flagSets: &sets}
		if len(path) == 0 {
			path = []string{"run"} // a script run's flags
		}
		run(ctx, re, append(slices.Clip(path), "--help"))
		return sets
	}, e.getenv) {
		fmt.Fprintln(e.stdout, line)
	}
	return exitOK
}
