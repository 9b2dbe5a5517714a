// This file defines Run, the measurements of `pirun bench`. They run
// as Starlark through the views a user would call (apply_sync, map_sync,
// push, scatter), so the figures are the user's figures, and the workloads
// are those of the peers' ipp_bench.py so that the two compare.

package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
)

// Options says what Run measures. The zero value is the full
// bench with ipp_bench.py's sizes.
type Options struct {
	// Quick uses small sizes (for tests and slow Pis).
	Quick bool
	// Progress, when not nil, is called with the name of each figure
	// before it is measured, on Run's goroutine.
	Progress func(figure string)
}

// Sizes are the sizes of the bench's workloads.
type Sizes struct {
	Warmup       int // untimed apply_sync calls before the latency samples
	Samples      int // timed apply_sync calls
	Tasks        int // load-balanced tasks per figure
	PushPullInts int // length of the pushed and pulled list
	ScatterInts  int // length of the scattered and gathered list
	BlobBytes    int // size of the string pushed to and pulled from each engine
}

// Sizes returns the workload sizes of o: ipp_bench.py's, or small ones
// with Quick.
func (o Options) Sizes() Sizes {
	if o.Quick {
		return Sizes{Warmup: 20, Samples: 200, Tasks: 1000, PushPullInts: 20_000, ScatterInts: 10_000, BlobBytes: 256 << 10}
	}
	return Sizes{Warmup: 200, Samples: 2000, Tasks: 10_000, PushPullInts: 2_000_000, ScatterInts: 1_000_000, BlobBytes: 4 << 20}
}

// Report is what Run measured. The JSON keys are stable (pirun
// bench --json prints them); the figure keys are ipp_bench.py's where the
// workload is the same.
type Report struct {
	Engines int  `json:"engines"` // engines when the bench started
	Hosts   int  `json:"hosts"`   // distinct host names among them
	Quick   bool `json:"quick"`

	Samples        int     `json:"lat_samples"`
	LatencyUS      float64 `json:"lat_direct_us"`     // median apply_sync round trip, one engine
	LatencyP99US   float64 `json:"lat_direct_p99_us"` // its 99th percentile
	Tasks          int     `json:"lb_tasks"`
	Chunk1PerSec   float64 `json:"lb_chunk1_tps"`      // map_sync items/s, chunksize 1 (median of 3)
	Chunk100PerSec float64 `json:"lb_chunk100_tps"`    // map_sync items/s, chunksize 100 (median of 3)
	AsyncPerSec    float64 `json:"lb_apply_async_tps"` // separate apply_async, then wait (median of 3)
	PushPullInts   int     `json:"pushpull_ints"`
	PushPullS      float64 `json:"pushpull_s"` // push + pull of the list, one engine (median of 3)
	ScatterInts    int     `json:"scatter_gather_ints"`
	ScatterGatherS float64 `json:"scatter_gather_s"` // scatter + gather over all engines (median of 3)
	BlobBytes      int     `json:"blob_bytes"`

	PerEngine []EngineResult `json:"per_engine"` // in engine id order
}

// EngineResult is the bandwidth of one engine: a string of BlobBytes pushed
// to it, then pulled back.
type EngineResult struct {
	ID       int     `json:"id"`
	Host     string  `json:"host"`
	PushMBps float64 `json:"push_mb_per_s"` // 10⁶ bytes per second (median of 3)
	PullMBps float64 `json:"pull_mb_per_s"`
}

// benchSource is the Starlark the bench runs: the workloads of
// ipp_bench.py, one function each, timed from Go.
const benchSource = `
c = Client()
lv = c.load_balanced_view()
dv = c[:]

def nothing():
    return None

def ident(x):
    return x

def view(id):
    return c[id]

def ints(n):
    return list(range(n))

def blob(n):
    return "x" * n

def apply_one(e):
    e.apply_sync(nothing)

def lb_map(n, chunk):
    return lv.map_sync(ident, range(n), chunksize = chunk)

def lb_apply_async(n):
    ars = [lv.apply_async(ident, i) for i in range(n)]
    wait(ars)
    return ars

def push_pull(e, big):
    e.push({"_pirun_bench_big": big}, block = True)
    return e.pull("_pirun_bench_big", block = True)

def scatter_gather(seq):
    dv.scatter("_pirun_bench_x", seq, block = True)
    return dv.gather("_pirun_bench_x", block = True)

def push_blob(e, s):
    e.push({"_pirun_bench_blob": s}, block = True)

def pull_blob(e):
    return e.pull("_pirun_bench_blob", block = True)

def check(got, n):
    if got != list(range(n)):
        fail("the workload returned wrong values (%d of %d)" % (len(got), n))

def check_async(ars, n):
    check([ar.get() for ar in ars], n)

def cleanup():
    dv.push({"_pirun_bench_big": None, "_pirun_bench_x": None, "_pirun_bench_blob": None}, block = True)
`

