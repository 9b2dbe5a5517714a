// This file defines the transport's tests across processes (issue 14,
// items 2, 7 and 8): forged part headers sent with a client's real
// credentials to the hub's submit subject and to a daemon's task subject
// reserve nothing and are refused at once while real work goes on; a print
// larger than a NATS message streams to the terminal and ar.stdout; a
// stack overflow's traceback is a few lines.

package integration

import (
	"context"
	"fmt"
	"io"
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

// attacker is a raw NATS connection with the client credentials of h,
// subscribed to the reply subject it puts on its forged parts.
type attacker struct {
	nc      *nats.Conn
	id      string // its identity, the sender token of its subjects
	reply   string
	replies *nats.Subscription
}

func newAttacker(t testing.TB, h *scaleHub) *attacker {
	t.Helper()
	cf, _, err := conf.LoadConnFile(h.clientConn)
	if err != nil {
		t.Fatal(err)
	}
	// A client as pirun's are: an identity key signs the hub's nonce, and
	// the permissions the hub grants are pinned to it.
	ident, err := transport.NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(strings.Join(cf.URLs, ","), nats.UserInfo(cf.User, cf.Password), ident.Option(),
		nats.CustomInboxPrefix(wire.ClientInbox(ident.ID())), nats.MaxReconnects(0))
	if err != nil {
		t.Fatalf("connect with the client credentials: %v", err)
	}
	t.Cleanup(nc.Close)
	a := &attacker{nc: nc, id: ident.ID(), reply: wire.ClientAcks(ident.ID())}
	if a.replies, err = nc.SubscribeSync(a.reply); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return a
}

// forge publishes a 64 KiB part with header on subj.
func (a *attacker) forge(t testing.TB, subj, header string) {
	t.Helper()
	a.forgeN(t, subj, header, 64<<10)
}

// forgeN publishes a part of n bytes with header on subj.
func (a *attacker) forgeN(t testing.TB, subj, header string, n int) {
	t.Helper()
	m := &nats.Msg{Subject: subj, Reply: a.reply, Data: make([]byte, n), Header: nats.Header{}}
	m.Header.Set(wire.HeaderPart, header)
	if err := a.nc.PublishMsg(m); err != nil {
		t.Fatalf("publish a forged part on %s: %v", subj, err)
	}
}

// refusal waits up to 5 s for the receiver's answer to a forged part of
// stream (skipping answers to other streams) and returns its reason.
func (a *attacker) refusal(t testing.TB, stream, what string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, err := a.replies.NextMsg(time.Until(deadline))
		if err != nil {
			t.Fatalf("%s: no answer within 5s (%v), want a refusal at once", what, err)
		}
		if string(m.Data) != stream {
			continue
		}
		reason := m.Header.Get(transport.HeaderRefused)
		if reason == "" {
			t.Fatalf("%s: acknowledged, want a refusal", what)
		}
		return reason
	}
}

// starRunner runs Starlark source as a user's script on client c and
// returns what it printed.
func starRunner(t testing.TB, c *client.Client) func(name, src string) (string, error) {
	return func(name, src string) (string, error) {
		var out strings.Builder
		s := &api.Script{Client: c, Stdout: &out}
		predecl, err := s.Predeclared()
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Sources().Add(name, []byte(src)); err != nil {
			t.Fatal(err)
		}
		_, err = starlark.ExecFileOptions(starlib.FileOptions(), s.NewThread(context.Background(), name, "."), name, src, predecl)
		return out.String(), err
	}
}

