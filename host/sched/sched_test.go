package sched

import (
	"testing"
	"time"
)

func TestPick(t *testing.T) {
	now := time.Unix(1000, 0)
	p := Policy{Prefetch: 4, Slow: 5 * time.Millisecond}
	fresh := now.Add(-time.Millisecond)
	stale := now.Add(-time.Second)
	for _, test := range []struct {
		name    string
		task    Task
		engines []Engine
		want    int
	}{
		{"idle preferred", Task{}, []Engine{{ID: 1, InFlight: 2, Oldest: fresh}, {ID: 2}}, 1},
		{"fewest in flight", Task{}, []Engine{{ID: 1, InFlight: 3, Oldest: fresh}, {ID: 2, InFlight: 1, Oldest: fresh}}, 1},
		{"first on ties", Task{}, []Engine{{ID: 1, InFlight: 1, Oldest: fresh}, {ID: 2, InFlight: 1, Oldest: fresh}}, 0},
		{"prefetch full", Task{}, []Engine{{ID: 1, InFlight: 4, Oldest: fresh}}, -1},
		{"slow engine gets nothing more", Task{}, []Engine{{ID: 1, InFlight: 1, Oldest: stale}}, -1},
		{"slow engine still takes when idle", Task{}, []Engine{{ID: 1}}, 0},
		{"excluded", Task{Exclude: []int{1}}, []Engine{{ID: 1}, {ID: 2, InFlight: 3, Oldest: fresh}}, 1},
		{"allowed only", Task{Allowed: []int{2}}, []Engine{{ID: 1}, {ID: 2, InFlight: 3, Oldest: fresh}}, 1},
		{"nothing fits", Task{Allowed: []int{9}}, []Engine{{ID: 1}}, -1},
		{"busy with direct work is not idle", Task{}, []Engine{{ID: 1, Busy: 1}, {ID: 2, InFlight: 1, Oldest: fresh}}, 1},
		{"no engines", Task{}, nil, -1},
	} {
		if got := Pick(p, test.task, test.engines, now); got != test.want {
			t.Errorf("%s: Pick = %d, want %d", test.name, got, test.want)
		}
	}
}

func TestSteal(t *testing.T) {
	now := time.Unix(1000, 0)
	p := Policy{Prefetch: 4, Slow: 5 * time.Millisecond}
	stale := now.Add(-time.Second)
	fresh := now.Add(-time.Millisecond)
	idle := Engine{ID: 9}
	for _, test := range []struct {
		name    string
		queued  int
		engines []Engine
		want    int
	}{
		{"busy engine holding work, another idle", 0, []Engine{{1, 3, stale, false, 0}, idle}, 0},
		{"most in flight is the victim", 0, []Engine{{1, 2, stale, false, 0}, {2, 4, stale, false, 0}, idle}, 1},
		{"central queue not empty", 1, []Engine{{1, 3, stale, false, 0}, idle}, -1},
		{"nobody idle", 0, []Engine{{1, 3, stale, false, 0}, {2, 1, stale, false, 0}}, -1},
		{"one task, maybe queued behind direct work", 0, []Engine{{1, 1, stale, false, 0}, idle}, 0},
		{"asked a moment ago", 0, []Engine{{1, 3, stale, true, 0}, idle}, -1},
		{"an engine busy with direct work is not idle", 0, []Engine{{1, 1, stale, false, 0}, {ID: 9, Busy: 1}}, -1},
		{"fast engine keeps its prefetch", 0, []Engine{{1, 3, fresh, false, 0}, idle}, -1},
	} {
		if got := Steal(p, test.queued, test.engines, now); got != test.want {
			t.Errorf("%s: Steal = %d, want %d", test.name, got, test.want)
		}
	}
}

func TestPossible(t *testing.T) {
	engines := []Engine{{ID: 1}, {ID: 2}}
	for _, test := range []struct {
		task Task
		want bool
	}{
		{Task{}, true},
		{Task{Exclude: []int{1, 2}}, false},
		{Task{Allowed: []int{2}}, true},
		{Task{Allowed: []int{3}}, false},
		{Task{Allowed: []int{2}, Exclude: []int{2}}, false},
	} {
		if got := Possible(test.task, engines); got != test.want {
			t.Errorf("Possible(%+v) = %v, want %v", test.task, got, test.want)
		}
	}
}
