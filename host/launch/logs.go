// This file defines the log files of long-running commands (hub, engine,
// cluster): a file rotated at a bounded size, and a slog handler that
// fans records out to the console and to it.

package launch

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
)

// Fanout is a slog.Handler that passes each record to every handler that
// takes its level.
type Fanout []slog.Handler

func (f Fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f Fanout) Handle(ctx context.Context, r slog.Record) error {
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

func (f Fanout) WithAttrs(attrs []slog.Attr) slog.Handler {
	out := make(Fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(attrs)
	}
	return out
}

func (f Fanout) WithGroup(name string) slog.Handler {
	out := make(Fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// Rotator is an append-only log file that, past max bytes, is renamed to
// NAME.1.log (older ones shift up) and started anew; at most files files
// are kept. It is safe for concurrent use.
type Rotator struct {
	mu    sync.Mutex
	path  string
	max   int64
	files int
	f     *os.File
	size  int64
}

// OpenRotator opens (appending) or creates the log file path, rotated past
// limit bytes (0: never) and kept in at most files files.
func OpenRotator(path string, limit int64, files int) (*Rotator, error) {
	r := &Rotator{path: path, max: limit, files: max(files, 1)}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Rotator) open() error {
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

// Write appends p, rotating first when p would take the file past its
// limit.
func (r *Rotator) Write(p []byte) (int, error) {
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
func (r *Rotator) rotate() error {
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
func (r *Rotator) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}
