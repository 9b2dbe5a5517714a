// This file defines how a client or an engine connects with a connection
// file: URLs, credentials and reconnection.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host"
)

// loadConn reads a connection file for role, or accepts a nats:// URL.
func loadConn(path, role string, log *slog.Logger) (conf.ConnFile, error) {
	if strings.HasPrefix(path, "nats://") || strings.HasPrefix(path, "tls://") {
		return conf.ConnFile{Role: role, URLs: []string{path}}, nil
	}
	cf, warnings, err := conf.LoadConnFile(path)
	if err != nil {
		return cf, err
	}
	for _, w := range warnings {
		log.Warn(w)
	}
	if cf.Role != role {
		return cf, fmt.Errorf("%s: this is a %s connection file; a %s needs security/%s-connection.toml", path, cf.Role, role, role)
	}
	return cf, nil
}

// natsOptions turns a connection file into connection options.
func natsOptions(cf conf.ConnFile, name string) []nats.Option {
	opts := []nats.Option{nats.Name(name)}
	if cf.User != "" {
		opts = append(opts, nats.UserInfo(cf.User, cf.Password))
	}
	return opts
}

// dialError explains a failed connection.
func dialError(cf conf.ConnFile, err error) error {
	switch {
	case errors.Is(err, nats.ErrAuthorization):
		return &host.ClusterError{Msg: fmt.Sprintf("the hub at %s refused the credentials: the connection file is from another hub or an older start of it; copy the current one from the hub's security/ folder", strings.Join(cf.URLs, ","))}
	case errors.Is(err, nats.ErrNoServers):
		return &host.ClusterError{Msg: fmt.Sprintf("no hub answers at %s: is `pirun hub` running there, and is the port open?", strings.Join(cf.URLs, ","))}
	}
	return &host.ClusterError{Msg: fmt.Sprintf("connect to the hub at %s: %v", strings.Join(cf.URLs, ","), err)}
}

// connectFile connects a client with a client connection file.
func connectFile(ctx context.Context, path string, cfg host.ClientConfig, log *slog.Logger) (*host.Client, error) {
	cf, err := loadConn(path, conf.RoleClient, log)
	if err != nil {
		return nil, &configError{err}
	}
	opts := append(natsOptions(cf, "pirun-client"), nats.Timeout(5*time.Second))
	nc, err := nats.Connect(strings.Join(cf.URLs, ","), opts...)
	if err != nil {
		return nil, dialError(cf, err)
	}
	cfg.Hint = "start engines with: pirun engine --connect " + strings.Replace(path, conf.RoleClient+"-connection", conf.RoleEngine+"-connection", 1)
	return host.Connect(ctx, nc, cfg, log)
}
