package startest

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// fakeTB records a failure instead of stopping the test.
type fakeTB struct{ failed string }

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
}

func TestCheckFor(t *testing.T) {
	n := 0
	var ok fakeTB
	CheckFor(&ok, time.Second, time.Millisecond, func() error {
		if n++; n < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if ok.failed != "" || n != 3 {
		t.Errorf("CheckFor(ready at the 3rd call) failed %q after %d calls, want success after 3", ok.failed, n)
	}
	var late fakeTB
	start := time.Now()
	CheckFor(&late, 20*time.Millisecond, time.Millisecond, func() error { return errors.New("engine 0 is idle") })
	if !strings.Contains(late.failed, "engine 0 is idle") || time.Since(start) < 20*time.Millisecond {
		t.Errorf("CheckFor(never ready) = failure %q after %v, want one naming the last error after 20ms", late.failed, time.Since(start))
	}
}
