package hub

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

func startTestHub(t *testing.T, auth *Auth) *Hub {
	t.Helper()
	h, err := New(Config{Port: 0, Auth: auth, Version: "test"}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	return h
}

// connectAs connects with a role's credentials and a fresh identity key,
// and records permission errors reported asynchronously. It returns the
// identity's id.
func connectAs(t *testing.T, h *Hub, user, pass string) (*nats.Conn, string, chan error) {
	t.Helper()
	ident, err := transport.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	opts := []nats.Option{nats.UserInfo(user, pass), ident.Option(),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })}
	if strings.HasPrefix(user, UserEngine) {
		opts = append(opts, nats.CustomInboxPrefix(wire.EngineInbox(ident.ID())))
	} else {
		opts = append(opts, nats.CustomInboxPrefix(wire.ClientInbox(ident.ID())))
	}
	nc, err := nats.Connect(h.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return nc, ident.ID(), errs
}

func expectViolation(t *testing.T, errs chan error, what string) {
	t.Helper()
	select {
	case err := <-errs:
		if !errors.Is(err, nats.ErrPermissionViolation) {
			t.Errorf("%s: got %v, want a permissions violation", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("%s: no permissions violation reported", what)
	}
}

// expectAllowed fails if nc got an error after what it did.
func expectAllowed(t *testing.T, nc *nats.Conn, errs chan error, what string) {
	t.Helper()
	if err := nc.Flush(); err != nil {
		t.Errorf("%s: flush: %v", what, err)
	}
	select {
	case err := <-errs:
		t.Errorf("%s: %v, want it allowed", what, err)
	default:
	}
}

func TestPermissions(t *testing.T) {
	auth, err := NewAuth()
	if err != nil {
		t.Fatal(err)
	}
	h := startTestHub(t, auth)

	eng, engID, engErrs := connectAs(t, h, UserEngine, auth.Engine)
	_, otherEngine, _ := connectAs(t, h, UserEngine, auth.Engine)
	for _, test := range []struct {
		what string
		do   func() error
	}{
		{"an engine submitting load-balanced tasks", func() error { return eng.Publish(wire.SubjectSubmit, []byte("x")) }},
		{"an engine sending tasks to a daemon", func() error { return eng.Publish(wire.DaemonTasksFrom("someone", engID), []byte("x")) }},
		{"an engine submitting as itself", func() error { return eng.Publish(wire.SubmitFrom(engID), []byte("x")) }},
		{"an engine reading a client's results", func() error { _, err := eng.Subscribe(wire.ClientAll("someone"), func(*nats.Msg) {}); return err }},
		{"an engine reading the replies clients get", func() error { _, err := eng.Subscribe("_INBOX.>", func(*nats.Msg) {}); return err }},
		{"an engine reading every daemon's tasks", func() error { _, err := eng.Subscribe(wire.DaemonAll, func(*nats.Msg) {}); return err }},
		{"an engine reading another daemon's tasks", func() error {
			_, err := eng.Subscribe(wire.DaemonTasksFrom(otherEngine, "*"), func(*nats.Msg) {})
			return err
		}},
		{"an engine reading another daemon's replies", func() error {
			_, err := eng.Subscribe(wire.EngineInbox(otherEngine)+".>", func(*nats.Msg) {})
			return err
		}},
		{"an engine sending results as the hub", func() error { return eng.Publish(wire.ClientResults("someone"), []byte("x")) }},
		{"an engine sending results as another daemon", func() error {
			return eng.Publish(wire.ClientResultsFrom("someone", otherEngine), []byte("x"))
		}},
		{"an engine sending output as another daemon", func() error {
			return eng.Publish(wire.ClientOutputFrom("someone", otherEngine), []byte("x"))
		}},
		{"an engine registering as another daemon", func() error { return eng.Publish(wire.RegisterFrom(otherEngine), []byte("x")) }},
		{"an engine sending another daemon's heartbeats", func() error { return eng.Publish(wire.HeartbeatFrom(otherEngine), []byte("x")) }},
		{"an engine reporting another daemon's tasks done", func() error { return eng.Publish(wire.DoneFrom(otherEngine), []byte("x")) }},
		{"an engine registering without its id", func() error { return eng.Publish(wire.SubjectRegister, []byte("x")) }},
		{"an engine asking the hub's admin to abort", func() error { return eng.Publish(wire.SubjectAdmin, []byte("x")) }},
		{"an engine sending admin requests to a daemon", func() error { return eng.Publish(wire.DaemonAdmin(otherEngine), []byte("x")) }},
		{"an engine reading another daemon's control messages", func() error {
			_, err := eng.Subscribe(wire.DaemonControlFrom(otherEngine, "*"), func(*nats.Msg) {})
			return err
		}},
		{"an engine reading another daemon's admin requests", func() error {
			_, err := eng.Subscribe(wire.DaemonAdmin(otherEngine), func(*nats.Msg) {})
			return err
		}},
	} {
		if err := test.do(); err != nil {
			t.Fatalf("%s: %v", test.what, err)
		}
		eng.Flush()
		expectViolation(t, engErrs, test.what)
	}
	eng.Publish(wire.ClientResultsFrom("someone", engID), []byte("x"))
	eng.Subscribe(wire.DaemonTasksFrom(engID, "*"), func(*nats.Msg) {})
	eng.Subscribe(wire.DaemonAdmin(engID), func(*nats.Msg) {})
	eng.Subscribe(wire.DaemonControlFrom(engID, "*"), func(*nats.Msg) {})
	expectAllowed(t, eng, engErrs, "an engine sending results under its own id and reading its own tasks and admin requests")
	data, _ := wire.MarshalMsg(&wire.Register{Protocol: wire.ProtocolVersion, Daemon: otherEngine, Engines: 1})
	m, err := eng.Request(wire.RegisterFrom(engID), data, 5*time.Second)
	var reg wire.Registered
	if err != nil || wire.UnmarshalMsg(m.Data, &reg) != nil || !strings.Contains(reg.Error, "cannot register as daemon") {
		t.Errorf("an engine registering another daemon's id on its own subject: %+v, %v; want it refused", reg, err)
	}

	cl, clID, clErrs := connectAs(t, h, UserClient, auth.Client)
	_, otherClient, _ := connectAs(t, h, UserClient, auth.Client)
	for _, test := range []struct {
		what string
		do   func() error
	}{
		{"a client registering as an engine", func() error { return cl.Publish(wire.SubjectRegister, []byte("x")) }},
		{"a client sending heartbeats", func() error { return cl.Publish(wire.SubjectHeartbeat, []byte("x")) }},
		{"a client sending results", func() error { return cl.Publish(wire.ClientResultsFrom(otherClient, engID), []byte("x")) }},
		{"a client reading every client's results", func() error { _, err := cl.Subscribe(wire.ClientsAll, func(*nats.Msg) {}); return err }},
		{"a client reading another client's results", func() error {
			_, err := cl.Subscribe(wire.ClientAll(otherClient), func(*nats.Msg) {})
			return err
		}},
		{"a client reading every reply", func() error { _, err := cl.Subscribe("_INBOX.>", func(*nats.Msg) {}); return err }},
		{"a client reading another client's replies", func() error {
			_, err := cl.Subscribe(wire.ClientInbox(otherClient)+".>", func(*nats.Msg) {})
			return err
		}},
		{"a client reading a daemon's tasks", func() error { _, err := cl.Subscribe(wire.DaemonTasksFrom(engID, "*"), func(*nats.Msg) {}); return err }},
		// The sender token of a task or submission subject is how its
		// receiver bounds the memory of large messages per sender.
		{"a client sending tasks as another client", func() error { return cl.Publish(wire.DaemonTasksFrom(engID, otherClient), []byte("x")) }},
		{"a client sending tasks as the hub", func() error { return cl.Publish(wire.DaemonTasksFrom(engID, wire.SenderHub), []byte("x")) }},
		{"a client sending tasks on the stem subject", func() error { return cl.Publish(wire.DaemonTasks(engID), []byte("x")) }},
		{"a client submitting as another client", func() error { return cl.Publish(wire.SubmitFrom(otherClient), []byte("x")) }},
		{"a client submitting without its id", func() error { return cl.Publish(wire.SubjectSubmit, []byte("x")) }},
		{"a client aborting load-balanced tasks as another client", func() error { return cl.Publish(wire.SchedControlFrom(otherClient), []byte("x")) }},
		{"a client aborting load-balanced tasks without its id", func() error { return cl.Publish(wire.SubjectSchedControl, []byte("x")) }},
		{"a client asking the hub's admin to abort any client's tasks", func() error { return cl.Publish(wire.SubjectAdmin, []byte("x")) }},
		{"a client sending admin requests to a daemon", func() error { return cl.Publish(wire.DaemonAdmin(engID), []byte("x")) }},
		// A daemon obeys the hub's control messages (revoke, abort of a
		// whole client) and lets a client act only on its own tasks.
		{"a client controlling a daemon as another client", func() error {
			return cl.Publish(wire.DaemonControlFrom(engID, otherClient), []byte("x"))
		}},
		{"a client controlling a daemon as the hub", func() error {
			return cl.Publish(wire.DaemonControlFrom(engID, wire.SenderHub), []byte("x"))
		}},
		{"a client controlling a daemon on the stem subject", func() error { return cl.Publish(wire.DaemonControl(engID), []byte("x")) }},
	} {
		if err := test.do(); err != nil {
			t.Fatalf("%s: %v", test.what, err)
		}
		cl.Flush()
		expectViolation(t, clErrs, test.what)
	}
	cl.Subscribe(wire.ClientAll(clID), func(*nats.Msg) {})
	cl.Subscribe(wire.ClientInbox(clID)+".>", func(*nats.Msg) {})
	cl.Publish(wire.DaemonTasksFrom(engID, clID), []byte("x"))
	cl.Publish(wire.SubmitFrom(clID), []byte("x"))
	cl.Publish(wire.DaemonControlFrom(engID, clID), []byte("x"))
	cl.Publish(wire.SchedControlFrom(clID), []byte("x"))
	expectAllowed(t, cl, clErrs, "a client reading its own results and replies, sending tasks, submitting and controlling daemons as itself")

	if _, err := nats.Connect(h.ClientURL(), nats.UserInfo(UserEngine, "wrong")); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("connect with a wrong password: %v, want an authorization error", err)
	}
	if _, err := nats.Connect(h.ClientURL()); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("connect without credentials: %v, want an authorization error", err)
	}
	for _, user := range []string{UserClient, UserEngine} {
		pass := map[string]string{UserClient: auth.Client, UserEngine: auth.Engine}[user]
		if _, err := nats.Connect(h.ClientURL(), nats.UserInfo(user, pass)); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("connect as %s without an identity key: %v, want an authorization error", user, err)
		}
		// Claiming another's id: its public key, signed with another key.
		kp, _ := nkeys.CreateUser()
		claimed := map[string]string{UserClient: clID, UserEngine: engID}[user]
		if _, err := nats.Connect(h.ClientURL(), nats.UserInfo(user, pass), nats.Nkey(claimed, kp.Sign)); !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("connect as %s claiming another's id: %v, want an authorization error", user, err)
		}
	}
}

