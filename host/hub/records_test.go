package hub

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestRecordsSurviveRestart writes records, a detached result and an
// unfinished detached task, and reads them back as a restarted hub does.
func TestRecordsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	r := newRecords(dir, 100, 1<<20, log)
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{
		{Task: 1, Engine: 0, Time: 10, Label: "f", Engines: []int{0}},
		{Task: 2, Engine: -1, Time: 11, Label: "g", Detached: true},
		{Task: 3, Engine: -1, Time: 12, Label: "h", Detached: true},
		{Task: 1, Engine: 0, Status: wire.StatusOK, Started: 20, Time: 30},
	}})
	r.admit("A", wire.Batch{Bundles: [][]byte{[]byte("bundle")}, Tasks: []wire.Task{
		{ID: 3, Client: wire.DetachedClient, Kind: wire.KindApply, Payload: []byte("p"), Bundle: 1},
		{ID: 2, Client: wire.DetachedClient, Kind: wire.KindApply}}})
	r.commitOnce()
	fwd := r.onResults([]wire.Result{{Task: 2, Engine: 1, Status: wire.StatusOK, Value: []byte("v2"), Started: 40, Finished: 50}})
	if got := fwd["A"]; len(got) != 1 || string(got[0].Value) != "v2" {
		t.Errorf("onResults forwards %v, want task 2's result to its owner A", fwd)
	}
	r.flush(true)

	again := newRecords(dir, 100, 1<<20, log)
	batches, err := again.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 || batches[0].Tasks[0].ID != 3 || string(batches[0].Bundles[0]) != "bundle" {
		t.Errorf("after a restart, detached tasks to queue again = %+v, want task 3 with its bundle", batches)
	}
	recs, unknown := again.query([]uint64{1, 2, 3, 4}, 0, "")
	if len(recs) != 3 || len(unknown) != 1 || unknown[0] != 4 {
		t.Fatalf("query(1, 2, 3, 4) = %+v, unknown %v; want 3 records and 4 unknown", recs, unknown)
	}
	if recs[0].Status != wire.StatusOK || recs[0].Engine != 0 || recs[0].Started != 20 || recs[0].Completed != 30 || recs[0].Label != "f" {
		t.Errorf("task 1's record = %+v", recs[0])
	}
	if !recs[1].Result || recs[1].Status != wire.StatusOK || !recs[2].Pending() {
		t.Errorf("records of tasks 2 and 3 = %+v, %+v; want 2 done with its result kept and 3 pending", recs[1], recs[2])
	}
	_, _, res := again.fetch("B", []uint64{2, 3})
	if len(res) != 1 || string(res[0].Value) != "v2" {
		t.Errorf("fetch(2, 3) after a restart = %+v, want task 2's result", res)
	}
	// B waits for task 3: its result is forwarded to B and to A.
	fwd = again.onResults([]wire.Result{{Task: 3, Engine: 0, Status: wire.StatusOK}})
	if len(fwd["A"]) != 1 || len(fwd["B"]) != 1 {
		t.Errorf("task 3's result goes to %v, want A (owner) and B (asked for it)", fwd)
	}
	// A second answer (a task run again after a restart) is dropped.
	if fwd = again.onResults([]wire.Result{{Task: 3, Engine: 0, Status: wire.StatusOK}}); len(fwd) != 0 {
		t.Errorf("a second result of task 3 is forwarded to %v", fwd)
	}
	again.flush(true)
	if left, _ := os.ReadDir(filepath.Join(dir, "detached")); len(left) != 0 {
		t.Errorf("files of detached tasks left once every result is on disk: %v", left)
	}
	// Another client cannot rewrite A's records.
	again.onRecords(wire.Records{Client: "B", Events: []wire.TaskEvent{{Task: 1, Status: wire.StatusError, Time: 99}}})
	if recs, _ := again.query([]uint64{1}, 0, ""); recs[0].Status != wire.StatusOK {
		t.Errorf("client B changed A's task 1 to %v", recs[0].Status)
	}
}

