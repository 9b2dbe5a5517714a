// This file defines comm's collectives (bcast, scatter, gather, allgather,
// reduce, allreduce, barrier) and split. Their messages travel in the
// communicator's collective context, tagged with the collective's number,
// so they never match point-to-point receives, nor another collective's.
//
// Roots send to and receive from each rank in turn; allgather and
// allreduce send every value to every rank, so they take one message
// delay; barrier is a dissemination barrier (log2(size) rounds).

package comm

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"slices"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// collective starts a collective: its tag and description.
func (c *communicator) collective(desc string) (int, string) {
	c.coll++
	c.rs.called(collKey{c.ctx + 1, c.coll}, callOf(desc), c)
	return c.coll, desc
}

// sendAll sends data to every rank but this one and waits until the
// sends complete.
func (c *communicator) sendAll(o *op, data []byte, tag int, desc string) error {
	reqs := make([]*request, 0, c.size)
	for p := range c.size {
		if p == c.rank {
			continue
		}
		r, err := c.isend(o, data, p, tag, c.ctx+1, desc)
		if err != nil {
			return err
		}
		reqs = append(reqs, r)
	}
	for _, r := range reqs {
		if err := c.wait(o, r); err != nil {
			return err
		}
	}
	return nil
}

// sendTo sends data to rank p and waits until the send completes.
func (c *communicator) sendTo(o *op, data []byte, p, tag int, desc string) error {
	r, err := c.isend(o, data, p, tag, c.ctx+1, desc)
	if err != nil {
		return err
	}
	return c.wait(o, r)
}

// recvFrom receives the collective's value from rank p.
func (c *communicator) recvFrom(o *op, p, tag int, desc string) (starlark.Value, error) {
	r, err := c.irecv(reqRecv, p, tag, c.ctx+1, desc)
	if err != nil {
		return nil, err
	}
	if err := c.wait(o, r); err != nil {
		return nil, err
	}
	return r.result()
}

// postRecvs posts a receive of the collective's value from every other
// rank (nil in this rank's slot).
func (c *communicator) postRecvs(tag int, desc string) ([]*request, error) {
	reqs := make([]*request, c.size)
	for p := range c.size {
		if p == c.rank {
			continue
		}
		r, err := c.irecv(reqRecv, p, tag, c.ctx+1, desc)
		if err != nil {
			return nil, err
		}
		reqs[p] = r
	}
	return reqs, nil
}

// collect waits for the receives of postRecvs and returns the values in
// rank order, with own in this rank's slot.
func (c *communicator) collect(o *op, reqs []*request, own starlark.Value) ([]starlark.Value, error) {
	vals := make([]starlark.Value, c.size)
	for p, r := range reqs {
		if r == nil {
			vals[p] = own
			continue
		}
		if err := c.wait(o, r); err != nil {
			return nil, err
		}
		v, err := r.result()
		if err != nil {
			return nil, err
		}
		vals[p] = v
	}
	return vals, nil
}

// rootArgs unpacks (obj, root=0, timeout=None) and checks root.
func (c *communicator) rootArgs(o *op, args starlark.Tuple, kw []starlark.Tuple, first string) (starlark.Value, int, error) {
	var obj starlark.Value = starlark.None
	var root int
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, first, &obj, "root?", &root, "timeout?", &timeout); err != nil {
		return nil, 0, err
	}
	if err := c.rankArg("root", root, false); err != nil {
		return nil, 0, err
	}
	o.setTimeout(timeout)
	return obj, root, nil
}

func commBcast(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	obj, root, err := c.rootArgs(o, args, kw, "obj?")
	if err != nil {
		return nil, err
	}
	tag, desc := c.collective(fmt.Sprintf("bcast(root=%d)", root))
	if c.rank != root {
		return c.recvFrom(o, root, tag, desc)
	}
	data, err := encode(obj)
	if err != nil {
		return nil, err
	}
	return obj, c.sendAll(o, data, tag, desc)
}

