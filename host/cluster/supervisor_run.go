// This file defines the supervisor's life after launch: waiting for the
// engines to join, the start report, watching the children, and the
// orderly stop.

package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/launch"
)

// waitJoined waits until each child's engines joined the hub or the child
// exited, or f.Timeout passed; it records which engines are whose.
func (s *supervisor) waitJoined(ctx context.Context, cl *client.Client) {
	deadline := time.Now().Add(s.f.Timeout)
	for {
		have, err := s.match(ctx, cl)
		if s.settled() || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		wctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		if err != nil {
			<-wctx.Done() // the hub did not answer: ask again in a moment
		} else {
			cl.WaitForEngines(wctx, have+1) // returns early when the roster changes
		}
		cancel()
	}
	s.mu.Lock()
	for _, c := range s.children {
		switch {
		case len(c.Rec.Joined) > 0:
		case c.Exited():
			c.Rec.Error = c.ExitReason(s.pirunOf(c.Rec.Host))
		default:
			c.Rec.Error = fmt.Sprintf("no engine of %s joined within %v; it may still be starting (see %s)", c.Rec.Host, s.f.Timeout, s.logs.Path)
		}
	}
	s.state.Ready = true
	s.mu.Unlock()
	s.save()
}

// match asks the hub for its engines and records each child's; it
// returns how many engines the hub has.
func (s *supervisor) match(ctx context.Context, cl *client.Client) (int, error) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	st, err := cl.Status(qctx)
	cancel()
	if err != nil {
		s.log.Debug("ask the hub for its engines", "err", err)
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.children {
		pid := c.Rec.Process.PID
		if c.Rec.Kind == launch.KindSSH {
			pid = c.Rec.RemotePID
		}
		c.Rec.Joined = nil
		for _, e := range st.Engines {
			if pid != 0 && e.PID == pid && (c.Hostname == "" || e.Host == c.Hostname) {
				c.Rec.Joined = append(c.Rec.Joined, e.ID)
			}
		}
	}
	return len(st.Engines), nil
}

// settled reports whether every child joined or exited.
func (s *supervisor) settled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.children {
		if len(c.Rec.Joined) == 0 && !c.Exited() {
			return false
		}
	}
	return true
}

// pirunOf is the pirun path launched on host.
func (s *supervisor) pirunOf(host string) string {
	for _, h := range s.prof.Hosts {
		if h.Host == host {
			return h.Pirun
		}
	}
	return s.exe
}

// report is the start report once the engines joined or the wait ended:
// success when at least one engine joined.
func (s *supervisor) report() StartReport {
	s.mu.Lock()
	st := s.state
	st.Children = slices.Clone(s.failed)
	joined := 0
	for _, c := range s.children {
		st.Children = append(st.Children, c.Rec)
		joined += len(c.Rec.Joined)
	}
	s.mu.Unlock()
	r := StartReport{State: &st, Warnings: s.warned, ClientConn: s.paths.ClientConn,
		EngineConn: s.paths.EngineConn, LogDir: s.paths.Log}
	if joined == 0 {
		r.Code = codeUnavailable
		r.Error = fmt.Sprintf("no engine joined the hub of profile %s; the cluster was stopped (see %s)", s.name, s.logs.Path)
	}
	return r
}

// serve records children that exit until ctx is done.
func (s *supervisor) serve(ctx context.Context) {
	s.mu.Lock()
	children := slices.Clone(s.children)
	s.mu.Unlock()
	exits := make(chan *launch.Started)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, c := range children {
		wg.Go(func() {
			select {
			case <-c.Done:
				select {
				case exits <- c:
				case <-ctx.Done():
				}
			case <-ctx.Done():
			}
		})
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.ph.Hub.ShutdownRequested(): // a client's shutdown(hub=True)
			s.log.Info("a client asked the hub to shut down")
			return
		case c := <-exits:
			why := c.ExitReason(s.pirunOf(c.Rec.Host))
			s.log.Warn("engine process exited", "host", c.Rec.Host, "reason", why)
			s.mu.Lock()
			c.Rec.Error = why
			s.mu.Unlock()
			s.save()
		}
	}
}

// stop asks the hub to shut the cluster's engines down, waits for the
// children, ends those left (their process groups: SIGTERM, then
// SIGKILL), and closes the client (cl may be nil).
func (s *supervisor) stop(cl *client.Client) {
	s.mu.Lock()
	children := slices.Clone(s.children)
	s.mu.Unlock()
	if cl != nil {
		s.match(context.Background(), cl)
		if ids := s.joinedIDs(); len(ids) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if err := cl.Shutdown(ctx, ids); err != nil {
				s.log.Warn("shut the engines down through the hub", "err", err)
			}
			cancel()
		}
		defer cl.Close()
	}
	if launch.WaitAll(children, 5*time.Second) {
		return
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		for _, c := range children {
			c.CloseStdin()
			c.SignalGroup(sig)
		}
		if launch.WaitAll(children, 3*time.Second) {
			return
		}
	}
	s.log.Warn("some engine processes did not exit after SIGKILL")
}

// joinedIDs returns the ids of the cluster's own engines.
func (s *supervisor) joinedIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []int
	for _, c := range s.children {
		ids = append(ids, c.Rec.Joined...)
	}
	return ids
}
