package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/engine/comm"
	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// commCluster is a NATS server over TCP, a fake hub that hands out engine
// ids, and daemons: ranks in different daemons talk through the server,
// ranks in one daemon in memory.
type commCluster struct {
	t       testing.TB
	url     string
	nc      *nats.Conn
	mu      sync.Mutex
	next    int
	daemons []*Daemon
	owner   map[int]*Daemon // engine id → its daemon
	cancels []context.CancelFunc
	results chan wire.Result
	seq     uint64
}

// startComm starts one daemon per entry of engines, with that many engines.
func startComm(t testing.TB, engines ...int) *commCluster {
	t.Helper()
	opts := natstest.DefaultTestOptions
	opts.Port = server.RANDOM_PORT
	opts.NoLog, opts.NoSigs = true, true
	opts.AlwaysEnableNonce = true // the daemon proves its identity key, as to a hub
	opts.MaxPayload = 8 << 20
	opts.MaxPending = 64 << 20
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	cl := &commCluster{t: t, url: ns.ClientURL(), nc: nc, owner: map[int]*Daemon{}, results: make(chan wire.Result, 1000)}
	nc.Subscribe(wire.SubjectRegister+".*", cl.onRegister)
	sub, _ := nc.Subscribe(wire.ClientResults("c")+".*", func(m *nats.Msg) {
		var rs wire.Results
		if err := wire.UnmarshalMsg(m.Data, &rs); err != nil {
			t.Error(err)
			return
		}
		for _, r := range rs.Results {
			cl.results <- r
		}
	})
	sub.SetPendingLimits(-1, -1)
	nc.Flush()
	for _, n := range engines {
		cl.addDaemon(n)
	}
	return cl
}

func (cl *commCluster) onRegister(m *nats.Msg) {
	var r wire.Register
	if err := wire.UnmarshalMsg(m.Data, &r); err != nil {
		cl.t.Error(err)
		return
	}
	reply := wire.Registered{HubID: "test"}
	cl.mu.Lock()
	for range r.Engines {
		reply.IDs = append(reply.IDs, cl.next)
		cl.next++
	}
	cl.mu.Unlock()
	data, _ := wire.MarshalMsg(&reply)
	m.Respond(data)
}

func (cl *commCluster) addDaemon(n int) {
	t := cl.t
	dial := func(ctx context.Context, o ...nats.Option) (*nats.Conn, error) {
		return nats.Connect(cl.url, o...)
	}
	d, err := New(Config{Engines: n}, dial, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("a daemon did not stop within 10s")
		}
	})
	select {
	case <-d.ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the daemon did not start its engines")
	}
	d.mu.Lock()
	for _, id := range d.ids() {
		cl.owner[id] = d
	}
	d.mu.Unlock()
	cl.daemons = append(cl.daemons, d)
	cl.cancels = append(cl.cancels, cancel)
}

// ranks returns every engine id, in order: the ranks of a job on all.
func (cl *commCluster) ranks() []int {
	ids := make([]int, 0, len(cl.owner))
	for id := range len(cl.owner) {
		ids = append(ids, id)
	}
	return ids
}

// run executes code as one SPMD job on ranks and returns each rank's result.
func (cl *commCluster) run(ranks []int, code string, timeout time.Duration) []wire.Result {
	cl.t.Helper()
	id := cl.start(ranks, code, timeout)
	out := make([]wire.Result, len(ranks))
	for range ranks {
		select {
		case r := <-cl.results:
			for i, e := range ranks {
				if e == r.Engine && r.Task == id {
					out[i] = r
				}
			}
		case <-time.After(timeout + 20*time.Second):
			cl.t.Fatalf("job %q: no result within %v", code, timeout+20*time.Second)
		}
	}
	return out
}

