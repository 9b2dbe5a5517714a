// This file defines the AsyncResult's ipyparallel extras: get_dict, the
// per-task metadata (engine, timestamps, status) and the attributes read
// from it, display_outputs and split.

package api

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// unixSeconds returns t as seconds since the epoch, or None when zero.
func unixSeconds(ns int64) starlark.Value {
	if ns == 0 {
		return starlark.None
	}
	return starlark.Float(float64(ns) / 1e9)
}

// scalar reports whether per-task attributes are a single value (c[i] and
// a load-balanced apply) rather than a list.
func (ar *AsyncResult) scalar() bool {
	return (ar.mode == combineSingle || ar.single) && ar.n == 1
}

// status names slot i's state in metadata: "pending", "ok" or "error".
func (ar *AsyncResult) status(i int) string {
	switch {
	case !ar.got[i]:
		return "pending"
	case ar.results[i].Status == wire.StatusOK:
		return "ok"
	}
	return "error"
}

// metadataOf returns slot i's metadata dict; the caller holds ar.mu.
func (ar *AsyncResult) metadataOf(i int) *starlark.Dict {
	r, got := ar.results[i], ar.got[i]
	d := starlark.NewDict(12)
	set := func(k string, v starlark.Value) { d.SetKey(starlark.String(k), v) }
	set("msg_id", starlark.MakeUint64(ar.ids[i]))
	set("status", starlark.String(ar.status(i)))
	set("submitted", starlark.Float(float64(ar.sent.UnixNano())/1e9))
	engine, host, stdout, errv := starlark.Value(starlark.None), starlark.Value(starlark.None), starlark.Value(starlark.None), starlark.Value(starlark.None)
	started, completed, attempt := starlark.Value(starlark.None), starlark.Value(starlark.None), starlark.Value(starlark.None)
	if got {
		if r.Engine >= 0 {
			engine = starlark.MakeInt(r.Engine)
		}
		host, stdout = starlark.String(r.Host), starlark.String(r.Stdout)
		started, completed, attempt = unixSeconds(r.Started), unixSeconds(r.Finished), starlark.MakeInt(r.Attempt)
		if r.Status != wire.StatusOK {
			errv = ar.slotError(r, i)
		}
	} else if !ar.lb && len(ar.daemons) > 0 {
		engine = ar.directEngine(i)
	}
	set("engine_id", engine)
	set("host", host)
	set("started", started)
	set("completed", completed)
	set("received", completed)
	set("stdout", stdout)
	set("stderr", starlark.String(""))
	set("error", errv)
	set("attempt", attempt)
	return d
}

// directEngine returns the engine a direct task's slot i was sent to, when
// the slots follow the targets (None when not known).
func (ar *AsyncResult) directEngine(i int) starlark.Value {
	if i < len(ar.targets) {
		return starlark.MakeInt(ar.targets[i])
	}
	return starlark.None
}

// perSlot returns f of every slot under ar.mu: a list, or the one value
// when scalar.
func (ar *AsyncResult) perSlot(f func(i int) starlark.Value) starlark.Value {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	out := make([]starlark.Value, ar.n)
	for i := range ar.n {
		out[i] = f(i)
	}
	if ar.scalar() {
		return out[0]
	}
	return starlark.NewList(out)
}

