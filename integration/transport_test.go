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
	"os"
	"os/exec"
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
	a := &attacker{nc: nc, reply: wire.ClientAcks(ident.ID())}
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
	m := &nats.Msg{Subject: subj, Reply: a.reply, Data: make([]byte, 64<<10), Header: nats.Header{}}
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
	for _, subj := range []string{wire.SubjectSubmit, wire.DaemonTasks(daemon)} {
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
			a.forge(b, wire.SubjectSubmit, "st0 0 2 1072693248")
		}
	}
	inBound := func(a *attacker) {
		for range 300 {
			a.forge(b, wire.SubjectSubmit, wire.PartHeader("forger"+wire.NewID(), 0, 2, 200_000_000))
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
