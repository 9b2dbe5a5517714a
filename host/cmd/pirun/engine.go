// This file defines `pirun engine`: N engines in this process, connected
// to a hub with an engine connection file.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/engine"
)

func runEngine(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun engine", flag.ContinueOnError)
	connect := fs.String("connect", "", "engine connection file or nats:// URL (default: the profile's security/engine-connection.toml)")
	config := fs.String("config", "", "a TOML file with an [engine] table")
	n := fs.Int("n", 0, "number of engines (default: [engine] engines, else one per CPU)")
	profile := fs.String("profile", "", "profile name")
	verbose := fs.Bool("v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args, `Usage: pirun engine [--connect FILE] [--config FILE] [-n N]

Starts N engines that connect to a hub and reconnect when it goes away.
`,
		`  pirun engine --connect engine-connection.toml -n 4
`); !ok {
		return code
	}
	log := newLogger(e.stderr, *verbose, e.getenv)
	ec := conf.DefaultEngine()
	if *config != "" {
		var err error
		if ec, err = conf.LoadEngine(*config); err != nil {
			fmt.Fprintf(e.stderr, "pirun engine: %v\n", err)
			return exitUsage
		}
	}
	if err := ec.ApplyEnv(e.getenv); err != nil {
		fmt.Fprintf(e.stderr, "pirun engine: %v\n", err)
		return exitUsage
	}
	if *connect != "" {
		ec.Connect = *connect
	}
	if *n > 0 {
		ec.Engines = *n
	}
	if ec.Connect == "" {
		paths, _, err := openProfile(e, *profile)
		if err != nil {
			fmt.Fprintf(e.stderr, "pirun engine: %v\n", err)
			return exitUsage
		}
		ec.Connect = paths.EngineConn
	}
	cf, err := loadConn(ec.Connect, conf.RoleEngine, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun engine: %v\n", err)
		return exitUsage
	}
	base, err := natsOptions(cf, "pirun-engine")
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun engine: %s: %v\n", ec.Connect, err)
		return exitUsage
	}
	dial := func(ctx context.Context, opts ...nats.Option) (*nats.Conn, error) {
		all := append(slices.Clip(base), nats.MaxReconnects(-1),
			nats.ReconnectWait(max(time.Duration(ec.ReconnectWait), 100*time.Millisecond)), nats.Timeout(5*time.Second))
		nc, err := nats.Connect(strings.Join(cf.URLs, ","), append(all, opts...)...)
		if err != nil {
			return nil, dialError(cf, err)
		}
		return nc, nil
	}
	d, err := engine.New(engine.Config{Engines: ec.Engines, Name: ec.Name, DataDir: ec.DataDir,
		MaxSteps: ec.MaxSteps, TaskTimeout: time.Duration(ec.TaskTimeout), Version: version, GOARM: goarm()}, dial, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun engine: %v\n", err)
		return exitUsage
	}
	err = d.Run(ctx)
	var re *engine.RegisterError
	switch {
	case err == nil || ctx.Err() != nil:
		return exitOK
	case errors.As(err, &re):
		fmt.Fprintf(e.stderr, "pirun engine: %v\n", err)
		return exitUnavailable
	default:
		fmt.Fprintf(e.stderr, "pirun engine: %v\n", err)
		return exitUnavailable
	}
}