// metaAttr returns the AsyncResult attributes read from its metadata, or
// nil when name is not one.
func (ar *AsyncResult) metaAttr(name string) (starlark.Value, error) {
	switch name {
	case "metadata":
		return ar.perSlot(func(i int) starlark.Value { return ar.metadataOf(i) }), nil
	case "engine_id":
		return ar.Attr("engine_ids")
	case "msg_ids":
		ar.mu.Lock()
		defer ar.mu.Unlock()
		out := make([]starlark.Value, len(ar.ids))
		for i, id := range ar.ids {
			out[i] = starlark.MakeUint64(id)
		}
		return starlark.NewList(out), nil
	case "sent":
		return starlark.True, nil // a call returns its AsyncResult once sent
	case "submitted":
		return ar.perSlot(func(int) starlark.Value { return starlark.Float(float64(ar.sent.UnixNano()) / 1e9) }), nil
	case "started":
		return ar.perSlot(func(i int) starlark.Value {
			if !ar.got[i] {
				return starlark.None
			}
			return unixSeconds(ar.results[i].Started)
		}), nil
	case "completed", "received":
		return ar.perSlot(func(i int) starlark.Value {
			if !ar.got[i] {
				return starlark.None
			}
			return unixSeconds(ar.results[i].Finished)
		}), nil
	case "stderr":
		return ar.perSlot(func(int) starlark.Value { return starlark.String("") }), nil
	case "status":
		return ar.perSlot(func(i int) starlark.Value { return starlark.String(ar.status(i)) }), nil
	case "wall_time", "serial_time":
		if !ar.Ready() {
			return nil, fmt.Errorf("TimeoutError: %s: %s is known once every task finished (%d of %d done); call ar.wait() first", ar.label, name, ar.progress(), ar.Len())
		}
		ar.mu.Lock()
		defer ar.mu.Unlock()
		if name == "wall_time" {
			// from submission to the last completion (ipyparallel: max(received) - min(submitted))
			last := ar.sent.UnixNano()
			for _, r := range ar.results {
				last = max(last, r.Finished)
			}
			return starlark.Float(float64(last-ar.sent.UnixNano()) / 1e9), nil
		}
		var sum time.Duration // the tasks' running times added up
		for _, r := range ar.results {
			if r.Started > 0 && r.Finished > r.Started {
				sum += time.Duration(r.Finished - r.Started)
			}
		}
		return starlark.Float(sum.Seconds()), nil
	}
	return nil, nil
}

// metaNames are the attributes metaAttr answers.
var metaNames = []string{"completed", "engine_id", "metadata", "msg_ids", "received", "sent", "serial_time",
	"started", "status", "stderr", "submitted", "wall_time"}

// sGetDict is get_dict(timeout=None): {engine id: value}, for results
// with one task per engine (as ipyparallel, which refuses otherwise).
func (ar *AsyncResult) sGetDict(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var timeout starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kw, "timeout?", &timeout); err != nil {
		return nil, err
	}
	d, err := timeoutArg(b, timeout)
	if err != nil {
		return nil, err
	}
	if _, err := ar.Result(starlib.Context(th), d, false); err != nil {
		return nil, err
	}
	out := starlark.NewDict(ar.n)
	for i := range ar.n {
		ar.mu.Lock()
		eng := ar.results[i].Engine
		ar.mu.Unlock()
		k := starlark.MakeInt(eng)
		if _, found, _ := out.Get(k); found {
			return nil, fmt.Errorf("%s: engine %d ran more than one task of %s; get_dict needs one task per engine (use get())", b.Name(), eng, ar.label)
		}
		v, err := ar.Value(i)
		if err != nil {
			return nil, err
		}
		if ar.mode == combineNone {
			v = starlark.None
		}
		out.SetKey(k, v)
	}
	return out, nil
}

// sDone is done(): whether every task finished (a Future's done).
func (ar *AsyncResult) sDone(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	return starlark.Bool(ar.Ready()), nil
}

// sDisplayOutputs is display_outputs(groupby="type"): it prints each
// task's captured output under an ipyparallel header, "[stdout:3]" (the
// engine id). groupby "engine" and "order" print task by task; "type"
// prints all stdout, then all stderr (which engines do not capture: none).
func (ar *AsyncResult) sDisplayOutputs(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	groupby := "type"
	if err := starlark.UnpackArgs(b.Name(), args, kw, "groupby?", &groupby); err != nil {
		return nil, err
	}
	switch groupby {
	case "type", "engine", "order":
	default:
		return nil, fmt.Errorf("%s: groupby must be \"type\", \"engine\" or \"order\", got %q", b.Name(), groupby)
	}
	if _, err := ar.Wait(starlib.Context(th), -1); err != nil {
		return nil, err
	}
	ar.mu.Lock()
	results := append([]wire.Result(nil), ar.results...)
	ar.mu.Unlock()
	print := th.Print
	if print == nil {
		print = func(_ *starlark.Thread, msg string) { fmt.Println(msg) }
	}
	for _, r := range results {
		if r.Stdout == "" {
			continue
		}
		who := fmt.Sprint(r.Engine)
		if r.Engine < 0 {
			who = "?"
		}
		print(th, fmt.Sprintf("[stdout:%s] %s", who, strings.TrimSuffix(r.Stdout, "\n")))
	}
	return starlark.None, nil
}

