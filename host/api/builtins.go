// This file defines the host-only builtins: Client, remote, parallel, map,
// ref, wait and argv, and the values remote() and parallel() return.

package api

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/files"
)

// Thread-local keys.
const (
	clientKey = "pirun.host.client"
	dirKey    = "pirun.host.dir"
)

// SetClient makes c the cluster that Client() and the builtins of thread
// use. Call it before the thread runs.
func SetClient(thread *starlark.Thread, c *client.Client) { thread.SetLocal(clientKey, c) }

func clientOf(thread *starlark.Thread, name string) (*client.Client, error) {
	if c, ok := thread.Local(clientKey).(*client.Client); ok && c != nil {
		return c, nil
	}
	return nil, fmt.Errorf("%s: this thread has no cluster", name)
}

// SetDir sets the folder relative paths (run, load) resolve against.
func SetDir(thread *starlark.Thread, dir string) { thread.SetLocal(dirKey, dir) }

func resolvePath(thread *starlark.Thread, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	dir, _ := thread.Local(dirKey).(string)
	return filepath.Join(dir, p)
}

// Builtins returns the host-side implementations of the host-only names,
// for starlib.Predeclared(starlib.Host, …). argv holds the script's
// arguments; connect opens other clusters for Client(profile=…, connect=…)
// (nil: only the run's own cluster).
//
//	Client(profile=None, connect=None)        # the run's cluster, or another one
//	remote(f, targets=None, block=True)       # a callable running f on every target
//	parallel(f, targets=None, block=True)     # pf(seq, ...) splits seq across targets; pf.map(seq)
//	map(f, *seqs, chunksize=None)             # blocking load-balanced map over all engines
//	ref(name)                                 # as an argument: the engine's value of name
//	wait(results, timeout=None)               # bool: waits for AsyncResults
//	argv                                      # list of the script's arguments
//	files                                     # files.read/write/… relative to the script's folder (package files)
func Builtins(argv []string, connect func(ctx context.Context, profile, connect string) (*client.Client, error)) starlark.StringDict {
	args := make([]starlark.Value, len(argv))
	for i, a := range argv {
		args[i] = starlark.String(a)
	}
	list := starlark.NewList(args)
	list.Freeze()
	return starlark.StringDict{
		"Client":   starlark.NewBuiltin("Client", clientBuiltin(connect)),
		"remote":   starlark.NewBuiltin("remote", remoteBuiltin),
		"parallel": starlark.NewBuiltin("parallel", parallelBuiltin),
		"map":      starlark.NewBuiltin("map", mapBuiltin),
		"ref":      starlark.NewBuiltin("ref", refBuiltin),
		"wait":     starlark.NewBuiltin("wait", waitBuiltin),
		"argv":     list,
		"files":    hostFiles,
	}
}

// hostFiles is the host's files module: paths relative to the thread's
// folder (SetDir: the script's folder; the working directory when unset).
var hostFiles = files.NewHost(func(th *starlark.Thread) string {
	dir, _ := th.Local(dirKey).(string)
	return dir
})

func clientBuiltin(connect func(ctx context.Context, profile, connect string) (*client.Client, error)) func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var profile, conn string
		if err := starlark.UnpackArgs(b.Name(), args, kw, "profile?", &profile, "connect?", &conn); err != nil {
			return nil, err
		}
		if profile == "" && conn == "" {
			c, err := clientOf(th, b.Name())
			if err != nil {
				return nil, err
			}
			return &ClientValue{c: c}, nil
		}
		if connect == nil {
			return nil, fmt.Errorf("%s: connecting to another cluster is not available here", b.Name())
		}
		c, err := connect(starlib.Context(th), profile, conn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return &ClientValue{c: c, owned: true}, nil
	}
}

// viewFor returns the DirectView of targets (None = all).
func viewFor(c *client.Client, targets starlark.Value) (*DirectView, error) {
	if targets == nil || targets == starlark.None {
		return &DirectView{c: c, all: true}, nil
	}
	if targets == starlark.String("all") {
		return &DirectView{c: c, all: true, named: true}, nil
	}
	v, _, err := (&ClientValue{c: c}).Get(targets)
	if err != nil {
		return nil, err
	}
	return v.(*DirectView), nil
}

