package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// gateWriter blocks every Write until the test releases it: a terminal
// that does not keep up.
type gateWriter struct {
	open chan struct{}
	once sync.Once
	w    syncWriter
}

// newGate returns a closed gate, which the test's cleanup releases if
// the test did not.
func newGate(t *testing.T) *gateWriter {
	g := &gateWriter{open: make(chan struct{})}
	t.Cleanup(g.release)
	return g
}

func (g *gateWriter) release() { g.once.Do(func() { close(g.open) }) }

func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.open
	return g.w.Write(p)
}

// TestSlowConsumerBytes checks the bound in bytes of what a client has
// received and not handled, with a real server: while its output blocks,
// a daemon's large prints pass 1 MiB and nats.go drops messages, the
// task's result among them. The client then says on stderr what was
// dropped and what to do, and once it caught up asks the daemon to send
// the result again: the task completes instead of waiting forever.
func TestSlowConsumerBytes(t *testing.T) {
	h := startTestHub(t, engineA)
	resent := make(chan []uint64, 4)
	var task uint64
	sub, err := h.daemon.Subscribe(wire.DaemonControlFrom(engineA.Daemon, "*"), func(m *nats.Msg) {
		var c wire.Control
		if wire.UnmarshalMsg(m.Data, &c) == nil && c.Op == wire.OpResend && slices.Contains(c.Tasks, task) {
			resent <- c.Tasks
			publish(t, h.daemon, wire.ClientResultsFrom(c.Client, engineA.Daemon), &wire.Results{Results: []wire.Result{{Task: task, Engine: 0, Status: wire.StatusOK, Value: []byte("v")}}})
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	h.daemon.Flush()

	out := newGate(t)
	stderr := &syncWriter{}
	c := h.connectWith(t, Config{Output: out, Stderr: stderr, MaxPending: 1000, MaxPendingBytes: 1 << 20})
	task = c.NextID()
	s := newSink(nil)
	if err := c.Track(task, s, map[int]int{0: 0}, false); err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 64<<10) + "\n"
	for i := range 40 { // 2.5 MiB of prints, then the result
		publish(t, h.daemon, wire.ClientOutputFrom(c.ID(), engineA.Daemon), &wire.Output{Task: task, Engine: 0, Host: "a", Text: fmt.Sprint(i) + line})
	}
	// The result is nearly the bound on its own (and under the test
	// server's 1 MiB payload limit): it is dropped whatever room the
	// prints left. (The client handles what it had received before it
	// asks again, so a result that only waited would need no asking.)
	big := []byte(strings.Repeat("v", 900<<10))
	publish(t, h.daemon, wire.ClientResultsFrom(c.ID(), engineA.Daemon), &wire.Results{Results: []wire.Result{{Task: task, Engine: 0, Status: wire.StatusOK, Value: big}}})
	h.daemon.Flush()
	// Every message arrived: the first print blocks the handler, the
	// others wait or were dropped (under load the last ones, the result
	// among them, may still be on their way when the first drop comes).
	const sent = 41
	startest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		n, _ := c.sub.Dropped()
		pm, pb, _ := c.sub.Pending()
		if n == 0 || 1+pm+n < sent {
			return fmt.Errorf("%d of %d messages dropped, %d (%d bytes) waiting past a bound of 1 MiB", n, sent, pm, pb)
		}
		return nil
	})
	if s.count() != 0 {
		t.Fatal("the task completed while the client was blocked")
	}
	out.release()
	startest.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		if s.count() != 1 {
			return fmt.Errorf("the task whose result was dropped has not completed; stderr: %q", stderr.String())
		}
		return nil
	})
	select {
	case ids := <-resent:
		if !slices.Contains(ids, task) {
			t.Errorf("resend asked for %v, want task %d", ids, task)
		}
	default:
		t.Error("the task completed without the client asking for its result again")
	}
	msg := stderr.String()
	for _, want := range []string{"fell behind", "messages were dropped", "1 MiB", "asked for again", "print less"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr %q does not say %q", msg, want)
		}
	}
}

