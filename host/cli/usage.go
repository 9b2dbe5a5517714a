// This file defines pirun's own usage (pirun --help) and the words of
// shell completion.

package cli

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pirun-dev/pirun/conf"
)

// Command is a subcommand as the usage lists it.
type Command struct {
	Name, Summary string
}

// Names returns the names of cmds.
func Names(cmds []Command) (names []string) {
	for _, c := range cmds {
		names = append(names, c.Name)
	}
	return names
}

// Usage is what pirun --help prints.
func Usage(cmds []Command) string {
	var b strings.Builder
	b.WriteString(`pirun runs Starlark scripts on a cluster of engines (Raspberry Pis, laptops, servers).

Usage:
  pirun [-n N] [--quiet] [-v] SCRIPT.star [ARGS...]   run a script on N local engines
  pirun COMMAND [flags]

Commands:
`)
	for _, c := range cmds {
		fmt.Fprintf(&b, "  %-10s %s\n", c.Name, c.Summary)
	}
	b.WriteString(`
Run "pirun help COMMAND" (or "pirun COMMAND --help") for a command's flags;
"pirun --version" prints the versions.

Examples:
  pirun scripts/hello.star             # a hub and one engine per CPU, in this process
  pirun -n 4 scripts/pi.star 1000000   # four local engines; argv == ["1000000"]
`)
	return b.String()
}

// Subcommands are the words that may follow a command.
var Subcommands = map[string][]string{
	"cluster": {"start", "stop"},
	"profile": {"create", "locate", "list"},
	"engine":  {"install-service"},
	"hub":     {"add-engine", "revoke-engine"},
	"kernel":  {"install"},
}

// OneHelp are the commands whose subcommands share the command's help.
var OneHelp = map[string]bool{"profile": true}

// Shells are the shells that [Completion] writes a script for.
var Shells = []string{"bash", "zsh", "fish"}

// Complete returns the candidates for the word cur after words (the
// command line after "pirun" and before cur). flags returns the flags of
// a command path (nil for a script run, such as ["cluster", "start"]).
// For other words it returns none: the shell then offers files.
func Complete(words []string, cur string, commands []string, flags func(path []string) []string) []string {
	dash := strings.HasPrefix(cur, "-")
	if len(words) == 0 || !slices.Contains(commands, words[0]) && words[0] != "help" {
		if dash {
			return append(flags(nil), "--version")
		}
		if len(words) == 0 {
			return append(slices.Clone(commands), "help")
		}
		return nil
	}
	cmd := words[0]
	switch {
	case cmd == "help" && len(words) == 1:
		return commands
	case cmd == "help" && len(words) == 2:
		return Subcommands[words[1]]
	case cmd == "help":
		return nil
	case cmd == "completion" && len(words) == 1:
		return Shells
	case cmd == "completion":
		return nil
	}
	path := []string{cmd}
	if subs := Subcommands[cmd]; subs != nil {
		if len(words) == 1 && !dash {
			return subs
		}
		if len(words) >= 2 && slices.Contains(subs, words[1]) {
			path = append(path, words[1])
		}
	}
	if dash {
		return flags(path)
	}
	return nil
}

// CompleteLines is `pirun __complete [--describe] WORDS... CURRENT`: the
// candidates for CURRENT, one a line. With --describe (zsh, fish) a
// command or flag is followed by a tab and what it is: a flag's value
// (FILE, N, ...) and its usage. flagSets returns the flag sets of a
// command path, as [Complete]'s flags.
func CompleteLines(args []string, cmds []Command, flagSets func(path []string) []*flag.FlagSet, getenv func(string) string) []string {
	describe := len(args) > 0 && args[0] == "--describe"
	if describe {
		args = args[1:]
	}
	if len(args) == 0 {
		args = []string{""}
	}
	if words := args[:len(args)-1]; len(words) > 0 && slices.Contains([]string{"--profile", "-profile"}, words[len(words)-1]) ||
		slices.Equal(words, []string{"profile", "locate"}) {
		return profileNames(getenv)
	}
	descs := map[string]string{"help": "a command's help: pirun help COMMAND", "--version": "print versions"}
	names := Names(cmds)
	for _, c := range cmds {
		descs[c.Name] = c.Summary
	}
	var lines []string
	for _, c := range Complete(args[:len(args)-1], args[len(args)-1], names, func(path []string) []string {
		var flags []string
		for _, fs := range flagSets(path) {
			flags = append(flags, FlagNames(fs)...)
			maps.Copy(descs, FlagDescriptions(fs))
		}
		return flags
	}) {
		if d := descs[c]; describe && d != "" {
			c += "\t" + d
		}
		lines = append(lines, c)
	}
	return lines
}

// UnknownCommand is the mistake of command cmd (pirun, pirun help) given
// word, which is neither one of the commands nor a file: it names the
// command or the script (word.star) it probably meant.
func UnknownCommand(cmd, word string, commands []string) string {
	hint := DidYouMean(word, commands)
	if fi, err := os.Stat(word + ".star"); err == nil && !fi.IsDir() {
		hint = fmt.Sprintf(": did you mean %s.star?", word)
	}
	return fmt.Sprintf("%s: unknown command %q%s\nRun 'pirun --help' for the commands; to run a script, name its file: pirun SCRIPT.star\n", cmd, word, hint)
}

// profileNames lists the profiles (folders under $PIRUN_DIR, or else
// under ~/.config/pirun), for completion.
func profileNames(getenv func(string) string) []string {
	dir, err := conf.ProfileDir(conf.DefaultProfileName, getenv)
	if err != nil {
		return nil
	}
	entries, _ := os.ReadDir(filepath.Dir(dir))
	var names []string
	for _, ent := range entries {
		if ent.IsDir() && conf.CheckProfileName(ent.Name()) == nil {
			names = append(names, ent.Name())
		}
	}
	return names
}
