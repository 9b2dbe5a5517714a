// This file tests the decoding of long arrays by two goroutines: the same
// values and the same errors as the sequential decoder.

package wire

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// sequential decodes b through a reader, which never takes the
// two-goroutine path.
func sequential(b []byte, ref func(uint64) (starlark.Value, error)) (starlark.Value, error) {
	d := NewDecoder(bytes.NewReader(b))
	d.Ref = ref
	return d.Decode()
}

func TestItemsInTwo(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Fatalf("GOMAXPROCS = %d: the two-goroutine path needs 2 or more", runtime.GOMAXPROCS(0))
	}
	n := parallelItems + 11
	mixed := make([]starlark.Value, n)
	for i := range mixed {
		switch i % 6 {
		case 0:
			mixed[i] = starlark.MakeInt(i * 1000003)
		case 1:
			mixed[i] = starlark.MakeInt(-i)
		case 2:
			mixed[i] = starlark.Float(float64(i) / 7)
		case 3:
			mixed[i] = starlark.String(fmt.Sprintf("item %d", i))
		case 4:
			mixed[i] = starlark.Bool(i%4 == 0)
		default:
			mixed[i] = starlark.None
		}
	}
	nested := make([]starlark.Value, n)
	for i := range nested {
		nested[i] = starlark.MakeInt(i)
		if i > n/2 && i%1000 == 0 {
			nested[i] = starlark.NewList([]starlark.Value{starlark.MakeInt(i), starlark.Tuple{starlark.String("t")}})
		}
	}
	firstHalfList := make([]starlark.Value, n)
	copy(firstHalfList, nested)
	firstHalfList[3] = starlark.NewList(nil) // not a scalar: the sequential path
	for _, tc := range []struct {
		name string
		v    starlark.Value
	}{
		{"ints", starlark.NewList(intRange(n))},
		{"ints, halves cut in two again", starlark.NewList(intRange(4*parallelItems + 3))},
		{"scalars", starlark.NewList(mixed)},
		{"containers in the second half", starlark.NewList(nested)},
		{"a container in the first half", starlark.NewList(firstHalfList)},
		{"in a dict", mustDict(t, "x", starlark.NewList(intRange(n)))},
	} {
		b := mustMarshal(t, tc.v)
		before := inTwo.Load()
		got, err := Unmarshal(b)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if took, want := inTwo.Load() > before, !strings.Contains(tc.name, "first half"); took != want {
			t.Errorf("%s: decoded in two halves = %v, want %v", tc.name, took, want)
		}
		if d := identical(tc.v, got); d != "" {
			t.Errorf("%s: decoded value differs: %s", tc.name, d)
		}
	}
}

func intRange(n int) []starlark.Value {
	out := make([]starlark.Value, n)
	for i := range out {
		out[i] = starlark.MakeInt(i)
	}
	return out
}

