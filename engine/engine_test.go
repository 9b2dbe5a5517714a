package engine

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// fakeHub answers registrations with consecutive ids, as the real hub does,
// and collects results sent to client "c".
type fakeHub struct {
	nc      *nats.Conn
	results chan wire.Result
	daemon  chan string
}

func startDaemon(t *testing.T, cfg Config) (*fakeHub, *Daemon) {
	t.Helper()
	opts := natstest.DefaultTestOptions
	opts.Port = server.RANDOM_PORT
	opts.NoLog, opts.NoSigs = true, true
	opts.AlwaysEnableNonce = true // the daemon proves its identity key, as to a hub
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	h := &fakeHub{nc: nc, results: make(chan wire.Result, 100), daemon: make(chan string, 1)}
	next := 0
	nc.Subscribe(wire.SubjectRegister+".*", func(m *nats.Msg) {
		var r wire.Register
		if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
			t.Error(err)
			return
		}
		if unanswered.Add(-1) >= 0 {
			return // a hub too busy to answer
		}
		reply := wire.Registered{HubID: "test"}
		for range r.Engines {
			reply.IDs = append(reply.IDs, next)
			next++
		}
		data, _ := wire.MarshalMsg(&reply)
		m.Respond(data)
		h.daemon <- r.Daemon
	})
	nc.Subscribe(wire.ClientResults("c")+".*", func(m *nats.Msg) {
		var rs wire.Results
		if err := wire.UnmarshalMsg(m.Data, &rs); err != nil {
			t.Error(err)
			return
		}
		for _, r := range rs.Results {
			h.results <- r
		}
	})
	nc.Flush()
	dial := func(ctx context.Context, o ...nats.Option) (*nats.Conn, error) {
		return nats.Connect(ns.ClientURL(), o...)
	}
	d, err := New(cfg, dial, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancellation")
		}
	})
	select {
	case <-h.daemon:
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not register")
	}
	select {
	case <-d.ready:
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not start its engines")
	}
	return h, d
}

var taskSeq uint64

// unanswered is how many registrations the next fake hubs leave
// unanswered (below 0: none).
var unanswered atomic.Int32

// send sends one task to engine 0 and returns its id.
func (h *fakeHub) send(t *testing.T, d *Daemon, task wire.Task) uint64 {
	t.Helper()
	taskSeq++
	task.ID, task.Client, task.Targets = taskSeq, "c", []int{0}
	data, err := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{task}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.nc.Publish(wire.DaemonTasksFrom(d.id, wire.SenderHub), data); err != nil {
		t.Fatal(err)
	}
	return task.ID
}

// detachedResults returns the results of detached tasks the daemons
// send the hub.
func (h *fakeHub) detachedResults(t *testing.T) <-chan wire.Result {
	t.Helper()
	results := make(chan wire.Result, 10)
	h.nc.Subscribe(wire.ClientResults(wire.DetachedClient)+".*", func(m *nats.Msg) {
		var rs wire.Results
		if err := wire.UnmarshalMsg(m.Data, &rs); err != nil {
			t.Error(err)
			return
		}
		for _, r := range rs.Results {
			results <- r
		}
	})
	h.nc.Flush()
	return results
}

