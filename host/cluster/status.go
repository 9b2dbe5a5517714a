// This file defines a cluster's status as `pirun status` prints it: its
// engines, what they do, its queues and where the hub and its logs are.

package cluster

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
)

// StatusReport is the whole of what `pirun status` prints.
type StatusReport struct {
	Hub     string `json:"hub"`
	Profile string `json:"profile,omitempty"`
	Logs    string `json:"logs,omitempty"`
	*client.Status
}

// Status connects with the profile's (or the given) client connection
// file, through an ssh tunnel to gateway ssh unless "", and asks the hub
// for its status.
func Status(ctx context.Context, stderr io.Writer, getenv func(string) string, profile, connect, ssh string, verbose bool) (*StatusReport, error) {
	r := &StatusReport{}
	if connect == "" {
		paths, _, err := OpenProfile(profile, getenv, stderr)
		if err != nil {
			return nil, &ConfigError{err}
		}
		connect, r.Profile, r.Logs = paths.ClientConn, ProfileName(profile, getenv), paths.Log
	}
	log := NewLogger(stderr, verbose, getenv)
	cf, err := LoadConn(connect, conf.RoleClient, log)
	if client.IsCluster(err) {
		return nil, err
	}
	if err != nil {
		return nil, &ConfigError{err}
	}
	r.Hub = strings.Join(cf.URLs, ",")
	c, err := Connect(ctx, connect, ssh, client.Config{}, log)
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

// Print writes the status as a table.
func (r *StatusReport) Print(w io.Writer) {
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
