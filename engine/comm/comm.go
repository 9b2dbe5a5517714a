// This file defines `comm`, the MPI-style communicator of SPMD jobs, as a
// Starlark value, and how a task's comm is bound when it starts and
// finished when it ends.
//
// Every engine has one long-lived `comm` value (its predeclared dicts and
// function caches are per engine); begin points it at the task's job and
// end detaches it. Outside an SPMD job, `comm` is false and its
// operations fail, saying where comm is available.
//
// # The Starlark API
//
// In `pirun mpi` and in DirectView execute, run and apply on several
// engines, each target engine is one rank of a job. Values travel as
// copies, like arguments: anything the codec can send (None, bools,
// numbers, strings, bytes, lists, tuples, dicts, sets, structs).
//
//	comm.rank          # int: this engine's rank, its index in the view's targets
//	comm.size          # int: the number of ranks
//	comm.Get_rank(), comm.Get_size()  # the same, as mpi4py spells them
//	comm.COMM_WORLD    # the task's world communicator (also from a split one)
//	comm.ANY_SOURCE    # -1: recv(source=comm.ANY_SOURCE) takes a message from any rank
//	comm.ANY_TAG       # -1: recv(tag=comm.ANY_TAG) takes a message with any tag
//	comm.PROC_NULL     # -2: sends to it and receives from it complete at once (recv gives None)
//	comm.UNDEFINED     # -32766: waitany's index when nothing is active; split's color to stay out
//	comm.SUM, comm.PROD, comm.MIN, comm.MAX, comm.LAND, comm.LOR, comm.LXOR,
//	comm.BAND, comm.BOR, comm.BXOR, comm.MAXLOC, comm.MINLOC, comm.REPLACE, comm.NO_OP
//	                   # "sum", "prod", ...: the reduction operators, by name
//	comm.Request       # waitall, waitany, ... as mpi4py's MPI.Request.waitall
//
// mpi4py's MPI.X is comm.X: pirun predeclares no MPI name, so that host
// and engines predeclare the same set.
//
// Every blocking operation accepts timeout=None: a number of seconds
// after which it fails. Whatever the timeout, a job in which every rank
// waits for a message that can never come fails on every rank with a
// report of each rank's wait ("deadlock: ... rank 1 waits
// recv(source=0, tag=10); rank 0 waits barrier()"), and a rank that fails
// or whose engine dies makes the other ranks' operations fail with an
// error naming it. Aborting the task (ar.abort(), Ctrl-C, the task
// timeout) stops a blocked operation at once.
//
// def send(obj, dest, tag=0, timeout=None):
//
// send sends a copy of obj to rank dest, with tag (an int ≥ 0). Messages
// from one rank to another arrive in the order they were sent. A small
// value is buffered by the receiver and send returns at once, unless the
// receiver already holds 4 MiB or 1024 messages from this rank that it has
// not received: then send waits for it to receive some. A value of more
// than 256 KiB encoded waits until the receiver receives it.
//
// def recv(source=ANY_SOURCE, tag=ANY_TAG, status=False, timeout=None):
//
// recv waits for the first message from source with tag and returns its
// value; with status=True it returns (value, source, tag).
//
// def ssend(obj, dest, tag=0, timeout=None):
//
// ssend is send that returns only once a receive on dest matched the
// message (MPI's synchronous send).
//
// def recv_status(source=ANY_SOURCE, tag=ANY_TAG, timeout=None):
//
// recv_status is recv returning (value, status), status a struct with
// source and tag. mpi4py's recv(status=st) fills a Status object in place,
// which Starlark cannot express.
//
// def isend(obj, dest, tag=0):
// def issend(obj, dest, tag=0):
// def irecv(source=ANY_SOURCE, tag=ANY_TAG):
//
// isend, issend and irecv start a send or a receive and return a Request:
// req.wait(status=False, timeout=None) waits for it and returns the value
// received (None for a send); req.test() returns (True, value) once it is
// complete, else (False, None), without waiting; req.cancel() takes back
// a receive that no message matched yet (or a send still waiting for
// credit), which then completes with None and req.cancelled true. As in
// mpi4py, a request that a wait or a test found complete is null: false,
// and its wait returns None. A task waits for its unfinished sends before
// it ends.
//
// def waitall(requests, status=False, timeout=None):   # [value, ...]
// def waitany(requests, status=False, timeout=None):   # (index, value); (UNDEFINED, None) when all are null
// def waitsome(requests, status=False, timeout=None):  # ([index, ...], [value, ...]); (None, None) when all are null
// def testall(requests, status=False):                  # (True, [value, ...]) or (False, None)
// def testany(requests, status=False):                  # (index, True, value), (UNDEFINED, False, None), or (UNDEFINED, True, None) when all are null
// def testsome(requests, status=False):                 # ([index, ...], [value, ...]); (None, None) when all are null
//
// The operations on lists of requests, as mpi4py's Request.waitall etc.;
// also comm.Request.waitall(requests).
//
// def sendrecv(sendobj, dest, sendtag=0, source=ANY_SOURCE, recvtag=ANY_TAG, status=False, timeout=None):
//
// sendrecv sends sendobj to dest and receives from source, in either
// order, so that two ranks exchanging values cannot deadlock.
//
// def probe(source=ANY_SOURCE, tag=ANY_TAG, timeout=None):
// def iprobe(source=ANY_SOURCE, tag=ANY_TAG):
//
// probe waits until a message from source with tag can be received and
// returns (source, tag) without receiving it; iprobe returns the same, or
// None when there is no such message yet.
//
// def bcast(obj, root=0, timeout=None):
// def scatter(seq, root=0, timeout=None):
// def gather(obj, root=0, timeout=None):
// def allgather(obj, timeout=None):
// def alltoall(sendobj, timeout=None):
// def reduce(obj, op="sum", root=0, timeout=None):
// def allreduce(obj, op="sum", timeout=None):
// def scan(sendobj, op="sum", timeout=None):
// def exscan(sendobj, op="sum", timeout=None):
// def barrier(timeout=None):  (also Barrier)
//
// The collectives must be called by every rank, in the same order. bcast
// returns root's obj on every rank. scatter gives rank i the item i of
// root's seq (of exactly size items; other ranks pass None). gather
// returns the list of every rank's obj, in rank order, on root and None
// elsewhere; allgather returns it on every rank. alltoall sends item j of
// rank i's sendobj (of size items) to rank j, and returns what each rank
// sent this one, in rank order. reduce combines the ranks' objs in rank
// order with op, one of the operators above or a function of two
// arguments (a function sent from the host works), and returns the
// result on root (None elsewhere); allreduce returns it on every rank.
// scan returns on rank i the combination of ranks 0 to i; exscan of ranks
// 0 to i-1 (None on rank 0). On num arrays the operators work
// elementwise. barrier returns once every rank called it.
//
// Ranks that call different collectives at the same point, or the same
// collective with different roots, fail with each rank's call (see
// mismatch.go).
//
// def split(color, key=0, timeout=None):  (also Split)
//
// split is a collective that returns a new communicator of the ranks that
// passed the same color (an int ≥ 0), ranked by key then by their rank in
// comm; a rank that passes color=None (or UNDEFINED) gets None. A communicator made by
// split has the same attributes and operations as comm, and its messages
// never mix with comm's.

