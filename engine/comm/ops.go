// This file defines comm's point-to-point operations (send, recv, isend,
// irecv, sendrecv, probe, iprobe), their Request values, and the argument
// types the operations share. The API is documented in comm.go.

package comm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// noDeadline is the deadline of an operation without a timeout.
var noDeadline time.Time

type commMethod func(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error)

var commMethods = starlib.Methods{}

func init() {
	for name, f := range map[string]commMethod{
		"send": commSend, "recv": commRecv, "isend": commIsend, "irecv": commIrecv,
		"sendrecv": commSendrecv, "probe": commProbe, "iprobe": commIprobe,
		"ssend": commSsend, "issend": commIssend, "recv_status": commRecvStatus,
		"waitall": commWaitall, "waitany": commWaitany, "waitsome": commWaitsome,
		"testall": commTestall, "testany": commTestany, "testsome": commTestsome,
		"alltoall": commAlltoall, "scan": commScan, "exscan": commExscan,
		"Get_rank": commGetRank, "Get_size": commGetSize, "Barrier": commBarrier, "Split": commSplit,
		"Dup": commDup, "Clone": commDup, "Free": commFree, "Is_intra": commIsIntra, "Is_inter": commIsInter,
		"Compare": commCompare, "Get_name": commGetName, "Set_name": commSetName,
		"bcast": commBcast, "scatter": commScatter, "gather": commGather, "allgather": commAllgather,
		"reduce": commReduce, "allreduce": commAllreduce, "barrier": commBarrier, "split": commSplit,
	} {
		commMethods[name] = starlark.NewBuiltin("comm."+name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			c, err := b.Receiver().(*Value).get()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			o := &op{th: th, ctx: starlib.Context(th), name: b.Name()}
			v, err := f(c, o, args, kw)
			if err != nil && !strings.HasPrefix(err.Error(), b.Name()+":") { // UnpackArgs names the function
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			return v, err
		})
	}
}

// op is one call of a comm operation.
type op struct {
	th       *starlark.Thread
	ctx      context.Context
	name     string
	timeout  time.Duration
	deadline time.Time
}

// setTimeout starts the operation's timeout, if any.
func (o *op) setTimeout(t timeoutArg) {
	if t > 0 {
		o.timeout = time.Duration(t)
		o.deadline = time.Now().Add(o.timeout)
	}
}

// timeoutArg is a timeout in seconds: None or a number ≥ 0.
type timeoutArg time.Duration

func (t *timeoutArg) Unpack(v starlark.Value) error {
	if v == starlark.None {
		*t = 0
		return nil
	}
	f, ok := starlark.AsFloat(v)
	if !ok || f < 0 || math.IsNaN(f) {
		return fmt.Errorf("want None or a number of seconds ≥ 0, got %s", v.String())
	}
	*t = timeoutArg(min(f, 1e9) * float64(time.Second))
	if *t == 0 {
		*t = 1 // timeout=0: fail at once if it cannot complete now
	}
	return nil
}

// rankArg checks a rank argument: 0 ≤ r < size, or anySource when any is set.
func (c *communicator) rankArg(what string, r int, anyOK bool) error {
	if r >= 0 && r < c.size || anyOK && r == anySource {
		return nil
	}
	if anyOK {
		return fmt.Errorf("%s=%d: want a rank from 0 to %d, comm.ANY_SOURCE or comm.PROC_NULL", what, r, c.size-1)
	}
	return fmt.Errorf("%s=%d: want a rank from 0 to %d", what, r, c.size-1)
}

func tagArg(what string, t int, anyOK bool) error {
	if t >= 0 || anyOK && t == anyTag {
		return nil
	}
	if anyOK {
		return fmt.Errorf("%s=%d: want a tag ≥ 0, or comm.ANY_TAG", what, t)
	}
	return fmt.Errorf("%s=%d: want a tag ≥ 0", what, t)
}

// encode encodes a value to send.
func encode(v starlark.Value) ([]byte, error) {
	data, err := wire.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w (comm sends plain data: None, bools, numbers, strings, bytes, lists, tuples, dicts, sets, structs)", err)
	}
	return data, nil
}

