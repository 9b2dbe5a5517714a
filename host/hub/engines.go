// This file defines named engine credentials: one connection file per
// engine machine in security/engines/, which the running hub reads at
// every connection of that name and watches for revocation.

package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/pirun-dev/pirun/conf"
)

// AddEngine writes the connection file of a new engine credential name
// into the profile at paths and returns its path. It copies the hub's
// address and TLS from the shared engine connection file, which the hub
// wrote when it started, with a user and password of its own. A running
// hub accepts it at once (it reads the file when the engine connects).
func AddEngine(paths conf.ProfilePaths, name string) (string, error) {
	if err := conf.CheckEngineName(name); err != nil {
		return "", err
	}
	path := paths.EngineConnOf(name)
	if _, err := os.Stat(path); err == nil {
		return "", fmt.Errorf("engine %q already has a credential in %s; revoke it first with: pirun hub revoke-engine %s", name, path, name)
	}
	shared, _, err := conf.LoadConnFile(paths.EngineConn)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%s does not exist: start `pirun hub` once for this profile, then add engines", paths.EngineConn)
	}
	if err != nil {
		return "", err
	}
	pass, err := newSecret()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(paths.Engines, 0o700); err != nil {
		return "", fmt.Errorf("add engine %q: %w", name, err)
	}
	cf := shared
	cf.User, cf.Password, cf.Created = UserEngine+"."+name, pass, time.Now().UTC().Truncate(time.Second)
	return path, conf.WriteConnFile(path, cf)
}

// RevokeEngine deletes the credential of engine name from the profile at
// paths. A running hub refuses its connections from then on and
// disconnects the open ones within RevokeEvery.
func RevokeEngine(paths conf.ProfilePaths, name string) error {
	if err := conf.CheckEngineName(name); err != nil {
		return err
	}
	err := os.Remove(paths.EngineConnOf(name))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("engine %q has no credential in %s (see its folder for the names added)", name, paths.Engines)
	}
	return err
}
