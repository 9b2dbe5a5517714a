//go:build linux

package transport

import (
	"context"
	"runtime"
	"syscall"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	natstest "github.com/nats-io/nats-server/v2/test"
	"github.com/nats-io/nats.go"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// BenchmarkSend80MB sends an 80 MB message (a 10M float64 array's bytes)
// through an embedded server on in-process connections, as `pirun -n 2`
// does, with the hub's 8 MiB max payload and the default 1 MiB parts,
// and reassembles it: one
// direction of issue 13's push + pull figure, without encoding and
// decoding. It reports the page faults per message (fresh memory costs
// ~3 ms per MB on the project's VM).
//
//	go test -run '^$' -bench Send80MB -benchtime 10x ./transport
func BenchmarkSend80MB(b *testing.B) {
	opts := natstest.DefaultTestOptions
	opts.Port = server.RANDOM_PORT
	opts.NoLog, opts.NoSigs = true, true
	opts.MaxPayload = 8 << 20
	opts.MaxPending = 64 << 20
	ns := natstest.RunServer(&opts)
	b.Cleanup(ns.Shutdown)
	sender, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sender.Close)
	receiver, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(receiver.Close)
	l := New(sender, "s1", "bench.acks")
	if _, err := sender.Subscribe("bench.acks", l.OnAck); err != nil {
		b.Fatal(err)
	}
	var asm Assembler
	got := make(chan []byte, 1)
	sub, err := receiver.Subscribe("bench.data", func(m *nats.Msg) {
		data, err := Receive(receiver, &asm, m, "s1")
		if err != nil {
			b.Error(err)
		}
		if data != nil {
			got <- data
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	receiver.Flush()
	sender.Flush()
	msg := make([]byte, 80_000_000)
	for i := range msg {
		msg[i] = byte(i)
	}
	b.SetBytes(int64(len(msg)))
	var ru0, ru1 syscall.Rusage
	runtime.GC()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	b.ResetTimer()
	for b.Loop() {
		if err := l.SendBlocks(context.Background(), "bench.data", wire.Blocks{msg}); err != nil {
			b.Fatal(err)
		}
		if data := <-got; len(data) != len(msg) || data[12345] != msg[12345] {
			b.Fatalf("received %d bytes, want %d", len(data), len(msg))
		}
	}
	b.StopTimer()
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	b.ReportMetric(float64(ru1.Minflt-ru0.Minflt)/float64(b.N), "faults/op")
	cpu := func(ru *syscall.Rusage) float64 { return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6 }
	b.ReportMetric((cpu(&ru1)-cpu(&ru0))/float64(b.N), "cpu-ms/op")
}
