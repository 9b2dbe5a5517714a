// This file defines the Request values of isend, irecv, ssend and issend,
// and the operations on lists of requests (waitall, waitany, waitsome,
// testall, testany, testsome), as mpi4py has them: comm.waitall(reqs) and
// comm.Request.waitall(reqs) are the same. The API is documented in
// comm.go.

package comm

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pirun-dev/pirun/starlib"
)

// requestValue is the Request of an isend or irecv. Like mpi4py's, it
// becomes null (false) once a wait or a test found it complete; a null
// request's wait returns None at once.
type requestValue struct {
	c    *communicator
	r    *request
	null bool
}

func (v *requestValue) String() string {
	if v.null {
		return "<Request null>"
	}
	return "<Request " + v.r.desc + ">"
}
func (v *requestValue) Type() string          { return "Request" }
func (v *requestValue) Freeze()               {}
func (v *requestValue) Truth() starlark.Bool  { return starlark.Bool(!v.null) }
func (v *requestValue) Hash() (uint32, error) { return 0, errors.New("unhashable: Request") }
func (v *requestValue) AttrNames() []string {
	return []string{"Free", "Test", "Wait", "cancel", "cancelled", "get_status", "test", "testall", "testany", "testsome", "wait", "waitall", "waitany", "waitsome"}
}

func (v *requestValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "wait":
		return requestWait.BindReceiver(v), nil
	case "test":
		return requestTest.BindReceiver(v), nil
	case "cancel":
		return requestCancel.BindReceiver(v), nil
	case "Wait", "Test", "Free", "get_status":
		return requestUpper[name].BindReceiver(v), nil
	case "cancelled":
		v.c.rs.mu.Lock()
		defer v.c.rs.mu.Unlock()
		return starlark.Bool(v.r.cancelled), nil
	}
	if f, ok := requestStatics[name]; ok { // mpi4py's Request.waitall(reqs), on a request too
		return f, nil
	}
	return nil, nil
}

// requestStatics are the functions on request lists, also as comm.Request.
var requestStatics = starlark.StringDict{}

// requestModule is comm.Request: mpi4py's MPI.Request.waitall(reqs) is
// comm.Request.waitall(reqs).
var requestModule = &starlarkstruct.Module{Name: "Request", Members: requestStatics}

func init() {
	for name, f := range map[string]func(th *starlark.Thread, name string, reqs []*requestValue, o *op, status bool) (starlark.Value, error){
		"waitall": waitAll, "waitany": waitAny, "waitsome": waitSome,
		"testall": testAll, "testany": testAny, "testsome": testSome,
	} {
		requestStatics[name] = starlark.NewBuiltin("comm.Request."+name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			return requestList(th, "comm."+name, args, kw, f)
		})
	}
}

