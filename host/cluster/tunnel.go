// This file defines Tunnel: a client's or an engine's connection to
// the hub through an ssh gateway (--ssh user@gateway), for hubs whose port
// cannot be reached directly.

package cluster

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/launch"
)

// Tunnel opens an ssh tunnel through gateway ("[user@]host[:port]")
// to the hub of cf and rewrites cf.URLs to the tunnel's local end. With
// TLS, the hub's certificate is still checked against the hub's own name
// (cf.TLS.ServerName). Only the first URL is tunnelled. stop closes the
// tunnel. Errors are *ConfigError for a bad gateway or URL, else
// *client.ClusterError.
func Tunnel(ctx context.Context, sshProg, gateway string, cf *conf.ConnFile, log *slog.Logger) (stop func(), err error) {
	if _, err := launch.ParseGateway(gateway); err != nil {
		return nil, &ConfigError{err}
	}
	if len(cf.URLs) == 0 {
		return nil, &ConfigError{fmt.Errorf("--ssh %s: the connection file has no hub URL to tunnel to", gateway)}
	}
	u, err := url.Parse(cf.URLs[0])
	if err != nil || u.Hostname() == "" {
		return nil, &ConfigError{fmt.Errorf("--ssh %s: hub URL %q: expected nats://host:port or tls://host:port", gateway, cf.URLs[0])}
	}
	target := u.Host
	if u.Port() == "" {
		target = net.JoinHostPort(u.Hostname(), strconv.Itoa(conf.DefaultHubPort))
	}
	if len(cf.URLs) > 1 {
		log.Warn("ssh tunnel: only the first hub URL is tunnelled", "url", cf.URLs[0], "ignored", cf.URLs[1:])
	}
	local, stop, err := launch.Tunnel(ctx, sshProg, gateway, target, log)
	if err != nil {
		return nil, &client.ClusterError{Msg: err.Error()}
	}
	log.Debug("ssh tunnel open", "gateway", gateway, "target", target, "local", local)
	if (u.Scheme == "tls" || cf.TLS.Enabled()) && cf.TLS.ServerName == "" {
		cf.TLS.ServerName = u.Hostname()
	}
	cf.URLs = []string{u.Scheme + "://" + local}
	return stop, nil
}