// TestForgedPartHeaders reproduces issue 14's item 2 with the client's
// credentials: parts announcing 1 GiB on the hub's submit subject and on
// a daemon's task subject are refused at once with the reason, and parts
// announcing sizes within the bound from many made-up senders hold only
// the bytes sent. Meanwhile real submissions over one NATS message, load
// balanced and direct, complete, and the hub's and engines' memory stays
// flat.
func TestForgedPartHeaders(t *testing.T) {
	h := startScaleHub(t)
	engines := h.startEngines(t, 1, 2)
	c := h.client(t)
	waitEngines(t, c, 2, time.Minute)
	daemon, err := c.DaemonOf(0)
	if err != nil {
		t.Fatal(err)
	}
	run := starRunner(t, c)
	const bigSrc = `
big = "x" * (12 << 20)  # over the hub's 8 MiB messages: sent in parts
def size(s):
    return len(s)
c = Client()
print(c.load_balanced_view().apply_sync(size, big), c[:].apply_sync(size, big))
`
	if out, err := run("big.star", bigSrc); err != nil || out != "12582912 [12582912, 12582912]\n" {
		t.Fatalf("a 12 MiB argument before the attack: %q, %v", out, err)
	}
	hubPID, enginePID := h.proc.pid(), engines[0].pid()
	hubRSS, engineRSS := settledRSS(t, hubPID), settledRSS(t, enginePID)

	a := newAttacker(t, h)
	// On the subjects the hub lets this client publish: ending in its own
	// identity, the token receivers bound memory by.
	for _, subj := range []string{wire.SubmitFrom(a.id), wire.DaemonTasksFrom(daemon, a.id)} {
		for i := range 20 {
			a.forge(t, subj, "st0 0 2 1072693248")
			reason := a.refusal(t, "st0", "a part announcing 1 GiB on "+subj)
			if i == 0 && !strings.Contains(reason, "1072693248 bytes, over the") {
				t.Errorf("the refusal of a part announcing 1 GiB on %s says %q, want the size and the bound", subj, reason)
			}
		}
		for i := range 200 { // made-up senders, each announcing 200 MB
			a.forge(t, subj, wire.PartHeader("forger"+wire.NewID(), 0, 2, 200_000_000))
			if i%50 == 0 {
				a.nc.Flush()
			}
		}
		a.nc.Flush()
	}

	start := time.Now()
	if out, err := run("big.star", bigSrc); err != nil || out != "12582912 [12582912, 12582912]\n" {
		t.Errorf("a 12 MiB argument during the attack: %q, %v; want both applies done", out, err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("a 12 MiB argument during the attack took %v, want no stall", d)
	}
	// 400 forged parts of 64 KiB held are 25 MiB per process at most (the
	// announced sizes are 80 GB and 43 GB); before, one header reserved 1 GiB.
	// The race detector's shadow memory multiplies what is held several
	// times over: its builds only log the figures.
	for _, p := range []struct {
		name      string
		pid, base int
	}{{"hub", hubPID, hubRSS}, {"engine", enginePID, engineRSS}} {
		now := settledRSS(t, p.pid)
		t.Logf("%s RSS: %d KiB before the forged parts, %d KiB after", p.name, p.base, now)
		if !raceEnabled && now > p.base+128<<10 {
			t.Errorf("%s RSS after the forged parts = %d KiB, want within 128 MiB of %d KiB before them (a 12 MiB apply ran since)", p.name, now, p.base)
		}
	}
}

// runOnHub runs the script src with the client connection file of h and
// returns what pirun did.
func runOnHub(t *testing.T, h *scaleHub, name, src string) (result, time.Duration) {
	t.Helper()
	dir := writeScript(t, name, src)
	start := time.Now()
	r := runCmd(t, 90*time.Second, func(cmd *exec.Cmd) { cmd.Dir = dir; cmd.Env = childEnv(h.dir) }, "--connect", h.clientConn, name)
	return r, time.Since(start)
}

// TestLargePrintStreams prints 10 MiB at once on an engine process (issue
// 14, item 7: it stalled 60 s and never arrived): the line reaches the
// terminal with its engine prefix, and ar.stdout, with no stall.
func TestLargePrintStreams(t *testing.T) {
	h := startScaleHub(t)
	h.startEngines(t, 1, 1)
	r, took := runOnHub(t, h, "print.star", `
def shout():
    print("y" * (10 << 20))
    return 1
c = Client()
c.wait_for_engines(1, timeout=30)
ar = c[0].apply_async(shout)
print("result", ar.get(timeout=30), "stdout", len(ar.stdout))
`)
	if r.code != 0 || !strings.Contains(r.stdout, "result 1 stdout 10485761\n") {
		t.Fatalf("a 10 MiB print: exit %d, stdout %.300q, stderr %.2000q; want the result and ar.stdout of 10485761 bytes", r.code, r.stdout, r.stderr)
	}
	var line string
	for l := range strings.Lines(r.stdout) {
		if strings.HasPrefix(l, "[engine 0 ") {
			line = l
		}
	}
	_, text, _ := strings.Cut(line, "] ")
	if text != strings.Repeat("y", 10<<20)+"\n" {
		t.Errorf("a 10 MiB print: the terminal shows %d bytes after an [engine 0 …] prefix, want the 10485761 printed", len(text))
	}
	if took > 30*time.Second {
		t.Errorf("a 10 MiB print took %v, want no stall", took)
	}
}

// TestStackOverflowBacktrace overflows the stack on an engine process
// (issue 14, item 8: 100,006 identical frames, 2.3 MB on stderr): the
// RemoteError's traceback keeps the first and last frames and counts the
// repeated ones.
func TestStackOverflowBacktrace(t *testing.T) {
	h := startScaleHub(t)
	h.startEngines(t, 1, 1)
	r, _ := runOnHub(t, h, "deep.star", `
def down(n):
    return down(n + 1)
c = Client()
c.wait_for_engines(1, timeout=30)
c[0].apply_sync(down, 0)
`)
	for _, want := range []string{"RemoteError", "deep.star:3:16: in down\n  deep.star:3:16: in down\n  deep.star:3:16: in down\n  [Previous line repeated 99", "more times]", "stack overflow"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("a stack overflow on an engine: stderr %.3000q lacks %q", r.stderr, want)
		}
	}
	if r.code == 0 || len(r.stderr) > 4096 {
		t.Errorf("a stack overflow on an engine: exit %d, %d bytes on stderr; want a failure in a few lines:\n%.3000s", r.code, len(r.stderr), r.stderr)
	}
}

