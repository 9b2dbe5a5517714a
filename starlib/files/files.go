// This file defines the module's construction: where paths resolve on an
// engine (two jailed roots) and on the host (a folder per thread), and the
// checks every path goes through.

package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Options configures an engine's module ([New]). It is plain data.
type Options struct {
	// DataDir is the folder the reading functions read; "" means none,
	// and they explain how to configure one.
	DataDir string
	// OutDir is the folder the writing functions write; "" means none.
	// It is created if missing.
	OutDir string
	// MaxOutBytes bounds the total size of OutDir's regular files, those
	// there before the module opened it included; the module refuses a
	// write past it. 0 or less means no bound.
	MaxOutBytes int64
}

// fsys is what the module needs of a folder: *os.Root (jailed) on
// engines, hostDir on the host.
type fsys interface {
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	Stat(name string) (fs.FileInfo, error)
	Lstat(name string) (fs.FileInfo, error)
	Rename(oldname, newname string) error
	Remove(name string) error
	MkdirAll(name string, perm fs.FileMode) error
	FS() fs.FS
}

// loc is a folder paths resolve in.
type loc struct {
	fsys   fsys
	key    string // what the folder is called: "data_dir", "out_dir", "the script's folder"
	dir    string // its path, for messages
	jailed bool   // refuse absolute paths and ..
}

// module implements the functions; one per engine daemon (its engines
// share it, so it is safe for concurrent use) or per host.
type module struct {
	read, write func(th *starlark.Thread) (*loc, error)

	// mu serializes the changes to the written folder: renames over
	// targets, appends, removals, and the quota's count.
	mu   sync.Mutex
	max  int64 // the quota; 0 = none
	used int64 // bytes in the written folder: found at New, plus writes (reserved while in progress), minus removals
	// replaced is the size of the file a write replaces (see oldSize).
	replaced int64
}

// New returns an engine's files module: reading under o.DataDir, writing
// under o.OutDir (created if missing), both jailed. The module is safe for
// concurrent use by the daemon's engines.
func New(o Options) (*starlarkstruct.Module, error) {
	m := &module{max: max(o.MaxOutBytes, 0)}
	data, err := openLoc(o.DataDir, "data_dir", false)
	if err != nil {
		return nil, err
	}
	out, err := openLoc(o.OutDir, "out_dir", true)
	if err != nil {
		return nil, err
	}
	if out != nil && m.max > 0 { // unbounded: nothing to count, and the folder may be big
		if m.used, err = out.sweep(time.Now().Add(-staleTemp)); err != nil {
			return nil, err
		}
	}
	m.read = fixedLoc(data, "data_dir")
	m.write = fixedLoc(out, "out_dir")
	return m.starlarkModule(), nil
}

// staleTemp is how old a write's temporary file must be for [New] to
// remove it: one left by a killed engine. A younger one may be another
// engine process's write in progress into the same folder.
const staleTemp = 5 * time.Minute

// sweep removes the temporary files of writes (see isTemp) last modified
// before stale, left by an engine killed while writing, and returns the
// total size of the regular files that remain under l, the quota's start.
func (l *loc) sweep(stale time.Time) (int64, error) {
	var total int64
	err := fs.WalkDir(l.fsys.FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if name == "." {
				return err
			}
			return nil // a folder this engine cannot read: it cannot list it either
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		if err != nil {
			return err
		}
		if isTemp(name) && info.ModTime().Before(stale) {
			if err := l.fsys.Remove(name); err == nil || errors.Is(err, fs.ErrNotExist) {
				return nil
			}
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("%s: counting its files for max_out_bytes: %w; check that this engine may read every folder under %s", l.key, err, l.dir)
	}
	return total, nil
}

// NewHost returns the host's files module: it reads and writes relative to
// dir(thread) (the script's folder; "" means the working directory), and
// allows absolute paths and "..": the host is the user's own machine.
// There is no quota. It is safe for concurrent use.
func NewHost(dir func(th *starlark.Thread) string) *starlarkstruct.Module {
	m := &module{}
	at := func(th *starlark.Thread) (*loc, error) {
		d := dir(th)
		if d == "" {
			d = "."
		}
		return &loc{fsys: hostDir(d), key: "the script's folder", dir: d}, nil
	}
	m.read, m.write = at, at
	return m.starlarkModule()
}

func (m *module) starlarkModule() *starlarkstruct.Module {
	return &starlarkstruct.Module{Name: "files", Members: starlark.StringDict{
		"read":        starlark.NewBuiltin("files.read", m.readText),
		"read_bytes":  starlark.NewBuiltin("files.read_bytes", m.readBytes),
		"lines":       starlark.NewBuiltin("files.lines", m.lines),
		"glob":        starlark.NewBuiltin("files.glob", m.glob),
		"exists":      starlark.NewBuiltin("files.exists", m.exists),
		"listdir":     starlark.NewBuiltin("files.listdir", m.listdir),
		"read_array":  starlark.NewBuiltin("files.read_array", m.readArray),
		"write":       starlark.NewBuiltin("files.write", m.writeText),
		"append":      starlark.NewBuiltin("files.append", m.appendText),
		"write_array": starlark.NewBuiltin("files.write_array", m.writeArray),
		"remove":      starlark.NewBuiltin("files.remove", m.remove),
		"makedirs":    starlark.NewBuiltin("files.makedirs", m.makedirs),
	}}
}

// openLoc opens dir as a jailed folder called key; "" gives nil.
func openLoc(dir, key string, create bool) (*loc, error) {
	if dir == "" {
		return nil, nil
	}
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("%s: %w; set [engine] %s to a folder this engine may create and write", key, err, key)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		how := "[engine] " + key + " (PIRUN_" + strings.ToUpper(key) + ")"
		if key == "data_dir" {
			how = "[engine] data_dir / PIRUN_DATA_DIR / --data-dir"
		}
		return nil, fmt.Errorf("%s: %w; set %s to an existing folder", key, err, how)
	}
	return &loc{fsys: root, key: key, dir: dir, jailed: true}, nil
}

