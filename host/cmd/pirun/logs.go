// This file defines the logs of long-running commands (hub, engine,
// cluster): slog records go to stderr (warnings, or everything with -v)
// and to a file in the profile's log/ folder, rotated at a bounded size.

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/pirun-dev/pirun/conf"
)

// logFiles is a command's log file; path is "" when none could be opened.
type logFiles struct {
	path string
	w    *rotator
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
	w, err := openRotator(path, int64(lc.MaxSize), lc.MaxFiles)
	if err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	file := slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	return &logFiles{path: path, w: w}, slog.New(fanout{console, file}), nil
}

// close closes the log file; a nil *logFiles is fine.
func (l *logFiles) close() {
	if l != nil && l.w != nil {
		l.w.Close()
	}
}

// fanout is a slog.Handler that passes each record to every handler that
// takes its level.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var first error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func (f fanout) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// rotator is an append-only log file that, past max bytes, is renamed to
// NAME.1.log (older ones shift up) and started anew; at most files files
// are kept. It is safe for concurrent use.
type rotator struct {
	mu    sync.Mutex
	path  string
	max   int64
	files int
	f     *os.File
	size  int64
}

func openRotator(path string, limit int64, files int) (*rotator, error) {
	r := &rotator{path: path, max: limit, files: max(files, 1)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rotator) open() error {
	f, err := os.OpenFile(r.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	r.f, r.size = f, fi.Size()
	return nil
}

func (r *rotator) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return 0, io.ErrClosedPipe
	}
	if r.max > 0 && r.size+int64(len(p)) > r.max && r.size > 0 {
		if err := r.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := r.f.Write(p)
	r.size += int64(n)
	return n, err
}

// rotate shifts NAME.log to NAME.1.log and so on, dropping the oldest.
func (r *rotator) rotate() error {
	r.f.Close()
	r.f = nil
	base := r.path[:len(r.path)-len(filepath.Ext(r.path))]
	old := func(i int) string { return base + "." + strconv.Itoa(i) + ".log" }
	os.Remove(old(r.files - 1))
	for i := r.files - 2; i >= 1; i-- {
		os.Rename(old(i), old(i+1))
	}
	if r.files > 1 {
		os.Rename(r.path, old(1))
	} else {
		os.Remove(r.path)
	}
	return r.open()
}

// Close closes the file.
func (r *rotator) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
