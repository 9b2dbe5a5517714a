// This file defines the journal of detached load-balanced tasks (SPEC
// §15): the hub keeps each one on disk from the moment it accepts it
// until its result is on disk, so that a hub restart runs it again, and
// bounds them per client and in bytes so that no client can fill the
// hub's memory or disk with them.
//
// Tasks are written by group commit: what every client submitted while
// the previous write was under way goes into one file,
// state/detached/SEQ.batch (a wire.TaskStore), with one fsync of the file
// and one of its folder, however many tasks it holds. A client that asks
// (wire.HeaderSync on its submit subject, after its batch) is answered
// once the file holding its tasks is on disk, or with the reason they
// were refused. A file is removed once every task in it has its result on
// disk (records.flush).

package hub

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// Defaults of the bounds of pending detached tasks, when Config leaves
// them 0.
const (
	DefaultDetachedMaxPending = 100000
	DefaultDetachedMaxBytes   = 1 << 30
)

// taskOverhead is what a task costs beyond its payload and code, in the
// bytes bound: its record, ids and encoding.
const taskOverhead = 256

// journal is the state of the detached tasks the hub keeps; records.mu
// guards it.
type journal struct {
	maxPending int   // per client
	maxBytes   int64 // in all

	kick chan struct{} // a commit is wanted (buffered 1)

	queued  wire.TaskStore // accepted, not yet written
	bundles map[*byte]int  // queued.Bundles by identity: 1 + index
	next    *commit        // the commit the queued tasks go in
	seq     int            // commits made

	files    map[string]*journalFile
	fileOf   map[uint64]*journalFile
	senderOf map[uint64]string // pending detached tasks: their submitter
	costOf   map[uint64]int64  // and their share of the bytes bound
	bySender map[string]int    // pending detached tasks per submitter
	bytes    int64             // the costs of all pending ones

	// syncs: per submitter, what its submissions' syncs will be told,
	// oldest first, by submission (the id of its first detached task,
	// which the client's sync names): the commit of its accepted tasks,
	// or why they were refused. At most maxSyncs per submitter (a client
	// that never asks, as when it submits again after a reconnection,
	// does not grow it without bound).
	syncs map[string][]syncEntry
}

// syncEntry is what the sync of one submission is answered.
type syncEntry struct {
	token uint64 // the submission's first detached task id
	c     *commit
	why   string
}

// maxSyncs bounds the unasked sync answers kept per client.
const maxSyncs = 1024

// noteSync keeps what the sync of submission token from sender is told.
func (j *journal) noteSync(sender string, token uint64, c *commit, why string) {
	l := j.syncs[sender]
	if len(l) >= maxSyncs {
		l = slices.Delete(l, 0, len(l)-maxSyncs+1)
	}
	j.syncs[sender] = append(l, syncEntry{token: token, c: c, why: why})
}

// journalFile is a file under state/detached: how many tasks it holds,
// and how many of them still wait for their result.
type journalFile struct {
	name           string
	total, pending int
}

// commit is one group commit; done closes when it is on disk (or failed,
// err says why).
type commit struct {
	done chan struct{}
	err  error
}

func newCommit() *commit { return &commit{done: make(chan struct{})} }

// doneCommit is a commit with nothing to wait for.
var doneCommit = func() *commit { c := newCommit(); close(c.done); return c }()

func newJournal(maxPending int, maxBytes int64) journal {
	if maxPending <= 0 {
		maxPending = DefaultDetachedMaxPending
	}
	if maxBytes <= 0 {
		maxBytes = DefaultDetachedMaxBytes
	}
	return journal{maxPending: maxPending, maxBytes: maxBytes, kick: make(chan struct{}, 1), next: newCommit(),
		bundles: make(map[*byte]int), files: make(map[string]*journalFile), fileOf: make(map[uint64]*journalFile),
		senderOf: make(map[uint64]string), costOf: make(map[uint64]int64), bySender: make(map[string]int),
		syncs: make(map[string][]syncEntry)}
}