package comm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// communicator is a group of ranks of one job: the world of a task, or a
// communicator made by split. It is used by its task's thread only.
type communicator struct {
	rs     *Rank
	ctx    uint64      // point-to-point messages; collectives use ctx+1
	group  []int       // world rank of each rank; nil for the world
	index  map[int]int // rank of each world rank in group
	rank   int
	size   int
	coll   int           // collectives so far: the tag of the next one
	splits int           // splits so far
	name   string        // "" for the world, else "comm.split(color=1)"
	top    *communicator // the world communicator of the task
	self   *communicator // the world's COMM_SELF, made when first asked for
	// mpiName is what Set_name gave, or nil (Get_name's default).
	mpiName *string
}

// world returns the world rank of rank r.
func (c *communicator) world(r int) int {
	if c.group == nil {
		return r
	}
	return c.group[r]
}

// local returns the rank of world rank w in c.
func (c *communicator) local(w int) int {
	if c.group == nil {
		return w
	}
	return c.index[w]
}

// Value is `comm`: an engine's world communicator, switched per task,
// or a communicator made by split.
type Value struct {
	c *communicator
}

var (
	_ starlark.HasAttrs = (*Value)(nil)
)

// commConstants are comm's attributes that need no job: mpi4py's MPI.X
// is comm.X. The operators are their names (comm.SUM == "sum").
var commConstants = map[string]starlark.Value{
	"ANY_SOURCE": starlark.MakeInt(anySource),
	"ANY_TAG":    starlark.MakeInt(anyTag),
	"PROC_NULL":  starlark.MakeInt(procNull),
	"UNDEFINED":  starlark.MakeInt(undefined),
	"Request":    requestModule,
}

func init() {
	for _, name := range opNames {
		commConstants[strings.ToUpper(name)] = starlark.String(name)
	}
}

func (v *Value) String() string {
	switch {
	case v.c == nil:
		return "<comm: not in an SPMD job>"
	case v.c.name != "":
		return fmt.Sprintf("<%s rank %d of %d>", v.c.name, v.c.rank, v.c.size)
	}
	return fmt.Sprintf("<comm rank %d of %d>", v.c.rank, v.c.size)
}
func (v *Value) Type() string          { return "comm" }
func (v *Value) Freeze()               {}
func (v *Value) Truth() starlark.Bool  { return v.c != nil }
func (v *Value) Hash() (uint32, error) { return 0, errors.New("unhashable: comm") }

func (v *Value) AttrNames() []string {
	fields := []string{"rank", "size", "COMM_SELF", "COMM_WORLD"}
	for name := range commConstants {
		fields = append(fields, name)
	}
	return commMethods.Names(fields...)
}

