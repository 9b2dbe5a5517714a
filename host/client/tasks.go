// This file defines what `pirun status --tasks` shows: the hub's records
// of recent tasks (SPEC §15), as data and as a table.

package client

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TaskStatus is one task record, shaped for JSON output.
type TaskStatus struct {
	ID        uint64     `json:"id"`
	Client    string     `json:"client"`
	Engine    *int       `json:"engine"` // nil until known
	State     string     `json:"state"`  // pending, ok, error, aborted, timeout, lost, impossible
	Label     string     `json:"label,omitempty"`
	Detached  bool       `json:"detached,omitempty"`
	Result    bool       `json:"result_kept,omitempty"` // the hub keeps its result (detached)
	Note      string     `json:"note,omitempty"`
	Submitted *time.Time `json:"submitted,omitempty"`
	Started   *time.Time `json:"started,omitempty"`
	Completed *time.Time `json:"completed,omitempty"`
}

// Tasks returns this client's limit most recent task records (all the
// hub keeps when limit is 0), oldest first: the hub lists a client only
// its own (everyone's to its own credential, cluster.Tasks).
func (c *Client) Tasks(ctx context.Context, limit int) ([]TaskStatus, error) {
	r, err := c.Query(ctx, wire.Query{Op: wire.QueryTasks, Limit: limit})
	if err != nil {
		return nil, err
	}
	return TaskStatuses(r.Records), nil
}

// TaskStatuses gives the hub's task records as TaskStatus.
func TaskStatuses(recs []wire.TaskRecord) []TaskStatus {
	out := make([]TaskStatus, 0, len(recs))
	for _, rec := range recs {
		ts := TaskStatus{ID: rec.ID, Client: rec.Client, State: rec.Status.String(), Label: rec.Label,
			Detached: rec.Detached, Result: rec.Result, Note: rec.Note,
			Submitted: when(rec.Submitted), Started: when(rec.Started), Completed: when(rec.Completed)}
		if rec.Engine >= 0 {
			e := rec.Engine
			ts.Engine = &e
		}
		out = append(out, ts)
	}
	return out
}

func when(ns int64) *time.Time {
	if ns == 0 {
		return nil
	}
	t := time.Unix(0, ns).UTC()
	return &t
}

// WriteTasks writes task records as a table.
func WriteTasks(w io.Writer, ts []TaskStatus) {
	if len(ts) == 0 {
		fmt.Fprintln(w, "no task records (the hub keeps [hub] task_records of them)")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tCLIENT\tENGINE\tSTATE\tSUBMITTED\tRAN\tLABEL")
	for _, t := range ts {
		engine, client, ran, sub := "-", t.Client, "-", "-"
		if t.Engine != nil {
			engine = fmt.Sprint(*t.Engine)
		}
		if len(client) > 8 {
			client = client[:8]
		}
		if t.Submitted != nil {
			sub = t.Submitted.Local().Format("15:04:05")
		}
		if t.Started != nil && t.Completed != nil {
			ran = t.Completed.Sub(*t.Started).Round(time.Millisecond).String()
		}
		state := t.State
		if t.Detached {
			state += " (detached"
			if t.Result {
				state += ", result kept"
			}
			state += ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, client, engine, state, sub, ran, t.Label)
	}
	tw.Flush()
}
