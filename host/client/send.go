// This file defines how a client sends tasks: direct tasks to the daemons
// of their engines, one batch per daemon, and load-balanced tasks to the
// hub's scheduler.

package client

import (
	"context"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// SendDirect sends tasks to the daemons of their targets: one message per
// daemon, sharing bundle, so N engines of one machine cost one crossing.
// payloads[i], when not nil, is the payload of tasks[i] in place of its
// Payload field (see wire.MarshalBatchBlocks); payloads may be nil.
//
// Each task is kept, payload and all, until it finishes, in case a hub
// crash loses it on its way (askResend sends it again): the payload's
// bytes must not change meanwhile, as for any zero-copy send.
func (c *Client) SendDirect(ctx context.Context, tasks []wire.Task, payloads []wire.Blocks, bundle []byte) error {
	c.keepDirect(tasks, payloads, bundle)
	byDaemon := make(map[string]*daemonBatch)
	var order []string
	for i, t := range tasks {
		// A task for several engines is split per daemon.
		parts := make(map[string][]int)
		for _, id := range t.Targets {
			d, err := c.DaemonOf(id)
			if err != nil {
				return err
			}
			parts[d] = append(parts[d], id)
		}
		for d, ids := range parts {
			b := byDaemon[d]
			if b == nil {
				b = &daemonBatch{}
				if bundle != nil {
					b.Bundles = [][]byte{bundle}
				}
				byDaemon[d] = b
				order = append(order, d)
			}
			tt := t
			tt.Targets = ids
			if bundle != nil {
				tt.Bundle = 1
			}
			b.Tasks = append(b.Tasks, tt)
			var payload wire.Blocks
			if i < len(payloads) {
				payload = payloads[i]
			}
			b.payloads = append(b.payloads, payload)
		}
	}
	for _, d := range order {
		b := byDaemon[d]
		if err := c.out.SendBatch(ctx, wire.DaemonTasksFrom(d, c.id), &b.Batch, b.payloads); err != nil {
			return &ClusterError{Msg: "send tasks: " + err.Error()}
		}
	}
	return nil
}

// directSent is a direct task as SendDirect sent it.
type directSent struct {
	task    wire.Task
	payload wire.Blocks
	bundle  []byte
}

// keepDirect keeps the tracked tasks among tasks as sent, for askResend.
func (c *Client) keepDirect(tasks []wire.Task, payloads []wire.Blocks, bundle []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, t := range tasks {
		if p := c.pending[t.ID]; p != nil && p.direct == nil {
			p.direct = &directSent{task: t, bundle: bundle}
			if i < len(payloads) {
				p.direct.payload = payloads[i]
			}
		}
	}
}

// daemonBatch is the batch for one daemon, with the tasks' payload blocks.
type daemonBatch struct {
	wire.Batch
	payloads []wire.Blocks
}

// sendBalanced submits tasks to the hub's scheduler in one batch.
func (c *Client) sendBalanced(ctx context.Context, tasks []wire.Task, bundle []byte) error {
	b := &wire.Batch{Tasks: tasks}
	if bundle != nil {
		b.Bundles = [][]byte{bundle}
		for i := range b.Tasks {
			b.Tasks[i].Bundle = 1
		}
	}
	if err := c.out.SendMsg(ctx, wire.SubmitFrom(c.id), b); err != nil {
		return &ClusterError{Msg: "submit tasks: " + err.Error()}
	}
	return nil
}
