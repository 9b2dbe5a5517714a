package integration

import (
	"context"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/starlib"
)

// TestBigValue pushes a 256 MiB value to an engine and pulls it back
// (SPEC §6: values larger than one NATS message travel in parts).
func TestBigValue(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 512 MiB through the hub; skipped with -short")
	}
	cl := startCluster(t, clusterConfig{engines: 1})
	s := &api.Script{Client: cl.Client, Stdout: discard{}}
	predecl, err := s.Predeclared()
	if err != nil {
		t.Fatal(err)
	}
	src := `
v = Client()[0]
v.block = True
big = "x" * (256 * 1024 * 1024)
v.push({"big": big})
n = v.apply_sync(lambda: len(engine.ns["big"]))
same = v.pull("big") == big
`
	if err := cl.Client.Sources().Add("big.star", []byte(src)); err != nil {
		t.Fatal(err)
	}
	th := s.NewThread(context.Background(), "big", ".")
	g, err := starlark.ExecFileOptions(starlib.FileOptions(), th, "big.star", src, predecl)
	if err != nil {
		t.Fatal(err)
	}
	if g["n"] != starlark.MakeInt(256<<20) || g["same"] != starlark.True {
		t.Errorf("engine saw %v bytes, pulled value equal: %v; want %d, True", g["n"], g["same"], 256<<20)
	}
}