// usable reports why the rank cannot take new operations; rs.mu is held.
func (rs *Rank) usable() error {
	switch {
	case rs.broken != nil:
		return rs.broken
	case rs.phase == phaseEnded:
		return errors.New("this communicator's task has ended: use comm in the task that made it")
	}
	return nil
}

// isend starts sending data to rank dst of c, in context cctx.
func (c *communicator) isend(o *op, data []byte, dst, tag int, cctx uint64, desc string) (*request, error) {
	return c.isendSync(o, data, dst, tag, cctx, desc, false)
}

// isendSync is isend; a sync send completes once a receive matched it.
func (c *communicator) isendSync(o *op, data []byte, dst, tag int, cctx uint64, desc string, sync bool) (*request, error) {
	w := c.world(dst)
	if err := c.rs.contact(o.ctx, w); err != nil {
		return nil, err
	}
	r := &request{kind: reqSend, ctx: cctx, peer: w, tag: tag, desc: desc, comm: c, data: data, sync: sync}
	if cctx%2 == 1 {
		r.call = callOf(desc)
	}
	var dl drainList
	c.rs.mu.Lock()
	err := c.rs.usable()
	if err == nil {
		c.rs.postSend(r, &dl)
	}
	c.rs.mu.Unlock()
	dl.run()
	return r, err
}

// irecv starts a receive (or a probe) from rank src of c (or anySource).
func (c *communicator) irecv(kind reqKind, src, tag int, cctx uint64, desc string) (*request, error) {
	w := anySource
	if src != anySource {
		w = c.world(src)
	}
	r := &request{kind: kind, ctx: cctx, peer: w, tag: tag, desc: desc, comm: c}
	var dl drainList
	c.rs.mu.Lock()
	err := c.rs.usable()
	if err == nil {
		c.rs.postRecv(r, &dl)
	}
	c.rs.mu.Unlock()
	dl.run()
	return r, err
}

// postRecv takes the first kept message that r matches, or posts r.
func (rs *Rank) postRecv(r *request, dl *drainList) {
	for i, m := range rs.unexpected {
		if !r.matches(m) {
			continue
		}
		if r.kind == reqProbe {
			r.src, r.gotTag, r.done = m.Src, m.Tag, true
			return
		}
		if i == 0 { // the usual case: take the oldest without copying
			rs.unexpected[0] = nil
			rs.unexpected = rs.unexpected[1:]
		} else {
			rs.unexpected = slices.Delete(rs.unexpected, i, i+1)
		}
		rs.consume(m, r, dl)
		return
	}
	rs.posted = append(rs.posted, r)
}

// wait waits for r within the operation's limits.
func (c *communicator) wait(o *op, r *request) error {
	err := c.rs.wait(o.ctx, r, o.deadline)
	if errors.Is(err, errTimedOut) {
		c.rs.withdraw(r)
		return fmt.Errorf("timed out after %v waiting for %s", o.timeout, r.describe())
	}
	return err
}

// withdraw removes a receive that timed out from the posted receives.
func (rs *Rank) withdraw(r *request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if i := slices.Index(rs.posted, r); i >= 0 {
		rs.posted = slices.Delete(rs.posted, i, i+1)
	}
}

// value decodes the value a completed receive got.
func (r *request) result() (starlark.Value, error) {
	if r.value == nil {
		v, err := wire.Unmarshal(r.data)
		if err != nil {
			return nil, fmt.Errorf("decode the message from rank %d: %w", r.src, err)
		}
		r.value, r.data = v, nil
	}
	return r.value, nil
}

// received returns what a completed receive got: its value, or (value,
// source, tag) with status.
func (c *communicator) received(r *request, status bool) (starlark.Value, error) {
	v, err := r.result()
	if err != nil || !status {
		return v, err
	}
	return starlark.Tuple{v, starlark.MakeInt(c.source(r)), starlark.MakeInt(r.gotTag)}, nil
}

// source is the rank in c that receive or probe r matched.
func (c *communicator) source(r *request) int {
	if r.src == procNull {
		return procNull
	}
	return c.local(r.src)
}

func commSend(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	var dest, tag int
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "obj", &obj, "dest", &dest, "tag?", &tag, "timeout?", &timeout); err != nil {
		return nil, err
	}
	r, err := c.startSend(o, obj, dest, tag, "send")
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	return starlark.None, c.wait(o, r)
}

