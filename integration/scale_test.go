// This file defines the scale checks of issue 7: 256 engines in several
// `pirun engine` processes registering with a `pirun hub` process, a
// load-balanced map over them, the hub's memory after a million tasks, and
// the idle memory of the hub and of an engine process. Speed is reported
// by benchmarks; only the memory bound, which does not depend on the
// machine's speed, is a test.
//
//	go test -run '^$' -bench 'Scale' -benchtime 3x -count 3 ./integration
//	go test -run 'TestHubMemory|TestIdleRSS' -v ./integration

package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// scaleHub is a `pirun hub --port 0` child process with its own PIRUN_DIR.
type scaleHub struct {
	dir        string // PIRUN_DIR
	proc       *child
	clientConn string
	engineConn string
}

// childEnv is the environment of a scale child process.
func childEnv(dir string) []string {
	return []string{"PIRUN_DIR=" + dir, "HOME=" + os.Getenv("HOME"), "PATH=" + os.Getenv("PATH")}
}

// child is a pirun child process.
type child struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startChild starts pirun with args; it is killed at cleanup.
func startChild(tb testing.TB, dir string, out io.Writer, args ...string) *child {
	tb.Helper()
	cmd := exec.Command(pirunBin, args...)
	cmd.Env = childEnv(dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start pirun %v: %v", args, err)
	}
	p := &child{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	tb.Cleanup(p.stop)
	return p
}

// pid returns the child's process id.
func (p *child) pid() int { return p.cmd.Process.Pid }

// stop kills the child and waits for it; it may be called again.
func (p *child) stop() {
	p.cmd.Process.Kill()
	<-p.done
}

func startScaleHub(tb testing.TB) *scaleHub {
	tb.Helper()
	dir := tb.TempDir()
	out := &syncBuffer{}
	h := &scaleHub{dir: dir, proc: startChild(tb, dir, out, "hub", "--port", "0")}
	sec := filepath.Join(dir, "default", "security")
	h.clientConn = filepath.Join(sec, "client-connection.toml")
	h.engineConn = filepath.Join(sec, "engine-connection.toml")
	waitFor(tb, 20*time.Second, "the hub to listen", func() bool { return strings.Contains(out.String(), "listening on") })
	return h
}

// startEngines starts procs `pirun engine -n each` processes.
func (h *scaleHub) startEngines(tb testing.TB, procs, each int) []*child {
	tb.Helper()
	cmds := make([]*child, procs)
	for i := range cmds {
		cmds[i] = startChild(tb, h.dir, io.Discard, "engine", "--connect", h.engineConn, "-n", strconv.Itoa(each))
	}
	return cmds
}

// client connects a client to the hub with its client connection file.
func (h *scaleHub) client(tb testing.TB) *client.Client {
	tb.Helper()
	cf, _, err := conf.LoadConnFile(h.clientConn)
	if err != nil {
		tb.Fatal(err)
	}
	ident, err := transport.NewIdentity()
	if err != nil {
		tb.Fatal(err)
	}
	nc, err := nats.Connect(strings.Join(cf.URLs, ","), nats.UserInfo(cf.User, cf.Password), ident.Option(),
		nats.CustomInboxPrefix(wire.ClientInbox(ident.ID())), nats.MaxReconnects(0))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := client.Connect(context.Background(), nc, client.Config{Identity: ident}, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// waitEngines waits up to timeout for n engines and returns how long it
// took.
func waitEngines(tb testing.TB, c *client.Client, n int, timeout time.Duration) time.Duration {
	tb.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := c.WaitForEngines(ctx, n); err != nil {
		tb.Fatal(err)
	}
	return time.Since(start)
}

// mapper returns a function that runs a load-balanced map of the identity
// over range(n), through Starlark as a user's script would.
func mapper(tb testing.TB, c *client.Client) func(n int) error {
	tb.Helper()
	const src = `
lv = Client().load_balanced_view()
def run(n):
    r = lv.map_sync(lambda x: x, range(n))
    if len(r) != n or r[-1] != n - 1:
        fail("map returned %d results, want %d" % (len(r), n))
`
	s := &api.Script{Client: c, Stdout: io.Discard}
	predecl, err := s.Predeclared()
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.Sources().Add("scale.star", []byte(src)); err != nil {
		tb.Fatal(err)
	}
	th := s.NewThread(context.Background(), "scale", ".")
	globals, err := starlark.ExecFileOptions(starlib.FileOptions(), th, "scale.star", src, predecl)
	if err != nil {
		tb.Fatal(err)
	}
	return func(n int) error {
		_, err := starlark.Call(th, globals["run"], starlark.Tuple{starlark.MakeInt(n)}, nil)
		return err
	}
}

// rssKB returns the resident set size of process pid in KiB.
func rssKB(pid int) (int, error) { return statusKB(pid, "VmRSS") }

// statusKB returns the field key (in kB) of /proc/PID/status.
func statusKB(pid int, key string) (int, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, key)
}

// rssDetail describes pid's resident memory: anonymous (heap, stacks)
// and file-backed (the binary's pages).
func rssDetail(pid int) string {
	anon, err1 := statusKB(pid, "RssAnon")
	file, err2 := statusKB(pid, "RssFile")
	if err1 != nil || err2 != nil {
		return "?"
	}
	return fmt.Sprintf("anon %d KiB + file %d KiB", anon, file)
}

func mustRSS(tb testing.TB, pid int) int {
	tb.Helper()
	kb, err := rssKB(pid)
	if err != nil {
		tb.Fatal(err)
	}
	return kb
}

// skipRace skips measurements that the race detector distorts.
func skipRace(tb testing.TB) {
	if raceEnabled {
		tb.Skip("memory and speed figures mean nothing with -race")
	}
}

// BenchmarkScaleRegister256 times 256 engines (8 processes × 32) from
// their processes' start until a client sees them all (goal ≤ 2 s).
func BenchmarkScaleRegister256(b *testing.B) {
	skipRace(b)
	var total time.Duration
	for b.Loop() {
		h := startScaleHub(b)
		c := h.client(b)
		start := time.Now()
		engines := h.startEngines(b, 8, 32)
		waitEngines(b, c, 256, time.Minute)
		total += time.Since(start)
		c.Close()
		for _, e := range engines {
			e.stop()
		}
		h.proc.stop()
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/register")
}

// BenchmarkScaleMap100k maps the identity over 100k items, one task each,
// on 256 engines in 8 processes (goal ≥ 50k tasks/s).
func BenchmarkScaleMap100k(b *testing.B) {
	skipRace(b)
	h := startScaleHub(b)
	c := h.client(b)
	engines := h.startEngines(b, 8, 32)
	waitEngines(b, c, 256, time.Minute)
	run := mapper(b, c)
	if err := run(1000); err != nil { // warm the engines' caches
		b.Fatal(err)
	}
	const n = 100_000
	hub0, eng0 := cpuSeconds(b, h.proc), cpuSeconds(b, engines...)
	for b.Loop() {
		if err := run(n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	// Where the time goes: CPU seconds per 100k tasks in the hub and in
	// the engine processes (the client is this process).
	b.ReportMetric((cpuSeconds(b, h.proc)-hub0)/float64(b.N), "hub-cpu-s/op")
	b.ReportMetric((cpuSeconds(b, engines...)-eng0)/float64(b.N), "engines-cpu-s/op")
}

// cpuSeconds returns the user + system CPU time of processes so far.
func cpuSeconds(tb testing.TB, procs ...*child) float64 {
	tb.Helper()
	var ticks int
	for _, p := range procs {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid()))
		if err != nil {
			tb.Fatal(err)
		}
		// Fields after the command's closing parenthesis; utime and
		// stime are the 14th and 15th of the line.
		rest := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		for _, f := range rest[11:13] {
			n, err := strconv.Atoi(f)
			if err != nil {
				tb.Fatal(err)
			}
			ticks += n
		}
	}
	return float64(ticks) / 100 // USER_HZ
}

// TestHubMemoryAfterMillionTasks checks that the hub keeps bounded task
// records: after a map of 1M tasks its RSS returns to within 10% of what
// it was idle. Both are the lowest RSS seen over a few seconds after a
// map, so that they are compared at the same point of the Go runtime's
// cycle: the hub hands freed memory back a second after a large load
// drained.
func TestHubMemoryAfterMillionTasks(t *testing.T) {
	skipRace(t)
	if testing.Short() {
		t.Skip("a 1M-task map takes tens of seconds")
	}
	h := startScaleHub(t)
	c := h.client(t)
	h.startEngines(t, 2, 4)
	waitEngines(t, c, 8, time.Minute)
	run := mapper(t, c)
	if err := run(10_000); err != nil {
		t.Fatal(err)
	}
	pid := h.proc.pid()
	idle := lowestRSS(t, pid, 3*time.Second)
	idleDetail := rssDetail(pid)
	start := time.Now()
	if err := run(1_000_000); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	peak, _ := statusKB(pid, "VmHWM")
	var now int
	deadline := time.Now().Add(30 * time.Second)
	for now = mustRSS(t, pid); now > idle*11/10 && time.Now().Before(deadline); now = mustRSS(t, pid) {
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("hub RSS: idle %d KiB (%s); 1M-task map in %v (%.0f tasks/s), peak RSS %d KiB; %v after it %d KiB (%s)",
		idle, idleDetail, took.Round(time.Millisecond), 1e6/took.Seconds(), peak,
		time.Since(start.Add(took)).Round(time.Millisecond), now, rssDetail(pid))
	if now > idle*11/10 {
		t.Errorf("hub RSS after a 1M-task map = %d KiB 30 s later, want ≤ %d KiB (idle %d KiB + 10%%)", now, idle*11/10, idle)
	}
}

// lowestRSS returns the lowest RSS of pid seen over d.
func lowestRSS(tb testing.TB, pid int, d time.Duration) int {
	low := mustRSS(tb, pid)
	for end := time.Now().Add(d); time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		low = min(low, mustRSS(tb, pid))
	}
	return low
}

// settledRSS returns pid's RSS once two readings 200 ms apart agree
// within 1%, or the last reading after 5 s.
func settledRSS(tb testing.TB, pid int) int {
	prev := mustRSS(tb, pid)
	for range 25 {
		time.Sleep(200 * time.Millisecond)
		now := mustRSS(tb, pid)
		if abs(now-prev) <= prev/100 {
			return now
		}
		prev = now
	}
	return prev
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// TestIdleRSS reports the idle RSS of a `pirun hub` process with 4
// engines registered and of a `pirun engine -n 4` process (goals ≤ 40 MB
// and ≤ 20 MB). It fails only far above the goals: RSS depends on the
// machine's page size and Go's runtime more than on pirun.
func TestIdleRSS(t *testing.T) {
	skipRace(t)
	h := startScaleHub(t)
	c := h.client(t)
	eng := h.startEngines(t, 1, 4)[0]
	waitEngines(t, c, 4, time.Minute)
	if err := mapper(t, c)(100); err != nil {
		t.Fatal(err)
	}
	hub, engine := settledRSS(t, h.proc.pid()), settledRSS(t, eng.pid())
	t.Logf("idle RSS: hub %.1f MB (goal ≤ 40), engine process with 4 engines %.1f MB (goal ≤ 20)",
		float64(hub)*1024/1e6, float64(engine)*1024/1e6)
	for _, p := range []struct {
		what     string
		kb, most int
	}{{"hub", hub, 80_000}, {"engine -n 4", engine, 40_000}} {
		if p.kb > p.most {
			t.Errorf("idle RSS of pirun %s = %d KiB, want ≤ %d KiB (twice the goal)", p.what, p.kb, p.most)
		}
	}
}