// fixedLoc returns a resolver always giving l, or explaining how to set key.
func fixedLoc(l *loc, key string) func(*starlark.Thread) (*loc, error) {
	return func(*starlark.Thread) (*loc, error) {
		if l == nil {
			return nil, fmt.Errorf("this engine has no %s; set %s in the [engine] table of its config (pirun engine --config FILE)", key, key)
		}
		return l, nil
	}
}

// at resolves p for b in the folder that get gives: the cleaned path to
// pass to l.fsys.
func at(th *starlark.Thread, b *starlark.Builtin, get func(*starlark.Thread) (*loc, error), p string) (*loc, string, error) {
	l, err := get(th)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", b.Name(), err)
	}
	clean, err := l.check(p)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", b.Name(), err)
	}
	return l, clean, nil
}

// check cleans p, refusing on a jailed folder what would leave it.
func (l *loc) check(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("the path is empty; name a file relative to %s (%s)", l.key, l.dir)
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("%q contains a NUL byte", p)
	}
	if !l.jailed {
		return filepath.Clean(p), nil
	}
	clean := path.Clean(strings.ReplaceAll(p, "\\", "/"))
	if path.IsAbs(clean) || filepath.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%q is outside %s; use a path relative to %s (%s)", p, l.key, l.key, l.dir)
	}
	return clean, nil
}

// explain rewrites err for the user: an os error names the path as the
// user wrote it, the folder it is under, and, when useful, what to do.
func (l *loc) explain(p string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	cause := err
	switch {
	case errors.As(err, &pe):
		cause = pe.Err
	case errors.As(err, &le):
		cause = le.Err
	}
	msg := cause.Error()
	switch {
	case errors.Is(cause, fs.ErrNotExist):
		msg = "no such file or folder"
	case errors.Is(cause, fs.ErrPermission):
		msg = "permission denied"
	case l.jailed && strings.Contains(msg, "escapes"):
		msg = "it escapes " + l.key + " (a symbolic link leads out, or is absolute); engines read and write only under " + l.key
	}
	return &pathError{msg: fmt.Sprintf("%q: %s (under %s %s)", p, msg, l.key, l.dir), err: cause}
}

// pathError is an explained error about a path; it wraps the os error.
type pathError struct {
	msg string
	err error
}

func (e *pathError) Error() string { return e.msg }
func (e *pathError) Unwrap() error { return e.err }

// hostDir is a folder of the host: relative names join it, absolute ones
// stay as they are.
type hostDir string

func (d hostDir) path(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(string(d), name)
}

func (d hostDir) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(d.path(name), flag, perm)
}
func (d hostDir) Stat(name string) (fs.FileInfo, error)  { return os.Stat(d.path(name)) }
func (d hostDir) Lstat(name string) (fs.FileInfo, error) { return os.Lstat(d.path(name)) }
func (d hostDir) Rename(oldname, newname string) error {
	return os.Rename(d.path(oldname), d.path(newname))
}
func (d hostDir) Remove(name string) error { return os.Remove(d.path(name)) }
func (d hostDir) MkdirAll(name string, perm fs.FileMode) error {
	return os.MkdirAll(d.path(name), perm)
}
func (d hostDir) FS() fs.FS { return os.DirFS(string(d)) }
