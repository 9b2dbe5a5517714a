// This file defines how one task runs: the Starlark thread, its limits and
// cancellation, and each task kind.

package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/engine/comm"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/num"
	"github.com/pirun-dev/pirun/starlib/random"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// maxStdout bounds the print output kept per task (streaming is not cut).
const maxStdout = 1 << 20

// errTimeout is the cancellation cause of a task that ran past its timeout.
var errTimeout = comm.ErrTimeout

// taskRun is the state of one running task.
type taskRun struct {
	e      *Engine
	t      *wire.Task
	thread *starlark.Thread
	stdout strings.Builder
}

// run executes j and returns its result, whose value (when there is one)
// is in blocks, not in Value. ctx is cancelled on abort.
func (e *Engine) run(ctx context.Context, j job) (wire.Result, wire.Blocks) {
	t := j.task
	timeout := time.Duration(t.Timeout)
	if timeout <= 0 {
		timeout = e.d.cfg.TaskTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, errTimeout)
		defer cancel()
	}
	defer busyGC.begin()() // collect less often while tasks run (gc.go)
	r := &taskRun{e: e, t: t}
	r.thread = &starlark.Thread{
		Name:  e.threadName,
		Print: r.print,
		Load:  noLoad,
	}
	if e.d.cfg.MaxSteps > 0 {
		r.thread.SetMaxExecutionSteps(e.d.cfg.MaxSteps)
	}
	starlib.SetContext(r.thread, ctx)
	random.SetSource(r.thread, e.rand)
	num.SetLimits(r.thread, e.limits)
	num.SetRandSource(r.thread, e.numRand)
	stop := starlib.BindCancel(ctx, r.thread)
	res := wire.Result{Task: t.ID, Engine: e.ID, Attempt: t.Attempt, Host: e.d.host,
		Started: time.Now().UnixNano()}
	rank := e.d.comm.Begin(e.ID, t) // nil outside SPMD jobs
	value, err := r.exec(j)
	if err == nil {
		err = e.d.memoryError(ctx) // a value kept or returned past max_memory
	}
	err = e.d.comm.End(ctx, e.ID, rank, err)
	stop()
	res.Finished = time.Now().UnixNano()
	res.Stdout = r.stdout.String()
	var blocks wire.Blocks
	if err == nil {
		blocks, err = wire.MarshalBlocks(value, e.d.maxChunk)
		if err != nil {
			err = fmt.Errorf("cannot send the result of %s back: %w", t.Label, err)
		}
	}
	var ie *itemErrors
	switch {
	case errors.As(err, &ie):
		res.Status, res.Items = wire.StatusError, ie.items
		res.Err = &wire.Error{Type: wire.RemoteError, Message: ie.Error(), Backtrace: ie.items[0].Err.Backtrace}
		if blocks, err = wire.MarshalBlocks(ie.values, e.d.maxChunk); err != nil {
			res.Err.Message += "; and the other results cannot be sent back: " + err.Error()
		}
	case err != nil:
		res.Status, res.Err = classify(ctx, err, timeout)
	default:
		res.Status = wire.StatusOK
	}
	return res, blocks
}

// classify turns a task's error into a status and an error description.
func classify(ctx context.Context, err error, timeout time.Duration) (wire.Status, *wire.Error) {
	var me *MemoryError
	switch cause := context.Cause(ctx); {
	case errors.As(cause, &me) || errors.As(err, &me):
		return wire.StatusError, &wire.Error{Type: wire.MemoryError, Message: me.Error(), Backtrace: backtrace(err)}
	case errors.Is(cause, errShutdown):
		return wire.StatusLost, &wire.Error{Type: wire.EngineError, Message: "the engine was shut down while running the task", Backtrace: backtrace(err)}
	case errors.Is(cause, errAborted):
		return wire.StatusAborted, &wire.Error{Type: wire.TaskAborted, Message: "aborted while running", Backtrace: backtrace(err)}
	case comm.AbortedPeer(err):
		// Another rank's abort overtook this rank's own: the same abort.
		return wire.StatusAborted, &wire.Error{Type: wire.TaskAborted, Message: "aborted while running: " + err.Error(), Backtrace: backtrace(err)}
	case errors.Is(cause, errTimeout):
		return wire.StatusTimeout, &wire.Error{Type: wire.TimeoutError,
			Message:   fmt.Sprintf("task ran longer than its timeout of %v and was stopped; the engine stays usable", timeout),
			Backtrace: backtrace(err)}
	}
	return wire.StatusError, &wire.Error{Type: wire.RemoteError, Message: err.Error(), Backtrace: backtrace(err)}
}

