// This file defines `pirun cluster start` and `pirun cluster stop`
// (ipcluster): a hub with local engines and the engines that the
// profile's [[hosts]] list, launched with the system ssh. `start` runs the
// cluster in a detached supervisor (cluster_super.go) and waits until it
// reports; `stop` ends it through the state file (cluster_stop.go).

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/launch"
)

const clusterUsage = `Usage: pirun cluster start [-n N] [--profile P] [--push-binary]
       pirun cluster stop [--profile P]

start runs a hub with N engines on this machine, and the engines that the
profile's [[hosts]] tables in pirun.toml list, launched there with the
system ssh (so ~/.ssh/config and agents apply). It returns once they have
joined; the cluster keeps running in the background until
'pirun cluster stop'. Launched engines exit when their hub has been gone
for [cluster] grace, so no orphan is left on a Pi.

Run 'pirun cluster start --help' or 'pirun cluster stop --help' for flags.
`

func runCluster(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(e.stderr, "pirun cluster: expected start or stop\n\n%s", clusterUsage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, clusterUsage)
		return exitOK
	case "start":
		return runClusterStart(ctx, e, args[1:])
	case "stop":
		return runClusterStop(ctx, e, args[1:])
	}
	fmt.Fprintf(e.stderr, "pirun cluster: unknown command %q: expected start or stop\nRun 'pirun cluster --help' for usage.\n", args[0])
	return exitUsage
}

// clusterFlags are the flags of `pirun cluster start`.
type clusterFlags struct {
	profile                         string
	n                               int
	pushBinary, foreground, verbose bool
	timeout                         time.Duration
	notifyFD                        int
}

func runClusterStart(ctx context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("pirun cluster start", flag.ContinueOnError)
	var f clusterFlags
	fs.IntVar(&f.n, "n", 0, "engines on this machine (default: [cluster] engines, else one per CPU)")
	fs.StringVar(&f.profile, "profile", "", "profile name (default: $PIRUN_PROFILE, else default)")
	fs.BoolVar(&f.pushBinary, "push-binary", false, "copy the pirun build for each host's platform to ~/.pirun/bin/pirun there and run that one")
	fs.DurationVar(&f.timeout, "timeout", time.Minute, "how long to wait for the engines to join")
	fs.BoolVar(&f.foreground, "foreground", false, "run the cluster in this process until Ctrl-C or SIGTERM, instead of in the background")
	fs.IntVar(&f.notifyFD, "notify-fd", -1, "(used by pirun cluster start itself) report readiness on this file descriptor")
	fs.BoolVar(&f.verbose, "v", false, "debug logs")
	if code, ok := parseFlags(e, fs, args, `Usage: pirun cluster start [-n N] [--profile P] [--push-binary]

Starts the profile's hub, N engines on this machine and the engines of its
[[hosts]] over ssh, and returns once they have joined. The cluster runs in
the background (its log: the profile's log/cluster.log) until
'pirun cluster stop'.
`, `  pirun cluster start -n 4
  pirun cluster start --profile lab --push-binary
`); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "pirun cluster start: unexpected argument %q\nRun 'pirun cluster start --help' for usage.\n", fs.Arg(0))
		return exitUsage
	}
	if f.n < 0 || f.timeout <= 0 {
		fmt.Fprintf(e.stderr, "pirun cluster start: -n must be 0 or more and --timeout positive\n")
		return exitUsage
	}
	f.profile = profileName(e, f.profile)
	if f.foreground {
		return runSupervisor(ctx, e, f)
	}
	return startDetached(ctx, e, f)
}

// clusterProfile loads the profile of a cluster and finds the ssh program
// when [[hosts]] need it. Errors are *configError.
func clusterProfile(e *env, f clusterFlags) (conf.ProfilePaths, conf.Profile, string, error) {
	paths, prof, err := openProfile(e, f.profile)
	if err != nil {
		return paths, prof, "", &configError{err}
	}
	if len(prof.Hosts) == 0 {
		return paths, prof, "", nil
	}
	ssh, err := exec.LookPath(prof.Cluster.SSH)
	if err != nil {
		return paths, prof, "", &configError{fmt.Errorf("%s: [[hosts]]: %w", paths.Config, launch.ProgramError(prof.Cluster.SSH, err))}
	}
	return paths, prof, ssh, nil
}

// refuseRunning returns an error when the state file shows a cluster of
// the profile that still runs. A stale state file (its supervisor is gone)
// is cleaned up: the processes it records that still run are ended.
func refuseRunning(e *env, paths conf.ProfilePaths, name string) error {
	st, err := launch.ReadState(paths.Cluster)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return &client.ClusterError{Msg: err.Error()}
	case st.Supervisor.Running():
		return &client.ClusterError{Msg: fmt.Sprintf("a cluster of profile %s is already running (pid %d, started %s); stop it with: pirun cluster stop --profile %s",
			name, st.Supervisor.PID, st.Started.Local().Format(time.DateTime), name)}
	}
	n := endChildren(st)
	os.Remove(paths.Cluster)
	fmt.Fprintf(e.stderr, "pirun cluster: warning: the cluster of profile %s started %s was not stopped (pid %d is gone); removed its state file and ended %s left over\n",
		name, st.Started.Local().Format(time.DateTime), st.Supervisor.PID, counted(n, "process", "processes"))
	return nil
}

