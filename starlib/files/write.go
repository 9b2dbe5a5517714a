// This file defines the writing functions: write, append, remove and
// makedirs, atomic and counted against the quota.

package files

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"go.starlark.net/starlark"
)

// tmpPrefix and tmpSuffix frame the temporary files of writes in
// progress; listdir and glob do not show them.
const (
	tmpPrefix = ".pirun-"
	tmpSuffix = ".tmp"
)

// isTemp reports whether name is a write's temporary file.
func isTemp(name string) bool {
	base := filepath.Base(name)
	return strings.HasPrefix(base, tmpPrefix) && strings.HasSuffix(base, tmpSuffix)
}

// dataArg returns the bytes of a string or bytes value.
func dataArg(b *starlark.Builtin, v starlark.Value) ([]byte, error) {
	switch v := v.(type) {
	case starlark.String:
		return []byte(v), nil
	case starlark.Bytes:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("%s: data is a %s; want a string or bytes (str(x) or json.encode(x) makes one; files.write_array writes a num array)", b.Name(), v.Type())
}

// writeText is files.write:
//
//	def write(path, data):
//	    """Replaces the file path with data (a string or bytes), atomically."""
func (m *module) writeText(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p, "data", &v); err != nil {
		return nil, err
	}
	data, err := dataArg(b, v)
	if err != nil {
		return nil, err
	}
	return starlark.None, m.writeFile(th, b, p, data)
}

// appendText is files.append:
//
//	def append(path, data):
//	    """Adds data (a string or bytes) at the end of the file path,
//	    creating it if missing. The data goes in one write; if that
//	    fails, the file is cut back to what it was."""
func (m *module) appendText(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p, "data", &v); err != nil {
		return nil, err
	}
	data, err := dataArg(b, v)
	if err != nil {
		return nil, err
	}
	l, clean, err := m.target(th, b, p)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.fits(b, l, p, int64(len(data)), 0); err != nil {
		return nil, err
	}
	_, lerr := l.fsys.Lstat(clean)
	created := errors.Is(lerr, fs.ErrNotExist)
	f, info, err := l.openRegular(p, clean, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), l.parentHint(p, clean, err))
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Truncate(info.Size()) // the old content, as far as the disk lets us
		f.Close()
		if created {
			l.fsys.Remove(clean) // an empty file the failed append made
		}
		return nil, fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
	}
	m.used += int64(len(data))
	return starlark.None, nil
}

// target resolves p in the written folder, refusing the folder itself.
func (m *module) target(th *starlark.Thread, b *starlark.Builtin, p string) (*loc, string, error) {
	l, clean, err := at(th, b, m.write, p)
	if err != nil {
		return nil, "", err
	}
	if clean == "." {
		return nil, "", fmt.Errorf("%s: %q is %s itself; name a file in it", b.Name(), p, l.key)
	}
	if isTemp(clean) {
		return nil, "", fmt.Errorf("%s: %q is a name pirun uses for writes in progress (%s*%s); pick another name", b.Name(), p, tmpPrefix, tmpSuffix)
	}
	return l, clean, nil
}

// fits reports whether adding n bytes in place of old ones keeps the
// written folder within the quota. The caller holds m.mu.
func (m *module) fits(b *starlark.Builtin, l *loc, p string, n, old int64) error {
	if m.max <= 0 || m.used+n-old <= m.max {
		return nil
	}
	return fmt.Errorf("%s: writing %d bytes to %q would take %s past its max_out_bytes of %d bytes (%d bytes in it now); write less, remove files with files.remove, or raise [engine] max_out_bytes", b.Name(), n, p, l.key, m.max, m.used)
}

// parentHint explains a missing parent folder, else err as l.explain does.
func (l *loc) parentHint(p, clean string, err error) error {
	dir := filepath.Dir(clean)
	if errors.Is(err, fs.ErrNotExist) && dir != "." {
		if _, serr := l.fsys.Stat(dir); errors.Is(serr, fs.ErrNotExist) {
			return fmt.Errorf("%q: its folder %q does not exist (under %s %s); create it first with files.makedirs(%q, exist_ok=True)", p, filepath.ToSlash(dir), l.key, l.dir, filepath.ToSlash(dir))
		}
	}
	var pe *pathError
	if errors.As(err, &pe) {
		return err
	}
	return l.explain(p, err)
}