// TestRecordsBounds checks the count bound (oldest first) and the bytes
// bound on detached results, which leaves a note saying why.
func TestRecordsBounds(t *testing.T) {
	dir := t.TempDir()
	r := newRecords(dir, 3, 1<<20, slog.New(slog.DiscardHandler))
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	for id := uint64(1); id <= 5; id++ {
		r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: id, Time: int64(id)}}})
	}
	if recs, _ := r.query(nil, 0, ""); len(recs) != 3 || recs[0].ID != 3 {
		t.Errorf("records kept past a bound of 3 = %+v, want tasks 3, 4, 5", recs)
	}
	big := make([]byte, 700<<10)
	for id := uint64(10); id <= 11; id++ {
		r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: id, Time: 1, Detached: true}}})
		r.onResults([]wire.Result{{Task: id, Engine: 0, Status: wire.StatusOK, Value: big}})
		r.flush(true)
	}
	recs, _ := r.query([]uint64{10, 11}, 0, "")
	if len(recs) != 2 || recs[0].Result || !strings.Contains(recs[0].Note, "results_max_bytes") || !recs[1].Result {
		t.Fatalf("after 1.4 MB of results under a 1 MiB bound: %+v; want task 10's evicted with a note, 11's kept", recs)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "results", "*.res"))
	if len(segs) != 1 {
		t.Errorf("result segments on disk: %v, want one", segs)
	}
}

// TestRecordsSeveralEngines: a detached direct task on two engines whose
// results land in two segments (one per flush) gives both to a fetch, by
// its id asked once or once per engine, is pending until both are in, and
// is evicted as a whole.
func TestRecordsSeveralEngines(t *testing.T) {
	dir := t.TempDir()
	r := newRecords(dir, 100, 1<<20, slog.New(slog.DiscardHandler))
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: 1, Engine: -1, Time: 1, Detached: true, Engines: []int{3, 1}}}})
	r.onResults([]wire.Result{{Task: 1, Engine: 3, Status: wire.StatusOK, Value: []byte("e3")}})
	r.flush(true)
	if recs, _ := r.query([]uint64{1}, 0, ""); !recs[0].Pending() {
		t.Errorf("task 1 with one of its two engines' results in: %+v, want pending", recs[0])
	}
	values := func(rs []wire.Result) map[int]string {
		out := make(map[int]string)
		for _, res := range rs {
			out[res.Engine] += string(res.Value)
		}
		return out
	}
	if _, _, res := r.fetch("B", []uint64{1}); len(res) != 1 || values(res)[3] != "e3" {
		t.Errorf("fetch of task 1 half done = %+v, want engine 3's result", res)
	}
	fwd := r.onResults([]wire.Result{{Task: 1, Engine: 1, Status: wire.StatusOK, Value: []byte("e1")}})
	if len(fwd["B"]) != 1 || len(fwd["A"]) != 1 {
		t.Errorf("engine 1's result goes to %v, want A (owner) and B (waiting for it)", fwd)
	}
	check := func(r *records, when string) {
		t.Helper()
		recs, _ := r.query([]uint64{1}, 0, "")
		if recs[0].Pending() || !recs[0].Result {
			t.Errorf("%s: task 1 = %+v, want done with its results kept", when, recs[0])
		}
		for _, ids := range [][]uint64{{1}, {1, 1}} {
			if _, _, res := r.fetch("C", ids); len(res) != 2 || values(res)[3] != "e3" || values(res)[1] != "e1" {
				t.Errorf("%s: fetch(%v) = %+v, want engine 3's and engine 1's results once each", when, ids, res)
			}
		}
	}
	check(r, "one result fresh")
	r.flush(true)
	check(r, "both on disk in two segments")
	again := newRecords(dir, 100, 1<<20, slog.New(slog.DiscardHandler))
	if _, err := again.load(); err != nil {
		t.Fatal(err)
	}
	check(again, "after a restart")
	// Evicting the first segment evicts the task as a whole.
	again.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: 2, Engine: 0, Time: 1, Detached: true, Engines: []int{0}}}})
	again.onResults([]wire.Result{{Task: 2, Engine: 0, Status: wire.StatusOK, Value: make([]byte, 1<<20)}})
	again.flush(true)
	recs, _ := again.query([]uint64{1}, 0, "")
	if recs[0].Result || !strings.Contains(recs[0].Note, "evicted") {
		t.Errorf("task 1 once a newer result pushed its segments out: %+v, want no result and a note", recs[0])
	}
	if _, _, res := again.fetch("C", []uint64{1}); len(res) != 0 {
		t.Errorf("fetch of an evicted task = %+v, want nothing", res)
	}
}