// startDetached starts the supervisor in its own session, with its output
// appended to log/cluster.log, and prints its report once it is ready.
func startDetached(ctx context.Context, e *env, f clusterFlags) int {
	paths, prof, _, err := clusterProfile(e, f)
	if err == nil {
		err = refuseRunning(e, paths, f.profile)
	}
	if err != nil {
		return reportAs(e, "pirun cluster start", err)
	}
	cmd, notify, err := spawnSupervisor(paths, f)
	if err != nil {
		return reportAs(e, "pirun cluster start", &client.ClusterError{Msg: "start the cluster supervisor: " + err.Error()})
	}
	wait := f.timeout + 30*time.Second
	if f.pushBinary || hostsPush(prof) {
		wait += pushTimeout
	}
	rep := readReport(ctx, notify, wait, f.profile)
	notify.Close()
	if rep.Code == -1 { // the supervisor died without a word
		cmd.Wait()
		rep.Code = exitUnavailable
		rep.Error = fmt.Sprintf("the cluster supervisor exited (%v) before it was ready: %s", cmd.ProcessState, logTail(filepath.Join(paths.Log, "cluster.log")))
	} else {
		cmd.Process.Release()
	}
	printReport(e, rep)
	return rep.Code
}

// hostsPush reports whether a [[hosts]] entry asks for push_binary.
func hostsPush(prof conf.Profile) bool {
	for _, h := range prof.Hosts {
		if h.PushBinary {
			return true
		}
	}
	return false
}

// spawnSupervisor starts `pirun cluster start --foreground` detached; it
// reports on the returned pipe.
func spawnSupervisor(paths conf.ProfilePaths, f clusterFlags) (*exec.Cmd, *os.File, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	logf, err := os.OpenFile(filepath.Join(paths.Log, "cluster.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	defer logf.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	defer w.Close()
	args := []string{"cluster", "start", "--foreground", "--notify-fd", "3", "--profile", f.profile,
		"--timeout", f.timeout.String()}
	if f.n > 0 {
		args = append(args, "-n", strconv.Itoa(f.n))
	}
	if f.pushBinary {
		args = append(args, "--push-binary")
	}
	if f.verbose {
		args = append(args, "-v")
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = logf, logf, []*os.File{w}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		return nil, nil, err
	}
	return cmd, r, nil
}

// readReport reads the supervisor's report; Code is -1 when the pipe
// ended without one.
func readReport(ctx context.Context, r *os.File, wait time.Duration, profile string) startReport {
	r.SetReadDeadline(time.Now().Add(wait))
	stop := context.AfterFunc(ctx, func() { r.SetReadDeadline(time.Now()) })
	defer stop()
	var rep startReport
	err := json.NewDecoder(r).Decode(&rep)
	switch {
	case err == nil:
		return rep
	case ctx.Err() != nil:
		return startReport{Code: exitInterrupted, Error: "interrupted; the cluster goes on starting in the background: stop it with: pirun cluster stop --profile " + profile}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return startReport{Code: exitUnavailable, Error: fmt.Sprintf("the cluster did not report ready within %v; it goes on starting in the background (see the profile's log/cluster.log); stop it with: pirun cluster stop --profile %s", wait, profile)}
	}
	return startReport{Code: -1}
}

// logTail returns the last lines of a log file, for a failure message.
func logTail(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "see " + path
	}
	return launch.LastLines(string(data), 5) + " (" + path + ")"
}

// printReport prints where the cluster is and what joined, or why not.
func printReport(e *env, rep startReport) {
	for _, w := range rep.Warnings {
		fmt.Fprintf(e.stderr, "pirun cluster: warning: %s\n", w)
	}
	st := rep.State
	if st != nil && rep.Code == exitOK {
		fmt.Fprintf(e.stdout, "pirun cluster (profile %s) started: hub %s, supervisor pid %d\n", st.Profile, st.HubURL, st.Supervisor.PID)
		if st.Dashboard != "" {
			fmt.Fprintf(e.stdout, "  dashboard: %s\n", st.Dashboard)
		}
	}
	if st != nil {
		for _, c := range st.Children {
			if len(c.Joined) > 0 {
				fmt.Fprintf(e.stdout, "  %-20s %s (ids %s)", c.Host, counted(len(c.Joined), "engine", "engines"), idList(c.Joined))
				if c.Pushed != "" {
					fmt.Fprintf(e.stdout, ", pirun copied from %s", c.Pushed)
				}
				fmt.Fprintln(e.stdout)
			} else {
				fmt.Fprintf(e.stderr, "pirun cluster: warning: %s: %s\n", c.Host, c.Error)
			}
		}
	}
	if rep.Error != "" {
		fmt.Fprintf(e.stderr, "pirun cluster: %s\n", rep.Error)
	}
	if st == nil || rep.Code != exitOK {
		return
	}
	fmt.Fprintf(e.stdout, "client connection file: %s\nengine connection file: %s\nlogs: %s\n", rep.ClientConn, rep.EngineConn, rep.LogDir)
	fmt.Fprintf(e.stdout, "run a script on it: pirun --profile %s script.star\nstop it with: pirun cluster stop --profile %s\n", st.Profile, st.Profile)
}

// idList renders sorted ids compactly: "0-3, 7".
func idList(ids []int) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		} else {
			parts = append(parts, strconv.Itoa(ids[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}

// counted returns "1 engine" or "3 engines": n and the form of the noun
// for n.
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
