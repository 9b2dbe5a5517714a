package cli

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func newFlags() (*flag.FlagSet, *int, *bool, *string) {
	fs := flag.NewFlagSet("pirun", flag.ContinueOnError)
	n := fs.Int("n", 0, "engines")
	v := fs.Bool("v", false, "debug")
	c := fs.String("connect", "", "file")
	return fs, n, v, c
}

func TestParseShortJoined(t *testing.T) {
	for _, test := range []struct {
		args     []string
		n        int
		v        bool
		connect  string
		rest     []string
		mistaken bool
	}{
		{args: []string{"-n4", "s.star"}, n: 4, rest: []string{"s.star"}},
		{args: []string{"-n", "4", "s.star"}, n: 4, rest: []string{"s.star"}},
		{args: []string{"-n=4"}, n: 4},
		{args: []string{"--n=4"}, n: 4},
		{args: []string{"-v", "-n12", "s.star", "-n4"}, n: 12, v: true, rest: []string{"s.star", "-n4"}},
		{args: []string{"--connect", "-n4", "s.star"}, connect: "-n4", rest: []string{"s.star"}},
		{args: []string{"-n", "4", "--", "-n5"}, n: 4, rest: []string{"-n5"}},
		{args: []string{"-nfour"}, mistaken: true},
		{args: []string{"-vx"}, mistaken: true},
	} {
		fs, n, v, c := newFlags()
		var out, errs bytes.Buffer
		err := Parse(&out, &errs, fs, test.args)
		var ue *UsageError
		if test.mistaken {
			if !errors.As(err, &ue) || !strings.Contains(errs.String(), "Run 'pirun --help'") {
				t.Errorf("Parse(%q) = %v, stderr %q; want a usage error", test.args, err, errs.String())
			}
			continue
		}
		if err != nil || *n != test.n || *v != test.v || *c != test.connect || !slices.Equal(fs.Args(), test.rest) && len(test.rest)+len(fs.Args()) > 0 {
			t.Errorf("Parse(%q) = %v: n %d v %v connect %q rest %q; want %d %v %q %q", test.args, err, *n, *v, *c, fs.Args(), test.n, test.v, test.connect, test.rest)
		}
	}
}

func TestParseHelp(t *testing.T) {
	fs := flag.NewFlagSet("pirun engine", flag.ContinueOnError)
	fs.String("connect", "", "the hub's engine connection file")
	fs.Bool("launched", false, InternalFlag+"cluster start) …")
	var out, errs bytes.Buffer
	if err := Parse(&out, &errs, fs, []string{"--help"}); !errors.Is(err, ErrHelp) {
		t.Fatalf("Parse(--help) = %v, want ErrHelp", err)
	}
	for _, want := range []string{"Usage: pirun engine", "--connect FILE", "Examples:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "launched") || errs.Len() > 0 {
		t.Errorf("help lists an internal flag, or wrote to stderr: %q %q", out.String(), errs.String())
	}
}

func TestComplete(t *testing.T) {
	commands := []string{"run", "engine", "cluster", "completion"}
	flags := func(path []string) []string { return []string{"--of-" + strings.Join(path, "-")} }
	for _, test := range []struct {
		words []string
		cur   string
		want  []string
	}{
		{nil, "", []string{"run", "engine", "cluster", "completion", "help"}},
		{nil, "-", []string{"--of-", "--version"}},
		{[]string{"-n", "2"}, "--q", []string{"--of-", "--version"}},
		{[]string{"s.star"}, "", nil},
		{[]string{"cluster"}, "", []string{"start", "stop"}},
		{[]string{"cluster", "start"}, "--", []string{"--of-cluster-start"}},
		{[]string{"cluster"}, "--", []string{"--of-cluster"}},
		{[]string{"engine"}, "--c", []string{"--of-engine"}},
		{[]string{"engine", "--connect"}, "", nil},
		{[]string{"help"}, "", commands},
		{[]string{"help", "cluster"}, "", []string{"start", "stop"}},
		{[]string{"completion"}, "", Shells},
		{[]string{"completion", "bash"}, "", nil},
	} {
		got := Complete(test.words, test.cur, commands, flags)
		if !slices.Equal(got, test.want) {
			t.Errorf("Complete(%q, %q) = %q, want %q", test.words, test.cur, got, test.want)
		}
	}
}

func TestCompletionScripts(t *testing.T) {
	for _, sh := range Shells {
		s, err := Completion(sh)
		if err != nil || !strings.Contains(s, "pirun __complete") {
			t.Errorf("Completion(%s) = %q, %v", sh, s, err)
		}
	}
	if _, err := Completion("tcsh"); err == nil {
		t.Error("Completion(tcsh) succeeded")
	}
}

