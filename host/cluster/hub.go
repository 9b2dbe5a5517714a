// This file defines the hub of a profile: its credentials (made on the
// first start and kept), its registry of engine ids, TLS when asked, and
// the connection files that clients and engines use.

package cluster

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/hub"
)

// HubSettings are the flags of a hub start; zero values leave the
// profile's settings.
type HubSettings struct {
	Profile, IP, TLS, HTTP string
	Port                   int // -1 = the profile's
	Verbose                bool
	Version                string // this pirun's, announced to engines
}

// ProfileHub is a running hub of a profile.
type ProfileHub struct {
	Hub   *hub.Hub
	Paths conf.ProfilePaths
	Prof  conf.Profile
	URL   string // the URL written into the connection files
	Log   *slog.Logger
	logs  *Logs
	ver   string
}

// OpenHub starts the hub of a profile and writes its connection files.
// Its log goes to stderr and the profile's log/hub.log. Errors of
// configuration are *ConfigError (exit 2); others mean the hub could not
// start (exit 3).
func OpenHub(stderr io.Writer, getenv func(string) string, s HubSettings) (*ProfileHub, error) {
	paths, prof, err := OpenProfile(s.Profile, getenv, stderr)
	if err != nil {
		return nil, &ConfigError{err}
	}
	if err := s.apply(&prof.Hub); err != nil {
		return nil, &ConfigError{err}
	}
	logs, log, err := OpenLogs(stderr, getenv, paths, prof.Log, "hub", "", s.Verbose)
	if err != nil {
		return nil, &ConfigError{err}
	}
	ph := &ProfileHub{Paths: paths, Prof: prof, Log: log, logs: logs, ver: s.Version}
	if err := ph.start(); err != nil {
		logs.Close()
		return nil, err
	}
	return ph, nil
}

// apply sets the flags that were given over the profile's [hub] table.
func (s HubSettings) apply(h *conf.Hub) error {
	if s.IP != "" {
		h.IP = s.IP
	}
	if s.Port >= 0 {
		h.Port = s.Port
	}
	if s.HTTP != "" {
		if !conf.ValidHTTPAddr(s.HTTP) {
			return fmt.Errorf("--http %q: expected host:port, e.g. 127.0.0.1:8080, or :8080 for every interface", s.HTTP)
		}
		h.HTTP = s.HTTP
	}
	if s.TLS != "" {
		switch s.TLS {
		case conf.TLSOff, conf.TLSAuto, conf.TLSFiles:
			h.TLS = s.TLS
		default:
			return fmt.Errorf("--tls %q: expected off, auto or files", s.TLS)
		}
	}
	return nil
}

// start makes or loads the credentials and TLS material, starts the hub
// and writes the connection files.
func (ph *ProfileHub) start() error {
	secrets, err := hub.Secrets(ph.Paths.HubSecrets)
	if err != nil {
		return &ConfigError{err}
	}
	tlsCfg, ctls, err := hub.TLS(ph.Prof.Hub, ph.Paths)
	if err != nil {
		return &ConfigError{err}
	}
	h := ph.Prof.Hub
	if err := portFree(h); err != nil {
		return err
	}
	hb, err := hub.New(hub.Config{Host: h.IP, Port: h.Port, Version: ph.ver, ID: secrets.HubID,
		Auth: &hub.Auth{Hub: secrets.Hub, Client: secrets.Client, Engine: secrets.Engine,
			EnginesDir: ph.Paths.Engines},
		Registry:   ph.Paths.Registry,
		TLS:        tlsCfg,
		MaxPayload: int(h.MaxPayload), Heartbeat: time.Duration(h.Heartbeat) / 2,
		EngineTimeout: time.Duration(h.EngineTimeout), HTTP: h.HTTP,
		StateDir: ph.Paths.State, TaskRecords: h.TaskRecords, ResultsMaxBytes: int64(h.ResultsMaxBytes),
		DetachedMaxPending: h.DetachedMaxPending, DetachedMaxBytes: int64(h.DetachedMaxBytes),
		Transport: hub.TransportLimits(h)}, ph.Log)
	if err != nil {
		return &ConfigError{err}
	}
	if err := hb.Start(); err != nil {
		return &client.ClusterError{Msg: err.Error()}
	}
	ph.Hub = hb
	ph.URL = hb.Advertise(h, tlsCfg != nil)
	if err := hub.WriteConnFiles(ph.Paths, ph.URL, secrets, ctls); err != nil {
		hb.Shutdown()
		return err
	}
	return nil
}

