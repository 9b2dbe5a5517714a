// This file defines how ssh command lines are built: the target machine,
// its options, and shell quoting of the remote command.

package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Target is a machine reached with the system ssh: a [[hosts]] entry or an
// ssh gateway. It is plain data.
type Target struct {
	Host    string   // the name or address given to ssh
	User    string   // the login; "" leaves it to ssh's configuration
	Port    int      // 0 leaves it to ssh's configuration
	Options []string // extra ssh arguments, given before pirun's own
}

// String returns t as [user@]host[:port], for messages.
func (t Target) String() string {
	s := t.Host
	if t.User != "" {
		s = t.User + "@" + s
	}
	if t.Port != 0 {
		s += ":" + strconv.Itoa(t.Port)
	}
	return s
}

// Args returns the arguments of ssh that run the shell command remote on
// t; with remote "" the result ends with the host, for callers that add -N.
// The user's options come first, so they win over pirun's defaults
// (BatchMode=yes: never prompt, fail instead).
func (t Target) Args(remote string, extra ...string) []string {
	args := append([]string{}, t.Options...)
	args = append(args, "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15")
	args = append(args, extra...)
	if t.User != "" {
		args = append(args, "-l", t.User)
	}
	if t.Port != 0 {
		args = append(args, "-p", strconv.Itoa(t.Port))
	}
	args = append(args, t.Host)
	if remote != "" {
		args = append(args, remote)
	}
	return args
}

// ParseGateway parses "[user@]host[:port]" (IPv6 hosts in brackets).
func ParseGateway(s string) (Target, error) {
	var t Target
	rest := s
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		t.User, rest = rest[:i], rest[i+1:]
	}
	if h, p, err := net.SplitHostPort(rest); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return t, fmt.Errorf("ssh gateway %q: port %q: expected 1..65535", s, p)
		}
		t.Host, t.Port = h, n
	} else {
		t.Host = strings.TrimSuffix(strings.TrimPrefix(rest, "["), "]")
	}
	if t.Host == "" || strings.HasPrefix(t.Host, "-") || strings.ContainsAny(s, " \t\n'\"") {
		return t, fmt.Errorf("ssh gateway %q: expected [user@]host[:port]", s)
	}
	return t, nil
}

// Quote quotes s as one word for a POSIX shell.
func Quote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// QuotePath quotes a path for a POSIX shell, keeping a leading "~" or
// "~/" as the remote user's home folder.
func QuotePath(p string) string {
	switch {
	case p == "~":
		return `"$HOME"`
	case strings.HasPrefix(p, "~/"):
		if rest := p[2:]; rest != "" {
			return `"$HOME"/` + Quote(rest)
		}
		return `"$HOME"/`
	}
	return Quote(p)
}

// LaunchedMarker starts the line that an engine launched over ssh prints
// first: "pirun-launched PID HOSTNAME", so the launcher knows which of the
// engines that join are its own.
const LaunchedMarker = "pirun-launched"

// EngineCommand is a `pirun engine` launched on another machine; it is
// plain data.
type EngineCommand struct {
	Pirun   string        // the path of pirun there ("~/" is the home folder)
	Engines int           // 0 means one per CPU there
	Grace   time.Duration // how long the engines live on without their hub or session
	DataDir string        // the engines' data_dir there; "" keeps theirs
}

// Shell returns the remote shell command: it prints the [LaunchedMarker]
// line and then becomes `pirun engine --connect - --launched`, which reads
// its connection file from stdin (see [ConnPayload]).
func (c EngineCommand) Shell() string {
	var b strings.Builder
	fmt.Fprintf(&b, "echo %s $$ \"$(uname -n)\"; exec %s engine --connect - --launched --grace %s",
		LaunchedMarker, QuotePath(c.Pirun), c.Grace)
	if c.Engines > 0 {
		fmt.Fprintf(&b, " -n %d", c.Engines)
	}
	if c.DataDir != "" {
		fmt.Fprintf(&b, " --data-dir %s", QuotePath(c.DataDir))
	}
	return b.String()
}

