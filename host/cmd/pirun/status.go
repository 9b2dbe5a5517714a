// This file defines `pirun status`: a cluster's engines, what they do, its
// queues and where the hub and its logs are.

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
)

func runStatus(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun status", flag.ContinueOnError)
	profile := fs.String("profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	connect := fs.String("connect", "", "a client connection file, instead of the profile's")
	ssh := fs.String("ssh", "", "reach the hub through an ssh tunnel to [user@]gateway[:port]")
	asJSON := fs.Bool("json", false, "print JSON (keys: hub, profile, logs, engines[], hosts, unassigned, queued, running, done)")
	verbose := fs.Bool("v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args, `Usage: pirun status [--profile P | --connect FILE] [--json]

Shows the hub's address, each engine (id, host, pid, arch, state, current
task, queue, tasks done, uptime), the queues and where the logs are.
`,
		`  pirun status --profile lab
  pirun status --json | jq '.engines[] | select(.state == "busy")'
`); !ok {
		return code
	}
	st, err := clusterStatus(ctx, e, *profile, *connect, *ssh, *verbose)
	if err != nil {
		return reportAs(e, "pirun status", err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return exitOK
	}
	st.print(e.stdout)
	return exitOK
}

// statusReport is the whole of what `pirun status` prints.
type statusReport struct {
	Hub     string `json:"hub"`
	Profile string `json:"profile,omitempty"`
	Logs    string `json:"logs,omitempty"`
	*client.Status
}

// clusterStatus connects with the profile's (or the given) client
// connection file and asks for the status.
func clusterStatus(ctx context.Context, e *env, profile, connect, ssh string, verbose bool) (*statusReport, error) {
	r := &statusReport{}
	if connect == "" {
		paths, _, err := openProfile(e, profile)
		if err != nil {
			return nil, &configError{err}
		}
		connect, r.Profile, r.Logs = paths.ClientConn, profileName(e, profile), paths.Log
	}
	log := newLogger(e.stderr, verbose, e.getenv)
	cf, err := loadConn(connect, conf.RoleClient, log)
	if err != nil {
		return nil, &configError{err}
	}
	r.Hub = strings.Join(cf.URLs, ",")
	c, err := connectFile(ctx, connect, ssh, client.Config{}, log)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if r.Status, err = c.Status(qctx); err != nil {
		return nil, err
	}
	return r, nil
}

// profileName is the name of the profile in use.
func profileName(e *env, name string) string {
	if name == "" {
		name = e.getenv("PIRUN_PROFILE")
	}
	if name == "" {
		name = conf.DefaultProfileName
	}
	return name
}

// print writes the status as a table.
func (r *statusReport) print(w io.Writer) {
	fmt.Fprintf(w, "hub %s at %s", r.HubID, r.Hub)
	if r.Profile != "" {
		fmt.Fprintf(w, " (profile %s)", r.Profile)
	}
	fmt.Fprintf(w, "\nengines: %d on %d host(s); %d running, %d queued in engines, %d unassigned; %d tasks done\n",
		len(r.Engines), r.Hosts, r.Running, r.Queued, r.Unassigned, r.Done)
	if len(r.Engines) > 0 {
		tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tHOST\tPID\tARCH\tSTATE\tTASK\tQUEUE\tDONE\tUPTIME")
		for _, en := range r.Engines {
			hostName := en.Host
			if en.Name != "" && en.Name != en.Host {
				hostName = en.Name + " (" + en.Host + ")"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%d\t%s\t%s\t%s\t%d\t%d\t%s\n", en.ID, hostName, en.PID, en.Arch, en.State,
				orDash(en.Task), en.Queue, en.Done, time.Duration(en.Uptime*float64(time.Second)).Round(time.Second))
		}
		tw.Flush()
	} else {
		fmt.Fprintln(w, "no engines: on each machine run: pirun engine --connect engine-connection.toml")
	}
	if r.Logs != "" {
		fmt.Fprintf(w, "logs: %s\n", r.Logs)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
