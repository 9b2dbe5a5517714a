package node

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"
)

func TestWatchStdin(t *testing.T) {
	r, w := io.Pipe()
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	done := make(chan struct{})
	go func() {
		watchStdin(ctx, r, 50*time.Millisecond, cancel, slog.New(slog.DiscardHandler))
		close(done)
	}()
	w.Write([]byte("still here"))
	if ctx.Err() != nil {
		t.Fatal("ended while stdin was open")
	}
	w.Close()
	<-done
	if _, ok := IsGrace(context.Cause(ctx)); !ok {
		t.Errorf("after stdin closed: cause = %v, want a grace error", context.Cause(ctx))
	}
}

func TestWatchHub(t *testing.T) {
	srv := test.RunRandClientPortServer()
	nc, err := nats.Connect(srv.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	conn := new(connHolder)
	conn.set(nc)
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	grace := 200 * time.Millisecond
	done := make(chan struct{})
	go func() {
		watchHub(ctx, conn, grace, cancel)
		close(done)
	}()
	start := time.Now()
	srv.Shutdown()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("watchHub did not end 10s after the hub went away")
	}
	if d := time.Since(start); d < grace {
		t.Errorf("watchHub ended after %v, before the grace period %v", d, grace)
	}
	if ge, ok := IsGrace(context.Cause(ctx)); !ok || !strings.Contains(ge.Error(), "no hub for 200ms") {
		t.Errorf("cause = %v, want a grace error naming 200ms", context.Cause(ctx))
	}
}
