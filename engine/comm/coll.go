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
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib/num"
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

// reduceOp returns the function of a reduction operator: a name (see
// opNames) or a function of two values.
func reduceOp(th *starlark.Thread, op starlark.Value) (func(x, y starlark.Value) (starlark.Value, error), error) {
	if fn, ok := op.(starlark.Callable); ok {
		return func(x, y starlark.Value) (starlark.Value, error) {
			return starlark.Call(th, fn, starlark.Tuple{x, y}, nil)
		}, nil
	}
	name, _ := starlark.AsString(op)
	if f := namedOps[name]; f != nil {
		return func(x, y starlark.Value) (starlark.Value, error) { return f(th, x, y) }, nil
	}
	return nil, fmt.Errorf("op=%s: want one of %s (comm.SUM, ...) or a function of two values", op.String(), strings.Join(opNames, ", "))
}

// opNames are the named reduction operators, as comm.SUM etc. name them.
var opNames = []string{"sum", "prod", "min", "max", "land", "lor", "lxor", "band", "bor", "bxor", "maxloc", "minloc", "replace", "no_op"}

type opFunc func(th *starlark.Thread, x, y starlark.Value) (starlark.Value, error)

// namedOps are the named operators. On num arrays they work elementwise,
// as mpi4py's do on numpy arrays: + and * are num's, min and max are
// num.minimum and num.maximum, the logical ones num.logical_*.
var namedOps = map[string]opFunc{
	"sum":  binaryOp(syntax.PLUS),
	"prod": binaryOp(syntax.STAR),
	"band": binaryOp(syntax.AMP),
	"bor":  binaryOp(syntax.PIPE),
	"bxor": binaryOp(syntax.CIRCUMFLEX),
	"min":  pickOp(syntax.LT, "minimum"),
	"max":  pickOp(syntax.GT, "maximum"),
	"land": logicalOp("logical_and", func(a, b bool) bool { return a && b }),
	"lor":  logicalOp("logical_or", func(a, b bool) bool { return a || b }),
	"lxor": logicalOp("logical_xor", func(a, b bool) bool { return a != b }),
	"maxloc": func(th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
		return locOp(x, y, syntax.GT)
	},
	"minloc": func(th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
		return locOp(x, y, syntax.LT)
	},
	"replace": func(th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) { return y, nil },
	"no_op":   func(th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) { return x, nil },
}

func binaryOp(tok syntax.Token) opFunc {
	return func(th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
		return starlark.Binary(tok, x, y)
	}
}

// isArray reports whether x or y is a num array.
func isArray(x, y starlark.Value) bool {
	_, a := x.(*num.Array)
	_, b := y.(*num.Array)
	return a || b
}

// numCall calls num's function name on (x, y).
func numCall(th *starlark.Thread, name string, x, y starlark.Value) (starlark.Value, error) {
	return starlark.Call(th, num.Module.Members[name], starlark.Tuple{x, y}, nil)
}

// pickOp keeps the better of two values (y when y tok x), or calls num's
// elementwise function on arrays.
func pickOp(tok syntax.Token, elementwise string) opFunc {
	return func(th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
		if isArray(x, y) {
			return numCall(th, elementwise, x, y)
		}
		better, err := starlark.Compare(tok, y, x)
		if better {
			return y, err
		}
		return x, err
	}
}

func logicalOp(elementwise string, f func(a, b bool) bool) opFunc {
	return func(th *starlark.Thread, x, y starlark.Value) (starlark.Value, error) {
		if isArray(x, y) {
			return numCall(th, elementwise, x, y)
		}
		return starlark.Bool(f(bool(x.Truth()), bool(y.Truth()))), nil
	}
}

