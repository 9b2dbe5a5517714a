// This file defines how a client or an engine connects with a connection
// file: URLs, credentials, TLS and what a failed connection means.

package cluster

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/launch"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// LoadConn reads a connection file for role, or accepts a nats:// URL.
// Warnings about the file go to log.
func LoadConn(path, role string, log *slog.Logger) (conf.ConnFile, error) {
	if strings.HasPrefix(path, "nats://") || strings.HasPrefix(path, "tls://") {
		return conf.ConnFile{Role: role, URLs: []string{path}}, nil
	}
	cf, warnings, err := conf.LoadConnFile(path)
	if errors.Is(err, fs.ErrNotExist) && role == conf.RoleClient {
		return cf, &client.ClusterError{Msg: fmt.Sprintf("no hub to connect to: %s does not exist (a hub writes it when it starts). "+
			"Start one with: pirun hub [--profile P] (or pirun cluster start), or name a running one with --profile P or --connect FILE", path)}
	}
	if err != nil {
		return cf, err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	if cf.Role != role {
		return cf, fmt.Errorf("%s: this is %s %s connection file; %s %s needs security/%s-connection.toml", path, Article(cf.Role), cf.Role, Article(role), role, role)
	}
	return cf, nil
}

// NATSOptions turns a connection file into connection options named name.
func NATSOptions(cf conf.ConnFile, name string) ([]nats.Option, error) {
	opts := []nats.Option{nats.Name(name)}
	if cf.User != "" {
		opts = append(opts, nats.UserInfo(cf.User, cf.Password))
	}
	tc, err := client.TLSConfig(cf)
	if err != nil {
		return nil, err
	}
	for _, u := range cf.URLs {
		if tc != nil && strings.HasPrefix(u, "nats://") {
			return nil, fmt.Errorf("hub URL %s is plain nats://, but the file holds the [tls] material of a TLS hub: write tls:// instead, or copy the file again from the hub's security/ folder (plain connections to a TLS hub are refused)", u)
		}
	}
	if tc != nil {
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

// DialError explains a failed connection to the hub of cf.
func DialError(cf conf.ConnFile, err error) error {
	urls := strings.Join(cf.URLs, ",")
	var in *Interrupt
	switch {
	case errors.As(err, &in):
		return err
	case errors.Is(err, nats.ErrAuthorization):
		return &client.ClusterError{Msg: fmt.Sprintf("the hub at %s refused the credentials: the connection file is from another hub or an older start of it; copy the current one from the hub's security/ folder", urls)}
	case IsTLSMismatch(err):
		return &client.ClusterError{Msg: fmt.Sprintf("TLS to the hub at %s failed (%v): plain nats:// to a TLS hub, or a connection file from another hub; copy the current one from the hub's security/ folder", urls, err)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &client.ClusterError{Msg: fmt.Sprintf("something at %s accepted the connection but did not answer as a hub within %v: is `pirun hub` (and not another program) listening on that port?", urls, dialTimeout)}
	case errors.Is(err, nats.ErrNoServers):
		return &client.ClusterError{Msg: fmt.Sprintf("no hub answers at %s: is `pirun hub` running there, and is the port open?", urls)}
	}
	return &client.ClusterError{Msg: fmt.Sprintf("connect to the hub at %s: %v", urls, err)}
}

// Connect connects a client with a client connection file, through an
// ssh tunnel to gateway ssh unless it is "" (the tunnel lasts as long as
// ctx).
func Connect(ctx context.Context, path, ssh string, cfg client.Config, log *slog.Logger) (*client.Client, error) {
	cf, err := LoadConn(path, conf.RoleClient, log)
	if client.IsCluster(err) {
		return nil, err
	}
	if err != nil {
		return nil, &ConfigError{err}
	}
	if ssh != "" {
		if _, err := Tunnel(ctx, "ssh", ssh, &cf, log); err != nil {
			return nil, err
		}
	}
	opts, err := NATSOptions(cf, "pirun-client")
	if err != nil {
		return nil, &ConfigError{fmt.Errorf("%s: %w", path, err)}
	}
	if cfg.Identity, err = transport.NewIdentity(); err != nil {
		return nil, err
	}
	opts = append(opts, cfg.Identity.Option(), nats.CustomInboxPrefix(wire.ClientInbox(cfg.Identity.ID())))
	// A client of a pirun hub outlives the hub's restarts: it reconnects
	// for as long as it runs and then resubmits what it owns.
	opts = append(opts, client.ReconnectOptions()...)
	nc, err := dial(ctx, cf.URLs, opts)
	if err != nil {
		return nil, DialError(cf, err)
	}
	cfg.Hint = engineHint(path)
	return client.Connect(ctx, nc, cfg, log)
}

// dialTimeout bounds a connection to the hub: the TCP connection and
// the hub's first answer.
const dialTimeout = 5 * time.Second

// dial connects to the hub at urls, giving up as soon as ctx is done
// (transport.Dial).
func dial(ctx context.Context, urls []string, opts []nats.Option) (*nats.Conn, error) {
	return transport.Dial(ctx, urls, dialTimeout, opts...)
}

// IsTLSMismatch reports whether a connection failed on TLS: a certificate
// that does not verify, or a TLS hub reached without TLS and the reverse.
func IsTLSMismatch(err error) bool {
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ce *tls.CertificateVerificationError
	return errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ce) ||
		errors.Is(err, nats.ErrSecureConnRequired) || errors.Is(err, nats.ErrSecureConnWanted)
}

// Article is "an" before a word that starts with a vowel, else "a".
func Article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

// ReadConnStdin reads an engine connection file that a launcher wrote to
// r, ending with a NUL byte (launch.ConnPayload); it never touches the
// disk.
func ReadConnStdin(r io.Reader) (conf.ConnFile, error) {
	data, err := launch.ReadConnPayload(r)
	if err != nil {
		return conf.ConnFile{}, err
	}
	cf, err := conf.ParseConnFile("connection file from stdin", data)
	if err != nil {
		return cf, err
	}
	if cf.Role != conf.RoleEngine {
		return cf, fmt.Errorf("connection file from stdin: this is %s %s connection file; an engine needs security/engine-connection.toml", Article(cf.Role), cf.Role)
	}
	return cf, nil
}

// engineHint says how to start engines for the hub of the client
// connection file at path: with the engine file beside it when this
// machine has one (the hub's own profile), else with the hub's.
func engineHint(path string) string {
	engineFile := strings.Replace(path, conf.RoleClient+"-connection", conf.RoleEngine+"-connection", 1)
	if fi, err := os.Stat(engineFile); engineFile != path && err == nil && fi.Mode().IsRegular() {
		return "start engines with: pirun engine --connect " + engineFile
	}
	return "start engines on each machine with: pirun engine --connect engine-connection.toml, a copy of the file in the security/ folder of the hub's profile (pirun hub prints where it is)"
}
