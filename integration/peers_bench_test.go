// This file defines the side-by-side run of issue 7: ipyparallel's
// ipp_bench.py and Dask's dask_bench.py (../shared/peers, next to the
// repository) and `pirun bench` with the same workloads on 2 local
// engines, each 3 times in turn, and tables of their medians with pirun's
// speed-up. Install the peers first
// (../shared/peers/README.md):
//
//	apt-get install -y python3-ipyparallel python3-distributed python3-mpi4py python3-psutil python3-numpy openmpi-bin
//	go test -v -run '^$' -bench SideBySide -benchtime 1x -timeout 30m ./integration
//
// (-v: without it, go test cuts a benchmark's log after 10 lines.)

package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

// python is Debian's interpreter, which the peers' packages install into.
const python = "/usr/bin/python3"

// sideBySideRuns is how many times each side runs; figures are medians.
const sideBySideRuns = 3

// peerFigure is one line of a side-by-side table.
type peerFigure struct {
	name        string
	peer, pirun string // keys in the peer's output (dotted paths into dask_bench.py's JSON) and in pirun's figures
	unit        string
	lowerBetter bool
}

var peerFigures = []peerFigure{
	{"apply_sync round trip, one engine", "lat_direct_us", "lat_direct_us", "µs", true},
	{"the same, 99th percentile", "lat_direct_p99_us", "lat_direct_p99_us", "µs", true},
	{"load-balanced map, 10k tasks, chunksize 1", "lb_chunk1_tps", "lb_chunk1_tps", "tasks/s", false},
	{"the same, chunksize 100", "lb_chunk100_tps", "lb_chunk100_tps", "items/s", false},
	{"10k separate apply_async, then wait", "lb_apply_async_tps", "lb_apply_async_tps", "tasks/s", false},
	{"push + pull of a 2M-int list, one engine", "pushpull_2M_ints_s", "pushpull_s", "s", true},
	{"scatter + gather of a 1M list, 2 engines", "scatter_gather_1M_s", "scatter_gather_s", "s", true},
	{"2 engines ready from nothing", "startup_s", "startup_s", "s", true},
}

// daskFigures are the figures of dask_bench.py (2 worker processes of one
// thread each) that have a counterpart in pirun's.
var daskFigures = []peerFigure{
	{"submit / apply_sync round trip", "latency_us.median", "lat_direct_us", "µs", true},
	{"the same, 99th percentile", "latency_us.p99", "lat_direct_p99_us", "µs", true},
	{"map of 10k trivial tasks, one task each", "map.tasks_per_s", "lb_chunk1_tps", "tasks/s", false},
	{"a big value to one worker (Dask: 10 MB array, pirun: 4 MiB string)", "xfer_10MB_direct_nohash.scatter_MBps", "push_mb_per_s", "MB/s", false},
	{"the same value back", "xfer_10MB_direct_nohash.gather_MBps", "pull_mb_per_s", "MB/s", false},
	{"2 workers ready from nothing", "start_s", "startup_s", "s", true},
}

// BenchmarkSideBySide runs ipyparallel's ipp_bench.py, Dask's
// dask_bench.py and pirun bench -n 2 in turn, sideBySideRuns times each,
// and logs the medians with ratios (how many times better pirun is:
// faster, or more per second). pirun's startup_s is a whole `pirun -n 2`
// process running a script that waits for its 2 engines; ipyparallel's is
// its cluster start and connect, Dask's its LocalCluster start until both
// workers registered.
func BenchmarkSideBySide(b *testing.B) {
	if raceEnabled {
		b.Skip("the race detector distorts pirun's figures")
	}
	ippScript, daskScript := peerScript(b, "ipp_bench.py", "ipyparallel"), peerScript(b, "dask_bench.py", "distributed")
	for b.Loop() {
		ipp, dask, pirun := make(map[string][]float64), make(map[string][]float64), make(map[string][]float64)
		for range sideBySideRuns { // in turn, so that load on the machine hits all
			appendFigures(ipp, runIPP(b, ippScript))
			appendFigures(dask, runDask(b, daskScript))
			appendFigures(pirun, runPirunBench(b))
		}
		b.Log("\n" + sideBySideTable(b, "ipyparallel", "ipp", peerFigures, ipp, pirun) +
			"\n" + sideBySideTable(b, "Dask", "dask", daskFigures, dask, pirun))
	}
}

// peerScript returns the path of the peers' script name, or fails saying
// what is missing; module is the Python module it needs. $PIRUN_PEERS
// names the peers' folder when it is not ../shared/peers.
func peerScript(b *testing.B, name, module string) string {
	b.Helper()
	dir := os.Getenv("PIRUN_PEERS")
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			b.Fatal(err)
		}
		dir = filepath.Join(filepath.Dir(root), "shared", "peers")
	}
	script := filepath.Join(dir, name)
	if _, err := os.Stat(script); err != nil {
		b.Fatalf("the peers' benchmark is missing: %v (set PIRUN_PEERS to the folder holding %s)", err, name)
	}
	if out, err := exec.Command(python, "-c", "import "+module).CombinedOutput(); err != nil {
		b.Fatalf("%s cannot import %s (%v: %s); install the peers: apt-get install -y python3-ipyparallel python3-distributed python3-mpi4py python3-psutil python3-numpy openmpi-bin",
			python, module, err, strings.TrimSpace(string(out)))
	}
	return script
}

