// This file defines Run: the engines of `pirun engine`, from dialling the
// hub to their end, and what it says about them on the terminal.

package node

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/engine"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// Config is what Run needs once main has read the flags and the
// connection file.
type Config struct {
	Engine   conf.Engine   // the resolved [engine] settings
	Conn     conf.ConnFile // the connection file, read (and tunnelled)
	Source   string        // where Conn came from, for the terminal: "engine connection file /etc/pirun/engine-connection.toml"
	Options  []nats.Option // Conn's credentials and TLS
	Launched bool          // started by pirun cluster: also exit once Stdin has closed and the grace period has passed
	Stdin    io.Reader
	Terminal io.Writer // human lines on what happens; nil says nothing (--quiet)
	Log      string    // the log file's path, named on the terminal; "" for none
	Version  string
	GOARM    string
}

// ConfigError is a mistake in the [engine] settings or the connection
// file: pirun exits 2 on it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Run runs the engines until ctx is done (nil), the hub shuts them down
// (nil), or they end: a *GraceError when the launcher or hub was gone
// past the grace period, a *ConfigError for bad settings, else why the
// hub could not be reached or refused them.
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	t := &terminal{w: cfg.Terminal}
	grace := time.Duration(cfg.Engine.Grace)
	if cfg.Launched {
		if grace <= 0 {
			grace = time.Duration(conf.DefaultProfile().Cluster.Grace)
		}
		go watchStdin(ctx, cfg.Stdin, grace, cancel, log)
	}
	t.say("connecting to %s (%s)", strings.Join(cfg.Conn.URLs, ","), cfg.Source)
	if cfg.Log != "" {
		t.say("log: %s", cfg.Log)
	}
	d, conn, err := newDaemon(ctx, cfg, grace, t, log)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	if grace > 0 {
		wg.Go(func() { watchHub(ctx, conn, grace, cancel) })
	}
	err = d.Run(ctx)
	cause := context.Cause(ctx) // before our own cancel below
	cancel(nil)
	wg.Wait()
	if ge, ok := IsGrace(cause); ok {
		return ge
	}
	switch {
	case errors.Is(cause, context.Canceled):
		t.say("stopping (interrupted)")
		return nil
	case cause != nil: // main's signal: interrupted, or terminated (SIGTERM)
		t.say("stopping (%v)", cause)
		return nil
	case err == nil:
		t.say("stopping: the hub shut these engines down")
		return nil
	}
	return err
}

// newDaemon makes the engines' daemon; conn will hold its connection.
func newDaemon(ctx context.Context, cfg Config, grace time.Duration, t *terminal, log *slog.Logger) (*engine.Daemon, *connHolder, error) {
	ec, cf := cfg.Engine, cfg.Conn
	base := slices.Clip(cfg.Options)
	if grace > 0 {
		base = append(base, nats.PingInterval(pingInterval(grace)), nats.MaxPingsOutstanding(2))
	}
	conn := new(connHolder)
	wait := max(time.Duration(ec.ReconnectWait), 100*time.Millisecond)
	retrying := "retrying every " + wait.String()
	if grace > 0 {
		retrying += fmt.Sprintf(" for %v (the grace period)", grace)
	}
	lost := nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
		if !nc.IsClosed() && ctx.Err() == nil {
			t.say("hub lost; %s", retrying)
			log.Info("hub lost", "err", err)
		}
	})
	dial := func(ctx context.Context, opts ...nats.Option) (*nats.Conn, error) {
		all := append(append(base, lost, nats.MaxReconnects(-1), nats.ReconnectWait(wait)), opts...)
		nc, err := dialUntil(ctx, cf, all, wait, grace, t, log)
		if err != nil {
			return nil, err
		}
		conn.set(nc)
		return nc, nil
	}
	startup, err := startupCode(ec)
	if err != nil {
		return nil, nil, &ConfigError{err}
	}
	ecfg := engine.ConfigFrom(ec)
	ecfg.Version, ecfg.GOARM, ecfg.Startup = cfg.Version, cfg.GOARM, startup
	machine, _ := os.Hostname()
	if ec.Name != "" && ec.Name != machine {
		machine = ec.Name + " (" + machine + ")"
	}
	ecfg.OnRegistered = func(ids []int, again bool) {
		if again {
			t.say("reconnected as %s", engineIDs(ids))
		} else {
			t.say("joined as %s on %s", engineIDs(ids), machine)
		}
	}
	d, err := engine.New(ecfg, dial, log)
	if err != nil {
		return nil, nil, &ConfigError{err}
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

// dialTimeout bounds each TCP connection to the hub and the hub's first
// answer; Ctrl-C stops a dial at once (transport.Dial).
const dialTimeout = 5 * time.Second

// dialUntil connects to the hub; while nothing answers (the hub is not up
// yet), it tries again every wait, for ever or until grace (when not 0).
func dialUntil(ctx context.Context, cf conf.ConnFile, opts []nats.Option, wait, grace time.Duration, t *terminal, log *slog.Logger) (*nats.Conn, error) {
	start := time.Now()
	urls := strings.Join(cf.URLs, ",")
	for {
		nc, err := transport.Dial(ctx, cf.URLs, dialTimeout, opts...)
		switch {
		case err == nil:
			return nc, nil
		case ctx.Err() != nil:
			return nil, err // ctx's cause
		case !errors.Is(err, nats.ErrNoServers) && !transient(err) || (grace > 0 && time.Since(start) > grace):
			return nil, dialError(cf, err)
		case time.Since(start) < wait:
			t.say("no hub answers yet at %s; trying again every %v until one does (Ctrl-C to stop)", urls, wait)
			log.Info("no hub answers yet", "urls", urls, "every", wait)
		}
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(wait):
		}
	}
}

