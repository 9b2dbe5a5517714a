package launch

import "testing"

func TestMemTotal(t *testing.T) {
	if got := memTotal(); got < 64<<20 {
		t.Errorf("memTotal() = %d bytes, want this machine's memory (at least 64 MiB)", got)
	}
}