// backtrace returns a Starlark traceback for err, or "" if it has none.
func backtrace(err error) string {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return starlib.Backtrace(ee) // a runaway recursion shortened
	}
	return ""
}

func (r *taskRun) print(_ *starlark.Thread, msg string) {
	if r.stdout.Len() < maxStdout {
		r.stdout.WriteString(msg)
		r.stdout.WriteByte('\n')
	}
	r.e.d.pub.output(r.t, r.e.ID, msg+"\n")
}

func noLoad(_ *starlark.Thread, module string) (starlark.StringDict, error) {
	return nil, fmt.Errorf("load(%q): engines never read the host's files; load it in the script on the host, and the functions you send carry its source", module)
}

// exec runs the task's kind and returns its value.
func (r *taskRun) exec(j job) (starlark.Value, error) {
	switch r.t.Kind {
	case wire.KindApply:
		return r.apply(j)
	case wire.KindMap:
		return r.mapItems(j)
	case wire.KindExecute:
		return starlark.None, r.execute(r.t.File, r.t.Code)
	case wire.KindPush:
		return starlark.None, r.push()
	case wire.KindPull:
		return r.pull()
	case wire.KindClear:
		r.e.ns = new(starlark.Dict)
		return starlark.None, nil
	case wire.KindPing:
		return starlark.None, nil
	}
	return nil, fmt.Errorf("unknown task kind %d: is this engine older than the client? (pirun version)", r.t.Kind)
}

// maxLastBundle bounds the copy of the last bundle an engine keeps.
const maxLastBundle = 64 << 10

// function rebuilds (or finds in the cache) the task's function.
func (r *taskRun) function(j job) (*starlark.Function, error) {
	if j.bundle == nil {
		return nil, errors.New("task has no function")
	}
	e := r.e
	if e.lastFn != nil && bytes.Equal(e.lastBundle, j.bundle) {
		return e.lastFn, nil
	}
	fn, err := e.cache.Load(j.bundle, e.predecl)
	if err == nil && len(j.bundle) <= maxLastBundle {
		e.lastBundle, e.lastFn = append(e.lastBundle[:0], j.bundle...), fn
	}
	return fn, err
}

func (r *taskRun) apply(j job) (starlark.Value, error) {
	fn, err := r.function(j)
	if err != nil {
		return nil, err
	}
	d, err := r.payload()
	if err != nil {
		return nil, err
	}
	args, kwargs, err := decodeCall(d)
	if err != nil {
		return nil, err
	}
	r.bindArrays(fn, args)
	for _, kv := range kwargs {
		num.BindValue(r.thread, kv[1])
	}
	return starlark.Call(r.thread, fn, args, kwargs)
}

// itemErrors is the outcome of a map task some of whose items failed:
// the values (None where an item failed) and the failures.
type itemErrors struct {
	values *starlark.List
	items  []wire.ItemError
}

func (e *itemErrors) Error() string {
	return fmt.Sprintf("%d of %d items failed; the first (item %d): %s", len(e.items), e.values.Len(), e.items[0].Index, e.items[0].Err.Message)
}

