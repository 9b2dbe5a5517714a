// This file defines the hub's task records (SPEC §15): a bounded record
// of recent tasks that clients report (wire.Records) and, for
// detached=True jobs, their results, which engines send to the hub
// (wire.DetachedClient). Records, detached results and unfinished
// detached load-balanced tasks are kept under the profile's state/ and
// survive a hub restart:
//
//	state/tasks.bin            the records (rewritten atomically when changed)
//	state/results/SEGMENT.res  detached results, one segment per flush, oldest evicted first
//	state/detached/SEQ.batch   detached load-balanced tasks, one file per group commit,
//	                           until each one's result is in (journal.go)

package hub

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// DefaultResultsMaxBytes bounds detached results when Config leaves it 0.
const DefaultResultsMaxBytes = 256 << 20

// DefaultTaskRecords bounds the records when Config leaves it 0.
const DefaultTaskRecords = 10000

// recordsFlushEvery is how often changed records and new results are
// written to disk.
const recordsFlushEvery = 250 * time.Millisecond

// records is the hub's task records. Its methods are safe for concurrent
// use.
type records struct {
	log      *slog.Logger
	dir      string // state/; "" keeps everything in memory
	max      int    // records kept
	trimAt   int    // trimLocked's next pass: when order passes it
	maxBytes int64  // detached results kept

	flushMu sync.Mutex // one flush at a time, so files are written in order
	// flushNow asks run for a flush at once (buffered 1: requests that
	// arrive during a flush share the next one).
	flushNow chan struct{}
	stores   atomic.Int64 // writes of tasks.bin, for tests
	started  int64        // when the hub started, unix nanoseconds: names journal files

	mu      sync.Mutex
	byID    map[uint64]*record
	order   []uint64 // ids, oldest first
	segs    []segment
	bytes   int64
	dirty   bool
	fresh   []wire.Result // detached results not yet written
	freshAt map[uint64]bool
	mem     map[string][]wire.Result // segments in memory (dir == "")
	// unsettled: detached tasks whose results are written but not yet
	// the records saying so (a failed write of tasks.bin); the next
	// flush that writes them settles these too.
	unsettled []uint64
	j         journal // detached load-balanced tasks pending (journal.go)
	// flushWait is closed when the next flush to start has finished; nil
	// until someone waits (flushed).
	flushWait chan struct{}
}

type record struct {
	wire.TaskRecord
	watchers []string // clients waiting for its detached result
}

type segment struct {
	name  string
	bytes int64
	ids   []uint64
}

func newRecords(dir string, max int, maxBytes int64, log *slog.Logger) *records {
	if max <= 0 {
		max = DefaultTaskRecords
	}
	if maxBytes <= 0 {
		maxBytes = DefaultResultsMaxBytes
	}
	return &records{log: log, dir: dir, max: max, maxBytes: maxBytes, byID: make(map[uint64]*record),
		freshAt: make(map[uint64]bool), mem: make(map[string][]wire.Result), j: newJournal(0, 0),
		started: time.Now().UnixNano(), flushNow: make(chan struct{}, 1)}
}

// boundDetached sets the bounds of pending detached tasks: per client and
// in bytes (0 = the defaults). Call it before load.
func (r *records) boundDetached(perClient int, bytes int64) {
	if perClient > 0 {
		r.j.maxPending = perClient
	}
	if bytes > 0 {
		r.j.maxBytes = bytes
	}
}

// load reads the records and segments kept on disk, and returns the
// detached load-balanced tasks that have not finished, to queue again.
func (r *records) load() ([]wire.Batch, error) {
	if r.dir == "" {
		return nil, nil
	}
	for _, d := range []string{r.dir, filepath.Join(r.dir, "results"), filepath.Join(r.dir, "detached")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("task records: %w", err)
		}
	}
	data, err := os.ReadFile(filepath.Join(r.dir, "tasks.bin"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("task records: %w", err)
	default:
		var st wire.RecordStore
		if err := wire.UnmarshalMsg(data, &st); err != nil {
			r.log.Warn("ignore damaged task records", "file", filepath.Join(r.dir, "tasks.bin"), "err", err)
			break
		}
		for _, tr := range st.Records {
			if tr.Segment != "" && len(tr.Segments) == 0 {
				tr.Segments = []string{tr.Segment} // written before Segments
			}
			tr.Segment = ""
			r.byID[tr.ID] = &record{TaskRecord: tr}
			r.order = append(r.order, tr.ID)
		}
	}
	r.loadSegments()
	return r.loadJournal(), nil
}

