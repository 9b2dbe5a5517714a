// This file defines the flags and settings of `pirun engine`: N engines
// in this process, connected to a hub with an engine connection file,
// directly or through an ssh tunnel. engine/node runs them.

package main

import (
	"context"
	"flag"
	"os/signal"
	"syscall"

	"github.com/pirun-dev/pirun/engine/node"
	"github.com/pirun-dev/pirun/host/cli"
	"github.com/pirun-dev/pirun/host/cluster"
)

func runEngine(ctx context.Context, e *env, args []string) int {
	if len(args) > 0 && args[0] == "install-service" {
		return runInstallService(ctx, e, args[1:])
	}
	fs := flag.NewFlagSet("pirun engine", flag.ContinueOnError)
	var f cluster.EngineFlags
	var launched, quiet bool
	fs.StringVar(&f.Connect, "connect", "", "the hub's engine connection file; - reads it from stdin (default: the profile's security/engine-connection.toml)")
	fs.StringVar(&f.Config, "config", "", "a TOML file with an [engine] table (default: the profile's pirun.toml)")
	fs.IntVar(&f.N, "n", 0, "number of engines (default: [engine] engines, else one per CPU)")
	fs.StringVar(&f.Profile, "profile", "", "profile name: its connection file, settings and log/engine.log")
	fs.StringVar(&f.Log, "log", "", "also log into this file (default: the profile's log/engine.log)")
	fs.StringVar(&f.SSH, "ssh", "", "reach the hub through an ssh tunnel to [user@]gateway[:port] (default: [engine] ssh)")
	fs.StringVar(&f.DataDir, "data-dir", "", "the only folder the files module may read (default: [engine] data_dir)")
	fs.Var((*cli.Grace)(&f.Grace), "grace", "exit after this long without a hub, such as 60s; 0 retries forever (default: [engine] grace)")
	fs.BoolVar(&launched, "launched", false, "(used by pirun cluster start) also exit once stdin has closed and the grace period has passed")
	fs.BoolVar(&quiet, "quiet", false, "say nothing on the terminal about connecting, joining and reconnecting (warnings still show)")
	fs.BoolVar(&f.Verbose, "v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	f.Set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.Set[fl.Name] = true })
	set, err := cluster.EngineSettings(e.io(), e.stdin, f)
	if err != nil {
		return reportAs(e, "pirun engine", err)
	}
	logs, log, err := set.OpenLogs(e.stderr, e.getenv, f.Verbose)
	if err != nil {
		return reportAs(e, "pirun engine", &configError{Err: err})
	}
	defer logs.Close()
	cfg := node.Config{Engine: set.Engine, Conn: set.Conn, Source: set.Source, Options: set.Options,
		Launched: launched, Stdin: e.stdin, Log: set.LogPath, Version: version, GOARM: goarm()}
	if !quiet && !launched { // a launcher records the engines itself; their stderr tells it only why they end
		cfg.Terminal = e.stderr
	}
	if launched {
		// The launcher reads our stderr; once it is gone, writing there
		// must not kill us before the grace period has passed.
		signal.Ignore(syscall.SIGPIPE)
	}
	if cfg.Engine.SSH != "" { // the tunnel rewrites the URLs
		stop, err := cluster.Tunnel(ctx, "ssh", cfg.Engine.SSH, &cfg.Conn, log)
		if err != nil {
			return reportAs(e, "pirun engine", err)
		}
		defer stop()
	}
	if err := node.Run(ctx, cfg, log); err != nil {
		return reportAs(e, "pirun engine", err)
	}
	return exitOK
}
