// This file defines ClientValue, the Starlark face of a Client.

package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// ClientValue is a Client as a Starlark value:
//
//	c.ids                             # list of engine ids, as the hub says now
//	c.wait_for_engines(n, timeout=30) # fails with client.NoEnginesError on timeout
//	c.queue_status(targets=None, verbose=False)  # {id: {"queue": n, "completed": n, "tasks": n}, "unassigned": n}; verbose: lists of this client's task ids
//	c.shutdown(targets=None)          # stops engines (all when None)
//	c.clear(targets=None)             # empties namespaces
//	c.load_balanced_view(targets=None)
//	c.direct_view(targets=None)       # = c[:] when None
//	c[id], c[-1], c[1:3], c[::2], c[[0, 2]], c[:]  # DirectViews: c[id] by engine id, c[-k] and slices
//	                                               # over c.ids; c[:] includes engines that join later
//	len(c)                            # engines now
type ClientValue struct {
	c      *client.Client
	owned  bool        // made by Client(profile=…) or Client(connect=…): close() closes c
	closed atomic.Bool // close() was called
}

// NewClientValue wraps c.
func NewClientValue(c *client.Client) *ClientValue { return &ClientValue{c: c} }

func (v *ClientValue) String() string        { return fmt.Sprintf("<Client %d engines>", len(v.c.KnownIDs())) }
func (v *ClientValue) Type() string          { return "Client" }
func (v *ClientValue) Freeze()               {}
func (v *ClientValue) Truth() starlark.Bool  { return true }
func (v *ClientValue) Hash() (uint32, error) { return 0, errors.New("unhashable: Client") }
func (v *ClientValue) Len() int              { return len(v.c.KnownIDs()) }

// Index is required by Sliceable; Get handles c[i].
func (v *ClientValue) Index(i int) starlark.Value {
	ids := v.c.KnownIDs()
	return &DirectView{c: v.c, ids: []int{ids[i]}, single: true}
}

// Slice gives c[a:b:s]; the full slice c[:] is lazy ("all").
func (v *ClientValue) Slice(start, end, step int) starlark.Value {
	ids := v.c.KnownIDs()
	if start == 0 && end == len(ids) && step == 1 {
		return &DirectView{c: v.c, all: true}
	}
	var sel []int
	for i := start; (step > 0 && i < end) || (step < 0 && i > end); i += step {
		sel = append(sel, ids[i])
	}
	return &DirectView{c: v.c, ids: sel}
}

// Get gives c[id] (an engine id, as in ipyparallel), c[-k] (the k-th
// from the end of c.ids) and c[[id, ...]].
func (v *ClientValue) Get(k starlark.Value) (starlark.Value, bool, error) {
	if v.closed.Load() {
		return nil, false, fmt.Errorf("Client index: %w", errClosed)
	}
	ids := v.c.KnownIDs()
	if _, isInt := k.(starlark.Int); isInt {
		i, err := starlark.AsInt32(k)
		if err != nil {
			return nil, false, fmt.Errorf("Client index: %v", err)
		}
		id := i
		if i < 0 {
			if -i > len(ids) {
				return nil, false, fmt.Errorf("Client index %d out of range: %d engine(s) connected (ids %v)", i, len(ids), ids)
			}
			id = ids[len(ids)+i]
		}
		if !slices.Contains(ids, id) {
			return nil, false, fmt.Errorf("Client index: no engine %d (connected: %v)", id, ids)
		}
		return &DirectView{c: v.c, ids: []int{id}, single: true}, true, nil
	}
	iter := starlark.Iterate(k)
	if iter == nil {
		return nil, false, fmt.Errorf("Client index: want an engine id or a list of engine ids, got %s", k.Type())
	}
	defer iter.Done()
	var sel []int
	var x starlark.Value
	for iter.Next(&x) {
		id, err := starlark.AsInt32(x)
		if err != nil {
			return nil, false, fmt.Errorf("Client index: engine ids must be ints, got %s", x.Type())
		}
		if !slices.Contains(ids, id) {
			return nil, false, fmt.Errorf("Client index: no engine %d (connected: %v)", id, ids)
		}
		sel = append(sel, id)
	}
	return &DirectView{c: v.c, ids: sel}, true, nil
}

func (v *ClientValue) AttrNames() []string {
	return clientMethods.Names("history", "ids", "outstanding")
}

