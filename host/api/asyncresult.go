// This file defines AsyncResult, the handle of every non-blocking call: it
// completes once per task, decodes values on demand (large ones of
// several tasks in parallel), and combines them as the call that made it
// promised.

package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// combine says how per-task values make the AsyncResult's value.
type combine uint8

const (
	combineSingle  combine = iota // the one task's value (c[i].apply)
	combineList                   // a list with one value per task (dview.apply)
	combineFlatten                // the concatenation of the tasks' lists (map, gather)
	combineNone                   // None (push, execute, scatter)
)

// AsyncResult is the result of tasks sent to engines. Its methods are safe
// for concurrent use; it is a Starlark value:
//
//	ar.get(timeout=None, return_exceptions=False)  # the value; fails with the first task error
//	ar.wait(timeout=None)       # bool: whether every task finished
//	ar.ready()                  # bool
//	ar.successful()             # bool: finished without errors (fails if not ready)
//	ar.progress                 # int: tasks finished
//	len(ar)                     # int: the values iteration yields (a map's items, else tasks)
//	for x in ar: ...            # a map's items, else each task's value, in order (completion
//	                            # order if ordered=False); a failed slot yields its error value
//	ar.elapsed                  # float: seconds since submission (until finished)
//	ar.stdout                   # list of each task's captured print output (a string for a single engine)
//	ar.engine_ids, ar.task_ids  # lists (an int for a single engine)
//	ar.errors()                 # list: each task's error value, or None
//	ar.wait_interactive()       # waits with a progress bar on stderr
//	ar.abort()                  # aborts queued and running tasks (TaskAborted)
type AsyncResult struct {
	c       *client.Client
	label   string
	mode    combine
	each    func(starlark.Value) (starlark.Value, error) // per-task transform, or nil
	unwrap  bool                                         // each is first: a task's value is [list] (gather)
	counts  []int                                        // items per task of a map (nil: one)
	ids     []uint64
	lb      bool
	single  bool  // from c[i]: per-task values are scalars
	targets []int // direct tasks: the engine of each slot, when one task per slot
	// retry, when set (a load-balanced view with retries), is asked about
	// each failed result under mu; true means it sent the task again, and
	// the slot waits for that attempt's result.
	retry   func(slot int, r wire.Result) bool
	daemons map[string][]int // direct tasks: daemon → engines, for abort
	ordered bool
	sent    time.Time
	// detached: submitted detached=True (history.go); hub: made by
	// get_result, an AsyncHubResult.
	detached, hub bool

	mu       sync.Mutex
	results  []wire.Result
	got      []bool
	order    []int // slots in completion order
	n        int
	finished chan struct{}
	changed  chan struct{} // closed and replaced at each completion
	ended    time.Time
	values   []starlark.Value // decoded, per slot (nil until decoded)
	children []splitChild     // AsyncResults split made of unfinished slots
}

func newAsyncResult(c *client.Client, label string, mode combine, slots int) *AsyncResult {
	ar := &AsyncResult{c: c, label: label, mode: mode, ordered: true, sent: time.Now(),
		results: make([]wire.Result, slots), got: make([]bool, slots), n: slots,
		finished: make(chan struct{}), changed: make(chan struct{}), values: make([]starlark.Value, slots), ids: make([]uint64, slots)}
	if slots == 0 {
		ar.ended = ar.sent
		close(ar.finished)
	}
	return ar
}

// Complete records the result of one slot; later results for it are dropped.
func (ar *AsyncResult) Complete(slot int, r wire.Result) {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	if ar.got[slot] {
		return
	}
	if ar.retry != nil && r.Status != wire.StatusOK && ar.retry(slot, r) {
		return
	}
	ar.got[slot] = true
	ar.results[slot] = r
	for _, ch := range ar.children {
		if ch.slot == slot {
			ch.ar.Complete(0, r)
		}
	}
	ar.order = append(ar.order, slot)
	close(ar.changed)
	ar.changed = make(chan struct{})
	if len(ar.order) == ar.n {
		ar.ended = time.Now()
		close(ar.finished)
	}
}

