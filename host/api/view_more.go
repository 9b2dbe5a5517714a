// This file defines the rest of ipyparallel's View surface on both
// views: wait(jobs), queue_status, imap, set_flags and temp_flags,
// history, outstanding, spin and get_result; on a DirectView also
// clear and the dict-like update and get.

package api

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
)

func init() {
	maps.Copy(dvMethods, starlib.NewMethods("DirectView", map[string]dvMethod{
		"wait":         dvWait,
		"queue_status": dvQueueStatus,
		"clear":        dvClear,
		"update":       dvUpdate,
		"get":          dvGet,
		"imap":         dvMap(ptr(false)),
		"set_flags":    dvSetFlags,
		"temp_flags":   dvTempFlags,
		"spin":         viewSpin[*DirectView],
		"get_result":   dvGetResult,
	}))
	maps.Copy(lbMethods, starlib.NewMethods("LoadBalancedView", map[string]starlib.Method[*LoadBalancedView]{
		"wait":         lbWait,
		"queue_status": lbQueueStatus,
		"imap":         lbMap(ptr(false)),
		"set_flags":    lbSetFlags,
		"temp_flags":   lbTempFlags,
		"spin":         viewSpin[*LoadBalancedView],
		"get_result":   lbGetResult,
	}))
}

// viewCalls is what a view keeps of the calls made through it (by it, or
// by the temp_flags and targets= views made from it): their AsyncResults
// while they may run, for wait, abort and outstanding, and their last
// maxHistory task ids, for history and get_result. The zero value is
// ready; it is safe for concurrent use.
type viewCalls struct {
	mu          sync.Mutex
	outstanding []*AsyncResult
	pruned      int      // len(outstanding) after the last pruning
	hist        []uint64 // the last maxHistory task ids
}

// maxHistory bounds a view's history, as the client's own.
const maxHistory = 4096

// add keeps ar, dropping finished results in bulk (amortised).
func (vc *viewCalls) add(ar *AsyncResult) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	if len(vc.outstanding) >= 2*vc.pruned+64 {
		vc.outstanding = slices.DeleteFunc(vc.outstanding, (*AsyncResult).Ready)
		vc.pruned = len(vc.outstanding)
	}
	vc.outstanding = append(vc.outstanding, ar)
	ar.mu.Lock()
	vc.hist = append(vc.hist, ar.ids...)
	ar.mu.Unlock()
	if over := len(vc.hist) - maxHistory; over > 0 {
		vc.hist = slices.Delete(vc.hist, 0, over)
	}
}

// forget drops ar from the outstanding results (its history stays).
func (vc *viewCalls) forget(ar *AsyncResult) {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	for i := len(vc.outstanding) - 1; i >= 0; i-- { // ar is most likely last
		if vc.outstanding[i] == ar {
			vc.outstanding = slices.Delete(vc.outstanding, i, i+1)
			vc.pruned = min(vc.pruned, len(vc.outstanding))
			return
		}
	}
}

// running returns the results kept, finished or not.
func (vc *viewCalls) running() []*AsyncResult {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	return slices.Clone(vc.outstanding)
}

// history returns the task ids kept, oldest first.
func (vc *viewCalls) history() []uint64 {
	vc.mu.Lock()
	defer vc.mu.Unlock()
	return slices.Clone(vc.hist)
}

// wait waits for every call kept.
func (vc *viewCalls) wait(ctx context.Context, timeout time.Duration) (bool, error) {
	return waitAll(ctx, vc.running(), timeout)
}

// abort aborts every unfinished call kept.
func (vc *viewCalls) abort() {
	for _, ar := range vc.running() {
		ar.Abort()
	}
}

// attr answers a view's history (a list of task ids) and outstanding (the
// set of the unfinished ones).
func (vc *viewCalls) attr(name string) starlark.Value {
	if name == "history" {
		hist := vc.history()
		out := make([]starlark.Value, len(hist))
		for i, id := range hist {
			out[i] = starlark.MakeUint64(id)
		}
		return starlark.NewList(out)
	}
	s := starlark.NewSet(0)
	for _, ar := range vc.running() {
		ar.mu.Lock()
		for i, got := range ar.got {
			if !got {
				s.Insert(starlark.MakeUint64(ar.ids[i]))
			}
		}
		ar.mu.Unlock()
	}
	return s
}

// viewSpin is spin(): results arrive in the background.
func viewSpin[V any](_ V, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return starlark.None, starlark.UnpackArgs(b.Name(), args, kw)
}

