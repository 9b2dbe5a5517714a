// This file defines the detection of ranks that call different
// collectives at the same point (one bcast, another barrier), or the same
// collective with different roots.
//
// Each rank records the call of each of its collectives, by collective
// context and number, and each message of a collective carries its
// sender's call (wire.CommMsg.Call). A rank that gets a collective
// message whose call differs from its own call of that number (when the
// message arrives, or when the rank reaches the collective and finds the
// message waiting) holds its operations, asks every rank of the
// communicator which call it made at that number, and fails the job for
// every rank with the list ("rank 0 called bcast(root=0); ranks 1, 2
// called barrier()"). Mismatches in which no message ever meets a
// different call (reduce on one rank, bcast on the others, with the same
// root: everyone waits) are found by the deadlock check, which then asks
// the same question and reports the mismatch rather than a deadlock.

package comm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// collKey names a collective of a rank: its collective context (a
// communicator's ctx+1) and its number in it.
type collKey struct {
	ctx uint64
	seq int
}

// collCall is a collective a rank called.
type collCall struct {
	call string // "bcast(root=0)"
	comm *communicator
}

// keepCalls is how many of its collective calls a rank remembers.
const keepCalls = 1024

// mismatchPatience bounds how long a rank that found a mismatch waits for
// the other ranks to reach the collective, for its report.
const mismatchPatience = time.Second

// callOf is the call a collective's description stands for, as the ranks
// must agree on it: split's color differs between ranks by design.
func callOf(desc string) string {
	if strings.HasPrefix(desc, "split(") {
		return "split()"
	}
	return desc
}

// called records that the rank's collective k is call, on c, and looks
// for messages of k that arrived from ranks that called something else.
func (rs *Rank) called(k collKey, call string, c *communicator) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.calls == nil {
		rs.calls = make(map[collKey]collCall)
	}
	rs.calls[k] = collCall{call, c}
	rs.callOrder = append(rs.callOrder, k)
	if len(rs.callOrder) > keepCalls {
		delete(rs.calls, rs.callOrder[0])
		rs.callOrder = rs.callOrder[1:]
	}
	for _, m := range rs.unexpected {
		if m.Ctx == k.ctx && m.Tag == k.seq && m.Call != "" && m.Call != call {
			rs.mismatch(k)
			return
		}
	}
}

// checkCall looks at a collective message that arrived: if the rank
// called collective m.Tag already, the calls must agree; rs.mu is held.
func (rs *Rank) checkCall(m *wire.CommMsg) {
	if m.Ctx%2 == 0 || m.Call == "" {
		return
	}
	k := collKey{m.Ctx, m.Tag}
	if mine, ok := rs.calls[k]; ok && mine.call != m.Call {
		rs.mismatch(k)
	}
}

// mismatch starts the report of a mismatch at collective k: until it
// fails the job, the rank's operations wait; rs.mu is held.
func (rs *Rank) mismatch(k collKey) {
	if rs.checking || rs.broken != nil {
		return
	}
	rs.checking = true
	go rs.reportMismatch(k, rs.calls[k].comm)
}

// reportMismatch asks every rank of c for its call at k and fails the job
// with the list.
func (rs *Rank) reportMismatch(k collKey, c *communicator) {
	ctx, cancel := context.WithTimeout(context.Background(), mismatchPatience)
	defer cancel()
	rep, _ := rs.collectCalls(ctx, k, c, true)
	var dl drainList
	rs.mu.Lock()
	rs.checking, rs.mismatched = false, true
	rs.breakJob(&mismatchError{report: rep}, &dl)
	rs.poke()
	rs.mu.Unlock()
	dl.run()
}

// collectCalls asks every rank of c which call it made as collective k,
// waiting (until ctx is done) for ranks that have not reached it when
// patient, and returns the report and whether the calls differ.
func (rs *Rank) collectCalls(ctx context.Context, k collKey, c *communicator, patient bool) (string, bool) {
	calls := make([]string, c.size)
	for p := range c.size {
		w := c.world(p)
		if w == rs.rank {
			rs.mu.Lock()
			calls[p] = rs.calls[k].call
			rs.mu.Unlock()
			continue
		}
		for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
			st, err := rs.mux.query(ctx, rs.daemon(w), wire.CommQuery{Job: rs.job, Engine: rs.ranks[w], Ctx: k.ctx, Seq: k.seq})
			if err == nil && st.Called != "" {
				calls[p] = st.Called
				break
			}
			if !patient || err == nil && (st.State == wire.CommDone || st.State == wire.CommFailed || st.State == wire.CommGone) {
				break
			}
			select {
			case <-time.After(pause):
				continue
			case <-ctx.Done():
			}
			break
		}
	}
	return mismatchReport(calls, k.seq, c), differ(calls)
}