// Results returns a copy of the task results by slot (zero for a slot
// not finished).
func (ar *AsyncResult) Results() []wire.Result {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return slices.Clone(ar.results)
}

// Progress returns what of ar finished and its total, counted as len(ar).
func (ar *AsyncResult) Progress() (done, total int) { return ar.progress(), ar.Len() }

// Label names the call that made ar, for errors.
func (ar *AsyncResult) Label() string { return ar.label }

// Wait blocks until every task finished, ctx is done or timeout (when
// positive) passes; it reports whether every task finished.
func (ar *AsyncResult) Wait(ctx context.Context, timeout time.Duration) (bool, error) {
	if ar.Ready() {
		return true, nil
	}
	var tc <-chan time.Time
	if timeout >= 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-ar.finished:
		return true, nil
	case <-tc:
		return false, nil
	case <-ctx.Done():
		return false, context.Cause(ctx)
	}
}

// Ready reports whether every task finished.
func (ar *AsyncResult) Ready() bool {
	select {
	case <-ar.finished:
		return true
	default:
		return false
	}
}

// Result waits and returns the combined value. With returnErrors, failed
// tasks put their error value in their slot instead of failing.
func (ar *AsyncResult) Result(ctx context.Context, timeout time.Duration, returnErrors bool) (starlark.Value, error) {
	ok, err := ar.Wait(ctx, timeout)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("TimeoutError: %s: %d of %d %s finished within %v; they keep running (ar.abort() stops them)",
			ar.label, ar.progress(), ar.Len(), ar.unit(), timeout)
	}
	if v, ok := ar.flatten(); ok {
		return v, nil
	}
	ar.predecode()
	vals := make([]starlark.Value, ar.n)
	var first error
	failed := 0
	for i := range ar.n {
		v, err := ar.Value(i)
		if err != nil {
			failed++
			if first == nil {
				first = err
			}
			if !returnErrors {
				continue
			}
			te, ok := err.(*TaskError)
			if !ok {
				return nil, err
			}
			if v == nil {
				v = ar.expand(te, i)
			}
		}
		vals[i] = v
	}
	if first != nil && returnErrors && ar.mode == combineNone {
		// execute, push, scatter: None per task, and each error in its slot
		if ar.single {
			return vals[0], nil
		}
		for i, v := range vals {
			if v == nil {
				vals[i] = starlark.None
			}
		}
		return starlark.NewList(vals), nil
	}
	if first != nil && !returnErrors {
		if failed > 1 {
			return nil, fmt.Errorf("%w\n(%d of %d tasks failed; the AsyncResult's errors() lists each: use the _async form of the call to get one)", first, failed, ar.n)
		}
		return nil, first
	}
	return ar.combine(vals)
}

// value decodes slot i's value once. For a failed task it returns nil and
// the task's error, except for a map task whose items failed one by one:
// then the list holds each failed item's error value, and the error is
// the first of them. It decodes without holding ar.mu, so that slots can
// be decoded in parallel (predecode).
func (ar *AsyncResult) Value(i int) (starlark.Value, error) {
	ar.mu.Lock()
	r, v, each := ar.results[i], ar.values[i], ar.each
	ar.mu.Unlock()
	off := ar.offset(i)
	if r.Status != wire.StatusOK && (len(r.Items) == 0 || r.Value == nil) {
		return nil, ar.slotError(r, i)
	}
	if v == nil {
		var err error
		if v, err = decodeResult(r, ar.label, each, off); err != nil {
			return nil, err
		}
		ar.mu.Lock()
		if ar.values[i] == nil { // else another goroutine decoded it first
			ar.values[i] = v
			if r.Status == wire.StatusOK {
				ar.results[i].Value = nil // decoded: let the message go
			}
		}
		v = ar.values[i]
		ar.mu.Unlock()
	}
	if r.Status != wire.StatusOK {
		return v, ar.slotError(r, i)
	}
	return v, nil
}

