// This file defines LoadBalancedView: tasks the hub's scheduler gives to
// whichever engine is free, with retries, timeouts and dependencies.

package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// LoadBalancedView sends each task to an idle engine. As a Starlark value:
//
//	lview.block, lview.retries, lview.timeout, lview.after, lview.follow   # settable flags
//	lview.apply(f, *args, **kwargs)        # one task; a value (block) or an AsyncResult;
//	                                       # keywords named like a flag set that flag for this call
//	lview.apply_sync(...), lview.apply_async(...)
//	lview.map(f, *seqs, chunksize=1, ordered=True, block=None, retries=None, timeout=None, after=None, follow=None)
//	lview.map_sync(...), lview.map_async(...)
//
// retries: how often a task whose engine died runs again elsewhere;
// timeout: seconds a task may run; after: AsyncResults that must finish
// first; follow: AsyncResults whose engine the task must run on.
type LoadBalancedView struct {
	c       *client.Client
	targets []int // nil = any engine

	// parent is the view a temp_flags view was made from: it keeps that
	// view's results for wait, abort and history. nil for others.
	parent *LoadBalancedView

	mu    sync.Mutex // guards flags
	flags lbFlags
	calls viewCalls // the calls through the view (view_more.go), when it has no parent
}

// owner returns the view that keeps v's results: v, or its parent.
func (v *LoadBalancedView) owner() *LoadBalancedView {
	if v.parent != nil {
		return v.parent
	}
	return v
}

// keep remembers ar for wait, abort and history.
func (v *LoadBalancedView) keep(ar *AsyncResult) { v.owner().calls.add(ar) }

// Abort aborts every unfinished task sent through the view.
func (v *LoadBalancedView) Abort() { v.owner().calls.abort() }

// Iterate yields the ids of the engines the view may use now.
func (v *LoadBalancedView) Iterate() starlark.Iterator {
	if t := v.targetList(); t != nil {
		return intList(t).Iterate()
	}
	return intList(v.c.KnownIDs()).Iterate()
}

// Len is the number of engines the view may use now (len(view)).
func (v *LoadBalancedView) Len() int {
	if t := v.targetList(); t != nil {
		return len(t)
	}
	return len(v.c.KnownIDs())
}

type lbFlags struct {
	block    bool
	detached bool // the job outlives its client (history.go)
	retries  int
	timeout  time.Duration
	after    []*AsyncResult
	follow   []*AsyncResult
}

// flagsFrom returns the view's flags overridden by keyword arguments,
// and the keywords that are not flags.
func (v *LoadBalancedView) flagsFrom(kw []starlark.Tuple, allowOther bool) (lbFlags, []starlark.Tuple, error) {
	v.mu.Lock()
	f := v.flags
	v.mu.Unlock()
	var rest []starlark.Tuple
	for _, kv := range kw {
		name, _ := starlark.AsString(kv[0])
		if err := f.set(v.c, name, kv[1]); err != nil {
			if errors.Is(err, errNotFlag) && allowOther {
				rest = append(rest, kv)
				continue
			}
			return f, nil, err
		}
	}
	return f, rest, nil
}

var errNotFlag = errors.New("not a flag")

func (f *lbFlags) set(c *client.Client, name string, v starlark.Value) error {
	switch name {
	case "block":
		b, ok := v.(starlark.Bool)
		if !ok {
			return fmt.Errorf("block must be True or False, got %s", v.Type())
		}
		f.block = bool(b)
	case "detached":
		b, ok := v.(starlark.Bool)
		if !ok {
			return fmt.Errorf("detached must be True or False, got %s", v.Type())
		}
		f.detached = bool(b)
	case "retries":
		n, err := starlark.AsInt32(v)
		if err != nil || n < 0 {
			return fmt.Errorf("retries must be an int ≥ 0, got %s", v)
		}
		f.retries = n
	case "timeout":
		if v == starlark.None {
			f.timeout = 0
			return nil
		}
		s, ok := starlark.AsFloat(v)
		if !ok || s <= 0 || s != s {
			return fmt.Errorf("timeout must be None or seconds > 0, got %s", v)
		}
		f.timeout = time.Duration(s * float64(time.Second))
	case "after", "follow":
		ars, err := asyncResults(c, name, v)
		if err != nil {
			return err
		}
		if name == "after" {
			f.after = ars
		} else {
			f.follow = ars
		}
	default:
		return errNotFlag
	}
	return nil
}

