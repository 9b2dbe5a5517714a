// This file defines what mpi4py programs type beyond the lowercase
// object API: the buf argument of recv, irecv and sendrecv (ignored, as
// mpi4py ignores it for objects), Status objects that recv, probe and
// iprobe fill in place, the uppercase request calls (Wait, Test,
// Request.Waitall, Waitany, Waitsome, Testall, Testany, Testsome), the
// statuses list of the request functions, Dup, Clone and Free,
// COMM_SELF, Compare and Get_name/Set_name.

package comm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"

	"go.starlark.net/starlark"
)

// success is MPI.SUCCESS, the error of every Status.
const success = 0

// statusValue is comm.Status(): mpi4py's Status, filled in place by
// recv(status=st), probe, iprobe, req.wait(status=st) and the statuses
// lists of waitall, waitsome and testsome.
type statusValue struct {
	source, tag int
	cancelled   bool
}

func (s *statusValue) String() string {
	return fmt.Sprintf("<Status source=%d tag=%d>", s.source, s.tag)
}
func (s *statusValue) Type() string          { return "Status" }
func (s *statusValue) Freeze()               {}
func (s *statusValue) Truth() starlark.Bool  { return true }
func (s *statusValue) Hash() (uint32, error) { return 0, errors.New("unhashable: Status") }
func (s *statusValue) AttrNames() []string {
	return []string{"Get_error", "Get_source", "Get_tag", "Is_cancelled", "error", "source", "tag"}
}

func (s *statusValue) Attr(name string) (starlark.Value, error) {
	get := func(v int) starlark.Value {
		return starlark.NewBuiltin("Status."+name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.MakeInt(v), nil
		})
	}
	switch name {
	case "source":
		return starlark.MakeInt(s.source), nil
	case "tag":
		return starlark.MakeInt(s.tag), nil
	case "error":
		return starlark.MakeInt(success), nil
	case "Get_source":
		return get(s.source), nil
	case "Get_tag":
		return get(s.tag), nil
	case "Get_error":
		return get(success), nil
	case "Is_cancelled":
		return starlark.NewBuiltin("Status.Is_cancelled", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.Bool(s.cancelled), nil
		}), nil
	}
	return nil, nil
}

// newStatus is comm.Status(): a Status of an empty receive (ANY_SOURCE,
// ANY_TAG) until something fills it.
var newStatus = starlark.NewBuiltin("comm.Status", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
		return nil, err
	}
	return &statusValue{source: anySource, tag: anyTag}, nil
})

// fill sets s from a (value, source, tag) tuple and returns the value.
func (s *statusValue) fill(t starlark.Value) starlark.Value {
	tup, ok := t.(starlark.Tuple)
	if !ok || len(tup) != 3 {
		return t
	}
	s.source, _ = starlark.AsInt32(tup[1])
	s.tag, _ = starlark.AsInt32(tup[2])
	return tup[0]
}

// statusArg reads a status= argument: True (pirun's (obj, source, tag)),
// False or None, or a Status to fill in place (mpi4py's).
func statusArg(v starlark.Value) (want bool, st *statusValue) {
	if s, ok := v.(*statusValue); ok {
		return true, s
	}
	return v != nil && v != starlark.None && bool(v.Truth()), nil
}

// finishStatus returns what a receive with status= gives: res itself,
// or its value once st is filled from it.
func finishStatus(res starlark.Value, st *statusValue) starlark.Value {
	if st == nil {
		return res
	}
	return st.fill(res)
}

// dropBuf drops mpi4py's leading buf argument of recv and irecv:
// recv(None, source, tag), recv(buf, source, tag) with three positional
// arguments (pirun's third is status, never an int), and
// irecv(buf, PROC_NULL).
func dropBuf(args starlark.Tuple) starlark.Tuple {
	if len(args) == 0 {
		return args
	}
	if args[0] == starlark.None {
		return args[1:]
	}
	if len(args) == 2 { // irecv(0, PROC_NULL): a tag is never PROC_NULL, a source may be
		_, first := args[0].(starlark.Int)
		if n, ok := args[1].(starlark.Int); first && ok && n.Sign() < 0 {
			if v, _ := starlark.AsInt32(n); v == procNull {
				return args[1:]
			}
		}
	}
	if len(args) >= 3 {
		if _, isInt := args[2].(starlark.Int); isInt {
			return args[1:]
		}
	}
	return args
}

// dropRecvBuf drops mpi4py's recvbuf, sendrecv's fourth positional
// argument (sendobj, dest, sendtag, recvbuf, source, recvtag, status).
func dropRecvBuf(args starlark.Tuple) starlark.Tuple {
	if len(args) >= 4 && args[3] == starlark.None {
		return append(args[:3:3], args[4:]...)
	}
	return args
}