// transient reports whether a connection failed because the hub went
// away or stalled as it answered (killed or restarting, frozen), which a
// later try may not meet; a refusal or a TLS mismatch is not.
func transient(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, nats.ErrTimeout)
}

// dialError explains a failed connection to the hub.
func dialError(cf conf.ConnFile, err error) error {
	urls := strings.Join(cf.URLs, ",")
	switch {
	case errors.Is(err, nats.ErrAuthorization):
		return fmt.Errorf("the hub at %s refused the credentials: the connection file is from another hub or an older start of it; copy the current engine-connection.toml from the hub's security/ folder", urls)
	case errors.Is(err, nats.ErrSecureConnRequired), errors.Is(err, nats.ErrSecureConnWanted), isCertError(err):
		return fmt.Errorf("TLS to the hub at %s failed (%v): plain nats:// to a TLS hub, or a connection file from another hub; copy the current engine-connection.toml from the hub's security/ folder", urls, err)
	case errors.Is(err, nats.ErrNoServers):
		return fmt.Errorf("no hub answers at %s: is `pirun hub` running there, and is the port open?", urls)
	}
	return fmt.Errorf("connect to the hub at %s: %w", urls, err)
}

// terminal writes human lines about the engines, "pirun engine: …"; a nil
// writer says nothing. It is safe for concurrent use.
type terminal struct {
	mu sync.Mutex
	w  io.Writer
}

func (t *terminal) say(format string, args ...any) {
	if t.w == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "pirun engine: "+format+"\n", args...)
}

// engineIDs renders sorted ids: "engine 3", "engines 0-3, 7".
func engineIDs(ids []int) string {
	if len(ids) == 1 {
		return "engine " + strconv.Itoa(ids[0])
	}
	return "engines " + wire.IDRanges(ids)
}

// LocalConfig is the engine settings of the zero-set-up cluster: [engine]
// defaults, PIRUN_* variables, then n; data_dir is the folder of script.
func LocalConfig(getenv func(string) string, n int, script string) (engine.Config, error) {
	ec := conf.DefaultEngine()
	if err := ec.ApplyEnv(getenv); err != nil {
		return engine.Config{}, err
	}
	if n > 0 {
		ec.Engines = n
	}
	if ec.Engines == 0 {
		ec.Engines = runtime.NumCPU()
	}
	dir := ec.DataDir
	if dir == "" {
		abs, err := filepath.Abs(filepath.Dir(script))
		if err != nil {
			return engine.Config{}, err
		}
		dir = abs
	}
	cfg := engine.ConfigFrom(ec)
	cfg.DataDir, cfg.Heartbeat = dir, cfg.Heartbeat/2
	if ec.OutDir == "" && ec.MaxOutBytes == 0 {
		// The engines write into the user's own folder, running the user's
		// own script, as the host's files does: no quota, and no walk of a
		// folder that may hold the whole home to count one.
		cfg.MaxOutBytes = -1
	}
	return cfg, nil
}
