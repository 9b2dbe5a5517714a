// This file defines a client's shutdown(hub=True): every engine stops,
// then the process running the hub is told to end.

package hub

import (
	"sync"

	"github.com/nats-io/nats.go"
)

// askedStop is closed once, when a client asks the hub to stop.
type askedStop struct {
	once sync.Once
	ch   chan struct{}
}

func newAskedStop() askedStop { return askedStop{ch: make(chan struct{})} }

// ShutdownRequested returns a channel closed when a client asked the hub
// to shut down (ipyparallel's shutdown(hub=True)), after every engine was
// told to stop and the client was answered. The process owning the hub
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
	h.asked.once.Do(func() { close(h.asked.ch) })
}
