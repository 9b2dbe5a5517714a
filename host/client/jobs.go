// This file defines the client's job reports: once a second while calls
// are in flight, one small message to the hub saying, for each call (each
// Sink, an AsyncResult), its label, tasks done and failed, and its age.
// The hub reads them only while its dashboard is watched.

package client

import (
	"cmp"
	"os"
	"os/user"
	"slices"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// jobEvery is how often a client with calls in flight reports them.
const jobEvery = time.Second

// job is what the client knows of a call beyond its Sink.
type job struct {
	id      uint64 // its first task
	started time.Time
	failed  int
}

// trackJobLocked notes that task id belongs to sink's call (c.mu held).
func (c *Client) trackJobLocked(id uint64, sink Sink) {
	if c.jobs == nil {
		c.jobs = make(map[Sink]*job)
	}
	if j := c.jobs[sink]; j == nil {
		c.jobs[sink] = &job{id: id, started: time.Now()}
	} else if id < j.id {
		j.id = id
	}
}

// failedLocked counts a failed slot of sink's call (c.mu held).
func (c *Client) failedLocked(sink Sink) {
	if j := c.jobs[sink]; j != nil {
		j.failed++
	}
}

// reportJobs sends a Jobs report each jobEvery while calls are in flight,
// and an empty one when the last has ended, until the client closes.
func (c *Client) reportJobs() {
	t := time.NewTicker(jobEvery)
	defer t.Stop()
	who := whoAmI()
	sent := false
	for {
		select {
		case <-c.closed:
			return
		case <-t.C:
		}
		jobs := c.jobList()
		if len(jobs) == 0 && !sent {
			continue
		}
		data, err := wire.MarshalMsg(&wire.Jobs{Client: c.id, Who: who, Jobs: jobs})
		if err == nil {
			err = c.nc.Publish(wire.SubjectJobs, data) // small: never in parts
		}
		if err != nil {
			c.log.Debug("report jobs", "err", err)
		}
		sent = len(jobs) > 0
	}
}

// jobList describes the calls in flight, oldest first, and forgets the
// calls that have ended.
func (c *Client) jobList() []wire.Job {
	now := time.Now()
	type snap struct {
		sink Sink
		job  wire.Job
	}
	c.mu.Lock()
	live := make(map[Sink]*job)
	var snaps []snap
	for _, p := range c.pending {
		if j := c.jobs[p.sink]; j != nil && live[p.sink] == nil {
			live[p.sink] = j
			// Read j under c.mu: Track and failures update it.
			snaps = append(snaps, snap{p.sink, wire.Job{ID: j.id, Failed: j.failed, Age: int64(now.Sub(j.started))}})
		}
	}
	c.jobs = live
	c.mu.Unlock()
	out := make([]wire.Job, 0, len(snaps))
	for _, s := range snaps {
		w := s.job
		if p, ok := s.sink.(interface{ Progress() (done, total int) }); ok {
			w.Done, w.Total = p.Progress()
		}
		if l, ok := s.sink.(interface{ Label() string }); ok {
			w.Label = l.Label()
		}
		out = append(out, w)
	}
	slices.SortFunc(out, func(a, b wire.Job) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// whoAmI returns user@host for the dashboard, as far as it is known.
func whoAmI() string {
	host, _ := os.Hostname()
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username + "@" + host
	}
	return host
}
