// This file defines `pirun hub`: the hub on its own, with the profile's
// credentials (made on the first start and kept), its registry of engine
// ids, TLS when asked, and the connection files that clients and engines
// use.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/hub"
)

func runHub(ctx context.Context, e *env, args []string) int {
	if code, ok := runHubEngines(e, args); ok {
		return code
	}
	fs := flag.NewFlagSet("pirun hub", flag.ContinueOnError)
	var s hubSettings
	fs.StringVar(&s.ip, "ip", "", "interface to listen on; '*' for all (default: the profile's, else 127.0.0.1)")
	fs.IntVar(&s.port, "port", -1, "TCP port; 0 picks a free one (default: the profile's, else 4222)")
	fs.StringVar(&s.profile, "profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	fs.StringVar(&s.tls, "tls", "", "off, auto (a private CA and certificate made in security/) or files (default: the profile's [hub] tls)")
	fs.StringVar(&s.http, "http", "", "serve the live dashboard at host:port, e.g. 127.0.0.1:8080 (default: the profile's [hub] http)")
	fs.BoolVar(&s.verbose, "v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args, `Usage: pirun hub [--ip ADDR] [--port N] [--profile P] [--tls auto] [--http ADDR]

Starts a hub and writes security/client-connection.toml and
security/engine-connection.toml into the profile folder. Credentials are
made on the first start and kept, so engines reconnect after a restart.
'pirun hub add-engine NAME' and 'pirun hub revoke-engine NAME' give one
engine machine a credential of its own and take it back.
`,
		`  pirun hub --ip '*' --port 4222
  pirun hub --profile lab --ip '*' --tls auto
  pirun hub --http :8080     # the dashboard, from a phone on the LAN (with the printed token)
`); !ok {
		return code
	}
	ph, err := openHub(e, s)
	if err != nil {
		return reportAs(e, "pirun hub", err)
	}
	defer ph.close()
	ph.announce(e)
	<-ctx.Done()
	return exitOK
}

// hubSettings are the flags of a hub start; zero values leave the
// profile's settings.
type hubSettings struct {
	profile, ip, tls, http string
	port                   int // -1 = the profile's
	verbose                bool
}

// profileHub is a running hub of a profile.
type profileHub struct {
	hub   *hub.Hub
	paths conf.ProfilePaths
	prof  conf.Profile
	url   string
	log   *slog.Logger
	logs  *logFiles
}

// openHub starts the hub of a profile and writes its connection files.
// Errors of configuration are *configError (exit 2); others mean the hub
// could not start (exit 3).
func openHub(e *env, s hubSettings) (*profileHub, error) {
	paths, prof, err := openProfile(e, s.profile)
	if err != nil {
		return nil, &configError{err}
	}
	if err := s.apply(&prof.Hub); err != nil {
		return nil, &configError{err}
	}
	logs, log, err := openLogs(e, paths, prof.Log, "hub", s.verbose)
	if err != nil {
		return nil, &configError{err}
	}
	ph := &profileHub{paths: paths, prof: prof, log: log, logs: logs}
	if err := ph.start(); err != nil {
		logs.close()
		return nil, err
	}
	return ph, nil
}

// apply sets the flags that were given over the profile's [hub] table.
func (s hubSettings) apply(h *conf.Hub) error {
	if s.ip != "" {
		h.IP = s.ip
	}
	if s.port >= 0 {
		h.Port = s.port
	}
	if s.http != "" {
		if !conf.ValidHTTPAddr(s.http) {
			return fmt.Errorf("--http %q: expected host:port, e.g. 127.0.0.1:8080, or :8080 for every interface", s.http)
		}
		h.HTTP = s.http
	}
	if s.tls != "" {
		switch s.tls {
		case conf.TLSOff, conf.TLSAuto, conf.TLSFiles:
			h.TLS = s.tls
		default:
			return fmt.Errorf("--tls %q: expected off, auto or files", s.tls)
		}
	}
	return nil
}

// start makes or loads the credentials and TLS material, starts the hub
// and writes the connection files.
func (ph *profileHub) start() error {
	secrets, err := hub.Secrets(ph.paths.HubSecrets)
	if err != nil {
		return &configError{err}
	}
	tlsCfg, ctls, err := hub.TLS(ph.prof.Hub, ph.paths)
	if err != nil {
		return &configError{err}
	}
	h := ph.prof.Hub
	hb, err := hub.New(hub.Config{Host: h.IP, Port: h.Port, Version: version, ID: secrets.HubID,
		Auth: &hub.Auth{Hub: secrets.Hub, Client: secrets.Client, Engine: secrets.Engine,
			EnginesDir: ph.paths.Engines},
		Registry:   ph.paths.Registry,
		TLS:        tlsCfg,
		MaxPayload: int(h.MaxPayload), Heartbeat: time.Duration(h.Heartbeat) / 2,
		EngineTimeout: time.Duration(h.EngineTimeout), HTTP: h.HTTP}, ph.log)
	if err != nil {
		return &configError{err}
	}
	if err := hb.Start(); err != nil {
		return &client.ClusterError{Msg: err.Error()}
	}
	ph.hub = hb
	ph.url = hb.Advertise(h, tlsCfg != nil)
	if err := hub.WriteConnFiles(ph.paths, ph.url, secrets, ctls); err != nil {
		hb.Shutdown()
		return err
	}
	return nil
}

// announce prints where the hub listens, where its files are and how a
// node joins.
func (ph *profileHub) announce(e *env) {
	port := ph.hub.Addr().(*net.TCPAddr).Port
	if ph.prof.Hub.AllInterfaces() {
		fmt.Fprintf(e.stderr, "pirun hub: warning: listening on all interfaces; anyone who can reach port %d may try to connect (credentials are required)\n", port)
	}
	fmt.Fprintf(e.stdout, "pirun hub %s listening on %s (id %s)\n", version, ph.url, ph.hub.ID())
	fmt.Fprintf(e.stdout, "the one port to open in a firewall: TCP %d\n", port)
	fmt.Fprintf(e.stdout, "client connection file: %s\nengine connection file: %s\n", ph.paths.ClientConn, ph.paths.EngineConn)
	if u := ph.hub.DashURL(); u != "" {
		fmt.Fprintf(e.stdout, "dashboard: %s\n", u) // its own port, for browsers only
	}
	if ph.logs.path != "" {
		fmt.Fprintf(e.stdout, "log: %s\n", ph.logs.path)
	}
	fmt.Fprintf(e.stdout, "on each node, copy the engine connection file and run:\n  pirun engine --connect engine-connection.toml\n")
}

// close stops the hub and closes its log.
func (ph *profileHub) close() {
	ph.hub.Shutdown()
	ph.logs.close()
}

// openProfile returns the profile's paths and settings, creating its folders.
func openProfile(e *env, name string) (conf.ProfilePaths, conf.Profile, error) {
	if name == "" {
		name = e.getenv("PIRUN_PROFILE")
	}
	if name == "" {
		name = conf.DefaultProfileName
	}
	dir, err := conf.ProfileDir(name, e.getenv)
	if err != nil {
		return conf.ProfilePaths{}, conf.Profile{}, err
	}
	paths := conf.Paths(dir)
	warnings, err := conf.EnsureDirs(paths)
	if err != nil {
		return paths, conf.Profile{}, err
	}
	for _, w := range warnings {
		fmt.Fprintf(e.stderr, "pirun: warning: %s\n", w)
	}
	prof, err := conf.LoadProfile(paths.Config)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return paths, prof, err
	}
	if err := prof.ApplyEnv(e.getenv); err != nil {
		return paths, prof, err
	}
	return paths, prof, nil
}