// requestList unpacks (requests, status=False, timeout=None) and calls f.
func requestList(th *starlark.Thread, name string, args starlark.Tuple, kw []starlark.Tuple,
	f func(th *starlark.Thread, name string, reqs []*requestValue, o *op, status bool) (starlark.Value, error)) (starlark.Value, error) {
	var list starlark.Iterable
	var status bool
	var timeout timeoutArg
	args, statuses := statusesArg(args)
	if err := starlark.UnpackArgs(name, args, kw, "requests", &list, "status?", &status, "timeout?", &timeout); err != nil {
		return nil, err
	}
	var reqs []*requestValue
	i := 0
	for x := range starlark.Elements(list) {
		rv, ok := x.(*requestValue)
		if !ok {
			return nil, fmt.Errorf("%s: requests[%d] is a %s: want the Requests of isend, irecv or issend", name, i, x.Type())
		}
		reqs = append(reqs, rv)
		i++
	}
	o := &op{th: th, ctx: starlib.Context(th), name: name}
	o.setTimeout(timeout)
	v, err := f(th, name, reqs, o, status)
	if err != nil && !strings.HasPrefix(err.Error(), name+":") {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err == nil && statuses != nil {
		return fillStatuses(v, statuses)
	}
	return v, err
}

// commRequests adapts a function on request lists to a comm method.
func commRequests(name string) commMethod {
	return func(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		b := requestStatics[name].(*starlark.Builtin)
		return b.CallInternal(o.th, args, kw)
	}
}

var (
	commWaitall  = commRequests("waitall")
	commWaitany  = commRequests("waitany")
	commWaitsome = commRequests("waitsome")
	commTestall  = commRequests("testall")
	commTestany  = commRequests("testany")
	commTestsome = commRequests("testsome")
)

// finish returns what a complete request gives and makes it null: the
// value received (None for a send, a cancelled or a null request), or
// (value, source, tag) with status.
func (v *requestValue) finish(status bool) (starlark.Value, error) {
	if v.null {
		if status {
			return starlark.Tuple{starlark.None, starlark.MakeInt(anySource), starlark.MakeInt(anyTag)}, nil
		}
		return starlark.None, nil
	}
	v.null = true
	if v.r.kind == reqSend || v.r.cancelled {
		if status {
			return starlark.Tuple{starlark.None, starlark.MakeInt(anySource), starlark.MakeInt(anyTag)}, nil
		}
		return starlark.None, nil
	}
	return v.c.received(v.r, status)
}

// done reports whether v is complete now, without waiting; it gives
// back the credit its rank owes, as a test must let messages move.
func (v *requestValue) done() (bool, error) {
	if v.null {
		return true, nil
	}
	rs := v.c.rs
	var dl drainList
	rs.mu.Lock()
	done := v.r.done && !rs.checking
	err := rs.usable()
	rs.flushCredit(&dl)
	rs.mu.Unlock()
	dl.run()
	if done {
		return true, nil
	}
	return false, err
}

// wait waits for v within o's limits.
func (v *requestValue) wait(o *op) error {
	if v.null {
		return nil
	}
	return v.c.wait(o, v.r)
}

var (
	requestWait = starlark.NewBuiltin("Request.wait", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		v := b.Receiver().(*requestValue)
		var statusv starlark.Value
		var timeout timeoutArg
		if err := starlark.UnpackArgs(b.Name(), args, kw, "status?", &statusv, "timeout?", &timeout); err != nil {
			return nil, err
		}
		status, st := statusArg(statusv)
		o := &op{th: th, ctx: starlib.Context(th), name: b.Name()}
		o.setTimeout(timeout)
		if err := v.wait(o); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		res, err := v.finish(status)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return finishStatus(res, st), nil
	})
	requestTest = starlark.NewBuiltin("Request.test", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		v := b.Receiver().(*requestValue)
		var status bool
		if err := starlark.UnpackArgs(b.Name(), args, kw, "status?", &status); err != nil {
			return nil, err
		}
		done, err := v.done()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if !done {
			return starlark.Tuple{starlark.False, starlark.None}, nil
		}
		res, err := v.finish(status)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		return starlark.Tuple{starlark.True, res}, nil
	})
	requestCancel = starlark.NewBuiltin("Request.cancel", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		v := b.Receiver().(*requestValue)
		if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
			return nil, err
		}
		if !v.null {
			v.c.rs.cancel(v.r)
		}
		return starlark.None, nil
	})
)

// cancel takes back a receive that no message matched yet, or a send
// still waiting for credit, and completes it as cancelled. A request
// already matched or sent completes as usual.
func (rs *Rank) cancel(r *request) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if r.done || r.peer == procNull {
		return
	}
	switch r.kind {
	case reqRecv, reqProbe:
		for i, p := range rs.posted {
			if p == r {
				rs.posted = append(rs.posted[:i], rs.posted[i+1:]...)
				r.done, r.cancelled, r.value = true, true, starlark.None
				return
			}
		}
	case reqSend:
		ps := rs.peer(r.peer)
		for i, q := range ps.queue {
			if q == r {
				ps.queue = append(ps.queue[:i], ps.queue[i+1:]...)
				r.done, r.cancelled = true, true
				return
			}
		}
	}
}

// active returns the indexes of the requests that are not null.
func active(reqs []*requestValue) []int {
	var idx []int
	for i, v := range reqs {
		if !v.null {
			idx = append(idx, i)
		}
	}
	return idx
}

// waitFor blocks until one of the active requests is complete.
func waitFor(o *op, reqs []*requestValue, idx []int) error {
	group := &request{kind: reqAny, peer: -1}
	descs := make([]string, 0, len(idx))
	for _, i := range idx {
		group.group = append(group.group, reqs[i].r)
		if len(descs) < 4 {
			descs = append(descs, reqs[i].r.desc)
		} else if len(descs) == 4 {
			descs = append(descs, "…")
		}
	}
	group.desc = "any of " + strings.Join(descs, ", ")
	return reqs[idx[0]].c.wait(o, group)
}