// offset returns the index, in the whole sequence of a map, of slot i's
// first item (0 when ar is not a map).
func (ar *AsyncResult) offset(i int) int {
	n := 0
	if ar.mode == combineFlatten {
		for _, c := range ar.counts[:min(i, len(ar.counts))] {
			n += c
		}
	}
	return n
}

// slotError returns the error of the failed slot i. A map task whose items
// failed one by one names its first failed item by its index in the whole
// sequence, as iteration and get(return_exceptions=True) place it.
func (ar *AsyncResult) slotError(r wire.Result, i int) *TaskError {
	if len(r.Items) == 0 {
		return NewTaskError(r, ar.label)
	}
	first := r.Items[0]
	te := NewTaskError(wire.Result{Task: r.Task, Engine: r.Engine, Host: r.Host, Err: &first.Err}, ar.label)
	total := len(r.Items)
	if ar.counts != nil && i < len(ar.counts) {
		total = ar.counts[i]
	}
	te.Message = fmt.Sprintf("%d of %d items of this task failed; the first (item %d of the sequence): %s",
		len(r.Items), total, ar.offset(i)+first.Index, first.Err.Message)
	return te
}

// decodeResult decodes r's value, with its item errors, through each.
// off is the index of the task's first item in the whole sequence of a
// map, for the item errors' messages.
func decodeResult(r wire.Result, label string, each func(starlark.Value) (starlark.Value, error), off int) (starlark.Value, error) {
	v, err := wire.UnmarshalKeeping(r.Value) // a received message's bytes
	if err != nil {
		return nil, fmt.Errorf("decode the result of task %d from engine %d: %w", r.Task, r.Engine, err)
	}
	if len(r.Items) > 0 {
		if v, err = withItemErrors(v, r, label, off); err != nil {
			return nil, err
		}
	}
	if each != nil {
		return each(v)
	}
	return v, nil
}

// parallelDecode is the size from which Get decodes the values of several
// slots in parallel.
const parallelDecode = 256 << 10

// predecode decodes the large values of ar's slots in parallel, up to
// one per CPU at a time, so that Get then finds them decoded. Failures
// are left for Get to report.
func (ar *AsyncResult) predecode() {
	var todo []int
	ar.mu.Lock()
	for i := range ar.n {
		if ar.values[i] == nil && len(ar.results[i].Value) >= parallelDecode {
			todo = append(todo, i)
		}
	}
	ar.mu.Unlock()
	if len(todo) < 2 {
		return
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for _, i := range todo {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ar.Value(i)
		})
	}
	wg.Wait()
}

// flatten is combine for combineFlatten when every task succeeded with a
// list (in a list of one when unwrap): it decodes the lists straight into
// the combined one, large ones in parallel. ok is false when it does not
// apply or a value does not decode so; Get then decodes as usual, and
// reports any error.
func (ar *AsyncResult) flatten() (v starlark.Value, ok bool) {
	data, ok := ar.flatData()
	if !ok {
		return nil, false
	}
	counts, total := make([]int, len(data)), 0
	for i, b := range data {
		d := wire.NewBytesDecoder(b)
		if ar.unwrap {
			if n, err := d.DecodeArrayHead(); err != nil || n != 1 {
				return nil, false
			}
		}
		n, err := d.DecodeArrayHead()
		if err != nil || n > len(b) { // every item takes a byte
			return nil, false
		}
		counts[i], total = n, total+n
	}
	out := make([]starlark.Value, total)
	failed := make([]bool, len(data))
	var wg sync.WaitGroup
	for i, at := 0, 0; i < len(data); at, i = at+counts[i], i+1 {
		seg := out[at : at : at+counts[i]]
		if len(data[i]) < parallelDecode {
			failed[i] = !ar.decodeInto(data[i], seg)
			continue
		}
		wg.Go(func() { failed[i] = !ar.decodeInto(data[i], seg) })
	}
	wg.Wait()
	if slices.Contains(failed, true) {
		return nil, false
	}
	return starlark.NewList(out), true
}

