// This file defines Man: pirun(1), the manual page made from the same
// help text as pirun help COMMAND.

package cli

import (
	"fmt"
	"strings"
)

// Man returns the roff source of pirun(1) for version, dated date
// ("2026-12-05"). help returns what `pirun help ARGS...` prints: the usage
// with no args, else a command's help. Every command of the usage and
// every subcommand of [Subcommands] gets its section.
func Man(version, date string, help func(args ...string) (string, error)) (string, error) {
	top, err := help()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, ".TH PIRUN 1 %q %q \"User Commands\"\n", date, "pirun "+version)
	b.WriteString(".SH NAME\npirun \\- run Starlark scripts on a cluster of engines (Raspberry Pis, laptops, servers)\n")
	b.WriteString(".SH SYNOPSIS\n.B pirun\n[\\-n N] [\\-\\-quiet] [\\-v] SCRIPT.star [ARGS...]\n.br\n.B pirun\nCOMMAND [flags]\n")
	b.WriteString(".SH DESCRIPTION\n")
	preformatted(&b, top)
	b.WriteString(".SH COMMANDS\n")
	for _, cmd := range commandsOf(top) {
		paths := [][]string{{cmd}}
		for _, sub := range Subcommands[cmd] {
			if OneHelp[cmd] {
				break
			}
			paths = append(paths, []string{cmd, sub})
		}
		for _, p := range paths {
			text, err := help(p...)
			if err != nil {
				return "", fmt.Errorf("pirun help %s: %w", strings.Join(p, " "), err)
			}
			fmt.Fprintf(&b, ".SS %s\n", roff("pirun "+strings.Join(p, " ")))
			preformatted(&b, text)
		}
	}
	b.WriteString(`.SH EXIT STATUS
0 success, 1 the script failed, 2 usage or configuration error, 3 cluster
unavailable (no hub, no engines, timed out), 130 after Ctrl-C (SIGINT),
143 after SIGTERM: a command that waits aborts what it started and says
so in one line. The hub, engines, a foreground cluster and the kernel
stop on those signals and exit 0.
.SH ENVIRONMENT
.TP
.B PIRUN_DIR
the folder of the profiles (else $XDG_CONFIG_HOME/pirun, else ~/.config/pirun)
.TP
.B PIRUN_PROFILE
the profile used when no \-\-profile is given (else default)
.TP
.B PIRUN_LOGGING
debug: every log record on stderr
.TP
.B NO_COLOR
when set (to anything), the REPL does not colour its errors red; nothing else in pirun writes colours
.SH FILES
.TP
.I ~/.config/pirun/PROFILE/pirun.toml
the profile's settings: hub, cluster, [[hosts]], [engine]
.TP
.I ~/.config/pirun/PROFILE/security/
the connection files the hub writes: client\-connection.toml, engine\-connection.toml
.TP
.I ~/.config/pirun/PROFILE/log/
the logs of the hub, engines and cluster
.SH SEE ALSO
The README shipped with pirun.
`)
	return b.String(), nil
}

// commandsOf lists the commands of the usage's "Commands:" block.
func commandsOf(usage string) []string {
	_, block, ok := strings.Cut(usage, "\nCommands:\n")
	if !ok {
		return nil
	}
	var cmds []string
	for _, line := range strings.Split(block, "\n") {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		if f := strings.Fields(line); len(f) > 0 {
			cmds = append(cmds, f[0])
		}
	}
	return cmds
}

// preformatted writes text as a block kept as it is.
func preformatted(b *strings.Builder, text string) {
	b.WriteString(".nf\n")
	for _, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString(roff(line) + "\n")
	}
	b.WriteString(".fi\n")
}

// roff escapes a line of text for roff: backslashes, hyphens, and a
// leading dot or quote.
func roff(line string) string {
	line = strings.ReplaceAll(line, `\`, `\e`)
	line = strings.ReplaceAll(line, "-", `\-`)
	if strings.HasPrefix(line, ".") || strings.HasPrefix(line, "'") {
		line = `\&` + line
	}
	return line
}