func (v *ClientValue) Attr(name string) (starlark.Value, error) {
	if v.closed.Load() && name != "close" {
		if m, _ := clientMethods.Attr(v, name); m == nil && name != "ids" && name != "history" && name != "outstanding" {
			return nil, nil
		}
		return nil, fmt.Errorf("Client.%s: %w", name, errClosed)
	}
	switch name {
	case "outstanding":
		return outstandingIDs(v.c, nil), nil
	case "get_result":
		return starlark.NewBuiltin("Client.get_result", v.getResultOf), nil
	}
	if name == "ids" {
		ctx, cancel := context.WithTimeout(context.Background(), client.DefaultWait)
		defer cancel()
		ids, err := v.c.IDs(ctx)
		if err != nil {
			return nil, err
		}
		return intList(ids), nil
	}
	if name == "history" {
		return v.historyAttr(), nil
	}
	return clientMethods.Attr(v, name)
}

var clientMethods = starlib.NewMethods("Client", map[string]starlib.Method[*ClientValue]{
	"wait_for_engines":   (*ClientValue).waitForEngines,
	"queue_status":       (*ClientValue).queueStatus,
	"shutdown":           (*ClientValue).shutdown,
	"clear":              (*ClientValue).clear,
	"load_balanced_view": (*ClientValue).loadBalancedView,
	"direct_view":        (*ClientValue).directView,
	"abort":              (*ClientValue).abort,
})

// Iterate yields a single-engine DirectView per engine, as iterating an
// ipyparallel Client does.
func (v *ClientValue) Iterate() starlark.Iterator {
	ids := v.c.KnownIDs()
	views := make([]starlark.Value, len(ids))
	for i, id := range ids {
		views[i] = &DirectView{c: v.c, ids: []int{id}, single: true}
	}
	return starlark.NewList(views).Iterate()
}

func (v *ClientValue) waitForEngines(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var n int
	timeout := starlark.Value(starlark.MakeInt(30))
	if err := starlark.UnpackArgs(b.Name(), args, kw, "n", &n, "timeout?", &timeout); err != nil {
		return nil, err
	}
	d, err := timeoutArg(b, timeout)
	if err != nil {
		return nil, err
	}
	ctx := starlib.Context(th)
	if d >= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, d, fmt.Errorf("waited %v", d))
		defer cancel()
	}
	return starlark.None, v.c.WaitForEngines(ctx, n)
}