// flatData returns the encoded values of ar's slots if flatten applies.
func (ar *AsyncResult) flatData() ([][]byte, bool) {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	if ar.mode != combineFlatten || ar.each != nil && !ar.unwrap {
		return nil, false
	}
	data := make([][]byte, ar.n)
	for i, r := range ar.results {
		if r.Status != wire.StatusOK || len(r.Items) > 0 || ar.values[i] != nil {
			return nil, false
		}
		data[i] = r.Value
	}
	return data, true
}

// decodeInto decodes the list in b (inside a list of one when unwrap)
// into seg, which has exactly the room for its items, and reports whether
// it did so with nothing left over.
func (ar *AsyncResult) decodeInto(b []byte, seg []starlark.Value) bool {
	d := wire.NewBytesDecoder(b)
	if ar.unwrap {
		if _, err := d.DecodeArrayHead(); err != nil {
			return false
		}
	}
	got, err := d.DecodeAppend(seg)
	if err != nil || len(got) != cap(seg) || cap(got) != cap(seg) {
		return false
	}
	_, err = d.Decode()
	return err == io.EOF
}

// withItemErrors puts each failed item's error value into the list v;
// its message names the item by its index in the whole sequence (off is
// the index of v's first item there).
func withItemErrors(v starlark.Value, r wire.Result, label string, off int) (starlark.Value, error) {
	l, ok := v.(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("map task %d: engine sent %s with item errors, want a list", r.Task, v.Type())
	}
	for _, it := range r.Items {
		if it.Index < 0 || it.Index >= l.Len() {
			return nil, fmt.Errorf("map task %d: item error index %d out of range", r.Task, it.Index)
		}
		te := NewTaskError(wire.Result{Task: r.Task, Engine: r.Engine, Host: r.Host, Err: &it.Err}, label)
		te.Message = fmt.Sprintf("item %d: %s", off+it.Index, te.Message)
		l.SetIndex(it.Index, te)
	}
	return l, nil
}

// expand returns what a wholly failed slot i stands for: its error, or for
// a map task a list holding the error once per item, so that results
// still line up with the inputs.
func (ar *AsyncResult) expand(te *TaskError, i int) starlark.Value {
	if ar.mode != combineFlatten {
		return te
	}
	n := 1
	if ar.counts != nil {
		n = ar.counts[i]
	}
	out := make([]starlark.Value, n)
	for k := range out {
		out[k] = te
	}
	return starlark.NewList(out)
}

func (ar *AsyncResult) combine(vals []starlark.Value) (starlark.Value, error) {
	switch ar.mode {
	case combineSingle:
		if len(vals) == 0 {
			return starlark.None, nil
		}
		return vals[0], nil
	case combineList:
		return starlark.NewList(vals), nil
	case combineFlatten:
		if a, ok, err := gatherArrays(vals); ok {
			return a, err // ndarrays joined along axis 0 (view_arrays.go)
		}
		out := make([]starlark.Value, 0, flatLen(vals))
		for _, v := range vals {
			if te, ok := v.(*TaskError); ok {
				out = append(out, te)
				continue
			}
			out = appendItems(out, v)
		}
		return starlark.NewList(out), nil
	}
	return starlark.None, nil
}

// flatLen returns how many items combining vals gives, when known.
func flatLen(vals []starlark.Value) int {
	n := 0
	for _, v := range vals {
		switch v := v.(type) {
		case *starlark.List:
			n += v.Len()
		case starlark.Tuple:
			n += len(v)
		default:
			n++
		}
	}
	return n
}

// appendItems appends the elements of an iterable value, or v itself.
func appendItems(out []starlark.Value, v starlark.Value) []starlark.Value {
	switch v := v.(type) {
	case *starlark.List:
		for i := range v.Len() {
			out = append(out, v.Index(i))
		}
		return out
	case starlark.Tuple:
		return append(out, v...)
	}
	iter := starlark.Iterate(v)
	if iter == nil {
		return append(out, v)
	}
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		out = append(out, x)
	}
	return out
}

// unit names what progress and len count: "items" of a map, else "tasks".
func (ar *AsyncResult) unit() string {
	if ar.mode == combineFlatten && ar.counts != nil {
		return "items"
	}
	return "tasks"
}

