// This file defines what an engine that `pirun cluster start` launched
// does differently: it exits once its launcher or its hub has been gone
// for the grace period, so no orphan is left on a Pi.

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// GraceError ends engines whose launcher or hub was gone past the grace
// period.
type GraceError struct{ msg string }

func (e *GraceError) Error() string { return e.msg }

// watchStdin ends the engine (through cancel) once stdin has reached its
// end and the grace period has then passed: the launcher, or the ssh
// session it ran in, is gone. The read of stdin cannot be interrupted, so
// this goroutine ends with the process; its timer stops with ctx.
func watchStdin(ctx context.Context, stdin io.Reader, grace time.Duration, cancel context.CancelCauseFunc, log *slog.Logger) {
	io.Copy(io.Discard, stdin)
	log.Warn("the launcher's session ended (stdin closed); exiting after the grace period", "grace", grace)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
		cancel(&GraceError{fmt.Sprintf("the launcher's session ended %v ago (grace period); exiting", grace)})
	}
}

// connHolder keeps the daemon's connection for the hub watchdog.
type connHolder struct {
	mu sync.Mutex
	nc *nats.Conn
}

func (h *connHolder) set(nc *nats.Conn) {
	h.mu.Lock()
	h.nc = nc
	h.mu.Unlock()
}

func (h *connHolder) get() *nats.Conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.nc
}

// watchHub ends the engine (through cancel) once its hub has been
// unreachable for grace, checking a few times per grace period; it
// returns when ctx is done.
func watchHub(ctx context.Context, conn *connHolder, grace time.Duration, cancel context.CancelCauseFunc) {
	t := time.NewTicker(min(max(grace/8, 50*time.Millisecond), time.Second))
	defer t.Stop()
	var since time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			nc := conn.get()
			switch {
			case nc == nil || nc.IsConnected():
				since = time.Time{}
			case since.IsZero():
				since = now
			case now.Sub(since) >= grace:
				cancel(&GraceError{fmt.Sprintf("no hub for %v (grace period); exiting", grace)})
				return
			}
		}
	}
}

// pingInterval is how often a connection with a grace period checks that
// the hub answers, so that a silent network is noticed within it.
func pingInterval(grace time.Duration) time.Duration {
	return min(max(grace/4, time.Second), 20*time.Second)
}

// IsGrace reports whether the engines ended for their grace period.
func IsGrace(err error) (*GraceError, bool) {
	var ge *GraceError
	return ge, errors.As(err, &ge)
}