// control sends c to d's control subject as sender and returns the reply.
func (h *fakeHub) control(t *testing.T, d *Daemon, sender string, c wire.Control) wire.ControlReply {
	t.Helper()
	data, _ := wire.MarshalMsg(&c)
	m, err := h.nc.Request(wire.DaemonControlFrom(d.id, sender), data, 10*time.Second)
	if err != nil {
		t.Fatalf("control %v from %s: %v", c.Op, sender, err)
	}
	var r wire.ControlReply
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func (h *fakeHub) result(t *testing.T) wire.Result {
	t.Helper()
	select {
	case r := <-h.results:
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("no result within 60s (a loaded machine is slow, a lost result never comes)")
	}
	return wire.Result{}
}

func execute(code string) wire.Task {
	return wire.Task{Kind: wire.KindExecute, File: "t.star", Code: code}
}

func pullValue(t *testing.T, h *fakeHub, d *Daemon, name string) starlark.Value {
	t.Helper()
	h.send(t, d, wire.Task{Kind: wire.KindPull, Names: []string{name}})
	r := h.result(t)
	if r.Status != wire.StatusOK {
		t.Fatalf("pull %s: %+v", name, r.Err)
	}
	v, err := wire.Unmarshal(r.Value)
	if err != nil {
		t.Fatal(err)
	}
	return v.(*starlark.List).Index(0)
}

func TestExecutePersistsAndRunsInOrder(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	h.send(t, d, execute("a = 1"))
	for range 5 {
		h.send(t, d, execute("a = a * 2"))
	}
	for range 6 {
		if r := h.result(t); r.Status != wire.StatusOK {
			t.Fatalf("execute: %+v", r.Err)
		}
	}
	if got := pullValue(t, h, d, "a"); got != starlark.MakeInt(32) {
		t.Errorf("a after 1 then 5 doublings = %v, want 32", got)
	}
}

func TestStepLimitAndTimeoutLeaveEngineUsable(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1, MaxSteps: 100000})
	h.send(t, d, execute("def f():\n    while True:\n        pass\nf()"))
	r := h.result(t)
	if r.Status != wire.StatusError || !strings.Contains(r.Err.Message, "too many steps") {
		t.Errorf("endless loop under a step limit: status %d, err %+v; want a 'too many steps' error", r.Status, r.Err)
	}
	h.send(t, d, wire.Task{Kind: wire.KindExecute, File: "t.star", Code: "time.sleep(30)", Timeout: int64(200 * time.Millisecond)})
	r = h.result(t)
	if r.Status != wire.StatusTimeout || r.Err.Type != "TimeoutError" {
		t.Errorf("sleep past the timeout: status %d, err %+v; want TimeoutError", r.Status, r.Err)
	}
	h.send(t, d, execute("ok = 1"))
	if r := h.result(t); r.Status != wire.StatusOK {
		t.Errorf("engine after a stopped task: %+v", r.Err)
	}
}

func TestAbortQueuedAndRunning(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	running := h.send(t, d, execute("time.sleep(60)"))
	queued := h.send(t, d, execute("x = 1"))
	e := d.engine(0)
	waitBusy(t, e, -1)
	d.abort(wire.Control{Op: wire.OpAbort, Client: "c", Tasks: []uint64{running, queued}}, "")
	got := map[uint64]wire.Status{}
	for range 2 {
		r := h.result(t)
		got[r.Task] = r.Status
	}
	if got[running] != wire.StatusAborted || got[queued] != wire.StatusAborted {
		t.Errorf("statuses after abort = %v, want both aborted", got)
	}
}

func TestRevokeTakesOnlyUnstarted(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	running := h.send(t, d, execute("time.sleep(0.5)"))
	waiting := h.send(t, d, execute("y = 1"))
	e := d.engine(0)
	waitBusy(t, e, 1)
	got := e.revoke("c", []uint64{running, waiting})
	if len(got) != 1 || got[0] != waiting {
		t.Errorf("revoke = %v, want only the waiting task %d", got, waiting)
	}
	if r := h.result(t); r.Task != running || r.Status != wire.StatusOK {
		t.Errorf("the running task: %+v, want it to finish", r)
	}
}

func TestFilesJail(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.txt"), []byte("one\ntwo\n"), 0o644)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644)
	os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "link"))
	h, d := startDaemon(t, Config{Engines: 1, DataDir: dir})
	for _, test := range []struct {
		code string
		want string // "" = success
	}{
		{`r = files.lines("a.txt")`, ""},
		{`r = files.glob("*.txt")`, ""},
		{`r = files.exists("nope")`, ""},
		{`r = files.read("../secret")`, "outside data_dir"},
		{`r = files.read("/etc/passwd")`, "outside data_dir"},
		{`r = files.read("link")`, "escapes"},
	} {
		h.send(t, d, execute(test.code))
		r := h.result(t)
		switch {
		case test.want == "" && r.Status != wire.StatusOK:
			t.Errorf("%s: %+v, want success", test.code, r.Err)
		case test.want != "" && (r.Status == wire.StatusOK || !strings.Contains(r.Err.Message, test.want)):
			t.Errorf("%s: status %d err %+v, want an error containing %q", test.code, r.Status, r.Err, test.want)
		}
	}
	if got := pullValue(t, h, d, "r"); got != starlark.False {
		t.Errorf("files.exists(\"nope\") = %v, want False", got)
	}
}

// waitBusy waits until e runs a task (with queue tasks waiting behind it,
// unless queue is negative), and fails the test when it does not within
// 10s.
func waitBusy(t testing.TB, e *Engine, queue int) {
	t.Helper()
	startest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if st := e.stat(); st.State != wire.StateBusy || queue >= 0 && st.Queue != queue {
			return fmt.Errorf("engine %d: state %v, %d queued; want busy with %d queued", e.ID, st.State, st.Queue, queue)
		}
		return nil
	})
}
