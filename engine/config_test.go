package engine

import (
	"testing"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/transport"
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

// TestConfigFromTransport checks that the [engine] table's large-message
// settings reach the daemon, and that the table's defaults are the
// transport's own.
func TestConfigFromTransport(t *testing.T) {
	ec := conf.DefaultEngine()
	def := ConfigFrom(ec).Transport
	if want := (transport.Limits{MaxSender: transport.DefaultMaxSender, MaxTotal: transport.DefaultMaxTotal, Stall: transport.DefaultStall}); def != want {
		t.Errorf("ConfigFrom(DefaultEngine()).Transport = %+v, want the transport's defaults %+v", def, want)
	}
	ec.PartSize, ec.ReassemblyPerSender, ec.ReassemblyTotal, ec.ReassemblyStall = 1<<20, 32<<20, 64<<20, conf.Duration(5*time.Second)
	want := transport.Limits{PartSize: 1 << 20, MaxSender: 32 << 20, MaxTotal: 64 << 20, Stall: 5 * time.Second}
	if got := ConfigFrom(ec).Transport; got != want {
		t.Errorf("ConfigFrom(%+v).Transport = %+v, want %+v", ec, got, want)
	}
}
