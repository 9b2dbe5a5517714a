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
