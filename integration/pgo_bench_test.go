// This file defines BenchmarkPGOMix, the workload whose CPU profile is
// pirun's profile-guided optimisation profile, host/cmd/pirun/default.pgo
// (Go builds the binary with it by default). .ci/pgo regenerates that
// file:
//
//	.ci/pgo
//
// which runs, without the race detector,
//
//	go test -run '^$' -bench '^BenchmarkPGOMix$' -benchtime 1x -cpuprofile cpu.pprof ./integration
//
// and merges the profile into default.pgo with `go tool pprof -proto`.

package integration

import (
	"testing"

	"go.starlark.net/starlark"
)

// pgoMixScript holds the workloads of the PGO profile, each a function of
// no arguments that checks its own result, on a 2-engine in-process
// cluster as `pirun -n 2` runs them: the pure-Starlark π loop (issue 13),
// the load-balanced prime counts of ../shared/peers/ipp_compute.py, the
// per-task overhead of `pirun bench`, num's π and trapezoid, and
// push + pull of a num array and of a list.
const pgoMixScript = `
c = Client()
c.wait_for_engines(2)
e0 = c[c.ids[0]]
dv = c[:]
dv.block = True
lv = c.load_balanced_view()

def check(what, got, want):
    if got != want:
        fail("%s = %r, want %r" % (what, got, want))

def darts(n):
    rnd = random.random
    inside = 0
    for _ in range(n):
        x = rnd()
        y = rnd()
        if x * x + y * y < 1.0:
            inside += 1
    return inside

def darts_tuple(n):
    inside = 0
    for _ in range(n):
        x, y = random.random(), random.random()
        if x * x + y * y < 1.0:
            inside += 1
    return inside

def pi_loop():
    hits = e0.apply_sync(darts, 1000000) + e0.apply_sync(darts_tuple, 300000)
    hits += sum(dv.apply_sync(darts, 500000))
    check("π loop hits in range", 2300000 * 0.78 < hits and hits < 2300000 * 0.79, True)

def primes(lo):
    c = 0
    for k in range(lo, lo + 2000):
        if k < 2:
            continue
        p = True
        d = 2
        while d * d <= k:
            if k % d == 0:
                p = False
                break
            d += 1
        if p:
            c += 1
    return c

def prime_map():
    check("primes below 100000", sum(lv.map_sync(primes, range(0, 100000, 2000))), 9592)

def tiny_tasks():
    check("map 10k", len(lv.map_sync(lambda x: x, range(10000))), 10000)
    check("map 10k by 100", len(lv.map_sync(lambda x: x, range(10000), chunksize=100)), 10000)
    ars = [lv.apply_async(lambda x: x, i) for i in range(5000)]
    wait(ars)
    check("last apply_async", ars[-1].get(), 4999)
    for i in range(500):
        e0.apply_sync(lambda x: x, i)

def mc(n, seed):
    num.random.seed(seed)
    inside = 0
    for _ in range(n // 1000000):
        x = num.random.random(1000000)
        y = num.random.random(1000000)
        inside += int(num.count_nonzero(num.less_equal(x * x + y * y, 1.0)))
    return inside

def trap(lo, hi, n):
    x = num.linspace(lo, hi, n)
    y = num.sin(x)
    return float((y[:-1] + y[1:]).sum() * (hi - lo) / (n - 1) / 2)

def num_work():
    hits = sum(dv.map_sync(mc, [10000000, 10000000], [0, 1]))
    check("num π hits in range", 20000000 * 0.78 < hits and hits < 20000000 * 0.79, True)
    area = sum(dv.map_sync(trap, [0.0, 1.5], [1.5, 3.0], [5000000, 5000000]))
    check("∫ sin over [0, 3] to 1e-6", math.round((area - (1 - math.cos(3.0))) * 1e6), 0)

big = num.arange(10000000, dtype="float64")
ints = list(range(2000000))

def push_pull():
    e0.push({"big": big, "ints": ints}, block=True)
    check("pulled array's length", len(e0.pull("big", block=True)), 10000000)
    check("pulled list's length", len(e0.pull("ints", block=True)), 2000000)
`

// BenchmarkPGOMix runs each workload of pgoMixScript once per op. Its CPU
// profile is what default.pgo is made of, so the sub-benchmarks' sizes are
// the weights of the mix: about a third of the CPU in pure Starlark on
// engines, the rest tasks, num and transfers.
func BenchmarkPGOMix(b *testing.B) {
	if raceEnabled {
		b.Fatal("BenchmarkPGOMix profiles pirun's release build: run it without -race")
	}
	th, globals := benchGlobals(b, pgoMixScript, "pgo_mix")
	for _, name := range []string{"pi_loop", "prime_map", "tiny_tasks", "num_work", "push_pull"} {
		b.Run(name, func(b *testing.B) {
			f, ok := globals[name].(starlark.Callable)
			if !ok {
				b.Fatalf("pgoMixScript defines no function %s", name)
			}
			for b.Loop() {
				if _, err := starlark.Call(th, f, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