func commScatter(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	seq, root, err := c.rootArgs(o, args, kw, "seq?")
	if err != nil {
		return nil, err
	}
	tag, desc := c.collective(fmt.Sprintf("scatter(root=%d)", root))
	if c.rank != root {
		return c.recvFrom(o, root, tag, desc)
	}
	items, ok := seq.(starlark.Indexable)
	if !ok || items.Len() != c.size {
		return nil, fmt.Errorf("the root's seq must be a list or tuple of %d items (one per rank), got %s", c.size, describeSeq(seq))
	}
	reqs := make([]*request, 0, c.size)
	for p := range c.size {
		if p == c.rank {
			continue
		}
		data, err := encode(items.Index(p))
		if err != nil {
			return nil, fmt.Errorf("item %d: %w", p, err)
		}
		r, err := c.isend(o, data, p, tag, c.ctx+1, desc)
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
	}
	for _, r := range reqs {
		if err := c.wait(o, r); err != nil {
			return nil, err
		}
	}
	return items.Index(c.rank), nil
}

func describeSeq(v starlark.Value) string {
	if s, ok := v.(starlark.Sequence); ok {
		return fmt.Sprintf("a %s of %d", v.Type(), s.Len())
	}
	return v.Type()
}

func commGather(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	obj, root, err := c.rootArgs(o, args, kw, "obj?")
	if err != nil {
		return nil, err
	}
	vals, err := c.toRoot(o, obj, root, fmt.Sprintf("gather(root=%d)", root))
	if err != nil || vals == nil {
		return starlark.None, err
	}
	return starlark.NewList(vals), nil
}

// toRoot sends obj from every rank to root. On root it returns every
// rank's value in rank order; elsewhere nil.
func (c *communicator) toRoot(o *op, obj starlark.Value, root int, desc string) ([]starlark.Value, error) {
	tag, desc := c.collective(desc)
	if c.rank != root {
		data, err := encode(obj)
		if err != nil {
			return nil, err
		}
		return nil, c.sendTo(o, data, root, tag, desc)
	}
	reqs, err := c.postRecvs(tag, desc)
	if err != nil {
		return nil, err
	}
	return c.collect(o, reqs, obj)
}

// everyone sends obj to every rank and returns every rank's value. The
// receives are posted first: large values need them to move.
func (c *communicator) everyone(o *op, obj starlark.Value, desc string) ([]starlark.Value, error) {
	tag, desc := c.collective(desc)
	data, err := encode(obj)
	if err != nil {
		return nil, err
	}
	reqs, err := c.postRecvs(tag, desc)
	if err != nil {
		return nil, err
	}
	if err := c.sendAll(o, data, tag, desc); err != nil {
		return nil, err
	}
	return c.collect(o, reqs, obj)
}

func commAllgather(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value = starlark.None
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "obj?", &obj, "timeout?", &timeout); err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	vals, err := c.everyone(o, obj, "allgather()")
	if err != nil {
		return nil, err
	}
	return starlark.NewList(vals), nil
}

func commReduce(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	var opv starlark.Value = starlark.String("sum")
	var root int
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "obj", &obj, "op?", &opv, "root?", &root, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := c.rankArg("root", root, false); err != nil {
		return nil, err
	}
	f, err := reduceOp(o.th, opv)
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	vals, err := c.toRoot(o, obj, root, fmt.Sprintf("reduce(root=%d)", root))
	if err != nil || vals == nil {
		return starlark.None, err
	}
	return fold(f, vals)
}

func commAllreduce(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	var opv starlark.Value = starlark.String("sum")
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "obj", &obj, "op?", &opv, "timeout?", &timeout); err != nil {
		return nil, err
	}
	f, err := reduceOp(o.th, opv)
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	vals, err := c.everyone(o, obj, "allreduce()")
	if err != nil {
		return nil, err
	}
	return fold(f, vals)
}

// fold combines vals in order with f.
func fold(f func(x, y starlark.Value) (starlark.Value, error), vals []starlark.Value) (starlark.Value, error) {
	acc := vals[0]
	for i, v := range vals[1:] {
		var err error
		if acc, err = f(acc, v); err != nil {
			return nil, fmt.Errorf("op on the values of ranks 0 to %d: %w", i+1, err)
		}
	}
	return acc, nil
}