// start sends code as one SPMD job to ranks and returns its task id.
func (cl *commCluster) start(ranks []int, code string, timeout time.Duration) uint64 {
	cl.t.Helper()
	cl.seq++
	task := wire.Task{ID: cl.seq, Client: "c", Kind: wire.KindExecute, File: "job.star", Code: code,
		Comm: &wire.Comm{Job: wire.NewID(), Ranks: ranks, Daemons: make([]string, len(ranks))}, Timeout: int64(timeout)}
	for i, id := range ranks {
		task.Comm.Daemons[i] = cl.owner[id].id
	}
	byDaemon := map[*Daemon][]int{}
	for _, id := range ranks {
		byDaemon[cl.owner[id]] = append(byDaemon[cl.owner[id]], id)
	}
	for d, ids := range byDaemon {
		tk := task
		tk.Targets = ids
		data, err := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{tk}})
		if err != nil {
			cl.t.Fatal(err)
		}
		if err := cl.nc.Publish(wire.DaemonTasksFrom(d.id, wire.SenderHub), data); err != nil {
			cl.t.Fatal(err)
		}
	}
	return task.ID
}

// pull returns engine id's value of name.
func (cl *commCluster) pull(id int, name string) starlark.Value {
	cl.t.Helper()
	cl.seq++
	data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{{ID: cl.seq, Client: "c", Kind: wire.KindPull, Targets: []int{id}, Names: []string{name}}}})
	cl.nc.Publish(wire.DaemonTasksFrom(cl.owner[id].id, wire.SenderHub), data)
	r := <-cl.results
	if r.Status != wire.StatusOK {
		cl.t.Fatalf("pull %s from engine %d: %+v", name, id, r.Err)
	}
	v, err := wire.Unmarshal(r.Value)
	if err != nil {
		cl.t.Fatal(err)
	}
	return v.(*starlark.List).Index(0)
}

// wantOK fails the test for every rank that did not succeed.
func wantOK(t testing.TB, what string, rs []wire.Result) {
	t.Helper()
	for i, r := range rs {
		if r.Status != wire.StatusOK {
			t.Errorf("%s: rank %d: status %d, %+v", what, i, r.Status, r.Err)
		}
	}
}

// pointToPoint exercises every point-to-point operation and the
// collectives; it fails the task on a wrong value.
const pointToPoint = `
r, n = comm.rank, comm.size
nxt, prv = (r + 1) % n, (r - 1) % n
def check(got, want, what):
    if got != want:
        fail("%s: got %r, want %r" % (what, got, want))
# ordering per pair, with tags
for i in range(50):
    comm.send((r, i), dest=nxt, tag=i % 3)
for i in range(50):
    check(comm.recv(source=prv), (prv, i), "message %d" % i)
# any source, any tag, status
comm.send("x%d" % r, dest=0, tag=7 + r)
if r == 0:
    got = sorted([comm.recv(status=True) for _ in range(n)])
    check(got, sorted([("x%d" % k, k, 7 + k) for k in range(n)]), "any source")
comm.barrier()
# isend/irecv, test, sendrecv, probe
req = comm.irecv(source=prv, tag=5)
sreq = comm.isend({"from": r}, dest=nxt, tag=5)
check(req.wait(), {"from": prv}, "irecv")
check(sreq.wait(), None, "isend")
check(comm.sendrecv(r, dest=nxt, source=prv), prv, "sendrecv")
comm.send([r], dest=nxt, tag=9)
check(comm.probe(source=prv, tag=9), (prv, 9), "probe")
check(comm.iprobe(source=prv, tag=9), (prv, 9), "iprobe")
check(comm.recv(source=prv, tag=9), [prv], "recv after probe")
check(comm.iprobe(tag=9), None, "iprobe of nothing")
# collectives
check(comm.bcast("b" if r == 0 else None), "b", "bcast")
check(comm.scatter([k * 10 for k in range(n)] if r == 1 else None, root=1), r * 10, "scatter")
check(comm.gather(r, root=n - 1), list(range(n)) if r == n - 1 else None, "gather")
check(comm.allgather(r * r), [k * k for k in range(n)], "allgather")
check(comm.reduce(r + 1, op="prod"), [1, 2, 6, 24][n - 1] if r == 0 else None, "reduce")
check(comm.allreduce(r, op="max"), n - 1, "allreduce max")
check(comm.allreduce(r, op=lambda a, b: a + [b] if type(a) == "list" else [a, b]), list(range(n)) if n > 1 else 0, "allreduce fn")
comm.barrier()
sub = comm.split(r % 2, key=-r)
check(sub.size, len([k for k in range(n) if k % 2 == r % 2]), "split size")
check(sub.allgather(r), sorted([k for k in range(n) if k % 2 == r % 2], reverse=True), "split members by key")
`

