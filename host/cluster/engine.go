// This file defines how `pirun engine` finds its settings: the [engine]
// table (flag > environment > --config file, else the profile's > default),
// its connection file and its log file.

package cluster

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
)

// EngineFlags are the flags of `pirun engine` that pick its settings.
type EngineFlags struct {
	Connect, Config, Profile, SSH, DataDir, Log string
	N                                           int
	Grace                                       conf.Duration
	Verbose                                     bool
	Set                                         map[string]bool // the flags given, by name
}

// EngineSetup is what `pirun engine` runs with.
type EngineSetup struct {
	Paths   conf.ProfilePaths
	Profile conf.Profile
	Engine  conf.Engine   // the resolved [engine] settings; Connect names the connection file
	Conn    conf.ConnFile // the connection file, read
	Source  string        // where Conn came from, for the terminal
	Options []nats.Option // Conn's credentials and TLS
	LogPath string        // the log file; "" for none
}

// EngineSettings resolves the settings of `pirun engine`. stdin is read
// with --connect -. Errors are *ConfigError.
func EngineSettings(e *IO, stdin io.Reader, f EngineFlags) (*EngineSetup, error) {
	s := &EngineSetup{}
	var err error
	if s.Paths, s.Profile, s.LogPath, err = engineProfile(e, f); err != nil {
		return nil, &ConfigError{err}
	}
	ec := s.Profile.Engine
	if f.Config != "" {
		if ec, err = conf.LoadEngine(f.Config); err != nil {
			return nil, &ConfigError{err}
		}
	}
	if err := ec.ApplyEnv(e.Getenv); err != nil {
		return nil, &ConfigError{err}
	}
	for name, apply := range map[string]func(){
		"connect": func() { ec.Connect = f.Connect }, "n": func() { ec.Engines = f.N },
		"ssh": func() { ec.SSH = f.SSH }, "data-dir": func() { ec.DataDir = f.DataDir },
		"grace": func() { ec.Grace = f.Grace },
	} {
		if f.Set[name] {
			apply()
		}
	}
	if ec.OutDir == "" {
		ec.OutDir = s.Paths.Out // files.write's default folder: <profile>/out
	}
	if ec.Engines < 0 {
		return nil, &ConfigError{fmt.Errorf("-n %d: expected 0 or more (0 = one per CPU)", ec.Engines)}
	}
	err = s.conn(e, stdin, &ec, f)
	s.Engine = ec
	if err != nil {
		return nil, &ConfigError{err}
	}
	return s, nil
}

// conn reads the engine's connection file.
func (s *EngineSetup) conn(e *IO, stdin io.Reader, ec *conf.Engine, f EngineFlags) error {
	var err error
	switch {
	case ec.Connect == "-":
		s.Source = "connection file from stdin"
		s.Conn, err = ReadConnStdin(stdin)
	case strings.Contains(ec.Connect, "://"):
		return fmt.Errorf("--connect %s: an engine needs the hub's engine connection file, not a URL: it holds the credentials the hub requires. "+
			"Copy engine-connection.toml from the security/ folder of the hub's profile (pirun hub prints where it is; by default ~/.config/pirun/default/security/ on the hub's machine) and run: pirun engine --connect engine-connection.toml",
			ec.Connect)
	default:
		if ec.Connect == "" {
			ec.Connect = s.Paths.EngineConn
			s.Source = "engine connection file " + ec.Connect + " of profile " + ProfileName(f.Profile, e.Getenv)
		} else {
			s.Source = "engine connection file " + ec.Connect
		}
		s.Conn, err = LoadConn(ec.Connect, conf.RoleEngine, NewLogger(e.Stderr, f.Verbose, e.Getenv))
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: copy security/engine-connection.toml from the hub's profile folder (pirun hub prints where it is) and run: pirun engine --connect engine-connection.toml", err)
		}
	}
	if err != nil {
		return err
	}
	if s.Options, err = NATSOptions(s.Conn, "pirun-engine"); err != nil {
		return fmt.Errorf("%s: %w", ec.Connect, err)
	}
	return nil
}

// OpenLogs returns the engine's logger: stderr, and its log file if any.
func (s *EngineSetup) OpenLogs(stderr io.Writer, getenv func(string) string, verbose bool) (*Logs, *slog.Logger, error) {
	if s.LogPath == "" {
		return &Logs{}, NewLogger(stderr, verbose, getenv), nil
	}
	return OpenLogs(stderr, getenv, s.Paths, s.Profile.Log, "engine", s.LogPath, verbose)
}

// engineProfile opens the engine's profile and picks its log file: --log,
// else the profile's log/engine.log. With --connect and no profile named
// (--profile, $PIRUN_PROFILE, or a $PIRUN_DIR as the service sets), the
// default profile is read but not created, and the log goes to the
// log/ folder beside the connection file's security/ folder if there is
// one, else nowhere but stderr.
func engineProfile(e *IO, f EngineFlags) (conf.ProfilePaths, conf.Profile, string, error) {
	if f.Profile != "" || e.Getenv("PIRUN_PROFILE") != "" || e.Getenv("PIRUN_DIR") != "" || f.Connect == "" {
		paths, prof, err := OpenProfile(f.Profile, e.Getenv, e.Stderr)
		logPath := f.Log
		if logPath == "" {
			logPath = filepath.Join(paths.Log, "engine.log")
		}
		return paths, prof, logPath, err
	}
	dir, err := conf.ProfileDir(conf.DefaultProfileName, e.Getenv)
	if err != nil {
		return conf.ProfilePaths{}, conf.Profile{}, "", err
	}
	paths := conf.Paths(dir)
	prof, err := conf.LoadProfile(paths.Config)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return paths, prof, "", err
	}
	if err := prof.ApplyEnv(e.Getenv); err != nil {
		return paths, prof, "", err
	}
	logPath := f.Log
	if sec := filepath.Dir(f.Connect); logPath == "" && filepath.Base(sec) == "security" {
		if fi, err := os.Stat(filepath.Join(filepath.Dir(sec), "log")); err == nil && fi.IsDir() {
			logPath = filepath.Join(filepath.Dir(sec), "log", "engine.log")
		}
	}
	return paths, prof, logPath, nil
}
