// This file defines the engines' files module: reading under data_dir and
// writing under out_dir (package files), from the daemon's Config.

package engine

import (
	"go.starlark.net/starlarkstruct"

	"github.com/pirun-dev/pirun/starlib/files"
)

// DefaultMaxOutBytes bounds the size of out_dir when Config.MaxOutBytes is
// 0: 1 GiB. A negative MaxOutBytes means no bound.
const DefaultMaxOutBytes = 1 << 30

// newFiles returns the files module of cfg's engines: reading under
// DataDir, writing under OutDir (DataDir when empty, as in the embedded
// default where both are the script's folder), bounded by MaxOutBytes
// (negative: no bound).
func newFiles(cfg Config) (*starlarkstruct.Module, error) {
	out := cfg.OutDir
	if out == "" {
		out = cfg.DataDir
	}
	quota := cfg.MaxOutBytes
	if quota == 0 {
		quota = DefaultMaxOutBytes
	}
	return files.New(files.Options{DataDir: cfg.DataDir, OutDir: out, MaxOutBytes: quota})
}
