package hub

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/host/dash"
	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

func startDashHub(t *testing.T) *Hub {
	t.Helper()
	h, err := New(Config{DontListen: true, Version: "test", HTTP: "127.0.0.1:0", Heartbeat: 20 * time.Millisecond}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	return h
}

func status(t *testing.T, h *Hub) dash.Snapshot {
	t.Helper()
	resp, err := http.Get(h.DashURL() + "api/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var s dash.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestDashIdleCostsNothing checks that the hub reads engine output and
// job reports only while a page watches: no subscription before, two
// while the event stream is open, none after.
func TestDashIdleCostsNothing(t *testing.T) {
	h := startDashHub(t)
	before := h.ns.NumSubscriptions()
	status(t, h) // polling the API subscribes to nothing
	if n := h.ns.NumSubscriptions(); n != before {
		t.Errorf("subscriptions after GET /api/status = %d, want %d", n, before)
	}
	resp, err := http.Get(h.DashURL() + "api/events")
	if err != nil {
		t.Fatal(err)
	}
	startest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if n := h.ns.NumSubscriptions(); n != before+2 {
			return fmt.Errorf("subscriptions while watched: %d, want %d", n, before+2)
		}
		return nil
	})
	resp.Body.Close()
	startest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if n := h.ns.NumSubscriptions(); n != before {
			return fmt.Errorf("subscriptions once the page left: %d, want %d", n, before)
		}
		return nil
	})
}

// TestDashFromHeartbeats checks how a daemon's heartbeat becomes the
// engines' rows and its host's figures, and a lost engine's row.
func TestDashFromHeartbeats(t *testing.T) {
	h := startDashHub(t)
	nc, err := nats.Connect("", h.InProcess())
	if err != nil {
		t.Fatal(err)
	}
	cid, _ := nc.GetClientID()
	reg, _ := wire.MarshalMsg(&wire.Register{Protocol: wire.ProtocolVersion, Version: "test", GOOS: "linux", GOARCH: "arm", GOARM: "6",
		Host: "rpi0", Daemon: "D1", Engines: 2, ConnID: cid})
	m, err := nc.Request(wire.SubjectRegister, reg, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ok wire.Registered
	if err := wire.UnmarshalMsg(m.Data, &ok); err != nil || len(ok.IDs) != 2 {
		t.Fatalf("registered = %+v, %v", ok, err)
	}
	cpu, temp, thr := 97.5, 81.25, uint32(0x50005)
	hb := wire.Heartbeat{Daemon: "D1", Engines: []wire.EngineStat{
		{ID: ok.IDs[0], State: wire.StateBusy, Task: "f at job.star:3", Queue: 4, Done: 10, Failed: 2, TaskFor: int64(3 * time.Second), Uptime: int64(time.Minute)},
		{ID: ok.IDs[1], State: wire.StateIdle, Done: 5},
	}, Host: &wire.HostFigures{CPUs: 1, CPUPercent: &cpu, Load: []float64{1.5, 1.25, 1}, MemUsed: 300 << 20, MemTotal: 427 << 20, TempC: &temp, Throttled: &thr}}
	data, _ := wire.MarshalMsg(&hb)
	nc.Publish(wire.SubjectHeartbeat, data)
	var s dash.Snapshot
	startest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if s = status(t, h); len(s.Hosts) != 1 || len(s.Engines) != 2 {
			return fmt.Errorf("%d hosts and %d engines, want 1 and 2", len(s.Hosts), len(s.Engines))
		}
		return nil
	})
	e := s.Engines[0]
	if e.Host != "rpi0" || e.Arch != "linux/arm/v6" || e.State != "busy" || e.Task != "f at job.star:3" || e.Queue != 4 ||
		e.Done != 10 || e.Errors != 2 || e.TaskAge < 3 || e.TaskAge > 8 || e.Uptime < 60 {
		t.Errorf("engine row = %+v, want rpi0 linux/arm/v6 busy on f at job.star:3 for 3s+, queue 4, done 10, errors 2", e)
	}
	if e := s.Engines[1]; e.State != "idle" || e.Task != "" || e.TaskAge != 0 || e.Done != 5 {
		t.Errorf("idle engine row = %+v", e)
	}
	ho := s.Hosts[0]
	if ho.Host != "rpi0" || ho.Arch != "linux/arm/v6" || ho.CPUs != 1 || *ho.CPUPercent != cpu || *ho.Load1 != 1.5 || *ho.Load5 != 1.25 ||
		*ho.Load15 != 1 || ho.MemUsed != 300<<20 || ho.MemTotal != 427<<20 || *ho.TempC != temp || ho.Engines != 2 || len(ho.ThrottleFlags) != 4 || ho.Age > 5 {
		t.Errorf("host row = %+v, want the heartbeat's figures, loads 1.5/1.25/1 and 4 throttle flags", ho)
	}
	if s.Summary.Done != 15 || s.Summary.Errors != 2 || s.Summary.Busy != 1 || s.Summary.Queued != 4 {
		t.Errorf("summary = %+v, want done 15, errors 2, busy 1, queued 4", s.Summary)
	}

	// Tasks done since the previous heartbeat go to the tasks/s meter.
	hb.Engines[0].Done, hb.Engines[1].Done = 40, 25
	data, _ = wire.MarshalMsg(&hb)
	nc.Publish(wire.SubjectHeartbeat, data)
	startest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		if got := h.dash.rate.Samples(time.Now().Add(2 * time.Second)); sum(got) != 50 {
			return fmt.Errorf("tasks in the meter: %v, want 50", sum(got))
		}
		return nil
	})

	nc.Close() // the daemon's connection closes: its engines are lost
	startest.CheckFor(t, 5*time.Second, 5*time.Millisecond, func() error {
		s = status(t, h)
		if len(s.Engines) != 2 || s.Engines[0].State != "lost" || s.Engines[1].State != "lost" {
			return fmt.Errorf("engines %+v, want 2 lost", s.Engines)
		}
		return nil
	})
	if len(s.Hosts) != 0 {
		t.Errorf("hosts = %+v after their daemon was lost, want none", s.Hosts)
	}
}

func sum(xs []float64) float64 {
	t := 0.0
	for _, x := range xs {
		t += x
	}
	return t
}

// BenchmarkDashHeartbeat is what the dashboard adds to each heartbeat of
// a daemon of 4 engines when nobody watches: counting the tasks done.
func BenchmarkDashHeartbeat(b *testing.B) {
	f := &dashFeed{rate: dash.NewRateMeter(0, 0)}
	prev := []wire.EngineStat{{ID: 0, Done: 1}, {ID: 1, Done: 2}, {ID: 2, Done: 3}, {ID: 3, Done: 4}}
	cur := []wire.EngineStat{{ID: 0, Done: 2}, {ID: 1, Done: 3}, {ID: 2, Done: 4}, {ID: 3, Done: 5}}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		f.heartbeat(now, prev, cur)
	}
}
