package engine

import (
	"testing"
	"time"

	"github.com/pirun-dev/pirun/conf"
)

func TestConfigFrom(t *testing.T) {
	ec := conf.DefaultEngine()
	ec.Engines, ec.Name, ec.DataDir, ec.MaxSteps, ec.MaxArrayBytes = 3, "pi4", "/data", 1000, 1<<20
	ec.TaskTimeout, ec.Heartbeat = conf.Duration(time.Minute), conf.Duration(time.Second)
	got := ConfigFrom(ec)
	want := Config{Engines: 3, Name: "pi4", DataDir: "/data", MaxSteps: 1000, TaskTimeout: time.Minute,
		Heartbeat: time.Second, MaxArrayBytes: 1 << 20}
	if got.Engines != want.Engines || got.Name != want.Name || got.DataDir != want.DataDir || got.MaxSteps != want.MaxSteps ||
		got.TaskTimeout != want.TaskTimeout || got.Heartbeat != want.Heartbeat || got.MaxArrayBytes != want.MaxArrayBytes {
		t.Errorf("ConfigFrom(%+v) = %+v, want %+v", ec, got, want)
	}
}