func remoteBuiltin(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var f starlark.Callable
	targets := starlark.Value(starlark.None)
	block := true
	if err := starlark.UnpackArgs(b.Name(), args, kw, "f", &f, "targets?", &targets, "block?", &block); err != nil {
		return nil, err
	}
	c, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	v, err := viewFor(c, targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return &remoteFunc{view: v, f: f, block: block}, nil
}

func parallelBuiltin(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var f starlark.Value
	targets := starlark.Value(starlark.None)
	block := true
	if err := starlark.UnpackArgs(b.Name(), args, kw, "f", &f, "targets?", &targets, "block?", &block); err != nil {
		return nil, err
	}
	if _, ok := f.(starlark.Callable); !ok {
		if _, ok := f.(*Ref); !ok {
			return nil, fmt.Errorf("%s: for parameter f: got %s, want callable (a function, a builtin or ref(\"name\"))", b.Name(), f.Type())
		}
	}
	c, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	v, err := viewFor(c, targets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return &parallelFunc{view: v, f: f, block: block}, nil
}

// mapBuiltin is the blocking load-balanced map over every engine.
func mapBuiltin(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	chunksize := 0
	for _, kv := range kw {
		if name, _ := starlark.AsString(kv[0]); name != "chunksize" {
			return nil, fmt.Errorf("%s: unexpected keyword argument %s", b.Name(), kv[0])
		}
		if kv[1] != starlark.None {
			n, err := starlark.AsInt32(kv[1])
			if err != nil || n < 1 {
				return nil, fmt.Errorf("%s: chunksize must be None or an int ≥ 1, got %s", b.Name(), kv[1])
			}
			chunksize = n
		}
	}
	if len(args) < 2 {
		return nil, fmt.Errorf("%s: want map(f, seq, ...), got %d arguments", b.Name(), len(args))
	}
	c, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	if chunksize == 0 {
		n := starlark.Len(args[1])
		engines := max(len(c.KnownIDs()), 1)
		chunksize = max(1, n/(engines*4))
	}
	v := &LoadBalancedView{c: c}
	f, lead, err := callable(th, c, args[0])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return v.Map(starlib.Context(th), b.Name(), f, leadItems(lead, args[1:]), chunksize, true, lbFlags{block: true})
}

func refBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kw, 1, &name); err != nil {
		return nil, err
	}
	if _, err := starlib.FileOptions().ParseExpr("<ref>", name, 0); err != nil {
		return nil, fmt.Errorf("%s(%q): want a name or an expression of the engine's names (ref(\"g[0]\")): %v", b.Name(), name, err)
	}
	return &Ref{Name: name}, nil
}

func waitBuiltin(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var results starlark.Value
	timeout := starlark.Value(starlark.None)
	if err := starlark.UnpackArgs(b.Name(), args, kw, "results", &results, "timeout?", &timeout); err != nil {
		return nil, err
	}
	c, err := clientOf(th, b.Name())
	if err != nil {
		return nil, err
	}
	ars, err := asyncResults(c, "results", results)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	d, err := timeoutArg(b, timeout)
	if err != nil {
		return nil, err
	}
	ok, err := waitAll(starlib.Context(th), ars, d)
	return starlark.Bool(ok), err
}

