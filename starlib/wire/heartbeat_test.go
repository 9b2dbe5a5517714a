package wire

import (
	"reflect"
	"testing"
)

// oldEngineStat and oldHeartbeat are the envelopes before the dashboard's
// fields: daemons and hubs of either shape must understand each other.
type oldEngineStat struct {
	ID     int         `wire:"1"`
	State  EngineState `wire:"2"`
	Task   string      `wire:"3"`
	Queue  int         `wire:"4"`
	Done   uint64      `wire:"5"`
	Uptime int64       `wire:"6"`
}

type oldHeartbeat struct {
	Daemon  string          `wire:"1"`
	Engines []oldEngineStat `wire:"2"`
	Leaving bool            `wire:"3"`
}

func TestHeartbeatHostFigures(t *testing.T) {
	cpu, temp, thr := 42.5, 61.2, uint32(0x50005)
	hb := Heartbeat{Daemon: "d", Engines: []EngineStat{{ID: 3, State: StateBusy, Task: "f at a.star:2", Queue: 2, Done: 7, Uptime: 9e9, Failed: 1, TaskFor: 25e8}},
		Host: &HostFigures{CPUs: 4, CPUPercent: &cpu, Load: []float64{1.5, 1.25, 0.5}, MemUsed: 1 << 30, MemTotal: 4 << 30, TempC: &temp, Throttled: &thr}}
	data, err := MarshalMsg(&hb)
	if err != nil {
		t.Fatal(err)
	}
	var got Heartbeat
	if err := UnmarshalMsg(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, hb) {
		t.Errorf("round trip = %+v, want %+v", got, hb)
	}

	// A hub of before reads the new heartbeat's old fields.
	var old oldHeartbeat
	if err := UnmarshalMsg(data, &old); err != nil {
		t.Fatalf("old decoder: %v", err)
	}
	if want := (oldEngineStat{ID: 3, State: StateBusy, Task: "f at a.star:2", Queue: 2, Done: 7, Uptime: 9e9}); old.Daemon != "d" || len(old.Engines) != 1 || old.Engines[0] != want {
		t.Errorf("old decoder = %+v, want daemon d and %+v", old, want)
	}

	// A daemon of before is read with no host figures and no new counters.
	data, err = MarshalMsg(&oldHeartbeat{Daemon: "e", Engines: []oldEngineStat{{ID: 1, State: StateIdle, Done: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	got = Heartbeat{}
	if err := UnmarshalMsg(data, &got); err != nil {
		t.Fatal(err)
	}
	if want := (Heartbeat{Daemon: "e", Engines: []EngineStat{{ID: 1, State: StateIdle, Done: 4}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("old heartbeat decoded = %+v, want %+v", got, want)
	}
}
