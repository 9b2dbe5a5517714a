package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/host/bench"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
)

// clientWindow is how many load-balanced tasks a client keeps at the hub
// at once (host's submission window); the tests below go past it.
const clientWindow = 8192

func TestRunBenchQuick(t *testing.T) {
	c := startCluster(t, clusterConfig{engines: 2}).Client
	var figures []string
	rep, err := bench.Run(context.Background(), c, bench.Options{Quick: true, Progress: func(f string) { figures = append(figures, f) }})
	if err != nil {
		t.Fatal(err)
	}
	sizes := bench.Options{Quick: true}.Sizes()
	if rep.Engines != 2 || rep.Hosts != 1 || !rep.Quick {
		t.Errorf("RunBench engines, hosts, quick = %d, %d, %v, want 2, 1, true", rep.Engines, rep.Hosts, rep.Quick)
	}
	if rep.Samples != sizes.Samples || rep.Tasks != sizes.Tasks || rep.PushPullInts != sizes.PushPullInts ||
		rep.ScatterInts != sizes.ScatterInts || rep.BlobBytes != sizes.BlobBytes {
		t.Errorf("RunBench sizes = %+v, want %+v", rep, sizes)
	}
	for _, f := range []struct {
		name string
		got  float64
	}{
		{"lat_direct_us", rep.LatencyUS}, {"lb_chunk1_tps", rep.Chunk1PerSec}, {"lb_chunk100_tps", rep.Chunk100PerSec},
		{"lb_apply_async_tps", rep.AsyncPerSec}, {"pushpull_s", rep.PushPullS}, {"scatter_gather_s", rep.ScatterGatherS},
	} {
		if !(f.got > 0) {
			t.Errorf("RunBench %s = %v, want > 0", f.name, f.got)
		}
	}
	if rep.LatencyP99US < rep.LatencyUS {
		t.Errorf("RunBench p99 %v µs < median %v µs", rep.LatencyP99US, rep.LatencyUS)
	}
	if len(rep.PerEngine) != 2 || rep.PerEngine[0].PushMBps <= 0 || rep.PerEngine[1].PullMBps <= 0 {
		t.Errorf("RunBench per_engine = %+v, want 2 engines with bandwidths", rep.PerEngine)
	}
	want := []string{"apply_sync round trip", "load-balanced map", "apply_async", "push and pull", "scatter and gather", "bandwidth per engine"}
	if !slices.Equal(figures, want) {
		t.Errorf("RunBench progress = %q, want %q", figures, want)
	}
}

func TestRunBenchNoEngines(t *testing.T) {
	c := startCluster(t, clusterConfig{}).Client
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := bench.Run(ctx, c, bench.Options{Quick: true})
	var ne *client.NoEnginesError
	if !errors.As(err, &ne) {
		t.Errorf("RunBench with no engines = %v, want a client.NoEnginesError", err)
	}
}

func TestRunBenchCancelled(t *testing.T) {
	c := startCluster(t, clusterConfig{engines: 1}).Client
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stop the bench")
	_, err := bench.Run(ctx, c, bench.Options{Quick: true, Progress: func(f string) {
		if f == "apply_async" {
			cancel(stop)
		}
	}})
	if !errors.Is(err, stop) {
		t.Errorf("RunBench cancelled = %v, want %v", err, stop)
	}
}

// runStar runs src on c and returns its globals.
func runStar(t *testing.T, c *client.Client, src string) starlark.StringDict {
	t.Helper()
	s := &api.Script{Client: c, Stdout: io.Discard}
	predecl, err := s.Predeclared()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Sources().Add("window.star", []byte(src)); err != nil {
		t.Fatal(err)
	}
	th := s.NewThread(context.Background(), "window", ".")
	globals, err := starlark.ExecFileOptions(starlib.FileOptions(), th, "window.star", src, predecl)
	if err != nil {
		t.Fatal(err)
	}
	return globals
}

// expectNothingQueued checks that the hub holds no task of c's any more.
func expectNothingQueued(t *testing.T, c *client.Client) {
	t.Helper()
	waitFor(t, 10*time.Second, "the hub's queue to empty", func() bool {
		st, err := c.Status(context.Background())
		return err == nil && st.Unassigned == 0 && st.Queued == 0
	})
}

func TestWindowLargeMap(t *testing.T) {
	c := startCluster(t, clusterConfig{engines: 2}).Client
	n := 2*clientWindow + 17
	g := runStar(t, c, fmt.Sprintf(`
r = Client().load_balanced_view().map_sync(lambda x: 2 * x, range(%d))
ok = r == [2 * x for x in range(%d)]
`, n, n))
	if g["ok"] != starlark.True {
		t.Errorf("map_sync over %d items through the window returned wrong values", n)
	}
	expectNothingQueued(t, c)
}

func TestWindowAbortUnsent(t *testing.T) {
	c := startCluster(t, clusterConfig{engines: 1}).Client
	n := 2 * clientWindow
	g := runStar(t, c, fmt.Sprintf(`
ar = Client().load_balanced_view().map_async(lambda x: time.sleep(0.001), range(%d))
ar.abort()
ok = ar.wait(timeout=30)
errs = [e for e in ar.errors() if e != None]
`, n))
	if g["ok"] != starlark.True {
		t.Fatalf("an aborted map of %d tasks did not finish within 30 s", n)
	}
	if got := g["errs"].(*starlark.List).Len(); got < n-clientWindow {
		t.Errorf("aborting a map of %d tasks aborted %d, want at least the %d never sent", n, got, n-clientWindow)
	}
	expectNothingQueued(t, c)
}