// admit takes the detached tasks of b, which client sender submitted, into
// the journal, and returns b without them when they pass a bound: a
// submission's new detached tasks are accepted all or none, and the
// reason of a refusal waits for the sync of that submission (named by its
// first detached task's id). Tasks already
// kept (a client submitting again after a hub restart) pass through.
// Detached tasks that already finished (their record says so: a client
// submitting again after a hub restart or a slow-consumer drop) and
// second copies of an id in one batch are dropped: neither runs twice,
// and copies cannot use up the bounds (each would count, one settle).
func (r *records) admit(sender string, b wire.Batch) wire.Batch {
	var fresh []int // indexes of the new detached tasks
	var cost int64
	var bundles []int
	r.mu.Lock()
	defer r.mu.Unlock()
	j := &r.j
	var seen map[uint64]bool
	skip := make(map[int]bool)
	var token uint64 // the submission's first detached task id
	for i, t := range b.Tasks {
		if t.Client != wire.DetachedClient {
			continue
		}
		if seen == nil {
			token = t.ID
		}
		if seen[t.ID] {
			skip[i] = true // a copy in the same batch
			continue
		}
		if seen == nil {
			seen = make(map[uint64]bool)
		}
		seen[t.ID] = true
		if rec := r.byID[t.ID]; rec != nil && !rec.Pending() {
			skip[i] = true // finished: its result is kept, the client fetches it
			continue
		}
		if _, ok := j.senderOf[t.ID]; ok {
			continue
		}
		fresh = append(fresh, i)
		cost += taskCost(t)
		if t.Bundle > 0 && t.Bundle <= len(b.Bundles) && !slices.Contains(bundles, t.Bundle) {
			bundles = append(bundles, t.Bundle)
			cost += int64(len(b.Bundles[t.Bundle-1]))
		}
	}
	if len(fresh) == 0 {
		b.Tasks = without(b.Tasks, skip)
		return b
	}
	if why := j.refusal(sender, len(fresh), cost); why != "" {
		j.noteSync(sender, token, doneCommit, why)
		r.log.Warn("refuse detached tasks past a bound", "client", sender, "tasks", len(fresh), "reason", why)
		for _, i := range fresh {
			skip[i] = true
		}
		b.Tasks = without(b.Tasks, skip)
		return b
	}
	for n, i := range fresh {
		t := b.Tasks[i]
		c := taskCost(t)
		if n == 0 {
			c = cost - sumCosts(b.Tasks, fresh[1:]) // the bundles are charged to the first
		}
		j.senderOf[t.ID], j.costOf[t.ID] = sender, c
		if r.dir != "" {
			j.queue(t, b.Bundles, sender)
		}
	}
	b.Tasks = without(b.Tasks, skip) // after fresh's indexes are used
	j.bySender[sender] += len(fresh)
	j.bytes += cost
	if r.dir != "" {
		j.noteSync(sender, token, j.next, "")
		select {
		case j.kick <- struct{}{}:
		default:
		}
	}
	return b
}

// without returns tasks without those at the indexes in drop, in a new
// slice (tasks is the caller's), or tasks itself when drop is empty.
func without(tasks []wire.Task, drop map[int]bool) []wire.Task {
	if len(drop) == 0 {
		return tasks
	}
	kept := make([]wire.Task, 0, max(len(tasks)-len(drop), 0))
	for i, t := range tasks {
		if !drop[i] {
			kept = append(kept, t)
		}
	}
	return kept
}

// refusal says why n more detached tasks of cost bytes from sender pass a
// bound, or "".
func (j *journal) refusal(sender string, n int, cost int64) string {
	if have := j.bySender[sender]; have+n > j.maxPending {
		return fmt.Sprintf("the hub refused %d detached tasks: this client already has %d detached tasks pending and the hub takes at most [hub] detached_max_pending = %d per client; "+
			"wait for some to finish (c.result_status(ids), pirun status --tasks) or submit fewer, or raise detached_max_pending in the hub's pirun.toml", n, have, j.maxPending)
	}
	if j.bytes+cost > j.maxBytes {
		return fmt.Sprintf("the hub refused %d detached tasks of %d bytes: it keeps %d bytes of pending detached tasks and at most [hub] detached_max_bytes = %d; "+
			"wait for some to finish, submit smaller arguments (push large data to the engines first), or raise detached_max_bytes in the hub's pirun.toml", n, cost, j.bytes, j.maxBytes)
	}
	return ""
}

// taskCost is what task t counts for in the bytes bound, its bundle aside.
func taskCost(t wire.Task) int64 {
	return int64(len(t.Payload)+len(t.Code)+len(t.Label)+len(t.File)) + taskOverhead
}

func sumCosts(tasks []wire.Task, idx []int) int64 {
	var n int64
	for _, i := range idx {
		n += taskCost(tasks[i])
	}
	return n
}

