// This file defines ConfigError, the mistakes a user fixes in a flag, a
// file or the environment.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// ConfigError is a mistake in a flag, a file or the environment: pirun
// exits 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// IsConfig reports whether err is a *ConfigError.
func IsConfig(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// pirun's exit statuses (SPEC §2), which the supervisor reports to the
// `pirun cluster start` that waits for it.
const (
	codeOK          = 0
	codeUsage       = 2 // usage or configuration error
	codeUnavailable = 3 // no hub, no engines, timed out
	codeInterrupted = 130
)

// Interrupt is the cause of the context that pirun's main cancels on
// SIGINT (Ctrl-C) or SIGTERM: a command it stops says so in one line and
// exits with [Interrupt.Status].
type Interrupt struct{ Signal os.Signal }

// Error is "interrupted" for SIGINT, "terminated" for SIGTERM.
func (in *Interrupt) Error() string {
	if in.Signal == syscall.SIGTERM {
		return "terminated"
	}
	return "interrupted"
}

// Status is the exit status after the signal, as a shell reports a
// process killed by it: 128 + its number (130 for SIGINT, 143 for
// SIGTERM).
func (in *Interrupt) Status() int {
	if s, ok := in.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return codeInterrupted
}

// Say says in one line on w that the signal stopped command cmd, and
// what that left (after: "" or "; …"), and returns the exit status.
func (in *Interrupt) Say(w io.Writer, cmd, after string) int {
	fmt.Fprintf(w, "%s: %v%s\n", cmd, in, after)
	return in.Status()
}

// InterruptOf returns the signal that ended ctx, or nil when ctx is not
// done or ended otherwise.
func InterruptOf(ctx context.Context) *Interrupt {
	var in *Interrupt
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &in) {
		return in
	}
	return nil
}

// Report prints on w the error err of command cmd (such as "pirun
// status") and returns pirun's exit status for it: after a signal in,
// one line saying so and 130 or 143 (err's own words when it is an
// *Interrupt that says what was left, such as abort's); else 2 for a
// mistake in a flag, a file or the environment (config), and 3 for the
// rest: the cluster is unavailable.
func Report(w io.Writer, cmd string, err error, in *Interrupt, config bool) int {
	var own *Interrupt
	switch {
	case errors.As(err, &own):
		fmt.Fprintf(w, "%s: %v\n", cmd, err)
		return own.Status()
	case in != nil:
		fmt.Fprintf(w, "%s: %v\n", cmd, in) // what failed did so because of the signal
		return in.Status()
	}
	fmt.Fprintf(w, "%s: %v\n", cmd, err)
	if config || IsConfig(err) {
		return codeUsage
	}
	return codeUnavailable
}
