package hub

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestStalledButConnectedEngineKept checks the hub's liveness rules: a
// daemon silent past EngineTimeout whose connection is open (a process
// stalled by a long allocation or a GC pause) keeps its engines until
// StallTimeout, while one whose connection closed is lost at once.
func TestStalledButConnectedEngineKept(t *testing.T) {
	auth, err := NewAuth()
	if err != nil {
		t.Fatal(err)
	}
	const stall = 3 * time.Second
	h, err := New(Config{Port: 0, Auth: auth, Version: "test", Heartbeat: 50 * time.Millisecond,
		EngineTimeout: 150 * time.Millisecond, StallTimeout: stall}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)

	join := func() (*nats.Conn, []int) {
		nc, id, _ := connectAs(t, h, UserEngine, auth.Engine)
		cid, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := wire.MarshalMsg(&wire.Register{Protocol: wire.ProtocolVersion, Daemon: id, Engines: 1, ConnID: cid})
		m, err := nc.Request(wire.RegisterFrom(id), data, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var reg wire.Registered
		if err := wire.UnmarshalMsg(m.Data, &reg); err != nil || reg.Error != "" {
			t.Fatalf("register: %v %s", err, reg.Error)
		}
		return nc, reg.IDs
	}
	known := func(id int) bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.engines[id] != nil
	}
	_, stalled := join()
	closing, closed := join()
	joined := time.Now()
	closing.Close()
	startest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if known(closed[0]) {
			return fmt.Errorf("engine %d is still known after its connection closed", closed[0])
		}
		return nil
	})
	// Silent since it joined: past EngineTimeout many times over, yet
	// connected, so kept until StallTimeout.
	for time.Since(joined) < stall*2/3 {
		if !known(stalled[0]) {
			t.Fatalf("a connected daemon silent for %v was dropped; want it kept for %v", time.Since(joined).Round(time.Millisecond), stall)
		}
		time.Sleep(50 * time.Millisecond) // sampling a state that must not change, not synchronising
	}
	startest.CheckFor(t, 3*stall, 20*time.Millisecond, func() error {
		if known(stalled[0]) {
			return fmt.Errorf("engine %d is still known %v after its last heartbeat", stalled[0], time.Since(joined).Round(time.Millisecond))
		}
		return nil
	})
}
