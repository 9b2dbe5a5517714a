// This file defines DirectView: tasks addressed to chosen engines, the
// ipyparallel way, as a Starlark value.

package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/num"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// DirectView runs tasks on chosen engines. As a Starlark value:
//
//	view.targets                      # list of engine ids
//	view.block = True                 # whether calls wait for results (default False)
//	view.apply(f, *args, **kwargs)    # f on every target: a list (a value for c[i])
//	view.apply_sync(...), view.apply_async(...)
//	view.map(f, *seqs)                # sequences split evenly and in order across targets
//	view.map_sync(...), view.map_async(...)
//	view.execute(code)                # run code in each engine's namespace
//	view.run(path)                    # run a local file's code there
//	view.push(dict), view.pull(name or [names])
//	view.scatter(name, seq), view.gather(name)
//	view["a"] = v; view["a"]          # push and pull of one name (blocking)
//	view.remote(f), view.parallel(f)  # decorators, as the remote and parallel builtins
//	view.wait(timeout=None), view.abort(), view.shutdown(), len(view)
type DirectView struct {
	c      *client.Client
	all    bool  // lazy: every engine at call time
	named  bool  // all, made as direct_view() or direct_view("all"): targets reads "all"
	ids    []int // when !all
	single bool  // c[i]: results are values, not lists

	// parent is the view a temp_flags or targets= view was made from: it
	// keeps that view's results for wait, abort and history. nil for others.
	parent *DirectView

	mu    sync.Mutex // guards block
	block bool
	calls viewCalls // the calls through the view (view_more.go), when it has no parent
}

// owner returns the view that keeps v's results: v, or its parent.
func (v *DirectView) owner() *DirectView {
	if v.parent != nil {
		return v.parent
	}
	return v
}

// NewDirectView returns the view of engines ids of c.
func NewDirectView(c *client.Client, ids []int) *DirectView { return &DirectView{c: c, ids: ids} }

// Targets resolves the view's engines now.
func (v *DirectView) Targets() ([]int, error) {
	if !v.all {
		return v.ids, nil
	}
	ids := v.c.KnownIDs()
	if len(ids) == 0 {
		return nil, &client.NoEnginesError{Want: 1, Hint: v.c.Config().Hint}
	}
	return ids, nil
}

func (v *DirectView) blocking(kwargs []starlark.Tuple) ([]starlark.Tuple, bool, error) {
	v.mu.Lock()
	block := v.block
	v.mu.Unlock()
	return popBool(kwargs, "block", block)
}

// popBool removes a bool keyword from kwargs, returning its value or def.
func popBool(kwargs []starlark.Tuple, name string, def bool) ([]starlark.Tuple, bool, error) {
	for i, kv := range kwargs {
		if k, _ := starlark.AsString(kv[0]); k == name {
			b, ok := kv[1].(starlark.Bool)
			if !ok {
				return nil, false, fmt.Errorf("%s must be True or False, got %s", name, kv[1].Type())
			}
			return slices.Delete(slices.Clone(kwargs), i, i+1), bool(b), nil
		}
	}
	return kwargs, def, nil
}

// finish returns ar's value when block, else ar itself. The view keeps ar
// for wait and abort while it may be running: a blocking call that
// finished forgets it at once, so that its value is not kept alive.
func (v *DirectView) finish(ctx context.Context, ar *AsyncResult, block bool) (starlark.Value, error) {
	calls := &v.owner().calls
	calls.add(ar)
	if !block {
		return ar, nil
	}
	val, err := ar.Result(ctx, -1, false)
	if ar.Ready() {
		calls.forget(ar)
	}
	return val, err
}

// submit sends one task to every target (sharing its payload) and
// returns its AsyncResult.
func (v *DirectView) submit(ctx context.Context, t wire.Task, bundle []byte, mode combine, ids []int) (*AsyncResult, error) {
	return v.submitBlocks(ctx, t, nil, bundle, mode, ids)
}

