// This file defines Outstanding, the unfinished tasks of a client, for
// ipyparallel's Client.outstanding and Client.wait().

package client

// Outstanding returns the ids of this client's unfinished tasks with the
// Sink each reports to (another client's detached tasks it only watches
// are left out). It is safe for concurrent use.
func (c *Client) Outstanding() map[uint64]Sink {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[uint64]Sink, len(c.pending))
	for id, p := range c.pending {
		if !p.watch {
			out[id] = p.sink
		}
	}
	return out
}
