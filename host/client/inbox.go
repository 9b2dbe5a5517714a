// This file defines how a client receives what is sent to it: results
// (from daemons, whose id ends the subject and is pinned by the hub, and
// from the hub), streamed output (from daemons) and acknowledgements of
// the parts the client sends, all through one subscription of its own
// subjects. One subscription keeps their arrival order (a task's output,
// which its daemon sends before its result, is handled before the
// result) and its nats.go pending limits bound them in messages and in
// bytes. Past a limit nats.go drops messages (a slow consumer): the
// client then says so on stderr and, once it has caught up, asks again
// for what it may have lost, as after a reconnection (reconnect.go), so
// that no dropped result is lost or waited for forever.

package client

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// The default bounds of what a client has received and not handled yet:
// 256k messages (a million tiny results in flight), and 512 MiB, enough
// for 16 large values arriving at once (each at most
// transport.PartWindowBytes, 16 MiB, of unacknowledged parts: 16 parts of
// transport.DefaultPartSize, 1 MiB).
const (
	DefaultMaxPending      = 1 << 18
	DefaultMaxPendingBytes = 512 << 20
)

// catchUpEvery is how often a client that fell behind checks whether it
// caught up.
const catchUpEvery = 50 * time.Millisecond

// subscribe subscribes the client's own subjects with their handlers and
// bounds them, and reports nats.go's drops (ErrSlowConsumer) to onSlow.
func (c *Client) subscribe() error {
	sub, err := c.nc.Subscribe(wire.ClientAll(c.id), c.route)
	if err != nil {
		return err
	}
	msgs, bytes := c.cfg.MaxPending, c.cfg.MaxPendingBytes
	if msgs <= 0 {
		msgs = DefaultMaxPending
	}
	if bytes <= 0 {
		bytes = DefaultMaxPendingBytes
	}
	if err := sub.SetPendingLimits(msgs, bytes); err != nil {
		return err
	}
	c.sub = sub
	prev := c.nc.Opts.AsyncErrorCB
	c.nc.SetErrorHandler(func(nc *nats.Conn, s *nats.Subscription, err error) {
		if s == sub && errors.Is(err, nats.ErrSlowConsumer) {
			c.onSlow() // which says it in the user's terms
			return
		}
		if prev != nil {
			prev(nc, s, err)
		}
	})
	return nil
}

// route hands a message of the client's subjects to its handler.
func (c *Client) route(m *nats.Msg) {
	switch kind, daemon := wire.ClientSubject(m.Subject); {
	case kind == "r":
		c.onResults(m)
	case kind == "o" && daemon != "":
		c.onOutput(m)
	case kind == "a" && daemon == "":
		c.out.OnAck(m)
	case kind == "f" && daemon == "":
		c.onFence(m)
	}
}

// onSlow starts catching up after nats.go dropped messages, unless that
// is under way.
func (c *Client) onSlow() {
	select {
	case <-c.closed:
		return
	default:
	}
	if c.slowing.CompareAndSwap(false, true) {
		c.wg.Go(c.catchUp)
	}
}

// catchUp waits until the client handled most of its backlog, says what
// was dropped, and asks again for the results it may have lost: the
// daemons resend those of its direct tasks, the hub those of its
// detached ones, and its unfinished load-balanced tasks are submitted
// again (the hub skips those it still holds). It goes on until no drop is
// left unanswered.
func (c *Client) catchUp() {
	handled := 0
	msgs, bytes, _ := c.sub.PendingLimits()
	for {
		for {
			select {
			case <-c.closed:
				return
			case <-time.After(catchUpEvery):
			}
			n, b, err := c.sub.Pending()
			if err != nil || (n <= msgs/2 && b <= bytes/2) {
				break
			}
		}
		dropped, _ := c.sub.Dropped()
		if dropped == handled {
			c.slowing.Store(false)
			if d, _ := c.sub.Dropped(); d == handled || !c.slowing.CompareAndSwap(false, true) {
				return
			}
			continue
		}
		c.say(fmt.Sprintf("pirun: this client fell behind reading what the engines and the hub send it, and %d messages were dropped "+
			"(past %d messages or %d MiB waiting); results are asked for again and unfinished tasks resubmitted, but dropped print output is lost. "+
			"To avoid it: print less in tasks, wait for results in smaller batches, or raise the client's limits",
			dropped-handled, msgs, bytes>>20))
		handled = dropped
		c.recoverLost(false)
	}
}