// probeStatus fills a Status given to probe or iprobe from their
// (source, tag) answer.
func probeStatus(args starlark.Tuple, kw []starlark.Tuple) (starlark.Tuple, []starlark.Tuple, *statusValue) {
	var st *statusValue
	if len(args) >= 3 {
		if s, ok := args[2].(*statusValue); ok {
			st, args = s, args[:2]
		}
	}
	var rest []starlark.Tuple
	for _, kv := range kw {
		if k, _ := starlark.AsString(kv[0]); k == "status" {
			if s, ok := kv[1].(*statusValue); ok {
				st = s
			}
			continue
		}
		rest = append(rest, kv)
	}
	return args, rest, st
}

// upper maps mpi4py's uppercase request functions to the lowercase ones
// and what they return: Waitall → True, Waitany → the index, Waitsome and
// Testsome → the indices (None once every request is null), Testall →
// the flag, Testany → (index, flag).
var upper = map[string]func(starlark.Value) starlark.Value{
	"Waitall":  func(starlark.Value) starlark.Value { return starlark.True },
	"Waitany":  func(v starlark.Value) starlark.Value { return v.(starlark.Tuple)[0] },
	"Waitsome": func(v starlark.Value) starlark.Value { return v.(starlark.Tuple)[0] },
	"Testall":  func(v starlark.Value) starlark.Value { return v.(starlark.Tuple)[0] },
	"Testany":  func(v starlark.Value) starlark.Value { return v.(starlark.Tuple)[:2] },
	"Testsome": func(v starlark.Value) starlark.Value { return v.(starlark.Tuple)[0] },
}

func init() {
	commConstants["Status"] = newStatus
	commConstants["SUCCESS"] = starlark.MakeInt(success)
	for name, v := range map[string]int{"IDENT": ident, "CONGRUENT": congruent, "SIMILAR": similar, "UNEQUAL": unequal} {
		commConstants[name] = starlark.MakeInt(v)
	}
	for name, project := range upper {
		requestStatics[name] = starlark.NewBuiltin("comm.Request."+name, func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
			lower := requestStatics[lowerFirst(name)].(*starlark.Builtin) // set by request.go's init
			v, err := lower.CallInternal(th, args, kw)
			if err != nil {
				return nil, err
			}
			return project(v), nil
		})
	}
}

func lowerFirst(s string) string { return string(s[0]+'a'-'A') + s[1:] }

// statusesArg takes mpi4py's statuses list, the second positional
// argument of waitall, waitsome, testall and testsome: the call then runs
// with status=True, and fillStatuses turns its answer back.
func statusesArg(args starlark.Tuple) (starlark.Tuple, *starlark.List) {
	if len(args) >= 2 {
		if l, ok := args[1].(*starlark.List); ok {
			out := append(args[:1:1], starlark.True)
			return append(out, args[2:]...), l
		}
	}
	return args, nil
}

// fillStatuses replaces the (obj, source, tag) tuples in the objs of
// res — a list, or the second element of a tuple — by their objs and
// appends a Status for each to statuses.
func fillStatuses(res starlark.Value, statuses *starlark.List) (starlark.Value, error) {
	strip := func(objs starlark.Value) (starlark.Value, error) {
		l, ok := objs.(*starlark.List)
		if !ok {
			return objs, nil
		}
		out := make([]starlark.Value, l.Len())
		for i := range l.Len() {
			st := &statusValue{source: anySource, tag: anyTag}
			out[i] = st.fill(l.Index(i))
			if err := statuses.Append(st); err != nil {
				return nil, err
			}
		}
		return starlark.NewList(out), nil
	}
	if t, ok := res.(starlark.Tuple); ok && len(t) == 2 {
		objs, err := strip(t[1])
		return starlark.Tuple{t[0], objs}, err
	}
	return strip(res)
}