// queue adds t, with its bundle, to the tasks the next commit writes.
func (j *journal) queue(t wire.Task, bundles [][]byte, sender string) {
	if t.Bundle > 0 && t.Bundle <= len(bundles) {
		bundle := bundles[t.Bundle-1]
		var k *byte // nil for an empty bundle: nothing to share
		if len(bundle) > 0 {
			k = &bundle[0]
		}
		idx := j.bundles[k]
		if idx == 0 || k == nil {
			j.queued.Bundles = append(j.queued.Bundles, bundle)
			idx = len(j.queued.Bundles)
			if k != nil {
				j.bundles[k] = idx
			}
		}
		t.Bundle = idx
	} else {
		t.Bundle = 0
	}
	j.queued.Tasks = append(j.queued.Tasks, t)
	j.queued.Senders = append(j.queued.Senders, sender)
}

// syncOf returns what the sync of sender's submission token waits for,
// the commit of its accepted tasks, and why they were refused ("" if they
// were not). A submission with nothing new to keep has nothing to wait
// for.
func (r *records) syncOf(sender string, token uint64) (*commit, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.j.syncs[sender]
	for i, e := range l {
		if e.token == token {
			if l = slices.Delete(l, i, i+1); len(l) == 0 {
				delete(r.j.syncs, sender)
			} else {
				r.j.syncs[sender] = l
			}
			return e.c, e.why
		}
	}
	return doneCommit, ""
}

// commits writes the queued detached tasks whenever some are queued,
// until stop closes, and once more then.
func (r *records) commits(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			r.commitOnce()
			return
		case <-r.j.kick:
			r.commitOnce()
		}
	}
}

// commitOnce writes the queued tasks still pending as one file, synced
// with its folder, and then releases the clients waiting for them.
func (r *records) commitOnce() {
	r.mu.Lock()
	j := &r.j
	st, c := j.queued, j.next
	j.queued, j.next = wire.TaskStore{}, newCommit()
	clear(j.bundles)
	if len(st.Tasks) == 0 {
		r.mu.Unlock()
		close(c.done)
		return
	}
	j.seq++
	f := &journalFile{name: fmt.Sprintf("%020d-%06d.batch", r.started, j.seq)}
	kept := st.Tasks[:0]
	senders := st.Senders[:0]
	for i, t := range st.Tasks {
		if _, ok := j.senderOf[t.ID]; !ok {
			continue // its result is on disk already
		}
		kept = append(kept, t)
		senders = append(senders, st.Senders[i])
		j.fileOf[t.ID] = f
		f.pending++
	}
	f.total = f.pending
	st.Tasks, st.Senders = kept, senders
	if f.pending > 0 {
		j.files[f.name] = f
	}
	r.mu.Unlock()
	if f.pending > 0 {
		c.err = writeSynced(filepath.Join(r.dir, "detached"), f.name, &st)
		if c.err != nil {
			r.log.Error("keep detached tasks on disk: they run, but a hub restart would lose them", "tasks", len(st.Tasks), "err", c.err)
		}
	}
	close(c.done)
}

