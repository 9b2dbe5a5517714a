// This file defines how a client submits detached=True load-balanced
// tasks (SPEC §15): the whole call at once, outside the submission
// window (the hub bounds detached tasks per client itself), and then it
// waits for the hub to say they are on its disk, so that a call that
// returns has handed its tasks over for good: neither the client exiting
// nor a hub SIGKILL loses them. A submission past the hub's bounds is
// refused whole, with the reason.

package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// syncWait bounds the wait for the hub to keep a detached submission on
// disk (one write and two fsyncs for whatever arrived meanwhile).
const syncWait = 30 * time.Second

// isDetached reports whether tasks were submitted detached=True (one
// call's tasks all are, or none is).
func isDetached(tasks []wire.Task) bool {
	return len(tasks) > 0 && tasks[0].Client == wire.DetachedClient
}

// submitDetached sends detached tasks, already tracked, to the hub's
// scheduler in one batch and returns once the hub has them on disk, or
// with the reason it refused them.
func (c *Client) submitDetached(ctx context.Context, tasks []wire.Task, bundle []byte) error {
	c.mu.Lock()
	for _, t := range tasks {
		if p := c.pending[t.ID]; p != nil {
			// Kept to submit again after a hub restart, out of the
			// window.
			p.held, p.sent = -1, &unsent{task: t, bundle: bundle}
		}
	}
	c.mu.Unlock()
	if err := c.sendBalanced(ctx, tasks, bundle); err != nil {
		return err
	}
	return c.syncDetached(ctx, tasks)
}

// syncDetached asks the hub to answer once the detached tasks of this
// submission, tasks, are on its disk (wire.HeaderSync names it by its
// first task's id, so that concurrent submissions each hear their own
// answer).
func (c *Client) syncDetached(ctx context.Context, tasks []wire.Task) error {
	ctx, cancel := context.WithTimeout(ctx, syncWait)
	defer cancel()
	m := &nats.Msg{Subject: wire.SubmitFrom(c.id), Header: nats.Header{wire.HeaderSync: {strconv.FormatUint(tasks[0].ID, 10)}}}
	reply, err := c.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		if errors.Is(err, nats.ErrNoResponders) {
			err = errors.New("no pirun hub answers on this connection; is the hub running? (pirun hub)")
		}
		return &ClusterError{Msg: "submit detached tasks: the hub did not confirm that it keeps them (" + err.Error() +
			"); they may or may not run: c.result_status(" + idList(tasks) + ") tells, once the hub answers"}
	}
	var r wire.ControlReply
	if err := wire.UnmarshalMsg(reply.Data, &r); err != nil {
		return &ClusterError{Msg: "submit detached tasks: the hub's answer: " + err.Error()}
	}
	if r.Error != "" {
		return errors.New(r.Error)
	}
	return nil
}

// idList writes the ids of tasks as a Starlark list for an error message:
// all of them when few, else the first and last few, with the count.
func idList(tasks []wire.Task) string {
	const few = 8
	ids := make([]string, 0, min(len(tasks), few+1))
	for i, t := range tasks {
		if len(tasks) > few && i == few/2 {
			ids = append(ids, fmt.Sprintf("... %d more ...", len(tasks)-few))
		}
		if len(tasks) <= few || i < few/2 || i >= len(tasks)-few/2 {
			ids = append(ids, strconv.FormatUint(t.ID, 10))
		}
	}
	return "[" + strings.Join(ids, ", ") + "]"
}
