// This file defines `pirun cluster start` (ipcluster): a hub with local
// engines and the engines that the profile's [[hosts]] list, launched
// with the system ssh. It runs the cluster in a detached supervisor
// (supervisor.go) and waits until it reports; stop.go ends it through the
// state file.

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/launch"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// IO is what the cluster's commands may touch of the process.
type IO struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// StartOptions are the flags of `pirun cluster start`.
type StartOptions struct {
	Profile                         string // the profile's name, resolved
	N                               int    // engines on this machine; 0 = [cluster] engines, else one per CPU
	PushBinary, Foreground, Verbose bool
	Timeout                         time.Duration // for the engines to join
	NotifyFD                        int           // the supervisor reports on this descriptor; -1 = none
}

// Start is `pirun cluster start`: it runs the supervisor here with
// Foreground, else starts it detached and waits for its report. It
// returns pirun's exit status.
func Start(ctx context.Context, e *IO, f StartOptions) int {
	if f.Foreground {
		return RunSupervisor(ctx, e, f)
	}
	return startDetached(ctx, e, f)
}

// clusterProfile loads the profile of a cluster and finds the ssh program
// when [[hosts]] need it. Errors are *ConfigError.
func clusterProfile(e *IO, f StartOptions) (conf.ProfilePaths, conf.Profile, string, error) {
	paths, prof, err := OpenProfile(f.Profile, e.Getenv, e.Stderr)
	if err != nil {
		return paths, prof, "", &ConfigError{err}
	}
	if len(prof.Hosts) == 0 {
		return paths, prof, "", nil
	}
	ssh, err := exec.LookPath(prof.Cluster.SSH)
	if err != nil {
		return paths, prof, "", &ConfigError{fmt.Errorf("%s: [[hosts]]: %w", paths.Config, launch.ProgramError(prof.Cluster.SSH, err))}
	}
	return paths, prof, ssh, nil
}

// refuseRunning returns an error when the state file shows a cluster of
// the profile that still runs. A stale state file (its supervisor is gone)
// is cleaned up: the processes it records that still run are ended.
func refuseRunning(e *IO, paths conf.ProfilePaths, name string) error {
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
	fmt.Fprintf(e.Stderr, "pirun cluster: warning: the cluster of profile %s started %s was not stopped (pid %d is gone); removed its state file and ended %s left over\n",
		name, st.Started.Local().Format(time.DateTime), st.Supervisor.PID, counted(n, "process", "processes"))
	return nil
}

// startDetached starts the supervisor in its own session, with its output
// appended to log/cluster.log, and prints its report once it is ready.
func startDetached(ctx context.Context, e *IO, f StartOptions) int {
	paths, prof, _, err := clusterProfile(e, f)
	if err == nil {
		err = refuseRunning(e, paths, f.Profile)
	}
	if err != nil {
		return failStart(e, err)
	}
	cmd, notify, err := spawnSupervisor(paths, f)
	if err != nil {
		return failStart(e, &client.ClusterError{Msg: "start the cluster supervisor: " + err.Error()})
	}
	wait := f.Timeout + 30*time.Second
	if f.PushBinary || hostsPush(prof) {
		wait += pushTimeout
	}
	rep := readReport(ctx, notify, wait, f.Profile)
	if rep.Code == codeInterrupted {
		return abandonStart(ctx, e, cmd, notify, f.Profile)
	}
	notify.Close()
	if rep.Code == -1 { // the supervisor died without a word
		cmd.Wait()
		rep.Code = codeUnavailable
		rep.Error = fmt.Sprintf("the cluster supervisor exited (%v) before it was ready: %s", cmd.ProcessState, logTail(filepath.Join(paths.Log, "cluster.log")))
	} else {
		cmd.Process.Release()
	}
	printReport(e, rep)
	return rep.Code
}

