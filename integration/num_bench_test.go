// This file defines the side-by-side run of issue 13: the five figures of
// its goal table, measured for pirun + num (a script run by `pirun -n 2`)
// and for ipyparallel + numpy (../shared/peers/ipp_numpy.py, 2 engines)
// and pure CPython (the π loop), each 3 times in turn, as medians:
//
//	apt-get install -y python3-ipyparallel python3-numpy
//	go test -v -run '^$' -bench NumSideBySide -benchtime 1x -timeout 30m ./integration
//
// (-v: without it, go test cuts a benchmark's log after 10 lines.)

package integration

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// numBenchScript measures the five figures on a 2-engine pirun cluster
// with the same work as ipp_numpy.py, printing `key seconds` lines. Every
// figure is a whole call from the host, as ipp_numpy.py times them.
const numBenchScript = `
c = Client()
c.wait_for_engines(2)
e0, e1 = c[c.ids[0]], c[c.ids[1]]
dv = c[:]
dv.apply_sync(lambda: 0)

def mc(n, seed):
    num.random.seed(seed)
    inside = 0
    for _ in range(n // 1000000):
        x = num.random.random(1000000)
        y = num.random.random(1000000)
        inside += int(num.count_nonzero(num.less_equal(x * x + y * y, 1.0)))
    return inside

def mm(n):
    a = (num.arange(n * n) * 1.0).reshape(n, n) % 7 + 1.0
    t = time.time()
    p = num.dot(a, a)
    return [float(p.sum()), time.time() - t]

def trap(lo, hi, n):
    x = num.linspace(lo, hi, n)
    y = num.sin(x)
    return float((y[:-1] + y[1:]).sum() * (hi - lo) / (n - 1) / 2)

def darts(n):
    rnd = random.random
    inside = 0
    for _ in range(n):
        x = rnd()
        y = rnd()
        if x * x + y * y < 1.0:
            inside += 1
    return inside

e0.apply_sync(mm, 50)  # warm: compile and cache each function once
dv.map_sync(trap, [0.0, 1.5], [1.5, 3.0], [1000, 1000])

t = time.time()
ars = [e0.apply_async(mc, 10000000, 0), e1.apply_async(mc, 10000000, 1)]
tot = ars[0].get() + ars[1].get()
print("np_pi_20M_s", time.time() - t)

t = time.time()
r = e0.apply_sync(mm, 400)
print("np_matmul400_s", time.time() - t)
print("np_matmul400_inner_s", r[1])

t = time.time()
parts = dv.map_sync(trap, [0.0, 1.5], [1.5, 3.0], [5000000, 5000000])
print("np_trap_10M_s", time.time() - t)

big = num.arange(10000000, dtype="float64")
t = time.time()
e0.push({"big": big}, block=True)
back = e0.pull("big", block=True)
print("np_pushpull_10M_f64_s", time.time() - t)

t = time.time()
hits = e0.apply_sync(darts, 1000000)
print("pi_loop_1M_s", time.time() - t)
print("check", tot, parts[0] + parts[1], len(back), hits)
`

// cpythonPiLoop is the pure-CPython counterpart of darts: the loop of
// scripts/pi.star with random.random hoisted, 1M samples, in one process.
const cpythonPiLoop = `
import random, time
t = time.perf_counter()
rnd = random.random
inside = 0
for _ in range(1000000):
    x = rnd(); y = rnd()
    if x * x + y * y < 1.0:
        inside += 1
print("pi_loop_1M_s", time.perf_counter() - t)
`