// queueStatus is queue_status(targets=None, verbose=False): for one engine
// (targets an int) its dict alone, else {id: dict, "unassigned": n}, as
// ipyparallel. Each engine's dict counts its waiting tasks ("queue"), its
// finished ones ("completed") and the one it runs ("tasks"); verbose=True
// lists task ids instead (queueStatusVerbose).
func (v *ClientValue) queueStatus(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	targets := starlark.Value(starlark.None)
	var verbose bool
	if err := starlark.UnpackArgs(b.Name(), args, kw, "targets?", &targets, "verbose?", &verbose); err != nil {
		return nil, err
	}
	want, err := v.targetIDs(targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	_, one := targets.(starlark.Int)
	ctx, cancel := context.WithTimeout(starlib.Context(th), client.DefaultWait)
	defer cancel()
	r, err := v.c.Query(ctx, wire.Query{Op: wire.QueryQueueStatus, Verbose: verbose})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	slices.SortFunc(r.Stats, func(a, b wire.EngineStat) int { return a.ID - b.ID })
	d := starlark.NewDict(len(r.Stats) + 1)
	for _, s := range r.Stats {
		if want != nil && !slices.Contains(want, s.ID) {
			continue
		}
		e := engineQueue(s, verbose)
		d.SetKey(starlark.MakeInt(s.ID), e)
		if one {
			return e, nil
		}
	}
	if one {
		return nil, fmt.Errorf("%s: engine %s is not connected", b.Name(), targets)
	}
	if verbose {
		d.SetKey(starlark.String("unassigned"), idList(r.UnassignedIDs))
	} else {
		d.SetKey(starlark.String("unassigned"), starlark.MakeInt(r.Unassigned))
	}
	return d, nil
}

// engineQueue is one engine's queue_status dict: counts, or with verbose
// the ids of this client's tasks (the last wire.MaxDoneIDs completed), as
// ipyparallel's msg_id lists. Other clients' tasks are counted but not
// listed: their ids are theirs.
func engineQueue(s wire.EngineStat, verbose bool) *starlark.Dict {
	e := starlark.NewDict(3)
	if verbose {
		e.SetKey(starlark.String("queue"), idList(s.QueueIDs))
		e.SetKey(starlark.String("completed"), idList(s.DoneIDs))
		e.SetKey(starlark.String("tasks"), idList(s.TaskIDs))
		return e
	}
	running := 0
	if s.State == wire.StateBusy {
		running = 1
	}
	e.SetKey(starlark.String("queue"), starlark.MakeInt(s.Queue))
	e.SetKey(starlark.String("completed"), starlark.MakeUint64(s.Done))
	e.SetKey(starlark.String("tasks"), starlark.MakeInt(running))
	return e
}

// idList returns task ids as a list of ints, as msg_ids gives them.
func idList(ids []uint64) *starlark.List {
	out := make([]starlark.Value, len(ids))
	for i, id := range ids {
		out[i] = starlark.MakeUint64(id)
	}
	return starlark.NewList(out)
}

// targetIDs converts targets=None|"all"|int|list to engine ids (nil =
// all); a negative int counts from the end of c.ids, as c[-1] does.
func (v *ClientValue) targetIDs(targets starlark.Value) ([]int, error) {
	if targets == starlark.None || targets == starlark.String("all") {
		return nil, nil
	}
	if s, ok := targets.(starlark.String); ok {
		return nil, fmt.Errorf("targets: want None, \"all\", an engine id or a list of ids, got %s", s)
	}
	dv, _, err := v.Get(targets)
	if err != nil {
		return nil, err
	}
	return dv.(*DirectView).ids, nil
}

// shutdown is shutdown(targets=None, restart=False, hub=False,
// block=None): the hub stops the engines before it answers, so
// block=False changes nothing. hub=True stops every engine and then the
// hub (targets is then "all", as in ipyparallel); restart=True is not
// implemented, as in ipyparallel.
func (v *ClientValue) shutdown(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	targets := starlark.Value(starlark.None)
	block := starlark.Value(starlark.None)
	var restart, hub bool
	if err := starlark.UnpackArgs(b.Name(), args, kw, "targets?", &targets, "restart?", &restart, "hub?", &hub, "block?", &block); err != nil {
		return nil, err
	}
	if restart {
		return nil, fmt.Errorf("%s: restart=True is not implemented (as in ipyparallel): start engines again with pirun engine, or let the pirun-engine service restart them", b.Name())
	}
	ids, err := v.targetIDs(targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	ctx, cancel := context.WithTimeout(starlib.Context(th), client.DefaultWait)
	defer cancel()
	if hub {
		return starlark.None, v.c.ShutdownHub(ctx)
	}
	return starlark.None, v.c.Shutdown(ctx, ids)
}

// clear is clear(targets=None, block=None): blocking (the default) it
// waits and returns None; block=False returns the AsyncResult.
func (v *ClientValue) clear(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	targets := starlark.Value(starlark.None)
	block := starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "targets?", &targets, "block?", &block); err != nil {
		return nil, err
	}
	ids, err := v.targetIDs(targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	dv := &DirectView{c: v.c, all: ids == nil, ids: ids}
	targetsNow, err := dv.Targets()
	if err != nil {
		return nil, err
	}
	ar, err := dv.submit(starlib.Context(th), wire.Task{Kind: wire.KindClear, Label: "clear"}, nil, combineNone, targetsNow)
	if err != nil {
		return nil, err
	}
	if block == starlark.False {
		return ar, nil
	}
	_, err = ar.Result(starlib.Context(th), -1, false)
	return starlark.None, err
}

// loadBalancedView is load_balanced_view(targets=None, **flags): flags
// (block, retries, timeout, after, follow) set at construction.
func (v *ClientValue) loadBalancedView(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	targets := starlark.Value(starlark.None)
	var flags []starlark.Tuple
	var own []starlark.Tuple
	for _, kv := range kw {
		if k, _ := starlark.AsString(kv[0]); k == "targets" {
			own = append(own, kv)
		} else {
			flags = append(flags, kv)
		}
	}
	if err := starlark.UnpackArgs(b.Name(), args, own, "targets?", &targets); err != nil {
		return nil, err
	}
	ids, err := v.targetIDs(targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	lv := &LoadBalancedView{c: v.c, targets: ids}
	for _, kv := range flags {
		name, _ := starlark.AsString(kv[0])
		if err := lv.SetField(name, kv[1]); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
	}
	return lv, nil
}

// abort is abort(jobs=None, targets=None, block=None): it stops this
// client's unfinished tasks — jobs (AsyncResults or task ids) when given,
// else every task on targets (every engine when None).
func (v *ClientValue) abort(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	jobs := starlark.Value(starlark.None)
	targets := starlark.Value(starlark.None)
	block := starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "jobs?", &jobs, "targets?", &targets, "block?", &block); err != nil {
		return nil, err
	}
	ids, err := v.targetIDs(targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if jobs != starlark.None {
		return starlark.None, abortJobs(v.c, b.Name(), jobs, ids)
	}
	if ids == nil {
		v.c.AbortPending()
	} else {
		v.c.AbortTargets(ids) // direct and load-balanced tasks there
	}
	return starlark.None, nil
}

func (v *ClientValue) directView(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	targets := starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "targets?", &targets); err != nil {
		return nil, err
	}
	if targets == starlark.None {
		targets = starlark.String("all") // ipyparallel's default: a lazy view whose targets are "all"
	}
	return viewFor(v.c, targets)
}