func (v *Value) Attr(name string) (starlark.Value, error) {
	if k, ok := commConstants[name]; ok {
		return k, nil
	}
	m := commMethods[name]
	if m == nil && name != "rank" && name != "size" && name != "COMM_WORLD" && name != "COMM_SELF" {
		return nil, nil
	}
	c, err := v.get()
	if err != nil {
		return nil, fmt.Errorf("comm.%s: %w", name, err)
	}
	switch name {
	case "rank":
		return starlark.MakeInt(c.rank), nil
	case "size":
		return starlark.MakeInt(c.size), nil
	case "COMM_WORLD":
		if c.top == c {
			return v, nil
		}
		return &Value{c: c.top}, nil
	case "COMM_SELF":
		return &Value{c: c.top.selfComm()}, nil
	}
	return m.BindReceiver(v), nil
}

// errNoJob is the error of comm outside an SPMD job.
var errNoJob = errors.New("comm is only available in SPMD jobs: run the code with pirun mpi, or with a DirectView's execute, run or apply on several engines (c[:].execute(code))")

// get returns the communicator, or why it cannot be used.
func (v *Value) get() (*communicator, error) {
	if v.c == nil {
		return nil, errNoJob
	}
	return v.c, nil
}

// Begin binds engine id's comm to t's job, if t is part of one, and
// returns the rank's record (nil outside a job). It runs on the engine's
// worker.
func (m *Mux) Begin(id int, t *wire.Task) *Rank {
	v := m.value(id)
	if t.Comm == nil || v == nil {
		return nil
	}
	rank := slices.Index(t.Comm.Ranks, id)
	if rank < 0 {
		return nil
	}
	rs := m.record(t.Comm.Job, id, true)
	if rs == nil {
		return nil
	}
	var dl drainList
	rs.start(rank, t.Comm.Ranks, t.Comm.Daemons, &dl)
	dl.run()
	v.c = &communicator{rs: rs, rank: rank, size: len(t.Comm.Ranks)}
	v.c.top = v.c
	return rs
}

// End finishes the rank of a task that ran with err: it waits for the
// task's unfinished sends, tells the other ranks if the task failed, and
// detaches engine id's comm. It returns the task's error.
func (m *Mux) End(ctx context.Context, id int, rs *Rank, err error) error {
	if rs == nil {
		return err
	}
	if v := m.value(id); v != nil {
		v.c = nil
	}
	if err == nil {
		err = rs.finish(ctx)
	}
	if err == nil {
		err = rs.confirm(ctx)
	}
	rs.close(ctx, err)
	m.retire(rs)
	return err
}

// value returns engine id's comm.
func (m *Mux) value(id int) *Value {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.values[id]
}

// finish waits for the sends that have not completed.
func (rs *Rank) finish(ctx context.Context) error {
	for {
		rs.mu.Lock()
		r := rs.pendingSend()
		if r != nil && !strings.HasPrefix(r.desc, "to end") {
			r.desc = "to end its task, for " + r.desc + " to be received"
		}
		rs.mu.Unlock()
		if r == nil {
			return nil
		}
		if err := rs.wait(ctx, r, noDeadline); err != nil {
			return fmt.Errorf("comm: the task ended with an unfinished send: %w", err)
		}
	}
}

// pendingSend returns a send that has not completed, or nil; rs.mu is held.
func (rs *Rank) pendingSend() *request {
	for p := range rs.peers {
		if q := rs.peers[p].queue; len(q) > 0 {
			return q[0]
		}
	}
	for _, r := range rs.sends {
		return r
	}
	return nil
}

// close ends the rank: a failure is told to the other ranks, and what the
// rank holds is dropped. Its counters, and the envelopes of the messages
// it never received, stay for other ranks' questions.
func (rs *Rank) close(ctx context.Context, err error) {
	var dl drainList
	rs.mu.Lock()
	if err != nil && rs.broken == nil {
		je := &jobError{msg: rs.failure(ctx, err), aborted: errors.Is(context.Cause(ctx), ErrAborted)}
		rs.broken = je
		rs.broadcast(je, &dl)
	}
	rs.phase = phaseEnded
	for i, m := range rs.unexpected {
		rs.unexpected[i] = &wire.CommMsg{Src: m.Src, Ctx: m.Ctx, Tag: m.Tag}
	}
	rs.posted, rs.sends, rs.recvs, rs.busy = nil, nil, nil, 0
	for p := range rs.peers {
		rs.peers[p].queue = nil
	}
	rs.mu.Unlock()
	dl.run()
}

// failure describes this rank's failure for the other ranks; rs.mu is held.
func (rs *Rank) failure(ctx context.Context, err error) string {
	who := fmt.Sprintf("rank %d (engine %d on %s)", rs.rank, rs.engine, rs.mux.host)
	switch cause := context.Cause(ctx); {
	case errors.Is(cause, ErrAborted):
		return who + " was aborted"
	case errors.Is(cause, ErrTimeout):
		return who + " ran past its task timeout"
	case errors.Is(cause, ErrShutdown):
		return who + " stopped: its engine was shut down"
	}
	msg, _, _ := strings.Cut(err.Error(), "\n")
	if len(msg) > 1000 {
		msg = msg[:1000] + "…"
	}
	return who + " failed: " + msg
}
