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
		return fmt.Errorf("%s=%d: want a rank from 0 to %d, or comm.ANY_SOURCE", what, r, c.size-1)
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
	w := c.world(dst)
	if err := c.rs.contact(o.ctx, w); err != nil {
		return nil, err
	}
	r := &request{kind: reqSend, ctx: cctx, peer: w, tag: tag, desc: desc, comm: c, data: data}
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
	return starlark.Tuple{v, starlark.MakeInt(c.local(r.src)), starlark.MakeInt(r.gotTag)}, nil
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

// startSend checks the arguments of a send and starts it.
func (c *communicator) startSend(o *op, obj starlark.Value, dest, tag int, verb string) (*request, error) {
	if err := c.rankArg("dest", dest, false); err != nil {
		return nil, err
	}
	if err := tagArg("tag", tag, false); err != nil {
		return nil, err
	}
	data, err := encode(obj)
	if err != nil {
		return nil, err
	}
	return c.isend(o, data, dest, tag, c.ctx, fmt.Sprintf("%s(dest=%d, tag=%d)", verb, dest, tag))
}

// startRecv checks the arguments of a receive or probe and starts it.
func (c *communicator) startRecv(kind reqKind, source, tag int, verb string) (*request, error) {
	if err := c.rankArg("source", source, true); err != nil {
		return nil, err
	}
	if err := tagArg("tag", tag, true); err != nil {
		return nil, err
	}
	return c.irecv(kind, source, tag, c.ctx, fmt.Sprintf("%s(source=%s, tag=%s)", verb, anyName(source, "ANY_SOURCE"), anyName(tag, "ANY_TAG")))
}

func anyName(n int, anyWord string) string {
	if n < 0 {
		return anyWord
	}
	return fmt.Sprint(n)
}

func commRecv(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	source, tag := anySource, anyTag
	var status bool
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "source?", &source, "tag?", &tag, "status?", &status, "timeout?", &timeout); err != nil {
		return nil, err
	}
	r, err := c.startRecv(reqRecv, source, tag, "recv")
	if err != nil {
		return nil, err
	}
	o.setTimeout(timeout)
	if err := c.wait(o, r); err != nil {
		return nil, err
	}
	return c.received(r, status)
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
	if err := starlark.UnpackArgs(o.name, args, kw, "source?", &source, "tag?", &tag); err != nil {
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
	var status bool
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "sendobj", &obj, "dest", &dest, "sendtag?", &sendtag,
		"source?", &source, "recvtag?", &recvtag, "status?", &status, "timeout?", &timeout); err != nil {
		return nil, err
	}
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
	return c.received(r, status)
}

func commProbe(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
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
	return starlark.Tuple{starlark.MakeInt(c.local(r.src)), starlark.MakeInt(r.gotTag)}, nil
}

func commIprobe(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	source, tag := anySource, anyTag
	if err := starlark.UnpackArgs(o.name, args, kw, "source?", &source, "tag?", &tag); err != nil {
		return nil, err
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

// requestValue is the Request of an isend or irecv:
//
//	req.wait(status=False, timeout=None)  # the value received (None for a send); (value, source, tag) with status
//	req.test()                            # (True, value) when complete, else (False, None); never waits
type requestValue struct {
	c *communicator
	r *request
}

func (v *requestValue) String() string        { return "<Request " + v.r.desc + ">" }
func (v *requestValue) Type() string          { return "Request" }
func (v *requestValue) Freeze()               {}
func (v *requestValue) Truth() starlark.Bool  { return true }
func (v *requestValue) Hash() (uint32, error) { return 0, errors.New("unhashable: Request") }
func (v *requestValue) AttrNames() []string   { return []string{"test", "wait"} }

func (v *requestValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "wait":
		return requestWait.BindReceiver(v), nil
	case "test":
		return requestTest.BindReceiver(v), nil
	}
	return nil, nil
}

var (
	requestWait = starlark.NewBuiltin("Request.wait", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		v := b.Receiver().(*requestValue)
		var status bool
		var timeout timeoutArg
		if err := starlark.UnpackArgs(b.Name(), args, kw, "status?", &status, "timeout?", &timeout); err != nil {
			return nil, err
		}
		o := &op{th: th, ctx: starlib.Context(th), name: b.Name()}
		o.setTimeout(timeout)
		if err := v.c.wait(o, v.r); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if v.r.kind == reqSend {
			return starlark.None, nil
		}
		res, err := v.c.received(v.r, status)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return res, nil
	})
	requestTest = starlark.NewBuiltin("Request.test", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		v := b.Receiver().(*requestValue)
		if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
			return nil, err
		}
		rs := v.c.rs
		var dl drainList
		rs.mu.Lock()
		done := v.r.done
		err := rs.usable()
		rs.flushCredit(&dl)
		rs.mu.Unlock()
		dl.run()
		switch {
		case done && v.r.kind == reqSend:
			return starlark.Tuple{starlark.True, starlark.None}, nil
		case done:
			res, err := v.r.result()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", b.Name(), err)
			}
			return starlark.Tuple{starlark.True, res}, nil
		case err != nil:
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.Tuple{starlark.False, starlark.None}, nil
	})
)