func waitAll(th *starlark.Thread, name string, reqs []*requestValue, o *op, status bool) (starlark.Value, error) {
	for _, v := range reqs {
		if err := v.wait(o); err != nil {
			return nil, err
		}
	}
	out := make([]starlark.Value, len(reqs))
	for i, v := range reqs {
		res, err := v.finish(status)
		if err != nil {
			return nil, fmt.Errorf("requests[%d]: %w", i, err)
		}
		out[i] = res
	}
	return starlark.NewList(out), nil
}

// completed returns the indexes of the active requests complete now.
func completed(reqs []*requestValue, idx []int) ([]int, error) {
	var done []int
	for _, i := range idx {
		ok, err := reqs[i].done()
		if err != nil {
			return nil, err
		}
		if ok {
			done = append(done, i)
		}
	}
	return done, nil
}

func waitAny(th *starlark.Thread, name string, reqs []*requestValue, o *op, status bool) (starlark.Value, error) {
	idx := active(reqs)
	if len(idx) == 0 {
		return starlark.Tuple{starlark.MakeInt(undefined), starlark.None}, nil
	}
	done, err := completed(reqs, idx)
	if err == nil && len(done) == 0 {
		if err = waitFor(o, reqs, idx); err == nil {
			done, err = completed(reqs, idx)
		}
	}
	if err != nil {
		return nil, err
	}
	res, err := reqs[done[0]].finish(status)
	if err != nil {
		return nil, err
	}
	return starlark.Tuple{starlark.MakeInt(done[0]), res}, nil
}

func waitSome(th *starlark.Thread, name string, reqs []*requestValue, o *op, status bool) (starlark.Value, error) {
	idx := active(reqs)
	if len(idx) == 0 {
		return starlark.Tuple{starlark.None, starlark.None}, nil
	}
	done, err := completed(reqs, idx)
	if err == nil && len(done) == 0 {
		if err = waitFor(o, reqs, idx); err == nil {
			done, err = completed(reqs, idx)
		}
	}
	if err != nil {
		return nil, err
	}
	return finishSome(reqs, done, status)
}

// finishSome returns ([indexes], [values]) of the done requests.
func finishSome(reqs []*requestValue, done []int, status bool) (starlark.Value, error) {
	ids := make([]starlark.Value, len(done))
	vals := make([]starlark.Value, len(done))
	for k, i := range done {
		res, err := reqs[i].finish(status)
		if err != nil {
			return nil, fmt.Errorf("requests[%d]: %w", i, err)
		}
		ids[k], vals[k] = starlark.MakeInt(i), res
	}
	return starlark.Tuple{starlark.NewList(ids), starlark.NewList(vals)}, nil
}

func testAll(th *starlark.Thread, name string, reqs []*requestValue, o *op, status bool) (starlark.Value, error) {
	idx := active(reqs)
	done, err := completed(reqs, idx)
	if err != nil {
		return nil, err
	}
	if len(done) < len(idx) {
		return starlark.Tuple{starlark.False, starlark.None}, nil
	}
	out := make([]starlark.Value, len(reqs))
	for i, v := range reqs {
		if out[i], err = v.finish(status); err != nil {
			return nil, fmt.Errorf("requests[%d]: %w", i, err)
		}
	}
	return starlark.Tuple{starlark.True, starlark.NewList(out)}, nil
}

func testAny(th *starlark.Thread, name string, reqs []*requestValue, o *op, status bool) (starlark.Value, error) {
	idx := active(reqs)
	if len(idx) == 0 {
		return starlark.Tuple{starlark.MakeInt(undefined), starlark.True, starlark.None}, nil
	}
	done, err := completed(reqs, idx)
	if err != nil {
		return nil, err
	}
	if len(done) == 0 {
		return starlark.Tuple{starlark.MakeInt(undefined), starlark.False, starlark.None}, nil
	}
	res, err := reqs[done[0]].finish(status)
	if err != nil {
		return nil, err
	}
	return starlark.Tuple{starlark.MakeInt(done[0]), starlark.True, res}, nil
}

func testSome(th *starlark.Thread, name string, reqs []*requestValue, o *op, status bool) (starlark.Value, error) {
	idx := active(reqs)
	if len(idx) == 0 {
		return starlark.Tuple{starlark.None, starlark.None}, nil
	}
	done, err := completed(reqs, idx)
	if err != nil {
		return nil, err
	}
	return finishSome(reqs, done, status)
}