// waitAll waits for every AsyncResult within one timeout (-1: forever).
func waitAll(ctx context.Context, ars []*AsyncResult, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for _, ar := range ars {
		left := time.Duration(-1)
		if timeout >= 0 {
			left = max(time.Until(deadline), 0)
		}
		ok, err := ar.Wait(ctx, left)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// remoteFunc is what remote(f) returns: calling it runs f on every target.
type remoteFunc struct {
	view  *DirectView
	f     starlark.Callable
	block bool
}

func (r *remoteFunc) String() string        { return fmt.Sprintf("<remote %s>", r.f.Name()) }
func (r *remoteFunc) Type() string          { return "remote_function" }
func (r *remoteFunc) Freeze()               {}
func (r *remoteFunc) Truth() starlark.Bool  { return true }
func (r *remoteFunc) Hash() (uint32, error) { return 0, errors.New("unhashable: remote_function") }
func (r *remoteFunc) Name() string          { return r.f.Name() }

func (r *remoteFunc) CallInternal(th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	f, lead, err := callable(th, r.view.c, r.f)
	if err != nil {
		return nil, fmt.Errorf("remote %s: %w", r.f.Name(), err)
	}
	return r.view.Apply(starlib.Context(th), "remote "+r.f.Name(), f, withLead(lead, args), kwargs, r.block)
}

// parallelFunc is what parallel(f) returns: calling it splits its
// sequence arguments across the targets and concatenates the lists f
// returns; .map(seq) maps f element-wise.
type parallelFunc struct {
	view  *DirectView
	f     starlark.Value // a Callable or a *Ref
	block bool
}

func (p *parallelFunc) String() string        { return fmt.Sprintf("<parallel %s>", p.Name()) }
func (p *parallelFunc) Type() string          { return "parallel_function" }
func (p *parallelFunc) Freeze()               {}
func (p *parallelFunc) Truth() starlark.Bool  { return true }
func (p *parallelFunc) Hash() (uint32, error) { return 0, errors.New("unhashable: parallel_function") }
func (p *parallelFunc) Name() string {
	if f, ok := p.f.(starlark.Callable); ok {
		return f.Name()
	}
	return p.f.String()
}
func (p *parallelFunc) AttrNames() []string { return []string{"map"} }

func (p *parallelFunc) Attr(name string) (starlark.Value, error) {
	if name != "map" {
		return nil, nil
	}
	return starlark.NewBuiltin("parallel.map", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if len(kw) > 0 {
			return nil, fmt.Errorf("%s: unexpected keyword argument %s", b.Name(), kw[0][0])
		}
		f, lead, err := callable(th, p.view.c, p.f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return p.view.Map(starlib.Context(th), b.Name(), f, leadItems(lead, args), p.block)
	}), nil
}

// CallInternal splits every sequence argument into contiguous chunks, one
// per target, and calls f(chunk, ...) on each; other arguments go whole.
func (p *parallelFunc) CallInternal(th *starlark.Thread, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	ctx := starlib.Context(th)
	ids, err := p.view.Targets()
	if err != nil {
		return nil, err
	}
	f, lead, err := callable(th, p.view.c, p.f) // a builtin (math.sqrt) or ref("f") too
	if err != nil {
		return nil, fmt.Errorf("parallel %s: %w", p.Name(), err)
	}
	bundle, label, err := bundleOf(p.view.c, f)
	if err != nil {
		return nil, err
	}
	args = withLead(lead, args)
	n := -1
	for _, a := range args {
		if l := seqLen(a); l >= 0 && (n < 0 || l < n) {
			n = l
		}
	}
	if n < 0 {
		return nil, fmt.Errorf("parallel %s: want at least one sequence argument (list, tuple, range) to split across engines", p.Name())
	}
	var use []int
	var payloads [][]byte
	for i, bnd := range split(n, len(ids)) {
		if bnd[0] == bnd[1] {
			continue
		}
		chunkArgs := make(starlark.Tuple, len(args))
		for j, a := range args {
			chunkArgs[j] = a
			if seqLen(a) >= 0 {
				chunkArgs[j] = sliceOf(a, bnd[0], bnd[1])
			}
		}
		a, kw := callArgs(chunkArgs, kwargs)
		pl, err := encodePayload(p.view.c, "the arguments of "+label, a, kw)
		if err != nil {
			return nil, err
		}
		use = append(use, ids[i])
		payloads = append(payloads, pl)
	}
	ar, err := p.view.submitEach(ctx, wireApply(label), bundle, combineFlatten, use, payloads)
	if err != nil {
		return nil, err
	}
	return p.view.finish(ctx, ar, p.block)
}

// seqLen returns the length of a sequence parallel splits (a list, tuple,
// range or other indexable value but a string or bytes), else -1.
func seqLen(v starlark.Value) int {
	switch v.(type) {
	case starlark.String, starlark.Bytes:
		return -1
	}
	if s, ok := v.(starlark.Indexable); ok {
		return s.Len()
	}
	return -1
}

// sliceOf returns items i..j of a sequence seqLen accepts: a tuple stays a
// tuple, anything else becomes a list.
func sliceOf(v starlark.Value, i, j int) starlark.Value {
	s := v.(starlark.Indexable)
	out := make([]starlark.Value, 0, j-i)
	for k := i; k < j; k++ {
		out = append(out, s.Index(k))
	}
	if _, ok := v.(starlark.Tuple); ok {
		return starlark.Tuple(out)
	}
	return starlark.NewList(out)
}
