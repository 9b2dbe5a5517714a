package transport

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzAssembler feeds an Assembler parts whose headers and sizes a peer
// chose: one line per part, "header;bytes;seconds later". Whatever
// arrives, it must not panic, hold more than its bounds or than twice the
// bytes that arrived (plus bookkeeping and alignment), nor return a message whose
// length differs from the one announced.
func FuzzAssembler(f *testing.F) {
	for _, seed := range []string{
		"st0 0 2 1072693248;65536;0",
		"a-1 0 2 10;5;0\na-1 1 2 10;5;0",
		"a-1 0 3 30;10;0\na-1 1 3 30;10;0\na-1 2 3 30;10;0",
		"a-1 0 2 10;5;0\na-1 1 2 10;5;100",
		"a-1 0 2 100000;60000;0\nb-1 0 2 100000;60000;0\na-2 0 2 100000;60000;0",
		"x 0 1 0;0;0",
		"a-1 1 2 10;5;0",
		"a-1 0 2 9223372036854775807;1;0",
		"a-1 0 1 -5;0;0",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, script string) {
		a := Assembler{MaxSender: 1 << 18, MaxTotal: 1 << 19, Stall: time.Minute}
		now := time.Unix(1e9, 0)
		arrived, messages := 0, 0
		buf := make([]byte, 1<<18)
		for line := range strings.Lines(script) {
			header, rest, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ";")
			ns, secs, _ := strings.Cut(rest, ";")
			n, _ := strconv.Atoi(ns)
			n = min(max(n, 0), len(buf))
			s, _ := strconv.Atoi(secs)
			now = now.Add(time.Duration(min(max(s, 0), 3600)) * time.Second)
			arrived += n
			messages++
			// The sender the network proves: here the stream id's prefix,
			// as honest senders name their streams.
			from, _, _ := strings.Cut(header, "-")
			got, err := a.Add(from, header, buf[:n], now)
			if got != nil {
				if err != nil {
					t.Fatalf("Add(%q) returned a message and an error %v", header, err)
				}
				f := strings.Fields(header)
				if size, _ := strconv.Atoi(f[3]); len(got) != size {
					t.Fatalf("Add(%q) returned %d bytes, announced %d", header, len(got), size)
				}
			}
			held, _ := a.Held()
			if held > a.MaxTotal || held > 2*arrived+messages*(msgOverhead+len(script)+8+7) {
				t.Fatalf("after %d bytes in %d parts: %d bytes held (bound %d)", arrived, messages, held, a.MaxTotal)
			}
			for s, v := range a.senders {
				if v > a.MaxSender {
					t.Fatalf("sender %q holds %d bytes, bound %d", s, v, a.MaxSender)
				}
			}
		}
	})
}
