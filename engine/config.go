// This file defines ConfigFrom, the one place where the [engine] table of
// a profile becomes a Daemon's Config.

package engine

import (
	"time"

	"github.com/pirun-dev/pirun/conf"
)

// ConfigFrom returns the Config of the [engine] table ec. Callers add what
// only they know: Version, GOARM, Startup, or a DataDir of their own.
func ConfigFrom(ec conf.Engine) Config {
	return Config{Engines: ec.Engines, Name: ec.Name, DataDir: ec.DataDir, OutDir: ec.OutDir,
		MaxOutBytes: int64(ec.MaxOutBytes), MaxSteps: ec.MaxSteps,
		TaskTimeout: time.Duration(ec.TaskTimeout), Heartbeat: time.Duration(ec.Heartbeat),
		MaxArrayBytes: int64(ec.MaxArrayBytes), MaxMemory: int64(ec.MaxMemory)}
}