// loadSegments lists the result segments, oldest first, and forgets
// results whose segment is gone.
func (r *records) loadSegments() {
	ents, _ := os.ReadDir(filepath.Join(r.dir, "results"))
	have := make(map[string]int)
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".res")
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		have[name] = len(r.segs)
		r.segs = append(r.segs, segment{name: name, bytes: info.Size()})
		r.bytes += info.Size()
	}
	for _, id := range r.order {
		rec := r.byID[id]
		if !rec.Result {
			continue
		}
		gone := false
		for _, name := range rec.Segments {
			_, ok := have[name]
			gone = gone || !ok
		}
		if gone || len(rec.Segments) == 0 {
			// A task's results are whole or gone (one per engine of a
			// direct task on several engines, maybe in several files).
			rec.Result, rec.Segments, rec.Note = false, nil, "the result's file under state/results is gone"
			continue
		}
		for _, name := range rec.Segments {
			r.segs[have[name]].ids = append(r.segs[have[name]].ids, id)
		}
	}
	slices.SortFunc(r.segs, func(a, b segment) int { return strings.Compare(a.name, b.name) })
}

// getLocked returns the record of id, making it; r.mu is held.
func (r *records) getLocked(id uint64) *record {
	rec := r.byID[id]
	if rec == nil {
		rec = &record{TaskRecord: wire.TaskRecord{ID: id, Engine: -1}}
		r.byID[id] = rec
		r.order = append(r.order, id)
		r.trimLocked()
	}
	r.dirty = true
	return rec
}

// trimLocked forgets the oldest records past the bound, keeping those of
// pending detached tasks, whose results are still to come: every one the
// journal keeps (journal.go bounds them), and up to r.max others (direct
// detached tasks, which only their client reports). So a detached map
// larger than the bound keeps every record, and no client can crowd the
// others' records out by reporting detached tasks that never end. It
// trims in one pass once the records pass the last pass's count by an
// eighth of the bound, so each record costs O(1) on average.
func (r *records) trimLocked() {
	if len(r.order) <= r.max || len(r.order) <= r.trimAt {
		return
	}
	drop := len(r.order) - r.max
	others := 0
	kept := r.order[:0]
	last := len(r.order) - 1 // the record just made, kept
	for i, id := range r.order {
		rec := r.byID[id]
		_, journaled := r.j.senderOf[id]
		if i == last || journaled || (rec != nil && rec.Detached && rec.Pending() && others < r.max) {
			if !journaled && rec != nil && rec.Detached && rec.Pending() {
				others++
			}
			kept = append(kept, id)
			continue
		}
		if drop > 0 || rec == nil {
			drop--
			delete(r.byID, id)
			continue
		}
		kept = append(kept, id)
	}
	clear(r.order[len(kept):])
	r.order = kept
	r.trimAt = len(r.order) + r.max/8
}

// pendingOf returns how many unfinished tasks client has on record.
func (r *records) pendingOf(client string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, rec := range r.byID {
		if rec.Client == client && rec.Pending() && !rec.Detached {
			n++
		}
	}
	return n
}

// onRecords applies a client's task events. Events for a task of another
// client are ignored. It returns the detached tasks whose results came
// before their owner was known, to forward to it now.
func (r *records) onRecords(rs wire.Records) (late []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range rs.Events {
		rec := r.byID[ev.Task]
		if rec != nil && rec.Client != "" && rec.Client != rs.Client {
			continue
		}
		rec = r.getLocked(ev.Task)
		if rec.Client == "" && rec.Result {
			late = append(late, ev.Task)
		}
		rec.Client = rs.Client
		if ev.Status == 0 {
			rec.Submitted = ev.Time
			rec.Label, rec.Detached = ev.Label, rec.Detached || ev.Detached
			if len(ev.Engines) > 0 {
				rec.Engines = ev.Engines
				if len(rec.Engines) > 1 && len(rec.Done) < len(rec.Engines) {
					// Results of some of its engines came before this
					// report (another subscription) and took the task
					// for done: it is pending until the others are in.
					rec.Status, rec.Completed = 0, 0
				}
			}
			if ev.Engine >= 0 {
				rec.Engine = ev.Engine
			}
			continue
		}
		if rec.Detached && rec.Result {
			continue // the hub's own copy of the outcome
		}
		r.outcomeLocked(rec, ev.Engine, ev.Status, ev.Started, ev.Time)
	}
	return late
}

