package transport

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pirun-dev/pirun/starlib/startest"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestAssemblerReassembles cuts messages into parts of every size and
// reassembles them: the message comes back whole at its last part and
// nothing stays held.
func TestAssemblerReassembles(t *testing.T) {
	var a Assembler
	now := time.Now()
	for _, size := range []int{0, 1, 7, 100, 4096} {
		for _, part := range []int{1, 3, 64, 5000} {
			msg := bytes.Repeat([]byte("abcdefg"), size/7+1)[:size]
			parts := wire.Blocks{msg}.Parts(part)
			stream := fmt.Sprintf("s1-%d-%d", size, part)
			for i, p := range parts {
				got, err := a.Add("s1", wire.PartHeader(stream, i, len(parts), size), p, now)
				if err != nil {
					t.Fatalf("Add(part %d of %d, %d-byte message) = %v", i, len(parts), size, err)
				}
				if last := i == len(parts)-1; last != (got != nil) || last && !bytes.Equal(got, msg) {
					t.Fatalf("Add(part %d of %d, %d-byte message in parts of %d) = %d bytes, want the message only at the last part", i, len(parts), size, part, len(got))
				}
				if got != nil && len(parts) > 1 {
					if second := uintptr(unsafe.Pointer(&got[len(parts[0])])); second%8 != 0 {
						t.Errorf("a %d-byte message in parts of %d: its second part starts at %#x, want 8-byte aligned (arrays are decoded in place)", size, part, second)
					}
				}
			}
			if held, n := a.Held(); held != 0 || n != 0 {
				t.Fatalf("after a %d-byte message in parts of %d: %d bytes in %d messages held, want none", size, part, held, n)
			}
		}
	}
}

// TestAssemblerRefuses feeds forged and broken part sequences: each is
// refused with ErrRefused, at the part named, and the memory held never
// passes twice what arrived.
func TestAssemblerRefuses(t *testing.T) {
	const kib = 1 << 10
	chunk := bytes.Repeat([]byte{1}, 64*kib)
	type part struct {
		header string
		data   []byte
	}
	for _, test := range []struct {
		name    string
		parts   []part
		refused int    // index of the refused part, -1: none
		msg     string // in the error
	}{
		{"announces 1 GiB", []part{{"st0 0 2 1072693248", chunk}}, 0, "over the 1048576 bytes a receiver takes from one sender"},
		{"announces within bound, sends little", []part{{"st0 0 2 900000", chunk}}, -1, ""},
		{"more than announced", []part{{"st0 0 2 100", chunk}}, 0, "does not add up"},
		{"last part short", []part{{"st0 0 2 200000", chunk}, {"st0 1 2 200000", chunk}}, 1, "does not add up"},
		{"complete before the last part", []part{{"st0 0 3 65536", chunk}}, 0, "does not add up"},
		{"part without start", []part{{"st0 1 2 131072", chunk}}, 0, "arrived without its start"},
		{"out of order", []part{{"st0 0 3 196608", chunk}, {"st0 2 3 196608", chunk}}, 1, "out of order"},
		{"sizes changed", []part{{"st0 0 2 30", make([]byte, 10)}, {"st0 1 7 0", make([]byte, 10)}}, 1, "changes the announced sizes"},
		{"part past total", []part{{"st0 2 2 10", nil}}, 0, "malformed"},
		{"negative size", []part{{"st0 0 2 -1", nil}}, 0, "malformed"},
		{"huge numbers", []part{{"st0 0 99999999999999999999 1", nil}}, 0, "malformed"},
		{"three fields", []part{{"st0 0 2", nil}}, 0, "malformed"},
		{"sender over its bound", []part{{"x-1 0 3 1000000", chunk}, {"x-2 0 3 1000000", chunk}, {"x-1 1 3 1000000", make([]byte, 930000)}}, 2, "over its bound"},
		{"complete message over the bound", []part{{"x-1 0 3 1000000", chunk}, {"x-2 0 3 1000000", chunk}, {"x-1 1 3 1000000", make([]byte, 900000)}, {"x-1 2 3 1000000", make([]byte, 1000000-900000-64*kib)}}, -1, ""},
	} {
		t.Run(test.name, func(t *testing.T) {
			a := Assembler{MaxSender: 1 << 20, MaxTotal: 4 << 20}
			now := time.Now()
			arrived := 0
			for i, p := range test.parts {
				arrived += len(p.data)
				_, err := a.Add("peer", p.header, p.data, now)
				if i == test.refused {
					if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), test.msg) {
						t.Fatalf("Add(%q) = %v, want ErrRefused saying %q", p.header, err, test.msg)
					}
				} else if err != nil {
					t.Fatalf("Add(%q) = %v, want accepted", p.header, err)
				}
				if held, _ := a.Held(); held > 2*arrived+len(test.parts)*(msgOverhead+64) {
					t.Fatalf("after %d bytes arrived, %d bytes held, want at most twice what arrived", arrived, held)
				}
			}
		})
	}
}

// TestAssemblerTotalBound fills the total bound from many senders: the
// next sender is refused, and a sender whose messages complete is served
// again, with nothing held afterwards.
func TestAssemblerTotalBound(t *testing.T) {
	a := Assembler{MaxSender: 1 << 20, MaxTotal: 3 << 20}
	now := time.Now()
	mib := bytes.Repeat([]byte{2}, 1<<20-4096)
	for i := range 3 {
		if _, err := a.Add(fmt.Sprintf("attacker%d", i), wire.PartHeader("a-1", 0, 2, len(mib)+1), mib, now); err != nil {
			t.Fatalf("attacker %d: %v, want accepted", i, err)
		}
	}
	_, err := a.Add("victim", wire.PartHeader("v-1", 0, 2, len(mib)+1), mib, now)
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "over the receiver's bound") {
		t.Fatalf("a fourth sender past the total bound: %v, want ErrRefused naming the receiver's bound", err)
	}
	// The stalled messages go; the victim is served.
	later := now.Add(DefaultStall + time.Second)
	if got, err := a.Add("victim", wire.PartHeader("v-2", 0, 1, len(mib)), mib, later); err != nil || len(got) != len(mib) {
		t.Fatalf("the victim after the attackers' messages stalled: %d bytes, %v; want its message", len(got), err)
	}
	if held, n := a.Held(); held != 0 || n != 0 {
		t.Errorf("after the stall: %d bytes in %d messages held, want none", held, n)
	}
}

// TestAssemblerSweeps leaves a message incomplete and no part arrives:
// the sweep drops it after Stall by itself.
func TestAssemblerSweeps(t *testing.T) {
	a := Assembler{Stall: 50 * time.Millisecond}
	if _, err := a.Add("s", "s-1 0 2 20", make([]byte, 10), time.Now()); err != nil {
		t.Fatal(err)
	}
	if held, n := a.Held(); held == 0 || n != 1 {
		t.Fatalf("an incomplete message: %d bytes in %d messages held, want it held", held, n)
	}
	startest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		if held, n := a.Held(); held != 0 || n != 0 {
			return fmt.Errorf("%d bytes in %d messages held %v after the last part, want none", held, n, 100*a.Stall)
		}
		return nil
	})
}
