package comm

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// runJob runs code as one SPMD job of n ranks, all on one Mux (one
// daemon, so messages move in memory), and returns each rank's `result`
// global and error.
func runJob(t *testing.T, n int, code string) ([]starlark.Value, []error) {
	t.Helper()
	m := NewMux("testhost", func(id int) bool { return id >= 0 && id < n }, slog.New(slog.DiscardHandler))
	task := &wire.Task{ID: 1, Comm: &wire.Comm{Job: wire.NewID()}}
	values := make([]*Value, n)
	for id := range n {
		v, err := m.Attach(id)
		if err != nil {
			t.Fatal(err)
		}
		values[id] = v
		task.Comm.Ranks = append(task.Comm.Ranks, id)
		task.Comm.Daemons = append(task.Comm.Daemons, "self")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	results := make([]starlark.Value, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for id := range n {
		wg.Go(func() {
			rs := m.Begin(id, task)
			thread := &starlark.Thread{Name: fmt.Sprintf("rank %d", id)}
			starlib.SetContext(thread, ctx)
			stop := starlib.BindCancel(ctx, thread)
			defer stop()
			globals, err := starlark.ExecFileOptions(starlib.FileOptions(), thread, "job.star", code, starlark.StringDict{"comm": values[id]})
			errs[id] = m.End(ctx, id, rs, err)
			results[id] = globals["result"]
		})
	}
	wg.Wait()
	return results, errs
}

// ok runs code as runJob does, fails the test on any rank's error and
// returns the results as strings.
func ok(t *testing.T, n int, code string) []string {
	t.Helper()
	results, errs := runJob(t, n, code)
	out := make([]string, len(results))
	for i, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", i, err)
		}
		if results[i] != nil {
			out[i] = results[i].String()
		}
	}
	return out
}

func TestPointToPointKeepsOrder(t *testing.T) {
	got := ok(t, 3, `
if comm.rank == 0:
    for i in range(200):
        comm.send(i, dest=1, tag=5)
    comm.send("big" * 200000, dest=2)   # 600 kB: moves as a large message
    result = "sent"
elif comm.rank == 1:
    result = [comm.recv(source=0, tag=5) for _ in range(200)] == list(range(200))
else:
    result = len(comm.recv(source=0))
`)
	if want := []string{`"sent"`, "True", "600000"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ranks gave %v, want %v", got, want)
	}
}

func TestCollectives(t *testing.T) {
	got := ok(t, 4, `
b = comm.bcast("hi" if comm.rank == 0 else None, root=0)
s = comm.scatter([10, 20, 30, 40] if comm.rank == 1 else None, root=1)
g = comm.gather(comm.rank * 2, root=2)
a = comm.allreduce(comm.rank, op="sum")
m = comm.allreduce(comm.rank, op="max")
comm.barrier()
result = (b, s, g, a, m)
`)
	want := []string{`("hi", 10, None, 6, 3)`, `("hi", 20, None, 6, 3)`, `("hi", 30, [0, 2, 4, 6], 6, 3)`, `("hi", 40, None, 6, 3)`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("ranks gave\n%v\nwant\n%v", got, want)
	}
}

func TestDeadlockReported(t *testing.T) {
	_, errs := runJob(t, 2, "comm.recv(source=1 - comm.rank, tag=3)\n")
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "deadlock") || !strings.Contains(err.Error(), "recv(source=") {
			t.Errorf("rank %d: %v; want a deadlock report naming each rank's recv", i, err)
		}
	}
}

func TestCollectiveMismatch(t *testing.T) {
	_, errs := runJob(t, 3, `
if comm.rank == 0:
    comm.bcast(1, root=0)
else:
    comm.barrier()
`)
	for i, err := range errs {
		if err == nil || !strings.Contains(err.Error(), "bcast") || !strings.Contains(err.Error(), "barrier") {
			t.Errorf("rank %d: %v; want a mismatch report naming bcast and barrier", i, err)
		}
	}
}

func TestRankFailureReachesOthers(t *testing.T) {
	_, errs := runJob(t, 2, `
if comm.rank == 0:
    fail("rank zero gives up")
comm.recv(source=0)
`)
	if errs[0] == nil || !strings.Contains(errs[0].Error(), "rank zero gives up") {
		t.Errorf("rank 0: %v; want its own failure", errs[0])
	}
	if errs[1] == nil || !strings.Contains(errs[1].Error(), "rank 0") {
		t.Errorf("rank 1: %v; want an error naming rank 0", errs[1])
	}
}

// TestForeignDaemonDropped: a message through the hub whose sending
// daemon does not run its rank is dropped, before the task starts (kept
// until start checks it) and after.
func TestForeignDaemonDropped(t *testing.T) {
	m := NewMux("testhost", func(id int) bool { return id == 1 }, slog.New(slog.DiscardHandler))
	if _, err := m.Attach(1); err != nil {
		t.Fatal(err)
	}
	task := &wire.Task{ID: 1, Comm: &wire.Comm{Job: "j", Ranks: []int{0, 1}, Daemons: []string{"REAL", "self"}}}
	data, _ := wire.Marshal(starlark.String("FORGED"))
	forged := func() *wire.CommMsg {
		return &wire.CommMsg{Job: "j", Kind: wire.CommData, Src: 0, Dst: 1, Tag: 7, Data: data}
	}
	rs := m.record("j", 1, true)
	var dl drainList
	rs.receive(forged(), "ROGUE", &dl) // early
	m.Begin(1, task)
	rs.receive(forged(), "ROGUE", &dl) // after start
	dl.run()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(rs.unexpected) != 0 || rs.peer(0).arrived != 0 {
		t.Errorf("a rank kept %d messages from a daemon that does not run their sender", len(rs.unexpected))
	}
	real := forged()
	real.Data, _ = wire.Marshal(starlark.String("real"))
	rs.deliverFrom(real, "REAL", &dl)
	if len(rs.unexpected) != 1 {
		t.Errorf("the message of the daemon that runs rank 0 was not kept")
	}
}

// TestDupTimeout: Dup(timeout=) and Clone(timeout=) give up after the
// timeout when another rank never calls them (here rank 1 never starts,
// so no deadlock can be proved and only the timeout ends the wait).
func TestDupTimeout(t *testing.T) {
	for _, call := range []string{"Dup", "Clone"} {
		t.Run(call, func(t *testing.T) {
			m := NewMux("testhost", func(id int) bool { return id == 0 || id == 1 }, slog.New(slog.DiscardHandler))
			v, err := m.Attach(0)
			if err != nil {
				t.Fatal(err)
			}
			task := &wire.Task{ID: 1, Comm: &wire.Comm{Job: wire.NewID(), Ranks: []int{0, 1}, Daemons: []string{"self", "self"}}}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			rs := m.Begin(0, task)
			thread := &starlark.Thread{Name: "rank 0"}
			starlib.SetContext(thread, ctx)
			stop := starlib.BindCancel(ctx, thread)
			defer stop()
			start := time.Now()
			_, err = starlark.ExecFileOptions(starlib.FileOptions(), thread, "job.star", "comm."+call+"(timeout=0.2)\n", starlark.StringDict{"comm": v})
			err = m.End(ctx, 0, rs, err)
			if err == nil || !strings.Contains(err.Error(), "timed out after 200ms") {
				t.Fatalf("%s(timeout=0.2) with rank 1 absent: %v after %v; want a timeout after 200ms", call, err, time.Since(start))
			}
		})
	}
}
