// This file defines Status: what `pirun status` shows of a cluster, read
// from the hub (engines) and from the engines (their counters).

package client

import (
	"context"
	"slices"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Status is a cluster's state at one moment. It is plain data, shaped for
// JSON output.
type Status struct {
	HubID      string         `json:"hub_id"`
	Engines    []EngineStatus `json:"engines"`
	Hosts      int            `json:"hosts"`
	Unassigned int            `json:"unassigned"` // load-balanced tasks not yet sent to an engine
	Queued     int            `json:"queued"`     // tasks waiting in engines' queues
	Running    int            `json:"running"`    // engines running a task
	Done       uint64         `json:"done"`       // tasks finished by the engines present
}

// EngineStatus is one engine in a Status.
type EngineStatus struct {
	ID      int       `json:"id"`
	Host    string    `json:"host"`
	Name    string    `json:"name,omitempty"`
	PID     int       `json:"pid"`
	Arch    string    `json:"arch"`
	Version string    `json:"version"`
	State   string    `json:"state"`          // idle, busy, stopping, or unknown when it did not answer
	Task    string    `json:"task,omitempty"` // what it runs now
	Queue   int       `json:"queue"`
	Done    uint64    `json:"done"`
	Uptime  float64   `json:"uptime_s"`
	Joined  time.Time `json:"joined"`
}

// Status asks the hub and the engines for the cluster's state.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	er, err := c.Query(ctx, wire.Query{Op: wire.QueryEngines})
	if err != nil {
		return nil, err
	}
	qr, err := c.Query(ctx, wire.Query{Op: wire.QueryQueueStatus})
	if err != nil {
		return nil, err
	}
	stats := make(map[int]wire.EngineStat, len(qr.Stats))
	for _, s := range qr.Stats {
		stats[s.ID] = s
	}
	st := &Status{HubID: er.HubID, Unassigned: qr.Unassigned, Engines: []EngineStatus{}}
	hosts := map[string]bool{}
	for _, e := range er.Engines {
		es := engineStatus(e, stats)
		st.Queued += es.Queue
		st.Done += es.Done
		if es.State == wire.StateBusy.String() {
			st.Running++
		}
		hosts[e.Host] = true
		st.Engines = append(st.Engines, es)
	}
	st.Hosts = len(hosts)
	slices.SortFunc(st.Engines, func(a, b EngineStatus) int { return a.ID - b.ID })
	return st, nil
}

// engineStatus joins the hub's record of an engine with its counters.
func engineStatus(e wire.EngineInfo, stats map[int]wire.EngineStat) EngineStatus {
	es := EngineStatus{ID: e.ID, Host: e.Host, Name: e.Name, PID: e.PID, Arch: e.Arch, Version: e.Version,
		State: "unknown", Joined: time.Unix(0, e.Joined).UTC()}
	if s, ok := stats[e.ID]; ok {
		es.State, es.Task, es.Queue, es.Done = s.State.String(), s.Task, s.Queue, s.Done
		es.Uptime = time.Duration(s.Uptime).Seconds()
	}
	return es
}
