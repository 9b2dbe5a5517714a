// This file defines how a rank's thread waits for a request, and the
// deadlock detection that turns a hang into a report.
//
// A rank blocked for a while asks the other ranks of its job for their
// status (wire.CommStatus). When every rank is blocked or finished, and
// every rank's count of messages sent to each other rank equals that
// rank's count of messages arrived from it, no message is in flight and
// no rank can ever proceed: a blocked rank moves only when a message
// arrives, and sends only after moving or as the direct answer to an
// arrival (credit, CTS, parts). The snapshots may be taken at different
// instants: the first rank to move after its snapshot would need a
// message sent before the sender's snapshot and arrived after its own,
// which the equal counts exclude. A rank moving a large message counts as
// running. The rank that finds the deadlock fails the job for every rank
// with the report.

package comm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Deadlock checks start after a wait of firstCheck and back off to lastCheck.
const (
	firstCheck = 10 * time.Millisecond
	lastCheck  = time.Second
)

// contactTimeout bounds how long a rank waits for another rank's engine to
// answer its first message at all.
const contactTimeout = 30 * time.Second

// errTimedOut is the cause of a per-operation timeout.
var errTimedOut = errors.New("timed out")

// wait blocks until r is done, the job fails, ctx is done or deadline
// (when not zero) passes.
func (rs *Rank) wait(ctx context.Context, r *request, deadline time.Time) error {
	rs.mu.Lock()
	if done, err := rs.ready(r); done {
		rs.mu.Unlock()
		return err
	}
	rs.waiting = r
	var dl drainList
	rs.flushCredit(&dl)
	rs.mu.Unlock()
	dl.run()
	err := rs.park(ctx, r, deadline)
	rs.mu.Lock()
	rs.waiting = nil
	rs.mu.Unlock()
	return err
}

// ready reports whether a wait for r is over; rs.mu is held.
func (rs *Rank) ready(r *request) (bool, error) {
	switch {
	case rs.checking:
		return false, nil // a collective mismatch is being reported
	case rs.mismatched && rs.broken != nil:
		return true, rs.broken // the operation that met the mismatch must not return
	case r.complete():
		return true, nil
	case rs.broken != nil:
		return true, rs.broken
	case rs.phase == phaseEnded:
		return true, errors.New("the task of this communicator's job has ended")
	}
	return false, nil
}

// park sleeps until r's wait is over, checking for deadlocks meanwhile.
func (rs *Rank) park(ctx context.Context, r *request, deadline time.Time) error {
	if rs.timer == nil {
		rs.timer = time.NewTimer(firstCheck)
	} else {
		rs.timer.Reset(firstCheck)
	}
	defer rs.timer.Stop()
	var limit <-chan time.Time
	if !deadline.IsZero() {
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		limit = t.C
	}
	next := firstCheck
	for {
		select {
		case <-rs.wake:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-limit:
			return errTimedOut
		case <-rs.timer.C:
			if err := rs.check(ctx, r); err != nil {
				return err
			}
			next = min(2*next, lastCheck)
			rs.timer.Reset(next)
		}
		rs.mu.Lock()
		done, err := rs.ready(r)
		rs.mu.Unlock()
		if done {
			return err
		}
	}
}

// status describes the rank now.
func (rs *Rank) status() wire.CommStatus {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	st := wire.CommStatus{Sent: make([]uint64, len(rs.peers)), Arrived: make([]uint64, len(rs.peers))}
	for p := range rs.peers {
		st.Sent[p], st.Arrived[p] = rs.peers[p].sent, rs.peers[p].arrived
	}
	switch {
	case rs.broken != nil:
		st.State, st.Error = wire.CommFailed, rs.broken.Error()
	case rs.checking:
		st.State = wire.CommRunning // reporting a collective mismatch
	case rs.phase == phaseEnded, rs.closing:
		st.State = wire.CommDone
	case rs.phase == phasePending:
		st.State = wire.CommPending
	case rs.waiting != nil && !rs.waiting.complete() && rs.busy == 0:
		st.State, st.Wait = wire.CommBlocked, rs.waiting.describe()
	default:
		st.State = wire.CommRunning
	}
	if st.State == wire.CommBlocked || st.State == wire.CommDone {
		st.Unreceived = rs.unreceived()
	}
	return st
}

// describe says what a wait for r is, in the user's terms.
func (r *request) describe() string {
	if r.comm != nil && r.comm.name != "" {
		return r.desc + " in " + r.comm.name
	}
	return r.desc
}

