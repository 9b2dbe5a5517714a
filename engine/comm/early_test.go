package comm

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// earlyMux is a Mux of one daemon ("self") running engine 1, with a clock
// the test moves.
func earlyMux(t *testing.T) (*Mux, func(time.Duration)) {
	t.Helper()
	m := NewMux("testhost", func(id int) bool { return id == 1 }, slog.New(slog.DiscardHandler))
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	if _, err := m.Attach(1); err != nil {
		t.Fatal(err)
	}
	return m, func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
}

// sendEarly hands engine 1's subscription a data message of size bytes
// for job, as daemon from sent it through the hub.
func sendEarly(t *testing.T, m *Mux, from, job string, size int) {
	t.Helper()
	data, err := wire.MarshalMsg(&wire.CommMsg{Job: job, Kind: wire.CommData, Src: 0, Dst: 1, Data: make([]byte, size)})
	if err != nil {
		t.Fatal(err)
	}
	m.onMsg(1)(&nats.Msg{Subject: wire.CommTo("self", 1, from), Data: data})
}

// earlyHeld returns the bytes of early messages engine 1's pending ranks
// hold, per sending daemon.
func earlyHeld(m *Mux) map[string]int {
	m.mu.Lock()
	recs := make([]*Rank, 0, len(m.ranks))
	for _, rs := range m.ranks {
		recs = append(recs, rs)
	}
	m.mu.Unlock()
	held := make(map[string]int)
	for _, rs := range recs {
		rs.mu.Lock()
		for _, e := range rs.early {
			held[e.from] += len(e.m.Data)
		}
		rs.mu.Unlock()
	}
	return held
}

// TestMuxEarlyFloodBounded: a daemon flooding messages for jobs that never
// start is held to its bound, and another daemon's messages still fit.
func TestMuxEarlyFloodBounded(t *testing.T) {
	m, _ := earlyMux(t)
	for i := range 100 { // 100 MiB, over 64 MiB
		sendEarly(t, m, "ROGUE", "flood-"+string(rune('A'+i%26))+strings.Repeat("x", i/26), 1<<20)
	}
	sendEarly(t, m, "GOOD", "real", 1<<10)
	held := earlyHeld(m)
	if held["ROGUE"] > earlyPerSender {
		t.Errorf("a daemon flooding early messages has %d MiB held; want at most %d MiB", held["ROGUE"]>>20, earlyPerSender>>20)
	}
	if held["GOOD"] != 1<<10 {
		t.Errorf("another daemon's early message was not kept (%d bytes held) after one daemon's flood", held["GOOD"])
	}
}

// TestMuxEarlyOverflowFailsJob: a job whose early messages from a daemon
// that runs one of its ranks pass the bound fails with an error saying so
// when its task starts, instead of hanging on the dropped messages.
func TestMuxEarlyOverflowFailsJob(t *testing.T) {
	m, _ := earlyMux(t)
	for range 70 { // 70 MiB from the daemon of rank 0
		sendEarly(t, m, "REAL", "j", 1<<20)
	}
	task := &wire.Task{ID: 1, Comm: &wire.Comm{Job: "j", Ranks: []int{0, 1}, Daemons: []string{"REAL", "self"}}}
	rs := m.Begin(1, task)
	if rs == nil {
		t.Fatal("Begin made no rank for engine 1")
	}
	rs.mu.Lock()
	broken := rs.broken
	rs.mu.Unlock()
	if broken == nil || !strings.Contains(broken.Error(), "lost messages from daemon REAL") {
		t.Fatalf("the job whose early messages passed the bound has error %v; want one naming the messages lost from REAL", broken)
	}
	if held := earlyHeld(m); held["REAL"] != 0 {
		t.Errorf("%d bytes of early messages still held after the task started", held["REAL"])
	}
	m.mu.Lock()
	all, from := m.earlyAll, m.earlyFrom["REAL"]
	m.mu.Unlock()
	if all != 0 || from != 0 {
		t.Errorf("the bounds still count %d bytes (%d from REAL) after the task took its messages", all, from)
	}
}

// TestMuxPendingRankExpires: a rank whose task never starts drops its
// early messages after pendingStall, and a task starting after that
// learns they were lost.
func TestMuxPendingRankExpires(t *testing.T) {
	m, advance := earlyMux(t)
	sendEarly(t, m, "REAL", "never", 1<<20)
	advance(pendingStall + time.Second)
	sendEarly(t, m, "OTHER", "later", 10) // any message looks for stalled ranks
	if held := earlyHeld(m); held["REAL"] != 0 {
		t.Fatalf("a rank pending past %s still holds %d bytes of early messages", pendingStall, held["REAL"])
	}
	task := &wire.Task{ID: 1, Comm: &wire.Comm{Job: "never", Ranks: []int{0, 1}, Daemons: []string{"REAL", "self"}}}
	rs := m.Begin(1, task)
	rs.mu.Lock()
	broken := rs.broken
	rs.mu.Unlock()
	if broken == nil || !strings.Contains(broken.Error(), "lost messages from daemon REAL") {
		t.Errorf("a task starting after its early messages expired has error %v; want one naming the messages lost", broken)
	}
}