func register(t *testing.T, nc *nats.Conn, req wire.Register) wire.Registered {
	t.Helper()
	data, err := wire.MarshalMsg(&req)
	if err != nil {
		t.Fatal(err)
	}
	m, err := nc.Request(wire.SubjectRegister, data, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r wire.Registered
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestIDsNeverReused(t *testing.T) {
	h := startTestHub(t, nil)
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	first := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d1", Engines: 2})
	if got := first.IDs; len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Fatalf("first daemon's ids = %v, want [0 1]", got)
	}
	h.shutdownEngines([]int{0, 1})
	second := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d2", Engines: 2})
	if got := second.IDs; len(got) != 2 || got[0] != 2 || got[1] != 3 {
		t.Errorf("ids after the first engines left = %v, want [2 3] (never reused)", got)
	}
	// A daemon coming back after a reconnect keeps its ids when they are free.
	back := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "d3", Engines: 2, Reclaim: []int{0, 1}})
	if got := back.IDs; len(got) != 2 || got[0] != 0 || got[1] != 1 {
		t.Errorf("reclaimed ids = %v, want [0 1]", got)
	}
}

// TestShutDownDaemonNotAskedBack checks that a heartbeat from a daemon
// whose engines were all shut down does not ask it to register again (it
// would come back under new ids while leaving), while one from a daemon
// with engines the hub does not know still does. The hub answers
// heartbeats in order on one connection, so if the first daemon were asked
// back its question would arrive first.
func TestShutDownDaemonNotAskedBack(t *testing.T) {
	h := startTestHub(t, nil)
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	asked := make(chan string, 4)
	if _, err := nc.Subscribe(wire.DaemonControl("*")+".>", func(m *nats.Msg) {
		var c wire.Control
		if wire.UnmarshalMsg(m.Data, &c) == nil && c.Op == wire.OpRegister {
			asked <- m.Subject
		}
	}); err != nil {
		t.Fatal(err)
	}
	register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "gone", Engines: 1})
	h.shutdownEngines(nil)
	for _, hb := range []wire.Heartbeat{
		{Daemon: "gone"},
		{Daemon: "lost", Engines: []wire.EngineStat{{ID: 7}}},
	} {
		data, err := wire.MarshalMsg(&hb)
		if err != nil {
			t.Fatal(err)
		}
		if err := nc.Publish(wire.SubjectHeartbeat, data); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case subj := <-asked:
		if want := wire.DaemonControlFrom("lost", wire.SenderHub); subj != want {
			t.Errorf("first register request on %s, want %s (a shut-down daemon must not be asked back)", subj, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hub did not ask an unknown daemon with engines to register within 10s")
	}
}

func TestProtocolMismatchRefused(t *testing.T) {
	h := startTestHub(t, nil)
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// An envelope of protocol version 99: [99, {}].
	m, err := nc.Request(wire.SubjectRegister, []byte{0x82, 0x18, 99, 0xa0}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r wire.Registered
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Error, "protocol version 99") || !strings.Contains(r.Error, fmt.Sprintf("version %d", wire.ProtocolVersion)) {
		t.Errorf("refusal = %q, want both protocol versions named", r.Error)
	}
}

func TestMalformedMessagesDoNotCrash(t *testing.T) {
	h := startTestHub(t, nil)
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	for _, subj := range []string{wire.SubjectRegister, wire.SubjectHeartbeat, wire.SubjectQuery,
		wire.SubjectSubmit, wire.SubjectDone, wire.SubjectSchedControl, wire.SchedControlFrom("x")} {
		for _, data := range [][]byte{nil, {0xff}, {0x82, 0x01}, []byte(strings.Repeat("\x9f", 100))} {
			nc.Publish(subj, data)
		}
	}
	nc.Flush()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	data, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines})
	if _, err := nc.RequestWithContext(ctx, wire.SubjectQuery, data); err != nil {
		t.Errorf("the hub does not answer after malformed messages: %v", err)
	}
}

