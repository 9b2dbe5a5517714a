package client

import (
	"bytes"
	"testing"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestKeptResultsBound: results are kept as copies within keptBytes; one
// over the bound on its own is not kept (nor copied), and it drops its
// task's other results without touching the other tasks'.
func TestKeptResultsBound(t *testing.T) {
	c := &Client{}
	small := bytes.Repeat([]byte{1}, 1000)
	c.keepResultLocked(wire.Result{Task: 1, Engine: 0, Value: small})
	c.keepResultLocked(wire.Result{Task: 2, Engine: 0, Value: small})
	if rs := c.keptOf(1); len(rs) != 1 || !bytes.Equal(rs[0].Value, small) || &rs[0].Value[0] == &small[0] {
		t.Fatalf("task 1 kept %v, want one copy of its value", rs)
	}
	c.keepResultLocked(wire.Result{Task: 2, Engine: 1, Value: make([]byte, keptBytes)})
	if rs := c.keptOf(2); len(rs) != 0 {
		t.Errorf("task 2 kept %d results after one over the %d-byte bound, want none", len(rs), keptBytes)
	}
	if rs := c.keptOf(1); len(rs) != 1 {
		t.Errorf("task 1 kept %d results after task 2's big one, want 1", len(rs))
	}
	if got, want := c.life.keptBytes, 1000+64; got != want || len(c.life.keptOrder) != 1 {
		t.Errorf("keptBytes %d and order %v, want %d and [1]", got, c.life.keptOrder, want)
	}
}
