package node

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/nats-io/nats.go"
)

// TestTransientDialErrors: a hub killed, restarting or frozen as an
// engine connects is tried again; refused credentials or TLS are not.
func TestTransientDialErrors(t *testing.T) {
	for _, test := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("nats: %w", io.EOF), true},
		{&net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{&net.OpError{Op: "dial", Err: os.ErrDeadlineExceeded}, true},
		{nats.ErrTimeout, true},
		{nats.ErrAuthorization, false},
		{nats.ErrSecureConnRequired, false},
		{errors.New("tls: first record does not look like a TLS handshake"), false},
	} {
		if got := transient(test.err); got != test.want {
			t.Errorf("transient(%v) = %v, want %v", test.err, got, test.want)
		}
	}
}