// bench is one run of the bench source on a client.
type bench struct {
	th      *starlark.Thread
	globals starlark.StringDict
	opts    Options
	sizes   Sizes
}

// Run measures the cluster of c with the workloads of ipp_bench.py:
// the apply_sync round trip to the first engine, load-balanced map at
// chunksize 1 and 100, separate apply_async, push and pull of a list to
// one engine, scatter and gather over every engine, and the push and pull
// bandwidth of each engine. It waits up to 10 s for a first engine, and
// leaves the engines' namespaces with the bench's names set to None. It
// must not run concurrently with other work on c if the figures are to
// mean anything, but it is safe to.
func Run(ctx context.Context, c *client.Client, opts Options) (Report, error) {
	wctx, cancel := context.WithTimeout(ctx, client.DefaultWait)
	err := c.WaitForEngines(wctx, 1)
	cancel()
	if err != nil {
		return Report{}, err
	}
	b, err := newBench(ctx, c, opts)
	if err != nil {
		return Report{}, err
	}
	stop := starlib.BindCancel(ctx, b.th)
	defer stop()
	rep, err := b.run(ctx, c)
	if err != nil && ctx.Err() != nil {
		return rep, context.Cause(ctx)
	}
	return rep, err
}

// newBench runs the bench source on c.
func newBench(ctx context.Context, c *client.Client, opts Options) (*bench, error) {
	s := &api.Script{Client: c, Stdout: io.Discard}
	predecl, err := s.Predeclared()
	if err != nil {
		return nil, err
	}
	const name = "pirun-bench.star"
	if err := c.Sources().Add(name, []byte(benchSource)); err != nil {
		return nil, err
	}
	th := s.NewThread(ctx, "bench", ".")
	globals, err := starlark.ExecFileOptions(starlib.FileOptions(), th, name, benchSource, predecl)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	return &bench{th: th, globals: globals, opts: opts, sizes: opts.Sizes()}, nil
}

// run measures every figure in the order of ipp_bench.py.
func (b *bench) run(ctx context.Context, c *client.Client) (Report, error) {
	ids, err := c.IDs(ctx)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Engines: len(ids), Hosts: hostCount(c, ids), Quick: b.opts.Quick}
	for _, step := range []struct {
		figure  string
		measure func(*Report, []int) error
	}{
		{"apply_sync round trip", b.latency},
		{"load-balanced map", b.loadBalanced},
		{"apply_async", b.applyAsync},
		{"push and pull", b.pushPull},
		{"scatter and gather", b.scatterGather},
		{"bandwidth per engine", func(r *Report, ids []int) error { return b.bandwidth(r, c, ids) }},
	} {
		if b.opts.Progress != nil {
			b.opts.Progress(step.figure)
		}
		if err := step.measure(&rep, ids); err != nil {
			return rep, fmt.Errorf("bench %s: %w", step.figure, err)
		}
	}
	_, err = b.call("cleanup")
	return rep, err
}

// hostCount returns how many distinct hosts run the engines ids.
func hostCount(c *client.Client, ids []int) int {
	hosts := make(map[string]bool)
	for _, id := range ids {
		if e, ok := c.EngineInfo(id); ok {
			hosts[e.Host] = true
		}
	}
	return len(hosts)
}

// call calls the bench function fn with args.
func (b *bench) call(fn string, args ...starlark.Value) (starlark.Value, error) {
	return starlark.Call(b.th, b.globals[fn], args, nil)
}

// timed calls fn with args and returns how long it took and its result.
func (b *bench) timed(fn string, args ...starlark.Value) (time.Duration, starlark.Value, error) {
	start := time.Now()
	v, err := b.call(fn, args...)
	return time.Since(start), v, err
}

// median3 calls fn three times and returns the median time and the last
// value: one run of a big transfer is at the mercy of the garbage
// collector's timing. Each run starts as the first did: the previous
// run's value is dropped, and when reset is not empty, the function of
// that name is called (untimed) to clear what the run left on the engines.
func (b *bench) median3(reset, fn string, args ...starlark.Value) (time.Duration, starlark.Value, error) {
	ts := make([]time.Duration, 3)
	var v starlark.Value
	for i := range ts {
		v = nil
		if reset != "" && i > 0 {
			if _, err := b.call(reset); err != nil {
				return 0, nil, err
			}
		}
		var err error
		if ts[i], v, err = b.timed(fn, args...); err != nil {
			return 0, nil, err
		}
	}
	slices.Sort(ts)
	return median(ts), v, nil
}

// view returns the DirectView of engine id.
func (b *bench) view(id int) (starlark.Value, error) {
	return b.call("view", starlark.MakeInt(id))
}

