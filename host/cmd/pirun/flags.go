// This file defines how every subcommand parses its flags: help on stdout
// (exit 0), mistakes on stderr with a pointer to --help (exit 2), and
// flags listed the way users type them (--quiet, -n).

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// parseFlags parses args. It returns false, with the exit status, when the
// command should stop: after --help, or after a mistake it reported.
func parseFlags(e *env, fs *flag.FlagSet, args []string, usage, examples string) (int, bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	switch {
	case err == nil:
		return exitOK, true
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(e.stdout, usage)
		if fl := flagList(fs); fl != "" {
			fmt.Fprintf(e.stdout, "\nFlags:\n%s", fl)
		}
		if examples != "" {
			fmt.Fprintf(e.stdout, "\nExamples:\n%s", examples)
		}
		return exitOK, false
	}
	fmt.Fprintf(e.stderr, "%s: %s\nRun '%s --help' for usage.\n", fs.Name(), flagMistake(err), fs.Name())
	return exitUsage, false
}

// flagName is how users type a flag: -n for one letter, --name otherwise.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagMistake rewords the flag package's errors with flags as typed.
func flagMistake(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return "unknown flag " + flagName(name)
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			name, _, _ := strings.Cut(rest[i+len(" for flag -"):], ":")
			return fmt.Sprintf("invalid value %s for %s", rest[:i], flagName(name))
		}
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return flagName(name) + " needs a value"
	}
	return msg
}

// internalFlag starts the usage of flags that pirun passes to itself;
// --help does not list them.
const internalFlag = "(used by pirun "

// flagList lists fs's flags with their usage and meaningful defaults.
func flagList(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, internalFlag) {
			return
		}
		arg := ""
		if _, isBool := f.Value.(interface{ IsBoolFlag() bool }); !isBool {
			arg = " VALUE"
			if len(f.Name) == 1 {
				arg = " " + strings.ToUpper(f.Name)
			}
		}
		fmt.Fprintf(&b, "  %s%s\n        %s", flagName(f.Name), arg, f.Usage)
		if d := f.DefValue; d != "" && d != "0" && d != "-1" && d != "false" {
			fmt.Fprintf(&b, " (default %s)", d)
		}
		b.WriteByte('\n')
	})
	return b.String()
}
