// This file defines the "did you mean" of mistyped commands, subcommands
// and flags.

package cli

import (
	"flag"
	"fmt"
	"strings"

	"github.com/pirun-dev/pirun/conf"
)

// Suggest returns the candidate closest to word, or "" when none is close:
// one that word starts (stat: status), or within an edit distance of
// about a third of its length (statsu: status, conect: connect).
func Suggest(word string, candidates []string) string {
	best, bestDist := "", max(1, len(word)/3)+1
	for _, c := range candidates {
		d := conf.EditDistance(strings.ToLower(word), c)
		if len(word) >= 2 && strings.HasPrefix(c, word) {
			d = 1 // a prefix is as good as one typo
		}
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean is ": did you mean X?" for the candidate closest to word,
// or "".
func DidYouMean(word string, candidates []string) string {
	if s := Suggest(word, candidates); s != "" && s != word {
		return fmt.Sprintf(": did you mean %s?", s)
	}
	return ""
}

// flagAliases are flags of other tools that pirun users type, and
// pirun's own for them.
var flagAliases = map[string]string{
	"verbose": "v", "np": "n", "engines": "n", "num": "n", "h": "help",
	"file": "f", "conf": "config", "config-file": "config",
}

// suggestFlag returns the flag of fs that name (as typed, without
// dashes) probably meant, as typed ("--connect", "-n"), or "".
func suggestFlag(fs *flag.FlagSet, name string) string {
	top := fs.Name() == "pirun" // pirun --version is handled before its flags
	switch a := flagAliases[name]; {
	case a != "" && fs.Lookup(a) != nil:
		return FlagName(a)
	case top && name == "V":
		return "--version"
	case len(name) == 1 && fs.Lookup(strings.ToLower(name)) != nil: // -N: -n
		return FlagName(strings.ToLower(name))
	}
	var names []string
	if top {
		names = append(names, "version")
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Usage, InternalFlag) && len(f.Name) > 1 {
			names = append(names, f.Name)
		}
	})
	if s := Suggest(name, names); s != "" {
		return FlagName(s)
	}
	return ""
}

// UnexpectedArg is the mistake of fs's command, which takes no
// arguments, given some: it names the first, and the subcommand it
// probably meant.
func UnexpectedArg(fs *flag.FlagSet) string {
	subs := Subcommands[strings.TrimPrefix(fs.Name(), "pirun ")]
	return fmt.Sprintf("%s: unexpected argument %q%s\nRun '%s --help' for usage.\n", fs.Name(), fs.Arg(0), DidYouMean(fs.Arg(0), subs), fs.Name())
}