// startSend checks the arguments of a send and starts it. ssend and
// issend are sync: they complete once a receive matched them. A send to
// PROC_NULL is complete at once.
func (c *communicator) startSend(o *op, obj starlark.Value, dest, tag int, verb string) (*request, error) {
	desc := fmt.Sprintf("%s(dest=%s, tag=%d)", verb, anyName(dest, "PROC_NULL"), tag)
	if err := tagArg("tag", tag, false); err != nil {
		return nil, err
	}
	if dest == procNull {
		return &request{kind: reqSend, peer: procNull, tag: tag, desc: desc, comm: c, done: true}, nil
	}
	if err := c.rankArg("dest", dest, false); err != nil {
		return nil, fmt.Errorf("%w, or comm.PROC_NULL", err)
	}
	data, err := encode(obj)
	if err != nil {
		return nil, err
	}
	return c.isendSync(o, data, dest, tag, c.ctx, desc, verb == "ssend" || verb == "issend")
}

// startRecv checks the arguments of a receive or probe and starts it. A
// receive from PROC_NULL is complete at once, with None from PROC_NULL
// with tag ANY_TAG, as in MPI.
func (c *communicator) startRecv(kind reqKind, source, tag int, verb string) (*request, error) {
	if err := tagArg("tag", tag, true); err != nil {
		return nil, err
	}
	desc := fmt.Sprintf("%s(source=%s, tag=%s)", verb, anyName(source, "ANY_SOURCE"), anyName(tag, "ANY_TAG"))
	if source == procNull {
		return &request{kind: kind, peer: procNull, tag: tag, desc: desc, comm: c, done: true,
			src: procNull, gotTag: anyTag, value: starlark.None}, nil
	}
	if err := c.rankArg("source", source, true); err != nil {
		return nil, err
	}
	return c.irecv(kind, source, tag, c.ctx, desc)
}

func anyName(n int, anyWord string) string {
	switch n {
	case procNull:
		return "PROC_NULL"
	case anySource: // == anyTag
		return anyWord
	}
	return fmt.Sprint(n)
}

func commRecv(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	source, tag := anySource, anyTag
	var statusv starlark.Value
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, dropBuf(args), kw, "source?", &source, "tag?", &tag, "status?", &statusv, "timeout?", &timeout); err != nil {
		return nil, err
	}
	status, st := statusArg(statusv)
	r, err := c.startRecv(reqRecv, source, tag, "recv")
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	if err := c.wait(o, r); err != nil {
		return nil, err
	}
	res, err := c.received(r, status)
	return finishStatus(res, st), err
}

func commIsend(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	var dest, tag int
	if err := starlark.UnpackArgs(o.name, args, kw, "obj", &obj, "dest", &dest, "tag?", &tag); err != nil {
		return nil, err
	}
	r, err := c.startSend(o, obj, dest, tag, "isend")
	if err != nil {
		return nil, err
	}
	return &requestValue{c: c, r: r}, nil
}

func commIrecv(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	source, tag := anySource, anyTag
	if err := starlark.UnpackArgs(o.name, dropBuf(args), kw, "source?", &source, "tag?", &tag); err != nil {
		return nil, err
	}
	r, err := c.startRecv(reqRecv, source, tag, "irecv")
	if err != nil {
		return nil, err
	}
	return &requestValue{c: c, r: r}, nil
}

func commSendrecv(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	var dest, sendtag int
	source, recvtag := anySource, anyTag
	var statusv starlark.Value
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, dropRecvBuf(args), kw, "sendobj", &obj, "dest", &dest, "sendtag?", &sendtag,
		"source?", &source, "recvtag?", &recvtag, "status?", &statusv, "timeout?", &timeout); err != nil {
		return nil, err
	}
	status, st := statusArg(statusv)
	s, err := c.startSend(o, obj, dest, sendtag, "sendrecv")
	if err != nil {
		return nil, err
	}
	r, err := c.startRecv(reqRecv, source, recvtag, "sendrecv")
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	if err := c.wait(o, r); err != nil {
		return nil, err
	}
	if err := c.wait(o, s); err != nil {
		return nil, err
	}
	res, err := c.received(r, status)
	return finishStatus(res, st), err
}

