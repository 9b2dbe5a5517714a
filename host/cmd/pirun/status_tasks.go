// This file defines `pirun status --tasks`: the hub's records of recent
// tasks (SPEC §15). runStatus calls statusTasks when --tasks is given.

package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/pirun-dev/pirun/host/client"
)

// statusTasksLimit is how many recent task records `pirun status --tasks`
// shows.
const statusTasksLimit = 50

// statusTasks prints the hub's most recent task records, as a table or
// as JSON, and returns the exit status.
func statusTasks(ctx context.Context, e *env, profile, connect, ssh string, verbose, asJSON bool) int {
	if connect == "" {
		paths, _, err := openProfile(e, profile)
		if err != nil {
			return reportAs(e, "pirun status", &configError{err})
		}
		connect = paths.ClientConn
	}
	log := newLogger(e.stderr, verbose, e.getenv)
	c, err := connectFile(ctx, connect, ssh, client.Config{}, log)
	if err != nil {
		return reportAs(e, "pirun status", err)
	}
	defer c.Close()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ts, err := c.Tasks(qctx, statusTasksLimit)
	if err != nil {
		return reportAs(e, "pirun status", err)
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(map[string]any{"tasks": ts})
		return exitOK
	}
	client.WriteTasks(e.stdout, ts)
	return exitOK
}