// submitBlocks is submit with the task's payload, when not nil, as blocks.
func (v *DirectView) submitBlocks(ctx context.Context, t wire.Task, payload wire.Blocks, bundle []byte, mode combine, ids []int) (*AsyncResult, error) {
	if v.single && mode == combineList {
		mode = combineSingle
	}
	ar := newAsyncResult(v.c, t.Label, mode, len(ids))
	ar.single, ar.targets = v.single, ids
	t.ID, t.Client, t.Targets = v.c.NextID(), v.c.ID(), ids
	detach(ctx, ar, &t)
	if t.Comm = spmdJob(t.Kind, v.single, ids); t.Comm != nil {
		// Each rank's daemon: the only one whose messages its peers
		// accept for it ("" for an engine gone, whose task fails).
		t.Comm.Daemons = make([]string, len(ids))
		for i, id := range ids {
			t.Comm.Daemons[i], _ = v.c.DaemonOf(id)
		}
	}
	slots := make(map[int]int, len(ids))
	for i, id := range ids {
		slots[id] = i
		ar.ids[i] = t.ID
	}
	ar.daemons = v.daemons(ids)
	if err := v.c.Track(t.ID, ar, slots, false); err != nil {
		return nil, err
	}
	if err := v.c.SendDirect(ctx, []wire.Task{t}, []wire.Blocks{payload}, bundle); err != nil {
		v.c.Untrack(t.ID)
		return nil, err
	}
	return ar, nil
}

// submitEach sends one task per target with its own payload, in one
// message per daemon.
func (v *DirectView) submitEach(ctx context.Context, base wire.Task, bundle []byte, mode combine, ids []int, payloads [][]byte) (*AsyncResult, error) {
	blocks := make([]wire.Blocks, len(payloads))
	for i, p := range payloads {
		if p != nil {
			blocks[i] = wire.Blocks{p}
		}
	}
	return v.submitEachBlocks(ctx, base, bundle, mode, ids, blocks)
}

// submitEachBlocks is submitEach with payloads as blocks.
func (v *DirectView) submitEachBlocks(ctx context.Context, base wire.Task, bundle []byte, mode combine, ids []int, payloads []wire.Blocks) (*AsyncResult, error) {
	ar := newAsyncResult(v.c, base.Label, mode, len(ids))
	ar.single, ar.targets = v.single, ids
	ar.daemons = v.daemons(ids)
	tasks := make([]wire.Task, len(ids))
	for i, id := range ids {
		t := base
		t.ID, t.Client, t.Targets = v.c.NextID(), v.c.ID(), []int{id}
		detach(ctx, ar, &t)
		ar.ids[i] = t.ID
		if err := v.c.Track(t.ID, ar, map[int]int{id: i}, false); err != nil {
			v.untrackAll(tasks[:i])
			return nil, err
		}
		tasks[i] = t
	}
	if err := v.c.SendDirect(ctx, tasks, payloads, bundle); err != nil {
		v.untrackAll(tasks)
		return nil, err
	}
	return ar, nil
}

func (v *DirectView) untrackAll(tasks []wire.Task) {
	for _, t := range tasks {
		v.c.Untrack(t.ID)
	}
}

func (v *DirectView) daemons(ids []int) map[string][]int {
	out := make(map[string][]int)
	for _, id := range ids {
		if d, err := v.c.DaemonOf(id); err == nil {
			out[d] = append(out[d], id)
		}
	}
	return out
}

// Apply runs f(*args, **kwargs) on every target.
func (v *DirectView) Apply(ctx context.Context, name string, f starlark.Value, args starlark.Tuple, kwargs []starlark.Tuple, block bool) (starlark.Value, error) {
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	bundle, label, err := bundleOf(v.c, f)
	if err != nil {
		return nil, err
	}
	a, kw := callArgs(args, kwargs)
	payload, err := encodePayload(v.c, "the arguments of "+label, a, kw)
	if err != nil {
		return nil, err
	}
	ar, err := v.submit(ctx, wire.Task{Kind: wire.KindApply, Payload: payload, Label: label}, bundle, combineList, ids)
	if err != nil {
		return nil, err
	}
	return v.finish(ctx, ar, block)
}

// Map splits seqs evenly and in order across the targets.
func (v *DirectView) Map(ctx context.Context, name string, f starlark.Value, seqs starlark.Tuple, block bool) (starlark.Value, error) {
	items, err := zipArgs(name, seqs)
	if err != nil {
		return nil, err
	}
	bundle, label, err := bundleOf(v.c, f)
	if err != nil {
		return nil, err
	}
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	var use, counts []int
	var payloads [][]byte
	for i, b := range split(len(items), len(ids)) {
		if b[0] == b[1] {
			continue
		}
		p, err := encodePayload(v.c, "the items of "+label, starlark.NewList(items[b[0]:b[1]]))
		if err != nil {
			return nil, err
		}
		use = append(use, ids[i])
		counts = append(counts, b[1]-b[0])
		payloads = append(payloads, p)
	}
	ar, err := v.submitEach(ctx, wire.Task{Kind: wire.KindMap, Label: "map " + label}, bundle, combineFlatten, use, payloads)
	if err != nil {
		return nil, err
	}
	ar.mu.Lock() // the client's job reports read progress from another goroutine
	ar.counts = counts
	ar.mu.Unlock()
	return v.finish(ctx, ar, block)
}

