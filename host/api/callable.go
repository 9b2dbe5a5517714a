// This file lets apply and map take what is not a Starlark function, as
// ipyparallel does: a library builtin (time.sleep, math.sqrt, num.sum)
// and ref("f"), a function in the engine's namespace. Both become a small
// shipped function that calls them.

package api

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
)

// callFile names the wrappers' source in tracebacks and in the client's
// source registry.
const callFile = "<pirun call>"

const callSrc = `def wrap(F):
    def call(*args, **kwargs):
        return F(*args, **kwargs)
    return call

def call_ref(f, *args, **kwargs):
    return f(*args, **kwargs)
`

// callable returns the function to ship for f, and lead: a value to put
// before the arguments of every call (the ref, for ref("f")), or nil.
// A Starlark function is itself; a builtin that engines have by name
// (time.sleep, num.sum, len) is wrapped in a function that calls it.
func callable(th *starlark.Thread, c *client.Client, f starlark.Value) (starlark.Value, starlark.Value, error) {
	switch f := f.(type) {
	case *starlark.Builtin:
		if f.Receiver() != nil {
			return f, nil, nil // bundleOf says why a bound method cannot go
		}
		if starlib.Names()[f.Name()] == starlib.Host {
			return nil, nil, fmt.Errorf("%s is only available on the host; it cannot run on engines", f.Name())
		}
		g, err := wrappers(th, c)
		if err != nil {
			return nil, nil, err
		}
		fn, err := starlark.Call(th, g["wrap"], starlark.Tuple{f}, nil)
		return fn, nil, err
	case *Ref:
		g, err := wrappers(th, c)
		if err != nil {
			return nil, nil, err
		}
		return g["call_ref"], f, nil
	}
	return f, nil, nil
}

// wrappers runs callSrc with the predeclared names of the code calling
// th's builtin, so that a builtin wrapped travels by its name there.
func wrappers(th *starlark.Thread, c *client.Client) (starlark.StringDict, error) {
	var predecl starlark.StringDict
	for i := range th.CallStackDepth() {
		if fn, ok := th.DebugFrame(i).Callable().(*starlark.Function); ok {
			predecl = fn.Module().Predeclared()
			break
		}
	}
	if err := c.Sources().Add(callFile, []byte(callSrc)); err != nil {
		return nil, err
	}
	g, err := starlark.ExecFileOptions(starlib.FileOptions(), &starlark.Thread{Name: "pirun call"}, callFile, callSrc, predecl)
	if err != nil {
		return nil, fmt.Errorf("the call wrappers: %w", err)
	}
	return g, nil
}

// withLead returns args with lead first (args itself when lead is nil).
func withLead(lead starlark.Value, args starlark.Tuple) starlark.Tuple {
	if lead == nil {
		return args
	}
	return append(starlark.Tuple{lead}, args...)
}

// leadItems prefixes every argument tuple of a map's sequences with lead:
// it adds lead as a first sequence, as long as the others.
func leadItems(lead starlark.Value, seqs starlark.Tuple) starlark.Tuple {
	if lead == nil || len(seqs) == 0 {
		return seqs
	}
	return append(starlark.Tuple{repeatValue{v: lead}}, seqs...)
}

// repeatValue is an endless sequence of v, for zipArgs: zipping stops at
// the shortest of the others.
type repeatValue struct{ v starlark.Value }

func (r repeatValue) String() string        { return "repeat(" + r.v.String() + ")" }
func (r repeatValue) Type() string          { return "repeat" }
func (r repeatValue) Freeze()               {}
func (r repeatValue) Truth() starlark.Bool  { return true }
func (r repeatValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: repeat") }
func (r repeatValue) Iterate() starlark.Iterator {
	return &repeatIter{v: r.v}
}

type repeatIter struct{ v starlark.Value }

func (it *repeatIter) Next(p *starlark.Value) bool { *p = it.v; return true }
func (it *repeatIter) Done()                       {}