func TestCommAcrossDaemons(t *testing.T) {
	for _, test := range []struct {
		name    string
		daemons []int
	}{
		{"2 daemons", []int{1, 1}},
		{"3 daemons", []int{1, 1, 1}},
		{"4 ranks in 2 daemons", []int{2, 2}},
	} {
		t.Run(test.name, func(t *testing.T) {
			cl := startComm(t, test.daemons...)
			wantOK(t, "point to point and collectives", cl.run(cl.ranks(), pointToPoint, 30*time.Second))
		})
	}
}

func TestCommOutsideJob(t *testing.T) {
	cl := startComm(t, 1)
	rs := cl.run([]int{0}, "ok = not comm\ncomm.rank", 10*time.Second)
	// A one-rank job still has comm; a task without Comm does not.
	if rs[0].Status != wire.StatusOK {
		t.Fatalf("one-rank job: %+v", rs[0].Err)
	}
	cl.seq++
	data, _ := wire.MarshalMsg(&wire.Batch{Tasks: []wire.Task{{ID: cl.seq, Client: "c", Kind: wire.KindExecute, Targets: []int{0}, File: "t.star", Code: "comm.send(1, 0)"}}})
	cl.nc.Publish(wire.DaemonTasksFrom(cl.owner[0].id, wire.SenderHub), data)
	r := <-cl.results
	if r.Status != wire.StatusError || !strings.Contains(r.Err.Message, "only available in SPMD jobs") {
		t.Errorf("comm outside a job: status %d, %+v; want an error saying where comm is available", r.Status, r.Err)
	}
}

func TestCommDeadlockAcrossDaemons(t *testing.T) {
	cl := startComm(t, 1, 1)
	rs := cl.run(cl.ranks(), `
if comm.rank == 0:
    comm.send([1, 2], dest=1, tag=0)
    comm.recv(source=1, tag=0)
else:
    comm.recv(source=0, tag=10)
`, 30*time.Second)
	want := "rank 0 waits recv(source=1, tag=0); rank 1 waits recv(source=0, tag=10) (unreceived: source=0 tag=0)"
	for i, r := range rs {
		if r.Status != wire.StatusError || !strings.Contains(r.Err.Message, want) {
			t.Errorf("rank %d: status %d, %+v; want a deadlock report with %q", i, r.Status, r.Err, want)
		}
	}
}

func TestCommLargeAcrossDaemons(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 × 100 MB")
	}
	cl := startComm(t, 1, 1)
	rs := cl.run(cl.ranks(), `
big = [str(i) + "x" * 94 for i in range(1000000)]  # 1M strings of about 100 bytes
if comm.rank == 0:
    comm.send(big, dest=1)
    back = comm.recv(source=1)
    if back != big:
        fail("the value came back different")
else:
    got = comm.recv(source=0)
    if len(got) != 1000000 or got[123456] != big[123456]:
        fail("got a different value")
    comm.send(got, dest=0)
`, 5*time.Minute) // ~100 s under -race on a loaded 2-core machine; the bound is for a hang, not speed
	wantOK(t, "100 MB there and back", rs)
}

