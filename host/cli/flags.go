// This file defines how every subcommand parses its flags: help on stdout,
// mistakes on stderr with a pointer to --help, and flags listed the way
// users type them (--quiet, -n).

package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
)

// Text is the help of one command.
type Text struct {
	Usage    string // "Usage: …" and what the command does
	Examples string // indented command lines, one per line
}

// HelpOf returns the help of the command whose flag set is named name,
// such as "pirun engine".
func HelpOf(name string) Text { return helps[name] }

// ErrHelp is Parse's error after it printed the help: exit 0.
var ErrHelp = errors.New("help printed")

// UsageError is Parse's error after it printed a mistake: exit 2.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Parse parses args into fs. With --help it prints fs's help on stdout and
// returns ErrHelp; on a mistake it prints it on stderr and returns a
// *UsageError. A one-letter flag may carry its value: -n4 is -n 4.
func Parse(stdout, stderr io.Writer, fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(joinedShort(fs, args))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		WriteHelp(stdout, fs)
		return ErrHelp
	}
	msg := flagMistake(fs, err)
	fmt.Fprintf(stderr, "%s: %s\nRun '%s --help' for usage.\n", fs.Name(), msg, fs.Name())
	return &UsageError{Msg: msg}
}

// WriteHelp writes fs's help: usage, flags and examples.
func WriteHelp(w io.Writer, fs *flag.FlagSet) {
	h := HelpOf(fs.Name())
	fmt.Fprint(w, h.Usage)
	if fl := FlagList(fs); fl != "" {
		fmt.Fprintf(w, "\nFlags:\n%s", fl)
	}
	if h.Examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s", h.Examples)
	}
}

// shortJoined is a one-letter flag with its value joined: -n4.
var shortJoined = regexp.MustCompile(`^-([a-zA-Z])([^=].*)$`)

// joinedShort splits -n4 into -n 4 where n is a one-letter flag of fs
// that takes a value, up to the first argument that is not a flag.
func joinedShort(fs *flag.FlagSet, args []string) []string {
	out := make([]string, 0, len(args)+1)
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" || !strings.HasPrefix(a, "-") {
			return append(out, args[i:]...)
		}
		name := strings.TrimLeft(a, "-")
		if m := shortJoined.FindStringSubmatch(a); m != nil && fs.Lookup(m[1]) != nil && !isBool(fs.Lookup(m[1])) && flagAliases[name] == "" {
			out = append(out, "-"+m[1], m[2])
			continue
		}
		out = append(out, a)
		if f := fs.Lookup(name); f != nil && !isBool(f) && !strings.Contains(name, "=") && i+1 < len(args) {
			i++
			out = append(out, args[i]) // its value, whatever it looks like
		}
	}
	return out
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// FlagName is how users type a flag: -n for one letter, --name otherwise.
func FlagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// flagMistake rewords the flag package's errors with flags as typed.
func flagMistake(fs *flag.FlagSet, err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimPrefix(name, "-")
		msg = "unknown flag " + FlagName(name)
		if s := suggestFlag(fs, name); s != "" {
			msg += ": did you mean " + s + "?"
		}
		return msg
	}
	if rest, ok := strings.CutPrefix(msg, "invalid value "); ok {
		if i := strings.Index(rest, " for flag -"); i >= 0 {
			name, why, _ := strings.Cut(rest[i+len(" for flag -"):], ": ")
			msg = fmt.Sprintf("invalid value %s for %s", rest[:i], FlagName(name))
			if why != "" && why != "parse error" && why != "value out of range" {
				msg += ": " + why // a flag.Value's own words
			}
			return msg
		}
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return FlagName(name) + " needs a value"
	}
	return msg
}

// InternalFlag starts the usage of flags that pirun passes to itself;
// help, completion and the man page do not list them.
const InternalFlag = "(used by pirun "

// FlagList lists fs's flags with their usage and meaningful defaults.
func FlagList(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, InternalFlag) {
			return
		}
		arg, usage := Placeholder(f)
		if arg != "" {
			arg = " " + arg
		}
		fmt.Fprintf(&b, "  %s%s\n        %s", FlagName(f.Name), arg, usage)
		if d := f.DefValue; d != "" && d != "0" && d != "0s" && d != "-1" && d != "false" {
			fmt.Fprintf(&b, " (default %s)", d)
		}
		b.WriteByte('\n')
	})
	return b.String()
}

// placeholders name the value of pirun's flags, by flag name, the same
// in every command.
var placeholders = map[string]string{
	"n": "N", "f": "FILE", "connect": "FILE", "config": "FILE", "log": "FILE",
	"profile": "PROFILE", "ssh": "[USER@]GATEWAY[:PORT]", "http": "HOST:PORT",
	"ip": "ADDR", "port": "PORT", "tls": "MODE", "timeout": "DURATION", "grace": "DURATION",
	"data-dir": "DIR", "prefix": "DIR", "root": "DIR", "user": "USER", "client": "ID",
}

// Placeholder returns the name of f's value as help shows it ("" for a
// boolean flag), and f's usage. A name in back quotes in the usage wins,
// as for flag.PrintDefaults; then [placeholders]; a flag named in
// neither shows VALUE, which a test refuses.
func Placeholder(f *flag.Flag) (name, usage string) {
	name, usage = flag.UnquoteUsage(f)
	switch {
	case isBool(f):
		return "", usage
	case strings.Contains(f.Usage, "`"):
		return name, usage
	case placeholders[f.Name] != "":
		return placeholders[f.Name], usage
	}
	return "VALUE", usage
}

// FlagNames lists fs's flags as typed, for completion.
func FlagNames(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Usage, InternalFlag) {
			names = append(names, FlagName(f.Name))
		}
	})
	return append(names, "--help")
}

// FlagDescriptions says what each of fs's flags is, by the flag as
// typed, for completion: its value's name and its usage ("FILE: the
// hub's engine connection file").
func FlagDescriptions(fs *flag.FlagSet) map[string]string {
	d := map[string]string{"--help": "this command's help"}
	fs.VisitAll(func(f *flag.Flag) {
		if strings.HasPrefix(f.Usage, InternalFlag) {
			return
		}
		arg, usage := Placeholder(f)
		if arg != "" {
			usage = arg + ": " + usage
		}
		d[FlagName(f.Name)] = usage
	})
	return d
}

// CheckRanks says what is wrong with pirun mpi's -n and --timeout, or "".
func CheckRanks(n int, timeout time.Duration) string {
	switch {
	case n < 0:
		return fmt.Sprintf("-n %d: want a number of ranks ≥ 1", n)
	case timeout <= 0:
		return fmt.Sprintf("--timeout %v: want a positive time to wait for the engines, such as 60s", timeout)
	}
	return ""
}