// asyncResults accepts None, an AsyncResult, a task id, or a list of
// them. A task id stands for its AsyncResult while the task is
// unfinished; a finished (or unknown) one is left out: it is already
// done, as after= in ipyparallel takes finished msg_ids as met.
func asyncResults(c *client.Client, name string, v starlark.Value) ([]*AsyncResult, error) {
	if v == starlark.None {
		return nil, nil
	}
	if ar, ok := v.(*AsyncResult); ok {
		return []*AsyncResult{ar}, nil
	}
	if _, ok := v.(starlark.Int); ok {
		v = starlark.NewList([]starlark.Value{v})
	}
	iter := starlark.Iterate(v)
	if iter == nil {
		return nil, fmt.Errorf("%s%s must be an AsyncResult or a list of them, got %s", invalidDependency(name), name, v.Type())
	}
	defer iter.Done()
	var out []*AsyncResult
	var x starlark.Value
	for iter.Next(&x) {
		if id, ok := x.(starlark.Int); ok {
			u, ok := id.Uint64()
			if !ok {
				return nil, fmt.Errorf("%s: %s is not a task id", name, id)
			}
			ar, ok := c.SinkOf(u).(*AsyncResult)
			if !ok && name == "follow" {
				return nil, fmt.Errorf("follow: task %d has finished or is not this client's; follow needs its AsyncResult, which knows the engine it ran on", u)
			}
			if ok && !slices.Contains(out, ar) {
				out = append(out, ar)
			}
			continue
		}
		ar, ok := x.(*AsyncResult)
		if !ok {
			return nil, fmt.Errorf("%s%s must hold AsyncResults or task ids, got %s", invalidDependency(name), name, x.Type())
		}
		out = append(out, ar)
	}
	return out, nil
}

// invalidDependency prefixes the errors of after= and follow= with the
// name of ipyparallel's error for them.
func invalidDependency(name string) string {
	if name == "after" || name == "follow" {
		return "InvalidDependency: "
	}
	return ""
}

// submit sends tasks (already carrying their payloads) once their
// dependencies allow, and returns their AsyncResult.
func (v *LoadBalancedView) submit(ctx context.Context, f lbFlags, tasks []wire.Task, bundle []byte, label string, mode combine) (*AsyncResult, error) {
	ar := newAsyncResult(v.c, label, mode, len(tasks))
	ar.lb = true
	ctx = withDetached(ctx, f.detached)
	for i := range tasks {
		t := &tasks[i]
		t.ID, t.Client, t.Retries, t.Timeout, t.Label = v.c.NextID(), v.c.ID(), f.retries, int64(f.timeout), label
		detach(ctx, ar, t)
		ar.ids[i] = t.ID
		v.c.Track(t.ID, ar, map[int]int{-1: i}, true)
	}
	v.keep(ar)
	if t := v.targetList(); t != nil {
		for i := range tasks {
			tasks[i].Allowed = t
		}
	}
	if f.retries > 0 {
		ar.retry = func(slot int, r wire.Result) bool { return v.retryRaised(ctx, ar, tasks, bundle, slot, r) }
	}
	send := func() error {
		if err := v.dependencies(ctx, f, tasks); err != nil {
			return err
		}
		return v.c.SubmitBalanced(ctx, tasks, bundle)
	}
	if len(f.after) == 0 && len(f.follow) == 0 {
		if err := send(); err != nil {
			v.untrack(tasks)
			return nil, err
		}
		return ar, nil
	}
	go func() { // wait for dependencies without blocking the script
		if err := send(); err != nil {
			v.untrack(tasks)
			for i, t := range tasks {
				ar.Complete(i, wire.Result{Task: t.ID, Engine: -1, Status: wire.StatusImpossible,
					Err: &wire.Error{Type: wire.ImpossibleDependency, Message: err.Error()}})
			}
		}
	}()
	return ar, nil
}

// retryRaised sends task slot again, as a new task on another engine when
// there is one, when its result r is an error the task raised (a
// RemoteError) and it has attempts left; ipyparallel's retries cover both
// raised errors and dead engines (the hub retries those), and share one
// count. It runs under ar.mu, from Complete.
func (v *LoadBalancedView) retryRaised(ctx context.Context, ar *AsyncResult, tasks []wire.Task, bundle []byte, slot int, r wire.Result) bool {
	t := tasks[slot]
	if r.Err == nil || r.Err.Type != wire.RemoteError {
		return false
	}
	t.Attempt = max(t.Attempt, r.Attempt)
	if t.Attempt >= t.Retries || ctx.Err() != nil {
		return false
	}
	t.Attempt++
	t.Exclude = slices.Clone(t.Exclude)
	if r.Engine >= 0 && !slices.Contains(t.Exclude, r.Engine) {
		t.Exclude = append(t.Exclude, r.Engine)
	}
	can := t.Allowed
	if can == nil {
		can = v.c.KnownIDs()
	}
	if !slices.ContainsFunc(can, func(id int) bool { return !slices.Contains(t.Exclude, id) }) {
		t.Exclude = nil // every engine failed it once: any may try again
	}
	t.ID = v.c.NextID()
	tasks[slot] = t
	ar.ids[slot] = t.ID
	if err := v.c.Track(t.ID, ar, map[int]int{-1: slot}, true); err != nil {
		return false
	}
	go func() {
		if err := v.c.SubmitBalanced(ctx, []wire.Task{t}, bundle); err != nil {
			v.c.Untrack(t.ID)
			ar.mu.Lock()
			ar.retry = nil // no further attempts: the failure stands
			ar.mu.Unlock()
			ar.Complete(slot, r)
		}
	}()
	return true
}

