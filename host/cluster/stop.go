// This file defines `pirun cluster stop`: it ends the cluster that the
// profile's state file records, through its supervisor when that still
// runs, else by ending the recorded processes that are still the ones it
// started (the master was restarted or the supervisor killed).

package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/launch"
)

// stopWait bounds how long stop waits for the supervisor to finish.
const stopWait = 30 * time.Second

// Stop is `pirun cluster stop`: it ends the cluster of profile name and
// returns pirun's exit status.
func Stop(ctx context.Context, e *IO, name string) int {
	dir, err := conf.ProfileDir(name, e.Getenv)
	if err != nil {
		fmt.Fprintf(e.Stderr, "pirun cluster stop: %v\n", err)
		return codeUsage
	}
	paths := conf.Paths(dir)
	st, err := launch.ReadState(paths.Cluster)
	switch {
	case errors.Is(err, os.ErrNotExist):
		fmt.Fprintf(e.Stderr, "pirun cluster stop: no cluster of profile %s is running (no %s)\n", name, paths.Cluster)
		return codeUnavailable
	case err != nil:
		fmt.Fprintf(e.Stderr, "pirun cluster stop: %v\n", err)
		return codeUnavailable
	}
	if st.Supervisor.Running() {
		return stopSupervisor(ctx, e, paths, st)
	}
	n := endChildren(st)
	os.Remove(paths.Cluster)
	fmt.Fprintf(e.Stdout, "the supervisor of the cluster of profile %s (pid %d) was already gone; ended %s left over and removed %s\n",
		name, st.Supervisor.PID, counted(n, "process", "processes"), paths.Cluster)
	if hasSSH(st) {
		fmt.Fprintf(e.Stdout, "engines on other hosts exit within the grace period (%s) once their hub is gone\n", st.Grace)
	}
	return codeOK
}

// stopSupervisor asks the supervisor to stop (SIGTERM) and waits for it;
// past stopWait it kills it and the processes it started.
func stopSupervisor(ctx context.Context, e *IO, paths conf.ProfilePaths, st *launch.State) int {
	if err := st.Supervisor.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, launch.ErrGone) {
		fmt.Fprintf(e.Stderr, "pirun cluster stop: %v\n", err)
		return codeUnavailable
	}
	if !waitGone(ctx, st.Supervisor, stopWait) {
		if in := InterruptOf(ctx); in != nil {
			fmt.Fprintf(e.Stderr, "pirun cluster stop: %v; the cluster's supervisor (pid %d) got the stop and is still stopping: check with: pirun cluster stop --profile %s\n", in, st.Supervisor.PID, st.Profile)
			return in.Status()
		}
		fmt.Fprintf(e.Stderr, "pirun cluster stop: warning: the supervisor (pid %d) did not stop within %v; killing it and its processes\n", st.Supervisor.PID, stopWait)
		st.Supervisor.Signal(syscall.SIGKILL)
		endChildren(st)
		os.Remove(paths.Cluster)
	} else if _, err := os.Stat(paths.Cluster); err == nil { // it did not finish its stop
		endChildren(st)
		os.Remove(paths.Cluster)
	}
	engines, procs := 0, 0
	for _, c := range st.Children {
		engines += len(c.Joined)
		if c.Process.PID > 0 {
			procs++
		}
	}
	fmt.Fprintf(e.Stdout, "stopped the cluster of profile %s: hub %s, %s in %s\n",
		st.Profile, st.HubURL, counted(engines, "engine", "engines"), counted(procs, "process", "processes"))
	return codeOK
}

// endChildren ends the recorded processes that still run and are still
// the ones that were started (SIGTERM to their process group, SIGKILL
// after a few seconds); it returns how many it ended.
func endChildren(st *launch.State) int {
	var live []launch.Process
	for _, c := range st.Children {
		if c.Process.PID > 0 && c.Process.Running() {
			live = append(live, c.Process)
		}
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		for _, p := range live {
			if p.Running() {
				syscall.Kill(-p.PID, sig) // its group: Setpgid made it the leader
			}
		}
		if allGone(live, 3*time.Second) {
			break
		}
	}
	return len(live)
}

// allGone waits until none of ps runs, at most d.
func allGone(ps []launch.Process, d time.Duration) bool {
	for _, p := range ps {
		if !waitGone(context.Background(), p, d) {
			return false
		}
	}
	return true
}

// waitGone polls until p no longer runs, at most d; it reports whether
// p is gone.
func waitGone(ctx context.Context, p launch.Process, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for p.Running() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

// hasSSH reports whether the cluster launched engines over ssh.
func hasSSH(st *launch.State) bool {
	for _, c := range st.Children {
		if c.Kind == launch.KindSSH {
			return true
		}
	}
	return false
}
