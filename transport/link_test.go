package transport

import (
	"bytes"
	"context"
	"errors"
	"strings"
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
		data, err := Receive(receiver, &asm, m, "sender")
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

// TestRefusedMessageStopsSender sends a message over the receiver's bound
// for one sender: SendData returns at once with the receiver's reason
// (not after PartIdle), and a message within the bound then arrives.
func TestRefusedMessageStopsSender(t *testing.T) {
	opts := natstest.DefaultTestOptions
	opts.Port = server.RANDOM_PORT
	opts.NoLog, opts.NoSigs = true, true
	opts.MaxPayload = 64 << 10
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	l := New(nc, "s1", "test.acks")
	if _, err := nc.Subscribe("test.acks", l.OnAck); err != nil {
		t.Fatal(err)
	}
	asm := Assembler{MaxSender: 256 << 10}
	got := make(chan int, 4)
	if _, err := nc.Subscribe("test.data", func(m *nats.Msg) {
		if data, _ := Receive(nc, &asm, m, "s1"); data != nil {
			got <- len(data)
		}
	}); err != nil {
		t.Fatal(err)
	}
	nc.Flush()

	start := time.Now()
	err = l.SendData(context.Background(), "test.data", make([]byte, 1<<20))
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "over the 262144 bytes a receiver takes from one sender") {
		t.Errorf("SendData(1 MiB) to a receiver taking 256 KiB = %v, want ErrRefused with the receiver's reason", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("SendData(1 MiB) refused after %v, want at once", d)
	}
	if err := l.SendData(context.Background(), "test.data", make([]byte, 200<<10)); err != nil {
		t.Fatalf("SendData(200 KiB) after a refusal: %v", err)
	}
	select {
	case n := <-got:
		if n != 200<<10 {
			t.Errorf("after a refusal, received %d bytes, want 204800", n)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("after a refusal, a 200 KiB message was not reassembled within 10s")
	}
	if held, n := asm.Held(); held != 0 || n != 0 {
		t.Errorf("after the messages: %d bytes in %d messages held, want none", held, n)
	}
}

// TestPartSizeAndWindow: unless a part size is set, a message that fits
// in the server's max payload (less header room) is cut at that size and
// a larger one in DefaultPartSize parts; a set size is used for both,
// never more than the server takes; the window keeps at most
// PartWindowBytes in flight (at least one part, at most 64).
func TestPartSizeAndWindow(t *testing.T) {
	opts := natstest.DefaultTestOptions
	opts.Port = server.RANDOM_PORT
	opts.NoLog, opts.NoSigs = true, true
	opts.MaxPayload = 8 << 20
	ns := natstest.RunServer(&opts)
	t.Cleanup(ns.Shutdown)
	nc, err := nats.Connect(ns.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	largest := 8<<20 - partHeaderRoom
	for _, c := range []struct{ set, size, want int }{
		{0, 4 << 20, largest},
		{0, largest, largest},
		{0, largest + 1, DefaultPartSize},
		{0, 80 << 20, DefaultPartSize},
		{64 << 10, 4 << 20, 64 << 10},
		{4 << 20, 80 << 20, 4 << 20},
		{64 << 20, 80 << 20, largest},
	} {
		l := New(nc, "s1", "test.acks")
		l.SetPartSize(c.set)
		if got := l.partFor(c.size); got != c.want {
			t.Errorf("part size set to %d: a message of %d bytes goes in parts of %d, want %d", c.set, c.size, got, c.want)
		}
	}
	for _, c := range []struct{ size, want int }{
		{1 << 20, 16}, {8 << 20, 2}, {largest, 2}, {64 << 20, 1}, {64 << 10, 64}, {0, 64},
	} {
		if got := PartWindow(c.size); got != c.want {
			t.Errorf("PartWindow(%d) = %d, want %d", c.size, got, c.want)
		}
	}
}