// ParseLaunched parses a [LaunchedMarker] line.
func ParseLaunched(line string) (pid int, hostname string, ok bool) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != LaunchedMarker {
		return 0, "", false
	}
	pid, err := strconv.Atoi(f[1])
	if err != nil || pid <= 0 {
		return 0, "", false
	}
	if len(f) > 2 {
		hostname = f[2]
	}
	return pid, hostname, true
}

// ConnPayload is what a launcher writes to the stdin of `pirun engine
// --connect -`: the connection file's bytes and one NUL byte. The engine
// keeps reading stdin afterwards; its end means the launcher is gone.
func ConnPayload(connFile []byte) []byte {
	return append(append([]byte{}, connFile...), 0)
}

// maxConnFile bounds the connection file read from stdin.
const maxConnFile = 1 << 20

// ReadConnPayload reads a [ConnPayload] from r, up to and without the NUL.
// It reads no further than the NUL, so the caller may go on watching r.
func ReadConnPayload(r io.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == 0 {
				return out, nil
			}
			if len(out) >= maxConnFile {
				return nil, fmt.Errorf("read connection file from stdin: longer than %d bytes without the closing NUL byte", maxConnFile)
			}
			out = append(out, buf[0])
		}
		if err == io.EOF {
			return nil, errors.New("read connection file from stdin: it ended before the closing NUL byte; --connect - is for engines that `pirun cluster start` launches")
		}
		if err != nil {
			return nil, fmt.Errorf("read connection file from stdin: %w", err)
		}
	}
}

// Error is a failed ssh command: ssh itself (status 255: the host is
// unreachable or refused the login) or the remote command.
type Error struct {
	Host   string // the target, as [Target.String]
	What   string // what was run, for the message
	Status int    // the exit status; -1 when ssh did not start or was killed
	Stderr string // ssh's or the remote command's last error lines
	Err    error  // the cause when ssh did not run
}

func (e *Error) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("%s on %s: %v", e.What, e.Host, e.Err)
	case e.Status == 255:
		return fmt.Sprintf("cannot reach %s with ssh: %s", e.Host, orStatus(e.Stderr, e.Status))
	}
	return fmt.Sprintf("%s on %s failed: %s", e.What, e.Host, orStatus(e.Stderr, e.Status))
}

func (e *Error) Unwrap() error { return e.Err }

func orStatus(stderr string, status int) string {
	if s := strings.TrimSpace(stderr); s != "" {
		return s
	}
	return fmt.Sprintf("exit status %d", status)
}

// ProgramError explains an ssh program that cannot be run.
func ProgramError(program string, err error) error {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the ssh program %q was not found: install the OpenSSH client or set [cluster] ssh in pirun.toml", program)
	}
	return fmt.Errorf("run the ssh program %q: %w", program, err)
}

// Output runs the shell command remote on t with ssh, feeding it stdin
// (nil for none), and returns its standard output. What names the command
// in errors, which are *[Error] or a [ProgramError].
func Output(ctx context.Context, program string, t Target, what, remote string, stdin io.Reader) ([]byte, error) {
	path, err := exec.LookPath(program)
	if err != nil {
		return nil, ProgramError(program, err)
	}
	cmd := exec.CommandContext(ctx, path, t.Args(remote)...)
	cmd.Stdin = stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.Output()
	if err == nil {
		return out, nil
	}
	e := &Error{Host: t.String(), What: what, Status: -1, Stderr: LastLines(stderr.String(), 5)}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		e.Status = ee.ExitCode()
	} else {
		e.Err = err
	}
	return nil, e
}

// LastLines returns the last n non-empty lines of s, joined by "; ".
func LastLines(s string, n int) string {
	var lines []string
	for l := range strings.SplitSeq(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(len(lines)-n, 0):], "; ")
}
