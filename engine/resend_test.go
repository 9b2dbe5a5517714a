package engine

import (
	"runtime"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestResendBounded: a client asking for the same results again and again
// while the publisher cannot send starts one resend, not one goroutine per
// request, and stopping the publisher ends it.
func TestResendBounded(t *testing.T) {
	p := newPublisher(nil)
	p.ch = make(chan outItem) // nobody reads: every resend blocks
	for id := range uint64(3) {
		p.sent.add(outItem{task: &wire.Task{Client: "c", ID: id}})
	}
	base := runtime.NumGoroutine()
	for range 200 {
		p.resend("c", "c", []uint64{0, 1, 2})
	}
	if n := runtime.NumGoroutine() - base; n > 1 {
		t.Fatalf("200 OpResend of one client started %d goroutines; want at most one in flight", n)
	}
	stopped := make(chan struct{})
	go func() { p.stopResends(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the resend in flight did not give up within 10 s of the publisher stopping")
	}
	p.resend("c", "c", []uint64{0})
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after the publisher stopped; want none of the resends", runtime.NumGoroutine()-base)
		}
		runtime.Gosched()
	}
}
