// This file defines Tunnel: a local port forwarded through an ssh gateway
// to a hub that cannot be reached directly (ipyparallel's sshserver).

package launch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// tunnelWait bounds how long Tunnel waits for the first ssh to forward.
const tunnelWait = 30 * time.Second

// Tunnel forwards a free port of 127.0.0.1 through ssh to gateway
// ("[user@]host[:port]") and on to target (host:port as the gateway sees
// it), with `ssh -N -o ExitOnForwardFailure=yes -L 127.0.0.1:PORT:TARGET`.
// It returns once the local port accepts connections, with that address
// ("127.0.0.1:PORT"). Should ssh exit later, it is started again until
// stop is called or ctx is done; stop ends ssh and waits for it. Errors
// quote ssh's own; log (nil for none) hears of restarts. It is safe for
// concurrent use.
func Tunnel(ctx context.Context, program, gateway, target string, log *slog.Logger) (localAddr string, stop func(), err error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gw, err := ParseGateway(gateway)
	if err != nil {
		return "", nil, err
	}
	path, err := exec.LookPath(program)
	if err != nil {
		return "", nil, ProgramError(program, err)
	}
	port, err := freePort()
	if err != nil {
		return "", nil, fmt.Errorf("ssh tunnel: %w", err)
	}
	localAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	args := gw.Args("", "-N", "-o", "ExitOnForwardFailure=yes", "-L", localAddr+":"+target)
	t := &tunnel{path: path, args: args, gw: gw, target: target, local: localAddr, log: log, quit: make(chan struct{})}
	first := make(chan error, 1)
	t.wg.Go(func() { t.run(first) })
	wctx, cancel := context.WithTimeout(ctx, tunnelWait)
	defer cancel()
	if err := t.waitOpen(wctx, first); err != nil {
		t.stop()
		return "", nil, err
	}
	context.AfterFunc(ctx, t.stop)
	return localAddr, t.stop, nil
}

// tunnel is one forwarded port and the ssh process behind it.
type tunnel struct {
	path, target, local string
	args                []string
	gw                  Target
	log                 *slog.Logger
	wg                  sync.WaitGroup
	once                sync.Once
	quit                chan struct{}

	mu  sync.Mutex
	cmd *exec.Cmd
}

// run runs ssh until stop, starting it again after it exits. The first
// run's failure to start or early exit goes to first.
func (t *tunnel) run(first chan<- error) {
	wait := time.Second
	for attempt := 0; ; attempt++ {
		err := t.runOnce()
		if attempt == 0 {
			first <- err
		}
		select {
		case <-t.quit:
			return
		default:
		}
		t.log.Warn("ssh tunnel ended; starting it again", "gateway", t.gw.String(), "target", t.target, "err", err, "retry_in", wait)
		select {
		case <-t.quit:
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// runOnce runs one ssh process to its end.
func (t *tunnel) runOnce() error {
	cmd := exec.Command(t.path, t.args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	t.mu.Lock()
	select {
	case <-t.quit:
		t.mu.Unlock()
		return errors.New("stopped")
	default:
	}
	if err := cmd.Start(); err != nil {
		t.mu.Unlock()
		return ProgramError(t.path, err)
	}
	t.cmd = cmd
	t.mu.Unlock()
	err := cmd.Wait()
	t.mu.Lock()
	t.cmd = nil
	t.mu.Unlock()
	e := &Error{Host: t.gw.String(), What: "ssh tunnel to " + t.target, Status: -1, Stderr: LastLines(stderr.String(), 5)}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		e.Status = ee.ExitCode()
	} else if err != nil {
		e.Err = err
	} else {
		e.Err = errors.New("ssh exited")
	}
	return e
}

// waitOpen polls the local port until it accepts a connection, the first
// ssh ends, or ctx is done.
func (t *tunnel) waitOpen(ctx context.Context, first <-chan error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var d net.Dialer
	for {
		dctx, cancel := context.WithTimeout(ctx, time.Second)
		c, err := d.DialContext(dctx, "tcp", t.local)
		cancel()
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case err := <-first:
			return fmt.Errorf("ssh tunnel through %s to %s: %w", t.gw, t.target, err)
		case <-ctx.Done():
			return fmt.Errorf("ssh tunnel through %s to %s: port %s did not open within %v", t.gw, t.target, t.local, tunnelWait)
		case <-tick.C:
		}
	}
}

// stop ends ssh and waits for the runner; it is idempotent.
func (t *tunnel) stop() {
	t.once.Do(func() {
		t.mu.Lock()
		close(t.quit)
		if t.cmd != nil {
			t.cmd.Process.Kill()
		}
		t.mu.Unlock()
		t.wg.Wait()
	})
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
