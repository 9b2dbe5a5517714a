// This file defines the task records of SPEC §15 on the Client, as
// ipyparallel has them, and detached=True jobs:
//
//	c.history                   # ids of the tasks this client submitted, in order
//	c.result_status(task_ids)   # {"pending": [...], "completed": [...]}
//	c.get_result(task_ids)      # an AsyncHubResult: get/ready/wait/... as AsyncResult;
//	                            # one id gives its value, a list a list; a direct task
//	                            # on several engines gives one value per engine, in the
//	                            # order of the call that submitted it (its id given once,
//	                            # or once per engine as ar.task_ids has it)
//	view.apply(f, ..., detached=True), view.map(f, ..., detached=True)
//	                            # the job outlives its client; the hub keeps its results

package api

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

func init() {
	maps.Copy(clientMethods, starlib.NewMethods("Client", map[string]starlib.Method[*ClientValue]{
		"result_status": (*ClientValue).resultStatus,
		"get_result":    (*ClientValue).getResult,
	}))
}

// Detached reports whether ar's tasks were submitted detached=True
// (client.Detacher).
func (ar *AsyncResult) Detached() bool { return ar.detached }

// detachedKey marks a context whose call submits detached=True.
type detachedKey struct{}

// withDetached returns ctx marked for a detached=True call when on.
func withDetached(ctx context.Context, on bool) context.Context {
	if !on {
		return ctx
	}
	return context.WithValue(ctx, detachedKey{}, true)
}

// isDetached reports whether ctx is marked by withDetached.
func isDetached(ctx context.Context) bool {
	on, _ := ctx.Value(detachedKey{}).(bool)
	return on
}

// detach makes task t of ar detached when ctx says so: its results go to
// the hub, which keeps them and forwards them to this client.
func detach(ctx context.Context, ar *AsyncResult, t *wire.Task) {
	if isDetached(ctx) {
		ar.detached = true
		t.Client = wire.DetachedClient
	}
}

// popDetached removes detached= from kw, returning its value.
func popDetached(kw []starlark.Tuple) ([]starlark.Tuple, bool, error) {
	return popBool(kw, "detached", false)
}

// historyAttr serves c.history.
func (v *ClientValue) historyAttr() starlark.Value {
	ids := v.c.History()
	out := make([]starlark.Value, len(ids))
	for i, id := range ids {
		out[i] = starlark.MakeUint64(id)
	}
	return starlark.NewList(out)
}

// taskIDArg reads a task id, a list of them, or an AsyncResult (its
// task ids); single says a lone id was given.
func taskIDArg(name string, v starlark.Value) (ids []uint64, single bool, err error) {
	if ar, ok := v.(*AsyncResult); ok {
		ar.mu.Lock()
		defer ar.mu.Unlock()
		return slices.Clone(ar.ids), ar.scalar(), nil
	}
	if _, ok := v.(starlark.Int); ok {
		v, single = starlark.NewList([]starlark.Value{v}), true
	}
	iter := starlark.Iterate(v)
	if iter == nil {
		return nil, false, fmt.Errorf("%s: want a task id, a list of task ids or an AsyncResult, got %s", name, v.Type())
	}
	defer iter.Done()
	var x starlark.Value
	for iter.Next(&x) {
		n, ok := x.(starlark.Int)
		var id uint64
		if ok {
			id, ok = n.Uint64()
		}
		if !ok || id == 0 {
			return nil, false, fmt.Errorf("%s: %s is not a task id (task ids are the ints in ar.task_ids and c.history)", name, x)
		}
		ids = append(ids, id)
	}
	return ids, single, nil
}

