// This file defines the tests of arrays on the wire: round trips of every
// dtype and shape, views and transposes, and copy-on-write of lent memory.

package num

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"
	"unsafe"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/wire"
	"github.com/pirun-dev/pirun/transport"
)

// roundTrip encodes v with a block Encoder and decodes it back.
func roundTrip(t *testing.T, v starlark.Value) starlark.Value {
	t.Helper()
	blocks, err := wire.MarshalBlocks(v, 1<<20)
	if err != nil {
		t.Fatalf("MarshalBlocks(%s) = %v", v.Type(), err)
	}
	got, err := wire.Unmarshal(blocks.Bytes())
	if err != nil {
		t.Fatalf("Unmarshal(MarshalBlocks(%s)) = %v", v.Type(), err)
	}
	return got
}

// contents returns a's dtype, shape and elements (float bits for floats)
// as a string, for comparisons.
func contents(a *Array) string {
	var elems []string
	switch a.dtype {
	case Float64:
		for _, x := range a.Float64s() {
			elems = append(elems, fmt.Sprintf("%x", math.Float64bits(x)))
		}
	case Int64:
		for _, x := range a.Int64s() {
			elems = append(elems, fmt.Sprint(x))
		}
	case Bool:
		for _, x := range a.Bools() {
			elems = append(elems, fmt.Sprint(x))
		}
	}
	return fmt.Sprintf("%v %s %v", a.dtype, shapeString(a.shape), elems)
}

func TestWireRoundTrip(t *testing.T) {
	shapes := [][]int{{}, {0}, {1}, {5}, {1, 5}, {5, 1}, {2, 3}, {0, 4}, {4, 0}, {300, 300}}
	for _, dtype := range []DType{Float64, Int64, Bool} {
		for _, shape := range shapes {
			a := newArray(dtype, shape)
			for k := range a.Size() {
				switch dtype {
				case Float64:
					a.buf.f[k] = []float64{math.NaN(), math.Inf(-1), math.Copysign(0, -1), 1e-310, float64(k) / 3}[k%5]
				case Int64:
					a.buf.i[k] = []int64{math.MinInt64, math.MaxInt64, -1, int64(k)}[k%4]
				case Bool:
					a.buf.b[k] = k%3 == 1
				}
			}
			got, ok := roundTrip(t, a).(*Array)
			if !ok {
				t.Fatalf("round trip of %v%v: not an ndarray", dtype, shapeString(shape))
			}
			if g, w := contents(got), contents(a); g != w {
				t.Errorf("round trip of %v%s = %.200s, want %.200s", dtype, shapeString(shape), g, w)
			}
		}
	}
}

// TestWireViews checks that views send their logical contents.
func TestWireViews(t *testing.T) {
	base, _ := FromInt64s([]int64{0, 1, 2, 3, 4, 5}, 2, 3)
	for _, test := range []struct {
		name string
		view *Array
		want string
	}{
		{"transpose", &Array{dtype: Int64, shape: []int{3, 2}, strides: []int{1, 3}, buf: base.buf}, "int64 (3, 2) [0 3 1 4 2 5]"},
		{"reversed", &Array{dtype: Int64, shape: []int{6}, strides: []int{-1}, offset: 5, buf: base.buf}, "int64 (6,) [5 4 3 2 1 0]"},
		{"row 1", &Array{dtype: Int64, shape: []int{3}, strides: []int{1}, offset: 3, buf: base.buf}, "int64 (3,) [3 4 5]"},
		{"column 2", &Array{dtype: Int64, shape: []int{2}, strides: []int{3}, offset: 2, buf: base.buf}, "int64 (2,) [2 5]"},
	} {
		got := roundTrip(t, test.view).(*Array)
		if g := contents(got); g != test.want {
			t.Errorf("round trip of %s view = %s, want %s", test.name, g, test.want)
		}
		if !got.IsContiguous() {
			t.Errorf("round trip of %s view is not contiguous", test.name)
		}
	}
}

