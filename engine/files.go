// This file defines the `files` module: read-only access to the files
// under the daemon's data_dir, and nothing outside it.

package engine

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// maxFileRead bounds one read (a Starlark string holds it all in memory).
const maxFileRead = 1 << 30

// newFiles returns the files module reading under dir through an os.Root,
// which refuses paths that escape it (.., absolute paths, symlinks out).
// An empty dir gives a module whose every function explains how to set one.
//
//	files.read(path)        # string: the file's text
//	files.read_bytes(path)  # bytes: the file's content
//	files.lines(path)       # list of strings: the file's lines, without line ends
//	files.glob(pattern)     # sorted list of the paths matching pattern (path.Match syntax)
//	files.exists(path)      # bool: whether the path exists
//	files.read_array(path, delimiter=None, skiprows=0, usecols=None, dtype=None)
//	                        # num ndarray: a .npy file, or CSV/whitespace text (files_array.go)
//
// Paths are relative to data_dir and use forward slashes.
func newFiles(dir string) (*starlarkstruct.Module, error) {
	var root *os.Root
	if dir != "" {
		var err error
		if root, err = os.OpenRoot(dir); err != nil {
			return nil, fmt.Errorf("data_dir: %w", err)
		}
	}
	f := &filesImpl{root: root, dir: dir}
	return &starlarkstruct.Module{Name: "files", Members: starlark.StringDict{
		"read":       starlark.NewBuiltin("files.read", f.read),
		"read_bytes": starlark.NewBuiltin("files.read_bytes", f.readBytes),
		"lines":      starlark.NewBuiltin("files.lines", f.lines),
		"glob":       starlark.NewBuiltin("files.glob", f.glob),
		"exists":     starlark.NewBuiltin("files.exists", f.exists),
		"read_array": starlark.NewBuiltin("files.read_array", f.readArray),
	}}, nil
}

type filesImpl struct {
	root *os.Root
	dir  string
}

func (f *filesImpl) check(b *starlark.Builtin, p string) (string, error) {
	if f.root == nil {
		return "", fmt.Errorf("%s: this engine has no data_dir; set data_dir in the [engine] table of its config (pirun engine --config FILE)", b.Name())
	}
	clean := path.Clean(strings.TrimPrefix(p, "./"))
	if path.IsAbs(p) || clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("%s: %q is outside data_dir; use a path relative to data_dir (%s)", b.Name(), p, f.dir)
	}
	return clean, nil
}

func (f *filesImpl) readAll(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) ([]byte, error) {
	var p string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	return f.readFile(b, p)
}

// readFile returns the content of the file p under data_dir.
func (f *filesImpl) readFile(b *starlark.Builtin, p string) ([]byte, error) {
	clean, err := f.check(b, p)
	if err != nil {
		return nil, err
	}
	info, err := f.root.Stat(clean)
	if err == nil && info.Size() > maxFileRead {
		return nil, fmt.Errorf("%s: %q is %d bytes, more than the %d a read may take", b.Name(), p, info.Size(), maxFileRead)
	}
	data, err := f.root.ReadFile(clean)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), f.explain(err))
	}
	return data, nil
}

// explain strips the host path from errors so engines report data_dir paths.
func (f *filesImpl) explain(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s %q: %v (under data_dir %s)", pe.Op, pe.Path, pe.Err, f.dir)
	}
	return err
}

func (f *filesImpl) read(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	data, err := f.readAll(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.String(data), nil
}

func (f *filesImpl) readBytes(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	data, err := f.readAll(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.Bytes(data), nil
}

func (f *filesImpl) lines(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	data, err := f.readAll(b, args, kwargs)
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

func (f *filesImpl) glob(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pattern string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &pattern); err != nil {
		return nil, err
	}
	clean, err := f.check(b, pattern)
	if err != nil {
		return nil, err
	}
	matches, err := fs.Glob(f.root.FS(), clean)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	slices.Sort(matches)
	out := make([]starlark.Value, len(matches))
	for i, m := range matches {
		out[i] = starlark.String(m)
	}
	return starlark.NewList(out), nil
}

func (f *filesImpl) exists(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &p); err != nil {
		return nil, err
	}
	clean, err := f.check(b, p)
	if err != nil {
		return nil, err
	}
	_, err = f.root.Stat(clean)
	return starlark.Bool(err == nil), nil
}