// writeFile replaces p with data: a temporary file in the same folder,
// synced, renamed over p, and the folder synced.
func (m *module) writeFile(th *starlark.Thread, b *starlark.Builtin, p string, data []byte) error {
	l, clean, err := m.target(th, b, p)
	if err != nil {
		return err
	}
	n := int64(len(data))
	m.mu.Lock()
	err = m.fits(b, l, p, n, m.oldSize(l, clean))
	if err == nil {
		m.used += n // reserved for the temporary file, so that concurrent writes see it
	}
	m.mu.Unlock()
	if err != nil { // before writing anything, when it cannot fit anyway
		return err
	}
	tmp, err := l.writeTemp(p, clean, data)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.used -= n // the reservation ends; the rename below counts the write
	if err != nil {
		return fmt.Errorf("%s: %w", b.Name(), err)
	}
	err = l.replaceable(p, clean)
	if err == nil {
		err = m.fits(b, l, p, n, m.oldSize(l, clean))
	}
	if err == nil {
		err = l.fsys.Rename(tmp, clean)
		if err != nil {
			err = fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
		}
	}
	if err != nil {
		l.fsys.Remove(tmp)
		return err
	}
	m.used += n - m.replaced
	l.syncDir(filepath.Dir(clean))
	return nil
}

// oldSize returns the size of the regular file clean, 0 if there is none,
// and keeps it in m.replaced. The caller holds m.mu.
func (m *module) oldSize(l *loc, clean string) int64 {
	m.replaced = 0
	if info, err := l.fsys.Lstat(clean); err == nil && info.Mode().IsRegular() {
		m.replaced = info.Size()
	}
	return m.replaced
}

// replaceable reports whether a write may rename over clean: nothing, a
// regular file or a symbolic link (replaced, not followed) is there.
func (l *loc) replaceable(p, clean string) error {
	info, err := l.fsys.Lstat(clean)
	if err != nil {
		return nil
	}
	mode := info.Mode()
	if mode.IsRegular() || mode&fs.ModeSymlink != 0 {
		return nil
	}
	return l.notRegular(p, mode)
}

// writeTemp writes data to a new temporary file beside clean, synced, and
// returns its name.
func (l *loc) writeTemp(p, clean string, data []byte) (string, error) {
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(clean), tmpPrefix+hex.EncodeToString(rnd[:])+tmpSuffix)
	if l.jailed {
		tmp = filepath.ToSlash(tmp)
	}
	f, err := l.fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", l.parentHint(p, clean, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		l.fsys.Remove(tmp)
		return "", l.explain(p, err)
	}
	return tmp, nil
}

// syncDir syncs the folder dir, so that a rename in it survives a crash.
// It is best effort: some file systems cannot sync a folder.
func (l *loc) syncDir(dir string) {
	if l.jailed {
		dir = filepath.ToSlash(dir)
	}
	if f, err := l.fsys.OpenFile(dir, os.O_RDONLY, 0); err == nil {
		f.Sync()
		f.Close()
	}
}

// remove is files.remove:
//
//	def remove(path, missing_ok=False):
//	    """Removes the file path, or the empty folder path. A missing
//	    path is an error unless missing_ok."""
func (m *module) remove(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	var missingOK bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p, "missing_ok?", &missingOK); err != nil {
		return nil, err
	}
	l, clean, err := m.target(th, b, p)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	info, err := l.fsys.Lstat(clean)
	if err != nil {
		if missingOK && errors.Is(err, fs.ErrNotExist) {
			return starlark.None, nil
		}
		return nil, fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
	}
	mode := info.Mode()
	if !mode.IsRegular() && !mode.IsDir() && mode&fs.ModeSymlink == 0 {
		return nil, fmt.Errorf("%s: %w", b.Name(), l.notRegular(p, mode))
	}
	if err := l.fsys.Remove(clean); err != nil {
		if mode.IsDir() && (errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST)) {
			return nil, fmt.Errorf("%s: %q is a folder that is not empty (under %s %s); remove its files first", b.Name(), p, l.key, l.dir)
		}
		return nil, fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
	}
	if mode.IsRegular() {
		m.used = max(m.used-info.Size(), 0) // the host may have removed files too
	}
	l.syncDir(filepath.Dir(clean))
	return starlark.None, nil
}

// makedirs is files.makedirs:
//
//	def makedirs(path, exist_ok=False):
//	    """Creates the folder path and its missing parents (os.makedirs).
//	    An existing folder is an error unless exist_ok."""
func (m *module) makedirs(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var p string
	var existOK bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "path", &p, "exist_ok?", &existOK); err != nil {
		return nil, err
	}
	l, clean, err := at(th, b, m.write, p)
	if err != nil {
		return nil, err
	}
	if info, err := l.fsys.Stat(clean); err == nil {
		switch {
		case !info.IsDir():
			return nil, fmt.Errorf("%s: %q exists and is not a folder (under %s %s)", b.Name(), p, l.key, l.dir)
		case !existOK:
			return nil, fmt.Errorf("%s: %q already exists (under %s %s); pass exist_ok=True to accept an existing folder", b.Name(), p, l.key, l.dir)
		}
		return starlark.None, nil
	}
	if err := l.fsys.MkdirAll(clean, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), l.explain(p, err))
	}
	return starlark.None, nil
}
