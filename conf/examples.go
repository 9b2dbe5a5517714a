// This file defines the commented example files, embedded so that
// `pirun profile create` writes, and the tests decode, the same bytes.

package conf

import (
	"bytes"
	_ "embed" // for the examples
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The embedded examples; never modified, and handed out only as copies.
var (
	//go:embed examples/pirun.toml
	examplePirun []byte
	//go:embed examples/engine.toml
	exampleEngine []byte
)

// ExampleProfile returns a fresh copy of the commented example pirun.toml:
// every key at its default, and two example [[hosts]] commented out. It is
// safe for concurrent use.
func ExampleProfile() []byte { return bytes.Clone(examplePirun) }

// ExampleEngine returns a fresh copy of the commented example standalone
// engine configuration for `pirun engine --config FILE`. It is safe for
// concurrent use.
func ExampleEngine() []byte { return bytes.Clone(exampleEngine) }

// WriteExampleProfile writes [ExampleProfile] as dir/pirun.toml, creating
// dir when missing. It never overwrites: when pirun.toml exists it returns
// an error that says so, for which errors.Is(err, fs.ErrExist) holds. Use
// [EnsureDirs] for the rest of the profile's folders. It is safe for
// concurrent use.
func WriteExampleProfile(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	path := filepath.Join(dir, "pirun.toml")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create profile: %s already exists; edit it, or remove it to start again: %w", path, fs.ErrExist)
	}
	if err != nil {
		return fmt.Errorf("create profile: %w", err)
	}
	_, err = f.Write(examplePirun)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path) // a partial example would not load
		return fmt.Errorf("create profile: %w", err)
	}
	return nil
}
