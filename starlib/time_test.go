package starlib_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

// sleepOn runs time.sleep(seconds) on a thread whose context is ctx and
// returns the error and the time taken.
func sleepOn(t *testing.T, ctx context.Context, seconds string) (time.Duration, error) {
	t.Helper()
	thread := &starlark.Thread{Name: "sleep"}
	starlib.SetContext(thread, ctx)
	start := time.Now()
	_, err := starlark.ExecFileOptions(starlib.FileOptions(), thread, "sleep.star",
		"time.sleep("+seconds+")", predeclared(t, starlib.Host))
	return time.Since(start), err
}

func TestSleepWakesOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	timer := time.AfterFunc(20*time.Millisecond, func() { cancel(errors.New("task aborted")) })
	defer timer.Stop()
	took, err := sleepOn(t, ctx, "10")
	if err == nil || !strings.Contains(err.Error(), "time.sleep: task aborted") {
		t.Errorf("time.sleep(10) cancelled after 20ms = %v, want error %q", err, "time.sleep: task aborted")
	}
	if took > 5*time.Second {
		t.Errorf("time.sleep(10) cancelled after 20ms took %v, want well under a second", took)
	}
}

func TestSleepOnDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, seconds := range []string{"0", "3600", "time.hour"} {
		if _, err := sleepOn(t, ctx, seconds); err == nil || !strings.Contains(err.Error(), "context canceled") {
			t.Errorf("time.sleep(%s) with a done context = %v, want error %q", seconds, err, "context canceled")
		}
	}
}

func TestSleepSleeps(t *testing.T) {
	took, err := sleepOn(t, context.Background(), "0.05")
	if err != nil || took < 50*time.Millisecond {
		t.Errorf("time.sleep(0.05) = %v after %v, want None after at least 50ms", err, took)
	}
}
