package starlib_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/startest"
)

func TestContext(t *testing.T) {
	thread := new(starlark.Thread)
	if got := starlib.Context(thread); got != context.Background() {
		t.Errorf("Context(new thread) = %v, want context.Background()", got)
	}
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, 1)
	starlib.SetContext(thread, ctx)
	if got := starlib.Context(thread); got != ctx {
		t.Errorf("Context after SetContext(ctx) = %v, want ctx", got)
	}
	// go.starlark.net/repl sets the same key directly.
	ctx2, cancel := context.WithCancel(context.Background())
	defer cancel()
	thread.SetLocal("context", ctx2)
	if got := starlib.Context(thread); got != ctx2 {
		t.Errorf("Context after SetLocal(\"context\", ctx) = %v, want ctx", got)
	}
}

// loop runs an endless loop on thread and returns its error.
func loop(thread *starlark.Thread) error {
	_, err := starlark.ExecFileOptions(starlib.FileOptions(), thread, "loop.star", "while True:\n  pass", nil)
	return err
}

func TestBindCancelStopsRunningThread(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	thread := &starlark.Thread{Name: "loop"}
	stop := starlib.BindCancel(ctx, thread)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- loop(thread) }()
	cancel(errors.New("task aborted"))
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "cancelled: task aborted") {
			t.Errorf("loop after cancel = %v, want cancellation with reason %q", err, "task aborted")
		}
	case <-time.After(5 * time.Second):
		thread.Cancel("test timed out")
		t.Fatalf("loop still running 5s after cancel")
	}
}

func TestBindCancelStop(t *testing.T) {
	// Stopped before ctx is done: Cancel is never called.
	ctx, cancel := context.WithCancel(context.Background())
	thread := &starlark.Thread{Name: "stopped"}
	stop := starlib.BindCancel(ctx, thread)
	stop()
	stop() // idempotent
	cancel()
	if err := exec1(thread); err != nil {
		t.Errorf("exec after stop, then cancel = %v, want success", err)
	}

	// Stopped after ctx is done: stop waits until Cancel has been called.
	ctx, cancel = context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	thread = &starlark.Thread{Name: "expired"}
	stop = starlib.BindCancel(ctx, thread)
	<-ctx.Done()
	stop()
	if err := exec1(thread); err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("exec after expiry and stop = %v, want cancellation by deadline", err)
	}
}

// exec1 runs a short program of several steps on thread.
func exec1(thread *starlark.Thread) error {
	_, err := starlark.ExecFileOptions(starlib.FileOptions(), thread, "one.star", "x = [i for i in range(3)]", nil)
	return err
}

func TestBindCancelNoLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	for i := range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		stop := starlib.BindCancel(ctx, new(starlark.Thread))
		if i%2 == 0 {
			cancel()
		}
		stop()
		cancel()
	}
	startest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("goroutines = %d after 100 BindCancel/stop, want at most %d", n, before)
		}
		return nil
	})
}