// failStart prints why the cluster did not start and returns the exit
// status: 2 for a mistake in a flag or file, else 3.
func failStart(e *IO, err error) int {
	fmt.Fprintf(e.Stderr, "pirun cluster start: %v\n", err)
	if IsConfig(err) {
		return codeUsage
	}
	return codeUnavailable
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
func spawnSupervisor(paths conf.ProfilePaths, f StartOptions) (*exec.Cmd, *os.File, error) {
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
	args := []string{"cluster", "start", "--foreground", "--notify-fd", "3", "--profile", f.Profile,
		"--timeout", f.Timeout.String()}
	if f.N > 0 {
		args = append(args, "-n", strconv.Itoa(f.N))
	}
	if f.PushBinary {
		args = append(args, "--push-binary")
	}
	if f.Verbose {
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
func readReport(ctx context.Context, r *os.File, wait time.Duration, profile string) StartReport {
	r.SetReadDeadline(time.Now().Add(wait))
	stop := context.AfterFunc(ctx, func() { r.SetReadDeadline(time.Now()) })
	defer stop()
	var rep StartReport
	err := json.NewDecoder(r).Decode(&rep)
	switch {
	case err == nil:
		return rep
	case ctx.Err() != nil:
		return StartReport{Code: codeInterrupted}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return StartReport{Code: codeUnavailable, Error: fmt.Sprintf("the cluster did not report ready within %v; it goes on starting in the background (see the profile's log/cluster.log); stop it with: pirun cluster stop --profile %s", wait, profile)}
	}
	return StartReport{Code: -1}
}

// abandonStart stops the supervisor that an interrupted start waited for
// (it stops the hub and the engines it launched), waits at most stopWait
// for it to exit, says what is left and returns the exit status.
func abandonStart(ctx context.Context, e *IO, cmd *exec.Cmd, notify *os.File, profile string) int {
	defer notify.Close()
	in := InterruptOf(ctx)
	if in == nil {
		in = &Interrupt{Signal: os.Interrupt}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	notify.SetReadDeadline(time.Now().Add(stopWait))
	if _, err := io.Copy(io.Discard, notify); err != nil { // the pipe ends when the supervisor exits
		cmd.Process.Release()
		fmt.Fprintf(e.Stderr, "pirun cluster start: %v; the cluster's supervisor (pid %d) is still stopping what it started: check with: pirun cluster stop --profile %s\n",
			in, cmd.Process.Pid, profile)
		return in.Status()
	}
	cmd.Wait()
	fmt.Fprintf(e.Stderr, "pirun cluster start: %v; stopped the hub and the engines it was starting (profile %s)\n", in, profile)
	return in.Status()
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
func printReport(e *IO, rep StartReport) {
	for _, w := range rep.Warnings {
		fmt.Fprintf(e.Stderr, "pirun cluster: warning: %s\n", w)
	}
	st := rep.State
	if st != nil && rep.Code == codeOK {
		fmt.Fprintf(e.Stdout, "pirun cluster (profile %s) started: hub %s, supervisor pid %d\n", st.Profile, st.HubURL, st.Supervisor.PID)
		if st.Dashboard != "" {
			fmt.Fprintf(e.Stdout, "  dashboard: %s\n", st.Dashboard)
		}
	}
	if st != nil {
		for _, c := range st.Children {
			if len(c.Joined) > 0 {
				fmt.Fprintf(e.Stdout, "  %-20s %s (ids %s)", c.Host, counted(len(c.Joined), "engine", "engines"), idList(c.Joined))
				if c.Pushed != "" {
					fmt.Fprintf(e.Stdout, ", pirun copied from %s", c.Pushed)
				}
				fmt.Fprintln(e.Stdout)
			} else {
				fmt.Fprintf(e.Stderr, "pirun cluster: warning: %s: %s\n", c.Host, c.Error)
			}
		}
	}
	if rep.Error != "" {
		fmt.Fprintf(e.Stderr, "pirun cluster start: %s\n", rep.Error)
	}
	if st == nil || rep.Code != codeOK {
		return
	}
	fmt.Fprintf(e.Stdout, "client connection file: %s\nengine connection file: %s\nlogs: %s\n", rep.ClientConn, rep.EngineConn, rep.LogDir)
	fmt.Fprintf(e.Stdout, "run a script on it: pirun --profile %s script.star\nstop it with: pirun cluster stop --profile %s\n", st.Profile, st.Profile)
}

// idList renders sorted ids compactly: "0-3, 7".
func idList(ids []int) string { return wire.IDRanges(ids) }

// counted returns "1 engine" or "3 engines": n and the form of the noun
// for n.
func counted(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
