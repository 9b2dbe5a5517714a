// This file defines the Starlark methods of DirectView: argument
// unpacking in front of the Go methods in view.go.

package api

import (
	"fmt"
	"os"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

type dvMethod = starlib.Method[*DirectView]

var dvMethods = starlib.NewMethods("DirectView", map[string]dvMethod{
	"apply":       dvApply(nil),
	"apply_sync":  dvApply(ptr(true)),
	"apply_async": dvApply(ptr(false)),
	"map":         dvMap(nil),
	"map_sync":    dvMap(ptr(true)),
	"map_async":   dvMap(ptr(false)),
	"execute":     dvExecute,
	"run":         dvRun,
	"push":        dvPush,
	"pull":        dvPull,
	"scatter":     dvScatter,
	"gather":      dvGather,
	"remote":      dvRemote,
	"parallel":    dvParallel,
	"abort":       dvAbort,
	"shutdown":    dvShutdown,
})

func ptr[T any](v T) *T { return &v }

// dvApply is apply(f, *args, **kwargs); every keyword goes to f.
func dvApply(force *bool) dvMethod {
	return func(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if len(args) == 0 {
			return nil, fmt.Errorf("%s: missing the function to apply", b.Name())
		}
		block := v.isBlocking()
		if force != nil {
			block = *force
		}
		kw, detached, err := popDetached(kw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		f, lead, err := callable(th, v.c, args[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return v.Apply(withDetached(starlib.Context(th), detached), b.Name(), f, withLead(lead, args[1:]), kw, block)
	}
}

func (v *DirectView) isBlocking() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.block
}

// dvMap is map(f, *seqs, block=None).
func dvMap(force *bool) dvMethod {
	return func(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		kw, block, err := v.blocking(kw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		kw, detached, err := popDetached(kw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if len(kw) > 0 {
			return nil, fmt.Errorf("%s: unexpected keyword argument %s", b.Name(), kw[0][0])
		}
		if force != nil {
			block = *force
		}
		if len(args) < 2 {
			return nil, fmt.Errorf("%s: want map(f, seq, ...), got %d arguments", b.Name(), len(args))
		}
		f, lead, err := callable(th, v.c, args[0])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return v.Map(withDetached(starlib.Context(th), detached), b.Name(), f, leadItems(lead, args[1:]), block)
	}
}

func dvExecute(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var code string
	var silent bool // ipyparallel's: pirun's execute has no execute_result either way
	block, targets := starlark.Value(starlark.None), starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "code", &code, "silent?", &silent, "targets?", &targets, "block?", &block); err != nil {
		return nil, err
	}
	v, err := v.on(b.Name(), targets)
	if err != nil {
		return nil, err
	}
	return v.Execute(starlib.Context(th), "<execute>", code, v.blockArg(block))
}

func (v *DirectView) blockArg(b starlark.Value) bool {
	if b == starlark.None {
		return v.isBlocking()
	}
	return bool(b.Truth())
}

func dvRun(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var path string
	block := starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "path", &path, "block?", &block); err != nil {
		return nil, err
	}
	full := resolvePath(th, path)
	code, err := os.ReadFile(full)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return v.Execute(starlib.Context(th), full, string(code), v.blockArg(block))
}

func dvPush(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var ns *starlark.Dict
	var track bool // ipyparallel's: a call returns once sent, there is nothing to track
	block, targets := starlark.Value(starlark.None), starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "ns", &ns, "targets?", &targets, "block?", &block, "track?", &track); err != nil {
		return nil, err
	}
	v, err := v.on(b.Name(), targets)
	if err != nil {
		return nil, err
	}
	return v.Push(starlib.Context(th), ns, v.blockArg(block))
}

func dvPull(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var names starlark.Value
	block, targets := starlark.Value(starlark.None), starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "names", &names, "targets?", &targets, "block?", &block); err != nil {
		return nil, err
	}
	v, err := v.on(b.Name(), targets)
	if err != nil {
		return nil, err
	}
	return v.Pull(starlib.Context(th), names, v.blockArg(block))
}

func dvScatter(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var name string
	var seq starlark.Value
	block, targets := starlark.Value(starlark.None), starlark.Value(starlark.None)
	var flatten, track bool
	dist := "b"
	if err := starlark.UnpackArgs(b.Name(), args, kw, "name", &name, "seq", &seq, "dist?", &dist, "flatten?", &flatten, "targets?", &targets, "block?", &block, "track?", &track); err != nil {
		return nil, err
	}
	if dist != "b" {
		return nil, fmt.Errorf("%s: dist=%q: only \"b\" (contiguous blocks, in order) is supported", b.Name(), dist)
	}
	v, err := v.on(b.Name(), targets)
	if err != nil {
		return nil, err
	}
	return v.Scatter(starlib.Context(th), name, seq, flatten, v.blockArg(block))
}

func dvGather(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var name string
	block, targets := starlark.Value(starlark.None), starlark.Value(starlark.None)
	dist := "b"
	if err := starlark.UnpackArgs(b.Name(), args, kw, "name", &name, "dist?", &dist, "targets?", &targets, "block?", &block); err != nil {
		return nil, err
	}
	if dist != "b" {
		return nil, fmt.Errorf("%s: dist=%q: only \"b\" (contiguous blocks, in order) is supported", b.Name(), dist)
	}
	v, err := v.on(b.Name(), targets)
	if err != nil {
		return nil, err
	}
	return v.Gather(starlib.Context(th), name, v.blockArg(block))
}

func dvRemote(v *DirectView, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var f starlark.Callable
	block := starlark.Value(starlark.True)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "f", &f, "block?", &block); err != nil {
		return nil, err
	}
	return &remoteFunc{view: v, f: f, block: bool(block.Truth())}, nil
}

func dvParallel(v *DirectView, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var f starlark.Callable
	block := starlark.Value(starlark.True)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "f", &f, "block?", &block); err != nil {
		return nil, err
	}
	return &parallelFunc{view: v, f: f, block: bool(block.Truth())}, nil
}

// dvAbort is abort(jobs=None, targets=None, block=None): jobs
// (AsyncResults or task ids) when given, else every unfinished task sent
// through the view.
func dvAbort(v *DirectView, _ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
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

func dvShutdown(v *DirectView, th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	ids, err := v.Targets()
	if err != nil {
		return nil, err
	}
	return starlark.None, v.c.Shutdown(starlib.Context(th), ids)
}

// on returns the view for a call's targets= (ipyparallel's per-call
// targets): v itself for None, else a view of those engines whose calls
// count as v's own (wait, abort, history).
func (v *DirectView) on(fname string, targets starlark.Value) (*DirectView, error) {
	if targets == starlark.None {
		return v, nil
	}
	t, err := viewFor(v.c, targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fname, err)
	}
	t.parent, t.block = v.owner(), v.isBlocking()
	return t, nil
}