// TestWireLentCopyOnWrite checks that a write after a lending encode
// leaves the encoded bytes as they were, and the array written.
func TestWireLentCopyOnWrite(t *testing.T) {
	data := make([]float64, 1<<16) // 512 KiB: lent
	for k := range data {
		data[k] = float64(k)
	}
	a, _ := FromFloat64s(data)
	view := &Array{dtype: Float64, shape: []int{10}, strides: []int{1}, offset: 5, buf: a.buf}
	blocks, err := wire.MarshalBlocks(a, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if !a.buf.lent.Load() {
		t.Fatalf("after a lending encode, buffer not marked lent")
	}
	if err := view.checkMutable("assign to element of"); err != nil {
		t.Fatal(err)
	}
	view.buf.f[view.offset] = -1 // through the view: the base sees it too
	if a.buf.f[5] != -1 || &a.buf.f[0] == &data[0] {
		t.Errorf("write through a view after lending: base[5] = %v (want -1), memory copied = %v (want true)", a.buf.f[5], &a.buf.f[0] != &data[0])
	}
	got, err := wire.Unmarshal(blocks.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if x := got.(*Array).buf.f[5]; x != 5 {
		t.Errorf("encoded array[5] after a later write = %v, want 5", x)
	}
}

func TestWireFromWireErrors(t *testing.T) {
	_, err := wire.Unmarshal([]byte{0xd8, 0x28, 0x82, 0x83, 1, 1, 1, 0xd8, 0x56, 0x48, 0, 0, 0, 0, 0, 0, 0, 0})
	if err == nil || err.Error() != "wire: decode: at byte 7: shape (1, 1, 1) has 3 dimensions; num arrays have at most 2" {
		t.Errorf("Unmarshal(3-D array) = %v, want an error saying num arrays have at most 2 dimensions", err)
	}
}

// BenchmarkWireArray10M reports encode (blocks, lent) and decode of a 10M
// float64 ndarray, in bytes per second.
func BenchmarkWireArray10M(b *testing.B) {
	a := newArray(Float64, []int{10_000_000})
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(80_000_000)
		for b.Loop() {
			if _, err := wire.MarshalBlocks(a, 1<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	enc, _ := wire.Marshal(a)
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(80_000_000)
		for b.Loop() {
			if _, err := wire.Unmarshal(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestWireKeepsReassembledArray sends a list of a small array and a 2 MiB
// one as message parts through transport.Assembler, as engines and clients do,
// and checks that UnmarshalKeeping gives the big array the message's own
// memory (no copy), that its first write copies it, and that Unmarshal
// still copies.
func TestWireKeepsReassembledArray(t *testing.T) {
	big := newArray(Float64, []int{1 << 18}) // 2 MiB
	for k := range big.buf.f {
		big.buf.f[k] = float64(k)
	}
	small, _ := FromFloat64s([]float64{1, 2, 3})
	blocks, err := wire.MarshalBlocks(starlark.NewList([]starlark.Value{starlark.String("odd1"), small, big}), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	parts := blocks.Parts(1 << 20)
	if len(parts) < 2 || len(parts[0])%8 == 0 {
		t.Fatalf("parts of %d bytes, the first %d: want several, the first not a multiple of 8", blocks.Len(), len(parts[0]))
	}
	var asm transport.Assembler // the receiving side of every large message
	var msg []byte
	for i, p := range parts {
		if msg, err = asm.Add("s", wire.PartHeader("s-1", i, len(parts), blocks.Len()), p, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(msg, blocks.Bytes()) {
		t.Fatalf("reassembled message differs from the parts sent")
	}
	inMsg := func(a *Array) bool {
		p, lo := uintptr(unsafe.Pointer(&a.buf.f[0])), uintptr(unsafe.Pointer(&msg[0]))
		return p >= lo && p < lo+uintptr(len(msg))
	}
	v, err := wire.UnmarshalKeeping(msg)
	if err != nil {
		t.Fatal(err)
	}
	got := v.(*starlark.List).Index(2).(*Array)
	if !inMsg(got) || !got.buf.lent.Load() {
		t.Fatalf("UnmarshalKeeping: big array in the message's memory = %v, lent = %v; want both", inMsg(got), got.buf.lent.Load())
	}
	if s := v.(*starlark.List).Index(1).(*Array); inMsg(s) {
		t.Errorf("UnmarshalKeeping: a 3-element array keeps the message's memory, want a copy")
	}
	if err := got.SetKey(starlark.MakeInt(7), starlark.Float(-1)); err != nil {
		t.Fatal(err)
	}
	if inMsg(got) || got.buf.f[7] != -1 || got.buf.f[8] != 8 {
		t.Errorf("after a[7] = -1: still in the message = %v, a[7] = %v, a[8] = %v; want false, -1, 8", inMsg(got), got.buf.f[7], got.buf.f[8])
	}
	again, err := wire.UnmarshalKeeping(msg)
	if err != nil {
		t.Fatal(err)
	}
	if x := again.(*starlark.List).Index(2).(*Array).buf.f[7]; x != 7 {
		t.Errorf("message decoded again after a write to the first array: a[7] = %v, want 7", x)
	}
	copied, err := wire.Unmarshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	if inMsg(copied.(*starlark.List).Index(2).(*Array)) {
		t.Errorf("Unmarshal: big array in the message's memory, want a copy")
	}
}
