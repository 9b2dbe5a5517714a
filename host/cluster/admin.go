// This file defines the admin's connection of `pirun abort` (with the
// hub's own credential) and the task records of `pirun status --tasks`.

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/hub"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// Abort is `pirun abort`: it stops the tasks of every client (all), of
// clientID, or with the task ids args, with the hub's own credential, and
// says on e.Stdout how many it stopped. Mistakes are *ConfigError.
func Abort(ctx context.Context, e *IO, profile string, all bool, clientID string, args []string, verbose bool) error {
	ids, err := TaskIDs(args)
	if err != nil || all == (clientID != "" || len(ids) > 0) {
		if err == nil {
			err = errors.New("give --all, or --client ID, or task ids (and not --all with them)")
		}
		return &ConfigError{err}
	}
	nc, err := AdminConn(ctx, e.Stderr, e.Getenv, profile, verbose)
	if in := InterruptOf(ctx); in != nil && err != nil {
		return &AbortInterrupted{Interrupt: in}
	}
	if err != nil {
		return err
	}
	defer nc.Close()
	if in := InterruptOf(ctx); in != nil {
		return &AbortInterrupted{Interrupt: in}
	}
	qctx, cancel := context.WithTimeout(ctx, client.DefaultWait)
	defer cancel()
	stopped, err := client.AdminAbort(qctx, nc, clientID, ids)
	if in := InterruptOf(ctx); in != nil && err != nil {
		nc.FlushTimeout(time.Second) // the request, if still buffered, before the connection closes
		return &AbortInterrupted{Interrupt: in, Sent: true}
	}
	if err != nil {
		return err
	}
	clients := map[string]int{}
	for _, r := range stopped {
		clients[r.Client]++
	}
	fmt.Fprintf(e.Stdout, "aborted %s of %s\n", counted(len(stopped), "task", "tasks"), counted(len(clients), "client", "clients"))
	return nil
}

// AbortInterrupted is Abort's error when a signal stopped it: before or
// after its request went to the hub.
type AbortInterrupted struct {
	*Interrupt
	Sent bool
}

func (e *AbortInterrupted) Error() string {
	if e.Sent {
		return e.Interrupt.Error() + " after the abort request was sent: the hub may have stopped tasks; pirun status --tasks shows their states"
	}
	return e.Interrupt.Error() + " before the abort request was sent: nothing was aborted"
}

func (e *AbortInterrupted) Unwrap() error { return e.Interrupt }

// TaskIDs parses task ids (ar.msg_ids gives them).
func TaskIDs(args []string) ([]uint64, error) {
	var ids []uint64
	for _, a := range args {
		id, err := strconv.ParseUint(a, 10, 64)
		if err != nil && strings.HasPrefix(a, "-") {
			return nil, fmt.Errorf("%s after the task ids: flags go first, as in pirun abort --client ID 7 8", a)
		}
		if err != nil {
			return nil, fmt.Errorf("%q is not a task id (ar.msg_ids gives them: whole numbers)", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// AdminConn connects to the profile's hub with the hub's own credential.
func AdminConn(ctx context.Context, stderr io.Writer, getenv func(string) string, profile string, verbose bool) (*nats.Conn, error) {
	paths, _, err := OpenProfile(profile, getenv, stderr)
	if err != nil {
		return nil, &ConfigError{err}
	}
	secrets, err := conf.LoadHubSecrets(paths.HubSecrets)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &ConfigError{fmt.Errorf("%s does not exist: pirun abort needs the hub's own credential; run it on the hub's machine, with the hub's --profile", paths.HubSecrets)}
	}
	if err != nil {
		return nil, &ConfigError{err}
	}
	cf, err := LoadConn(paths.ClientConn, conf.RoleClient, NewLogger(stderr, verbose, getenv))
	if client.IsCluster(err) {
		return nil, err
	}
	if err != nil {
		return nil, &ConfigError{err}
	}
	cf.User, cf.Password = hub.UserHub, secrets.Hub
	opts, err := NATSOptions(cf, "pirun-abort")
	if err != nil {
		return nil, &ConfigError{fmt.Errorf("%s: %w", paths.ClientConn, err)}
	}
	nc, err := dial(ctx, cf.URLs, opts)
	if err != nil {
		return nil, DialError(cf, err)
	}
	return nc, nil
}

// Tasks returns the hub's limit most recent task records: every client's
// with the hub's own credential (on the hub's machine, with its profile),
// else with the profile's (or the given) client connection file only
// that client's own (SPEC §15: clients are isolated).
func Tasks(ctx context.Context, stderr io.Writer, getenv func(string) string, profile, connect, ssh string, verbose bool, limit int) ([]client.TaskStatus, error) {
	if connect == "" && ssh == "" {
		if nc, err := AdminConn(ctx, io.Discard, getenv, profile, verbose); err == nil {
			defer nc.Close()
			return adminTasks(ctx, nc, limit)
		}
	}
	if connect == "" {
		paths, _, err := OpenProfile(profile, getenv, stderr)
		if err != nil {
			return nil, &ConfigError{err}
		}
		connect = paths.ClientConn
	}
	c, err := Connect(ctx, connect, ssh, client.Config{}, NewLogger(stderr, verbose, getenv))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return c.Tasks(qctx, limit)
}

// PrintTasks prints task records as a table, or as JSON {"tasks": [...]}.
func PrintTasks(w io.Writer, ts []client.TaskStatus, asJSON bool) {
	if !asJSON {
		client.WriteTasks(w, ts)
		return
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(map[string]any{"tasks": ts})
}

// adminTasks asks the hub for every client's task records on the hub's
// own connection (a plain inbox: the hub lists them all to it).
func adminTasks(ctx context.Context, nc *nats.Conn, limit int) ([]client.TaskStatus, error) {
	data, err := wire.MarshalMsg(&wire.Query{Op: wire.QueryTasks, Limit: limit})
	if err != nil {
		return nil, err
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	m, err := nc.RequestWithContext(qctx, wire.SubjectQuery, data)
	if err != nil {
		return nil, &client.ClusterError{Msg: "ask the hub for its task records: " + err.Error() + "; is the hub running? (pirun hub)"}
	}
	var r wire.QueryReply
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		return nil, &client.ClusterError{Msg: "hub's task records: " + err.Error()}
	}
	if r.Error != "" {
		return nil, errors.New(r.Error)
	}
	return client.TaskStatuses(r.Records), nil
}