// progress returns what has finished, counted as len(ar) counts: a map's
// items, else tasks (ipyparallel's progress).
func (ar *AsyncResult) progress() int {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	if ar.mode != combineFlatten || ar.counts == nil {
		return len(ar.order)
	}
	n := 0
	for _, slot := range ar.order {
		n += ar.counts[slot]
	}
	return n
}

// Abort stops the tasks that have not finished.
func (ar *AsyncResult) Abort() {
	ar.mu.Lock()
	var ids []uint64
	for i, got := range ar.got {
		if !got {
			ids = append(ids, ar.ids[i])
		}
	}
	ar.mu.Unlock()
	if len(ids) > 0 {
		ar.c.Abort(ids, ar.lb, ar.daemons)
	}
}

// errorsList returns each slot's error value or None.
func (ar *AsyncResult) errorsList() *starlark.List {
	out := make([]starlark.Value, ar.n)
	for i := range ar.n {
		out[i] = starlark.None
		ar.mu.Lock()
		got, r := ar.got[i], ar.results[i]
		ar.mu.Unlock()
		if got && r.Status != wire.StatusOK {
			out[i] = NewTaskError(r, ar.label)
		}
	}
	return starlark.NewList(out)
}

// perTask returns f of each finished slot's result (None when not yet),
// or the single value for a single-engine result.
func (ar *AsyncResult) perTask(f func(wire.Result, int) starlark.Value) starlark.Value {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	out := make([]starlark.Value, ar.n)
	for i := range ar.n {
		out[i] = starlark.None
		if ar.got[i] {
			out[i] = f(ar.results[i], i)
		}
	}
	if ar.scalar() {
		return out[0]
	}
	return starlark.NewList(out)
}

// elapsed returns the seconds from submission to the end (or now).
func (ar *AsyncResult) elapsed() float64 {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	end := ar.ended
	if end.IsZero() {
		end = time.Now()
	}
	return end.Sub(ar.sent).Seconds()
}

// counted says how far ar is: "3/10 tasks", or for a map "7/20 items
// (3/5 tasks)" (the kernel reads "N/M tasks" from the bar).
func (ar *AsyncResult) counted() string {
	ar.mu.Lock()
	tasks := len(ar.order)
	ar.mu.Unlock()
	if ar.unit() == "tasks" {
		return fmt.Sprintf("%d/%d tasks", tasks, ar.n)
	}
	return fmt.Sprintf("%d/%d items (%d/%d tasks)", ar.progress(), ar.Len(), tasks, ar.n)
}

// waitInteractive waits, drawing a progress bar on w when w shows one
// (see drawsProgress); into a file or a pipe it writes only the last line.
func (ar *AsyncResult) waitInteractive(ctx context.Context, w io.Writer) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	bar := w != nil && drawsProgress(w)
	for {
		done := ar.progress()
		if bar {
			const width = 30
			fill := width * done / max(ar.Len(), 1)
			fmt.Fprintf(w, "\r%s [%s%s] %s %.1fs", ar.label, strings.Repeat("#", fill),
				strings.Repeat(".", width-fill), ar.counted(), ar.elapsed())
		}
		select {
		case <-ar.finished:
			if w != nil {
				cr := "\r"
				if !bar {
					cr = ""
				}
				fmt.Fprintf(w, "%s%s [%s] %s %.1fs\n", cr, ar.label, strings.Repeat("#", 30), ar.counted(), ar.elapsed())
			}
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-tick.C:
		}
	}
}

