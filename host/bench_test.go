package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/engine"
	"github.com/pirun-dev/pirun/starlib"
)

// startBenchCluster starts an in-process hub with n engines (none when n
// is 0) and returns a connected client; everything stops at cleanup.
func startBenchCluster(t *testing.T, n int) *Client {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	hub, err := NewHub(HubConfig{DontListen: true, Version: "test"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hub.Shutdown)
	if n > 0 {
		startBenchEngines(t, hub, n, log)
	}
	nc, err := nats.Connect("", hub.InProcess(), nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Connect(context.Background(), nc, ClientConfig{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func startBenchEngines(t *testing.T, hub *Hub, n int, log *slog.Logger) {
	dial := func(ctx context.Context, opts ...nats.Option) (*nats.Conn, error) {
		return nats.Connect("", append([]nats.Option{hub.InProcess(), nats.MaxReconnects(0)}, opts...)...)
	}
	d, err := engine.New(engine.Config{Engines: n, Version: "test"}, dial, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("engine daemon: %v", err)
		}
	})
}

func TestRunBenchQuick(t *testing.T) {
	c := startBenchCluster(t, 2)
	var figures []string
	rep, err := RunBench(context.Background(), c, BenchOptions{Quick: true, Progress: func(f string) { figures = append(figures, f) }})
	if err != nil {
		t.Fatal(err)
	}
	sizes := BenchOptions{Quick: true}.Sizes()
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
	c := startBenchCluster(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := RunBench(ctx, c, BenchOptions{Quick: true})
	var ne *NoEnginesError
	if !errors.As(err, &ne) {
		t.Errorf("RunBench with no engines = %v, want a NoEnginesError", err)
	}
}

func TestRunBenchCancelled(t *testing.T) {
	c := startBenchCluster(t, 1)
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stop the bench")
	_, err := RunBench(ctx, c, BenchOptions{Quick: true, Progress: func(f string) {
		if f == "apply_async" {
			cancel(stop)
		}
	}})
	if !errors.Is(err, stop) {
		t.Errorf("RunBench cancelled = %v, want %v", err, stop)
	}
}

func TestMedian(t *testing.T) {
	for _, test := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{[]time.Duration{5}, 5},
		{[]time.Duration{1, 3}, 2},
		{[]time.Duration{1, 2, 9}, 2},
		{[]time.Duration{1, 2, 4, 9}, 3},
	} {
		if got := median(test.in); got != test.want {
			t.Errorf("median(%v) = %v, want %v", test.in, got, test.want)
		}
	}
}

// runStar runs src on c and returns its globals.
func runStar(t *testing.T, c *Client, src string) starlark.StringDict {
	t.Helper()
	s := &Script{Client: c, Stdout: io.Discard}
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

// windowEmpty reports whether c holds nothing in its submission window.
func windowEmpty(c *Client) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.window.tasks == 0 && c.window.bytes == 0 && len(c.window.queue) == 0 && !c.window.sending
}

func TestWindowLargeMap(t *testing.T) {
	c := startBenchCluster(t, 2)
	n := 2*windowTasks + 17
	g := runStar(t, c, fmt.Sprintf(`
r = Client().load_balanced_view().map_sync(lambda x: 2 * x, range(%d))
ok = r == [2 * x for x in range(%d)]
`, n, n))
	if g["ok"] != starlark.True {
		t.Errorf("map_sync over %d items through the window returned wrong values", n)
	}
	pollFor(t, "the window to empty", func() bool { return windowEmpty(c) })
}

func TestWindowAbortUnsent(t *testing.T) {
	c := startBenchCluster(t, 1)
	n := 2 * windowTasks
	g := runStar(t, c, fmt.Sprintf(`
ar = Client().load_balanced_view().map_async(lambda x: time.sleep(0.001), range(%d))
ar.abort()
ok = ar.wait(timeout=30)
errs = [e for e in ar.errors() if e != None]
`, n))
	if g["ok"] != starlark.True {
		t.Fatalf("an aborted map of %d tasks did not finish within 30 s", n)
	}
	if got := g["errs"].(*starlark.List).Len(); got < n-windowTasks {
		t.Errorf("aborting a map of %d tasks aborted %d, want at least the %d never sent", n, got, n-windowTasks)
	}
	pollFor(t, "the window to empty", func() bool { return windowEmpty(c) })
}

// pollFor polls cond every 10 ms for up to 10 s.
func pollFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
