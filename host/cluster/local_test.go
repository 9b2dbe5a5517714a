package cluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pirun-dev/pirun/host/client"
)

// TestLocalClientReportsEngineFailureAtOnce: engines whose run fails end
// the client's wait for them at once, with their error, and without a data
// race on it (run with -race).
func TestLocalClientReportsEngineFailureAtOnce(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lc, err := StartLocal("test", "", log)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.Stop()
	bad := errors.New("data_dir: no such folder")
	lc.Go(context.Background(), func(context.Context) error { return bad })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	c, err := lc.Client(ctx, 1, client.Config{Output: io.Discard, Stderr: io.Discard}, log)
	if c != nil {
		c.Close()
	}
	if !errors.Is(err, bad) {
		t.Fatalf("Client: got error %v; want the engines' %v", err, bad)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Client took %v to report the engines' failure; want it at once", d)
	}
}
