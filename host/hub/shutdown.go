// This file defines a client's shutdown(hub=True): every engine stops,
// then the process running the hub is told to end.

package hub

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// shutdownLinger is how long a hub asked to shut down waits for its
// clients to leave before it signals ShutdownRequested: the asker must
// receive its answer before the server closes its connection, and a
// script that asked usually ends at once.
const shutdownLinger = 2 * time.Second

// askedStop is closed once, when a client asks the hub to stop.
type askedStop struct {
	once sync.Once
	ch   chan struct{}
}

func newAskedStop() askedStop { return askedStop{ch: make(chan struct{})} }

// ShutdownRequested returns a channel closed when a client asked the hub
// to shut down (ipyparallel's shutdown(hub=True)), after every engine was
// told to stop and the client was answered, once the clients have left
// (or after shutdownLinger). The process owning the hub
// should then call Shutdown and exit; the hub does not stop by itself,
// as its owner may have more to close. It is safe for concurrent use.
func (h *Hub) ShutdownRequested() <-chan struct{} { return h.asked.ch }

// shutdownHub stops every engine, answers m, and signals
// ShutdownRequested.
func (h *Hub) shutdownHub(m *nats.Msg) {
	r := h.shutdownEngines(nil)
	h.respond(m, r)
	h.nc.Flush()
	h.log.Info("a client asked the hub to shut down", "engines stopped", len(r.Engines))
	deadline := time.NewTimer(shutdownLinger)
	defer deadline.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for h.openClients() > 0 {
		select {
		case <-h.stop:
			return
		case <-deadline.C:
			h.log.Info("clients still connected; the hub stops anyway", "clients", h.openClients())
			h.asked.once.Do(func() { close(h.asked.ch) })
			return
		case <-poll.C:
		}
	}
	h.asked.once.Do(func() { close(h.asked.ch) })
}

// openClients counts the client connections (proven identities) that are
// still open.
func (h *Hub) openClients() int {
	a := h.auth
	if a == nil {
		return 0
	}
	a.mu.Lock()
	cids := make([]uint64, 0, len(a.clients))
	for cid := range a.clients {
		cids = append(cids, cid)
	}
	a.mu.Unlock()
	n := 0
	for _, cid := range cids {
		if h.connected(cid) {
			n++
		}
	}
	return n
}
