// This file defines `pirun profile`: create a profile folder with the
// commented example pirun.toml, and list or locate profiles.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pirun-dev/pirun/conf"
)

func runProfile(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun profile", flag.ContinueOnError)
	if code, ok := parseFlags(e, fs, args, `Usage: pirun profile create NAME
       pirun profile locate [NAME]
       pirun profile list

create makes the folder of profile NAME ($PIRUN_DIR/NAME, else
$XDG_CONFIG_HOME/pirun/NAME, else ~/.config/pirun/NAME) with security/,
state/ and log/, and a commented pirun.toml where every key is at its
default. locate prints a profile's folder; list names the profiles there.
`,
		`  pirun profile create lab && $EDITOR "$(pirun profile locate lab)/pirun.toml"
  pirun hub --profile lab
`); !ok {
		return code
	}
	rest := fs.Args()
	switch {
	case len(rest) == 2 && rest[0] == "create":
		return profileCreate(e, rest[1])
	case len(rest) <= 2 && len(rest) >= 1 && rest[0] == "locate":
		return profileLocate(e, rest[1:])
	case len(rest) == 1 && rest[0] == "list":
		return profileList(e)
	}
	fmt.Fprintf(e.stderr, "pirun profile: expected create NAME, locate [NAME] or list, got %q\nRun 'pirun profile --help' for usage.\n", rest)
	return exitUsage
}

func profileCreate(e *env, name string) int {
	dir, err := conf.ProfileDir(name, e.getenv)
	if err != nil {
		return reportAs(e, "pirun profile", &configError{Err: err})
	}
	if err := conf.WriteExampleProfile(dir); err != nil {
		return reportAs(e, "pirun profile", &configError{Err: err})
	}
	if _, err := conf.EnsureDirs(conf.Paths(dir)); err != nil {
		return reportAs(e, "pirun profile", &configError{Err: err})
	}
	fmt.Fprintf(e.stdout, "created profile %s: %s\n", name, dir)
	fmt.Fprintf(e.stdout, "edit %s, then run: pirun hub --profile %s\n", filepath.Join(dir, "pirun.toml"), name)
	return exitOK
}

func profileLocate(e *env, args []string) int {
	name := conf.DefaultProfileName
	if len(args) == 1 {
		name = args[0]
	} else if p := e.getenv("PIRUN_PROFILE"); p != "" {
		name = p
	}
	dir, err := conf.ProfileDir(name, e.getenv)
	if err != nil {
		return reportAs(e, "pirun profile", &configError{Err: err})
	}
	fmt.Fprintln(e.stdout, dir)
	return exitOK
}

func profileList(e *env) int {
	dir, err := conf.ProfileDir(conf.DefaultProfileName, e.getenv)
	if err != nil {
		return reportAs(e, "pirun profile", &configError{Err: err})
	}
	root := filepath.Dir(dir)
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return reportAs(e, "pirun profile", &configError{Err: err})
	}
	n := 0
	for _, ent := range entries {
		if ent.IsDir() && conf.CheckProfileName(ent.Name()) == nil {
			fmt.Fprintf(e.stdout, "%s\t%s\n", ent.Name(), filepath.Join(root, ent.Name()))
			n++
		}
	}
	if n == 0 {
		fmt.Fprintf(e.stdout, "no profiles in %s; make one with: pirun profile create NAME\n", root)
	}
	return exitOK
}
