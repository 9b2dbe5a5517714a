// This file defines ConfigError, the mistakes a user fixes in a flag, a
// file or the environment.

package cluster

import "errors"

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
