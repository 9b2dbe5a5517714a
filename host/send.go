// This file defines how the host turns Starlark calls into tasks: shipped
// function bundles, encoded arguments with ref() placeholders, sequence
// splitting, and sending batches to daemons or to the scheduler.

package host

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"

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
func (c *Client) encodePayload(what string, vals ...starlark.Value) ([]byte, error) {
	b, err := c.encodePayloadBlocks(what, vals...)
	return b.Bytes(), err
}

// encodePayloadBlocks is encodePayload into blocks of at most one message
// part, so that a large payload is neither copied to grow nor to join.
func (c *Client) encodePayloadBlocks(what string, vals ...starlark.Value) (wire.Blocks, error) {
	return c.encodePayloadWith(what, func(body *wire.Encoder) error {
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
func (c *Client) encodePayloadWith(what string, write func(body *wire.Encoder) error) (wire.Blocks, error) {
	var refs []wire.PayloadRef
	var index map[starlark.Value]uint64
	body := wire.GetBlockEncoder(c.out.MaxPart())
	defer wire.PutBlockEncoder(body)
	body.Ref = func(v starlark.Value) (uint64, error) {
		if i, ok := index[v]; ok {
			return i, nil
		}
		ref, err := c.payloadRef(v)
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
	head := wire.GetBlockEncoder(c.out.MaxPart())
	defer wire.PutBlockEncoder(head)
	wire.EncodePayloadRefs(head, refs)
	if err := head.Flush(); err != nil {
		return nil, err
	}
	return append(head.Blocks(), blocks...), nil
}

// payloadRef describes a value that is not plain data, or says why it
// cannot be sent.
func (c *Client) payloadRef(v starlark.Value) (wire.PayloadRef, error) {
	switch v := v.(type) {
	case *Ref:
		return wire.PayloadRef{Kind: wire.RefNamespace, Name: v.Name}, nil
	case *starlark.Function:
		b, err := ship.CaptureBytes(v, c.sources)
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
func (c *Client) bundleOf(f starlark.Value) ([]byte, string, error) {
	fn, ok := f.(*starlark.Function)
	if !ok {
		name := f.String()
		if b, ok := f.(*starlark.Builtin); ok {
			name = b.Name()
		}
		return nil, "", fmt.Errorf("want a function (def or lambda) to send to engines, got %s %s; wrap it: lambda x: %s(x)", f.Type(), name, name)
	}
	data, err := ship.CaptureBytes(fn, c.sources)
	if err != nil {
		return nil, "", err
	}
	return data, fmt.Sprintf("%s at %s", fn.Name(), fn.Position()), nil
}

// sendDirect sends tasks to the daemons of their targets: one message per
// daemon, sharing bundle, so N engines of one machine cost one crossing.
// payloads[i], when not nil, is the payload of tasks[i] in place of its
// Payload field (see wire.MarshalBatchBlocks); payloads may be nil.
func (c *Client) sendDirect(ctx context.Context, tasks []wire.Task, payloads []wire.Blocks, bundle []byte) error {
	byDaemon := make(map[string]*daemonBatch)
	var order []string
	for i, t := range tasks {
		// A task for several engines is split per daemon.
		parts := make(map[string][]int)
		for _, id := range t.Targets {
			d, err := c.daemonOf(id)
			if err != nil {
				return err
			}
			parts[d] = append(parts[d], id)
		}
		for d, ids := range parts {
			b := byDaemon[d]
			if b == nil {
				b = &daemonBatch{}
				if bundle != nil {
					b.Bundles = [][]byte{bundle}
				}
				byDaemon[d] = b
				order = append(order, d)
			}
			tt := t
			tt.Targets = ids
			if bundle != nil {
				tt.Bundle = 1
			}
			b.Tasks = append(b.Tasks, tt)
			var payload wire.Blocks
			if i < len(payloads) {
				payload = payloads[i]
			}
			b.payloads = append(b.payloads, payload)
		}
	}
	for _, d := range order {
		b := byDaemon[d]
		if err := c.out.SendBatch(ctx, wire.DaemonTasks(d), &b.Batch, b.payloads); err != nil {
			return &ClusterError{Msg: "send tasks: " + err.Error()}
		}
	}
	return nil
}

// daemonBatch is the batch for one daemon, with the tasks' payload blocks.
type daemonBatch struct {
	wire.Batch
	payloads []wire.Blocks
}

// sendBalanced submits tasks to the hub's scheduler in one batch.
func (c *Client) sendBalanced(ctx context.Context, tasks []wire.Task, bundle []byte) error {
	b := &wire.Batch{Tasks: tasks}
	if bundle != nil {
		b.Bundles = [][]byte{bundle}
		for i := range b.Tasks {
			b.Tasks[i].Bundle = 1
		}
	}
	if err := c.out.SendMsg(ctx, wire.SubjectSubmit, b); err != nil {
		return &ClusterError{Msg: "submit tasks: " + err.Error()}
	}
	return nil
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
