// This file defines tests of `pirun bench` as a user runs it: the table,
// the JSON with the keys its --help documents, and usage errors.

package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// benchJSON is `pirun bench --json` as documented in its --help.
type benchJSON struct {
	Engines        int     `json:"engines"`
	Hosts          int     `json:"hosts"`
	Quick          bool    `json:"quick"`
	Samples        int     `json:"lat_samples"`
	LatencyUS      float64 `json:"lat_direct_us"`
	LatencyP99US   float64 `json:"lat_direct_p99_us"`
	Tasks          int     `json:"lb_tasks"`
	Chunk1         float64 `json:"lb_chunk1_tps"`
	Chunk100       float64 `json:"lb_chunk100_tps"`
	Async          float64 `json:"lb_apply_async_tps"`
	PushPullInts   int     `json:"pushpull_ints"`
	PushPullS      float64 `json:"pushpull_s"`
	ScatterInts    int     `json:"scatter_gather_ints"`
	ScatterGatherS float64 `json:"scatter_gather_s"`
	BlobBytes      int     `json:"blob_bytes"`
	PerEngine      []struct {
		ID   int     `json:"id"`
		Host string  `json:"host"`
		Push float64 `json:"push_mb_per_s"`
		Pull float64 `json:"pull_mb_per_s"`
	} `json:"per_engine"`
}

// parseBenchJSON decodes out strictly: every key documented, no other.
func parseBenchJSON(t testing.TB, out string) benchJSON {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	var b benchJSON
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("pirun bench --json printed %q: %v", out, err)
	}
	return b
}

func TestBenchQuickTable(t *testing.T) {
	r := runPirun(t, "", 2*time.Minute, "bench", "--quick", "-n", "2")
	if r.code != 0 {
		t.Fatalf("pirun bench --quick -n 2: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		"pirun bench: 2 engines on 1 host (local engines in this process)",
		"apply_sync round trip, one engine", "µs median", "µs p99 (200 calls)",
		"load-balanced map, 1k tasks, chunksize 1", "the same, chunksize 100", "items/s",
		"1k separate apply_async, then wait", "push + pull of a 20k-int list, one engine",
		"scatter + gather of a 10k list over 2 engines", "push / pull of a 256 KiB string, per engine",
		"  engine 0 (", "  engine 1 (",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("pirun bench --quick -n 2 printed:\n%s\nwant a line with %q", r.stdout, want)
		}
	}
	if !strings.Contains(r.stderr, "pirun bench: measuring bandwidth per engine") {
		t.Errorf("pirun bench --quick -n 2: stderr = %q, want progress lines", r.stderr)
	}
}

func TestBenchQuickJSON(t *testing.T) {
	r := runPirun(t, "", 2*time.Minute, "bench", "--quick", "-n", "2", "--json")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("pirun bench --quick -n 2 --json: exit %d, stderr %q, want 0 and nothing", r.code, r.stderr)
	}
	b := parseBenchJSON(t, r.stdout)
	if b.Engines != 2 || b.Hosts != 1 || !b.Quick || b.Samples != 200 || b.Tasks != 1000 {
		t.Errorf("pirun bench --json = %+v, want 2 engines, 1 host, quick, 200 samples, 1000 tasks", b)
	}
	for _, f := range []struct {
		key     string
		got     float64
		low, hi float64 // bounds no machine should leave
	}{
		{"lat_direct_us", b.LatencyUS, 1, 1e6},
		{"lat_direct_p99_us", b.LatencyP99US, b.LatencyUS, 1e7},
		{"lb_chunk1_tps", b.Chunk1, 10, 1e8},
		{"lb_chunk100_tps", b.Chunk100, 10, 1e9},
		{"lb_apply_async_tps", b.Async, 10, 1e8},
		{"pushpull_s", b.PushPullS, 1e-6, 60},
		{"scatter_gather_s", b.ScatterGatherS, 1e-6, 60},
	} {
		if !(f.got >= f.low && f.got <= f.hi) {
			t.Errorf("pirun bench --json %s = %v, want within [%v, %v]", f.key, f.got, f.low, f.hi)
		}
	}
	if len(b.PerEngine) != 2 {
		t.Fatalf("pirun bench --json per_engine = %+v, want 2 engines", b.PerEngine)
	}
	for i, pe := range b.PerEngine {
		if pe.ID != i || pe.Host == "" || !(pe.Push > 0) || !(pe.Pull > 0) {
			t.Errorf("pirun bench --json per_engine[%d] = %+v, want engine %d with a host and bandwidths", i, pe, i)
		}
	}
}

func TestBenchUsage(t *testing.T) {
	for _, test := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"bench", "--help"}, 0, "lb_chunk100_tps"},
		{[]string{"bench", "--nope"}, 2, "unknown flag --nope"},
		{[]string{"bench", "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"bench", "-n", "-1"}, 2, "want a number of engines"},
	} {
		r := runPirun(t, "", time.Minute, test.args...)
		if r.code != test.code || !strings.Contains(r.stdout+r.stderr, test.want) {
			t.Errorf("pirun %v = exit %d, %q %q; want exit %d and %q", test.args, r.code, r.stdout, r.stderr, test.code, test.want)
		}
	}
}