// mapItems calls the function once per argument tuple of the payload. An
// item that fails does not stop the others; a cancellation (abort,
// timeout, shutdown) stops the whole task.
func (r *taskRun) mapItems(j job) (starlark.Value, error) {
	fn, err := r.function(j)
	if err != nil {
		return nil, err
	}
	d, err := r.payload()
	if err != nil {
		return nil, err
	}
	v, err := d.Decode()
	if err != nil {
		return nil, fmt.Errorf("decode map items: %w", err)
	}
	items, ok := v.(*starlark.List)
	if !ok {
		return nil, fmt.Errorf("decode map items: got %s, want list", v.Type())
	}
	r.bindArrays(fn, items)
	out := make([]starlark.Value, items.Len())
	var failed []wire.ItemError
	ctx := starlib.Context(r.thread)
	for i := range items.Len() {
		args, _ := items.Index(i).(starlark.Tuple)
		out[i], err = starlark.Call(r.thread, fn, args, nil)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			out[i] = starlark.None
			failed = append(failed, wire.ItemError{Index: i, Err: wire.Error{Type: wire.RemoteError, Message: err.Error(), Backtrace: backtrace(err)}})
		}
	}
	if failed != nil {
		return nil, &itemErrors{values: starlark.NewList(out), items: failed}
	}
	return starlark.NewList(out), nil
}

// payload returns a decoder positioned after the payload's reference
// table, which resolves ref("name") against this engine's namespace,
// shipped functions through the engine's cache, and universal builtins.
func (r *taskRun) payload() (*wire.Decoder, error) {
	d := wire.NewBytesDecoder(r.t.Payload)
	d.KeepArrays = true // a message's bytes, never written again (daemon.receive)
	refs, err := wire.DecodePayloadRefs(d)
	if err != nil {
		return nil, fmt.Errorf("decode task payload: %w", err)
	}
	d.Ref = func(i uint64) (starlark.Value, error) {
		if i >= uint64(len(refs)) {
			return nil, fmt.Errorf("reference %d out of range", i)
		}
		return r.resolve(refs[i])
	}
	return d, nil
}

func (r *taskRun) resolve(ref wire.PayloadRef) (starlark.Value, error) {
	switch ref.Kind {
	case wire.RefNamespace:
		v, found, err := r.e.ns.Get(starlark.String(ref.Name))
		if !found && !isIdent(ref.Name) {
			return r.evalRef(ref.Name) // ref("g[0]"): an expression, as ipyparallel's Reference
		}
		if err != nil || !found {
			return nil, fmt.Errorf("ref(%q): engine %d has no %q in its namespace; push it first (view.push({%q: …})) or assign it with execute", ref.Name, r.e.ID, ref.Name, ref.Name)
		}
		num.BindValue(r.thread, v)
		return v, nil
	case wire.RefFunction:
		fn, err := r.e.cache.Load(ref.Bundle, r.e.predecl)
		if err == nil {
			r.e.pulls.shipped(fn, ref.Bundle)
		}
		return fn, err
	case wire.RefUniverse:
		if v, ok := starlark.Universe[ref.Name]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("builtin %q does not exist on this engine (pirun version?)", ref.Name)
	}
	return nil, fmt.Errorf("unknown reference kind %d: is this engine older than the client? (pirun version)", ref.Kind)
}

// isIdent reports whether s is a plain name (ref("x")), not an expression.
func isIdent(s string) bool {
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != ""
}

// evalRef evaluates the expression of a ref in this engine's namespace
// (its names first, then the predeclared ones).
func (r *taskRun) evalRef(expr string) (starlark.Value, error) {
	env := make(starlark.StringDict, len(r.e.predecl)+r.e.ns.Len())
	for k, v := range r.e.predecl {
		env[k] = v
	}
	for _, kv := range r.e.ns.Items() {
		if k, ok := kv[0].(starlark.String); ok {
			env[string(k)] = kv[1]
		}
	}
	v, err := starlark.EvalOptions(starlib.FileOptions(), r.thread, "<ref>", expr, env)
	if err != nil {
		return nil, fmt.Errorf("ref(%q) on engine %d: %v", expr, r.e.ID, err)
	}
	return v, nil
}