// BenchmarkHubRSSForgedParts runs a load-balanced map of 1M tiny tasks
// through a clean hub, through a hub that first received issue 14's
// forged part headers (400 parts of 64 KiB announcing 1 GiB, with the
// client's credentials), and through a hub that first received 300 parts
// of 64 KiB from made-up senders announcing 200 MB each (within the
// bounds: their bytes are held until they stall, 30 s). It reports each
// hub's peak RSS during the map and its lowest RSS over 3 s after it, and
// fails when the hub attacked as in the issue peaks more than 10% above
// the clean one. The held bytes of the third are the attacker's 19 MiB,
// by design.
//
//	go test -run '^$' -bench HubRSSForgedParts -benchtime 1x -v ./integration
func BenchmarkHubRSSForgedParts(b *testing.B) {
	skipRace(b)
	const tasks = 1_000_000
	measure := func(forged func(a *attacker)) (peak, after int, took time.Duration) {
		h := startScaleHub(b)
		engines := h.startEngines(b, 2, 4)
		c := h.client(b)
		waitEngines(b, c, 8, time.Minute)
		run := mapper(b, c)
		if err := run(10_000); err != nil {
			b.Fatal(err)
		}
		pid := h.proc.pid()
		if forged != nil {
			a := newAttacker(b, h)
			forged(a)
			if err := a.nc.Flush(); err != nil {
				b.Fatal(err)
			}
			lowestRSS(b, pid, 3*time.Second) // the forged parts handled
		}
		// The peak is the map's: not the moment the forged parts arrived
		// (25 MiB read from the network, whatever the hub does with them).
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
			b.Fatalf("reset the hub's peak RSS: %v", err)
		}
		start := time.Now()
		if err := run(tasks); err != nil {
			b.Fatal(err)
		}
		took = time.Since(start)
		peak, err := statusKB(pid, "VmHWM")
		if err != nil {
			b.Fatal(err)
		}
		after = lowestRSS(b, pid, 3*time.Second)
		c.Close()
		for _, e := range engines {
			e.stop()
		}
		h.proc.stop()
		return peak, after, took
	}
	issue := func(a *attacker) {
		for range 400 {
			a.forge(b, wire.SubmitFrom(a.id), "st0 0 2 1072693248")
		}
	}
	inBound := func(a *attacker) {
		for range 300 {
			a.forge(b, wire.SubmitFrom(a.id), wire.PartHeader("forger"+wire.NewID(), 0, 2, 200_000_000))
		}
	}
	for range b.N {
		cleanPeak, cleanAfter, cleanTook := measure(nil)
		b.Logf("clean hub: peak RSS %d KiB, after the map %d KiB (%d tasks in %v)", cleanPeak, cleanAfter, tasks, cleanTook.Round(time.Millisecond))
		b.ReportMetric(float64(cleanPeak), "clean-peak-KiB")
		var issuePeak int
		for _, v := range []struct {
			name string
			f    func(*attacker)
		}{{"issue's forged headers", issue}, {"in-bound forged parts", inBound}} {
			peak, after, took := measure(v.f)
			b.Logf("%s: peak RSS %d KiB (%+.1f%%), after the map %d KiB (%+.1f%%) (%d tasks in %v)", v.name,
				peak, 100*float64(peak-cleanPeak)/float64(cleanPeak), after, 100*float64(after-cleanAfter)/float64(cleanAfter), tasks, took.Round(time.Millisecond))
			b.ReportMetric(float64(peak), strings.ReplaceAll(strings.ReplaceAll(v.name, "'", ""), " ", "-")+"-peak-KiB")
			if issuePeak == 0 {
				issuePeak = peak
			}
		}
		if issuePeak > cleanPeak*11/10 {
			b.Errorf("the hub attacked as in issue 14 peaks at %d KiB RSS, want within 10%% of the clean hub's %d KiB", issuePeak, cleanPeak)
		}
	}
}

