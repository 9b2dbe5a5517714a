package client

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// testHub is a real NATS server with a peer that answers the client's
// roster queries as a hub does, and a connection standing for daemons.
type testHub struct {
	ns     *server.Server
	hub    *nats.Conn // answers queries, sends events and the hub's results
	daemon *nats.Conn // sends results and output, as daemons do

	mu     sync.Mutex
	roster []wire.EngineInfo
	epoch  uint64
}

func startTestHub(t *testing.T, roster ...wire.EngineInfo) *testHub {
	t.Helper()
	opts := natstest.DefaultTestOptions
	opts.Port = server.RANDOM_PORT
	opts.NoLog, opts.NoSigs = true, true
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	h := &testHub{ns: ns, roster: roster, epoch: 1}
	for _, p := range []**nats.Conn{&h.hub, &h.daemon} {
		nc, err := nats.Connect(ns.ClientURL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		*p = nc
	}
	h.hub.Subscribe(wire.SubjectQuery, func(m *nats.Msg) {
		h.mu.Lock()
		reply := wire.QueryReply{HubID: "test", Engines: h.roster, Epoch: h.epoch}
		h.mu.Unlock()
		data, _ := wire.MarshalMsg(&reply)
		m.Respond(data)
	})
	h.hub.Flush()
	return h
}

// connect connects a Client to h, streaming output into out.
func (h *testHub) connect(t *testing.T, out *syncWriter) *Client {
	t.Helper()
	return h.connectWith(t, Config{Output: out})
}

// connectWith connects a Client made with cfg to h.
func (h *testHub) connectWith(t *testing.T, cfg Config) *Client {
	t.Helper()
	nc, err := nats.Connect(h.ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(context.Background(), nc, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// event publishes a roster change, as the hub does.
func (h *testHub) event(t *testing.T, kind wire.EventKind, engines ...wire.EngineInfo) {
	t.Helper()
	h.mu.Lock()
	h.epoch++
	ev := wire.Event{Kind: kind, Engines: engines, Epoch: h.epoch}
	h.mu.Unlock()
	data, _ := wire.MarshalMsg(&ev)
	if err := h.hub.Publish(wire.SubjectEvents, data); err != nil {
		t.Fatal(err)
	}
}

func publish(t *testing.T, nc *nats.Conn, subj string, msg any) {
	t.Helper()
	data, err := wire.MarshalMsg(msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(subj, data); err != nil {
		t.Fatal(err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// sink records the results it gets and, for each, the output streamed
// by then.
type sink struct {
	out *syncWriter

	mu      sync.Mutex
	results map[int]wire.Result // by slot
	before  map[int]string      // the output when the slot completed
}

func newSink(out *syncWriter) *sink {
	return &sink{out: out, results: map[int]wire.Result{}, before: map[int]string{}}
}

func (s *sink) Complete(slot int, r wire.Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.results[slot] = r
	if s.out != nil {
		s.before[slot] = s.out.String()
	}
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.results)
}

var engineA = wire.EngineInfo{ID: 0, Daemon: "DAEMONA", Host: "a"}
var engineB = wire.EngineInfo{ID: 1, Daemon: "DAEMONB", Host: "b"}

// TestRouting: a result reaches its task's sink from the daemon that runs
// its engine and from the hub; from another daemon it is dropped.
func TestRouting(t *testing.T) {
	h := startTestHub(t, engineA, engineB)
	c := h.connect(t, nil)
	s := newSink(nil)
	direct, other := c.NextID(), c.NextID()
	if err := c.Track(direct, s, map[int]int{0: 0, 1: 1}, false); err != nil {
		t.Fatal(err)
	}
	o := newSink(nil)
	if err := c.Track(other, o, map[int]int{0: 0}, false); err != nil {
		t.Fatal(err)
	}
	// Daemon B forges engine 0's result; then the real ones come.
	publish(t, h.daemon, wire.ClientResultsFrom(c.ID(), engineB.Daemon), &wire.Results{Results: []wire.Result{{Task: direct, Engine: 0, Status: wire.StatusOK, Value: []byte("forged")}}})
	publish(t, h.daemon, wire.ClientResultsFrom(c.ID(), engineA.Daemon), &wire.Results{Results: []wire.Result{{Task: direct, Engine: 0, Status: wire.StatusOK, Value: []byte("a")}}})
	publish(t, h.daemon, wire.ClientResultsFrom(c.ID(), engineB.Daemon), &wire.Results{Results: []wire.Result{{Task: direct, Engine: 1, Status: wire.StatusOK, Value: []byte("b")}}})
	// The hub fails a task itself.
	publish(t, h.hub, wire.ClientResults(c.ID()), &wire.Results{Results: []wire.Result{{Task: other, Engine: 0, Status: wire.StatusLost, Err: &wire.Error{Type: wire.EngineError, Message: "lost"}}}})
	startest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if s.count() != 2 || o.count() != 1 {
			return fmt.Errorf("%d of 2 and %d of 1 results routed", s.count(), o.count())
		}
		return nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	if got := string(s.results[0].Value); got != "a" {
		t.Errorf("engine 0's result = %q, want the one its daemon sent, not the forged one", got)
	}
	if got := string(s.results[1].Value); got != "b" {
		t.Errorf("engine 1's result = %q, want b", got)
	}
	if r := o.results[0]; r.Err == nil || r.Err.Type != wire.EngineError {
		t.Errorf("the hub's result = %+v, want its EngineError", r)
	}
}

// TestOutputBeforeResult: a daemon sends each task's print and then its
// result; the client streams every print before it completes the task,
// over many tasks, although the two travel on different subjects and
// subscriptions.
func TestOutputBeforeResult(t *testing.T) {
	h := startTestHub(t, engineA)
	out := &syncWriter{}
	c := h.connect(t, out)
	const n = 2000
	s := newSink(out)
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = c.NextID()
		if err := c.Track(ids[i], &slotSink{s, i}, map[int]int{0: 0}, false); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		publish(t, h.daemon, wire.ClientOutputFrom(c.ID(), engineA.Daemon), &wire.Output{Task: id, Engine: 0, Host: "a", Text: fmt.Sprintf("line %d\n", i)})
		publish(t, h.daemon, wire.ClientResultsFrom(c.ID(), engineA.Daemon), &wire.Results{Results: []wire.Result{{Task: id, Engine: 0, Status: wire.StatusOK}}})
	}
	startest.CheckFor(t, 30*time.Second, 10*time.Millisecond, func() error {
		if got := s.count(); got != n {
			return fmt.Errorf("%d of %d results", got, n)
		}
		return nil
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range n {
		if want := fmt.Sprintf("[engine 0 a] line %d\n", i); !strings.Contains(s.before[i], want) {
			t.Fatalf("task %d completed before its output %q was streamed", i, want)
		}
	}
	if got := strings.Count(out.String(), "\n"); got != n {
		t.Errorf("%d lines streamed, want %d", got, n)
	}
	// Output from a daemon that does not run the engine is not shown.
	publish(t, h.daemon, wire.ClientOutputFrom(c.ID(), "DAEMONX"), &wire.Output{Task: ids[0], Engine: 0, Host: "a", Text: "forged\n"})
	publish(t, h.daemon, wire.ClientOutputFrom(c.ID(), engineA.Daemon), &wire.Output{Task: ids[0], Engine: 0, Host: "a", Text: "last\n"})
	startest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if !strings.Contains(out.String(), "last") {
			return fmt.Errorf("the last print was not streamed")
		}
		return nil
	})
	if strings.Contains(out.String(), "forged") {
		t.Errorf("output sent by a daemon that does not run the engine was streamed")
	}
}

// slotSink completes one slot of a shared sink.
type slotSink struct {
	s    *sink
	slot int
}

func (x *slotSink) Complete(_ int, r wire.Result) { x.s.Complete(x.slot, r) }

// TestRoster: the roster follows the hub's events; a lost engine fails
// its direct tasks with EngineError; WaitForEngines returns once enough
// engines joined, and an old event does not undo a newer roster.
func TestRoster(t *testing.T) {
	h := startTestHub(t, engineA)
	c := h.connect(t, nil)
	if got := c.KnownIDs(); len(got) != 1 || got[0] != 0 {
		t.Fatalf("roster after connect = %v, want [0]", got)
	}
	s := newSink(nil)
	id := c.NextID()
	if err := c.Track(id, s, map[int]int{0: 0}, false); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		waited <- c.WaitForEngines(ctx, 2)
	}()
	h.mu.Lock()
	h.roster = []wire.EngineInfo{engineA, engineB}
	h.mu.Unlock()
	h.event(t, wire.EventJoined, engineB)
	if err := <-waited; err != nil {
		t.Fatalf("WaitForEngines(2) after engine 1 joined: %v", err)
	}
	h.event(t, wire.EventLost, engineA)
	startest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if got := c.KnownIDs(); len(got) != 1 || got[0] != 1 {
			return fmt.Errorf("roster after engine 0 was lost = %v, want [1]", got)
		}
		if s.count() != 1 {
			return fmt.Errorf("the task on engine 0 was not failed")
		}
		return nil
	})
	if r := s.results[0]; r.Status != wire.StatusLost || r.Err == nil || r.Err.Type != wire.EngineError {
		t.Errorf("the task on the lost engine: %+v, want an EngineError", r)
	}
	if err := c.Track(c.NextID(), s, map[int]int{0: 0}, false); err == nil {
		t.Errorf("Track on a lost engine succeeded; want EngineGoneError")
	}
	// An event older than the roster changes nothing.
	data, _ := wire.MarshalMsg(&wire.Event{Kind: wire.EventJoined, Engines: []wire.EngineInfo{engineA}, Epoch: 1})
	h.hub.Publish(wire.SubjectEvents, data)
	h.event(t, wire.EventJoined, wire.EngineInfo{ID: 2, Daemon: "DAEMONC"})
	startest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if got := c.KnownIDs(); len(got) != 2 || got[0] != 1 || got[1] != 2 {
			return fmt.Errorf("roster = %v, want [1 2] (the stale event ignored)", got)
		}
		return nil
	})
}