// decodeCall reads [args tuple, kwargs dict] from d.
func decodeCall(d *wire.Decoder) (starlark.Tuple, []starlark.Tuple, error) {
	a, err := d.Decode()
	if err != nil {
		return nil, nil, fmt.Errorf("decode arguments: %w", err)
	}
	args, ok := a.(starlark.Tuple)
	if !ok {
		return nil, nil, fmt.Errorf("decode arguments: got %s, want tuple", a.Type())
	}
	k, err := d.Decode()
	if err != nil {
		return nil, nil, fmt.Errorf("decode keyword arguments: %w", err)
	}
	kd, ok := k.(*starlark.Dict)
	if !ok {
		return nil, nil, fmt.Errorf("decode keyword arguments: got %s, want dict", k.Type())
	}
	return args, kd.Items(), nil
}

// execute runs code in the namespace: names it assigns persist.
func (r *taskRun) execute(file, code string) error {
	f, err := starlib.FileOptions().Parse(file, code, 0)
	if err != nil {
		return starlib.Explain(code, err)
	}
	globals := make(starlark.StringDict, len(r.e.predecl)+r.e.ns.Len())
	for k, v := range r.e.predecl {
		globals[k] = v
	}
	for _, kv := range r.e.ns.Items() {
		if k, ok := kv[0].(starlark.String); ok {
			globals[string(k)] = kv[1]
		}
		if a, ok := kv[1].(*num.Array); ok {
			num.BindThread(r.thread, a) // left by an earlier task: this one answers for it now
		}
	}
	err = starlark.ExecREPLChunk(f, r.thread, globals)
	if me := r.e.d.memoryError(starlib.Context(r.thread)); me != nil {
		return me // keep none of its names: they hold the memory
	}
	r.e.pulls.defined(file, code, globals)
	for k, v := range globals {
		if p, ok := r.e.predecl[k]; ok && p == v {
			continue
		}
		if err := r.e.ns.SetKey(starlark.String(k), v); err != nil {
			return fmt.Errorf("execute: %w", err)
		}
	}
	return err
}

func (r *taskRun) push() error {
	d, err := r.payload()
	if err != nil {
		return err
	}
	v, err := d.Decode()
	if err != nil {
		return fmt.Errorf("decode pushed values: %w", err)
	}
	dict, ok := v.(*starlark.Dict)
	if !ok {
		return fmt.Errorf("decode pushed values: got %s, want dict", v.Type())
	}
	if me := r.e.d.memoryError(starlib.Context(r.thread)); me != nil {
		return me
	}
	for _, kv := range dict.Items() {
		num.BindValue(r.thread, kv[1])
		if err := r.e.ns.SetKey(kv[0], kv[1]); err != nil {
			return fmt.Errorf("push: %w", err)
		}
	}
	return nil
}

// pull returns the named values as a list, in order.
func (r *taskRun) pull() (starlark.Value, error) {
	out := make([]starlark.Value, len(r.t.Names))
	for i, name := range r.t.Names {
		v, found, err := r.e.ns.Get(starlark.String(name))
		if err != nil || !found {
			return nil, fmt.Errorf("pull(%q): engine %d has no %q in its namespace (names: %s)", name, r.e.ID, name, r.e.nsNames())
		}
		if fn, ok := v.(*starlark.Function); ok {
			if out[i], err = r.e.pulls.pack(fn, r.e.predecl); err != nil {
				return nil, fmt.Errorf("pull(%q): %v", name, err)
			}
			continue
		}
		out[i] = v
	}
	return starlark.NewList(out), nil
}

func (e *Engine) nsNames() string {
	var names []string
	for _, k := range e.ns.Keys() {
		if s, ok := k.(starlark.String); ok {
			names = append(names, string(s))
		}
	}
	if len(names) == 0 {
		return "none"
	}
	if len(names) > 20 {
		names = append(names[:20], "…")
	}
	return strings.Join(names, ", ")
}

// bindArrays makes this task's thread answer for the num arrays it was
// given (decoded arguments or map items) and those its function captured
// (module-level values, decoded once into the engine's cache), so that
// operators on them get the task's limits and stop with it. An engine runs
// one task at a time and its cache is its own, so no other running thread
// shares these arrays.
func (r *taskRun) bindArrays(fn *starlark.Function, args starlark.Value) {
	num.BindValue(r.thread, args)
	for _, v := range fn.Globals() {
		if a, ok := v.(*num.Array); ok {
			num.BindThread(r.thread, a)
		}
	}
}
