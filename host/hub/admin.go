// This file defines the hub's side of `pirun abort`: an admin request,
// which only the hub's own credential can send (SubjectAdmin is in no
// client's or engine's permissions), stops any client's tasks.

package hub

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// onAdmin answers an admin wire.Control: an OpAbort stops the tasks of
// Client ("" = every client) whose ids are in Tasks (empty = all):
// load-balanced tasks still waiting in the scheduler, and every task
// queued or running on an engine. The reply lists the tasks stopped.
func (h *Hub) onAdmin(m *nats.Msg) {
	var c wire.Control
	if err := wire.UnmarshalMsg(m.Data, &c); err != nil || c.Op != wire.OpAbort {
		h.respond(m, &wire.ControlReply{Error: "malformed admin request"})
		return
	}
	started := h.goWork(func() {
		reply := wire.ControlReply{Aborted: h.sched.abortQueued(c.Client, c.Tasks)}
		reply.Aborted = append(reply.Aborted, h.adminDaemons(c)...)
		slices.SortFunc(reply.Aborted, compareRefs)
		reply.Aborted = slices.Compact(reply.Aborted) // a task on its way is aborted by id and, arrived, by the admin request
		h.log.Info("admin abort", "client", c.Client, "tasks", len(c.Tasks), "aborted", len(reply.Aborted))
		h.respond(m, &reply)
	})
	if !started {
		h.respond(m, &wire.ControlReply{Error: "the hub is stopping: no abort was sent; its engines stop with it"})
	}
}

// adminDaemons sends c to every daemon's admin subject and gathers the
// tasks they stopped.
func (h *Hub) adminDaemons(c wire.Control) []wire.TaskRef {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var out []wire.TaskRef
	for d := range h.daemonsOf(nil) {
		wg.Go(func() {
			r, err := request(h.nc, wire.DaemonAdmin(d), &c, 2*time.Second)
			if err != nil {
				h.log.Warn("admin abort", "daemon", d, "err", err)
				return
			}
			mu.Lock()
			out = append(out, r.Aborted...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// abortQueued fails the load-balanced tasks waiting for an engine that
// belong to client ("" = any; its detached jobs too) and whose ids are in
// ids (empty = any). Those given to an engine are aborted by id on their
// daemons too: one still on its way there when the admin request comes
// is remembered, and aborted when it arrives. It returns them all.
func (s *scheduler) abortQueued(client string, ids []uint64) []wire.TaskRef {
	match := func(t *lbTask) bool {
		return (client == "" || t.ref.Client == client || t.t.OwnerID() == client) && (len(ids) == 0 || slices.Contains(ids, t.ref.ID))
	}
	s.mu.Lock()
	var aborted []*lbTask
	s.queue = slices.DeleteFunc(s.queue, func(t *lbTask) bool {
		if match(t) {
			delete(s.tasks, t.ref)
			aborted = append(aborted, t)
			return true
		}
		return false
	})
	var refs []wire.TaskRef
	onEngines := make(daemonAborts)
	for _, t := range s.tasks {
		if t.engine < 0 || s.engines[t.engine] == nil || !match(t) {
			continue
		}
		onEngines.addLocked(s, t)
		refs = append(refs, t.ref)
	}
	s.mu.Unlock()
	onEngines.send(s.out)
	for _, t := range aborted {
		s.fail(t, wire.StatusAborted, wire.TaskAborted, "aborted by the cluster's admin (pirun abort) before it started")
		refs = append(refs, t.ref)
	}
	return refs
}

func compareRefs(a, b wire.TaskRef) int {
	if c := strings.Compare(a.Client, b.Client); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}
