package client

import (
	"testing"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestIDList: a sync failure names the ids to ask about, all of them
// when few, else the first and last four with the count between.
func TestIDList(t *testing.T) {
	mk := func(n int) []wire.Task {
		var ts []wire.Task
		for i := range n {
			ts = append(ts, wire.Task{ID: uint64(101 + i)})
		}
		return ts
	}
	for _, c := range []struct {
		n    int
		want string
	}{
		{1, "[101]"},
		{8, "[101, 102, 103, 104, 105, 106, 107, 108]"},
		{20, "[101, 102, 103, 104, ... 12 more ..., 117, 118, 119, 120]"},
	} {
		if got := idList(mk(c.n)); got != c.want {
			t.Errorf("idList of %d tasks = %s, want %s", c.n, got, c.want)
		}
	}
}
