package integration

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestSecurityRecordsPinned attacks the task records of SPEC §15 with a
// raw client using the real client credentials: it cannot write records
// as another client (not on that client's subject, not on the plain one,
// not naming it on its own), nor read the detached results the hub keeps;
// its own records are kept.
func TestSecurityRecordsPinned(t *testing.T) {
	_, clientConn, _ := startHub(t)
	cf := loadConnFile(t, clientConn)
	nc, id, errs := rawConnect(t, cf)
	_, otherID, _ := rawConnect(t, cf)
	forged, _ := wire.MarshalMsg(&wire.Records{Client: otherID, Events: []wire.TaskEvent{{Task: 77, Time: 1, Label: "forged"}}})
	for _, subj := range []string{wire.RecordsFrom(otherID), wire.SubjectRecords} {
		if err := nc.Publish(subj, forged); err != nil {
			t.Fatal(err)
		}
		if err := violated(nc, errs, subj); err != nil {
			t.Errorf("a client publishing records on %s: %v", subj, err)
		}
	}
	if _, err := nc.Subscribe(wire.ClientAll(wire.DetachedClient), func(*nats.Msg) {}); err != nil {
		t.Fatal(err)
	}
	if err := violated(nc, errs, wire.ClientAll(wire.DetachedClient)); err != nil {
		t.Errorf("a client subscribing to the detached results: %v", err)
	}
	// On its own subject, a record naming another client is dropped; its
	// own is kept (the request waits for the hub to have it).
	if err := nc.Publish(wire.RecordsFrom(id), forged); err != nil {
		t.Fatal(err)
	}
	own, _ := wire.MarshalMsg(&wire.Records{Client: id, Events: []wire.TaskEvent{{Task: 78, Engine: -1, Time: 1, Label: "mine"}}})
	if _, err := nc.Request(wire.RecordsFrom(id), own, 10*time.Second); err != nil {
		t.Fatalf("a client's own records: %v", err)
	}
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryTasks, Tasks: []uint64{77, 78}, Client: id})
	m, err := nc.Request(wire.SubjectQuery, q, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r wire.QueryReply
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Records) != 1 || r.Records[0].ID != 78 || r.Records[0].Client != id || len(r.Unknown) != 1 || r.Unknown[0] != 77 {
		t.Errorf("records of tasks 77 (forged for another client) and 78 (its own) = %+v, unknown %v; want only 78, as this client's", r.Records, r.Unknown)
	}
}
