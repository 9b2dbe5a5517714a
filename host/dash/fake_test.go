package dash

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// fakeCluster is a test Source whose numbers move at each Snapshot: eight
// engines on four hosts (three Pis and a laptop), one long map gaining
// tasks, output lines arriving. It stands for the hub's registry.
type fakeCluster struct {
	rate *RateMeter
	tail *Tail

	mu     sync.Mutex
	calls  int
	filled int64 // the last second the rate meter was given tasks for
}

// fill counts the tasks of every second up to now along a wavy curve, so
// the meter reads like a cluster that works on (f.mu held or not shared).
func (f *fakeCluster) fill(now time.Time) {
	end := now.Unix() - 1
	if f.filled == 0 {
		f.filled = end - 300
	}
	for k := f.filled + 1; k <= end; k++ {
		x := float64(k%600) / 300
		n := 90 + 50*math.Sin(x*9.5) + 20*math.Sin(x*27)
		f.rate.Add(time.Unix(k, 0), int(n))
	}
	f.filled = max(f.filled, end)
}

// newFakeCluster returns a cluster with five minutes of rate history.
func newFakeCluster(now time.Time) *fakeCluster {
	f := &fakeCluster{rate: NewRateMeter(time.Second, 5*time.Minute), tail: NewTail(8)}
	f.fill(now)
	for id := range 8 {
		for k := range 5 {
			f.tail.Write(id, fmt.Sprintf("chunk %d: mean=%.4f n=%d", 40*id+k, 0.5+float64(id*k%7)/97, 25000))
		}
	}
	return f
}

var fakeHosts = []struct{ host, arch string }{
	{"rpi1", "linux/arm64"}, {"rpi2", "linux/arm64"}, {"rpi0", "linux/arm/v6"}, {"laptop", "linux/amd64"},
}

func ptr[T any](v T) *T { return &v }

// Snapshot returns the cluster one step further on than the last call.
func (f *fakeCluster) Snapshot() Snapshot {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	c := f.calls
	f.fill(time.Now())
	s := Snapshot{Hub: "nats://192.168.1.10:4222", Summary: Summary{Unassigned: 412}}
	for id := range 8 {
		h := fakeHosts[id/2]
		if id == 7 {
			h = fakeHosts[3]
		}
		e := Engine{ID: id, Host: h.host, Arch: h.arch, State: "busy", Queue: 2 + (id+c)%3,
			Done: uint64(120*id + 37*c), Task: fmt.Sprintf("map f #%d", 1800+8*c+id), TaskAge: float64((id*7+c)%23) / 10, Uptime: 3600}
		if id == 5 {
			e.State, e.Task, e.TaskAge, e.Queue = "idle", "", 0, 0
		}
		if id == 3 {
			e.Errors = 2
		}
		s.Engines = append(s.Engines, e)
		f.tail.Write(id, fmt.Sprintf("chunk %d: mean=%.4f n=%d", 1800+8*c+id, 0.5+float64((id*c)%11)/97, 25000))
	}
	load := func(v float64) *float64 { return ptr(v + float64(c%5)/20) }
	s.Hosts = []Host{
		{Host: "rpi1", Arch: "linux/arm64", CPUs: 4, CPUPercent: ptr(91.0 + float64(c%4)), Load1: load(3.62), Load5: load(3.1), Load15: load(2.2),
			MemUsed: 1_310_000_000, MemTotal: 3_977_000_000, TempC: ptr(71.3 + float64(c%3)/10), Throttled: ptr(uint32(0x80008)), Age: 0.4},
		{Host: "rpi2", Arch: "linux/arm64", CPUs: 4, CPUPercent: ptr(87.5), Load1: load(3.9), Load5: load(3.7), Load15: load(2.8),
			MemUsed: 2_210_000_000, MemTotal: 3_977_000_000, TempC: ptr(62.8), Throttled: ptr(uint32(0)), Age: 0.2},
		{Host: "rpi0", Arch: "linux/arm/v6", CPUs: 1, CPUPercent: ptr(99.0), Load1: load(1.4), Load5: load(1.2), Load15: load(1.1),
			MemUsed: 301_000_000, MemTotal: 427_000_000, TempC: ptr(81.2), Throttled: ptr(uint32(0x50005)), Age: 0.7},
		{Host: "laptop", Arch: "linux/amd64", CPUs: 8, CPUPercent: ptr(31.0), Load1: load(2.4), Load5: load(2.0), Load15: load(1.7),
			MemUsed: 9_600_000_000, MemTotal: 16_600_000_000, Age: 0.3},
	}
	total := 20000
	done := min(5200+173*c, total)
	s.Jobs = []Job{
		{ID: "c1f3-7", Client: "alice@laptop", Label: "map(simulate, 20000 items)", Done: done, Total: total, Failed: 3 + c/10, Age: 95 + float64(c)},
		{ID: "c1f3-8", Client: "alice@laptop", Label: "apply(calibrate) on 8 engines", Done: 5, Total: 8, Age: 4.2},
	}
	return s
}