// reduceOp returns the function of a reduction operator.
func reduceOp(th *starlark.Thread, op starlark.Value) (func(x, y starlark.Value) (starlark.Value, error), error) {
	if fn, ok := op.(starlark.Callable); ok {
		return func(x, y starlark.Value) (starlark.Value, error) {
			return starlark.Call(th, fn, starlark.Tuple{x, y}, nil)
		}, nil
	}
	name, _ := starlark.AsString(op)
	switch name {
	case "sum":
		return func(x, y starlark.Value) (starlark.Value, error) { return starlark.Binary(syntax.PLUS, x, y) }, nil
	case "prod":
		return func(x, y starlark.Value) (starlark.Value, error) { return starlark.Binary(syntax.STAR, x, y) }, nil
	case "min", "max":
		keep := syntax.LT
		if name == "max" {
			keep = syntax.GT
		}
		return func(x, y starlark.Value) (starlark.Value, error) {
			better, err := starlark.Compare(keep, y, x)
			if better {
				return y, err
			}
			return x, err
		}, nil
	case "land":
		return func(x, y starlark.Value) (starlark.Value, error) { return x.Truth() && y.Truth(), nil }, nil
	case "lor":
		return func(x, y starlark.Value) (starlark.Value, error) { return x.Truth() || y.Truth(), nil }, nil
	}
	return nil, fmt.Errorf("op=%s: want \"sum\", \"prod\", \"min\", \"max\", \"land\", \"lor\" or a function of two values", op.String())
}

func commBarrier(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "timeout?", &timeout); err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	tag, desc := c.collective("barrier()")
	empty, err := encode(starlark.None)
	if err != nil {
		return nil, err
	}
	for step := 1; step < c.size; step *= 2 {
		r, err := c.irecv(reqRecv, (c.rank-step+c.size)%c.size, tag, c.ctx+1, desc)
		if err != nil {
			return nil, err
		}
		if err := c.sendTo(o, empty, (c.rank+step)%c.size, tag, desc); err != nil {
			return nil, err
		}
		if err := c.wait(o, r); err != nil {
			return nil, err
		}
	}
	return starlark.None, nil
}

func commSplit(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var color starlark.Value
	var key int
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "color", &color, "key?", &key, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if _, ok := color.(starlark.Int); color != starlark.None && !ok {
		return nil, fmt.Errorf("color=%s: want an int ≥ 0, or None to stay out", color.String())
	}
	mine, _ := starlark.AsInt32(color)
	if color != starlark.None && mine < 0 {
		return nil, fmt.Errorf("color=%s: want an int ≥ 0, or None to stay out", color.String())
	}
	o.setTimeout(timeout)
	all, err := c.everyone(o, starlark.Tuple{color, starlark.MakeInt(key)}, fmt.Sprintf("split(color=%s)", color.String()))
	if err != nil {
		return nil, err
	}
	c.splits++
	if color == starlark.None {
		return starlark.None, nil
	}
	return &Value{c: c.child(all, color, mine)}, nil
}

// child builds the communicator of color from every rank's (color, key).
func (c *communicator) child(all []starlark.Value, color starlark.Value, mine int) *communicator {
	type member struct{ key, rank int }
	var members []member
	for p, v := range all {
		t, _ := v.(starlark.Tuple)
		if len(t) != 2 {
			continue
		}
		if eq, _ := starlark.Equal(t[0], color); eq {
			var k int
			starlark.AsInt(t[1], &k)
			members = append(members, member{k, p})
		}
	}
	slices.SortStableFunc(members, func(a, b member) int { return cmp.Compare(a.key, b.key) })
	sub := &communicator{rs: c.rs, size: len(members), index: make(map[int]int, len(members)),
		name: fmt.Sprintf("comm.split(color=%d)", mine)}
	for i, m := range members {
		w := c.world(m.rank)
		sub.group = append(sub.group, w)
		sub.index[w] = i
		if m.rank == c.rank {
			sub.rank = i
		}
	}
	h := fnv.New64a()
	binary.Write(h, binary.LittleEndian, [3]uint64{c.ctx, uint64(c.splits), uint64(mine)})
	sub.ctx = h.Sum64() &^ 1
	if sub.ctx == 0 {
		sub.ctx = 2
	}
	return sub
}