// TestRecordsResultBeforeSubmission: the client's report of a detached
// direct task on two engines and its first engine's result reach the hub
// by different subscriptions, so the result may come first. The task stays
// pending until both engines' results are in, and its owner gets the
// result that came before it was known.
func TestRecordsResultBeforeSubmission(t *testing.T) {
	r := newRecords("", 100, 1<<20, slog.New(slog.DiscardHandler))
	if fwd := r.onResults([]wire.Result{{Task: 1, Engine: 0, Status: wire.StatusOK, Value: []byte("e0"), Finished: 5}}); len(fwd) != 0 {
		t.Errorf("a result before its owner is known goes to %v, want nobody yet", fwd)
	}
	late := r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: 1, Engine: -1, Time: 1, Detached: true, Engines: []int{0, 1}}}})
	if !slices.Equal(late, []uint64{1}) {
		t.Errorf("late results to forward = %v, want [1]", late)
	}
	if recs, _ := r.query([]uint64{1}, 0, ""); !recs[0].Pending() || recs[0].Completed != 0 {
		t.Errorf("task 1 with engine 0's result in before its submission: %+v, want pending", recs[0])
	}
	r.fetch("B", []uint64{1})
	fwd := r.onResults([]wire.Result{{Task: 1, Engine: 1, Status: wire.StatusOK, Value: []byte("e1"), Finished: 9}})
	if len(fwd["A"]) != 1 || len(fwd["B"]) != 1 {
		t.Errorf("engine 1's result goes to %v, want A (owner) and B (waiting for it)", fwd)
	}
	if recs, _ := r.query([]uint64{1}, 0, ""); recs[0].Status != wire.StatusOK || recs[0].Completed != 9 {
		t.Errorf("task 1 with both results in: %+v, want ok, completed at 9", recs[0])
	}
	// A failure of its first engine is its status, whatever the last says.
	r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: 2, Engine: -1, Time: 1, Detached: true, Engines: []int{0, 1}}}})
	r.onResults([]wire.Result{{Task: 2, Engine: 1, Status: wire.StatusError}})
	r.onResults([]wire.Result{{Task: 2, Engine: 0, Status: wire.StatusOK}})
	if recs, _ := r.query([]uint64{2}, 0, ""); recs[0].Status != wire.StatusError {
		t.Errorf("task 2, failed on engine 1 and ok on engine 0: %+v, want error", recs[0])
	}
}

// TestRecordsFailureSurvivesRestart: the failure of one engine of a
// direct task on two is the task's status even when the hub restarts
// before the other engine answers; and the scheduler's own failure of a
// task whose engine already answered (aborted as the engine was lost) is
// not kept as a second result.
func TestRecordsFailureSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	r := newRecords(dir, 100, 1<<20, slog.New(slog.DiscardHandler))
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: 1, Engine: -1, Time: 1, Detached: true, Engines: []int{0, 1}}}})
	r.onResults([]wire.Result{{Task: 1, Engine: 1, Status: wire.StatusError}})
	r.onResults([]wire.Result{{Task: 2, Engine: 0, Status: wire.StatusAborted}})
	r.onResults([]wire.Result{{Task: 2, Engine: -1, Status: wire.StatusAborted}})
	r.flush(true)
	again := newRecords(dir, 100, 1<<20, slog.New(slog.DiscardHandler))
	if _, err := again.load(); err != nil {
		t.Fatal(err)
	}
	again.onResults([]wire.Result{{Task: 1, Engine: 0, Status: wire.StatusOK}})
	if recs, _ := again.query([]uint64{1}, 0, ""); recs[0].Status != wire.StatusError {
		t.Errorf("task 1, failed on engine 1 before a restart and ok on engine 0 after: %+v, want error", recs[0])
	}
	if _, _, res := again.fetch("A", []uint64{2}); len(res) != 1 || res[0].Engine != 0 {
		t.Errorf("task 2's results: %+v, want only its engine's", res)
	}
}

