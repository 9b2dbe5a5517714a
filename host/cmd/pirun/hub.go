// This file defines `pirun hub`: the hub on its own, writing the
// connection files that clients and engines use.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"strconv"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host"
	"github.com/pirun-dev/pirun/starlib/wire"
)

func runHub(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun hub", flag.ContinueOnError)
	ip := fs.String("ip", "", "interface to listen on; '*' for all (default: the profile's, else 127.0.0.1)")
	port := fs.Int("port", -1, "TCP port; 0 picks a free one (default: the profile's, else 4222)")
	profile := fs.String("profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	verbose := fs.Bool("v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args, `Usage: pirun hub [--ip ADDR] [--port N] [--profile P]

Starts a hub and writes security/client-connection.toml and
security/engine-connection.toml into the profile folder.
`,
		`  pirun hub --ip '*' --port 4222
`); !ok {
		return code
	}
	log := newLogger(e.stderr, *verbose, e.getenv)
	paths, prof, err := openProfile(e, *profile)
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun hub: %v\n", err)
		return exitUsage
	}
	if *ip != "" {
		prof.Hub.IP = *ip
	}
	if *port >= 0 {
		prof.Hub.Port = *port
	}
	auth, err := host.NewAuth()
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun hub: %v\n", err)
		return exitUnavailable
	}
	hub, err := host.NewHub(host.HubConfig{Host: prof.Hub.IP, Port: prof.Hub.Port, Version: version, Auth: auth,
		MaxPayload: int(prof.Hub.MaxPayload), Heartbeat: time.Duration(prof.Hub.Heartbeat) / 2,
		EngineTimeout: time.Duration(prof.Hub.EngineTimeout)}, log)
	if err != nil {
		fmt.Fprintf(e.stderr, "pirun hub: %v\n", err)
		return exitUsage
	}
	if err := hub.Start(); err != nil {
		fmt.Fprintf(e.stderr, "pirun hub: %v\n", err)
		return exitUnavailable
	}
	defer hub.Shutdown()
	url := advertise(prof.Hub, hub)
	for _, f := range []struct {
		path, role, user, pass string
	}{
		{paths.ClientConn, conf.RoleClient, host.UserClient, auth.Client},
		{paths.EngineConn, conf.RoleEngine, host.UserEngine, auth.Engine},
	} {
		cf := conf.ConnFile{Role: f.role, Protocol: wire.ProtocolVersion, HubID: hub.ID(), URLs: []string{url},
			User: f.user, Password: f.pass, Created: time.Now().UTC().Truncate(time.Second)}
		if err := conf.WriteConnFile(f.path, cf); err != nil {
			fmt.Fprintf(e.stderr, "pirun hub: %v\n", err)
			return exitUsage
		}
	}
	if prof.Hub.IP == "*" {
		fmt.Fprintf(e.stderr, "pirun hub: warning: listening on all interfaces; anyone who can reach port %d may try to connect (credentials are required)\n", hub.Addr().(*net.TCPAddr).Port)
	}
	fmt.Fprintf(e.stdout, "pirun hub %s listening on %s (id %s)\n", version, url, hub.ID())
	fmt.Fprintf(e.stdout, "client connection file: %s\nengine connection file: %s\n", paths.ClientConn, paths.EngineConn)
	fmt.Fprintf(e.stdout, "on each node, copy the engine connection file and run:\n  pirun engine --connect engine-connection.toml\n")
	<-ctx.Done()
	return exitOK
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

// advertise returns the URL engines should dial.
func advertise(h conf.Hub, hub *host.Hub) string {
	port := hub.Addr().(*net.TCPAddr).Port
	addr := h.Advertise
	if addr == "" {
		addr = h.IP
		if addr == "*" || addr == "" || addr == "0.0.0.0" {
			addr = outboundIP()
		}
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		addr = net.JoinHostPort(addr, strconv.Itoa(port))
	}
	return "nats://" + addr
}

// outboundIP guesses this machine's address on its LAN (no packet is sent).
func outboundIP() string {
	ifaces, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range ifaces {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
