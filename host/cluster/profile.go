// This file defines how a command opens its profile (the folder, its
// pirun.toml and PIRUN_* variables), and `pirun profile`: create, locate
// and list profiles.

package cluster

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

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

// CreateProfile makes the folder of profile name with the commented
// example pirun.toml, and says on w what to do next.
func CreateProfile(w io.Writer, getenv func(string) string, name string) error {
	dir, err := conf.ProfileDir(name, getenv)
	if err != nil {
		return err
	}
	if err := conf.WriteExampleProfile(dir); err != nil {
		return err
	}
	if _, err := conf.EnsureDirs(conf.Paths(dir)); err != nil {
		return err
	}
	fmt.Fprintf(w, "created profile %s: %s\n", name, dir)
	fmt.Fprintf(w, "edit %s, then run: pirun hub --profile %s\n", filepath.Join(dir, "pirun.toml"), name)
	return nil
}

// LocateProfile prints the folder of the profile args names (at most
// one), else of $PIRUN_PROFILE, else of the default profile.
func LocateProfile(w io.Writer, getenv func(string) string, args []string) error {
	name := ProfileName("", getenv)
	if len(args) == 1 {
		name = args[0]
	}
	dir, err := conf.ProfileDir(name, getenv)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, dir)
	return nil
}

// ListProfiles prints the profiles and their folders.
func ListProfiles(w io.Writer, getenv func(string) string) error {
	dir, err := conf.ProfileDir(conf.DefaultProfileName, getenv)
	if err != nil {
		return err
	}
	root := filepath.Dir(dir)
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	n := 0
	for _, ent := range entries {
		if ent.IsDir() && conf.CheckProfileName(ent.Name()) == nil {
			fmt.Fprintf(w, "%s\t%s\n", ent.Name(), filepath.Join(root, ent.Name()))
			n++
		}
	}
	if n == 0 {
		fmt.Fprintf(w, "no profiles in %s; make one with: pirun profile create NAME\n", root)
	}
	return nil
}

// REPLHistory returns the REPL's history file, kept in the session's
// profile. Without a profile named, one that cannot be opened only costs
// the history (a warning on stderr).
func REPLHistory(stderr io.Writer, getenv func(string) string, profile string) (string, error) {
	paths, _, err := OpenProfile(profile, getenv, stderr)
	switch {
	case err != nil && profile != "":
		return "", err
	case err != nil:
		fmt.Fprintf(stderr, "pirun repl: warning: no line history: %v\n", err)
		return "", nil
	}
	return filepath.Join(paths.State, "repl_history"), nil
}