// Execute runs code, named file, in every target's namespace.
func (v *DirectView) Execute(ctx context.Context, file, code string, block bool) (starlark.Value, error) {
	if _, err := starlib.FileOptions().Parse(file, code, 0); err != nil {
		return nil, starlib.Explain(code, err) // syntax errors before anything is sent
	}
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	ar, err := v.submit(ctx, wire.Task{Kind: wire.KindExecute, File: file, Code: code, Label: "execute " + file}, nil, combineNone, ids)
	if err != nil {
		return nil, err
	}
	return v.finish(ctx, ar, block)
}

// Push sets the dict's names in every target's namespace.
func (v *DirectView) Push(ctx context.Context, ns *starlark.Dict, block bool) (starlark.Value, error) {
	for _, k := range ns.Keys() {
		if _, ok := k.(starlark.String); !ok {
			return nil, fmt.Errorf("push: names must be strings, got %s", k.Type())
		}
	}
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	payload, err := encodePayloadBlocks(v.c, "pushed values", ns)
	if err != nil {
		return nil, err
	}
	ar, err := v.submitBlocks(ctx, wire.Task{Kind: wire.KindPush, Label: "push"}, payload, nil, combineNone, ids)
	if err != nil {
		return nil, err
	}
	return v.finish(ctx, ar, block)
}

// Pull reads names from every target: one name gives its value per
// engine, a list of names gives a list per engine.
func (v *DirectView) Pull(ctx context.Context, names starlark.Value, block bool) (starlark.Value, error) {
	list, one, err := nameList(names)
	if err != nil {
		return nil, err
	}
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	ar, err := v.submit(ctx, wire.Task{Kind: wire.KindPull, Names: list, Label: "pull " + names.String()}, nil, combineList, ids)
	if err != nil {
		return nil, err
	}
	ar.each = v.unpackFuncs
	if one {
		ar.each = func(x starlark.Value) (starlark.Value, error) {
			x, err := v.unpackFuncs(x)
			if err != nil {
				return nil, err
			}
			return first(x)
		}
	}
	return v.finish(ctx, ar, block)
}

func first(v starlark.Value) (starlark.Value, error) {
	if l, ok := v.(*starlark.List); ok && l.Len() == 1 {
		return l.Index(0), nil
	}
	return nil, fmt.Errorf("pull: engine answered %s, want a list of one value", v.Type())
}

func nameList(v starlark.Value) ([]string, bool, error) {
	if s, ok := v.(starlark.String); ok {
		return []string{string(s)}, true, nil
	}
	iter := starlark.Iterate(v)
	if iter == nil {
		return nil, false, fmt.Errorf("pull: want a name or a list of names, got %s", v.Type())
	}
	defer iter.Done()
	var out []string
	var x starlark.Value
	for iter.Next(&x) {
		s, ok := x.(starlark.String)
		if !ok {
			return nil, false, fmt.Errorf("pull: names must be strings, got %s", x.Type())
		}
		out = append(out, string(s))
	}
	return out, false, nil
}

// Scatter splits seq into contiguous chunks, one per target in order,
// and sets name to its chunk in each namespace. With flatten, a chunk of
// one element is that element (ipyparallel's flatten=True).
func (v *DirectView) Scatter(ctx context.Context, name string, seq starlark.Value, flatten, block bool) (starlark.Value, error) {
	if a, ok := seq.(*num.Array); ok {
		return v.scatterArray(ctx, name, a, block) // split along axis 0 (view_arrays.go)
	}
	items, err := indexable("scatter", seq)
	if err != nil {
		return nil, err
	}
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	_, isTuple := seq.(starlark.Tuple)
	payloads := make([]wire.Blocks, len(ids))
	for i, b := range split(items.Len(), len(ids)) {
		payloads[i], err = encodePayloadWith(v.c, "scattered values", func(body *wire.Encoder) error {
			body.EncodeMapHead(1) // {name: chunk}, without making the chunk
			body.EncodeString(name)
			if flatten && b[1]-b[0] == 1 {
				return body.Encode(items.Index(b[0]))
			}
			return body.EncodeRange(items, b[0], b[1], isTuple)
		})
		if err != nil {
			return nil, err
		}
	}
	ar, err := v.submitEachBlocks(ctx, wire.Task{Kind: wire.KindPush, Label: "scatter " + name}, nil, combineNone, ids, payloads)
	if err != nil {
		return nil, err
	}
	return v.finish(ctx, ar, block)
}

