// This file defines pulling functions: the engine sends a function of its
// namespace as a shipped bundle (engine/pull.go), and the host rebuilds it
// into a function it can call or send again, as ipyparallel's pull of a
// function gives a callable.

package api

import (
	"fmt"
	"sync/atomic"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/ship"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// pulledSeq numbers the source names of pulled functions.
var pulledSeq atomic.Uint64

// unpackFuncs replaces, in one engine's pulled values (a list), each
// struct carrying a function's bundle by the rebuilt function.
func (v *DirectView) unpackFuncs(x starlark.Value) (starlark.Value, error) {
	l, ok := x.(*starlark.List)
	if !ok {
		return x, nil
	}
	out := make([]starlark.Value, l.Len())
	for i := range l.Len() {
		out[i] = l.Index(i)
		s, ok := out[i].(*starlarkstruct.Struct)
		if !ok || len(s.AttrNames()) != 1 {
			continue
		}
		b, err := s.Attr(wire.PulledFunction)
		if err != nil {
			continue
		}
		data, ok := b.(starlark.Bytes)
		if !ok {
			continue
		}
		fn, err := v.rebuild([]byte(data))
		if err != nil {
			return nil, fmt.Errorf("pull: a function the engine sent back: %w", err)
		}
		out[i] = fn
	}
	return starlark.NewList(out), nil
}

// rebuild compiles a pulled bundle with the host's names, each function
// under a source name of its own ("<pulled f 3>"), recorded in the
// client's sources so that the function can be sent to engines again.
func (v *DirectView) rebuild(data []byte) (*starlark.Function, error) {
	b, err := ship.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	for i := range b.Funcs {
		f := &b.Funcs[i]
		f.File = fmt.Sprintf("<pulled %s %d>", f.Name, pulledSeq.Add(1))
		f.Line, f.Col = 1, 1
		if err := v.c.Sources().Add(f.File, []byte(f.Src)); err != nil {
			return nil, err
		}
	}
	predecl, err := starlib.Predeclared(starlib.Host, Builtins(nil, nil))
	if err != nil {
		return nil, err
	}
	return b.Rebuild(predecl)
}
