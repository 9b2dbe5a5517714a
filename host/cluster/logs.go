// This file defines the logs of long-running commands (hub, engine,
// cluster): slog records go to stderr (warnings, or everything with -v)
// and to a file in the profile's log/ folder, rotated at a bounded size.

package cluster

import (
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/launch"
)

// NewLogger returns the logger of a command: warnings and errors on w,
// everything with verbose or PIRUN_LOGGING=debug.
func NewLogger(w io.Writer, verbose bool, getenv func(string) string) *slog.Logger {
	level := slog.LevelWarn
	if verbose || getenv("PIRUN_LOGGING") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// Logs is a command's log file; Path is "" when none could be opened.
type Logs struct {
	Path string
	w    *launch.Rotator
}

// OpenLogs returns the logger of command name: stderr as [NewLogger], and
// the file path (log/NAME.log in the profile when path is "") at the
// profile's [log] level (debug with verbose).
func OpenLogs(stderr io.Writer, getenv func(string) string, paths conf.ProfilePaths, lc conf.Log, name, path string, verbose bool) (*Logs, *slog.Logger, error) {
	console := NewLogger(stderr, verbose, getenv).Handler()
	level := lc.SlogLevel()
	if verbose {
		level = slog.LevelDebug
	}
	if path == "" {
		path = filepath.Join(paths.Log, name+".log")
	}
	w, err := launch.OpenRotator(path, int64(lc.MaxSize), lc.MaxFiles)
	if err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	file := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	return &Logs{Path: path, w: w}, slog.New(launch.Fanout{console, file}), nil
}

// Close closes the log file; a nil *Logs is fine.
func (l *Logs) Close() {
	if l != nil && l.w != nil {
		l.w.Close()
	}
}