// latency times apply_sync of a function returning None on the first
// engine, after a warm-up.
func (b *bench) latency(rep *Report, ids []int) error {
	e, err := b.view(ids[0])
	if err != nil {
		return err
	}
	for range b.sizes.Warmup {
		if _, err := b.call("apply_one", e); err != nil {
			return err
		}
	}
	ts := make([]time.Duration, 0, b.sizes.Samples)
	for range b.sizes.Samples {
		d, _, err := b.timed("apply_one", e)
		if err != nil {
			return err
		}
		ts = append(ts, d)
	}
	slices.Sort(ts)
	rep.Samples = len(ts)
	rep.LatencyUS = micros(median(ts))
	rep.LatencyP99US = micros(ts[len(ts)*99/100])
	return nil
}

// median returns the median of sorted ts, which is not empty.
func median(ts []time.Duration) time.Duration {
	n := len(ts)
	if n%2 == 1 {
		return ts[n/2]
	}
	return (ts[n/2-1] + ts[n/2]) / 2
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// loadBalanced times map_sync of the identity over range(Tasks) at
// chunksize 1 and 100 (median of 3 each: one run is ~0.1 s, at the mercy
// of whatever else the machine does), and checks the results.
func (b *bench) loadBalanced(rep *Report, _ []int) error {
	n := b.sizes.Tasks
	rep.Tasks = n
	for _, chunk := range []struct {
		size int
		rate *float64
	}{{1, &rep.Chunk1PerSec}, {100, &rep.Chunk100PerSec}} {
		d, got, err := b.median3("", "lb_map", starlark.MakeInt(n), starlark.MakeInt(chunk.size))
		if err != nil {
			return err
		}
		if _, err := b.call("check", got, starlark.MakeInt(n)); err != nil {
			return err
		}
		*chunk.rate = float64(n) / d.Seconds()
	}
	return nil
}

// applyAsync times Tasks separate apply_async, then wait (median of 3),
// and checks the results.
func (b *bench) applyAsync(rep *Report, _ []int) error {
	n := starlark.MakeInt(b.sizes.Tasks)
	d, ars, err := b.median3("", "lb_apply_async", n)
	if err != nil {
		return err
	}
	rep.AsyncPerSec = float64(b.sizes.Tasks) / d.Seconds()
	_, err = b.call("check_async", ars, n)
	return err
}

// pushPull times push then pull of a list of PushPullInts ints to the
// first engine.
func (b *bench) pushPull(rep *Report, ids []int) error {
	e, err := b.view(ids[0])
	if err != nil {
		return err
	}
	n := starlark.MakeInt(b.sizes.PushPullInts)
	big, err := b.call("ints", n)
	if err != nil {
		return err
	}
	d, back, err := b.median3("cleanup", "push_pull", e, big)
	if err != nil {
		return err
	}
	rep.PushPullInts, rep.PushPullS = b.sizes.PushPullInts, d.Seconds()
	_, err = b.call("check", back, n)
	return err
}

// scatterGather times scatter then gather of a list of ScatterInts ints
// over every engine.
func (b *bench) scatterGather(rep *Report, _ []int) error {
	n := starlark.MakeInt(b.sizes.ScatterInts)
	seq, err := b.call("ints", n)
	if err != nil {
		return err
	}
	d, back, err := b.median3("cleanup", "scatter_gather", seq)
	if err != nil {
		return err
	}
	rep.ScatterInts, rep.ScatterGatherS = b.sizes.ScatterInts, d.Seconds()
	_, err = b.call("check", back, n)
	return err
}

// bandwidth times the push and the pull of a string of BlobBytes to each
// engine in turn, three times (medians: one transfer of a few ms is at the
// mercy of the collector, as median3 says).
func (b *bench) bandwidth(rep *Report, c *client.Client, ids []int) error {
	s, err := b.call("blob", starlark.MakeInt(b.sizes.BlobBytes))
	if err != nil {
		return err
	}
	rep.BlobBytes = b.sizes.BlobBytes
	mb := float64(b.sizes.BlobBytes) / 1e6
	for _, id := range ids {
		e, err := b.view(id)
		if err != nil {
			return err
		}
		var pushes, pulls []time.Duration
		for range 3 {
			push, _, err := b.timed("push_blob", e, s)
			if err != nil {
				return err
			}
			pull, back, err := b.timed("pull_blob", e)
			if err != nil {
				return err
			}
			if back != s {
				return errors.New("the pulled string differs from the pushed one")
			}
			pushes, pulls = append(pushes, push), append(pulls, pull)
		}
		slices.Sort(pushes)
		slices.Sort(pulls)
		push, pull := median(pushes), median(pulls)
		info, _ := c.EngineInfo(id)
		rep.PerEngine = append(rep.PerEngine, EngineResult{ID: id, Host: info.Host,
			PushMBps: mb / push.Seconds(), PullMBps: mb / pull.Seconds()})
	}
	return nil
}