func TestMan(t *testing.T) {
	asked := map[string]bool{}
	help := func(args ...string) (string, error) {
		asked[strings.Join(args, " ")] = true
		if len(args) == 0 {
			return "Usage: pirun ...\n\nCommands:\n  cluster    start or stop\n  version    print versions\n\nRun ...\n", nil
		}
		return "Usage: pirun " + strings.Join(args, " ") + " [--flag]\n.dot \\back\n", nil
	}
	man, err := Man("1.2.3", "2026-12-05", help)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`.TH PIRUN 1 "2026-12-05" "pirun 1.2.3"`, ".SS pirun cluster start\n", ".SS pirun version\n", `\&.dot \eback`, `[\-\-flag]`, ".SH EXIT STATUS"} {
		if !strings.Contains(man, want) {
			t.Errorf("man page lacks %q:\n%s", want, man)
		}
	}
	for _, p := range []string{"", "cluster", "cluster start", "cluster stop", "version"} {
		if !asked[p] {
			t.Errorf("Man did not ask for the help of %q", p)
		}
	}
}

func TestPlaceholder(t *testing.T) {
	fs := flag.NewFlagSet("pirun x", flag.ContinueOnError)
	fs.String("profile", "", "profile name")
	fs.Duration("timeout", 0, "how long")
	fs.String("bogus", "", "a flag nobody named")
	fs.String("out", "", "write the report into `DIR`")
	fs.Bool("json", false, "print JSON")
	fs.Int("n", 0, "engines")
	for _, test := range []struct{ flag, name, usage string }{
		{"profile", "PROFILE", "profile name"},
		{"timeout", "DURATION", "how long"},
		{"bogus", "VALUE", "a flag nobody named"},
		{"out", "DIR", "write the report into DIR"},
		{"json", "", "print JSON"},
		{"n", "N", "engines"},
	} {
		name, usage := Placeholder(fs.Lookup(test.flag))
		if name != test.name || usage != test.usage {
			t.Errorf("Placeholder(%s) = %q, %q; want %q, %q", test.flag, name, usage, test.name, test.usage)
		}
	}
}

func TestSuggest(t *testing.T) {
	commands := []string{"run", "mpi", "version", "hub", "engine", "repl", "cluster", "status", "abort", "profile", "bench", "kernel", "completion"}
	for _, test := range []struct{ word, want string }{
		{"statu", "status"}, {"stauts", "status"}, {"stat", "status"}, {"hlep", ""}, {"enigne", "engine"},
		{"clsuter", "cluster"}, {"benhc", "bench"}, {"x", ""}, {"deploy", ""}, {"Status", "status"}, {"versoin", "version"},
	} {
		if got := Suggest(test.word, commands); got != test.want {
			t.Errorf("Suggest(%q) = %q, want %q", test.word, got, test.want)
		}
	}
	fs := flag.NewFlagSet("pirun mpi", flag.ContinueOnError)
	fs.Int("n", 0, "ranks")
	fs.Bool("v", false, "debug")
	fs.String("connect", "", "file")
	fs.Bool("quiet", false, "quiet")
	fs.Bool("launched", false, InternalFlag+"x)")
	fs.Var(new(Grace), "grace", "how long")
	for _, test := range []struct{ args, want string }{
		{"--conect f", "unknown flag --conect: did you mean --connect?\n"},
		{"-np 4", "unknown flag --np: did you mean -n?\n"},
		{"--verbose", "unknown flag --verbose: did you mean -v?\n"},
		{"--quite", "unknown flag --quite: did you mean --quiet?\n"},
		{"--lanched", "unknown flag --lanched\n"},
		{"--zzz", "unknown flag --zzz\n"},
		{"-N 2", "unknown flag -N: did you mean -n?\n"},
		{"-n x", "invalid value \"x\" for -n\n"},
		{"--grace -1", "invalid value \"-1\" for --grace: expected a duration such as 60s, or 0\n"},
	} {
		var out, errs bytes.Buffer
		Parse(&out, &errs, fs, strings.Fields(test.args))
		if got, _, _ := strings.Cut(errs.String(), "Run "); got != "pirun mpi: "+test.want {
			t.Errorf("Parse(%s) said %q, want %q", test.args, got, "pirun mpi: "+test.want)
		}
	}
}

func TestSuggestVersion(t *testing.T) {
	fs := flag.NewFlagSet("pirun", flag.ContinueOnError)
	fs.Bool("v", false, "debug")
	for _, test := range []struct{ name, want string }{{"versoin", "--version"}, {"V", "--version"}, {"verbose", "-v"}, {"zzz", ""}} {
		if got := suggestFlag(fs, test.name); got != test.want {
			t.Errorf("suggestFlag(pirun, %q) = %q, want %q", test.name, got, test.want)
		}
	}
}

func TestCompleteProfiles(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"lab", "rpi", ".hidden"} {
		if err := os.Mkdir(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	getenv := func(k string) string {
		if k == "PIRUN_DIR" {
			return dir
		}
		return ""
	}
	none := func([]string) []*flag.FlagSet { return nil }
	for _, args := range [][]string{{"status", "--profile", ""}, {"--describe", "-n", "2", "--profile", "l"}, {"profile", "locate", ""}} {
		if got := CompleteLines(args, nil, none, getenv); !slices.Equal(got, []string{"lab", "rpi"}) {
			t.Errorf("CompleteLines(%q) = %q, want the profiles", args, got)
		}
	}
}