// resultStatus is result_status(task_ids, status_only=True): the tasks
// by state, as ipyparallel's {"pending": [...], "completed": [...]}. This
// client's own tasks are answered from what it knows; others from the
// hub's records. An id the hub has no record of is an error.
func (v *ClientValue) resultStatus(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var idsArg starlark.Value
	statusOnly := true
	if err := starlark.UnpackArgs(b.Name(), args, kw, "task_ids", &idsArg, "status_only?", &statusOnly); err != nil {
		return nil, err
	}
	ids, _, err := taskIDArg(b.Name(), idsArg)
	if err != nil {
		return nil, err
	}
	mine := make(map[uint64]bool)
	for _, id := range v.c.History() {
		mine[id] = true
	}
	var ask []uint64
	for _, id := range ids {
		if !mine[id] {
			ask = append(ask, id)
		}
	}
	state := make(map[uint64]bool) // id → pending
	if len(ask) > 0 {
		ctx, cancel := context.WithTimeout(starlib.Context(th), client.DefaultWait)
		defer cancel()
		r, err := v.c.TaskRecords(ctx, ask, 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if len(r.Unknown) > 0 {
			return nil, fmt.Errorf("%s: the hub has no record of task(s) %v: not task ids, or records evicted past [hub] task_records", b.Name(), r.Unknown)
		}
		for _, rec := range r.Records {
			state[rec.ID] = rec.Pending()
		}
	}
	pending, completed := starlark.NewList(nil), starlark.NewList(nil)
	for _, id := range ids {
		p := state[id]
		if mine[id] {
			p = v.c.Owns(id)
		}
		if p {
			pending.Append(starlark.MakeUint64(id))
		} else {
			completed.Append(starlark.MakeUint64(id))
		}
	}
	d := starlark.NewDict(2)
	d.SetKey(starlark.String("pending"), pending)
	d.SetKey(starlark.String("completed"), completed)
	return d, nil
}

// getResult is get_result(task_ids): an AsyncHubResult of the tasks,
// fetched from the hub, which keeps the results of detached=True jobs:
// from a second client, or after this one reconnected. A task of this
// client still running gives its own AsyncResult.
func (v *ClientValue) getResult(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var idsArg starlark.Value
	block := false
	if err := starlark.UnpackArgs(b.Name(), args, kw, "task_ids", &idsArg, "block?", &block); err != nil {
		return nil, err
	}
	if ar, ok := idsArg.(*AsyncResult); ok {
		return v.finishHub(th, ar, block) // ipyparallel gives a local result back as is (its value when block)
	}
	ids, single, err := taskIDArg(b.Name(), idsArg)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s: no task ids given", b.Name())
	}
	if own, ok := v.c.SinkOf(ids[0]).(*AsyncResult); ok && own.hasIDs(ids) {
		return v.finishHub(th, own, block)
	}
	for _, id := range ids {
		if v.c.SinkOf(id) != nil {
			return nil, fmt.Errorf("%s: task %d is running in this client: use the AsyncResult it came with (or all of its task_ids)", b.Name(), id)
		}
	}
	ctx, cancel := context.WithTimeout(starlib.Context(th), client.DefaultWait)
	defer cancel()
	// A direct task on several engines has one slot per engine, as the
	// AsyncResult that submitted it.
	slots, err := v.c.PlanFetch(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	mode := combineList
	if single && len(slots) == 1 {
		mode = combineSingle
	}
	ar := newAsyncResult(v.c, "get_result", mode, len(slots))
	ar.lb, ar.hub, ar.detached = true, true, true
	for i, s := range slots {
		ar.ids[i] = s.Task
	}
	if _, err := v.c.FetchResults(ctx, slots, ar); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return v.finishHub(th, ar, block)
}

// finishHub returns ar's value when block, else ar.
func (v *ClientValue) finishHub(th *starlark.Thread, ar *AsyncResult, block bool) (starlark.Value, error) {
	if !block {
		return ar, nil
	}
	return ar.Result(starlib.Context(th), -1, false)
}

// hasIDs reports whether ar's tasks are exactly ids.
func (ar *AsyncResult) hasIDs(ids []uint64) bool {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return slices.Equal(ar.ids, ids)
}

// abortRefused says why ar may not be aborted by this client, or nil: an
// AsyncHubResult (get_result) with tasks unfinished is another client's
// detached job, which only the client that submitted it, or `pirun abort`
// on the hub's machine, may stop.
func (ar *AsyncResult) abortRefused(fname string) error {
	if !ar.hub {
		return nil
	}
	ar.mu.Lock()
	defer ar.mu.Unlock()
	for i, got := range ar.got {
		if !got {
			return fmt.Errorf("%s: task %d was not submitted by this client: only the client that submitted a detached job, or `pirun abort %d` on the hub's machine, may stop it", fname, ar.ids[i], ar.ids[i])
		}
	}
	return nil
}
