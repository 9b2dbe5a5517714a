// This file defines how the host turns Starlark calls into tasks: shipped
// function bundles, encoded arguments with ref() placeholders, sequence
// splitting, and sending batches to daemons or to the scheduler.

package api

import (
	"fmt"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib/ship"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// Ref is the value of ref("name"): as an argument, it stands for the value
// of name in the namespace of the engine that runs the task.
type Ref struct{ Name string }

func (r *Ref) String() string        { return fmt.Sprintf("ref(%q)", r.Name) }
func (r *Ref) Type() string          { return "ref" }
func (r *Ref) Freeze()               {}
func (r *Ref) Truth() starlark.Bool  { return true }
func (r *Ref) Hash() (uint32, error) { return starlark.String(r.Name).Hash() }

// encodePayload encodes the reference table followed by vals, the layout
// engines decode for every kind that carries values. The table holds what
// plain data cannot: ref("name") placeholders, functions (shipped as
// bundles, like the task's own function) and universal builtins (by name).
func encodePayload(c *client.Client, what string, vals ...starlark.Value) ([]byte, error) {
	b, err := encodePayloadBlocks(c, what, vals...)
	return b.Bytes(), err
}

// encodePayloadBlocks is encodePayload into blocks of at most one message
// part, so that a large payload is neither copied to grow nor to join.
func encodePayloadBlocks(c *client.Client, what string, vals ...starlark.Value) (wire.Blocks, error) {
	return encodePayloadWith(c, what, func(body *wire.Encoder) error {
		for _, v := range vals {
			if err := body.Encode(v); err != nil {
				return err
			}
		}
		return nil
	})
}

// encodePayloadWith is encodePayloadBlocks of the values that write
// encodes into body.
func encodePayloadWith(c *client.Client, what string, write func(body *wire.Encoder) error) (wire.Blocks, error) {
	var refs []wire.PayloadRef
	var index map[starlark.Value]uint64
	body := wire.GetBlockEncoder(c.MaxPart())
	defer wire.PutBlockEncoder(body)
	body.Ref = func(v starlark.Value) (uint64, error) {
		if i, ok := index[v]; ok {
			return i, nil
		}
		ref, err := payloadRef(c, v)
		if err != nil {
			return 0, err
		}
		if index == nil {
			index = make(map[starlark.Value]uint64)
		}
		refs = append(refs, ref)
		index[v] = uint64(len(refs) - 1)
		return index[v], nil
	}
	if err := write(body); err != nil {
		return nil, fmt.Errorf("cannot send %s to engines: %w", what, err)
	}
	blocks := body.Blocks()
	head := wire.GetBlockEncoder(c.MaxPart())
	defer wire.PutBlockEncoder(head)
	wire.EncodePayloadRefs(head, refs)
	if err := head.Flush(); err != nil {
		return nil, err
	}
	return append(head.Blocks(), blocks...), nil
}

// payloadRef describes a value that is not plain data, or says why it
// cannot be sent.
func payloadRef(c *client.Client, v starlark.Value) (wire.PayloadRef, error) {
	switch v := v.(type) {
	case *Ref:
		return wire.PayloadRef{Kind: wire.RefNamespace, Name: v.Name}, nil
	case *starlark.Function:
		b, err := ship.CaptureBytes(v, c.Sources())
		if err != nil {
			return wire.PayloadRef{}, err
		}
		return wire.PayloadRef{Kind: wire.RefFunction, Bundle: b}, nil
	case *starlark.Builtin:
		if v.Receiver() == nil && starlark.Universe[v.Name()] == v {
			return wire.PayloadRef{Kind: wire.RefUniverse, Name: v.Name()}, nil
		}
		return wire.PayloadRef{}, fmt.Errorf("%s is a host builtin or a bound method; send a def or lambda that calls it instead", v.Name())
	}
	return wire.PayloadRef{}, fmt.Errorf("a %s exists only on the host", v.Type())
}

// callArgs packs positional and keyword arguments for KindApply.
func callArgs(args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Tuple, *starlark.Dict) {
	kw := starlark.NewDict(len(kwargs))
	for _, kv := range kwargs {
		kw.SetKey(kv[0], kv[1])
	}
	if args == nil {
		args = starlark.Tuple{}
	}
	return args, kw
}

// bundleOf ships f, which must be a Starlark function.
func bundleOf(c *client.Client, f starlark.Value) ([]byte, string, error) {
	fn, ok := f.(*starlark.Function)
	if !ok {
		name := f.String()
		if b, ok := f.(*starlark.Builtin); ok {
			name = b.Name()
		}
		return nil, "", fmt.Errorf("want a function (def or lambda) to send to engines, got %s %s; wrap it: lambda x: %s(x)", f.Type(), name, name)
	}
	data, err := ship.CaptureBytes(fn, c.Sources())
	if err != nil {
		return nil, "", err
	}
	if fn.Position().Filename() == callFile { // a builtin or ref("f") (callable.go)
		if fn.NumFreeVars() == 1 {
			_, v := fn.FreeVar(0)
			if b, ok := v.(*starlark.Builtin); ok {
				return data, b.Name(), nil
			}
		}
		return data, "ref function", nil
	}
	return data, fmt.Sprintf("%s at %s", fn.Name(), fn.Position()), nil
}

// split cuts n items into k contiguous chunks in order, sizes differing
// by at most one, larger first; it returns the chunk bounds.
func split(n, k int) [][2]int {
	out := make([][2]int, k)
	base, extra := n/k, n%k
	start := 0
	for i := range k {
		size := base
		if i < extra {
			size++
		}
		out[i] = [2]int{start, start + size}
		start += size
	}
	return out
}

// zipArgs turns the sequences of a map call into one argument tuple per
// item, stopping at the shortest sequence as Python's map does.
func zipArgs(fname string, seqs starlark.Tuple) ([]starlark.Value, error) {
	if len(seqs) == 0 {
		return nil, fmt.Errorf("%s: want at least one sequence to map over", fname)
	}
	lists := make([][]starlark.Value, len(seqs))
	n := -1
	for i, s := range seqs {
		if _, ok := s.(repeatValue); ok {
			continue // filled in below, as long as the others
		}
		iter := starlark.Iterate(s)
		if iter == nil {
			return nil, fmt.Errorf("%s: argument %d is a %s, not a sequence", fname, i+2, s.Type())
		}
		var x starlark.Value
		for iter.Next(&x) {
			lists[i] = append(lists[i], x)
		}
		iter.Done()
		if n < 0 || len(lists[i]) < n {
			n = len(lists[i])
		}
	}
	out := make([]starlark.Value, n)
	for j := range n {
		t := make(starlark.Tuple, len(lists))
		for i := range lists {
			if r, ok := seqs[i].(repeatValue); ok {
				t[i] = r.v
				continue
			}
			t[i] = lists[i][j]
		}
		out[j] = t
	}
	return out, nil
}

// wireApply is the template of an apply task.
func wireApply(label string) wire.Task {
	return wire.Task{Kind: wire.KindApply, Label: label}
}
