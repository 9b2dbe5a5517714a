package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// rawSubmit publishes b on the raw client's own submit subject and asks
// the hub's sync (wire.HeaderSync), returning its answer's error ("" when
// the hub keeps the tasks); the test fails when the hub does not answer.
// b's first task is detached.
func rawSubmit(t *testing.T, nc *nats.Conn, id string, b *wire.Batch) string {
	t.Helper()
	data, err := wire.MarshalMsg(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(wire.SubmitFrom(id), data); err != nil {
		t.Fatal(err)
	}
	token := strconv.FormatUint(b.Tasks[0].ID, 10) // names the submission
	m, err := nc.RequestMsg(&nats.Msg{Subject: wire.SubmitFrom(id), Header: nats.Header{wire.HeaderSync: {token}}}, 20*time.Second)
	if err != nil {
		t.Fatalf("the hub's sync after a submission: %v", err)
	}
	var r wire.ControlReply
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		t.Fatal(err)
	}
	return r.Error
}

// hubAlive fails the test when the hub process has exited.
func hubAlive(t *testing.T, hub *proc) {
	t.Helper()
	select {
	case <-hub.done:
		t.Fatalf("the hub died: %v\nstderr:\n%s", hub.err, hub.stderr)
	default:
	}
}

// TestSecurityDetachedEmptyBundle: a client with valid credentials that
// submits a detached task naming an empty bundle, or a bundle past the
// batch's, does not crash the hub (review finding 1).
func TestSecurityDetachedEmptyBundle(t *testing.T) {
	hub, clientConn, _ := startHub(t)
	nc, id, _ := rawConnect(t, loadConnFile(t, clientConn))
	b := &wire.Batch{Bundles: [][]byte{{}}, Tasks: []wire.Task{
		{ID: 1<<40 + 1, Client: wire.DetachedClient, Kind: wire.KindApply, Bundle: 1},
		{ID: 1<<40 + 2, Client: wire.DetachedClient, Kind: wire.KindApply, Bundle: 7},
		{ID: 1<<40 + 3, Client: wire.DetachedClient, Kind: wire.KindApply, Bundle: -3},
	}}
	if why := rawSubmit(t, nc, id, b); why != "" {
		t.Errorf("the sync after tasks with bad bundles says %q", why)
	}
	hubAlive(t, hub)
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryEngines, Client: id})
	if _, err := nc.Request(wire.SubjectQuery, q, 10*time.Second); err != nil {
		t.Errorf("the hub's query after tasks with bad bundles: %v", err)
	}
	hubAlive(t, hub)
}

// TestSecurityDetachedDuplicateIDs: copies of one detached id in a batch
// count once against [hub] detached_max_pending, so a client cannot use
// up the bounds with them (review finding 3).
func TestSecurityDetachedDuplicateIDs(t *testing.T) {
	prof := filepath.Join(pirunDir(t), "default")
	if err := os.MkdirAll(prof, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prof, "pirun.toml"), []byte("[hub]\ndetached_max_pending = 10\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	hub, clientConn, _ := startHub(t)
	nc, id, _ := rawConnect(t, loadConnFile(t, clientConn))
	b := &wire.Batch{}
	for range 10 {
		b.Tasks = append(b.Tasks, wire.Task{ID: 1 << 40, Client: wire.DetachedClient, Kind: wire.KindApply, Payload: []byte("p")})
	}
	if why := rawSubmit(t, nc, id, b); why != "" {
		t.Fatalf("10 copies of one detached task under a bound of 10: refused: %s", why)
	}
	b = &wire.Batch{}
	for i := range 9 {
		b.Tasks = append(b.Tasks, wire.Task{ID: 1<<40 + 1 + uint64(i), Client: wire.DetachedClient, Kind: wire.KindApply, Payload: []byte("p")})
	}
	if why := rawSubmit(t, nc, id, b); why != "" {
		t.Errorf("9 more detached tasks after 10 copies of one, under a bound of 10: refused: %s", why)
	}
	hubAlive(t, hub)
}
