// This file defines `pirun abort`: the cluster's admin stops any client's
// tasks (client.AdminAbort), with the hub's own credential.

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/hub"
)

// runAbort is `pirun abort [--profile P] (--all | --client ID | TASK_ID...)`.
func runAbort(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun abort", flag.ContinueOnError)
	profile := fs.String("profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	all := fs.Bool("all", false, "stop every task of every client")
	clientID := fs.String("client", "", "stop the tasks of this client only (its id, as pirun status shows it)")
	verbose := fs.Bool("v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args, `Usage: pirun abort [--profile P] (--all | --client ID [TASK_ID...] | TASK_ID...)

Stops tasks of any client, queued or running: the cluster's admin
command. It runs on the hub's machine, with the hub's own credential
(security/hub.toml of the profile); a client connection file cannot.
TASK_IDs are the ids ar.msg_ids gives; without --client, tasks with
those ids are stopped whichever client sent them.
`,
		`  pirun abort --all
  pirun abort --client UABC… 
  pirun abort 7 8 9
`); !ok {
		return code
	}
	ids, err := taskIDs(fs.Args())
	if err != nil || *all == (*clientID != "" || len(ids) > 0) {
		if err == nil {
			err = errors.New("give --all, or --client ID, or task ids (and not --all with them)")
		}
		fmt.Fprintf(e.stderr, "pirun abort: %v\n", err)
		return exitUsage
	}
	nc, err := adminConn(e, *profile, *verbose)
	if err != nil {
		return reportAs(e, "pirun abort", err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, client.DefaultWait)
	defer cancel()
	stopped, err := client.AdminAbort(ctx, nc, *clientID, ids)
	if err != nil {
		return reportAs(e, "pirun abort", err)
	}
	clients := map[string]int{}
	for _, r := range stopped {
		clients[r.Client]++
	}
	fmt.Fprintf(e.stdout, "aborted %d tasks of %d clients\n", len(stopped), len(clients))
	return exitOK
}

// taskIDs parses task ids.
func taskIDs(args []string) ([]uint64, error) {
	var ids []uint64
	for _, a := range args {
		id, err := strconv.ParseUint(a, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a task id (ar.msg_ids gives them: whole numbers)", a)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// adminConn connects to the profile's hub with the hub's own credential.
func adminConn(e *env, profile string, verbose bool) (*nats.Conn, error) {
	paths, _, err := openProfile(e, profile)
	if err != nil {
		return nil, &configError{err}
	}
	secrets, err := conf.LoadHubSecrets(paths.HubSecrets)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &configError{fmt.Errorf("%s does not exist: pirun abort needs the hub's own credential; run it on the hub's machine, with the hub's --profile", paths.HubSecrets)}
	}
	if err != nil {
		return nil, &configError{err}
	}
	log := newLogger(e.stderr, verbose, e.getenv)
	cf, err := loadConn(paths.ClientConn, conf.RoleClient, log)
	if err != nil {
		return nil, &configError{err}
	}
	cf.User, cf.Password = hub.UserHub, secrets.Hub
	opts, err := natsOptions(cf, "pirun-abort")
	if err != nil {
		return nil, &configError{fmt.Errorf("%s: %w", paths.ClientConn, err)}
	}
	nc, err := nats.Connect(strings.Join(cf.URLs, ","), append(opts, nats.Timeout(5*time.Second))...)
	if err != nil {
		return nil, dialError(cf, err)
	}
	return nc, nil
}