// pushPullSrc pushes an array of n float64s to engine 0 and pulls it back.
const pushPullSrc = `
c = Client()
e = c[0]
big = num.arange(%d, dtype="float64")
e.push({"big": big}, block=True)
back = e.pull("big", block=True)
print(len(back), num.array_equal(back, big))
`

// TestForgedPartAcks floods, while a client pushes and pulls a 40 MB
// array, the acknowledgement subjects of both directions with forged
// refusals and acknowledgements: a rogue daemon on the shared engine
// credentials answers for the client's streams, a rogue client for the
// engine's. Stream ids were "sender-1", "sender-2"…: a forged refusal
// aborted the transfer, forged acknowledgements let it overrun its window.
// Now only the receiver, which reads the random stream ids, can answer:
// the transfer completes, intact.
func TestForgedPartAcks(t *testing.T) {
	h := startScaleHub(t)
	h.startEngines(t, 1, 1)
	c := h.client(t)
	waitEngines(t, c, 1, time.Minute)
	daemon, err := c.DaemonOf(0)
	if err != nil {
		t.Fatal(err)
	}
	rogueEngine, _, engineErrs := rawConnect(t, loadConnFile(t, h.engineConn))
	rogueClient, _, clientErrs := rawConnect(t, loadConnFile(t, h.clientConn))
	ctx, cancel := context.WithCancel(context.Background())
	flooded := make(chan int, 2)
	flood := func(nc *nats.Conn, subj, sender string) {
		n := 0
		defer func() { flooded <- n }()
		for ctx.Err() == nil {
			for i := 1; i <= 64; i++ {
				stream := []byte(fmt.Sprintf("%s-%s", sender, strconv.FormatUint(uint64(i), 36)))
				nc.PublishMsg(&nats.Msg{Subject: subj, Data: stream, Header: nats.Header{transport.HeaderRefused: {"forged refusal"}}})
				nc.Publish(subj, stream)
				n += 2
			}
			if err := nc.Flush(); err != nil {
				t.Errorf("flush the forged acknowledgements on %s: %v", subj, err)
				return
			}
			time.Sleep(time.Millisecond) // pace the flood, not a synchronisation: the machine is shared
		}
	}
	go flood(rogueEngine, wire.ClientAcks(c.ID()), c.ID())
	go flood(rogueClient, wire.DaemonAcks(daemon), daemon)
	out, err := starRunner(t, c)("pushpull.star", fmt.Sprintf(pushPullSrc, 5_000_000))
	cancel()
	sent := <-flooded + <-flooded
	if err != nil || out != "5000000 True\n" {
		t.Errorf("push and pull of 40 MB under forged acknowledgements: %q, %v; want the array back intact", out, err)
	}
	for role, errs := range map[string]chan error{"engine": engineErrs, "client": clientErrs} {
		select {
		case err := <-errs:
			t.Errorf("the rogue %s's forged acknowledgements: %v; want them delivered (else this test proves nothing)", role, err)
		default:
		}
	}
	if sent < 256 {
		t.Errorf("%d forged acknowledgements sent during the transfer, want rounds of them", sent)
	}
	t.Logf("%d forged acknowledgements and refusals sent during the transfer", sent)
}

