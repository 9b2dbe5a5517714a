package hub

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
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

// connectAs connects with a role's credentials and records permission
// errors reported asynchronously.
func connectAs(t *testing.T, h *Hub, user, pass string) (*nats.Conn, chan error) {
	t.Helper()
	errs := make(chan error, 16)
	opts := []nats.Option{nats.UserInfo(user, pass),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err })}
	if user == UserEngine {
		opts = append(opts, nats.CustomInboxPrefix(wire.EngineInboxPrefix))
	}
	nc, err := nats.Connect(h.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("connect as %s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return nc, errs
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

func TestPermissions(t *testing.T) {
	auth, err := NewAuth()
	if err != nil {
		t.Fatal(err)
	}
	h := startTestHub(t, auth)

	eng, engErrs := connectAs(t, h, UserEngine, auth.Engine)
	eng.Publish(wire.SubjectSubmit, []byte("x"))
	eng.Flush()
	expectViolation(t, engErrs, "an engine submitting load-balanced tasks")
	eng.Publish(wire.DaemonTasks("someone"), []byte("x"))
	eng.Flush()
	expectViolation(t, engErrs, "an engine sending tasks to a daemon")
	eng.Subscribe(wire.ClientResults("someone"), func(*nats.Msg) {})
	eng.Flush()
	expectViolation(t, engErrs, "an engine reading a client's results")
	eng.Subscribe("_INBOX.>", func(*nats.Msg) {})
	eng.Flush()
	expectViolation(t, engErrs, "an engine reading the replies clients get")

	cl, clErrs := connectAs(t, h, UserClient, auth.Client)
	cl.Publish(wire.SubjectRegister, []byte("x"))
	cl.Flush()
	expectViolation(t, clErrs, "a client registering as an engine")
	cl.Publish(wire.SubjectHeartbeat, []byte("x"))
	cl.Flush()
	expectViolation(t, clErrs, "a client sending heartbeats")

	if _, err := nats.Connect(h.ClientURL(), nats.UserInfo(UserEngine, "wrong")); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("connect with a wrong password: %v, want an authorization error", err)
	}
	if _, err := nats.Connect(h.ClientURL()); !errors.Is(err, nats.ErrAuthorization) {
		t.Errorf("connect without credentials: %v, want an authorization error", err)
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
	if !strings.Contains(r.Error, "protocol version 99") || !strings.Contains(r.Error, "version 1") {
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
		wire.SubjectSubmit, wire.SubjectDone, wire.SubjectSchedControl} {
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
