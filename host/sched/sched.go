// Package sched holds pirun's load-balancing rules as pure functions over
// small input types: which engine takes a task, and when to take queued
// work back from a busy engine. It knows nothing of NATS or Starlark; the
// hub translates its own state into these types.
//
// The rules:
//   - an idle engine (nothing in flight) is always preferred;
//   - an engine that is turning tasks over quickly may hold up to Prefetch
//     tasks, which hides the round trip to the hub for tiny tasks;
//   - an engine that made no progress for Slow gets no more tasks, and when
//     another engine is idle and nothing waits in the central queue, its
//     unstarted tasks are taken back (Steal) so that no engine sits idle
//     while tasks wait behind a busy one (a long task, or direct work);
//   - a task never goes to an engine in its Exclude set (the engines it
//     failed on), and only to engines in Allowed when that is set (follow).
package sched

import (
	"slices"
	"time"
)

// Engine is the scheduler's view of one live engine.
type Engine struct {
	ID       int
	InFlight int       // tasks sent and not reported done
	Oldest   time.Time // last progress: a task done, or the first task sent (zero if none)
	Asked    bool      // its unstarted tasks were asked back a moment ago
	Busy     int       // other work it reported (direct tasks), running or queued
}

// load is what e holds in all.
func (e Engine) load() int { return e.InFlight + e.Busy }

// Task is the scheduler's view of one waiting task.
type Task struct {
	Exclude []int // engines it must not run on
	Allowed []int // engines it may run on; nil means any
}

// Policy holds the scheduler's knobs.
type Policy struct {
	Prefetch int           // most tasks in flight per engine (≥ 1)
	Slow     time.Duration // an engine whose oldest task is older is busy
}

// DefaultPolicy returns the policy used when none is configured.
func DefaultPolicy() Policy {
	return Policy{Prefetch: 16, Slow: 5 * time.Millisecond}
}

// Fits reports whether t may run on engine id.
func Fits(t Task, id int) bool {
	if slices.Contains(t.Exclude, id) {
		return false
	}
	return t.Allowed == nil || slices.Contains(t.Allowed, id)
}

// Possible reports whether any of the engines could ever run t.
func Possible(t Task, engines []Engine) bool {
	for _, e := range engines {
		if Fits(t, e.ID) {
			return true
		}
	}
	return false
}

// Pick returns the index in engines of the engine that should take t now,
// or -1 when none should (t waits). Among fitting engines it prefers the
// fewest tasks in flight, then the lowest index (callers rotate the slice
// for fairness).
func Pick(p Policy, t Task, engines []Engine, now time.Time) int {
	best := -1
	for i, e := range engines {
		if !Fits(t, e.ID) || !accepts(p, e, now) {
			continue
		}
		if best < 0 || e.load() < engines[best].load() {
			best = i
		}
	}
	return best
}

// accepts reports whether e may take one more task.
func accepts(p Policy, e Engine, now time.Time) bool {
	if e.load() == 0 {
		return true
	}
	return e.InFlight < max(p.Prefetch, 1) && now.Sub(e.Oldest) < p.Slow
}

// Steal returns the index of an engine whose unstarted tasks should be
// taken back because another engine is idle and no task waits centrally,
// or -1. The victim holds tasks, made no progress for Slow, and was not
// asked a moment ago; among those, the one holding the most.
// (Its running task, if any, is not taken back: the engine returns only
// tasks it has not started, which covers tasks queued behind its direct
// work.)
func Steal(p Policy, queued int, engines []Engine, now time.Time) int {
	if queued > 0 {
		return -1
	}
	idle := false
	for _, e := range engines {
		idle = idle || e.load() == 0
	}
	if !idle {
		return -1
	}
	victim := -1
	for i, e := range engines {
		if e.InFlight > 0 && !e.Asked && now.Sub(e.Oldest) >= p.Slow &&
			(victim < 0 || e.InFlight > engines[victim].InFlight) {
			victim = i
		}
	}
	return victim
}