func mustDict(t *testing.T, k string, v starlark.Value) *starlark.Dict {
	d := starlark.NewDict(1)
	if err := d.SetKey(starlark.String(k), v); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestItemsInTwoErrors checks that bad input in the second half gives the
// sequential decoder's error, and that references there reach the Ref
// hook from the decoding goroutine only.
func TestItemsInTwoErrors(t *testing.T) {
	n := parallelItems + 1
	good := mustMarshal(t, starlark.NewList(intRange(n)))
	tail := len(good) - 5*(n/4) // an item of the second half, 5 bytes each there
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-3] }},
		{"bad UTF-8", func(b []byte) []byte {
			s := mustMarshal(t, starlark.String("abcd"))
			b = bytes.Clone(b)
			copy(b[tail:], s) // a 5-byte string in place of a 5-byte int
			b[tail+2] = 0xff
			return b
		}},
		{"reserved byte", func(b []byte) []byte {
			b = bytes.Clone(b)
			b[tail] = 0x1c
			return b
		}},
	} {
		b := tc.edit(good)
		_, want := sequential(b, nil)
		before := inTwo.Load()
		_, got := Unmarshal(b)
		if inTwo.Load() == before {
			t.Errorf("%s: not decoded in two halves", tc.name)
		}
		if want == nil || got == nil || !strings.Contains(got.Error(), strings.TrimPrefix(want.Error(), "wire: decode: ")) {
			t.Errorf("%s: Unmarshal error %v, want the sequential decoder's %v", tc.name, got, want)
		}
	}

	// A reference in the second half: the decoding goroutine has no Ref
	// hook, so d decodes that half again and resolves it.
	var goroutines []int
	refs := make([]starlark.Value, n)
	copy(refs, intRange(n))
	refs[n-2] = starlark.Universe["len"]
	enc := &Encoder{Ref: func(v starlark.Value) (uint64, error) { return 0, nil }}
	if err := enc.Encode(starlark.NewList(refs)); err != nil {
		t.Fatal(err)
	}
	d := NewBytesDecoder(enc.buf[:enc.n])
	d.Ref = func(i uint64) (starlark.Value, error) {
		goroutines = append(goroutines, 1) // racy if called from two goroutines
		return starlark.Universe["len"], nil
	}
	got, err := d.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if d := identical(starlark.NewList(refs), got); d != "" || len(goroutines) != 1 {
		t.Errorf("list with a reference in its second half: %s; Ref called %d times, want 1", d, len(goroutines))
	}
}

// TestListInTwo checks that a block Encoder writing a long list in two
// halves at once writes the bytes the sequential encoder writes, and falls
// back to it for what the second half must not encode by itself.
func TestListInTwo(t *testing.T) {
	n := parallelItems + 5
	shared := starlark.NewDict(1)
	shared.SetKey(starlark.String("k"), starlark.MakeInt(1))
	build := func(tail func(i int) starlark.Value) *starlark.List {
		elems := intRange(n)
		for i := n / 2; i < n; i += 997 {
			if v := tail(i); v != nil {
				elems[i] = v
			}
		}
		return starlark.NewList(elems)
	}
	withShared := build(func(int) starlark.Value { return shared })
	withShared.SetIndex(1, shared) // the same dict in both halves
	for _, tc := range []struct {
		name  string
		v     *starlark.List
		inTwo bool
	}{
		{"ints", starlark.NewList(intRange(n)), true},
		{"ints, halves cut in two again", starlark.NewList(intRange(4*parallelItems + 3)), true},
		{"scalars and lists", build(func(i int) starlark.Value {
			switch i % 3 {
			case 0:
				return starlark.String("s")
			case 1:
				return starlark.Float(1.5)
			}
			return starlark.NewList([]starlark.Value{starlark.Tuple{starlark.MakeInt(i)}, starlark.MakeInt(-i)})
		}), true},
		{"a dict in both halves", withShared, false},
		{"a function in the second half", build(func(i int) starlark.Value {
			if i > n-1000 {
				return starlark.Universe["len"]
			}
			return nil
		}), false},
	} {
		var seqRefs, refs []starlark.Value
		seq := &Encoder{Ref: func(v starlark.Value) (uint64, error) { seqRefs = append(seqRefs, v); return 0, nil }}
		if err := seq.Encode(tc.v); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := seq.buf[:seq.n]
		e := NewBlockEncoder(1 << 20)
		e.Ref = func(v starlark.Value) (uint64, error) { refs = append(refs, v); return 0, nil }
		before := encodedInTwo.Load()
		if err := e.Encode(tc.v); err != nil {
			t.Fatalf("%s: block Encoder: %v", tc.name, err)
		}
		if got := e.Blocks().Bytes(); !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, differing from the sequential encoder's %d", tc.name, len(got), len(want))
		}
		if took := encodedInTwo.Load() > before; took != tc.inTwo {
			t.Errorf("%s: encoded in two halves = %v, want %v", tc.name, took, tc.inTwo)
		}
		if len(refs) != len(seqRefs) {
			t.Errorf("%s: Ref called %d times, want %d", tc.name, len(refs), len(seqRefs))
		}
	}
}
