package hub

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// startRegistryHub starts a hub of identity id keeping its registry in file.
func startRegistryHub(t *testing.T, auth *Auth, id, file string) *Hub {
	t.Helper()
	h, err := New(Config{Port: 0, Auth: auth, Version: "test", ID: id, Registry: file}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRegistryKeepsIDsAcrossRestarts(t *testing.T) {
	auth, err := NewAuth()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "registry.json")
	h := startRegistryHub(t, auth, "hub-one-identity", file)
	nc, _, _ := connectAs(t, h, UserHub, auth.Hub)
	first := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d1", Engines: 3})
	nc.Close()
	h.Shutdown()

	h = startRegistryHub(t, auth, "hub-one-identity", file)
	defer h.Shutdown()
	nc, _, _ = connectAs(t, h, UserHub, auth.Hub)
	fresh := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d2", Engines: 2})
	back := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d1", Engines: 3, Reclaim: first.IDs})
	if !slices.Equal(back.IDs, first.IDs) {
		t.Errorf("after a restart, daemon d1 reclaiming %v got %v", first.IDs, back.IDs)
	}
	if slices.ContainsFunc(fresh.IDs, func(id int) bool { return slices.Contains(first.IDs, id) }) {
		t.Errorf("after a restart, a new daemon got ids %v, which overlap %v given out before", fresh.IDs, first.IDs)
	}
}

func TestRegistryOfAnotherHubIgnored(t *testing.T) {
	file := filepath.Join(t.TempDir(), "registry.json")
	for _, test := range []struct{ name, data string }{
		{"another hub", `{"hub_id": "someone-else", "next_id": 7}`},
		{"damaged", `{"hub_id": `},
	} {
		if err := os.WriteFile(file, []byte(test.data), 0o600); err != nil {
			t.Fatal(err)
		}
		auth, _ := NewAuth()
		h := startRegistryHub(t, auth, "hub-two-identity", file)
		nc, _, _ := connectAs(t, h, UserHub, auth.Hub)
		fresh := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d1", Engines: 1})
		back := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d2", Engines: 1, Reclaim: []int{5}})
		next := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d3", Engines: 1})
		if !slices.Equal(fresh.IDs, []int{0}) || !slices.Equal(back.IDs, []int{5}) || !slices.Equal(next.IDs, []int{6}) {
			t.Errorf("%s: with a registry of %s, a new daemon, one reclaiming 5 and another new one got %v %v %v, want [0] [5] [6]",
				test.name, test.data, fresh.IDs, back.IDs, next.IDs)
		}
		h.Shutdown()
	}
}

// TestRegistrationRepeated: a daemon registering again on the connection
// it is registered on, for the ids it has (the hub asked it to while its
// first registration was on its way), changes nothing: its tasks in
// flight stay where they are. From another connection it is a new
// registration.
func TestRegistrationRepeated(t *testing.T) {
	h := startRegistryHub(t, nil, "hub-repeat", filepath.Join(t.TempDir(), "registry.json"))
	defer h.Shutdown()
	req := wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d1", Engines: 2, ConnID: 7}
	ids, _, epoch, same := h.register(req)
	if same || len(ids) != 2 {
		t.Fatalf("first registration: ids %v, same %v", ids, same)
	}
	h.sched.submitForTest(t, "c", 1)
	req.Reclaim = ids
	again, infos, epoch2, same := h.register(req)
	if !same || !slices.Equal(again, ids) || epoch2 != epoch || len(infos) != 2 {
		t.Errorf("the same registration repeated: ids %v same %v epoch %d (was %d), want %v unchanged", again, same, epoch2, epoch, ids)
	}
	if n := h.sched.inflightForTest(); n != 1 {
		t.Errorf("after a repeated registration the scheduler holds %d tasks on engines, want 1", n)
	}
	req.Reclaim = nil // its first registration again: the answer came late
	if again, _, _, same := h.register(req); !same || !slices.Equal(again, ids) {
		t.Errorf("the first registration repeated: ids %v same %v, want %v unchanged", again, same, ids)
	}
	req.ConnID = 8
	if _, _, epoch3, same := h.register(req); same || epoch3 == epoch {
		t.Errorf("a registration from another connection: same %v, epoch %d (was %d); want a new registration", same, epoch3, epoch)
	}
}