// differ reports whether two of calls (made ones) differ.
func differ(calls []string) bool {
	first := ""
	for _, call := range calls {
		switch {
		case call == "":
		case first == "":
			first = call
		case call != first:
			return true
		}
	}
	return false
}

// mismatchReport lists the ranks by call: "rank 0 called bcast(root=0);
// ranks 1, 2 called barrier()".
func mismatchReport(calls []string, seq int, c *communicator) string {
	var order []string
	ranks := map[string][]string{}
	for p, call := range calls {
		if _, ok := ranks[call]; !ok {
			order = append(order, call)
		}
		ranks[call] = append(ranks[call], fmt.Sprint(p))
	}
	parts := make([]string, len(order))
	for i, call := range order {
		who := "rank " + ranks[call][0]
		if len(ranks[call]) > 1 {
			who = "ranks " + strings.Join(ranks[call], ", ")
		}
		if call == "" {
			parts[i] = who + " did not call it"
		} else {
			parts[i] = who + " called " + call
		}
	}
	where := "comm"
	if c.name != "" {
		where = c.name
	}
	return fmt.Sprintf("collective #%d on %s: %s", seq, where, strings.Join(parts, "; "))
}

// mismatchError is ranks calling different collectives.
type mismatchError struct{ report string }

func (e *mismatchError) Error() string {
	return "collective mismatch: the ranks called different collectives (or roots) at " + e.report +
		": every rank must call the same collectives, with the same root, in the same order"
}

// settle waits until a mismatch report this rank started has failed the
// job, so that a task does not end successfully meanwhile.
func (rs *Rank) settle(ctx context.Context) error {
	rs.mu.Lock()
	checking := rs.checking
	rs.mu.Unlock()
	if !checking {
		return nil
	}
	return rs.wait(ctx, &request{desc: "the report of a collective mismatch", peer: -1}, noDeadline)
}

// confirm runs when a task ends well: for each communicator the task
// used, it waits until every other rank reached the task's last
// collective on it (or ended, or is blocked for a while), and checks that
// it called the same one. A root whose collective only sends (bcast,
// scatter) would otherwise end before any rank's mismatched message
// reaches it.
func (rs *Rank) confirm(ctx context.Context) error {
	rs.mu.Lock()
	last := map[*communicator]collKey{}
	for k, cc := range rs.calls {
		if k.seq > last[cc.comm].seq {
			last[cc.comm] = k
		}
	}
	rs.closing = true
	rs.mu.Unlock()
	for c, k := range last {
		for p := range c.size {
			if w := c.world(p); w != rs.rank && !rs.reached(ctx, k, w) {
				rs.mu.Lock()
				rs.mismatch(k)
				rs.mu.Unlock()
				if err := rs.settle(ctx); err != nil {
					return err
				}
				rs.mu.Lock()
				defer rs.mu.Unlock()
				return rs.broken // another rank's report came first
			}
		}
	}
	return rs.settle(ctx)
}

// reached waits until world rank w called collective k, and reports false
// when it called a different one, or ended its task without calling it.
// A rank that failed, or stays blocked before k, is not waited for.
func (rs *Rank) reached(ctx context.Context, k collKey, w int) bool {
	rs.mu.Lock()
	mine := rs.calls[k].call
	rs.mu.Unlock()
	var blocked time.Time
	for pause := time.Millisecond; ; pause = min(2*pause, 50*time.Millisecond) {
		st, err := rs.mux.query(ctx, rs.daemon(w), wire.CommQuery{Job: rs.job, Engine: rs.ranks[w], Ctx: k.ctx, Seq: k.seq})
		switch {
		case errors.Is(err, errNoAnswer):
			return true
		case err != nil:
		case st.Called != "":
			return st.Called == mine
		case st.State == wire.CommDone:
			return false
		case st.State == wire.CommFailed || st.State == wire.CommGone:
			return true
		case st.State == wire.CommBlocked && blocked.IsZero():
			blocked = time.Now()
		case st.State == wire.CommBlocked && time.Since(blocked) > mismatchPatience:
			return true
		case st.State != wire.CommBlocked:
			blocked = time.Time{}
		}
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return true
		}
	}
}