func (v *LoadBalancedView) untrack(tasks []wire.Task) {
	for _, t := range tasks {
		v.c.Untrack(t.ID)
	}
}

// dependencies waits for after and follow, and restricts tasks to the
// engine the followed tasks ran on.
func (v *LoadBalancedView) dependencies(ctx context.Context, f lbFlags, tasks []wire.Task) error {
	for _, ar := range append(slices.Clone(f.after), f.follow...) {
		if _, err := ar.Wait(ctx, -1); err != nil {
			return err
		}
		errs := ar.errorsList()
		for i := range errs.Len() {
			if e := errs.Index(i); e != starlark.None {
				return fmt.Errorf("a task it depends on (%s) failed: %s", ar.label, e)
			}
		}
	}
	if len(f.follow) == 0 {
		return nil
	}
	var allowed []int
	for i, ar := range f.follow {
		ran := ar.ranOn()
		if i == 0 {
			allowed = ran
		} else {
			allowed = slices.DeleteFunc(allowed, func(id int) bool { return !slices.Contains(ran, id) })
		}
	}
	if len(allowed) != 1 {
		return fmt.Errorf("follow: the followed tasks ran on engines %v; a task can follow tasks that all ran on one engine", f.follow[0].ranOn())
	}
	if t := v.targetList(); t != nil && !slices.Contains(t, allowed[0]) {
		return fmt.Errorf("follow: the followed tasks ran on engine %d, which is not among this view's targets %v", allowed[0], t)
	}
	for i := range tasks {
		tasks[i].Allowed = allowed
	}
	return nil
}

// ranOn returns the distinct engines that ran ar's tasks.
func (ar *AsyncResult) ranOn() []int {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	var out []int
	for i, r := range ar.results {
		if ar.got[i] && r.Engine >= 0 && !slices.Contains(out, r.Engine) {
			out = append(out, r.Engine)
		}
	}
	return out
}

// Apply runs f(*args, **kwargs) once, on an idle engine.
func (v *LoadBalancedView) Apply(ctx context.Context, name string, f starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple, fl lbFlags) (starlark.Value, error) {
	bundle, label, err := bundleOf(v.c, f)
	if err != nil {
		return nil, err
	}
	a, kw := callArgs(args, kwargs)
	payload, err := encodePayload(v.c, "the arguments of "+label, a, kw)
	if err != nil {
		return nil, err
	}
	ar, err := v.submit(ctx, fl, []wire.Task{{Kind: wire.KindApply, Payload: payload}}, bundle, label, combineSingle)
	if err != nil {
		return nil, err
	}
	if !fl.block {
		return ar, nil
	}
	return ar.Result(ctx, -1, false)
}

// Map runs f over the zipped sequences, chunksize items per task.
func (v *LoadBalancedView) Map(ctx context.Context, name string, f starlark.Value, seqs starlark.Tuple, chunksize int, ordered bool, fl lbFlags) (starlark.Value, error) {
	items, err := zipArgs(name, seqs)
	if err != nil {
		return nil, err
	}
	bundle, label, err := bundleOf(v.c, f)
	if err != nil {
		return nil, err
	}
	if chunksize < 1 {
		return nil, fmt.Errorf("%s: chunksize must be ≥ 1, got %d", name, chunksize)
	}
	n := (len(items) + chunksize - 1) / chunksize
	tasks := make([]wire.Task, 0, n)
	counts := make([]int, 0, n)
	for start := 0; start < len(items); start += chunksize {
		end := min(start+chunksize, len(items))
		p, err := encodePayload(v.c, "the items of "+label, starlark.NewList(items[start:end]))
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, wire.Task{Kind: wire.KindMap, Payload: p})
		counts = append(counts, end-start)
	}
	ar, err := v.submit(ctx, fl, tasks, bundle, "map "+label, combineFlatten)
	if err != nil {
		return nil, err
	}
	ar.mu.Lock() // the client's job reports read progress from another goroutine
	ar.counts = counts
	ar.ordered = ordered
	ar.mu.Unlock()
	if !fl.block {
		return ar, nil
	}
	return ar.Result(ctx, -1, false)
}

// ---- Starlark value ----

