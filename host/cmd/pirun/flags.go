// This file defines how every subcommand parses its flags (host/cli says
// how): help on stdout (exit 0), mistakes on stderr (exit 2).

package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/pirun-dev/pirun/host/cli"
)

// parseFlags parses args. It returns false, with the exit status, when the
// command should stop: after --help, or after a mistake it reported. For
// completion and the man page (e.flagSets set) it only records fs.
func parseFlags(e *env, fs *flag.FlagSet, args []string) (int, bool) {
	if e.flagSets != nil {
		*e.flagSets = append(*e.flagSets, fs)
		return exitOK, false
	}
	err := cli.Parse(e.stdout, e.stderr, fs, args)
	if err == nil || errors.Is(err, cli.ErrHelp) {
		return exitOK, err == nil // after --help: stop, with success
	}
	return exitUsage, false
}

// unexpectedArg reports the first argument of fs, a command that takes
// none, as a mistake.
func unexpectedArg(e *env, fs *flag.FlagSet) int {
	fmt.Fprint(e.stderr, cli.UnexpectedArg(fs))
	return exitUsage
}
