// This file defines what `pirun kernel` does around a Kernel: progress
// bars to the notebook, and its end when Jupyter is gone.

package kernel

import (
	"context"
	"io"
	"os"
	"time"
)

// ProgressSplit sends writes that start with "\r" (a progress bar) to
// Progress and the rest to Other: pirun kernel passes its stderr through
// it, so progress bars reach the notebook and logs the kernel's stderr.
type ProgressSplit struct{ Progress, Other io.Writer }

// DrawsProgress tells AsyncResult.wait_interactive to draw its bar.
func (w ProgressSplit) DrawsProgress() bool { return true }

func (w ProgressSplit) Write(p []byte) (int, error) {
	if len(p) > 0 && p[0] == '\r' {
		return w.Progress.Write(p)
	}
	return w.Other.Write(p)
}

// WatchParent ends the kernel when the process that started it is gone
// (the kernel was reparented), if that was Jupyter (JPY_PARENT_PID is set,
// as jupyter_client sets it): a killed notebook server leaves no kernel
// and engines behind. It returns when ctx is done.
func WatchParent(ctx context.Context, cancel context.CancelFunc, jupyter string, ppid int) {
	if jupyter == "" {
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if os.Getppid() != ppid {
			cancel()
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
