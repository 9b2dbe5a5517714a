// This file defines `pirun engine`: N engines in this process, connected
// to a hub with an engine connection file, directly or through an ssh
// tunnel.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/engine"
)

// engineFlags are the flags of `pirun engine`.
type engineFlags struct {
	connect, config, profile, ssh, dataDir string
	n                                      int
	grace                                  time.Duration
	launched, verbose                      bool
	set                                    map[string]bool // the flags given
}

func runEngine(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 && args[0] == "install-service" {
		return runInstallService(ctx, e, args[1:])
	}
	fs := flag.NewFlagSet("pirun engine", flag.ContinueOnError)
	var f engineFlags
	fs.StringVar(&f.connect, "connect", "", "engine connection file or nats:// URL; - reads the file from stdin (default: the profile's security/engine-connection.toml)")
	fs.StringVar(&f.config, "config", "", "a TOML file with an [engine] table")
	fs.IntVar(&f.n, "n", 0, "number of engines (default: [engine] engines, else one per CPU)")
	fs.StringVar(&f.profile, "profile", "", "profile name")
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
	fs.BoolVar(&f.launched, "launched", false, "started by pirun cluster: also exit once stdin has closed and the grace period has passed")
	fs.BoolVar(&f.verbose, "v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args, `Usage: pirun engine [--connect FILE] [--config FILE] [-n N] [--ssh [user@]gateway]

Starts N engines that connect to a hub and reconnect when it goes away.
`,
		`  pirun engine --connect engine-connection.toml -n 4
  pirun engine --connect engine-connection.toml --ssh pi@gateway.example.org
`); !ok {
		return code
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	paths, prof, err := openProfile(e, f.profile)
	if err != nil {
		return reportAs(e, "pirun engine", &configError{err})
	}
	logs, log, err := openLogs(e, paths, prof.Log, "engine", f.verbose)
	if err != nil {
		return reportAs(e, "pirun engine", &configError{err})
	}
	defer logs.close()
	ec, cf, err := engineSettings(e, f, prof.Engine, paths, log)
	if err != nil {
		return reportAs(e, "pirun engine", err)
	}
	return serveEngines(ctx, e, f, ec, cf, log)
}

// engineSettings resolves the [engine] settings (flag > environment >
// --config file, else the profile's [engine] table > default) and the
// connection file. Errors are *configError.
func engineSettings(e *env, f engineFlags, ec conf.Engine, paths conf.ProfilePaths, log *slog.Logger) (conf.Engine, conf.ConnFile, error) {
	if f.config != "" {
		var err error
		if ec, err = conf.LoadEngine(f.config); err != nil {
			return ec, conf.ConnFile{}, &configError{err}
		}
	}
	if err := ec.ApplyEnv(e.getenv); err != nil {
		return ec, conf.ConnFile{}, &configError{err}
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
		return ec, conf.ConnFile{}, &configError{fmt.Errorf("-n %d: expected 0 or more (0 = one per CPU)", ec.Engines)}
	}
	cf, err := engineConn(e, &ec, paths, log)
	return ec, cf, err
}

// engineConn loads the engine's connection file: from stdin with
// --connect -, else from ec.Connect or the profile's.
func engineConn(e *env, ec *conf.Engine, paths conf.ProfilePaths, log *slog.Logger) (conf.ConnFile, error) {
	if ec.Connect == connStdin {
		cf, err := readConnStdin(e.stdin)
		if err != nil {
			return cf, &configError{err}
		}
		return cf, nil
	}
	if ec.Connect == "" {
		ec.Connect = paths.EngineConn
	}
	cf, err := loadConn(ec.Connect, conf.RoleEngine, log)
	if err != nil {
		return cf, &configError{err}
	}
	return cf, nil
}

// serveEngines runs the engines until ctx is done, they are shut down, or
// the grace period ends them.
func serveEngines(ctx context.Context, e *env, f engineFlags, ec conf.Engine, cf conf.ConnFile, log *slog.Logger) int {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	grace := time.Duration(ec.Grace)
	if f.launched {
		// The launcher reads our stderr; once it is gone, writing there
		// must not kill us before the grace period has passed.
		signal.Ignore(syscall.SIGPIPE)
		if grace <= 0 {
			grace = time.Duration(conf.DefaultProfile().Cluster.Grace)
		}
		go watchStdin(ctx, e.stdin, grace, cancel, log)
	}
	if ec.SSH != "" {
		stop, err := tunnelConn(ctx, "ssh", ec.SSH, &cf, log)
		if err != nil {
			return reportAs(e, "pirun engine", err)
		}
		defer stop()
	}
	d, conn, err := newDaemon(ec, cf, grace, log)
	if err != nil {
		return reportAs(e, "pirun engine", err)
	}
	var wg sync.WaitGroup
	if grace > 0 {
		wg.Go(func() { watchHub(ctx, conn, grace, cancel) })
	}
	err = d.Run(ctx)
	cause := context.Cause(ctx) // before our own cancel below
	cancel(nil)
	wg.Wait()
	if ge, ok := isGrace(cause); ok {
		fmt.Fprintf(e.stderr, "pirun engine: %v\n", ge)
		return exitUnavailable
	}
	if err == nil || cause != nil { // shut down, or interrupted
		return exitOK
	}
	fmt.Fprintf(e.stderr, "pirun engine: %v\n", err)
	return exitUnavailable
}

// newDaemon makes the engines' daemon; conn will hold its connection.
func newDaemon(ec conf.Engine, cf conf.ConnFile, grace time.Duration, log *slog.Logger) (*engine.Daemon, *connHolder, error) {
	base, err := natsOptions(cf, "pirun-engine")
	if err != nil {
		return nil, nil, &configError{fmt.Errorf("%s: %w", ec.Connect, err)}
	}
	if grace > 0 {
		base = append(base, nats.PingInterval(pingInterval(grace)), nats.MaxPingsOutstanding(2))
	}
	conn := new(connHolder)
	wait := max(time.Duration(ec.ReconnectWait), 100*time.Millisecond)
	dial := func(ctx context.Context, opts ...nats.Option) (*nats.Conn, error) {
		all := append(append(slices.Clip(base), nats.MaxReconnects(-1), nats.ReconnectWait(wait),
			nats.Timeout(5*time.Second)), opts...)
		nc, err := dialUntil(ctx, cf, all, wait, grace, log)
		if err != nil {
			return nil, err
		}
		conn.set(nc)
		return nc, nil
	}
	startup, err := startupCode(ec)
	if err != nil {
		return nil, nil, &configError{err}
	}
	cfg := engine.ConfigFrom(ec)
	cfg.Version, cfg.GOARM, cfg.Startup = version, goarm(), startup
	d, err := engine.New(cfg, dial, log)
	if err != nil {
		return nil, nil, &configError{err}
	}
	return d, conn, nil
}

// startupCode is what runs into each engine's namespace at start: the
// [engine] preload files in order, then the startup code.
func startupCode(ec conf.Engine) ([]engine.Code, error) {
	var code []engine.Code
	for _, path := range ec.Preload {
		text, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("[engine] preload: %w", err)
		}
		code = append(code, engine.Code{File: path, Text: string(text)})
	}
	if ec.Startup != "" {
		code = append(code, engine.Code{File: "[engine] startup", Text: ec.Startup})
	}
	return code, nil
}

// dialUntil connects to the hub; while nothing answers (the hub is not up
// yet), it tries again every wait, for ever or until grace (when not 0).
func dialUntil(ctx context.Context, cf conf.ConnFile, opts []nats.Option, wait, grace time.Duration, log *slog.Logger) (*nats.Conn, error) {
	start := time.Now()
	for {
		nc, err := nats.Connect(strings.Join(cf.URLs, ","), opts...)
		switch {
		case err == nil:
			return nc, nil
		case !errors.Is(err, nats.ErrNoServers) || (grace > 0 && time.Since(start) > grace):
			return nil, dialError(cf, err)
		case time.Since(start) < wait:
			log.Warn("no hub answers yet; trying again until one does (Ctrl-C to stop)",
				"urls", strings.Join(cf.URLs, ","), "every", wait)
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(wait):
		}
	}
}
