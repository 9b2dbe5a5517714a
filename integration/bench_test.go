package integration

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/starlib"
)

// benchScript runs src on a fresh 2-engine in-process cluster and returns
// the callable named fn, so the timed loop calls only it.
func benchScript(b *testing.B, src, fn string) (*starlark.Thread, starlark.Value) {
	b.Helper()
	th, globals := benchGlobals(b, src, fn)
	return th, globals[fn]
}

// benchGlobals runs src, named after fn, on a fresh 2-engine in-process
// cluster and returns its thread and globals.
func benchGlobals(b *testing.B, src, fn string) (*starlark.Thread, starlark.StringDict) {
	b.Helper()
	cl := startClusterB(b, 2)
	s := &api.Script{Client: cl.Client, Stdout: discard{}}
	predecl, err := s.Predeclared()
	if err != nil {
		b.Fatal(err)
	}
	name := fmt.Sprintf("bench_%s.star", fn)
	if err := cl.Client.Sources().Add(name, []byte(src)); err != nil {
		b.Fatal(err)
	}
	th := s.NewThread(context.Background(), "bench", ".")
	globals, err := starlark.ExecFileOptions(starlib.FileOptions(), th, name, src, predecl)
	if err != nil {
		b.Fatal(err)
	}
	return th, globals
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// runBench calls f once per op. With perOp tasks an op, it reports
// tasks/s and the process's CPU time per task (hub, engines and client
// are all in this process), which a busy machine disturbs less than the
// wall time.
func runBench(b *testing.B, th *starlark.Thread, f starlark.Value, perOp int) {
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		if _, err := starlark.Call(th, f, nil, nil); err != nil {
			b.Fatal(err)
		}
	}
	if perOp > 0 {
		b.ReportMetric(float64(perOp)*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		b.ReportMetric((processCPU()-cpu0).Seconds()*1e6/float64(perOp*b.N), "cpu-µs/task")
	}
}

// processCPU returns the CPU time (user and system) this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkApplyRoundTrip is one apply_sync on one engine.
func BenchmarkApplyRoundTrip(b *testing.B) {
	th, f := benchScript(b, `
c = Client()
e = c[0]
def one():
    return e.apply_sync(lambda x: x, 1)
`, "one")
	runBench(b, th, f, 0)
}

// BenchmarkLoadBalancedMap10k maps a trivial function over 10k items, one
// task per item.
func BenchmarkLoadBalancedMap10k(b *testing.B) {
	th, f := benchScript(b, `
lv = Client().load_balanced_view()
def run():
    return lv.map_sync(lambda x: x, range(10000))
`, "run")
	runBench(b, th, f, 10000)
}

// BenchmarkLoadBalancedMap10kChunk100 is the same with 100 items a task.
func BenchmarkLoadBalancedMap10kChunk100(b *testing.B) {
	th, f := benchScript(b, `
lv = Client().load_balanced_view()
def run():
    return lv.map_sync(lambda x: x, range(10000), chunksize=100)
`, "run")
	runBench(b, th, f, 10000)
}

// BenchmarkApplyAsync10k sends 10k separate apply_async and waits.
func BenchmarkApplyAsync10k(b *testing.B) {
	th, f := benchScript(b, `
lv = Client().load_balanced_view()
def run():
    ars = [lv.apply_async(lambda x: x, i) for i in range(10000)]
    return wait(ars)
`, "run")
	runBench(b, th, f, 10000)
}

// BenchmarkPushPull2M pushes a 2M-int list to one engine and pulls it back.
func BenchmarkPushPull2M(b *testing.B) {
	th, f := benchScript(b, `
v = Client()[0]
v.block = True
big = list(range(2000000))
def run():
    v.push({"big": big})
    return v.pull("big")
`, "run")
	runBench(b, th, f, 0)
}

// BenchmarkScatterGather1M scatters a 1M list over 2 engines and gathers it.
func BenchmarkScatterGather1M(b *testing.B) {
	th, f := benchScript(b, `
d = Client()[:]
d.block = True
one = list(range(1000000))
def run():
    d.scatter("part", one)
    return d.gather("part")
`, "run")
	runBench(b, th, f, 0)
}
