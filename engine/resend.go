// This file defines the publisher's memory of recent results, so that a
// client whose hub restarted can ask for the results that were sent
// while nobody could receive them (SPEC §15: a hub restart loses no work).

package engine

import (
	"sync"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Bounds of the results a daemon remembers after sending them.
const (
	recentResults = 1024
	recentBytes   = 16 << 20
)

// recent is a bounded FIFO of results sent, by task. It is safe for
// concurrent use.
type recent struct {
	mu    sync.Mutex
	items map[wire.TaskRef][]outItem // several engines of one direct task
	order []wire.TaskRef
	bytes int
}

// add remembers it, forgetting the oldest past the bounds.
func (r *recent) add(it outItem) {
	ref := wire.TaskRef{Client: it.task.Client, ID: it.task.ID}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.items == nil {
		r.items = make(map[wire.TaskRef][]outItem)
	}
	if _, ok := r.items[ref]; !ok {
		r.order = append(r.order, ref)
	}
	r.items[ref] = append(r.items[ref], it)
	r.bytes += itemBytes(it)
	for len(r.order) > 0 && (len(r.order) > recentResults || r.bytes > recentBytes) {
		old := r.order[0]
		r.order[0] = wire.TaskRef{}
		r.order = r.order[1:]
		for _, x := range r.items[old] {
			r.bytes -= itemBytes(x)
		}
		delete(r.items, old)
	}
}

func itemBytes(it outItem) int { return it.value.Len() + len(it.res.Value) + len(it.res.Stdout) + 64 }

// take returns the remembered results of client's tasks among ids that
// owner submitted (any owner when "").
func (r *recent) take(client, owner string, ids []uint64) []outItem {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []outItem
	for _, id := range ids {
		for _, it := range r.items[wire.TaskRef{Client: client, ID: id}] {
			if owner == "" || it.task.OwnerID() == owner {
				out = append(out, it)
			}
		}
	}
	return out
}

// has reports whether a result of client's task id that owner submitted
// is remembered.
func (r *recent) has(client, owner string, id uint64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, it := range r.items[wire.TaskRef{Client: client, ID: id}] {
		if it.task.OwnerID() == owner {
			return true
		}
	}
	return false
}

// detached returns the ids of the detached tasks whose results are
// remembered.
func (r *recent) detached() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []uint64
	for _, ref := range r.order {
		if ref.Client == wire.DetachedClient {
			ids = append(ids, ref.ID)
		}
	}
	return ids
}

// resendDetached sends the hub again the remembered results of detached
// tasks (at most recentResults, recentBytes), after this daemon
// registered again: the hub drops a result from a daemon it does not
// know, as it was while the connection was away, and no client may be
// left to ask for it. The hub keeps one result per task and engine, so
// those it had are dropped.
func (p *publisher) resendDetached() {
	if ids := p.sent.detached(); len(ids) > 0 {
		p.resend(wire.DetachedClient, "", ids)
	}
}

// resend sends again the results of client's tasks among ids that by
// submitted (any when by is "", the hub), those still remembered: to the
// client, which drops the ones it already has, or for detached tasks to
// the hub, which does too. At most one resend per asker is in flight (one
// asking again meanwhile is ignored: the one in flight sends the same
// results); it runs on the publisher's wait group, which run waits for,
// and gives up once the publisher stopped.
func (p *publisher) resend(client, by string, ids []uint64) {
	items := p.sent.take(client, by, ids)
	if len(items) == 0 {
		return
	}
	key := by + "/" + client
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.resending[key] {
		return
	}
	if p.resending == nil {
		p.resending = make(map[string]bool)
	}
	p.resending[key] = true
	p.wg.Go(func() {
		defer func() {
			p.mu.Lock()
			delete(p.resending, key)
			p.mu.Unlock()
		}()
		for _, it := range items {
			t := *it.task
			t.Balanced = false // the scheduler heard of it already
			it.task = &t
			select {
			case p.ch <- it:
			case <-p.quit:
				return
			}
		}
	})
}

// stopResends makes resends in flight give up, refuses new ones, and
// waits for them to end.
func (p *publisher) stopResends() {
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.quit)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
