// This file defines how a command opens its profile: the folder, its
// pirun.toml and PIRUN_* variables.

package cluster

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/pirun-dev/pirun/conf"
)

// ProfileName is the name of the profile in use: name, else
// $PIRUN_PROFILE, else default.
func ProfileName(name string, getenv func(string) string) string {
	if name == "" {
		name = getenv("PIRUN_PROFILE")
	}
	if name == "" {
		name = conf.DefaultProfileName
	}
	return name
}

// OpenProfile returns the paths and settings of profile name (see
// [ProfileName]), creating its folders; warnings about them go to warn.
func OpenProfile(name string, getenv func(string) string, warn io.Writer) (conf.ProfilePaths, conf.Profile, error) {
	dir, err := conf.ProfileDir(ProfileName(name, getenv), getenv)
	if err != nil {
		return conf.ProfilePaths{}, conf.Profile{}, err
	}
	paths := conf.Paths(dir)
	warnings, err := conf.EnsureDirs(paths)
	if err != nil {
		return paths, conf.Profile{}, err
	}
	for _, w := range warnings {
		fmt.Fprintf(warn, "pirun: warning: %s\n", w)
	}
	prof, err := conf.LoadProfile(paths.Config)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return paths, prof, err
	}
	if err := prof.ApplyEnv(getenv); err != nil {
		return paths, prof, err
	}
	return paths, prof, nil
}
