package starlib_test

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/random"
)

// piLoops are the pure-Starlark π loops of scripts/pi.star's style, over
// 1M samples: one benchmark op is one call of darts.
var piLoops = []struct{ name, src string }{
	{"tuple", `
def darts(n):
    inside = 0
    for _ in range(n):
        x, y = random.random(), random.random()
        if x * x + y * y < 1.0:
            inside += 1
    return inside
`},
	{"hoisted", `
def darts(n):
    rnd = random.random
    inside = 0
    for _ in range(n):
        x = rnd()
        y = rnd()
        if x * x + y * y < 1.0:
            inside += 1
    return inside
`},
}

// BenchmarkPiLoop runs each π loop over 1M samples as an engine's task
// would: with the engine's own random module (Source.Module) or, as
// before, the shared module drawing from the thread's Source; and with
// GOGC at pirun's 200 or at the 400 that engines set while tasks run
// (engine/gc.go). It reports the process's CPU seconds per op too, which a
// busy machine disturbs less than the wall time.
func BenchmarkPiLoop(b *testing.B) {
	for _, loop := range piLoops {
		for _, mode := range []string{"thread", "engine"} {
			for _, gogc := range []int{200, 400} {
				name := fmt.Sprintf("%s/random=%s/gogc=%d", loop.name, mode, gogc)
				b.Run(name, func(b *testing.B) {
					defer debug.SetGCPercent(debug.SetGCPercent(gogc))
					benchPi(b, loop.src, mode == "engine")
				})
			}
		}
	}
}

// benchPi runs darts(1M) from src per op, with random bound to the
// thread's Source, or to the Source itself if bound.
func benchPi(b *testing.B, src string, bound bool) {
	const samples = 1_000_000
	env, err := starlib.Predeclared(starlib.Engine, fakeImpl(starlib.Engine))
	if err != nil {
		b.Fatal(err)
	}
	thread := &starlark.Thread{Name: "bench"}
	rs := random.NewSource(1)
	random.SetSource(thread, rs)
	if bound {
		env["random"] = rs.Module()
	}
	globals, err := starlark.ExecFileOptions(starlib.FileOptions(), thread, "pi.star", src, env)
	if err != nil {
		b.Fatal(err)
	}
	darts := globals["darts"]
	n := starlark.Tuple{starlark.MakeInt(samples)}
	runtime.GC()
	cpu0 := cpuTime()
	for b.Loop() {
		v, err := starlark.Call(thread, darts, n, nil)
		if err != nil {
			b.Fatal(err)
		}
		if in, _ := starlark.AsInt32(v); in < samples*3/4 || in > samples*4/5 {
			b.Fatalf("darts(%d) = %v inside, want about %d", samples, v, samples*785/1000)
		}
	}
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime returns the CPU time (user and system) the process has used: on
// a shared machine it varies less than the wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