func (v *LoadBalancedView) String() string       { return "<LoadBalancedView>" }
func (v *LoadBalancedView) Type() string         { return "LoadBalancedView" }
func (v *LoadBalancedView) Freeze()              {}
func (v *LoadBalancedView) Truth() starlark.Bool { return true }
func (v *LoadBalancedView) Hash() (uint32, error) {
	return 0, errors.New("unhashable: LoadBalancedView")
}

func (v *LoadBalancedView) AttrNames() []string {
	return lbMethods.Names("after", "block", "follow", "history", "outstanding", "retries", "targets", "timeout")
}

func (v *LoadBalancedView) Attr(name string) (starlark.Value, error) {
	if name == "history" || name == "outstanding" {
		return v.owner().calls.attr(name), nil
	}
	v.mu.Lock()
	f, targets := v.flags, v.targets
	v.mu.Unlock()
	switch name {
	case "block":
		return starlark.Bool(f.block), nil
	case "retries":
		return starlark.MakeInt(f.retries), nil
	case "timeout":
		if f.timeout == 0 {
			return starlark.None, nil
		}
		return starlark.Float(f.timeout.Seconds()), nil
	case "after", "follow":
		ars := f.after
		if name == "follow" {
			ars = f.follow
		}
		out := make([]starlark.Value, len(ars))
		for i, ar := range ars {
			out[i] = ar
		}
		return starlark.NewList(out), nil
	case "targets":
		if targets == nil {
			return starlark.None, nil
		}
		return intList(targets), nil
	}
	return lbMethods.Attr(v, name)
}

func (v *LoadBalancedView) SetField(name string, val starlark.Value) error {
	if name == "targets" {
		ids, err := (&ClientValue{c: v.c}).targetIDs(val)
		if err != nil {
			return fmt.Errorf("LoadBalancedView.targets: %w", err)
		}
		v.mu.Lock()
		v.targets = ids
		v.mu.Unlock()
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	f := v.flags
	if err := f.set(v.c, name, val); err != nil {
		if errors.Is(err, errNotFlag) {
			return starlark.NoSuchAttrError(fmt.Sprintf("LoadBalancedView has no settable field .%s (block, retries, timeout, after, follow)", name))
		}
		return fmt.Errorf("LoadBalancedView.%s: %w", name, err)
	}
	v.flags = f
	return nil
}

var lbMethods = starlib.NewMethods("LoadBalancedView", map[string]starlib.Method[*LoadBalancedView]{
	"apply": lbApply(nil), "apply_sync": lbApply(ptr(true)), "apply_async": lbApply(ptr(false)),
	"map": lbMap(nil), "map_sync": lbMap(ptr(true)), "map_async": lbMap(ptr(false)),
	"abort": lbAbort,
})

// lbAbort is abort(jobs=None, targets=None, block=None): jobs
// (AsyncResults or task ids) when given, else every unfinished task sent
// through the view.
func lbAbort(v *LoadBalancedView, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	jobs := starlark.Value(starlark.None)
	targets := starlark.Value(starlark.None)
	block := starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "jobs?", &jobs, "targets?", &targets, "block?", &block); err != nil {
		return nil, err
	}
	if jobs != starlark.None {
		return starlark.None, abortJobs(v.c, b.Name(), jobs, nil)
	}
	v.Abort()
	return starlark.None, nil
}

func lbApply(force *bool) starlib.Method[*LoadBalancedView] {
	return func(v *LoadBalancedView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("%s: missing the function to apply", b.Name())
		}
		fl, rest, err := v.flagsFrom(kw, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if force != nil {
			fl.block = *force
		}
		f, lead, err := callable(th, v.c, args[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return v.Apply(starlib.Context(th), b.Name(), f, withLead(lead, args[1:]), rest, fl)
	}
}

func lbMap(force *bool) starlib.Method[*LoadBalancedView] {
	return func(v *LoadBalancedView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		chunksize, ordered := 1, true
		var rest []starlark.Tuple
		for _, kv := range kw {
			switch name, _ := starlark.AsString(kv[0]); name {
			case "chunksize":
				n, err := starlark.AsInt32(kv[1])
				if err != nil {
					return nil, fmt.Errorf("%s: chunksize must be an int, got %s", b.Name(), kv[1].Type())
				}
				chunksize = n
			case "ordered":
				ordered = bool(kv[1].Truth())
			default:
				rest = append(rest, kv)
			}
		}
		fl, other, err := v.flagsFrom(rest, true)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if len(other) > 0 {
			return nil, fmt.Errorf("%s: unexpected keyword argument %s", b.Name(), other[0][0])
		}
		if force != nil {
			fl.block = *force
		}
		if len(args) < 2 {
			return nil, fmt.Errorf("%s: want map(f, seq, ...), got %d arguments", b.Name(), len(args))
		}
		f, lead, err := callable(th, v.c, args[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return v.Map(starlib.Context(th), b.Name(), f, leadItems(lead, args[1:]), chunksize, ordered, fl)
	}
}
