// This file defines Client.Progress: how far the client's unfinished
// calls are, for a notebook's progress bar of long maps.

package host

// Progress returns the tasks finished and the tasks in all of the
// AsyncResults that still wait for a task (a call counts until its last
// task is done). It is safe for concurrent use.
func (c *Client) Progress() (done, total int) {
	c.mu.Lock()
	ars := make(map[*AsyncResult]struct{})
	for _, p := range c.pending {
		ars[p.ar] = struct{}{}
	}
	c.mu.Unlock()
	for ar := range ars {
		done += ar.progress()
		total += ar.n
	}
	return done, total
}

// Progress returns the session client's Progress (0, 0 before it has one).
func (r *REPL) Progress() (done, total int) {
	if r.client == nil {
		return 0, 0
	}
	return r.client.Progress()
}
