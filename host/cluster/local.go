// This file defines the zero-set-up mode: an in-process hub and local
// engines on nats.InProcessServer connections, no sockets, no files; and
// Open, which picks between it and a cluster's connection file.

package cluster

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/hub"
)

// Dialer connects to a hub; it has the shape of engine.Dialer.
type Dialer = func(ctx context.Context, opts ...nats.Option) (*nats.Conn, error)

// Local is a hub and the engines of this process.
type Local struct {
	Hub    *hub.Hub
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{} // closed when the engines' run returns, after err is set
	err    error         // what the engines' run returned; read only after done
}

// StartLocal starts an in-process hub (its dashboard at http unless "");
// [Local.Go] then runs the engines.
func StartLocal(version, http string, log *slog.Logger) (*Local, error) {
	hb, err := hub.New(hub.Config{DontListen: true, Version: version, HTTP: http}, log)
	if err != nil {
		return nil, err
	}
	if err := hb.Start(); err != nil {
		return nil, err
	}
	return &Local{Hub: hb, cancel: func() {}, done: make(chan struct{})}, nil
}

// Dial connects an engine daemon to the local hub without a socket.
func (lc *Local) Dial(ctx context.Context, opts ...nats.Option) (*nats.Conn, error) {
	opts = append([]nats.Option{lc.Hub.InProcess(), nats.Name("pirun-engine"), nats.MaxReconnects(0)}, opts...)
	return nats.Connect("", opts...)
}

// Go runs the engines (an engine daemon's Run) until [Local.Stop]; it
// outlives ctx's cancellation so that a Ctrl-C reaches the tasks first.
func (lc *Local) Go(ctx context.Context, run func(ctx context.Context) error) {
	dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	lc.cancel = cancel
	lc.wg.Go(func() {
		lc.err = run(dctx)
		close(lc.done)
	})
}

// Client connects a client to the local hub and waits for n engines.
func (lc *Local) Client(ctx context.Context, n int, cfg client.Config, log *slog.Logger) (*client.Client, error) {
	nc, err := nats.Connect("", lc.Hub.InProcess(), nats.Name("pirun-client"), nats.MaxReconnects(0))
	if err != nil {
		return nil, fmt.Errorf("connect to the local hub: %w", err)
	}
	c, err := client.Connect(ctx, nc, cfg, log)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	go func() { // engines that stop early end the wait at once
		select {
		case <-lc.done:
			cancel()
		case <-wctx.Done():
		}
	}()
	if err := c.WaitForEngines(wctx, n); err != nil {
		c.Close()
		select {
		case <-lc.done:
			if lc.err != nil {
				return nil, lc.err
			}
			return nil, fmt.Errorf("the local engines stopped before %d were ready; run with -v to see their log", n)
		default:
		}
		return nil, err
	}
	return c, nil
}

// Stop stops the engines and the hub and waits for them.
func (lc *Local) Stop() {
	lc.cancel()
	lc.wg.Wait()
	lc.Hub.Shutdown()
}

// Target says which cluster a run uses: the one of Connect (a client
// connection file), else of Profile, else local engines started here.
type Target struct {
	Profile, Connect string
	SSH              string // a gateway to tunnel through, with Connect or Profile
	HTTP             string // the local hub's dashboard address
	Verbose          bool
}

// Open connects the client of a run to t's cluster. With no profile or
// connection file, it starts a local hub and calls engines to start this
// process's engines on it; engines returns how many it started. stop
// closes the client and stops local engines; local is how many engines
// were started here (0 for a cluster of its own).
func Open(ctx context.Context, stderr io.Writer, getenv func(string) string, t Target, ccfg client.Config,
	version string, engines func(lc *Local, log *slog.Logger) (int, error)) (c *client.Client, local int, stop func(), err error) {
	log := NewLogger(stderr, t.Verbose, getenv)
	if t.Profile == "" && t.Connect == "" {
		t.Profile = getenv("PIRUN_PROFILE")
	}
	if t.Profile != "" && t.Connect == "" {
		paths, _, err := OpenProfile(t.Profile, getenv, stderr)
		if err != nil {
			return nil, 0, nil, &ConfigError{err}
		}
		t.Connect = paths.ClientConn
	}
	switch {
	case t.HTTP != "" && t.Connect != "":
		return nil, 0, nil, &ConfigError{fmt.Errorf("--http %s: serves the dashboard of the local engines' hub; a hub of its own serves it with pirun hub --http ADDR (or [hub] http in its profile)", t.HTTP)}
	case t.HTTP != "" && !conf.ValidHTTPAddr(t.HTTP):
		return nil, 0, nil, &ConfigError{fmt.Errorf("--http %q: expected host:port, e.g. 127.0.0.1:8080, or :8080 for every interface", t.HTTP)}
	case t.Connect != "":
		c, err := Connect(ctx, t.Connect, t.SSH, ccfg, log)
		if err != nil {
			return nil, 0, nil, err
		}
		return c, 0, func() { c.Close() }, nil
	case t.SSH != "":
		return nil, 0, nil, &ConfigError{fmt.Errorf("--ssh %s: tunnels the connection to a hub; give it with --connect FILE or --profile P", t.SSH)}
	}
	lc, err := StartLocal(version, t.HTTP, log)
	if err != nil {
		return nil, 0, nil, err
	}
	n, err := engines(lc, log)
	if err != nil {
		lc.Stop()
		return nil, 0, nil, err
	}
	if u := lc.Hub.DashURL(); u != "" {
		fmt.Fprintf(stderr, "pirun: dashboard at %s\n", u)
	}
	ccfg.Hint = fmt.Sprintf("this run has %s of its own (pirun -n N starts N); for engines on other machines use a cluster: --profile P or --connect FILE", counted(n, "local engine", "local engines"))
	c, err = lc.Client(ctx, n, ccfg, log)
	if err != nil {
		lc.Stop()
		return nil, 0, nil, err
	}
	return c, n, func() { c.Close(); lc.Stop() }, nil
}
