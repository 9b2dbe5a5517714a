package transport

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestLargeMessageInParts sends messages smaller and larger than the
// server's payload limit through a Link and reassembles them with
// Receive: the large one travels in acknowledged parts.
func TestLargeMessageInParts(t *testing.T) {
	opts := natstest.DefaultTestOptions
	opts.Port = server.RANDOM_PORT
	opts.NoLog, opts.NoSigs = true, true
	opts.MaxPayload = 64 << 10
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	sender, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sender.Close)
	receiver, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(receiver.Close)

	l := New(sender, "s1", "test.acks")
	if _, err := sender.Subscribe("test.acks", l.OnAck); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 4)
	parts := 0
	var asm Assembler
	if _, err := receiver.Subscribe("test.data", func(m *nats.Msg) {
		if m.Header.Get(wire.HeaderPart) != "" {
			parts++
		}
		data, err := Receive(receiver, &asm, m)
		if err != nil {
			t.Errorf("Receive: %v", err)
		}
		if data != nil {
			got <- bytes.Clone(data)
		}
	}); err != nil {
		t.Fatal(err)
	}
	sender.Flush()
	receiver.Flush()

	for _, size := range []int{10, 1 << 20} {
		parts = 0
		want := bytes.Repeat([]byte{byte(size)}, size)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := l.SendData(ctx, "test.data", want)
		cancel()
		if err != nil {
			t.Fatalf("SendData(%d bytes): %v", size, err)
		}
		select {
		case data := <-got:
			if !bytes.Equal(data, want) {
				t.Errorf("SendData(%d bytes): received %d bytes, want the same %d", size, len(data), size)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("SendData(%d bytes): nothing reassembled within 10s", size)
		}
		if wantParts := size > l.MaxPart(); (parts > 1) != wantParts {
			t.Errorf("SendData(%d bytes) with parts of %d: %d parts, want parts %v", size, l.MaxPart(), parts, wantParts)
		}
	}
}
