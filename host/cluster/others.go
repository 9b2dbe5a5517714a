// This file defines Others: the clusters a script names with
// Client(profile=…) or Client(connect=…), besides its own.

package cluster

import (
	"context"
	"io"
	"sync"

	"github.com/pirun-dev/pirun/host/client"
)

// Others opens the clusters a script names, and closes them at its end.
type Others struct {
	stderr  io.Writer
	getenv  func(string) string
	ssh     string
	cfg     client.Config
	verbose bool

	mu      sync.Mutex
	clients []*client.Client
}

// NewOthers returns the set of a run whose clients use cfg, through an
// ssh tunnel to gateway ssh unless "".
func NewOthers(stderr io.Writer, getenv func(string) string, ssh string, cfg client.Config, verbose bool) *Others {
	return &Others{stderr: stderr, getenv: getenv, ssh: ssh, cfg: cfg, verbose: verbose}
}

// Connect is api.Script's Connect: it connects to the cluster of a
// client connection file, else of a profile.
func (o *Others) Connect(ctx context.Context, profile, connect string) (*client.Client, error) {
	if connect == "" {
		paths, _, err := OpenProfile(profile, o.getenv, o.stderr)
		if err != nil {
			return nil, err
		}
		connect = paths.ClientConn
	}
	c, err := Connect(ctx, connect, o.ssh, o.cfg, NewLogger(o.stderr, o.verbose, o.getenv))
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.clients = append(o.clients, c)
	o.mu.Unlock()
	return c, nil
}

// Close closes the clients it opened.
func (o *Others) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, c := range o.clients {
		c.Close()
	}
	o.clients = nil
}