// outcomeLocked records one engine's outcome; the task is done when
// every engine of a direct task has answered.
func (r *records) outcomeLocked(rec *record, engine int, st wire.Status, started, finished int64) {
	if engine >= 0 && !slices.Contains(rec.Done, engine) {
		rec.Done = append(rec.Done, engine)
	}
	if engine >= 0 {
		rec.Engine = engine
	}
	if rec.Started == 0 || (started != 0 && started < rec.Started) {
		rec.Started = started
	}
	if st != wire.StatusOK && rec.Failed == 0 {
		rec.Failed = st
	}
	if len(rec.Engines) > 1 && len(rec.Done) < len(rec.Engines) {
		return
	}
	if rec.Failed != 0 {
		st = rec.Failed
	}
	if rec.Status == 0 || rec.Status == wire.StatusOK {
		rec.Status = st
	}
	rec.Completed = finished
}

// onResults records detached results that daemon sent (checked by the
// caller) and returns, per client to forward them to, the results.
func (r *records) onResults(rs []wire.Result) map[string][]wire.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]wire.Result)
	for _, res := range rs {
		rec := r.getLocked(res.Task)
		rec.Detached = true
		if slices.Contains(rec.Done, res.Engine) {
			continue // a second answer (a task run again after a restart)
		}
		if res.Engine < 0 && !rec.Pending() {
			continue // the scheduler's failure of a task whose engine answered first (aborted as its engine was lost)
		}
		r.outcomeLocked(rec, res.Engine, res.Status, res.Started, res.Finished)
		if rec.Note == "" { // else its other engines' results were evicted: it is gone as a whole
			rec.Result = true
			r.fresh = append(r.fresh, res)
			r.freshAt[res.Task] = true
		}
		for _, c := range append([]string{rec.Client}, rec.watchers...) {
			if c != "" {
				out[c] = append(out[c], res)
			}
		}
		if !rec.Pending() {
			rec.watchers = nil // its task file goes once the result is on disk (flush)
		}
	}
	return out
}

// query returns the records of ids and the ids it does not know, or the
// limit most recent records when ids is empty.
func (r *records) query(ids []uint64, limit int, of string) ([]wire.TaskRecord, []uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []wire.TaskRecord
	var unknown []uint64
	if len(ids) == 0 {
		for i := len(r.order) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
			if rec := r.byID[r.order[i]]; of == "" || rec.Client == of {
				out = append(out, rec.TaskRecord)
			}
		}
		slices.Reverse(out)
		return out, nil
	}
	for _, id := range ids {
		if rec := r.byID[id]; rec != nil {
			out = append(out, rec.TaskRecord)
		} else {
			unknown = append(unknown, id)
		}
	}
	return out, unknown
}

// fetch returns the kept results of ids for client, and makes client a
// watcher of the detached ones still pending.
func (r *records) fetch(client string, ids []uint64) ([]wire.TaskRecord, []uint64, []wire.Result) {
	// A flush moves fresh results to a segment before writing its file:
	// wait for it, so no result is between memory and disk.
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	bySeg := make(map[string][]uint64)
	want := make(map[uint64]bool)
	var fresh []wire.Result
	for _, id := range ids {
		rec := r.byID[id]
		if rec == nil || !rec.Detached {
			continue
		}
		if rec.Pending() && client != "" && !slices.Contains(rec.watchers, client) && client != rec.Client {
			rec.watchers = append(rec.watchers, client)
		}
		if !rec.Result {
			continue
		}
		if want[id] {
			continue // asked twice (ar.task_ids repeats a direct task's id per engine)
		}
		want[id] = true
		if r.freshAt[id] {
			for _, res := range r.fresh {
				if res.Task == id {
					fresh = append(fresh, res)
				}
			}
		}
		for _, name := range rec.Segments {
			bySeg[name] = append(bySeg[name], id)
		}
	}
	mem := r.mem
	r.mu.Unlock()
	recs, unknown := r.query(ids, 0, "")
	out := fresh
	for seg := range bySeg {
		var rs []wire.Result
		if r.dir == "" {
			r.mu.Lock()
			rs = mem[seg]
			r.mu.Unlock()
		} else {
			var err error
			if rs, err = r.readSegment(seg); err != nil {
				r.log.Warn("read detached results", "segment", seg, "err", err)
				continue
			}
		}
		for _, res := range rs {
			if want[res.Task] {
				out = append(out, res)
			}
		}
	}
	return recs, unknown, out
}

func (r *records) readSegment(name string) ([]wire.Result, error) {
	data, err := os.ReadFile(filepath.Join(r.dir, "results", name+".res"))
	if err != nil {
		return nil, err
	}
	var rs wire.Results
	err = wire.UnmarshalMsg(data, &rs)
	return rs.Results, err
}

// run writes changes to disk every recordsFlushEvery, and at once when
// asked (flushed), until stop closes, and once more then.
func (r *records) run(stop <-chan struct{}) {
	t := time.NewTicker(recordsFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			r.flush(true)
			return
		case <-t.C:
			r.flush(false)
		case <-r.flushNow:
			r.flush(true)
		}
	}
}