// TestRecordsOldSegmentField reads records written before Segments, with
// one Segment per task.
func TestRecordsOldSegmentField(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	r := newRecords(dir, 100, 1<<20, log)
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: 1, Engine: -1, Time: 1, Detached: true}}})
	r.onResults([]wire.Result{{Task: 1, Engine: 0, Status: wire.StatusOK, Value: []byte("v")}})
	r.flush(true)
	// Rewrite the store as an older hub wrote it.
	recs, _ := r.query([]uint64{1}, 0, "")
	recs[0].Segment, recs[0].Segments = recs[0].Segments[0], nil
	data, err := wire.MarshalMsg(&wire.RecordStore{Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tasks.bin"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	again := newRecords(dir, 100, 1<<20, log)
	if _, err := again.load(); err != nil {
		t.Fatal(err)
	}
	if _, _, res := again.fetch("B", []uint64{1}); len(res) != 1 || string(res[0].Value) != "v" {
		t.Errorf("fetch from records with the old Segment field = %+v, want the result", res)
	}
}

// TestDetachedBounds checks the bounds of pending detached tasks: per
// client (a submission past it is refused whole, with the reason kept for
// the client's sync) and in bytes, and that a result frees room.
func TestDetachedBounds(t *testing.T) {
	dir := t.TempDir()
	r := newRecords(dir, 100, 1<<20, slog.New(slog.DiscardHandler))
	r.boundDetached(3, 1<<20)
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	if b := r.admit("A", detached(1, 2)); len(b.Tasks) != 2 {
		t.Fatalf("A's first 2 detached tasks under a bound of 3: %d accepted", len(b.Tasks))
	}
	if _, why := r.syncOf("A", 1); why != "" {
		t.Errorf("sync after an accepted submission says %q", why)
	}
	if b := r.admit("A", detached(3, 4)); len(b.Tasks) != 0 {
		t.Errorf("A's 2 more past a bound of 3: %d accepted, want none (all or none)", len(b.Tasks))
	}
	_, why := r.syncOf("A", 3)
	for _, want := range []string{"refused 2 detached tasks", "already has 2 detached tasks pending", "detached_max_pending = 3", "wait for some to finish"} {
		if !strings.Contains(why, want) {
			t.Errorf("the refusal %q does not say %q", why, want)
		}
	}
	if _, why := r.syncOf("A", 3); why != "" {
		t.Errorf("a refusal is told once; the next sync says %q", why)
	}
	if b := r.admit("B", detached(5, 6, 7)); len(b.Tasks) != 3 {
		t.Errorf("B's 3 detached tasks: %d accepted; the bound is per client", len(b.Tasks))
	}
	// Submitted again (after a hub restart): passes, counts once.
	if b := r.admit("A", detached(1, 2)); len(b.Tasks) != 2 {
		t.Errorf("A's tasks submitted again: %d of 2 pass", len(b.Tasks))
	}
	r.onResults([]wire.Result{{Task: 1, Engine: 0, Status: wire.StatusOK}})
	r.flush(true)
	if b := r.admit("A", detached(8)); len(b.Tasks) != 1 {
		t.Errorf("A's task once one of its 2 finished: %d accepted, want 1", len(b.Tasks))
	}
	big := wire.Task{ID: 9, Client: wire.DetachedClient, Payload: make([]byte, 1<<20)}
	if b := r.admit("C", wire.Batch{Tasks: []wire.Task{big}}); len(b.Tasks) != 0 {
		t.Errorf("a 1 MiB task under a 1 MiB bound of bytes was accepted")
	}
	if _, why := r.syncOf("C", 9); !strings.Contains(why, "detached_max_bytes = 1048576") {
		t.Errorf("the refusal of bytes says %q, want it to name detached_max_bytes", why)
	}
}

// TestDetachedGroupCommit checks that the detached tasks of many
// submissions are written as one file, which goes once their results are
// on disk, and that a restart queues only the unfinished ones.
func TestDetachedGroupCommit(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	r := newRecords(dir, 100, 1<<20, log)
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	bundle := []byte("shared bundle")
	for n := range 20 {
		b := wire.Batch{Bundles: [][]byte{bundle}}
		for i := range 100 {
			b.Tasks = append(b.Tasks, wire.Task{ID: uint64(n*100 + i + 1), Client: wire.DetachedClient, Bundle: 1})
		}
		r.admit("A", b)
	}
	c, _ := r.syncOf("A", 1901)
	r.commitOnce()
	select {
	case <-c.done:
	default:
		t.Fatal("the client's sync is not released by the commit of its tasks")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "detached", "*"))
	if len(files) != 1 {
		t.Fatalf("2,000 detached tasks in 20 submissions wrote %d files, want 1 (a group commit)", len(files))
	}
	var done []wire.Result
	for id := uint64(1); id <= 1999; id++ {
		done = append(done, wire.Result{Task: id, Engine: 0, Status: wire.StatusOK})
	}
	r.onResults(done)
	r.flush(true)
	again := newRecords(dir, 100, 1<<20, log)
	batches, err := again.load()
	if err != nil {
		t.Fatal(err)
	}
	if len(batches) != 1 || len(batches[0].Tasks) != 1 || batches[0].Tasks[0].ID != 2000 || string(batches[0].Bundles[0]) != string(bundle) {
		t.Fatalf("after a restart, tasks to queue again = %+v; want task 2000 with its bundle", batches)
	}
	again.onResults([]wire.Result{{Task: 2000, Engine: 0, Status: wire.StatusOK}})
	again.flush(true)
	if files, _ := filepath.Glob(filepath.Join(dir, "detached", "*")); len(files) != 0 {
		t.Errorf("files of detached tasks left once every result is on disk: %v", files)
	}
}