// TestCommFlowControl has a fast sender and a receiver that sleeps: the
// receiver never holds more than its window of messages it has not
// received, through the hub and in memory.
func TestCommFlowControl(t *testing.T) {
	for _, test := range []struct {
		name    string
		daemons []int
	}{
		{"through the hub", []int{1, 1}},
		{"in memory", []int{2}},
	} {
		t.Run(test.name, func(t *testing.T) {
			cl := startComm(t, test.daemons...)
			job := make(chan []wire.Result, 1)
			go func() {
				job <- cl.run(cl.ranks(), `
blob = "x" * 10000
if comm.rank == 0:
    for i in range(3000):  # 30 MB in small messages
        comm.send((i, blob), dest=1)
else:
    time.sleep(1)
    for i in range(3000):
        m = comm.recv(source=0)
        if m[0] != i:
            fail("message %d arrived as %d" % (i, m[0]))
`, time.Minute)
			}()
			peak := cl.watchHeld(1, job)
			if peak == 0 || peak > comm.MaxHeld {
				t.Errorf("the slow receiver held up to %d bytes of unreceived messages, want 0 < held ≤ %d", peak, comm.MaxHeld)
			}
		})
	}
}

// watchHeld samples the bytes engine id holds unreceived until job ends,
// checks the job, and returns the largest sample.
func (cl *commCluster) watchHeld(id int, job chan []wire.Result) int {
	peak := 0
	for {
		select {
		case rs := <-job:
			wantOK(cl.t, "flow control", rs)
			return peak
		case <-time.After(20 * time.Millisecond):
		}
		peak = max(peak, cl.owner[id].comm.Held(id))
	}
}

func TestCommDeadRank(t *testing.T) {
	cl := startComm(t, 1, 1)
	cl.start(cl.ranks(), "if comm.rank == 0:\n    comm.recv(source=1)\nelse:\n    time.sleep(60)", time.Minute)
	// Wait until rank 1 runs, then cut its daemon off as if it died.
	d := cl.owner[1]
	waitBusy(t, d.engine(1), -1)
	d.nc.Close()
	select {
	case r := <-cl.results:
		want := "rank 1 (engine 1) does not answer: its engine died or was lost"
		if r.Engine != 0 || r.Status != wire.StatusError || !strings.Contains(r.Err.Message, want) {
			t.Errorf("rank 0: engine %d status %d, %+v; want an error containing %q", r.Engine, r.Status, r.Err, want)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("rank 0 still waits 30s after rank 1's engine died")
	}
}

func TestCommAbortStopsBlockedRecv(t *testing.T) {
	cl := startComm(t, 2)
	id := cl.start(cl.ranks(), "if comm.rank == 0:\n    comm.recv(source=1)\nelse:\n    time.sleep(60)", time.Minute)
	e := cl.owner[0].engine(0)
	waitBusy(t, e, -1)
	// Wait until rank 0 blocks in recv (it checks for deadlocks: rank 1 runs).
	startest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if !cl.owner[0].comm.Waits(0) {
			return errors.New("rank 0 (engine 0) is not blocked in comm.recv")
		}
		return nil
	})
	start := time.Now()
	e.abort("c", "", []uint64{id}, map[uint64]bool{})
	r := <-cl.results
	if r.Engine != 0 || r.Status != wire.StatusAborted || time.Since(start) > 5*time.Second {
		t.Errorf("aborted blocked recv: engine %d status %d after %v, %+v; want engine 0 TaskAborted at once", r.Engine, r.Status, time.Since(start), r.Err)
	}
	// rank 1 learns that rank 0 was aborted only when it uses comm: abort it too.
	cl.owner[1].engine(1).abort("c", "", []uint64{id}, map[uint64]bool{})
	<-cl.results
}

func TestCommTimeout(t *testing.T) {
	cl := startComm(t, 2)
	rs := cl.run(cl.ranks(), "if comm.rank == 0:\n    comm.recv(source=1, tag=3, timeout=0.05)\nelse:\n    time.sleep(0.3)", time.Minute)
	want := "comm.recv: timed out after 50ms waiting for recv(source=1, tag=3)"
	if rs[0].Status != wire.StatusError || !strings.Contains(rs[0].Err.Message, want) {
		t.Errorf("recv with a timeout: status %d, %+v; want %q", rs[0].Status, rs[0].Err, want)
	}
}

