// This file defines the flags and settings of `pirun engine`: N engines
// in this process, connected to a hub with an engine connection file,
// directly or through an ssh tunnel. engine/node runs them.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/engine/node"
	"github.com/pirun-dev/pirun/host/cluster"
)

// engineFlags are the flags of `pirun engine`.
type engineFlags struct {
	connect, config, profile, ssh, dataDir, log string
	n                                           int
	grace                                       time.Duration
	launched, verbose, quiet                    bool
	set                                         map[string]bool // the flags given
}

func runEngine(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 && args[0] == "install-service" {
		return runInstallService(ctx, e, args[1:])
	}
	fs := flag.NewFlagSet("pirun engine", flag.ContinueOnError)
	var f engineFlags
	fs.StringVar(&f.connect, "connect", "", "the hub's engine connection file; - reads it from stdin (default: the profile's security/engine-connection.toml)")
	fs.StringVar(&f.config, "config", "", "a TOML file with an [engine] table (default: the profile's pirun.toml)")
	fs.IntVar(&f.n, "n", 0, "number of engines (default: [engine] engines, else one per CPU)")
	fs.StringVar(&f.profile, "profile", "", "profile name: its connection file, settings and log/engine.log")
	fs.StringVar(&f.log, "log", "", "also log into this file (default: the profile's log/engine.log)")
	fs.StringVar(&f.ssh, "ssh", "", "reach the hub through an ssh tunnel to [user@]gateway[:port] (default: [engine] ssh)")
	fs.StringVar(&f.dataDir, "data-dir", "", "the only folder the files module may read (default: [engine] data_dir)")
	fs.Func("grace", "exit after this long without a hub, such as 60s; 0 retries forever (default: [engine] grace)", func(s string) error {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return fmt.Errorf("expected a duration such as 60s, or 0")
		}
		f.grace = d
		return nil
	})
	fs.BoolVar(&f.launched, "launched", false, "(used by pirun cluster start) also exit once stdin has closed and the grace period has passed")
	fs.BoolVar(&f.quiet, "quiet", false, "say nothing on the terminal about connecting, joining and reconnecting (warnings still show)")
	fs.BoolVar(&f.verbose, "v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args, `Usage: pirun engine [--connect FILE] [--config FILE] [-n N] [--ssh [user@]gateway]

Starts N engines that connect to a hub and reconnect when it goes away.
It says on stderr what it does: connecting, joined as engines 4-7, hub
lost, reconnected, stopping. FILE is the engine-connection.toml that
'pirun hub' wrote into its profile's security/ folder, copied here.
`,
		`  pirun engine --connect engine-connection.toml -n 4
  pirun engine --connect engine-connection.toml --ssh pi@gateway.example.org
`); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "pirun engine: unexpected argument %q\nRun 'pirun engine --help' for usage.\n", fs.Arg(0))
		return exitUsage
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	paths, prof, logPath, err := engineProfile(e, f)
	if err != nil {
		return reportAs(e, "pirun engine", &configError{Err: err})
	}
	log := newLogger(e.stderr, f.verbose, e.getenv)
	if logPath != "" {
		logs, flog, err := cluster.OpenLogs(e.stderr, e.getenv, paths, prof.Log, "engine", logPath, f.verbose)
		if err != nil {
			return reportAs(e, "pirun engine", &configError{Err: err})
		}
		defer logs.Close()
		log = flog
	}
	cfg := node.Config{Launched: f.launched, Stdin: e.stdin, Log: logPath, Version: version, GOARM: goarm()}
	if !f.quiet && !f.launched { // a launcher records the engines itself; their stderr tells it only why they end
		cfg.Terminal = e.stderr
	}
	if err := engineSettings(e, f, prof.Engine, paths, &cfg); err != nil {
		return reportAs(e, "pirun engine", err)
	}
	if f.launched {
		// The launcher reads our stderr; once it is gone, writing there
		// must not kill us before the grace period has passed.
		signal.Ignore(syscall.SIGPIPE)
	}
	if cfg.Engine.SSH != "" {
		stop, err := cluster.Tunnel(ctx, "ssh", cfg.Engine.SSH, &cfg.Conn, log)
		if err != nil {
			return reportAs(e, "pirun engine", err)
		}
		defer stop()
	}
	if cfg.Options, err = cluster.NATSOptions(cfg.Conn, "pirun-engine"); err != nil {
		return reportAs(e, "pirun engine", &configError{Err: fmt.Errorf("%s: %w", cfg.Engine.Connect, err)})
	}
	err = node.Run(ctx, cfg, log)
	if err == nil {
		return exitOK
	}
	return reportAs(e, "pirun engine", err)
}

// engineProfile opens the engine's profile and picks its log file: --log,
// else the profile's log/engine.log. With --connect and no profile named,
// the default profile is read but not created, and the log goes to the
// log/ folder beside the connection file's security/ folder if there is
// one, else nowhere but stderr.
func engineProfile(e *env, f engineFlags) (conf.ProfilePaths, conf.Profile, string, error) {
	if f.profile != "" || e.getenv("PIRUN_PROFILE") != "" || f.connect == "" {
		paths, prof, err := openProfile(e, f.profile)
		return paths, prof, cmp(f.log, filepath.Join(paths.Log, "engine.log")), err
	}
	dir, err := conf.ProfileDir(conf.DefaultProfileName, e.getenv)
	if err != nil {
		return conf.ProfilePaths{}, conf.Profile{}, "", err
	}
	paths := conf.Paths(dir)
	prof, err := conf.LoadProfile(paths.Config)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return paths, prof, "", err
	}
	if err := prof.ApplyEnv(e.getenv); err != nil {
		return paths, prof, "", err
	}
	logPath := f.log
	if sec := filepath.Dir(f.connect); logPath == "" && filepath.Base(sec) == "security" {
		if fi, err := os.Stat(filepath.Join(filepath.Dir(sec), "log")); err == nil && fi.IsDir() {
			logPath = filepath.Join(filepath.Dir(sec), "log", "engine.log")
		}
	}
	return paths, prof, logPath, nil
}

// cmp returns the first of a, b that is not "".
func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// engineSettings resolves the [engine] settings (flag > environment >
// --config file, else the profile's [engine] table > default) and reads
// the connection file into cfg. Errors are *configError.
func engineSettings(e *env, f engineFlags, ec conf.Engine, paths conf.ProfilePaths, cfg *node.Config) error {
	if f.config != "" {
		var err error
		if ec, err = conf.LoadEngine(f.config); err != nil {
			return &configError{Err: err}
		}
	}
	if err := ec.ApplyEnv(e.getenv); err != nil {
		return &configError{Err: err}
	}
	for name, apply := range map[string]func(){
		"connect": func() { ec.Connect = f.connect }, "n": func() { ec.Engines = f.n },
		"ssh": func() { ec.SSH = f.ssh }, "data-dir": func() { ec.DataDir = f.dataDir },
		"grace": func() { ec.Grace = conf.Duration(f.grace) },
	} {
		if f.set[name] {
			apply()
		}
	}
	if ec.Engines < 0 {
		return &configError{Err: fmt.Errorf("-n %d: expected 0 or more (0 = one per CPU)", ec.Engines)}
	}
	var err error
	switch {
	case ec.Connect == "-":
		cfg.Source = "connection file from stdin"
		cfg.Conn, err = cluster.ReadConnStdin(e.stdin)
	case strings.Contains(ec.Connect, "://"):
		err = fmt.Errorf("--connect %s: an engine needs the hub's engine connection file, not a URL: it holds the credentials the hub requires. "+
			"Copy security/engine-connection.toml from the hub's profile folder (pirun hub prints where it is; on the hub's machine: %s) and run: pirun engine --connect engine-connection.toml",
			ec.Connect, filepath.Join(filepath.Dir(paths.Dir), "PROFILE", "security", "engine-connection.toml"))
	default:
		if ec.Connect == "" {
			ec.Connect = paths.EngineConn
			cfg.Source = "engine connection file " + ec.Connect + " of profile " + cluster.ProfileName(f.profile, e.getenv)
		} else {
			cfg.Source = "engine connection file " + ec.Connect
		}
		cfg.Conn, err = cluster.LoadConn(ec.Connect, conf.RoleEngine, newLogger(e.stderr, f.verbose, e.getenv))
		if errors.Is(err, fs.ErrNotExist) {
			err = fmt.Errorf("%w: copy security/engine-connection.toml from the hub's profile folder (pirun hub prints where it is) and run: pirun engine --connect engine-connection.toml", err)
		}
	}
	cfg.Engine = ec
	if err != nil {
		return &configError{Err: err}
	}
	return nil
}
