// This file defines CheckFor, the one way pirun's tests wait for a
// condition: poll until it holds, and fail at the deadline saying what
// never happened (nats-server's checkFor, tailscale's tstest.WaitFor).

package startest

import "time"

// TB is the part of testing.TB that CheckFor uses.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// CheckFor calls f every interval until it returns nil. When timeout
// passes first, it fails t with f's last error: a wait never carries on
// silently at its deadline.
func CheckFor(t TB, timeout, interval time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still not so after %v: %v", timeout, err)
			return
		}
		time.Sleep(interval)
	}
}