// indexable returns seq itself when it is a sequence with random access
// (list, tuple, range), else a list of its elements.
func indexable(fname string, seq starlark.Value) (starlark.Indexable, error) {
	iter := starlark.Iterate(seq)
	if iter == nil {
		return nil, fmt.Errorf("%s: argument 2 is a %s, not a sequence", fname, seq.Type())
	}
	defer iter.Done()
	if ix, ok := seq.(starlark.Indexable); ok {
		return ix, nil
	}
	var out []starlark.Value
	if n := starlark.Len(seq); n > 0 {
		out = make([]starlark.Value, 0, n)
	}
	var x starlark.Value
	for iter.Next(&x) {
		out = append(out, x)
	}
	return starlark.NewList(out), nil
}

// Gather concatenates name's value from every target, in target order.
func (v *DirectView) Gather(ctx context.Context, name string, block bool) (starlark.Value, error) {
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	ar, err := v.submit(ctx, wire.Task{Kind: wire.KindPull, Names: []string{name}, Label: "gather " + name}, nil, combineFlatten, ids)
	if err != nil {
		return nil, err
	}
	ar.each, ar.unwrap = first, true
	return v.finish(ctx, ar, block)
}

// Abort aborts every unfinished task sent through the view.
func (v *DirectView) Abort() { v.owner().calls.abort() }

// ---- Starlark value ----

func (v *DirectView) String() string {
	if v.all {
		return "<DirectView all>"
	}
	return fmt.Sprintf("<DirectView %v>", v.ids)
}
func (v *DirectView) Type() string          { return "DirectView" }
func (v *DirectView) Freeze()               {}
func (v *DirectView) Truth() starlark.Bool  { return true }
func (v *DirectView) Hash() (uint32, error) { return 0, errors.New("unhashable: DirectView") }

// Index returns the id of the i-th target (with Len, len(view) works).
func (v *DirectView) Index(i int) starlark.Value {
	ids, _ := v.Targets()
	return starlark.MakeInt(ids[i])
}

// Len is the number of target engines now.
func (v *DirectView) Len() int {
	ids, _ := v.Targets()
	return len(ids)
}

// Get is view["name"]: a blocking pull.
func (v *DirectView) Get(k starlark.Value) (starlark.Value, bool, error) {
	s, ok := k.(starlark.String)
	if !ok {
		return nil, false, fmt.Errorf("DirectView: index with a name (view[\"a\"]), got %s", k.Type())
	}
	r, err := v.Pull(context.Background(), s, true)
	return r, err == nil, err
}

// SetKey is view["name"] = value: a blocking push.
func (v *DirectView) SetKey(k, val starlark.Value) error {
	s, ok := k.(starlark.String)
	if !ok {
		return fmt.Errorf("DirectView: assign to a name (view[\"a\"] = v), got %s", k.Type())
	}
	d := starlark.NewDict(1)
	d.SetKey(s, val)
	_, err := v.Push(context.Background(), d, true)
	return err
}

func (v *DirectView) AttrNames() []string {
	return dvMethods.Names("block", "history", "outstanding", "targets")
}

func (v *DirectView) Attr(name string) (starlark.Value, error) {
	switch name {
	case "block":
		v.mu.Lock()
		defer v.mu.Unlock()
		return starlark.Bool(v.block), nil
	case "history", "outstanding":
		return v.owner().calls.attr(name), nil
	case "targets":
		if v.named {
			return starlark.String("all"), nil
		}
		return v.targetsValue()
	}
	return dvMethods.Attr(v, name)
}

func (v *DirectView) SetField(name string, val starlark.Value) error {
	if name != "block" {
		return starlark.NoSuchAttrError(fmt.Sprintf("DirectView has no settable field .%s (only .block)", name))
	}
	b, ok := val.(starlark.Bool)
	if !ok {
		return fmt.Errorf("DirectView.block must be True or False, got %s", val.Type())
	}
	v.mu.Lock()
	v.block = bool(b)
	v.mu.Unlock()
	return nil
}

func intList(ids []int) *starlark.List {
	out := make([]starlark.Value, len(ids))
	for i, id := range ids {
		out[i] = starlark.MakeInt(id)
	}
	return starlark.NewList(out)
}
