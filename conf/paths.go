// This file defines where a profile lives and the layout of its folder.

package conf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// DefaultProfileName is the profile used when none is named.
const DefaultProfileName = "default"

// CheckProfileName returns an error unless name can name a profile folder:
// 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'.
// It is safe for concurrent use.
func CheckProfileName(name string) error {
	ok := name != "" && len(name) <= 64 && name[0] != '.' && name[0] != '-'
	for _, r := range name {
		ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '-')
	}
	if !ok {
		return fmt.Errorf("profile name %q: use 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'", name)
	}
	return nil
}

// CheckEngineName returns an error unless name can name an engine
// credential (security/engines/NAME.toml): 1 to 64 letters, digits, '_'
// or '-', not starting with '-'. It is safe for concurrent use.
func CheckEngineName(name string) error {
	ok := name != "" && len(name) <= 64 && name[0] != '-'
	for _, r := range name {
		ok = ok && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-')
	}
	if !ok {
		return fmt.Errorf("engine name %q: use 1 to 64 letters, digits, '_' or '-', not starting with '-' (e.g. the machine's host name)", name)
	}
	return nil
}

// EngineConnOf returns the connection file of the named engine credential
// name (see [CheckEngineName]) in the profile paths p.
func (p ProfilePaths) EngineConnOf(name string) string {
	return filepath.Join(p.Engines, name+".toml")
}

// ProfileDir returns the folder of the profile name: $PIRUN_DIR/NAME, else
// $XDG_CONFIG_HOME/pirun/NAME (when absolute, as the XDG spec requires),
// else $HOME/.config/pirun/NAME. getenv is os.Getenv in main. It checks
// the name (see [CheckProfileName]) and creates nothing. It is safe for
// concurrent use.
func ProfileDir(name string, getenv func(string) string) (string, error) {
	if err := CheckProfileName(name); err != nil {
		return "", err
	}
	if d := getenv("PIRUN_DIR"); d != "" {
		return filepath.Join(d, name), nil
	}
	if d := getenv("XDG_CONFIG_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "pirun", name), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".config", "pirun", name), nil
	}
	return "", errors.New("profile folder: none of PIRUN_DIR, XDG_CONFIG_HOME or HOME is set; set PIRUN_DIR to the folder that holds your profiles")
}

// ProfilePaths is the layout of one profile folder. It is plain data.
type ProfilePaths struct {
	Dir        string // the profile folder
	Config     string // pirun.toml
	Security   string // security/, mode 0700
	ClientConn string // security/client-connection.toml
	EngineConn string // security/engine-connection.toml
	HubSecrets string // security/hub.toml: the hub's identity and role passwords
	Engines    string // security/engines/: one connection file per named engine credential
	Log        string // log/
	Out        string // out/: the engines' default out_dir, where files.write writes
	State      string // state/, mode 0700: cluster processes, hub registry
	Registry   string // state/registry.json: engine ids the hub has given out
	Cluster    string // state/cluster.json: the processes `pirun cluster start` started
}

// Paths returns the layout of the profile folder dir. It touches nothing.
func Paths(dir string) ProfilePaths {
	sec := filepath.Join(dir, "security")
	return ProfilePaths{
		Dir:        dir,
		Config:     filepath.Join(dir, "pirun.toml"),
		Security:   sec,
		ClientConn: filepath.Join(sec, "client-connection.toml"),
		EngineConn: filepath.Join(sec, "engine-connection.toml"),
		HubSecrets: filepath.Join(sec, "hub.toml"),
		Engines:    filepath.Join(sec, "engines"),
		Log:        filepath.Join(dir, "log"),
		Out:        filepath.Join(dir, "out"),
		State:      filepath.Join(dir, "state"),
		Registry:   filepath.Join(dir, "state", "registry.json"),
		Cluster:    filepath.Join(dir, "state", "cluster.json"),
	}
}

// EnsureDirs creates the profile's folders that are missing: Dir and Log
// with mode 0755, Security and State with mode 0700. When Security or State
// exists with a mode open to other users, it sets 0700 and says so in the
// returned warnings. It is safe for concurrent use.
func EnsureDirs(p ProfilePaths) (warnings []string, err error) {
	for _, d := range []struct {
		path    string
		private bool
	}{{p.Dir, false}, {p.Log, false}, {p.State, true}, {p.Security, true}} {
		w, err := ensureDir(d.path, d.private)
		if err != nil {
			return warnings, err
		}
		warnings = append(warnings, w...)
	}
	return warnings, nil
}

// ensureDir creates one folder; a private one gets, or is fixed to, 0700.
func ensureDir(path string, private bool) ([]string, error) {
	mode := os.FileMode(0o755)
	if private {
		mode = 0o700
	}
	if err := os.MkdirAll(path, mode); err != nil {
		return nil, fmt.Errorf("create profile folder: %w", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("create profile folder: %w", err)
	}
	if !private || fi.Mode().Perm()&0o077 == 0 || runtime.GOOS == "windows" {
		return nil, nil
	}
	if err := os.Chmod(path, 0o700); err != nil {
		return nil, fmt.Errorf("protect profile folder: %w", err)
	}
	return []string{fmt.Sprintf("%s had mode %04o, open to other users; set it to 0700", path, fi.Mode().Perm())}, nil
}