// lockedBuffer is a bytes.Buffer safe for the hub's goroutines to log into.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLateDoneNotWarned: a done report for an engine the hub no longer
// knows (its daemon left while the report was on its way, as at the end
// of `pirun -n 2 script.star`) is dropped quietly; one for another
// daemon's engine is still dropped with a warning.
func TestLateDoneNotWarned(t *testing.T) {
	logs := &lockedBuffer{}
	h, err := New(Config{Port: 0, Version: "test"}, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	nc, err := nats.Connect(h.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	r := register(t, nc, wire.Register{Protocol: wire.ProtocolVersion, Daemon: "a", Engines: 1})
	for _, d := range []struct {
		from   string
		engine int
	}{{"a", r.IDs[0] + 100}, {"b", r.IDs[0]}} {
		data, _ := wire.MarshalMsg(&wire.Done{Engine: d.engine})
		if err := nc.Publish(wire.DoneFrom(d.from), data); err != nil {
			t.Fatal(err)
		}
	}
	// Reports are handled in order: once the second is logged, the first
	// was handled too.
	startest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if !strings.Contains(logs.String(), "engine of another daemon") {
			return fmt.Errorf("no warning for a done report of another daemon's engine; log:\n%s", logs)
		}
		return nil
	})
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("%d warnings, want 1 (none for the late report of an engine that is gone); log:\n%s", n, logs)
	}
}