// TestClosingClientsShareFlushes checks the group commit of task records:
// clients closing at once, each waiting for its last records to be on
// disk, are all answered, by a few writes of the records rather than one
// (and one fsync) each.
func TestClosingClientsShareFlushes(t *testing.T) {
	auth, err := NewAuth()
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Port: 0, Auth: auth, Version: "test", StateDir: t.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	const clients = 40
	conns := make([]*nats.Conn, clients)
	ids := make([]string, clients)
	for i := range conns {
		conns[i], ids[i], _ = connectAs(t, h, UserClient, auth.Client)
	}
	before := h.recs.stores.Load()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i, nc := range conns {
		wg.Go(func() {
			data, _ := wire.MarshalMsg(&wire.Records{Client: ids[i], Events: []wire.TaskEvent{{Task: uint64(i + 1), Engine: -1, Time: 1}}})
			if _, err := nc.Request(wire.RecordsFrom(ids[i]), data, 10*time.Second); err != nil {
				errs <- fmt.Errorf("client %d closing: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := h.recs.stores.Load() - before; n >= clients/2 {
		t.Errorf("%d clients closing at once cost %d writes of the records; want them to share a few", clients, n)
	}
	if recs, _ := h.recs.query(nil, 0, ""); len(recs) != clients {
		t.Errorf("%d records kept, want %d", len(recs), clients)
	}
}

// TestRecordsKeepPendingDetached checks the count bound against pending
// detached tasks: a detached map three times the bound keeps every
// record, another client's new records are still kept, and a client
// reporting detached tasks that never end keeps at most the bound of
// them, crowding out neither.
func TestRecordsKeepPendingDetached(t *testing.T) {
	const max = 100
	r := newRecords(t.TempDir(), max, 1<<20, slog.New(slog.DiscardHandler))
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	var mapped []uint64
	for id := uint64(1); id <= 3*max; id++ {
		mapped = append(mapped, id)
		r.admit("A", wire.Batch{Tasks: []wire.Task{{ID: id, Client: wire.DetachedClient}}})
		r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: id, Engine: -1, Time: 1, Detached: true}}})
	}
	for id := uint64(10000); id < 10000+10*max; id++ {
		r.onRecords(wire.Records{Client: "M", Events: []wire.TaskEvent{{Task: id, Engine: 0, Time: 1, Detached: true, Engines: []int{0}}}})
	}
	for id := uint64(50000); id < 50000+max; id++ {
		r.onRecords(wire.Records{Client: "B", Events: []wire.TaskEvent{{Task: id, Engine: 0, Time: 1}}})
	}
	if recs, unknown := r.query(mapped, 0, ""); len(recs) != len(mapped) {
		t.Errorf("records of a pending detached map of %d tasks under a bound of %d: %d kept, %d forgotten", len(mapped), max, len(recs), len(unknown))
	}
	if _, unknown := r.query([]uint64{50000 + max - 1}, 0, ""); len(unknown) != 0 {
		t.Errorf("client B's newest record was crowded out by pending detached ones")
	}
	r.mu.Lock()
	n := len(r.byID)
	r.mu.Unlock()
	if limit := len(mapped) + 2*max + max/8; n > limit {
		t.Errorf("%d records kept after client M reported %d detached tasks that never end; want at most %d", n, 10*max, limit)
	}
	// The map's results come: its records are trimmed like any other.
	for _, id := range mapped {
		r.onResults([]wire.Result{{Task: id, Engine: 0, Status: wire.StatusOK}})
	}
	r.flush(true)
	r.onRecords(wire.Records{Client: "B", Events: []wire.TaskEvent{{Task: 60000, Engine: 0, Time: 1}}})
	r.mu.Lock()
	n = len(r.byID)
	r.mu.Unlock()
	if n > 2*max+max/8 {
		t.Errorf("%d records kept once the map finished; want at most %d", n, 2*max+max/8)
	}
}

