package engine

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestHeartbeatFigures checks what the dashboard reads from heartbeats:
// the machine's figures, failed tasks counted apart from done, and how
// long the running task has run.
func TestHeartbeatFigures(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1, Heartbeat: 20 * time.Millisecond})
	hbs := make(chan wire.Heartbeat, 1000)
	sub, err := h.nc.Subscribe(wire.HeartbeatFrom(d.id), func(m *nats.Msg) {
		var hb wire.Heartbeat
		if err := wire.UnmarshalMsg(m.Data, &hb); err != nil {
			t.Error(err)
			return
		}
		select {
		case hbs <- hb:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sub.Unsubscribe() })
	// next returns the first heartbeat from now on that satisfies ok.
	next := func(what string, ok func(wire.Heartbeat) bool) wire.Heartbeat {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case hb := <-hbs:
				if hb.Daemon == d.id && len(hb.Engines) == 1 && ok(hb) {
					return hb
				}
			case <-deadline:
				t.Fatalf("no heartbeat with %s within 10s", what)
			}
		}
	}

	hb := next("host figures", func(hb wire.Heartbeat) bool { return hb.Host != nil })
	if f := hb.Host; f.CPUs < 1 || f.MemTotal == 0 || f.MemUsed > f.MemTotal || len(f.Load) != 3 {
		t.Errorf("host figures = %+v, want CPUs >= 1, memory used <= total > 0 and three load averages (from /proc)", *f)
	}

	h.send(t, d, execute("fail('no')"))
	if r := h.result(t); r.Status != wire.StatusError {
		t.Fatalf("failing task: status %v, want error", r.Status)
	}
	h.send(t, d, execute("x = 1"))
	h.result(t)
	hb = next("2 done", func(hb wire.Heartbeat) bool { return hb.Engines[0].Done == 2 })
	if s := hb.Engines[0]; s.Failed != 1 || s.TaskFor != 0 || s.State != wire.StateIdle {
		t.Errorf("after one failed and one good task: failed %d, task age %d, state %v; want 1, 0, idle", s.Failed, s.TaskFor, s.State)
	}

	slow := execute("time.sleep(0.4)")
	slow.Label = "execute at t.star:1"
	h.send(t, d, slow)
	hb = next("a task running for 200ms", func(hb wire.Heartbeat) bool {
		return hb.Engines[0].TaskFor > int64(200*time.Millisecond)
	})
	if s := hb.Engines[0]; s.State != wire.StateBusy || s.Task != slow.Label || s.TaskFor > int64(10*time.Second) {
		t.Errorf("running: state %v, task %q, age %v; want busy, %q, under 10s", s.State, s.Task, time.Duration(s.TaskFor), slow.Label)
	}
	h.result(t)
}
