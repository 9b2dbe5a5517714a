// This file defines the client's fence: a marker it sends itself through
// its own subscription, which keeps arrival order. Once the marker is
// handled, so is everything the subscription had received before it, so
// a task whose result waited there is not taken for lost (and sent
// again, to run twice) when the client recovers after a reconnection or
// a slow-consumer drop.

package client

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// fenceWait bounds how long recovery waits for the client's backlog;
// fenceCheck is how often a fence looks for drops that may have taken
// its marker, to send it again.
const (
	fenceWait  = 2 * time.Minute
	fenceCheck = 100 * time.Millisecond
)

// fences are the markers sent and not yet handled.
type fences struct {
	mu   sync.Mutex
	seq  uint64
	wait map[uint64]chan struct{}
}

// fence returns once everything the client's subscription received
// before now was handled, or with an error when ctx is done or the
// client closes first.
func (c *Client) fence(ctx context.Context) error {
	f := &c.fences
	f.mu.Lock()
	f.seq++
	seq, done := f.seq, make(chan struct{})
	if f.wait == nil {
		f.wait = make(map[uint64]chan struct{})
	}
	f.wait[seq] = done
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.wait, seq)
		f.mu.Unlock()
	}()
	marker := binary.BigEndian.AppendUint64(nil, seq)
	dropped, _ := c.sub.Dropped()
	if err := c.nc.Publish(wire.ClientFence(c.id), marker); err != nil {
		return fmt.Errorf("fence: %w", err)
	}
	// The marker itself may be dropped (a slow consumer drops what
	// arrives, and keeps what waits): then it is sent again, behind what
	// still waits. Whichever copy comes first ends the wait.
	tick := time.NewTicker(fenceCheck)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return nil
		case <-tick.C:
			n, err := c.sub.Dropped()
			if err != nil {
				return fmt.Errorf("fence: %w", err)
			}
			if n != dropped {
				dropped = n
				if err := c.nc.Publish(wire.ClientFence(c.id), marker); err != nil {
					return fmt.Errorf("fence: %w", err)
				}
			}
		case <-ctx.Done():
			return fmt.Errorf("fence: the client's own marker did not come back: %w", context.Cause(ctx))
		case <-c.closed:
			return errors.New("fence: the client closed")
		}
	}
}

// onFence marks a fence handled. Only this client may publish on its
// fence subject; a malformed or unknown marker is ignored.
func (c *Client) onFence(m *nats.Msg) {
	if len(m.Data) != 8 {
		return
	}
	seq := binary.BigEndian.Uint64(m.Data)
	f := &c.fences
	f.mu.Lock()
	if done, ok := f.wait[seq]; ok {
		close(done)
		delete(f.wait, seq)
	}
	f.mu.Unlock()
}
