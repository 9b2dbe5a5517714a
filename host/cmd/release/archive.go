// This file defines the tarballs: pirun_VERSION_linux_ARCH.tar.gz with one
// folder holding pirun, README.md, LICENSE, pirun-engine.service and the
// man page pirun.1, every entry owned by 0:0, timed at the release's
// epoch and in sorted order.

package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pirun-dev/pirun/host/launch"
)

// entry is one file of an archive.
type entry struct {
	name string // a path inside the archive; a folder ends with '/'
	mode int64
	data []byte
}

// tarball writes t's tarball and returns its name.
func (r *release) tarball(t target, bin string) (string, error) {
	name := fmt.Sprintf("pirun_%s_linux_%s", r.version, t.name)
	files, err := r.docs("README.md", "LICENSE")
	if err != nil {
		return "", err
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return "", err
	}
	unit, err := launch.PackageFile("pirun-engine.service")
	if err != nil {
		return "", err
	}
	entries := []entry{
		{name: name + "/", mode: 0o755},
		{name: name + "/pirun", mode: 0o755, data: binary},
		{name: name + "/README.md", mode: 0o644, data: files[0]},
		{name: name + "/LICENSE", mode: 0o644, data: files[1]},
		{name: name + "/pirun-engine.service", mode: 0o644, data: unit},
		{name: name + "/pirun.1", mode: 0o644, data: r.man},
	}
	data, err := r.targz(entries)
	if err != nil {
		return "", fmt.Errorf("tarball %s: %w", name, err)
	}
	return name + ".tar.gz", os.WriteFile(filepath.Join(r.out, name+".tar.gz"), data, 0o644)
}

// docs reads files of the repository root.
func (r *release) docs(names ...string) ([][]byte, error) {
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(r.repo, n))
		if err != nil {
			return nil, fmt.Errorf("read %s of the repository: %w", n, err)
		}
		out = append(out, b)
	}
	return out, nil
}

// targz returns a gzipped tar of entries, sorted by name.
func (r *release) targz(entries []entry) ([]byte, error) {
	entries = slices.Clone(entries)
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, ModTime: r.epoch, Format: tar.FormatUSTAR,
			Typeflag: tar.TypeReg, Size: int64(len(e.data))}
		if strings.HasSuffix(e.name, "/") {
			h.Typeflag, h.Size = tar.TypeDir, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// gz returns data gzipped without a name or time in the header (gzip -9n).
func gz(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(data); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
