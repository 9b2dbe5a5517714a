package hub

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestStalledButConnectedEngineKept checks the hub's liveness rules: a
// daemon silent past EngineTimeout whose connection is open (a process
// stalled by a long allocation or a GC pause) keeps its engines until
// StallTimeout, while one whose connection closed is lost at once.
func TestStalledButConnectedEngineKept(t *testing.T) {
	auth, err := NewAuth()
	if err != nil {
		t.Fatal(err)
	}
	const stall = 3 * time.Second
	h, err := New(Config{Port: 0, Auth: auth, Version: "test", Heartbeat: 50 * time.Millisecond,
		EngineTimeout: 150 * time.Millisecond, StallTimeout: stall}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)

	join := func() (*nats.Conn, []int) {
		nc, id, _ := connectAs(t, h, UserEngine, auth.Engine)
		cid, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := wire.MarshalMsg(&wire.Register{Protocol: wire.ProtocolVersion, Daemon: id, Engines: 1, ConnID: cid})
		m, err := nc.Request(wire.RegisterFrom(id), data, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var reg wire.Registered
		if err := wire.UnmarshalMsg(m.Data, &reg); err != nil || reg.Error != "" {
			t.Fatalf("register: %v %s", err, reg.Error)
		}
		return nc, reg.IDs
	}
	known := func(id int) bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.engines[id] != nil
	}
	_, stalled := join()
	closing, closed := join()
	joined := time.Now()
	closing.Close()
	startest.CheckFor(t, 2*time.Second, 10*time.Millisecond, func() error {
		if known(closed[0]) {
			return fmt.Errorf("engine %d is still known after its connection closed", closed[0])
		}
		return nil
	})
	// Silent since it joined: past EngineTimeout many times over, yet
	// connected, so kept until StallTimeout.
	for time.Since(joined) < stall*2/3 {
		if !known(stalled[0]) {
			t.Fatalf("a connected daemon silent for %v was dropped; want it kept for %v", time.Since(joined).Round(time.Millisecond), stall)
		}
		time.Sleep(50 * time.Millisecond) // sampling a state that must not change, not synchronising
	}
	startest.CheckFor(t, 3*stall, 20*time.Millisecond, func() error {
		if known(stalled[0]) {
			return fmt.Errorf("engine %d is still known %v after its last heartbeat", stalled[0], time.Since(joined).Round(time.Millisecond))
		}
		return nil
	})
}

func TestSocketState(t *testing.T) {
	// Lines of a real /proc/net/tcp (a hub on port 4222 = 0x107E) on a
	// little-endian machine: a peer that acknowledges, one with bytes
	// past a retransmission timeout, one with a full receive window.
	const text = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:107E 0100007F:D431 01 00000000:00000000 02:000004E2 00000000     0        0 1 1 0000000000000000 20 4 30 10 -1
   1: 0100007F:107E 0100007F:D432 01 00000041:00000000 01:000000C8 00000003     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:107E 0100007F:D433 01 0001F000:00000000 04:000000C8 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:1F90 0100007F:D432 01 00000041:00000000 01:000000C8 00000003     0        0 4 1 0000000000000000 20 4 30 10 -1
`
	lo := net.IPv4(127, 0, 0, 1).To4()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the lines are those of a little-endian machine")
	}
	for _, test := range []struct {
		port           int
		found, unacked bool
	}{
		{0xD431, true, false},
		{0xD432, true, true},
		{0xD433, true, false},
		{0xD434, false, false},
	} {
		st, found := socketState(text, procAddr(lo, test.port), 4222)
		if found != test.found || st.unacked() != test.unacked {
			t.Errorf("socketState(port %#x) = %+v, %v; want found %v, unacked %v", test.port, st, found, test.found, test.unacked)
		}
	}
	// As /proc/net/tcp6 shows ::ffff:10.0.0.2.
	if got, want := procAddr(net.ParseIP("::ffff:10.0.0.2").To16(), 80), "0000000000000000FFFF00000200000A:0050"; got != want {
		t.Errorf("procAddr of an IPv4-mapped address = %s, want %s", got, want)
	}
}

// TestSweepReadsSocketsWithoutLock checks that the sweeper reads the
// kernel's socket table without the hub's lock: while the read of a
// stalled daemon's socket hangs (a slow /proc), queries and
// registrations are answered.
func TestSweepReadsSocketsWithoutLock(t *testing.T) {
	auth, err := NewAuth()
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Port: 0, Auth: auth, Version: "test", Heartbeat: 50 * time.Millisecond,
		EngineTimeout: 150 * time.Millisecond, StallTimeout: time.Minute}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.readSockets = func(name string) ([]byte, error) {
		once.Do(func() { close(entered) })
		<-release
		return os.ReadFile(name)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	register := func() []int {
		nc, id, _ := connectAs(t, h, UserEngine, auth.Engine)
		cid, err := nc.GetClientID()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := wire.MarshalMsg(&wire.Register{Protocol: wire.ProtocolVersion, Daemon: id, Engines: 1, ConnID: cid})
		m, err := nc.Request(wire.RegisterFrom(id), data, time.Second)
		if err != nil {
			t.Fatalf("register while the sweeper reads the socket table: %v", err)
		}
		var reg wire.Registered
		if err := wire.UnmarshalMsg(m.Data, &reg); err != nil || reg.Error != "" {
			t.Fatalf("register: %v %s", err, reg.Error)
		}
		return reg.IDs
	}
	stalled := register() // and silent from now on
	if runtime.GOOS != "linux" {
		t.Skip("the hub reads socket tables on Linux only")
	}
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the sweeper never read the socket table of a silent, connected daemon")
	}
	// The read hangs: the hub must still answer.
	client, _, _ := connectAs(t, h, UserClient, auth.Client)
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines})
	start := time.Now()
	m, err := client.Request(wire.SubjectQuery, q, time.Second)
	if err != nil {
		t.Fatalf("query while the sweeper reads a slow socket table: %v after %v (the hub's lock is held)", err, time.Since(start).Round(time.Millisecond))
	}
	var r wire.QueryReply
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil || len(r.Engines) != 1 || r.Engines[0].ID != stalled[0] {
		t.Fatalf("engines while the sweeper reads = %+v, %v; want engine %d", r.Engines, err, stalled[0])
	}
	if ids := register(); len(ids) != 1 {
		t.Fatalf("a daemon registering while the sweeper reads got ids %v, want one", ids)
	}
	close(release)
	// Its machine acknowledges (loopback): waited for, not dropped.
	startest.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error {
		h.mu.Lock()
		defer h.mu.Unlock()
		if d := h.engines[stalled[0]]; d == nil || !d.daemon.waiting {
			return fmt.Errorf("engine %d: want it kept and waited for, got entry %v", stalled[0], d)
		}
		return nil
	})
}