// benchJob runs code on two ranks (in two daemons, or in one) with
// N = b.N, and reports rank 0's value of elapsed (nanoseconds) per op.
func benchJob(b *testing.B, daemons []int, code string, unit string) {
	cl := startComm(b, daemons...)
	code = fmt.Sprintf("N = %d\n%s", b.N, code)
	b.ResetTimer()
	rs := cl.run(cl.ranks(), code, 10*time.Minute)
	b.StopTimer()
	wantOK(b, "benchmark", rs)
	ns, _ := starlark.AsFloat(cl.pull(0, "elapsed"))
	b.ReportMetric(ns/float64(b.N)/1e3, unit)
}

const pingPong = `
small = {"op": "ping", "seq": 1, "vals": [1, 2, 3]}
for i in range(100):
    if comm.rank == 0:
        comm.send(small, dest=1, tag=7)
        comm.recv(source=1, tag=7)
    else:
        comm.send(comm.recv(source=0, tag=7), dest=0, tag=7)
comm.barrier()
t0 = time.now()
for i in range(N):
    if comm.rank == 0:
        comm.send(small, dest=1, tag=7)
        comm.recv(source=1, tag=7)
    else:
        comm.send(comm.recv(source=0, tag=7), dest=0, tag=7)
elapsed = (time.now() - t0) / time.nanosecond
`

func BenchmarkCommPingPongHub(b *testing.B)    { benchJob(b, []int{1, 1}, pingPong, "µs/roundtrip") }
func BenchmarkCommPingPongMemory(b *testing.B) { benchJob(b, []int{2}, pingPong, "µs/roundtrip") }

func collBench(call string) string {
	return fmt.Sprintf(`
small = {"k": comm.rank, "v": [1.0, 2.0]}
for i in range(100):
    %[1]s
comm.barrier()
t0 = time.now()
for i in range(N):
    %[1]s
elapsed = (time.now() - t0) / time.nanosecond
comm.barrier()
`, call)
}

func BenchmarkCommBcastHub(b *testing.B) {
	benchJob(b, []int{1, 1}, collBench("comm.bcast(small if comm.rank == 0 else None)"), "µs/bcast")
}
func BenchmarkCommReduceHub(b *testing.B) {
	benchJob(b, []int{1, 1}, collBench("comm.reduce(comm.rank + 1, op=\"sum\")"), "µs/reduce")
}
func BenchmarkCommBcastMemory(b *testing.B) {
	benchJob(b, []int{2}, collBench("comm.bcast(small if comm.rank == 0 else None)"), "µs/bcast")
}
func BenchmarkCommReduceMemory(b *testing.B) {
	benchJob(b, []int{2}, collBench("comm.reduce(comm.rank + 1, op=\"sum\")"), "µs/reduce")
}

// send10MB sends 10 MB of bytes there and back, and reports MB/s both ways.
const send10MB = `
blob = b"x" * 10000000
for i in range(N):
    if comm.rank == 0:
        if i == 0:
            t0 = time.now()
        comm.send(blob, dest=1)
        comm.recv(source=1)
    else:
        comm.send(comm.recv(source=0), dest=0)
if comm.rank == 0:
    elapsed = (time.now() - t0) / time.nanosecond
`

func bench10MB(b *testing.B, daemons []int) {
	cl := startComm(b, daemons...)
	code := fmt.Sprintf("N = %d\n%s", b.N, send10MB)
	b.ResetTimer()
	rs := cl.run(cl.ranks(), code, 10*time.Minute)
	b.StopTimer()
	wantOK(b, "10 MB", rs)
	ns, _ := starlark.AsFloat(cl.pull(0, "elapsed"))
	b.ReportMetric(2*10e6*float64(b.N)/(ns/1e9)/1e6, "MB/s")
}

func BenchmarkCommSend10MBHub(b *testing.B)    { bench10MB(b, []int{1, 1}) }
func BenchmarkCommSend10MBMemory(b *testing.B) { bench10MB(b, []int{2}) }
