// This file defines the reading functions: read, read_bytes, lines, glob,
// exists and listdir.

package files

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"go.starlark.net/starlark"
)

// maxFileRead bounds one read (a Starlark string holds it all in memory).
const maxFileRead = 1 << 30

// kindOf names a file's type for messages.
func kindOf(mode fs.FileMode) string {
	switch {
	case mode.IsDir():
		return "a folder"
	case mode&fs.ModeSymlink != 0:
		return "a symbolic link"
	case mode&fs.ModeDevice != 0:
		return "a device"
	case mode&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case mode&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file"
}

// notRegular is the error for a path that is not a regular file.
func (l *loc) notRegular(p string, mode fs.FileMode) error {
	return fmt.Errorf("%q is %s (under %s %s); files reads and writes regular files only", p, kindOf(mode), l.key, l.dir)
}

// openRegular opens clean with flag, never blocking on a FIFO, and
// returns it only if what was opened is a regular file (checked on the
// open file, so a name swapped meanwhile cannot fool it).
func (l *loc) openRegular(p, clean string, flag int, perm fs.FileMode) (*os.File, fs.FileInfo, error) {
	if info, err := l.fsys.Stat(clean); err == nil && !info.Mode().IsRegular() {
		return nil, nil, l.notRegular(p, info.Mode())
	}
	f, err := l.fsys.OpenFile(clean, flag|syscall.O_NONBLOCK, perm)
	if err != nil {
		return nil, nil, l.explain(p, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, l.explain(p, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, nil, l.notRegular(p, info.Mode())
	}
	return f, info, nil
}

// readFile returns the content of the file p in the read folder.
func (m *module) readFile(th *starlark.Thread, b *starlark.Builtin, p string) ([]byte, error) {
	l, clean, err := at(th, b, m.read, p)
	if err != nil {
		return nil, err
	}
	f, info, err := l.openRegular(p, clean, os.O_RDONLY, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	defer f.Close()
	if info.Size() > maxFileRead {
		return nil, fmt.Errorf("%s: %q is %d bytes, more than the %d a read may take", b.Name(), p, info.Size(), maxFileRead)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileRead+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
	}
	if len(data) > maxFileRead {
		return nil, fmt.Errorf("%s: %q grew past the %d bytes a read may take", b.Name(), p, maxFileRead)
	}
	return data, nil
}

func (m *module) readAll(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) ([]byte, error) {
	var p string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	return m.readFile(th, b, p)
}

func (m *module) readText(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	data, err := m.readAll(th, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.String(data), nil
}

func (m *module) readBytes(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	data, err := m.readAll(th, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.Bytes(data), nil
}

func (m *module) lines(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	data, err := m.readAll(th, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" {
		return starlark.NewList(nil), nil
	}
	parts := strings.Split(text, "\n")
	out := make([]starlark.Value, len(parts))
	for i, s := range parts {
		out[i] = starlark.String(strings.TrimSuffix(s, "\r"))
	}
	return starlark.NewList(out), nil
}

func (m *module) glob(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &pattern); err != nil {
		return nil, err
	}
	l, clean, err := at(th, b, m.read, pattern)
	if err != nil {
		return nil, err
	}
	var matches []string
	if slash := filepath.ToSlash(clean); fs.ValidPath(slash) {
		matches, err = fs.Glob(l.fsys.FS(), slash)
	} else { // the host: an absolute pattern or one with ..
		matches, err = filepath.Glob(hostDir(l.dir).path(clean))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %q: %w", b.Name(), pattern, err)
	}
	matches = slices.DeleteFunc(matches, isTemp)
	slices.Sort(matches)
	return stringList(matches), nil
}

func (m *module) exists(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	l, clean, err := at(th, b, m.read, p)
	if err != nil {
		return nil, err
	}
	_, err = l.fsys.Stat(clean)
	return starlark.Bool(err == nil), nil
}

// listdir is files.listdir:
//
//	def listdir(path="."):
//	    """Returns the sorted names in the folder path (as os.listdir)."""
func (m *module) listdir(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	p := "."
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &p); err != nil {
		return nil, err
	}
	l, clean, err := at(th, b, m.read, p)
	if err != nil {
		return nil, err
	}
	f, err := l.fsys.OpenFile(clean, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
	}
	defer f.Close()
	if info, err := f.Stat(); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("%s: %q is not a folder (under %s %s)", b.Name(), p, l.key, l.dir)
	}
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
	}
	names = slices.DeleteFunc(names, isTemp)
	slices.Sort(names)
	return stringList(names), nil
}

func stringList(s []string) *starlark.List {
	out := make([]starlark.Value, len(s))
	for i, v := range s {
		out[i] = starlark.String(v)
	}
	return starlark.NewList(out)
}
