package integration

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestDetachedLargeResultSecondClient is SPEC §15's collaborator pulling
// back data, with the real client credentials: client A submits detached
// jobs whose results are 9 MB together (over the 8 MiB message limit: sent
// by the hub in parts, which the fetching client acknowledges) and exits;
// client B fetches them by id.
func TestDetachedLargeResultSecondClient(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "2")
	a := runPirun(t, "", 60*time.Second, "--connect", clientConn, scriptFile(t, "a.star", `
c = Client()
c.wait_for_engines(2, timeout=30)
def big(n):
    return "x" * n
m = c.load_balanced_view().map_async(big, [3000000, 3100000, 3200000], detached=True)
print(json.encode(m.task_ids))
`))
	if a.code != 0 {
		t.Fatalf("client A: exit %d\nstdout:\n%s\nstderr:\n%s", a.code, a.stdout, a.stderr)
	}
	ids := strings.TrimSpace(a.stdout)
	b := runPirun(t, "", 60*time.Second, "--connect", clientConn, scriptFile(t, "b.star", `
c = Client()
print([len(x[0]) for x in c.get_result(json.decode(argv[0])).get(timeout=30)])
`), ids)
	if b.code != 0 || strings.TrimSpace(b.stdout) != "[3000000, 3100000, 3200000]" {
		t.Errorf("client B fetching 9 MB of results: exit %d\nstdout:\n%s\nwant [3000000, 3100000, 3200000]\nstderr:\n%s", b.code, b.stdout, b.stderr)
	}
}

// TestSecurityRecordsIsolated attacks SPEC §15's isolation of task records
// with raw clients on the real client credentials: listing the records
// (no ids) shows a client only its own, and results fetched while
// claiming another client's id come to the asker, not to that client.
func TestSecurityRecordsIsolated(t *testing.T) {
	_, clientConn, engineConn := startHub(t)
	startPirun(t, "engine", "--connect", engineConn, "-n", "1")
	a := runPirun(t, "", 60*time.Second, "--connect", clientConn, scriptFile(t, "a.star", `
c = Client()
c.wait_for_engines(1, timeout=30)
m = c.load_balanced_view().map_async(lambda x: x * 7, [6], detached=True)
c.load_balanced_view().apply_sync(lambda: 1)
print(json.encode(m.task_ids))
`))
	if a.code != 0 {
		t.Fatalf("client A: exit %d\nstdout:\n%s\nstderr:\n%s", a.code, a.stdout, a.stderr)
	}
	var ids []uint64
	if err := json.Unmarshal([]byte(strings.TrimSpace(a.stdout)), &ids); err != nil || len(ids) != 1 {
		t.Fatalf("client A's task ids %q: %v", a.stdout, err)
	}
	cf := loadConnFile(t, clientConn)
	nc, id, _ := rawConnect(t, cf)
	_, victim, _ := rawConnect(t, cf)
	own, _ := wire.MarshalMsg(&wire.Records{Client: id, Events: []wire.TaskEvent{{Task: 78, Engine: -1, Time: 1, Label: "mine"}}})
	if _, err := nc.Request(wire.RecordsFrom(id), own, 10*time.Second); err != nil {
		t.Fatalf("a client's own records: %v", err)
	}
	q, _ := wire.MarshalMsg(&wire.Query{Op: wire.QueryTasks, Client: id})
	m, err := nc.Request(wire.SubjectQuery, q, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var r wire.QueryReply
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Records) != 1 || r.Records[0].ID != 78 || r.Records[0].Client != id {
		t.Errorf("a client listing task records got %+v; want only its own task 78", r.Records)
	}
	// The hub's own credential (pirun status --tasks on its machine) lists
	// every client's records.
	st := runPirun(t, "", 30*time.Second, "status", "--tasks", "--json")
	if st.code != 0 || !strings.Contains(st.stdout, strconv.FormatUint(ids[0], 10)) || !strings.Contains(st.stdout, `"id": 78`) && !strings.Contains(st.stdout, `"id":78`) {
		t.Errorf("pirun status --tasks --json: exit %d, want client A's task %d and the raw client's 78\nstdout:\n%s\nstderr:\n%s", st.code, ids[0], st.stdout, st.stderr)
	}
	// Fetching A's detached result by id (allowed: its ids are random and
	// secret) while claiming to be victim: the result comes to the asker.
	results := make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe(wire.ClientResults(id), results); err != nil {
		t.Fatal(err)
	}
	q, _ = wire.MarshalMsg(&wire.Query{Op: wire.QueryResults, Client: victim, Tasks: ids})
	if _, err := nc.Request(wire.SubjectQuery, q, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	select {
	case <-results:
	case <-deadline:
		t.Fatalf("no result of task %d on the asker's subject %s within 10s (sent to the claimed client?)", ids[0], wire.ClientResults(id))
	}
}
