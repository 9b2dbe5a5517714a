// This file defines the logs of long-running commands (hub, engine,
// cluster): slog records go to stderr (warnings, or everything with -v)
// and to a file in the profile's log/ folder, rotated at a bounded size.

package main

import (
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/launch"
)

// logFiles is a command's log file; path is "" when none could be opened.
type logFiles struct {
	path string
	w    *launch.Rotator
}

// openLogs returns the logger of command name: stderr as newLogger, and
// log/NAME.log at the profile's [log] level (debug with -v).
func openLogs(e *env, paths conf.ProfilePaths, lc conf.Log, name string, verbose bool) (*logFiles, *slog.Logger, error) {
	console := newLogger(e.stderr, verbose, e.getenv).Handler()
	level := lc.SlogLevel()
	if verbose {
		level = slog.LevelDebug
	}
	path := filepath.Join(paths.Log, name+".log")
	w, err := launch.OpenRotator(path, int64(lc.MaxSize), lc.MaxFiles)
	if err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	file := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	return &logFiles{path: path, w: w}, slog.New(launch.Fanout{console, file}), nil
}

// close closes the log file; a nil *logFiles is fine.
func (l *logFiles) close() {
	if l != nil && l.w != nil {
		l.w.Close()
	}
}