// flushed asks run for a flush now and returns a channel closed once a
// flush that includes every change made before the call is on disk. The
// requests made while a flush is under way share the next one (a group
// commit): a hundred clients closing at once cost one or two writes of
// the records, not a hundred.
func (r *records) flushed() <-chan struct{} {
	r.mu.Lock()
	if r.flushWait == nil {
		r.flushWait = make(chan struct{})
	}
	ch := r.flushWait
	r.mu.Unlock()
	select {
	case r.flushNow <- struct{}{}:
	default:
	}
	return ch
}

// flush writes the new detached results as one segment, evicts the
// oldest segments past the bound, and rewrites the records if changed
// (at once when force is set).
func (r *records) flush(force bool) {
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	r.mu.Lock()
	if w := r.flushWait; w != nil {
		r.flushWait = nil
		defer close(w) // once this flush, which has what came before, is done
	}
	fresh := r.fresh
	r.fresh = nil
	clear(r.freshAt)
	var seg segment
	var data []byte
	if len(fresh) > 0 {
		seg.name = fmt.Sprintf("%020d", time.Now().UnixNano())
		var err error
		if data, err = wire.MarshalMsg(&wire.Results{Results: fresh}); err != nil {
			r.log.Error("encode detached results", "err", err)
			data = nil
		}
		seg.bytes = int64(len(data))
		for _, res := range fresh {
			if rec := r.byID[res.Task]; rec != nil && rec.Result && !slices.Contains(rec.Segments, seg.name) {
				rec.Segments = append(rec.Segments, seg.name)
				seg.ids = append(seg.ids, res.Task)
			}
		}
		r.segs = append(r.segs, seg)
		r.bytes += seg.bytes
		if r.dir == "" {
			r.mem[seg.name] = fresh
		}
		r.dirty = true
	}
	evicted := r.evictLocked()
	var store []byte
	if r.dirty && r.dir != "" {
		st := wire.RecordStore{Records: make([]wire.TaskRecord, 0, len(r.order))}
		for _, id := range r.order {
			st.Records = append(st.Records, r.byID[id].TaskRecord)
		}
		var err error
		if store, err = wire.MarshalMsg(&st); err != nil {
			r.log.Error("encode task records", "err", err)
		}
		r.dirty = false
	}
	done := append(r.unsettled, make([]uint64, len(fresh))...)
	r.unsettled = nil
	r.mu.Unlock()
	for i, res := range fresh {
		done[len(done)-len(fresh)+i] = res.Task
	}
	if r.dir == "" {
		r.mu.Lock()
		r.settleLocked(done)
		r.mu.Unlock()
		return
	}
	if data != nil {
		if err := conf.WriteFileAtomic(filepath.Join(r.dir, "results", seg.name+".res"), data); err != nil {
			r.log.Error("keep detached results on disk", "err", err)
		}
	}
	for _, s := range evicted {
		os.Remove(filepath.Join(r.dir, "results", s.name+".res"))
	}
	if store != nil {
		r.stores.Add(1)
		if err := conf.WriteFileAtomic(filepath.Join(r.dir, "tasks.bin"), store); err != nil {
			r.log.Error("keep task records on disk", "err", err)
			// Kept for the next flush, which writes the records again:
			// until then the tasks stay in the journal (a restart would
			// run them again), not forgotten there for the hub's life.
			r.mu.Lock()
			r.unsettled = append(r.unsettled, done...)
			r.dirty = true
			r.mu.Unlock()
			return
		}
	}
	r.settle(done) // their results are on disk: no need to run them again
}

// evictLocked drops the oldest segments while the results pass the
// bound, noting on each record why its result is gone; r.mu is held.
func (r *records) evictLocked() []segment {
	var out []segment
	for len(r.segs) > 1 && r.bytes > r.maxBytes {
		s := r.segs[0]
		r.segs = r.segs[1:]
		r.bytes -= s.bytes
		delete(r.mem, s.name)
		for _, id := range s.ids {
			// A task's results are whole or gone: one engine's evicted
			// takes the others' of the same task with it.
			if rec := r.byID[id]; rec != nil && slices.Contains(rec.Segments, s.name) {
				rec.Result, rec.Segments = false, nil
				rec.Note = fmt.Sprintf("the result of detached task %d was evicted: the hub keeps [hub] results_max_bytes = %d bytes of detached results and newer ones pushed it out; raise it in pirun.toml", id, r.maxBytes)
			}
		}
		r.log.Warn("detached results evicted past [hub] results_max_bytes", "tasks", len(s.ids), "bytes", s.bytes, "max", r.maxBytes)
		r.dirty = true
		out = append(out, s)
	}
	return out
}
