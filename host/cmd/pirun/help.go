// This file defines pirun help COMMAND, pirun completion SHELL and the
// completion candidates its scripts ask for (pirun __complete).

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
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
		return unknownCommand(e, "pirun help", args[0])
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

// runComplete prints the candidates for the last word of args, one a
// line; the completion scripts call it. After --describe (zsh, fish) a
// command or flag is followed by a tab and what it is: a flag's value
// (FILE, N, ...) and its usage.
func runComplete(ctx context.Context, e *env, args []string) int {
	describe := len(args) > 0 && args[0] == "--describe"
	if describe {
		args = args[1:]
	}
	if len(args) == 0 {
		args = []string{""}
	}
	descs := map[string]string{"help": "a command's help: pirun help COMMAND", "--version": "print versions"}
	for _, c := range commands() {
		descs[c.name] = c.summary
	}
	words, cur := args[:len(args)-1], args[len(args)-1]
	for _, c := range cli.Complete(words, cur, commandNames(), func(path []string) []string {
		names, d := flagHelp(ctx, e, path)
		maps.Copy(descs, d)
		return names
	}) {
		if d := descs[c]; describe && d != "" {
			fmt.Fprintf(e.stdout, "%s\t%s\n", c, d)
		} else {
			fmt.Fprintln(e.stdout, c)
		}
	}
	return exitOK
}

// flagHelp returns the flags of a command path, as its flag set defines
// them, and what each is: the command runs in recording mode and stops
// at parseFlags.
func flagHelp(ctx context.Context, e *env, path []string) ([]string, map[string]string) {
	var sets []*flag.FlagSet
	re := &env{stdout: io.Discard, stderr: io.Discard, stdin: e.stdin, getenv: e.getenv, flagSets: &sets}
	if len(path) == 0 {
		path = []string{"run"} // a script run's flags
	}
	run(ctx, re, append(slices.Clip(path), "--help"))
	var names []string
	descs := map[string]string{}
	for _, fs := range sets {
		names = append(names, cli.FlagNames(fs)...)
		maps.Copy(descs, cli.FlagDescriptions(fs))
	}
	return names, descs
}