// locOp is MAXLOC (tok GT) or MINLOC (LT) on (value, index) pairs: the
// pair with the better value; on a tie, the smaller index (as MPI).
func locOp(x, y starlark.Value, tok syntax.Token) (starlark.Value, error) {
	pair := func(v starlark.Value) (starlark.Tuple, error) {
		if s, ok := v.(starlark.Indexable); ok && s.Len() == 2 {
			if t, ok := v.(starlark.Tuple); ok {
				return t, nil
			}
			return starlark.Tuple{s.Index(0), s.Index(1)}, nil
		}
		return nil, fmt.Errorf("maxloc and minloc combine (value, index) pairs, got %s", v.Type())
	}
	a, err := pair(x)
	if err != nil {
		return nil, err
	}
	b, err := pair(y)
	if err != nil {
		return nil, err
	}
	if better, err := starlark.Compare(tok, b[0], a[0]); err != nil || better {
		return b, err
	}
	if worse, err := starlark.Compare(tok, a[0], b[0]); err != nil || worse {
		return a, err
	}
	if less, err := starlark.Compare(syntax.LT, b[1], a[1]); err != nil || less {
		return b, err
	}
	return a, nil
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
	if eq, _ := starlark.Equal(color, starlark.MakeInt(undefined)); eq {
		color = starlark.None // mpi4py's Split(MPI.UNDEFINED)
	}
	if _, ok := color.(starlark.Int); color != starlark.None && !ok {
		return nil, fmt.Errorf("color=%s: want an int ≥ 0, or None (or comm.UNDEFINED) to stay out", color.String())
	}
	mine, _ := starlark.AsInt32(color)
	if color != starlark.None && mine < 0 {
		return nil, fmt.Errorf("color=%s: want an int ≥ 0, or None (or comm.UNDEFINED) to stay out", color.String())
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
		name: fmt.Sprintf("comm.split(color=%d)", mine), top: c.top}
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

func commAlltoall(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var seq starlark.Value
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "sendobj", &seq, "timeout?", &timeout); err != nil {
		return nil, err
	}
	items, ok := seq.(starlark.Indexable)
	if !ok || items.Len() != c.size {
		return nil, fmt.Errorf("sendobj must be a list or tuple of %d items (item i goes to rank i), got %s", c.size, describeSeq(seq))
	}
	o.setTimeout(timeout)
	tag, desc := c.collective("alltoall()")
	data := make([][]byte, c.size)
	for p := range c.size {
		if p == c.rank {
			continue
		}
		var err error
		if data[p], err = encode(items.Index(p)); err != nil {
			return nil, fmt.Errorf("item %d: %w", p, err)
		}
	}
	reqs, err := c.postRecvs(tag, desc)
	if err != nil {
		return nil, err
	}
	sends := make([]*request, 0, c.size)
	for p := range c.size {
		if p == c.rank {
			continue
		}
		r, err := c.isend(o, data[p], p, tag, c.ctx+1, desc)
		if err != nil {
			return nil, err
		}
		sends = append(sends, r)
	}
	for _, r := range sends {
		if err := c.wait(o, r); err != nil {
			return nil, err
		}
	}
	vals, err := c.collect(o, reqs, items.Index(c.rank))
	if err != nil {
		return nil, err
	}
	return starlark.NewList(vals), nil
}

func commScan(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return c.scan(o, args, kw, "scan", true)
}

func commExscan(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return c.scan(o, args, kw, "exscan", false)
}

// scan combines the values of ranks 0 to this one with op, in rank order
// (inclusive), or of ranks 0 to the one before (exscan: None on rank 0).
// The partial results go along the ranks: rank r receives ranks 0..r-1's
// from r-1 and sends 0..r's to r+1.
func (c *communicator) scan(o *op, args starlark.Tuple, kw []starlark.Tuple, name string, inclusive bool) (starlark.Value, error) {
	var obj starlark.Value
	var opv starlark.Value = starlark.String("sum")
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "sendobj", &obj, "op?", &opv, "timeout?", &timeout); err != nil {
		return nil, err
	}
	f, err := reduceOp(o.th, opv)
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	tag, desc := c.collective(name + "()")
	var before starlark.Value = starlark.None
	acc := obj
	if c.rank > 0 {
		if before, err = c.recvFrom(o, c.rank-1, tag, desc); err != nil {
			return nil, err
		}
		if acc, err = f(before, obj); err != nil {
			return nil, fmt.Errorf("op on the values of ranks 0 to %d: %w", c.rank, err)
		}
	}
	if c.rank < c.size-1 {
		data, err := encode(acc)
		if err != nil {
			return nil, err
		}
		if err := c.sendTo(o, data, c.rank+1, tag, desc); err != nil {
			return nil, err
		}
	}
	if inclusive {
		return acc, nil
	}
	return before, nil
}
