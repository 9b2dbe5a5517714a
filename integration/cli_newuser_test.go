// This file defines tests of what a new user meets on the command line
// (issue 18 item 3): every flag's value named in help, the man page and
// completion; "did you mean" for typos; help of help.

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pirun-dev/pirun/host/cli"
)

// commandPaths are the commands and subcommands that have a help of
// their own.
func commandPaths() [][]string {
	paths := [][]string{{"run"}}
	for _, cmd := range []string{"mpi", "version", "hub", "engine", "repl", "cluster", "status", "abort", "profile", "bench", "kernel", "completion"} {
		paths = append(paths, []string{cmd})
		if cli.OneHelp[cmd] {
			continue
		}
		for _, sub := range cli.Subcommands[cmd] {
			paths = append(paths, []string{cmd, sub})
		}
	}
	return paths
}

// TestCLIPlaceholders: no help, man page or completion description says
// VALUE; every flag that takes a value names it.
func TestCLIPlaceholders(t *testing.T) {
	man, err := cli.Man("test", "2026-12-05", func(args ...string) (string, error) {
		r := runPirun(t, ".", cliTimeout, append([]string{"help"}, args...)...)
		if r.code != 0 {
			t.Errorf("pirun help %s = exit %d, stderr %q", strings.Join(args, " "), r.code, r.stderr)
		}
		return r.stdout, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(man, "VALUE") {
		t.Errorf("the man page says VALUE:\n%s", man)
	}
	for _, want := range []string{`\-\-connect FILE`, `\-\-profile PROFILE`, `\-\-timeout DURATION`, `\-\-ssh [USER@]GATEWAY[:PORT]`,
		`\-\-http HOST:PORT`, `\-\-grace DURATION`, `\-\-client ID`, `\-f FILE`, `\-n N`} {
		if !strings.Contains(man, want) {
			t.Errorf("the man page lacks %q", want)
		}
	}
	// A flag line of the help: "  --name" or "  --name VALUE".
	flagLine := regexp.MustCompile(`(?m)^  (-{1,2}[a-z-]+)( \S+)?$`)
	for _, path := range commandPaths() {
		r := runPirun(t, ".", cliTimeout, append(path, "--help")...)
		if r.code != 0 || strings.Contains(r.stdout, "VALUE") {
			t.Errorf("pirun %s --help = exit %d, says VALUE:\n%s", strings.Join(path, " "), r.code, r.stdout)
		}
		described := runPirun(t, ".", cliTimeout, append(append([]string{"__complete", "--describe"}, path...), "-")...)
		for _, m := range flagLine.FindAllStringSubmatch(r.stdout, -1) {
			line := ""
			for _, l := range strings.Split(described.stdout, "\n") {
				if strings.HasPrefix(l, m[1]+"\t") {
					line = l
				}
			}
			value := strings.TrimSpace(m[2])
			if value != "" && !strings.HasPrefix(line, m[1]+"\t"+value+": ") || value == "" && line == "" {
				t.Errorf("pirun %s: help says %q, completion describes it as %q", strings.Join(path, " "), m[0], line)
			}
		}
	}
}

// TestCLICompletionDescribed: zsh and fish show each flag's value and
// usage beside it.
func TestCLICompletionDescribed(t *testing.T) {
	requireTool(t, "zsh", "fish")
	path := "PATH=" + filepath.Dir(pirunBin) + ":" + os.Getenv("PATH")
	fish := exec.Command("fish", "--no-config", "-c", `pirun completion fish | source; complete -C "pirun engine --co"; complete -C "pirun clu"`)
	fish.Env, fish.Dir = append(testEnv(t), path), t.TempDir() // no files to offer beside the candidates
	out, err := fish.Output()
	want := "--config\tFILE: a TOML file with an [engine] table (default: the profile's pirun.toml)\n" +
		"--connect\tFILE: the hub's engine connection file; - reads it from stdin (default: the profile's security/engine-connection.toml)\n" +
		"cluster\tstart or stop a hub and engines here and over SSH (pirun.toml)\n"
	if err != nil || string(out) != want {
		t.Errorf("fish completion = %q (%v), want %q", out, err, want)
	}
	// zsh's compsys needs a terminal; _describe (given name:description
	// pairs) and _files are stood in for, the script's own work is real.
	script := `compdef() { : }
source <(pirun completion zsh)
_describe() { local arr=${@[-1]}; print -l -- "${(@P)arr}"; }
_files() { print FILES; }
words=(pirun cluster start --t); CURRENT=4; _pirun
words=(pirun job.star ''); CURRENT=3; _pirun`
	for _, name := range []string{"lab", "rpi"} {
		if r := runPirun(t, "", cliTimeout, "profile", "create", name); r.code != 0 {
			t.Fatalf("pirun profile create %s = exit %d, stderr %q", name, r.code, r.stderr)
		}
	}
	script += `
words=(pirun status --profile ''); CURRENT=4; _pirun`
	zsh := exec.Command("zsh", "-f", "-c", script)
	zsh.Env = append(testEnv(t), path)
	out, err = zsh.Output()
	if err != nil || !strings.Contains(string(out), "--timeout:DURATION: how long to wait for the engines to join\n") || !strings.HasSuffix(string(out), "\n--help:this command's help\nFILES\nlab\nrpi\n") {
		t.Errorf("zsh completion = %q (%v); want --timeout:DURATION: …, files after a script, then the profiles", out, err)
	}
}

// TestCLIDidYouMean: typos in commands, subcommands and flags are usage
// errors that name what was probably meant, in a line or two, not the
// whole usage.
func TestCLIDidYouMean(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hello.star"), []byte("print(1)\n"), 0o644)
	for _, test := range []struct {
		args string
		want string
	}{
		{"statu", `pirun: unknown command "statu": did you mean status?`},
		{"hello", `pirun: unknown command "hello": did you mean hello.star?`},
		{"help enigne", `pirun help: unknown command "enigne": did you mean engine?`},
		{"cluster strat", `pirun cluster: unknown command "strat" (expected start or stop): did you mean start?`},
		{"profile craete lab", `did you mean create?`},
		{"hub ad-engine rpi2", `pirun hub: unexpected argument "ad-engine": did you mean add-engine?`},
		{"engine --conect engine.toml", `pirun engine: unknown flag --conect: did you mean --connect?`},
		{"mpi -np 2 hello.star", `pirun mpi: unknown flag --np: did you mean -n?`},
		{"--verbose hello.star", `pirun: unknown flag --verbose: did you mean -v?`},
		{"status --json extra", `pirun status: unexpected argument "extra"`},
		{"abort 7 --all", `pirun abort: --all after the task ids: flags go first`},
	} {
		r := runPirun(t, dir, cliTimeout, strings.Fields(test.args)...)
		if r.code != 2 || !strings.Contains(r.stderr, test.want) || strings.Count(r.stderr, "\n") > 2 {
			t.Errorf("pirun %s = exit %d, stderr %q; want exit 2 and %q in at most two lines", test.args, r.code, r.stderr, test.want)
		}
	}
	for _, args := range []string{"help help", "help -h", "help --help", "-h"} {
		r := runPirun(t, dir, cliTimeout, strings.Fields(args)...)
		if r.code != 0 || !strings.Contains(r.stdout, "Commands:") {
			t.Errorf("pirun %s = exit %d, stdout %q; want the usage", args, r.code, r.stdout)
		}
	}
}