// sSplit is split(): one AsyncResult per task, each following its task
// of ar (a map task's AsyncResult yields its items).
func (ar *AsyncResult) sSplit(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	ar.mu.Lock()
	defer ar.mu.Unlock()
	out := make([]starlark.Value, ar.n)
	for i := range ar.n {
		mode := combineSingle
		if ar.mode == combineNone || ar.mode == combineFlatten {
			mode = ar.mode
		}
		child := newAsyncResult(ar.c, ar.label, mode, 1)
		child.sent, child.lb, child.daemons, child.each, child.unwrap = ar.sent, ar.lb, ar.daemons, ar.each, ar.unwrap
		child.single, child.ids = true, []uint64{ar.ids[i]}
		if i < len(ar.targets) {
			child.targets = ar.targets[i : i+1]
		}
		if ar.counts != nil {
			child.counts = ar.counts[i : i+1]
		}
		if ar.got[i] {
			r := ar.results[i]
			if ar.values[i] != nil && r.Status == wire.StatusOK {
				child.values[0] = ar.values[i] // decoded already: its bytes are gone
			}
			child.Complete(0, r)
		} else {
			ar.children = append(ar.children, splitChild{slot: i, ar: child})
		}
		out[i] = child
	}
	return starlark.NewList(out), nil
}

// splitChild is an AsyncResult that split made of one slot.
type splitChild struct {
	slot int
	ar   *AsyncResult
}

// metaKeys are the metadata keys ar["key"] reads that are not attributes.
var metaKeys = []string{"attempt", "error", "host", "msg_id"}

// Get is ar[key], as ipyparallel's AsyncResult.__getitem__: an int (or
// a negative one) is the value of that task (waiting for it); a string
// is that metadata key of every task (a value for a single-task result),
// such as ar["engine_id"] (None while pending), ar["started"].
func (ar *AsyncResult) Get(k starlark.Value) (starlark.Value, bool, error) {
	switch k := k.(type) {
	case starlark.Int:
		all, err := ar.Result(context.Background(), -1, false)
		if err != nil {
			return nil, false, err
		}
		l, ok := all.(starlark.Indexable)
		if _, isStr := all.(starlark.String); !ok || isStr {
			return nil, false, fmt.Errorf("AsyncResult index: a single result (%s) has no items", all.Type())
		}
		i, err := starlark.AsInt32(k)
		if i < 0 {
			i += l.Len()
		}
		if err != nil || i < 0 || i >= l.Len() {
			return nil, false, fmt.Errorf("AsyncResult index %s out of range: it has %d result(s)", k, l.Len())
		}
		return l.Index(i), true, nil
	case starlark.String:
		name := string(k)
		if slices.Contains(metaNames, name) && name != "metadata" {
			v, err := ar.metaAttr(name)
			return v, err == nil, err
		}
		if name == "stdout" || slices.Contains(metaKeys, name) {
			return ar.perSlot(func(i int) starlark.Value {
				v, _, _ := ar.metadataOf(i).Get(k)
				return v
			}), true, nil
		}
		return nil, false, fmt.Errorf("AsyncResult has no metadata key %q (its keys: %s)", name, strings.Join(slices.Sorted(slices.Values(append(slices.Clone(metaKeys), "completed", "engine_id", "received", "started", "status", "stderr", "stdout", "submitted"))), ", "))
	}
	return nil, false, fmt.Errorf("AsyncResult index: want an int or a metadata key (a string), got %s", k.Type())
}

// sWaitForSend is wait_for_send(timeout=-1): True, as a call returns its
// AsyncResult once its tasks are sent.
func (ar *AsyncResult) sWaitForSend(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var timeout starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kw, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return starlark.True, nil
}
