// This file defines the processes that the cluster supervisor starts: the
// local `pirun engine` and one ssh per [[hosts]] entry, with their stdin
// held open for their whole life (its end tells a launched engine that the
// supervisor is gone) and their output logged.

package launch

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Started is one process the cluster supervisor started: the local
// `pirun engine` or an ssh per [[hosts]] entry. Rec and Hostname after
// start are guarded by the supervisor's mutex; Done closes once the
// process exited.
type Started struct {
	Rec       Child
	Hostname  string // the host's own name, to match its engines; "" = unknown
	cmd       *exec.Cmd
	stdin     *os.File
	closeOnce sync.Once
	Done      chan struct{} // closed once the process exited
	err       error
	tail      *lineTail
	Marker    chan struct{} // closed once the launched marker line was read (ssh)
}

// Tail returns the last lines of the process's stderr.
func (c *Started) Tail() string { return c.tail.String() }

// StartChild starts argv with fresh pipes, writes payload (if any) to its
// stdin and keeps stdin open. The output readers end with the pipes: when
// the process and whatever it left behind have exited.
func StartChild(rec Child, argv []string, payload []byte, log *slog.Logger, onLine func(*Started, string)) (*Started, error) {
	c := &Started{Rec: rec, Done: make(chan struct{}), tail: &lineTail{max: 6}, Marker: make(chan struct{})}
	pipes, err := newPipes()
	if err != nil {
		return nil, err
	}
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Stdin, c.cmd.Stdout, c.cmd.Stderr = pipes.inR, pipes.outW, pipes.errW
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = c.cmd.Start()
	pipes.closeChildEnds()
	if err != nil {
		pipes.closeOurEnds()
		return nil, err
	}
	c.stdin = pipes.inW
	c.Rec.Command = argv
	c.Rec.Process = Process{PID: c.cmd.Process.Pid}
	if p, err := Find(c.cmd.Process.Pid); err == nil {
		c.Rec.Process = p
	}
	lg := log.With("host", rec.Host, "pid", c.cmd.Process.Pid)
	go c.readLines(pipes.outR, func(l string) { onLine(c, l); lg.Info(l) })
	go c.readLines(pipes.errR, func(l string) { c.tail.add(l); lg.Info(l) })
	if len(payload) > 0 {
		if _, err := c.stdin.Write(payload); err != nil {
			lg.Warn("write the connection file to the engine's stdin", "err", err)
		}
	}
	go func() {
		c.err = c.cmd.Wait()
		c.CloseStdin()
		close(c.Done)
	}()
	return c, nil
}

// readLines passes each line of r to f until r ends.
func (c *Started) readLines(r *os.File, f func(string)) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		f(sc.Text())
	}
	io.Copy(io.Discard, r) // after an overlong line
}

// CloseStdin closes our end of the Started's stdin: a launched engine then
// exits once its grace period has passed.
func (c *Started) CloseStdin() {
	c.closeOnce.Do(func() { c.stdin.Close() })
}

// Exited reports whether the process has exited.
func (c *Started) Exited() bool {
	select {
	case <-c.Done:
		return true
	default:
		return false
	}
}

// SignalGroup signals the Started's process group (its ssh or engine and
// what they started), if the Started still runs.
func (c *Started) SignalGroup(sig syscall.Signal) {
	if !c.Exited() {
		syscall.Kill(-c.cmd.Process.Pid, sig)
	}
}

// Status is the Started's exit status, or -1.
func (c *Started) Status() int {
	if c.cmd.ProcessState == nil {
		return -1
	}
	return c.cmd.ProcessState.ExitCode()
}

// pipes are the three pipes of a Started.
type pipes struct {
	inR, inW, outR, outW, errR, errW *os.File
}

func newPipes() (*pipes, error) {
	var p pipes
	var err error
	if p.inR, p.inW, err = os.Pipe(); err != nil {
		return nil, err
	}
	if p.outR, p.outW, err = os.Pipe(); err != nil {
		p.inR.Close()
		p.inW.Close()
		return nil, err
	}
	if p.errR, p.errW, err = os.Pipe(); err != nil {
		for _, f := range []*os.File{p.inR, p.inW, p.outR, p.outW} {
			f.Close()
		}
		return nil, err
	}
	return &p, nil
}

func (p *pipes) closeChildEnds() {
	p.inR.Close()
	p.outW.Close()
	p.errW.Close()
}

func (p *pipes) closeOurEnds() {
	p.inW.Close()
	p.outR.Close()
	p.errR.Close()
}

// lineTail keeps the last lines written to it. It is safe for concurrent
// use.
type lineTail struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *lineTail) add(l string) {
	if l = strings.TrimSpace(l); l == "" {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, l)
	if len(t.lines) > t.max {
		t.lines = t.lines[1:]
	}
}

func (t *lineTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "; ")
}

// ExitReason explains why a Started ended, quoting its last error lines.
func (c *Started) ExitReason(pirunPath string) string {
	tail, st := c.tail.String(), c.Status()
	if tail == "" && c.cmd.ProcessState != nil {
		tail = c.cmd.ProcessState.String()
	}
	if c.Rec.Kind == KindLocal {
		return fmt.Sprintf("the local engines exited: %s", tail)
	}
	switch st {
	case 255:
		return fmt.Sprintf("cannot reach %s with ssh: %s", c.Rec.Host, tail)
	case 127:
		return fmt.Sprintf("pirun not found on %s at %s: copy it there or use --push-binary (%s)", c.Rec.Host, pirunPath, tail)
	case 126:
		return fmt.Sprintf("pirun on %s at %s cannot run there: copy the build for its platform or use --push-binary (%s)", c.Rec.Host, pirunPath, tail)
	}
	return fmt.Sprintf("the engines on %s exited: %s", c.Rec.Host, tail)
}

// WaitAll waits until every Started exited or d passed; it reports
// whether they all exited.
func WaitAll(children []*Started, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	for _, c := range children {
		select {
		case <-c.Done:
		case <-t.C:
			return false
		}
	}
	return true
}
