package api

import (
	"slices"
	"testing"

	"github.com/pirun-dev/pirun/starlib/wire"
)

func TestSPMDJob(t *testing.T) {
	for _, test := range []struct {
		kind   wire.Kind
		single bool
		ids    []int
		want   bool
	}{
		{wire.KindExecute, false, []int{3, 1, 2}, true},
		{wire.KindApply, false, []int{0, 1}, true},
		{wire.KindApply, false, []int{4}, true}, // c[[4]]: a job of one rank
		{wire.KindApply, true, []int{4}, false}, // c[4]
		{wire.KindMap, false, []int{0, 1}, false},
		{wire.KindPush, false, []int{0, 1}, false},
		{wire.KindPull, false, []int{0, 1}, false},
		{wire.KindExecute, false, []int{0, 1, 0}, false}, // an engine cannot be two ranks
		{wire.KindExecute, false, nil, false},
	} {
		got := spmdJob(test.kind, test.single, test.ids)
		if (got != nil) != test.want {
			t.Errorf("spmdJob(%v, %v, %v) = %+v, want a job: %v", test.kind, test.single, test.ids, got, test.want)
			continue
		}
		if got != nil && (!slices.Equal(got.Ranks, test.ids) || len(got.Job) != 22) {
			t.Errorf("spmdJob(%v, %v, %v) = %+v, want ranks %v and a fresh job id", test.kind, test.single, test.ids, got, test.ids)
		}
	}
	a, b := spmdJob(wire.KindApply, false, []int{0, 1}), spmdJob(wire.KindApply, false, []int{0, 1})
	if a.Job == b.Job {
		t.Errorf("two jobs share the id %q", a.Job)
	}
}
