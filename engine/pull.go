// This file defines pulling a function: pull("f") of a function in the
// namespace sends it back to the host as a shipped bundle, as ipyparallel
// pulls functions with pickle.

package engine

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pirun-dev/pirun/starlib/ship"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// maxShipped bounds the shipped functions an engine remembers the
// bundles of.
const maxShipped = 256

// pullable remembers where the namespace's functions came from: the
// bundle a shipped one was rebuilt from, the code of an execute that
// defined one. Only the engine's worker uses it.
type pullable struct {
	bundles map[*starlark.Function][]byte
	order   []*starlark.Function // oldest first, to forget beyond maxShipped
	chunks  map[*starlark.Function]chunk
}

type chunk struct{ file, code string }

// shipped records that fn was rebuilt from bundle.
func (p *pullable) shipped(fn *starlark.Function, bundle []byte) {
	if p.bundles == nil {
		p.bundles = make(map[*starlark.Function][]byte)
	}
	if _, ok := p.bundles[fn]; ok {
		return
	}
	if len(p.order) == maxShipped {
		delete(p.bundles, p.order[0])
		p.order = p.order[1:]
	}
	p.bundles[fn] = bundle
	p.order = append(p.order, fn)
}

// defined records the functions that an execute of code (named file)
// left in globals, and forgets those no longer there.
func (p *pullable) defined(file, code string, globals starlark.StringDict) {
	live := make(map[*starlark.Function]bool)
	for _, v := range globals {
		fn, ok := v.(*starlark.Function)
		if !ok {
			continue
		}
		live[fn] = true
		if fn.Position().Filename() == file && p.chunks[fn] == (chunk{}) {
			if p.chunks == nil {
				p.chunks = make(map[*starlark.Function]chunk)
			}
			p.chunks[fn] = chunk{file: file, code: code}
		}
	}
	for fn := range p.chunks {
		if !live[fn] {
			delete(p.chunks, fn)
		}
	}
}

// pack returns fn as a struct carrying its bundle, for a pull's result.
func (p *pullable) pack(fn *starlark.Function, predecl starlark.StringDict) (starlark.Value, error) {
	bundle, ok := p.bundles[fn]
	if !ok {
		c, ok := p.chunks[fn]
		if !ok {
			return nil, fmt.Errorf("function %s was not defined by execute or sent by the host, so its source is unknown here; define it with execute or push it", fn.Name())
		}
		src := &ship.Sources{}
		src.SetPredeclared(predecl)
		if err := src.Add(c.file, []byte(c.code)); err != nil {
			return nil, err
		}
		var err error
		if bundle, err = ship.CaptureBytes(fn, src); err != nil {
			return nil, fmt.Errorf("cannot send function %s back: %v", fn.Name(), err)
		}
	}
	return starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		wire.PulledFunction: starlark.Bytes(bundle),
	}), nil
}