// writeSynced writes msg as file name in dir through a temporary file,
// syncing the file before its rename and the folder after it.
func writeSynced(dir, name string, msg any) error {
	data, err := wire.MarshalMsg(msg)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if err = f.Chmod(0o600); err == nil {
		if _, err = f.Write(data); err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// settleLocked forgets detached tasks ids whose results are on disk. It
// returns the journal files left with no pending task, to remove, and
// those where at most half the tasks still wait, to rewrite with those
// only (compact): a restart must not run again tasks whose records are
// gone, and the rewrites of a file cost at most twice its size. r.mu is
// held.
func (r *records) settleLocked(ids []uint64) (gone []string, compact []*journalFile) {
	j := &r.j
	for _, id := range ids {
		sender, ok := j.senderOf[id]
		if !ok {
			continue
		}
		delete(j.senderOf, id)
		if j.bySender[sender]--; j.bySender[sender] <= 0 {
			delete(j.bySender, sender)
		}
		j.bytes -= j.costOf[id]
		delete(j.costOf, id)
		if f := j.fileOf[id]; f != nil {
			delete(j.fileOf, id)
			if f.pending--; f.pending == 0 {
				delete(j.files, f.name)
				gone = append(gone, f.name)
			}
		}
	}
	for _, f := range j.files {
		if f.pending*2 <= f.total {
			compact = append(compact, f)
		}
	}
	return gone, compact
}

// settle forgets detached tasks ids, whose results are now on disk, and
// removes or compacts their files.
func (r *records) settle(ids []uint64) {
	if len(ids) == 0 {
		return
	}
	r.mu.Lock()
	gone, compact := r.settleLocked(ids)
	r.mu.Unlock()
	for _, name := range gone {
		os.Remove(filepath.Join(r.dir, "detached", name))
	}
	r.compact(compact)
}

// compact rewrites files f with their pending tasks only; flush calls it,
// so no settle runs meanwhile.
func (r *records) compact(files []*journalFile) {
	dir := filepath.Join(r.dir, "detached")
	for _, f := range files {
		st, err := readJournalFile(filepath.Join(dir, f.name))
		if err != nil {
			r.log.Warn("compact a file of detached tasks", "file", f.name, "err", err)
			continue
		}
		var out wire.TaskStore
		r.mu.Lock()
		for i, t := range st.Tasks {
			if r.j.fileOf[t.ID] == f {
				out.Tasks = append(out.Tasks, t)
				if i < len(st.Senders) {
					out.Senders = append(out.Senders, st.Senders[i])
				}
			}
		}
		f.total = len(out.Tasks)
		r.mu.Unlock()
		out.Bundles = st.Bundles
		if len(out.Senders) != len(out.Tasks) {
			out.Senders = nil
		}
		if err := writeSynced(dir, f.name, &out); err != nil {
			r.log.Warn("compact a file of detached tasks", "file", f.name, "err", err)
		}
	}
}

// loadJournal reads the detached tasks kept on disk and returns those
// whose result is not in, one batch per file, to queue again, making the
// records that were not written yet. A file whose tasks all finished is
// removed. r.mu need not be held: load runs before the hub subscribes
// (Hub.loadRecords).
func (r *records) loadJournal() []wire.Batch {
	dir := filepath.Join(r.dir, "detached")
	ents, _ := os.ReadDir(dir)
	var out []wire.Batch
	j := &r.j
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			os.Remove(filepath.Join(dir, name)) // a write the hub did not finish
			continue
		}
		st, err := readJournalFile(filepath.Join(dir, name))
		if err != nil {
			r.log.Warn("drop a damaged file of detached tasks", "file", name, "err", err)
			os.Remove(filepath.Join(dir, name))
			continue
		}
		f := &journalFile{name: name, total: len(st.Tasks)}
		b := wire.Batch{Bundles: st.Bundles}
		for i, t := range st.Tasks {
			rec := r.byID[t.ID]
			if _, dup := j.senderOf[t.ID]; (rec != nil && !rec.Pending()) || dup {
				continue
			}
			sender := ""
			if i < len(st.Senders) {
				sender = st.Senders[i]
			}
			j.senderOf[t.ID], j.costOf[t.ID], j.fileOf[t.ID] = sender, taskCost(t), f
			j.bySender[sender]++
			if rec == nil {
				// Acknowledged, and its record not yet written when the
				// hub stopped: known again, pending.
				rec = r.getLocked(t.ID)
				rec.Client, rec.Detached, rec.Label = sender, true, t.Label
			}
			j.bytes += taskCost(t)
			f.pending++
			b.Tasks = append(b.Tasks, t)
		}
		if f.pending == 0 {
			os.Remove(filepath.Join(dir, name))
			continue
		}
		j.files[name] = f
		for _, bb := range st.Bundles {
			j.bytes += int64(len(bb)) // charged to the file's first task
			j.costOf[b.Tasks[0].ID] += int64(len(bb))
		}
		out = append(out, b)
	}
	return out
}

// readJournalFile reads a file of state/detached: a group commit
// (SEQ.batch), or one task as hubs before group commits wrote them
// (ID.task).
func readJournalFile(path string) (wire.TaskStore, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return wire.TaskStore{}, err
	}
	var st wire.TaskStore
	switch {
	case strings.HasSuffix(path, ".batch"):
		err = wire.UnmarshalMsg(data, &st)
	case strings.HasSuffix(path, ".task"):
		var b wire.Batch
		if err = wire.UnmarshalMsg(data, &b); err == nil && len(b.Tasks) != 1 {
			err = errors.New("want one task")
		}
		st.Bundles, st.Tasks = b.Bundles, b.Tasks
		if _, perr := strconv.ParseUint(strings.TrimSuffix(filepath.Base(path), ".task"), 10, 64); perr != nil && err == nil {
			err = perr
		}
	default:
		err = errors.New("not a file of detached tasks")
	}
	return st, err
}