// TestDetachedEmptyBundle: a detached task naming an empty bundle (a
// hostile or broken client) is kept without crashing the hub.
func TestDetachedEmptyBundle(t *testing.T) {
	r := newRecords(t.TempDir(), 100, 1<<20, slog.New(slog.DiscardHandler))
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	b := r.admit("A", wire.Batch{Bundles: [][]byte{{}}, Tasks: []wire.Task{{ID: 1, Client: wire.DetachedClient, Bundle: 1}}})
	if len(b.Tasks) != 1 {
		t.Fatalf("a detached task with an empty bundle: %d of 1 accepted", len(b.Tasks))
	}
	c, why := r.syncOf("A", 1)
	r.commitOnce()
	<-c.done
	if why != "" || c.err != nil {
		t.Errorf("sync after a task with an empty bundle: %q, %v", why, c.err)
	}
}

// TestDetachedDuplicateIDs: copies of one id in a batch count once
// against the bounds, and once its result is on disk nothing of it is
// left: not in the bounds, not on disk.
func TestDetachedDuplicateIDs(t *testing.T) {
	dir := t.TempDir()
	r := newRecords(dir, 100, 1<<20, slog.New(slog.DiscardHandler))
	r.boundDetached(3, 1<<20)
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	var b wire.Batch
	for range 250 {
		b.Tasks = append(b.Tasks, wire.Task{ID: 1, Client: wire.DetachedClient, Payload: make([]byte, 1000)})
	}
	b.Tasks = append(b.Tasks, wire.Task{ID: 2, Client: "A"}) // not detached: passes through
	if got := r.admit("A", b); len(got.Tasks) != 2 || got.Tasks[0].ID != 1 || got.Tasks[1].ID != 2 {
		t.Fatalf("250 copies of detached task 1 and task 2: %d tasks pass, want 2 (one copy)", len(got.Tasks))
	}
	r.mu.Lock()
	n, bytes := r.j.bySender["A"], r.j.bytes
	r.mu.Unlock()
	if n != 1 || bytes != 1000+taskOverhead {
		t.Errorf("250 copies of one task count %d tasks and %d bytes, want 1 and %d", n, bytes, 1000+taskOverhead)
	}
	if got := r.admit("A", detached(3, 4)); len(got.Tasks) != 2 {
		t.Errorf("2 more detached tasks under a bound of 3 after the copies: %d accepted", len(got.Tasks))
	}
	r.commitOnce()
	r.onResults([]wire.Result{{Task: 1, Engine: 0, Status: wire.StatusOK}, {Task: 3, Engine: 0, Status: wire.StatusOK}, {Task: 4, Engine: 0, Status: wire.StatusOK}})
	r.flush(true)
	r.mu.Lock()
	n, bytes = len(r.j.bySender), r.j.bytes
	r.mu.Unlock()
	if n != 0 || bytes != 0 {
		t.Errorf("once every result is on disk: %d clients with pending tasks and %d bytes counted, want 0 and 0", n, bytes)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "detached", "*")); len(files) != 0 {
		t.Errorf("files of detached tasks left once every result is on disk: %v", files)
	}
}

// detached is a batch of detached tasks ids.
func detached(ids ...uint64) wire.Batch {
	var b wire.Batch
	for _, id := range ids {
		b.Tasks = append(b.Tasks, wire.Task{ID: id, Client: wire.DetachedClient, Payload: []byte("p")})
	}
	return b
}

// TestDetachedFinishedNotRunAgain: a detached task whose result is in is
// not queued again when its client submits it again, before or after a
// hub restart (it fetches the result instead).
func TestDetachedFinishedNotRunAgain(t *testing.T) {
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	r := newRecords(dir, 100, 1<<20, log)
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	r.onRecords(wire.Records{Client: "A", Events: []wire.TaskEvent{{Task: 1, Engine: -1, Time: 1, Detached: true}}})
	r.admit("A", detached(1))
	r.commitOnce()
	r.onResults([]wire.Result{{Task: 1, Engine: 0, Status: wire.StatusOK, Value: []byte("v")}})
	r.flush(true)
	if b := r.admit("A", detached(1, 2)); len(b.Tasks) != 1 || b.Tasks[0].ID != 2 {
		t.Errorf("finished task 1 and new task 2 submitted: %+v pass, want only 2", b.Tasks)
	}
	again := newRecords(dir, 100, 1<<20, log)
	if _, err := again.load(); err != nil {
		t.Fatal(err)
	}
	if b := again.admit("A", detached(1)); len(b.Tasks) != 0 {
		t.Errorf("after a hub restart, finished task 1 submitted again passes: %+v", b.Tasks)
	}
}