// drawsProgress reports whether w shows a progress bar redrawn after
// "\r": a terminal, or a writer that says so (the notebook's).
func drawsProgress(w io.Writer) bool {
	if p, ok := w.(interface{ DrawsProgress() bool }); ok {
		return p.DrawsProgress()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// ---- Starlark value ----

var arMethods = starlib.NewMethods("AsyncResult", map[string]starlib.Method[*AsyncResult]{
	"get": (*AsyncResult).sGet, "wait": (*AsyncResult).sWait, "ready": (*AsyncResult).sReady,
	"successful": (*AsyncResult).sSuccessful, "errors": (*AsyncResult).sErrors,
	"wait_interactive": (*AsyncResult).sWaitInteractive, "abort": (*AsyncResult).sAbort,
	"get_dict": (*AsyncResult).sGetDict, "done": (*AsyncResult).sDone, "result": (*AsyncResult).sGet,
	"display_outputs": (*AsyncResult).sDisplayOutputs, "split": (*AsyncResult).sSplit,
	"wait_for_send": (*AsyncResult).sWaitForSend,
})

func (ar *AsyncResult) String() string {
	state := "pending"
	if ar.Ready() {
		state = "finished"
	}
	return fmt.Sprintf("<AsyncResult %s: %s, %d/%d done>", ar.label, state, ar.progress(), ar.Len())
}
func (ar *AsyncResult) Type() string {
	if ar.hub {
		return "AsyncHubResult"
	}
	return "AsyncResult"
}
func (ar *AsyncResult) Freeze()               {}
func (ar *AsyncResult) Truth() starlark.Bool  { return true }
func (ar *AsyncResult) Hash() (uint32, error) { return 0, errors.New("unhashable: AsyncResult") }

// Len is the number of values iteration yields: a map's items, else one
// per task. (Iteration and len must agree: enumerate and list rely on it.)
func (ar *AsyncResult) Len() int {
	ar.mu.Lock() // the client's job reports ask from another goroutine
	defer ar.mu.Unlock()
	if ar.mode == combineFlatten && ar.counts != nil {
		n := 0
		for _, c := range ar.counts {
			n += c
		}
		return n
	}
	return ar.n
}

func (ar *AsyncResult) AttrNames() []string {
	return arMethods.Names(append([]string{"elapsed", "engine_ids", "progress", "stdout", "task_ids"}, metaNames...)...)
}

func (ar *AsyncResult) Attr(name string) (starlark.Value, error) {
	if m, _ := arMethods.Attr(ar, name); m != nil {
		return m, nil
	}
	switch name {
	case "progress":
		return starlark.MakeInt(ar.progress()), nil
	case "elapsed":
		return starlark.Float(ar.elapsed()), nil
	case "stdout":
		return ar.perTask(func(r wire.Result, _ int) starlark.Value { return starlark.String(r.Stdout) }), nil
	case "engine_ids":
		return ar.perTask(func(r wire.Result, _ int) starlark.Value {
			if r.Engine < 0 {
				return starlark.None
			}
			return starlark.MakeInt(r.Engine)
		}), nil
	case "task_ids":
		ar.mu.Lock()
		defer ar.mu.Unlock()
		out := make([]starlark.Value, len(ar.ids))
		for i, id := range ar.ids {
			out[i] = starlark.MakeUint64(id)
		}
		if ar.scalar() {
			return out[0], nil
		}
		return starlark.NewList(out), nil
	}
	return ar.metaAttr(name)
}

// Iterate yields results in order (completion order when not ordered),
// waiting for each; a failed slot yields its error value.
func (ar *AsyncResult) Iterate() starlark.Iterator {
	return &arIterator{ar: ar}
}

type arIterator struct {
	ar      *AsyncResult
	next    int // slots consumed
	yielded int
	pending []starlark.Value
}

func (it *arIterator) Next(p *starlark.Value) bool {
	if it.yielded >= it.ar.Len() {
		return false // never more than len(ar): enumerate and list preallocate by it
	}
	for len(it.pending) == 0 {
		if it.next >= it.ar.n {
			return false
		}
		slot, ok := it.ar.slotAt(it.next)
		if !ok {
			return false
		}
		it.next++
		v, err := it.ar.Value(slot)
		items := it.ar.mode == combineFlatten && it.ar.counts != nil
		if err != nil && v == nil {
			te, ok := err.(*TaskError)
			if !ok {
				te = &TaskError{Kind: wire.RemoteError, Engine: -1, Message: err.Error()}
			}
			v = te
			if items {
				v = it.ar.expand(te, slot)
			}
		}
		if items {
			it.pending = appendItems(nil, v)
		} else {
			it.pending = []starlark.Value{v}
		}
	}
	*p = it.pending[0]
	it.pending = it.pending[1:]
	it.yielded++
	return true
}

func (it *arIterator) Done() {}

// slotAt waits for the k-th slot to iterate and returns it.
func (ar *AsyncResult) slotAt(k int) (int, bool) {
	if ar.ordered {
		ar.waitSlot(func() bool { return ar.got[k] })
		return k, true
	}
	ar.waitSlot(func() bool { return len(ar.order) > k })
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return ar.order[k], true
}

// waitSlot waits until cond (evaluated under ar.mu) holds.
func (ar *AsyncResult) waitSlot(cond func() bool) {
	for {
		ar.mu.Lock()
		ok, changed := cond(), ar.changed
		ar.mu.Unlock()
		if ok {
			return
		}
		<-changed
	}
}

func (ar *AsyncResult) sGet(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var timeout starlark.Value = starlark.None
	var returnErrors bool
	if err := starlark.UnpackArgs(b.Name(), args, kw, "timeout?", &timeout, "return_exceptions?", &returnErrors); err != nil {
		return nil, err
	}
	d, err := timeoutArg(b, timeout)
	if err != nil {
		return nil, err
	}
	return ar.Result(starlib.Context(th), d, returnErrors)
}

func (ar *AsyncResult) sWait(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var timeout starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kw, "timeout?", &timeout); err != nil {
		return nil, err
	}
	d, err := timeoutArg(b, timeout)
	if err != nil {
		return nil, err
	}
	ok, err := ar.Wait(starlib.Context(th), d)
	return starlark.Bool(ok), err
}

func (ar *AsyncResult) sReady(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	return starlark.Bool(ar.Ready()), nil
}

func (ar *AsyncResult) sSuccessful(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	if !ar.Ready() {
		return nil, fmt.Errorf("%s: not finished yet (%d of %d done); call ar.wait() first", b.Name(), ar.progress(), ar.Len())
	}
	ar.mu.Lock()
	defer ar.mu.Unlock()
	for _, r := range ar.results {
		if r.Status != wire.StatusOK {
			return starlark.False, nil
		}
	}
	return starlark.True, nil
}

// sErrors is errors(timeout=None). Like get, it waits for every task: an
// unfinished task has no error yet, and None would claim it succeeded
// (ipyparallel's results and exceptions are likewise only read once
// ready). A timeout fails with TimeoutError; ar.ready() tells first.
func (ar *AsyncResult) sErrors(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var timeout starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kw, "timeout?", &timeout); err != nil {
		return nil, err
	}
	d, err := timeoutArg(b, timeout)
	if err != nil {
		return nil, err
	}
	ok, err := ar.Wait(starlib.Context(th), d)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("TimeoutError: %s: errors(): %d of %d %s finished within %v; an unfinished task has no error yet (ar.ready() tells when all have finished)",
			ar.label, ar.progress(), ar.Len(), ar.unit(), d)
	}
	return ar.errorsList(), nil
}

func (ar *AsyncResult) sWaitInteractive(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	return starlark.None, ar.waitInteractive(starlib.Context(th), ar.c.Config().Stderr)
}

func (ar *AsyncResult) sAbort(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	if err := ar.abortRefused(b.Name()); err != nil {
		return nil, err
	}
	ar.Abort()
	return starlark.None, nil
}

// timeoutArg converts a Starlark timeout (None or seconds ≥ 0) to a
// duration; None gives -1 (wait forever).
func timeoutArg(b *starlark.Builtin, v starlark.Value) (time.Duration, error) {
	if v == starlark.None {
		return -1, nil
	}
	f, ok := starlark.AsFloat(v)
	if !ok || f < 0 || f != f {
		return 0, fmt.Errorf("%s: timeout must be None or a number of seconds ≥ 0, got %s", b.Name(), v)
	}
	return time.Duration(f * float64(time.Second)), nil
}