// Announce prints where the hub listens, where its files are and how a
// node joins: facts on stdout, warnings on stderr.
func (ph *ProfileHub) Announce(stdout, stderr io.Writer) {
	port := ph.Hub.Addr().(*net.TCPAddr).Port
	if ph.Prof.Hub.AllInterfaces() {
		fmt.Fprintf(stderr, "pirun hub: warning: listening on all interfaces; anyone who can reach port %d may try to connect (credentials are required)\n", port)
	}
	fmt.Fprintf(stdout, "pirun hub %s listening on %s (id %s)\n", ph.ver, ph.URL, ph.Hub.ID())
	fmt.Fprintf(stdout, "the one port to open in a firewall: TCP %d\n", port)
	fmt.Fprintf(stdout, "client connection file: %s\nengine connection file: %s\n", ph.Paths.ClientConn, ph.Paths.EngineConn)
	if u := ph.Hub.DashURL(); u != "" {
		fmt.Fprintf(stdout, "dashboard: %s\n", u) // its own port, for browsers only
	}
	if ph.logs.Path != "" {
		fmt.Fprintf(stdout, "log: %s\n", ph.logs.Path)
	}
	if host, _, err := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(ph.URL, "nats://"), "tls://")); err == nil && isLoopback(host) {
		fmt.Fprintf(stdout, "engines on this machine: pirun engine\n")
		fmt.Fprintf(stderr, "pirun hub: note: it listens on %s, which no other machine can reach; for engines on other nodes start it with --ip '*' (or this machine's address; [hub] ip in %s)\n", host, ph.Paths.Config)
		return
	}
	fmt.Fprintf(stdout, "on each node, copy the engine connection file and run:\n  pirun engine --connect engine-connection.toml\n")
}

// portFree fails at once, in one line, when the hub's port is taken,
// instead of the server's own retries and log lines.
func portFree(h conf.Hub) error {
	if h.Port <= 0 {
		return nil
	}
	ip := h.IP
	if h.AllInterfaces() {
		ip = ""
	}
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(h.Port)))
	if errors.Is(err, syscall.EADDRINUSE) {
		return &client.ClusterError{Msg: fmt.Sprintf("port %d is in use on %s: another hub (see pirun status) or another program listens there; stop it, or choose another port with --port N (or [hub] port)", h.Port, cmpStr(h.IP, "every interface"))}
	}
	if err != nil {
		return &client.ClusterError{Msg: fmt.Sprintf("cannot listen on port %d: %v", h.Port, err)}
	}
	return l.Close()
}

// cmpStr returns a unless it is "", else b.
func cmpStr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Close stops the hub and closes its log.
func (ph *ProfileHub) Close() {
	ph.Hub.Shutdown()
	ph.logs.Close()
}

// EngineCredential gives engine machine name a credential of its own
// (add) or takes it back, and says on w what to do next.
func EngineCredential(w io.Writer, paths conf.ProfilePaths, add bool, name string) error {
	if !add {
		if err := hub.RevokeEngine(paths, name); err != nil {
			return err
		}
		fmt.Fprintf(w, "engine %s revoked: a running hub disconnects its engines within a second and refuses them from now on\n", name)
		return nil
	}
	path, err := hub.AddEngine(paths, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "engine %s: %s\ncopy it to that machine only and run:\n  pirun engine --connect %s.toml\n", name, path, name)
	return nil
}
