// This file defines AdminAbort, the request behind `pirun abort`.

package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// AdminAbort asks the hub to stop the tasks of client ("" = every
// client) whose ids are in ids (empty = all of them): load-balanced
// tasks still waiting, and every task queued or running on an engine. nc
// must be connected with the hub's own credential (security/hub.toml):
// the admin subject is in no client's or engine's permissions. It
// returns the tasks stopped.
func AdminAbort(ctx context.Context, nc *nats.Conn, client string, ids []uint64) ([]wire.TaskRef, error) {
	data, err := wire.MarshalMsg(&wire.Control{Op: wire.OpAbort, Client: client, Tasks: ids})
	if err != nil {
		return nil, err
	}
	m, err := nc.RequestWithContext(ctx, wire.SubjectAdmin, data)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil, &ClusterError{Msg: "no pirun hub answers admin requests on this connection; is the hub running, and is it this version? (pirun version)"}
	case err != nil:
		return nil, &ClusterError{Msg: "ask the hub: " + err.Error()}
	}
	var r wire.ControlReply
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		return nil, &ClusterError{Msg: "hub's answer: " + err.Error()}
	}
	if r.Error != "" {
		return nil, fmt.Errorf("the hub refused: %s", r.Error)
	}
	return r.Aborted, nil
}