// requestUpper are mpi4py's uppercase Request methods and get_status:
// Wait() waits and gives True, Test() gives the flag (both complete the
// request, making it null), Free() makes it null, get_status(status=None)
// gives the flag without completing it.
var requestUpper = map[string]*starlark.Builtin{
	"Wait": starlark.NewBuiltin("Request.Wait", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if _, err := requestWait.BindReceiver(b.Receiver()).CallInternal(th, args, kw); err != nil {
			return nil, err
		}
		return starlark.True, nil
	}),
	"Test": starlark.NewBuiltin("Request.Test", func(th *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		res, err := requestTest.BindReceiver(b.Receiver()).CallInternal(th, args, kw)
		if err != nil {
			return nil, err
		}
		return res.(starlark.Tuple)[0], nil
	}),
	"Free": starlark.NewBuiltin("Request.Free", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		if err := starlark.UnpackArgs(b.Name(), args, kw); err != nil {
			return nil, err
		}
		b.Receiver().(*requestValue).null = true
		return starlark.None, nil
	}),
	"get_status": starlark.NewBuiltin("Request.get_status", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		var statusv starlark.Value
		if err := starlark.UnpackArgs(b.Name(), args, kw, "status?", &statusv); err != nil {
			return nil, err
		}
		v := b.Receiver().(*requestValue)
		done, err := v.done()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		if _, st := statusArg(statusv); st != nil && done && !v.null {
			v.c.rs.mu.Lock()
			st.cancelled = v.r.cancelled
			if v.r.kind != reqSend && !v.r.cancelled {
				st.source, st.tag = v.c.source(v.r), v.r.gotTag
			}
			v.c.rs.mu.Unlock()
		}
		return starlark.Bool(done), nil
	}),
}

// commDup is Dup() and Clone(): a communicator of the same ranks in the
// same order, with its own messages (a collective, as in MPI).
func commDup(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var timeout timeoutArg
	if err := starlark.UnpackArgs(o.name, args, kw, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return commSplit(c, o, starlark.Tuple{starlark.MakeInt(0), starlark.MakeInt(c.rank)}, kw) // kw: at most timeout=
}

// commFree is Free(): COMM_WORLD and COMM_SELF cannot be freed (as in
// mpi4py); another one needs nothing freed.
func commFree(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(o.name, args, kw); err != nil {
		return nil, err
	}
	if c.top == c || c.top.self == c {
		return nil, fmt.Errorf("%s: COMM_WORLD and COMM_SELF cannot be freed (free those of Dup, Clone and Split)", o.name)
	}
	return starlark.None, nil
}

// commIsIntra is Is_intra(): every pirun communicator is an intracommunicator.
func commIsIntra(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return starlark.True, starlark.UnpackArgs(o.name, args, kw)
}

func commIsInter(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	return starlark.False, starlark.UnpackArgs(o.name, args, kw)
}

// selfComm returns the world's COMM_SELF: a communicator of this rank
// alone, the same one each time (its collectives are counted), with its
// own messages. It needs no other rank, unlike Split.
func (c *communicator) selfComm() *communicator {
	if c.self != nil {
		return c.self
	}
	w := c.world(c.rank)
	h := fnv.New64a()
	binary.Write(h, binary.LittleEndian, [3]uint64{c.ctx, ^uint64(0), uint64(w)})
	s := &communicator{rs: c.rs, size: 1, rank: 0, group: []int{w}, index: map[int]int{w: 0},
		name: "comm.COMM_SELF", top: c, ctx: h.Sum64() &^ 1}
	if s.ctx == 0 {
		s.ctx = 2
	}
	c.self = s
	return s
}

// Results of Compare, as MPI's.
const (
	ident     = 0
	congruent = 1
	similar   = 2
	unequal   = 3
)

// commCompare is Compare(other): IDENT for the same communicator,
// CONGRUENT for the same ranks in the same order (a Dup), SIMILAR for the
// same ranks in another order, else UNEQUAL.
func commCompare(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var other *Value
	if err := starlark.UnpackArgs(o.name, args, kw, "other", &other); err != nil {
		return nil, err
	}
	d, err := other.get()
	if err != nil {
		return nil, err
	}
	members := func(x *communicator) []int {
		out := make([]int, x.size)
		for i := range out {
			out[i] = x.world(i)
		}
		return out
	}
	a, b := members(c), members(d)
	switch {
	case c == d:
		return starlark.MakeInt(ident), nil
	case slices.Equal(a, b):
		return starlark.MakeInt(congruent), nil
	}
	slices.Sort(a)
	slices.Sort(b)
	if slices.Equal(a, b) {
		return starlark.MakeInt(similar), nil
	}
	return starlark.MakeInt(unequal), nil
}

// commGetName is Get_name(): "MPI_COMM_WORLD", "MPI_COMM_SELF", or what
// Set_name gave ("" for a Dup or a Split).
func commGetName(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(o.name, args, kw); err != nil {
		return nil, err
	}
	switch {
	case c.mpiName != nil:
		return starlark.String(*c.mpiName), nil
	case c.top == c:
		return starlark.String("MPI_COMM_WORLD"), nil
	case c.top.self == c:
		return starlark.String("MPI_COMM_SELF"), nil
	}
	return starlark.String(""), nil
}

// commSetName is Set_name(name): this rank's name for the communicator.
func commSetName(c *communicator, o *op, args starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(o.name, args, kw, "name", &name); err != nil {
		return nil, err
	}
	c.mpiName = &name
	return starlark.None, nil
}