// waitArgs reads wait(jobs=None, timeout=None) of a view. A number alone
// is the timeout (pirun's view.wait(30)); AsyncResults and lists of them
// or of task ids are jobs. None as jobs means every call sent through
// the view.
func waitArgs(b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (jobs starlark.Value, timeout starlark.Value, err error) {
	jobs, timeout = starlark.None, starlark.None
	if len(args) == 1 && len(kw) == 0 {
		switch x := args[0].(type) {
		case starlark.Float, starlark.String:
			return starlark.None, x, nil
		case starlark.Int:
			if u, ok := x.Uint64(); !ok || u < 1<<32 { // task ids are 63 random bits
				return starlark.None, x, nil
			}
		}
	}
	err = starlark.UnpackArgs(b.Name(), args, kw, "jobs?", &jobs, "timeout?", &timeout)
	return jobs, timeout, err
}

// dvWait is wait(jobs=None, timeout=None): whether the jobs (every call
// sent through the view when None) finished within the timeout.
func dvWait(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return viewWait(th, b, v.c, args, kw, &v.owner().calls)
}

func lbWait(v *LoadBalancedView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return viewWait(th, b, v.c, args, kw, &v.owner().calls)
}

// viewWait is a view's wait: on the jobs given, else on the view's own
// calls.
func viewWait(th *starlark.Thread, b *starlark.Builtin, c *client.Client, args starlark.Tuple, kw []starlark.Tuple, own *viewCalls) (starlark.Value, error) {
	jobs, timeout, err := waitArgs(b, args, kw)
	if err != nil {
		return nil, err
	}
	d, err := timeoutArg(b, timeout)
	if err != nil {
		return nil, err
	}
	if jobs != starlark.None {
		return waitJobs(th, b, c, jobs, timeout)
	}
	ok, err := own.wait(starlib.Context(th), d)
	return starlark.Bool(ok), err
}

// targetsValue is the view's targets as queue_status and clear take them.
func (v *DirectView) targetsValue() (starlark.Value, error) {
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	if v.single {
		return starlark.MakeInt(ids[0]), nil
	}
	return intList(ids), nil
}

// dvQueueStatus is queue_status(targets=None, verbose=False) of the
// view's engines (the Client's, with targets defaulting to the view's).
func dvQueueStatus(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return withDefaultTargets(v.targetsValue, (&ClientValue{c: v.c}).queueStatus, th, b, args, kw)
}

func lbQueueStatus(v *LoadBalancedView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	targets := func() (starlark.Value, error) {
		if t := v.targetList(); t != nil {
			return intList(t), nil
		}
		return starlark.None, nil
	}
	return withDefaultTargets(targets, (&ClientValue{c: v.c}).queueStatus, th, b, args, kw)
}

// dvClear is clear(targets=None, block=None) of the view's engines.
func dvClear(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if !hasKeyword(kw, "block") && len(args) < 2 {
		kw = append(kw, starlark.Tuple{starlark.String("block"), starlark.Bool(v.isBlocking())})
	}
	return withDefaultTargets(v.targetsValue, (&ClientValue{c: v.c}).clear, th, b, args, kw)
}

// withDefaultTargets calls f with targets= set to the view's targets
// unless the call names its own.
func withDefaultTargets(targets func() (starlark.Value, error), f builtinFunc, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) == 0 && !hasKeyword(kw, "targets") {
		t, err := targets()
		if err != nil {
			return nil, err
		}
		kw = append(slices.Clone(kw), starlark.Tuple{starlark.String("targets"), t})
	}
	return f(th, b, args, kw)
}

// builtinFunc is the function of a starlark.Builtin.
type builtinFunc = func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error)

// hasKeyword reports whether kw names name.
func hasKeyword(kw []starlark.Tuple, name string) bool {
	for _, kv := range kw {
		if k, _ := starlark.AsString(kv[0]); k == name {
			return true
		}
	}
	return false
}

// dvUpdate is update(ns): push, as a dict's update (ipyparallel's
// DirectView is dict-like).
func dvUpdate(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return dvPush(v, th, b, args, kw)
}

// dvGet is get(key_s): a blocking pull of a name or a list of names.
func dvGet(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var names starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kw, "key_s", &names); err != nil {
		return nil, err
	}
	return v.Pull(starlib.Context(th), names, true)
}

// dvFlags sets a DirectView's flags from keywords: block, and track
// (accepted for ipyparallel's scripts; a call returns once sent, so there
// is nothing to track).
func (v *DirectView) setFlags(fname string, kw []starlark.Tuple) error {
	for _, kv := range kw {
		name, _ := starlark.AsString(kv[0])
		switch name {
		case "block":
			if err := v.SetField("block", kv[1]); err != nil {
				return fmt.Errorf("%s: %w", fname, err)
			}
		case "track":
			if _, ok := kv[1].(starlark.Bool); !ok {
				return fmt.Errorf("%s: track must be True or False, got %s", fname, kv[1].Type())
			}
		default:
			return fmt.Errorf("%s: DirectView has no flag %q (its flags: block, track)", fname, name)
		}
	}
	return nil
}

