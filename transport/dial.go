// This file defines Dial, how the hub's clients, admin tools and engine
// daemons connect to it: as nats.Connect does, but giving up as soon as
// the caller's context ends.

package transport

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Dial connects to the NATS server at urls as nats.Connect does, each TCP
// connection and the server's first answer bounded by timeout, but gives
// up as soon as ctx is done: an address that does not answer, or a
// listener that accepts and says nothing, holds Ctrl-C no longer than
// closing the socket takes. The connection made is not tied to ctx; its
// reconnections are plain dials. On ctx's end it returns ctx's cause.
func Dial(ctx context.Context, urls []string, timeout time.Duration, opts ...nats.Option) (*nats.Conn, error) {
	d := &handshakeDialer{ctx: ctx, timeout: timeout}
	nc, err := nats.Connect(strings.Join(urls, ","), append(opts, nats.Timeout(timeout), nats.SetCustomDialer(d))...)
	d.connected()
	if err != nil && ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return nc, err
}

// handshakeDialer dials with a context until connected is called: the
// connections it made by then are closed when the context ends.
type handshakeDialer struct {
	ctx     context.Context
	timeout time.Duration
	mu      sync.Mutex
	stops   []func() bool
	done    bool
}

func (d *handshakeDialer) Dial(network, address string) (net.Conn, error) {
	nd := net.Dialer{Timeout: d.timeout}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done {
		return nd.Dial(network, address)
	}
	conn, err := nd.DialContext(d.ctx, network, address)
	if err == nil {
		d.stops = append(d.stops, context.AfterFunc(d.ctx, func() { conn.Close() }))
	}
	return conn, err
}

// connected unties the connections made so far from the context.
func (d *handshakeDialer) connected() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done = true
	for _, stop := range d.stops {
		stop()
	}
	d.stops = nil
}