func commProbe(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	args, kw, st := probeStatus(args, kw)
	res, err := probe(c, o, args, kw)
	if st != nil && err == nil {
		st.fill(append(starlark.Tuple{starlark.None}, res.(starlark.Tuple)...))
	}
	return res, err
}

func probe(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	source, tag := anySource, anyTag
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "source?", &source, "tag?", &tag, "timeout?", &timeout); err != nil {
		return nil, err
	}
	r, err := c.startRecv(reqProbe, source, tag, "probe")
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	if err := c.wait(o, r); err != nil {
		return nil, err
	}
	return starlark.Tuple{starlark.MakeInt(c.source(r)), starlark.MakeInt(r.gotTag)}, nil
}

func commIprobe(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	args, kw, st := probeStatus(args, kw)
	res, err := iprobe(c, o, args, kw)
	if st == nil || err != nil {
		return res, err
	}
	if t, ok := res.(starlark.Tuple); ok { // mpi4py's iprobe(source, tag, status) gives the flag
		st.fill(append(starlark.Tuple{starlark.None}, t...))
		return starlark.True, nil
	}
	return starlark.False, nil
}

func iprobe(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	source, tag := anySource, anyTag
	if err := starlark.UnpackArgs(o.name, args, kw, "source?", &source, "tag?", &tag); err != nil {
		return nil, err
	}
	if source == procNull {
		return starlark.Tuple{starlark.MakeInt(procNull), starlark.MakeInt(anyTag)}, nil
	}
	if err := c.rankArg("source", source, true); err != nil {
		return nil, err
	}
	if err := tagArg("tag", tag, true); err != nil {
		return nil, err
	}
	w := anySource
	if source != anySource {
		w = c.world(source)
	}
	probe := &request{kind: reqProbe, ctx: c.ctx, peer: w, tag: tag}
	var dl drainList
	c.rs.mu.Lock()
	err := c.rs.usable()
	for _, m := range c.rs.unexpected {
		if err == nil && probe.matches(m) {
			probe.src, probe.gotTag, probe.done = m.Src, m.Tag, true
			break
		}
	}
	c.rs.flushCredit(&dl)
	c.rs.mu.Unlock()
	dl.run()
	if err != nil || !probe.done {
		return starlark.None, err
	}
	return starlark.Tuple{starlark.MakeInt(c.local(probe.src)), starlark.MakeInt(probe.gotTag)}, nil
}

func commSsend(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	var dest, tag int
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "obj", &obj, "dest", &dest, "tag?", &tag, "timeout?", &timeout); err != nil {
		return nil, err
	}
	r, err := c.startSend(o, obj, dest, tag, "ssend")
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	return starlark.None, c.wait(o, r)
}

func commIssend(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	var dest, tag int
	if err := starlark.UnpackArgs(o.name, args, kw, "obj", &obj, "dest", &dest, "tag?", &tag); err != nil {
		return nil, err
	}
	r, err := c.startSend(o, obj, dest, tag, "issend")
	if err != nil {
		return nil, err
	}
	return &requestValue{c: c, r: r}, nil
}

// commRecvStatus is recv returning (value, status), status a struct with
// source and tag: mpi4py fills a Status object passed in
// (recv(status=st)), which Starlark cannot do, having no mutable objects
// of that kind.
func commRecvStatus(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	source, tag := anySource, anyTag
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "source?", &source, "tag?", &tag, "timeout?", &timeout); err != nil {
		return nil, err
	}
	r, err := c.startRecv(reqRecv, source, tag, "recv_status")
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	if err := c.wait(o, r); err != nil {
		return nil, err
	}
	v, err := r.result()
	if err != nil {
		return nil, err
	}
	st := starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{
		"source": starlark.MakeInt(c.source(r)),
		"tag":    starlark.MakeInt(r.gotTag),
	})
	return starlark.Tuple{v, st}, nil
}

func commGetRank(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(o.name, args, kw); err != nil {
		return nil, err
	}
	return starlark.MakeInt(c.rank), nil
}

func commGetSize(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(o.name, args, kw); err != nil {
		return nil, err
	}
	return starlark.MakeInt(c.size), nil
}
