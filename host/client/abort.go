// This file defines AbortTargets, abort(targets=…) for every kind of
// task, and ShutdownHub.

package client

import (
	"context"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// AbortTargets aborts this client's unfinished tasks on the given engines,
// as ipyparallel's abort(targets=…): direct tasks sent to them, and
// load-balanced tasks that the hub's scheduler gave them (queued or
// running there). Load-balanced tasks not given to an engine yet, or given
// to other engines, go on. It is safe for concurrent use.
func (c *Client) AbortTargets(engines []int) {
	c.AbortOn(engines)
	c.mu.Lock()
	lb := make(map[string][]uint64) // by the Client the tasks carry
	for id, p := range c.pending {
		switch {
		case !p.lb || p.watch:
		case p.detached:
			lb[wire.DetachedClient] = append(lb[wire.DetachedClient], id)
		default:
			lb[c.id] = append(lb[c.id], id)
		}
	}
	c.mu.Unlock()
	if len(engines) == 0 {
		return
	}
	for owner, ids := range lb {
		c.publish(wire.SchedControlFrom(c.id), &wire.Control{Op: wire.OpAbort, Client: owner, Tasks: ids, Engines: engines})
	}
	c.nc.Flush()
}

// ShutdownHub stops every engine and then the hub (ipyparallel's
// shutdown(hub=True)): the hub answers once the engines were told to
// stop, and its process ends.
func (c *Client) ShutdownHub(ctx context.Context) error {
	_, err := c.Query(ctx, wire.Query{Op: wire.QueryShutdown, All: true, Hub: true})
	return err
}