// numFigures are the five figures of issue 13's goal table.
var numFigures = []peerFigure{
	{"Monte Carlo π, 20M samples, 2 tasks of 10M in 1M chunks", "np_pi_20M_s", "np_pi_20M_s", "s", true},
	{"400×400 float matmul on one engine, whole apply", "np_matmul400_s", "np_matmul400_s", "s", true},
	{"the same, inside the engine (num.dot / a @ a)", "np_matmul400_inner_s", "np_matmul400_inner_s", "s", true},
	{"trapezoid integral of sin over 10M points, 2 engines", "np_trap_10M_s", "np_trap_10M_s", "s", true},
	{"push + pull of a 10M float64 array, one engine", "np_pushpull_10M_f64_s", "np_pushpull_10M_f64_s", "s", true},
	{"π loop of scripts/pi.star, 1M samples (pirun: pure Starlark on one engine; peer: CPython)", "pi_loop_1M_s", "pi_loop_1M_s", "s", true},
}

// BenchmarkNumSideBySide runs ipp_numpy.py, the CPython π loop and the
// same work on `pirun -n 2` in turn, 3 times each, and logs the medians
// with pirun's ratio.
func BenchmarkNumSideBySide(b *testing.B) {
	if raceEnabled {
		b.Skip("the race detector distorts pirun's figures")
	}
	script := peerScript(b, "ipp_numpy.py", "ipyparallel")
	if out, err := exec.Command(python, "-c", "import numpy").CombinedOutput(); err != nil {
		b.Fatalf("%s cannot import numpy (%v: %s); install it: apt-get install -y python3-numpy", python, err, out)
	}
	dir := b.TempDir()
	star := filepath.Join(dir, "bench_num.star")
	if err := os.WriteFile(star, []byte(numBenchScript), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		peer, pirun := make(map[string][]float64), make(map[string][]float64)
		for range sideBySideRuns { // in turn, so that load on the machine hits all
			appendFigures(peer, keyValues(b, runPython(b, script)))
			appendFigures(peer, keyValues(b, runPython(b, "-c", cpythonPiLoop)))
			appendFigures(pirun, keyValues(b, runChild(b, dir, "-n", "2", star)))
		}
		for _, f := range numFigures {
			if len(peer[f.peer]) == 0 || len(pirun[f.pirun]) == 0 {
				b.Fatalf("no %s figure: peer %v, pirun %v", f.peer, peer, pirun)
			}
		}
		b.Log("\n" + sideBySideTable(b, "ipyparallel + numpy", "ipp", numFigures, peer, pirun))
	}
}

// runPython runs Debian's python3 with args (environment cleaned of the
// OpenBLAS overrides, as ../shared/peers/README.md says) and returns its
// standard output.
func runPython(b *testing.B, args ...string) []byte {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Dir = b.TempDir()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OPENBLAS_CORETYPE=") && !strings.HasPrefix(kv, "OPENBLAS_L2_SIZE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "IPYTHONDIR="+b.TempDir())
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", python, args[0], err, stderrOf(err))
	}
	return out
}

// keyValues parses `key number` lines.
func keyValues(b *testing.B, out []byte) map[string]float64 {
	b.Helper()
	figures := make(map[string]float64)
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), " ")
		if x, err := strconv.ParseFloat(strings.TrimSpace(value), 64); ok && err == nil {
			figures[key] = x
		}
	}
	if len(figures) == 0 {
		b.Fatalf("no figures in %q", out)
	}
	return figures
}

// BenchmarkPushPull10MFloat64 pushes a 10M float64 ndarray (80 MB) to one
// in-process engine and pulls it back: the transfer figure of issue 13,
// without process start-up, for profiles.
func BenchmarkPushPull10MFloat64(b *testing.B) {
	th, f := benchScript(b, `
v = Client()[0]
v.block = True
big = num.arange(10000000, dtype="float64")
def run():
    v.push({"big": big})
    return v.pull("big")
`, "run")
	b.SetBytes(2 * 80_000_000)
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	runBench(b, th, f, 0)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	// Fresh memory costs ~3 ms per MB on the project's VM, and the machine
	// is shared: page faults and CPU time per op say more than the time.
	b.ReportMetric(float64(ru1.Minflt-ru0.Minflt)/float64(b.N), "faults/op")
	cpu := func(ru *syscall.Rusage) float64 { return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6 }
	b.ReportMetric((cpu(&ru1)-cpu(&ru0))/float64(b.N), "cpu-ms/op")
}
