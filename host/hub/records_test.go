package hub

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	r.keepTask(wire.Task{ID: 3, Client: wire.DetachedClient, Kind: wire.KindApply, Payload: []byte("p")}, []byte("bundle"))
	r.keepTask(wire.Task{ID: 2, Client: wire.DetachedClient, Kind: wire.KindApply}, nil)
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
	if _, err := os.Stat(again.taskFile(3)); !os.IsNotExist(err) {
		t.Errorf("task 3's file is still there once its result is on disk: %v", err)
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
