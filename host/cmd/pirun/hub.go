// This file defines the flags of `pirun hub`: the hub on its own
// (host/cluster.OpenHub starts it).

package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/pirun-dev/pirun/host/cluster"
)

func runHub(ctx context.Context, e *env, args []string) int {
	if code, ok := runHubEngines(e, args); ok {
		return code
	}
	fs := flag.NewFlagSet("pirun hub", flag.ContinueOnError)
	s := cluster.HubSettings{Version: version}
	fs.StringVar(&s.IP, "ip", "", "interface to listen on; '*' for all (default: the profile's, else 127.0.0.1)")
	fs.IntVar(&s.Port, "port", -1, "TCP port; 0 picks a free one (default: the profile's, else 4222)")
	fs.StringVar(&s.Profile, "profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	fs.StringVar(&s.TLS, "tls", "", "off, auto (a private CA and certificate made in security/) or files (default: the profile's [hub] tls)")
	fs.StringVar(&s.HTTP, "http", "", "serve the live dashboard at host:port, e.g. 127.0.0.1:8080 (default: the profile's [hub] http)")
	fs.BoolVar(&s.Verbose, "v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return unexpectedArg(e, fs)
	}
	ph, err := cluster.OpenHub(e.stderr, e.getenv, s)
	if err != nil {
		return reportAs(e, "pirun hub", err)
	}
	defer ph.Close()
	ph.Announce(e.stdout, e.stderr)
	select {
	case <-ctx.Done():
		if in := e.interrupted(nil); in != nil {
			fmt.Fprintf(e.stderr, "pirun hub: stopping (%v)\n", in)
		}
	case <-ph.Hub.ShutdownRequested(): // a client's shutdown(hub=True)
	}
	return exitOK
}