// unreceived summarises the messages no receive took, by source; rs.mu
// is held.
func (rs *Rank) unreceived() string {
	type key struct {
		src, tag int
		ctx      uint64
	}
	var order []key
	count := map[key]int{}
	for _, m := range rs.unexpected {
		k := key{m.Src, m.Tag, m.Ctx}
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	slices.SortFunc(order, func(a, b key) int {
		return cmp.Or(cmp.Compare(a.src, b.src), cmp.Compare(a.ctx, b.ctx), cmp.Compare(a.tag, b.tag))
	})
	var parts []string
	for i, k := range order {
		if i == 5 {
			parts = append(parts, "…")
			break
		}
		s := fmt.Sprintf("source=%d tag=%d", k.src, k.tag)
		switch {
		case k.ctx%2 == 1:
			s = fmt.Sprintf("a collective's message from rank %d", k.src)
		case k.ctx != 0:
			s = fmt.Sprintf("from rank %d in a split communicator", k.src)
		}
		if n := count[k]; n > 1 {
			s += fmt.Sprintf(" (×%d)", n)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// check looks for a deadlock or a dead rank while r waits (or while a
// large message moves: its peer may die). It returns nil when some rank
// can still proceed (or cannot be asked now).
func (rs *Rank) check(ctx context.Context, r *request) error {
	self := rs.status()
	if self.State != wire.CommBlocked && self.State != wire.CommRunning {
		return nil // done or failed meanwhile: the wait ends by itself
	}
	snaps := make([]wire.CommStatus, len(rs.ranks))
	snaps[rs.rank] = self
	for _, p := range rs.checkOrder(r) {
		st, err := rs.mux.query(ctx, rs.daemon(p), wire.CommQuery{Job: rs.job, Engine: rs.ranks[p]})
		switch {
		case errors.Is(err, errNoAnswer):
			return rs.fatal(fmt.Errorf("rank %d (engine %d) does not answer: its engine died or was lost", p, rs.ranks[p]))
		case err != nil:
			return nil // a slow answer: ask again later
		}
		switch st.State {
		case wire.CommFailed:
			return rs.fatal(&jobError{msg: st.Error})
		case wire.CommGone:
			return rs.fatal(fmt.Errorf("rank %d (engine %d) is gone: its engine was shut down", p, rs.ranks[p]))
		case wire.CommBlocked, wire.CommDone:
			snaps[p] = st
		default:
			rs.lastLive = p
			return nil
		}
	}
	if self.State != wire.CommBlocked || !quiet(snaps) {
		return nil // moving a large message, or messages in flight
	}
	if r.ctx%2 == 1 && r.comm != nil { // a collective: did the ranks call the same one?
		if rep, differ := rs.collectCalls(ctx, collKey{r.ctx, r.tag}, r.comm, false); differ {
			return rs.fatal(&mismatchError{report: rep})
		}
	}
	return rs.fatal(&deadlockError{report: report(snaps)})
}

// checkOrder lists the ranks to ask: first the one found running last
// time, then the one r waits for, then the others.
func (rs *Rank) checkOrder(r *request) []int {
	order := make([]int, 0, len(rs.ranks))
	for _, p := range []int{rs.lastLive, r.peer} {
		if p >= 0 && p < len(rs.ranks) && p != rs.rank && !slices.Contains(order, p) {
			order = append(order, p)
		}
	}
	for p := range rs.ranks {
		if p != rs.rank && !slices.Contains(order, p) {
			order = append(order, p)
		}
	}
	return order
}

// quiet reports whether no message is in flight between the ranks.
func quiet(snaps []wire.CommStatus) bool {
	at := func(s []uint64, i int) uint64 {
		if i < len(s) {
			return s[i]
		}
		return 0
	}
	for j := range snaps {
		for k := range snaps {
			if at(snaps[j].Sent, k) != at(snaps[k].Arrived, j) {
				return false
			}
		}
	}
	return true
}

// report lists every rank's wait.
func report(snaps []wire.CommStatus) string {
	parts := make([]string, len(snaps))
	for p, st := range snaps {
		if st.State == wire.CommDone {
			parts[p] = fmt.Sprintf("rank %d has finished", p)
		} else {
			parts[p] = fmt.Sprintf("rank %d waits %s", p, st.Wait)
		}
		if st.Unreceived != "" {
			parts[p] += " (unreceived: " + st.Unreceived + ")"
		}
	}
	return strings.Join(parts, "; ")
}

// deadlockError is a deadlock found in a job.
type deadlockError struct{ report string }

func (e *deadlockError) Error() string {
	return "deadlock: every rank waits for a message that can never come: " + e.report
}

// fatal fails the job for every rank with err and returns the job's error.
func (rs *Rank) fatal(err error) error {
	var dl drainList
	rs.mu.Lock()
	rs.breakJob(err, &dl)
	err = rs.broken
	rs.mu.Unlock()
	dl.run()
	return err
}

// contact makes sure that the engine of world rank p, in another daemon,
// listens before the first message to it: an engine that has just joined
// subscribes its comm subjects a moment after the hub announced it.
func (rs *Rank) contact(ctx context.Context, p int) error {
	rs.mu.Lock()
	ps := rs.peer(p)
	need := !ps.local && !ps.reached
	rs.mu.Unlock()
	if !need {
		return nil
	}
	deadline := time.Now().Add(contactTimeout)
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		st, err := rs.mux.query(ctx, rs.daemon(p), wire.CommQuery{Job: rs.job, Engine: rs.ranks[p]})
		switch {
		case err == nil && st.State == wire.CommGone:
			return rs.fatal(fmt.Errorf("rank %d (engine %d) is gone: its engine was shut down", p, rs.ranks[p]))
		case err == nil:
			rs.mu.Lock()
			rs.peer(p).reached = true
			rs.mu.Unlock()
			return nil
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case time.Now().After(deadline):
			return rs.fatal(fmt.Errorf("rank %d (engine %d) does not answer: its engine died or was lost", p, rs.ranks[p]))
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
