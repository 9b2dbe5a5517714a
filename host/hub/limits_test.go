package hub

import (
	"testing"
	"time"

	"github.com/pirun-dev/pirun/conf"
	"github.com/pirun-dev/pirun/transport"
)

// TestTransportLimits checks that the [hub] table's large-message
// settings become the hub's, and that the table's defaults are the
// transport's own.
func TestTransportLimits(t *testing.T) {
	h := conf.DefaultProfile().Hub
	if got, want := TransportLimits(h), (transport.Limits{MaxSender: transport.DefaultMaxSender, MaxTotal: transport.DefaultMaxTotal, Stall: transport.DefaultStall}); got != want {
		t.Errorf("TransportLimits(default [hub]) = %+v, want the transport's defaults %+v", got, want)
	}
	h.PartSize, h.ReassemblyPerSender, h.ReassemblyTotal, h.ReassemblyStall = 1<<20, 32<<20, 64<<20, conf.Duration(5*time.Second)
	if got, want := TransportLimits(h), (transport.Limits{PartSize: 1 << 20, MaxSender: 32 << 20, MaxTotal: 64 << 20, Stall: 5 * time.Second}); got != want {
		t.Errorf("TransportLimits(%+v) = %+v, want %+v", h, got, want)
	}
}
