package dash

import (
	"net/http"
	"runtime"
	"testing"
	"time"
)

// What the dashboard costs the hub when nobody watches: the feeds it keeps
// per finished task (RateMeter.Add) and per printed line (Tail.Write);
// no snapshot is built and no goroutine runs but the accept loop
// (TestIdleServer). What it costs while a page is open: one Snapshot
// each second (BenchmarkSnapshot).

func BenchmarkRateMeterAdd(b *testing.B) {
	r := NewRateMeter(0, 0)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		now := time.Now()
		for pb.Next() {
			r.Add(now, 1)
		}
	})
}

func BenchmarkTailWrite(b *testing.B) {
	t := NewTail(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t.Write(i%8, "chunk 1234: mean=0.5103 n=25000\n")
	}
}

func BenchmarkSnapshot(b *testing.B) {
	f := newFakeCluster(time.Now())
	s, err := New(Config{Addr: "127.0.0.1:0", Source: f, Rate: f.rate, Tail: f.tail})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.snapshot(true)
	}
}

func TestIdleServer(t *testing.T) {
	http.DefaultClient.CloseIdleConnections()
	before := runtime.NumGoroutine()
	s, f := start(t, "127.0.0.1:0", time.Millisecond)
	for i := range 1000 { // the hub works on: tasks finish, engines print
		f.rate.Add(time.Now(), 1)
		f.tail.Write(i%8, "line")
	}
	if got := runtime.NumGoroutine() - before; got > 1 || s.watching() || s.builds.Load() != 0 || f.calls != 0 {
		t.Errorf("a dashboard nobody watches: %d goroutines more, ticking %v, %d snapshots built, Source called %d times; want the accept loop only and nothing built",
			got, s.watching(), s.builds.Load(), f.calls)
	}
}