// TestPartBoundPerIdentity sets an engine's reassembly bounds in its
// [engine] table (32 MiB per sender) and has a client with the real
// credentials hold 24 MiB of a message whose stream id claims to be a
// victim client's. The bound counts the bytes against the identity the
// subject proves: the victim's 16 MB push completes, and the attacker's
// next message is refused for its own bound, named with its identity.
func TestPartBoundPerIdentity(t *testing.T) {
	h := startScaleHub(t)
	cfg := filepath.Join(t.TempDir(), "engine.toml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `[engine]
connect = %q
engines = 1
reassembly_per_sender = "32MiB"
reassembly_total = "256MiB"
`, h.engineConn), 0o644); err != nil {
		t.Fatal(err)
	}
	startChild(t, h.dir, io.Discard, "engine", "--config", cfg)
	c := h.client(t)
	waitEngines(t, c, 1, time.Minute)
	daemon, err := c.DaemonOf(0)
	if err != nil {
		t.Fatal(err)
	}
	a := newAttacker(t, h)
	subj := wire.DaemonTasksFrom(daemon, a.id)
	const part, size = 4 << 20, 30 << 20 // 8 parts, the last short
	claimed := c.ID() + "-1"
	for i := range 6 {
		a.forgeN(t, subj, wire.PartHeader(claimed, i, 8, size), part)
	}
	if err := a.nc.Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		m, err := a.replies.NextMsg(10 * time.Second)
		if err != nil {
			t.Fatalf("part %d of the attacker's message: no acknowledgement within 10s: %v", i, err)
		}
		if reason := m.Header.Get(transport.HeaderRefused); reason != "" || string(m.Data) != claimed {
			t.Fatalf("part %d of the attacker's message: answer %q, refused %q; want it held and acknowledged", i, m.Data, reason)
		}
	}

	out, err := starRunner(t, c)("pushpull.star", fmt.Sprintf(pushPullSrc, 2_000_000))
	if err != nil || out != "2000000 True\n" {
		t.Errorf("the victim's 16 MB push and pull while an attacker holds 24 MiB under its name: %q, %v; want it done (the bound is the attacker's)", out, err)
	}

	a.forgeN(t, subj, wire.PartHeader(claimed, 6, 8, size), part) // 28 MiB held
	a.forgeN(t, subj, wire.PartHeader("own-1", 0, 2, 16<<20), 8<<20-4096)
	reason := a.refusal(t, "own-1", "the attacker's second message past its 32 MiB")
	if !strings.Contains(reason, "sender "+a.id+" would hold") || !strings.Contains(reason, "bound of 33554432") {
		t.Errorf("the attacker's second message is refused with %q, want its own identity and the 32 MiB bound of the [engine] table", reason)
	}
}