// dvSetFlags is set_flags(**flags).
func dvSetFlags(v *DirectView, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: flags are keyword arguments (set_flags(block=True))", b.Name())
	}
	return starlark.None, v.setFlags(b.Name(), kw)
}

// dvTempFlags is temp_flags(**flags): ipyparallel's context manager,
// which Starlark has no with statement for, as a view with those flags
// whose calls count as the view's own (wait, abort, history):
// view.temp_flags(block=False).apply(f) for
// "with view.temp_flags(block=False): view.apply(f)".
func dvTempFlags(v *DirectView, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: flags are keyword arguments (temp_flags(block=False))", b.Name())
	}
	t := &DirectView{c: v.c, all: v.all, named: v.named, ids: v.ids, single: v.single, parent: v.owner(), block: v.isBlocking()}
	return t, t.setFlags(b.Name(), kw)
}

// dvGetResult is get_result(indices_or_msg_ids=None, block=None,
// owner=False): the Client's get_result; None gives the view's last call.
func dvGetResult(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return viewGetResult(v.c, v.owner().calls.history(), th, b, args, kw)
}

func lbGetResult(v *LoadBalancedView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return viewGetResult(v.c, v.owner().calls.history(), th, b, args, kw)
}

// viewGetResult is a view's get_result: negative ints index the view's
// history, as in ipyparallel; owner= is accepted (a result stays with
// its AsyncResult either way).
func viewGetResult(c *client.Client, hist []uint64, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	ids := starlark.Value(starlark.None)
	block := starlark.Value(starlark.None)
	var owner bool
	if err := starlark.UnpackArgs(b.Name(), args, kw, "indices_or_msg_ids?", &ids, "block?", &block, "owner?", &owner); err != nil {
		return nil, err
	}
	if ids == starlark.None {
		ids = starlark.MakeInt(-1)
	}
	if i, ok := ids.(starlark.Int); ok && i.Sign() < 0 {
		k, _ := starlark.AsInt32(i)
		if -k > len(hist) {
			return nil, fmt.Errorf("%s: index %d: the view sent %d task(s)", b.Name(), k, len(hist))
		}
		ids = starlark.MakeUint64(hist[len(hist)+k])
	}
	kwargs := []starlark.Tuple{{starlark.String("block"), starlark.Bool(block == starlark.True)}}
	return (&ClientValue{c: c}).getResultOf(th, b, starlark.Tuple{ids}, kwargs)
}

// lbSetFlags is set_flags(**flags): block, retries, timeout, after,
// follow, detached, and track (accepted; nothing to track).
func lbSetFlags(v *LoadBalancedView, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: flags are keyword arguments (set_flags(retries=2))", b.Name())
	}
	f, err := v.flagsOf(b.Name(), kw)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	v.flags = f
	v.mu.Unlock()
	return starlark.None, nil
}

// flagsOf returns the view's flags with kw set, or an error naming a
// keyword that is not a flag.
func (v *LoadBalancedView) flagsOf(fname string, kw []starlark.Tuple) (lbFlags, error) {
	var rest []starlark.Tuple
	for _, kv := range kw {
		if k, _ := starlark.AsString(kv[0]); k == "track" {
			if _, ok := kv[1].(starlark.Bool); !ok {
				return lbFlags{}, fmt.Errorf("%s: track must be True or False, got %s", fname, kv[1].Type())
			}
			continue
		}
		rest = append(rest, kv)
	}
	f, other, err := v.flagsFrom(rest, true)
	if err != nil {
		return f, fmt.Errorf("%s: %w", fname, err)
	}
	if len(other) > 0 {
		return f, fmt.Errorf("%s: LoadBalancedView has no flag %s (its flags: block, retries, timeout, after, follow, detached, track)", fname, other[0][0])
	}
	return f, nil
}

// lbTempFlags is temp_flags(**flags): a view with those flags whose calls
// count as the view's own (see dvTempFlags).
func lbTempFlags(v *LoadBalancedView, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%s: flags are keyword arguments (temp_flags(retries=2))", b.Name())
	}
	f, err := v.flagsOf(b.Name(), kw)
	if err != nil {
		return nil, err
	}
	return &LoadBalancedView{c: v.c, targets: v.targetList(), parent: v.owner(), flags: f}, nil
}

// targetList returns the engines the view may use (nil: any).
func (v *LoadBalancedView) targetList() []int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.targets
}