// TestDetachedSettledAfterFailedWrite: when tasks.bin cannot be written,
// the finished detached tasks stay in the journal, and the next flush
// that writes it settles them (bounds and files freed), so a brief
// failure does not refuse a client for the rest of the hub's life.
func TestDetachedSettledAfterFailedWrite(t *testing.T) {
	dir := t.TempDir()
	r := newRecords(dir, 100, 1<<20, slog.New(slog.DiscardHandler))
	r.boundDetached(2, 1<<20)
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	r.admit("A", detached(1, 2))
	r.commitOnce()
	block := filepath.Join(dir, "tasks.bin")
	os.Remove(block)
	if err := os.MkdirAll(filepath.Join(block, "x"), 0o700); err != nil { // a rename onto it fails
		t.Fatal(err)
	}
	r.onResults([]wire.Result{{Task: 1, Engine: 0, Status: wire.StatusOK}, {Task: 2, Engine: 0, Status: wire.StatusOK}})
	r.flush(true)
	r.mu.Lock()
	n := r.j.bySender["A"]
	r.mu.Unlock()
	if n != 2 {
		t.Errorf("after a failed write of the records, %d of 2 tasks still counted, want 2 (a restart must run them)", n)
	}
	if err := os.RemoveAll(block); err != nil {
		t.Fatal(err)
	}
	r.flush(false)
	if b := r.admit("A", detached(3, 4)); len(b.Tasks) != 2 {
		t.Errorf("after the records were written again, 2 new detached tasks under a bound of 2: %d accepted", len(b.Tasks))
	}
	r.commitOnce()
	if files, _ := filepath.Glob(filepath.Join(dir, "detached", "*.batch")); len(files) != 1 {
		t.Errorf("files of detached tasks: %v, want only the new submission's", files)
	}
}

// TestDetachedSyncPerSubmission: each submission's sync hears its own
// answer: two calls of one client, one accepted and one refused, are
// told apart whichever syncs first, and a refusal nobody asked about (a
// resubmission) is not told to the next call.
func TestDetachedSyncPerSubmission(t *testing.T) {
	r := newRecords(t.TempDir(), 100, 1<<20, slog.New(slog.DiscardHandler))
	r.boundDetached(3, 1<<20)
	if _, err := r.load(); err != nil {
		t.Fatal(err)
	}
	r.admit("A", detached(1, 2))    // accepted
	r.admit("A", detached(3, 4))    // refused: past 3
	r.admit("A", detached(5, 6, 7)) // refused, and never asked about
	if _, why := r.syncOf("A", 3); !strings.Contains(why, "refused 2 detached tasks") {
		t.Errorf("the refused submission's sync says %q", why)
	}
	c, why := r.syncOf("A", 1)
	if why != "" {
		t.Errorf("the accepted submission's sync, asked after the refused one's, says %q", why)
	}
	r.commitOnce()
	select {
	case <-c.done:
	default:
		t.Error("the accepted submission's sync is not released by the commit of its tasks")
	}
	r.onResults([]wire.Result{{Task: 1, Engine: 0, Status: wire.StatusOK}})
	r.flush(true)
	r.admit("A", detached(8))
	if _, why := r.syncOf("A", 8); why != "" {
		t.Errorf("a new accepted submission's sync says %q (another submission's refusal?)", why)
	}
	// A client that never asks keeps at most maxSyncs answers.
	for id := uint64(100); id < 100+2*maxSyncs; id++ {
		r.admit("B", detached(id)) // past the bound, refusals: kept to be told
	}
	r.mu.Lock()
	n := len(r.j.syncs["B"])
	r.mu.Unlock()
	if n > maxSyncs {
		t.Errorf("%d sync answers kept for a client that never asks, want at most %d", n, maxSyncs)
	}
}
