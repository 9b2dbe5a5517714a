// This file defines the daemon's side of `pirun abort`: the hub's admin
// requests, which stop any client's tasks.

package engine

import (
	"slices"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// onAdmin handles a request on DaemonAdmin, where only the hub may
// publish: an OpAbort stops the tasks of Client ("" = every client; a
// client's detached jobs are its tasks too) whose ids are in Tasks
// (empty = all of them), queued or running, and the reply lists them.
func (d *Daemon) onAdmin(m *nats.Msg) {
	var c wire.Control
	var reply wire.ControlReply
	switch err := wire.UnmarshalMsg(m.Data, &c); {
	case err != nil:
		reply.Error = "malformed admin request: " + err.Error()
	case c.Op != wire.OpAbort:
		reply.Error = "unknown admin request"
	default:
		match := func(t *wire.Task) bool {
			return (c.Client == "" || t.Client == c.Client || t.OwnerID() == c.Client) && (len(c.Tasks) == 0 || slices.Contains(c.Tasks, t.ID))
		}
		for _, id := range d.targets(nil) {
			if e := d.engine(id); e != nil {
				reply.Aborted = append(reply.Aborted, e.abortWhere(match)...)
			}
		}
		if len(reply.Aborted) > 0 {
			d.log.Info("the hub's admin aborted tasks", "count", len(reply.Aborted), "client", c.Client)
		}
	}
	if m.Reply != "" {
		if data, err := wire.MarshalMsg(&reply); err == nil {
			m.Respond(data)
		}
	}
}