// moduleRoot returns the folder of the go.mod above the working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// runIPP runs ipp_bench.py and parses its "key value" lines.
func runIPP(b *testing.B, script string) map[string]float64 {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Dir = b.TempDir()
	cmd.Env = append(os.Environ(), "IPYTHONDIR="+b.TempDir())
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", python, script, err, stderrOf(err))
	}
	figures := make(map[string]float64)
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), " ")
		if x, err := strconv.ParseFloat(strings.TrimSpace(value), 64); ok && err == nil {
			figures[key] = x
		}
	}
	for _, f := range peerFigures {
		if _, ok := figures[f.peer]; !ok {
			b.Fatalf("ipp_bench.py printed no %s:\n%s", f.peer, out)
		}
	}
	return figures
}

// runDask runs dask_bench.py and returns its JSON figures, nested keys
// joined with dots.
func runDask(b *testing.B, script string) map[string]float64 {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script)
	cmd.Dir = b.TempDir() // Dask's workers keep their scratch space there
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s %s: %v\n%s", python, script, err, stderrOf(err))
	}
	var report map[string]any
	if err := json.Unmarshal(out, &report); err != nil {
		b.Fatalf("dask_bench.py printed %q: %v", out, err)
	}
	figures := make(map[string]float64)
	flatten(figures, "", report)
	for _, f := range daskFigures {
		if _, ok := figures[f.peer]; !ok {
			b.Fatalf("dask_bench.py printed no %s:\n%s", f.peer, out)
		}
	}
	return figures
}

// flatten adds the numbers of v to figures, under their keys joined with
// dots after prefix.
func flatten(figures map[string]float64, prefix string, v any) {
	switch v := v.(type) {
	case float64:
		figures[prefix] = v
	case map[string]any:
		for k, x := range v {
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(figures, k, x)
		}
	}
}

func stderrOf(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}

// runPirunBench runs pirun bench -n 2 --json and times a whole pirun -n 2
// process whose script waits for its engines.
func runPirunBench(b *testing.B) map[string]float64 {
	b.Helper()
	dir := b.TempDir()
	out := runChild(b, dir, "bench", "-n", "2", "--json")
	var report map[string]any
	if err := json.Unmarshal(out, &report); err != nil {
		b.Fatalf("pirun bench --json printed %q: %v", out, err)
	}
	figures := make(map[string]float64)
	for k, v := range report {
		if x, ok := v.(float64); ok {
			figures[k] = x
		}
	}
	var push, pull []float64 // per engine
	if engines, ok := report["per_engine"].([]any); ok {
		for _, e := range engines {
			m, _ := e.(map[string]any)
			if x, ok := m["push_mb_per_s"].(float64); ok {
				push = append(push, x)
			}
			if x, ok := m["pull_mb_per_s"].(float64); ok {
				pull = append(pull, x)
			}
		}
	}
	if len(push) == 0 || len(pull) == 0 {
		b.Fatalf("pirun bench --json printed no bandwidth per engine: %s", out)
	}
	figures["push_mb_per_s"], figures["pull_mb_per_s"] = medianFloat(push), medianFloat(pull)
	wait := filepath.Join(dir, "wait.star")
	if err := os.WriteFile(wait, []byte("Client().wait_for_engines(2)\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	runChild(b, dir, "-n", "2", wait)
	figures["startup_s"] = time.Since(start).Seconds()
	return figures
}

// runChild runs pirun with args in dir and returns its stdout.
func runChild(b *testing.B, dir string, args ...string) []byte {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, pirunBin, args...)
	cmd.Dir, cmd.Env = dir, childEnv(dir)
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("pirun %v: %v\n%s", args, err, stderrOf(err))
	}
	return out
}

func appendFigures(all map[string][]float64, run map[string]float64) {
	for k, v := range run {
		all[k] = append(all[k], v)
	}
}

// sideBySideTable formats the medians of the peer's figures and pirun's
// with ratios, and reports them as benchmark metrics (pirun-KEY, TAG-KEY,
// x-TAG-KEY).
func sideBySideTable(b *testing.B, peerName, tag string, figures []peerFigure, peer, pirun map[string][]float64) string {
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "figure (medians of %d)\t%s\tpirun\tpirun is\n", sideBySideRuns, peerName)
	for _, f := range figures {
		i, p := medianFloat(peer[f.peer]), medianFloat(pirun[f.pirun])
		ratio := p / i
		if f.lowerBetter {
			ratio = i / p
		}
		verdict := fmt.Sprintf("%.1f× better", ratio)
		if ratio < 1 {
			verdict = fmt.Sprintf("%.1f× worse", 1/ratio)
		}
		fmt.Fprintf(tw, "%s\t%s %s\t%s %s\t%s\n", f.name, sig(i), f.unit, sig(p), f.unit, verdict)
		b.ReportMetric(p, "pirun-"+f.pirun)
		b.ReportMetric(i, tag+"-"+f.peer)
		b.ReportMetric(ratio, "x-"+tag+"-"+f.pirun)
	}
	tw.Flush()
	return sb.String()
}

// medianFloat returns the median of xs (NaN when empty).
func medianFloat(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// sig formats x with about three significant digits.
func sig(x float64) string {
	switch {
	case x >= 1000:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case x >= 100:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}
