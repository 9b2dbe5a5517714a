// This file defines loading: read a file, decode it strictly over the
// defaults, resolve relative paths, validate, and report every problem.

package conf

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// LoadProfile reads a pirun.toml. Keys it leaves out keep their defaults;
// relative paths resolve against the file's folder. Every problem (syntax,
// unknown keys, wrong types, invalid values) comes back in one [*Error].
//
// A missing file is not a problem of its contents: LoadProfile then returns
// [DefaultProfile] with an error for which errors.Is(err, fs.ErrNotExist)
// holds, so a caller that accepts a missing file tests for that and goes on
// with the defaults. It is safe for concurrent use.
func LoadProfile(path string) (Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return DefaultProfile(), fmt.Errorf("load profile: %w", err)
	}
	return parseProfile(path, data)
}

// parseProfile decodes and validates the text of a pirun.toml.
func parseProfile(path string, data []byte) (Profile, error) {
	p := DefaultProfile()
	lines, probs := decodeStrict(data, &p)
	if lines != nil { // no syntax error
		probs = merge(probs, p.problems(), lines) // on the values as written
		p.resolve(baseDir(path))
	}
	return p, errorOf(path, probs)
}

// engineFile is a file read by LoadEngine: an [engine] table, beside which
// the other tables of a pirun.toml are allowed and ignored.
type engineFile struct {
	Engine  Engine         `toml:"engine"`
	Hub     toml.Primitive `toml:"hub"`
	Cluster toml.Primitive `toml:"cluster"`
	Hosts   toml.Primitive `toml:"hosts"`
	Log     toml.Primitive `toml:"log"`
}

// LoadEngine reads the [engine] table of a file: a standalone engine
// configuration or a pirun.toml. The other tables of a pirun.toml are
// allowed there and ignored; any other top-level key is an error. Keys left
// out keep their defaults; relative paths resolve against the file's
// folder. Errors are reported as by [LoadProfile], and a missing file gives
// [DefaultEngine] with an error for which errors.Is(err, fs.ErrNotExist)
// holds. It is safe for concurrent use.
func LoadEngine(path string) (Engine, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return DefaultEngine(), fmt.Errorf("load engine configuration: %w", err)
	}
	return parseEngine(path, data)
}

// parseEngine decodes and validates the [engine] table of a file's text.
func parseEngine(path string, data []byte) (Engine, error) {
	f := engineFile{Engine: DefaultEngine()}
	lines, probs := decodeStrict(data, &f)
	if lines != nil {
		probs = hintEngineKeys(probs)
		probs = merge(probs, f.Engine.problems("engine"), lines)
		f.Engine.resolve(baseDir(path))
	}
	return f.Engine, errorOf(path, probs)
}

// hintEngineKeys rewrites the message of an unknown top-level key that is
// an engine setting: it belongs in the [engine] table.
func hintEngineKeys(probs []Problem) []Problem {
	known := fieldsOf(reflect.TypeFor[Engine]()).index
	for i, p := range probs {
		if _, ok := known[p.Key]; ok {
			probs[i].Msg = fmt.Sprintf("unknown key at the top level; %q is an engine setting: put it under an [engine] table", p.Key)
		}
	}
	return probs
}

// resolve makes the profile's local paths absolute against dir.
func (p *Profile) resolve(dir string) {
	p.Engine.resolve(dir)
	for _, f := range []*string{&p.Hub.TLSCert, &p.Hub.TLSKey, &p.Hub.TLSCA} {
		*f = resolvePath(dir, *f)
	}
}

// resolve makes the engine's local paths absolute against dir; a connect
// URL stays as it is.
func (e *Engine) resolve(dir string) {
	if !strings.Contains(e.Connect, "://") {
		e.Connect = resolvePath(dir, e.Connect)
	}
	e.DataDir = resolvePath(dir, e.DataDir)
	e.OutDir = resolvePath(dir, e.OutDir)
	for i, f := range e.Preload {
		e.Preload[i] = resolvePath(dir, f)
	}
}

// resolvePath returns p made absolute: "~/x" against the home folder, a
// relative path against dir. "" stays "".
func resolvePath(dir, p string) string {
	switch {
	case p == "" || filepath.IsAbs(p):
		return p
	case p == "~" || strings.HasPrefix(p, "~/"):
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, p[1:])
		}
		return p
	}
	return filepath.Join(dir, p)
}

// baseDir returns the absolute folder of a file path.
func baseDir(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return filepath.Dir(path)
}

// merge appends the validation problems to the decoding ones, leaving out
// keys already reported, gives each the line of its key (or of its table)
// in the file, and sorts them by line.
func merge(decoded, invalid []Problem, lines *keyLines) []Problem {
	seen := map[string]bool{}
	for _, p := range decoded {
		seen[p.Key] = true
	}
	for _, p := range invalid {
		if !seen[p.Key] {
			decoded = append(decoded, p)
		}
	}
	return lines.place(decoded)
}
