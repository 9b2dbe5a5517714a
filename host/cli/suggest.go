// This file defines the "did you mean" of mistyped commands, subcommands
// and flags.

package cli

import (
	"flag"
	"fmt"
	"strings"
)

// Suggest returns the candidate closest to word, or "" when none is close:
// one that word starts (stat: status), or within an edit distance of
// about a third of its length (statsu: status, conect: connect).
func Suggest(word string, candidates []string) string {
	best, bestDist := "", max(1, len(word)/3)+1
	for _, c := range candidates {
		d := distance(strings.ToLower(word), c)
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

// distance is the edit distance of a and b, in bytes: insertions,
// deletions, substitutions and swaps of neighbours (hlep: help) count one.
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// UnexpectedArg is the mistake of fs's command, which takes no
// arguments, given some: it names the first, and the subcommand it
// probably meant.
func UnexpectedArg(fs *flag.FlagSet) string {
	subs := Subcommands[strings.TrimPrefix(fs.Name(), "pirun ")]
	return fmt.Sprintf("%s: unexpected argument %q%s\nRun '%s --help' for usage.\n", fs.Name(), fs.Arg(0), DidYouMean(fs.Arg(0), subs), fs.Name())
}
