// This file defines the zero-set-up mode: an in-process hub and local
// engines on nats.InProcessServer connections, no sockets, no files.

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/engine"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/hub"
)

// localCluster is a hub and one engine daemon in this process.
type localCluster struct {
	hub    *hub.Hub
	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error
}

// startLocal starts a hub and n engines, and waits until they registered.
func startLocal(ctx context.Context, cfg engine.Config, http string, log *slog.Logger) (*localCluster, error) {
	hb, err := hub.New(hub.Config{DontListen: true, Version: version, HTTP: http}, log)
	if err != nil {
		return nil, err
	}
	if err := hb.Start(); err != nil {
		return nil, err
	}
	cfg.Version, cfg.GOARM = version, goarm()
	d, err := engine.New(cfg, inProcessDialer(hb), log)
	if err != nil {
		hb.Shutdown()
		return nil, err
	}
	lc := &localCluster{hub: hb}
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	lc.cancel = cancel
	lc.wg.Go(func() { lc.err = d.Run(dctx) })
	return lc, nil
}

// inProcessDialer connects engines to hub without a socket.
func inProcessDialer(hb *hub.Hub) engine.Dialer {
	return func(ctx context.Context, opts ...nats.Option) (*nats.Conn, error) {
		opts = append([]nats.Option{hb.InProcess(), nats.Name("pirun-engine"), nats.MaxReconnects(0)}, opts...)
		return nats.Connect("", opts...)
	}
}

// client connects a client to the local hub and waits for n engines.
func (lc *localCluster) client(ctx context.Context, n int, cfg client.Config, log *slog.Logger) (*client.Client, error) {
	nc, err := nats.Connect("", lc.hub.InProcess(), nats.Name("pirun-client"), nats.MaxReconnects(0))
	if err != nil {
		return nil, fmt.Errorf("connect to the local hub: %w", err)
	}
	c, err := client.Connect(ctx, nc, cfg, log)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := c.WaitForEngines(wctx, n); err != nil {
		c.Close()
		if lc.err != nil {
			return nil, lc.err
		}
		return nil, err
	}
	return c, nil
}

// stop stops the engines and the hub and waits for them.
func (lc *localCluster) stop() {
	lc.cancel()
	lc.wg.Wait()
	lc.hub.Shutdown()
}

// openCluster connects the client of a run: to the cluster of f.connect
// (or of f.profile's client connection file), or to local engines started here (their data_dir is script's folder).
// stop closes the client and stops local engines; engines is how many
// were started here (0 with --connect). On failure it has reported the
// error and returns the exit status.
func openCluster(ctx context.Context, e *env, f scriptFlags, out io.Writer, script string) (c *client.Client, engines int, stop func(), code int) {
	log := newLogger(e.stderr, f.verbose, e.getenv)
	if f.profile == "" && f.connect == "" {
		f.profile = e.getenv("PIRUN_PROFILE")
	}
	if f.profile != "" && f.connect == "" {
		paths, _, err := openProfile(e, f.profile)
		if err != nil {
			return nil, 0, nil, report(e, &configError{err})
		}
		f.connect = paths.ClientConn
	}
	ccfg := client.Config{Output: out, Stderr: e.stderr, Quiet: f.quiet}
	if f.http != "" && f.connect != "" {
		return nil, 0, nil, report(e, &configError{fmt.Errorf("--http %s: serves the dashboard of the local engines' hub; a hub of its own serves it with pirun hub --http ADDR (or [hub] http in its profile)", f.http)})
	}
	if f.http != "" && !conf.ValidHTTPAddr(f.http) {
		return nil, 0, nil, report(e, &configError{fmt.Errorf("--http %q: expected host:port, e.g. 127.0.0.1:8080, or :8080 for every interface", f.http)})
	}
	if f.connect != "" {
		c, err := connectFile(ctx, f.connect, f.ssh, ccfg, log)
		if err != nil {
			return nil, 0, nil, report(e, err)
		}
		return c, 0, func() { c.Close() }, exitOK
	}
	if f.ssh != "" {
		return nil, 0, nil, report(e, &configError{fmt.Errorf("--ssh %s: tunnels the connection to a hub; give it with --connect FILE or --profile P", f.ssh)})
	}
	ecfg, err := localEngineConfig(e, f.n, script)
	if err != nil {
		return nil, 0, nil, report(e, &configError{err})
	}
	lc, err := startLocal(ctx, ecfg, f.http, log)
	if err != nil {
		return nil, 0, nil, report(e, err)
	}
	if u := lc.hub.DashURL(); u != "" {
		fmt.Fprintf(e.stderr, "pirun: dashboard at %s\n", u)
	}
	ccfg.Hint = "the local engines did not start (see the errors above)"
	c, err = lc.client(ctx, ecfg.Engines, ccfg, log)
	if err != nil {
		lc.stop()
		return nil, 0, nil, report(e, err)
	}
	return c, ecfg.Engines, func() { c.Close(); lc.stop() }, exitOK
}