// TestRecoveryHandlesItsBacklogFirst: when the client recovers (after a
// reconnection or a slow-consumer drop), a direct task whose result still
// waits in its subscription, behind output the client has not written
// yet, is not taken for lost: the client handles what it received first
// (a fence through its own subscription), and asks no daemon for it.
func TestRecoveryHandlesItsBacklogFirst(t *testing.T) {
	h := startTestHub(t, engineA)
	asked := make(chan []uint64, 4)
	sub, err := h.daemon.Subscribe(wire.DaemonControlFrom(engineA.Daemon, "*"), func(m *nats.Msg) {
		var c wire.Control
		if wire.UnmarshalMsg(m.Data, &c) == nil && c.Op == wire.OpResend {
			asked <- c.Tasks
			data, _ := wire.MarshalMsg(&wire.ControlReply{Known: c.Tasks})
			m.Respond(data)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	h.daemon.Flush()
	out := newGate(t)
	c := h.connectWith(t, Config{Output: out})
	task, s := waitingResult(t, h, c)
	recovered := make(chan struct{})
	go func() {
		c.recoverLost(false)
		close(recovered)
	}()
	// Recovery sends its fence and waits for it, behind the result: then
	// the output may be written. Pending counts the message being handled
	// (the blocked output) too.
	startest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		select {
		case ids := <-asked:
			t.Fatalf("recovery asked the daemon for %v while the result of task %d waited to be handled", ids, task)
		default:
		}
		if n, _, _ := c.sub.Pending(); n < 3 {
			return fmt.Errorf("no fence waiting behind the result (%d pending)", n)
		}
		return nil
	})
	out.release()
	select {
	case <-recovered:
	case <-time.After(30 * time.Second):
		t.Fatal("recovery did not end within 30s of the backlog being handled")
	}
	if s.count() != 1 {
		t.Errorf("the task whose result waited: %d results, want 1", s.count())
	}
	select {
	case ids := <-asked:
		t.Errorf("recovery asked the daemon for %v, want nothing: the result was handled", ids)
	default:
	}
}

// TestEngineLostAfterItsResult: a daemon sends a result and dies; the
// hub's event of its engine's loss comes on another subscription, while
// the result still waits behind output the client has not written. The
// task gets its result, not a failure: the client handles what it had
// received before failing the lost engine's tasks.
func TestEngineLostAfterItsResult(t *testing.T) {
	h := startTestHub(t, engineA)
	out := newGate(t)
	c := h.connectWith(t, Config{Output: out})
	done, lost := c.NextID(), c.NextID()
	s, l := newSink(nil), newSink(nil)
	for id, sk := range map[uint64]*sink{done: s, lost: l} {
		if err := c.Track(id, sk, map[int]int{0: 0}, false); err != nil {
			t.Fatal(err)
		}
	}
	publish(t, h.daemon, wire.ClientOutputFrom(c.ID(), engineA.Daemon), &wire.Output{Task: done, Engine: 0, Host: "a", Text: "blocks\n"})
	publish(t, h.daemon, wire.ClientOutputFrom(c.ID(), engineA.Daemon), &wire.Output{Task: done, Engine: 0, Host: "a", Text: "its last words\n"})
	publish(t, h.daemon, wire.ClientResultsFrom(c.ID(), engineA.Daemon), &wire.Results{Results: []wire.Result{{Task: done, Engine: 0, Status: wire.StatusOK, Value: []byte("v")}}})
	h.daemon.Flush()
	startest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n, _, _ := c.sub.Pending(); n < 3 { // the blocked output, the next and the result
			return fmt.Errorf("the result is not waiting behind the blocked output yet (%d pending)", n)
		}
		return nil
	})
	h.event(t, wire.EventLost, engineA)
	startest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if s.count() != 0 {
			t.Fatalf("the task whose result waited was failed: %+v", s.results[0])
		}
		if n, _, _ := c.sub.Pending(); n < 4 {
			return fmt.Errorf("no fence waiting behind the result (%d pending)", n)
		}
		return nil
	})
	out.release()
	startest.CheckFor(t, 20*time.Second, 10*time.Millisecond, func() error {
		if s.count() != 1 || l.count() != 1 {
			return fmt.Errorf("%d and %d results, want one each", s.count(), l.count())
		}
		return nil
	})
	if r := s.results[0]; r.Status != wire.StatusOK {
		t.Errorf("the task whose result came before the loss: %v %+v, want ok", r.Status, r.Err)
	}
	if got := out.w.String(); !strings.Contains(got, "its last words") {
		t.Errorf("output %q: the lost engine's last print before its result is missing", got)
	}
	if r := l.results[0]; r.Status != wire.StatusLost || !strings.Contains(r.Err.Message, "engine 0 died or was lost") {
		t.Errorf("the task without a result: %v %+v, want lost", r.Status, r.Err)
	}
}

// TestFenceDroppedMarker: a fence sent while the client's subscription
// is full is dropped (a slow consumer drops what arrives and keeps what
// waits); it is sent again, and the fence ends only once what waited
// before it was handled.
func TestFenceDroppedMarker(t *testing.T) {
	h := startTestHub(t, engineA)
	out := newGate(t)
	c := h.connectWith(t, Config{Output: out, Stderr: &syncWriter{}, MaxPending: 2})
	_, s := waitingResult(t, h, c)
	type ended struct {
		err     error
		results int
	}
	fenced := make(chan ended, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err := c.fence(ctx)
		fenced <- ended{err, s.count()}
	}()
	startest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n, _ := c.sub.Dropped(); n < 1 {
			return errors.New("the marker is not dropped yet")
		}
		return nil
	})
	out.release()
	select {
	case e := <-fenced:
		if e.err != nil || e.results != 1 {
			t.Errorf("the fence ended with %v and %d results handled, want nil after the waiting result", e.err, e.results)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the fence did not end within 30s of the backlog being handled")
	}
}

// waitingResult tracks a direct task on engine 0 of c, whose output is
// gated, and has its daemon send a print, which blocks the client's
// handler, and then its result, which waits behind it.
func waitingResult(t *testing.T, h *testHub, c *Client) (uint64, *sink) {
	t.Helper()
	task := c.NextID()
	s := newSink(nil)
	if err := c.Track(task, s, map[int]int{0: 0}, false); err != nil {
		t.Fatal(err)
	}
	publish(t, h.daemon, wire.ClientOutputFrom(c.ID(), engineA.Daemon), &wire.Output{Task: task, Engine: 0, Host: "a", Text: "blocks\n"})
	publish(t, h.daemon, wire.ClientResultsFrom(c.ID(), engineA.Daemon), &wire.Results{Results: []wire.Result{{Task: task, Engine: 0, Status: wire.StatusOK, Value: []byte("v")}}})
	h.daemon.Flush()
	startest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if n, _, _ := c.sub.Pending(); n < 2 { // the blocked print counts until it is handled
			return fmt.Errorf("the result is not waiting behind the blocked output yet (%d pending)", n)
		}
		return nil
	})
	return task, s
}
