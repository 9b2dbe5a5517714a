// This file defines the typed-array tests: round trips of every kind and
// shape through every decoder, exact RFC 8746 bytes, malformed input,
// lending of large arrays, the fuzz target and the codec benchmark.

package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"unsafe"

	"go.starlark.net/starlark"
)

// testArray is a minimal Array: what package num does, without num.
type testArray struct {
	kind  ArrayKind
	shape []int
	data  []byte
	kept  atomic.Int32 // calls of Keep
}

func (a *testArray) String() string {
	return fmt.Sprintf("testArray(%v, %v, %x)", a.kind, a.shape, a.data)
}
func (a *testArray) Type() string          { return "testarray" }
func (a *testArray) Freeze()               {}
func (a *testArray) Truth() starlark.Bool  { return true }
func (a *testArray) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable") }
func (a *testArray) WireArray() ArrayData {
	return ArrayData{Kind: a.kind, Shape: a.shape, Data: a.data, Keep: func() { a.kept.Add(1) }}
}

func newTestArray(kind ArrayKind, shape []int, data []byte, keep bool) (starlark.Value, error) {
	if kind == 0 {
		return nil, fmt.Errorf("bad kind")
	}
	return &testArray{kind: kind, shape: append([]int{}, shape...), data: bytes.Clone(data)}, nil
}

func init() { RegisterArray(newTestArray) }

// sameArray says how two decoded values differ as arrays, or "".
func sameArray(got starlark.Value, want *testArray) string {
	a, ok := got.(*testArray)
	switch {
	case !ok:
		return fmt.Sprintf("got a %s, want an array", got.Type())
	case a.kind != want.kind:
		return fmt.Sprintf("kind %v, want %v", a.kind, want.kind)
	case fmt.Sprint(a.shape) != fmt.Sprint(want.shape):
		return fmt.Sprintf("shape %v, want %v", a.shape, want.shape)
	case !bytes.Equal(a.data, want.data):
		return fmt.Sprintf("data %x, want %x", a.data, want.data)
	}
	return ""
}

// arrayOf returns a test array of kind and shape with distinct elements.
func arrayOf(kind ArrayKind, shape ...int) *testArray {
	n, _ := elements(shape)
	data := make([]byte, n*kind.ItemSize())
	for i := range n {
		switch kind {
		case Float64Array:
			binary.LittleEndian.PutUint64(data[8*i:], math.Float64bits(float64(i)+0.5))
		case Int64Array:
			binary.LittleEndian.PutUint64(data[8*i:], uint64(-int64(i)*1_000_000_007))
		case BoolArray:
			data[i] = byte(i % 3 & 1)
		}
	}
	return &testArray{kind: kind, shape: shape, data: data}
}

func TestArrayRoundTrip(t *testing.T) {
	shapes := [][]int{{}, {0}, {1}, {7}, {1, 7}, {7, 1}, {2, 3}, {0, 3}, {3, 0}, {40000}}
	for _, kind := range []ArrayKind{Float64Array, Int64Array, BoolArray} {
		for _, shape := range shapes {
			want := arrayOf(kind, shape...)
			name := fmt.Sprintf("%v%v", kind, shape)
			// Alone, inside a list, and in a tuple beside other values.
			for _, v := range []starlark.Value{want, starlark.NewList([]starlark.Value{want, want}),
				starlark.Tuple{starlark.String("x"), want, starlark.MakeInt(3)}} {
				enc, err := Marshal(v)
				if err != nil {
					t.Fatalf("Marshal(%s) = %v", name, err)
				}
				blocks, err := MarshalBlocks(v, 1<<20)
				if err != nil || !bytes.Equal(blocks.Bytes(), enc) {
					t.Fatalf("MarshalBlocks(%s) = %x, %v, want %x", name, blocks.Bytes(), err, enc)
				}
				for _, d := range []*Decoder{NewBytesDecoder(enc), NewDecoder(iotest.OneByteReader(bytes.NewReader(enc))), NewDecoder(bytes.NewReader(enc))} {
					got, err := d.Decode()
					if err != nil {
						t.Fatalf("Decode(Marshal(%s)) = %v", name, err)
					}
					var arrays []starlark.Value
					switch got := got.(type) {
					case *starlark.List:
						arrays = []starlark.Value{got.Index(0), got.Index(1)}
					case starlark.Tuple:
						arrays = []starlark.Value{got[1]}
					default:
						arrays = []starlark.Value{got}
					}
					for _, a := range arrays {
						if diff := sameArray(a, want); diff != "" {
							t.Errorf("Decode(Marshal(%s)): %s", name, diff)
						}
					}
				}
			}
		}
	}
}

// TestArrayBytes checks the exact RFC 8746 encodings.
func TestArrayBytes(t *testing.T) {
	for _, test := range []struct {
		a    *testArray
		want string
	}{
		// tag 86 (0xd8 0x56): float64 little endian, 1-D.
		{&testArray{kind: Float64Array, shape: []int{1}, data: Float64Bytes([]float64{1})}, "d856 48 000000000000f03f"},
		// tag 79 (0xd8 0x4f): int64 little endian.
		{&testArray{kind: Int64Array, shape: []int{2}, data: Int64Bytes([]int64{1, -1})}, "d84f 50 0100000000000000 ffffffffffffffff"},
		// pirun's tag 55814 around tag 64 (uint8): bool.
		{&testArray{kind: BoolArray, shape: []int{3}, data: BoolBytes([]bool{true, false, true})}, "d9da06 d840 43 010001"},
		// tag 40 around [[1, 2], typed array]: stays 2-D.
		{&testArray{kind: Float64Array, shape: []int{1, 2}, data: Float64Bytes([]float64{0, -2})}, "d828 82 82 01 02 d856 50 0000000000000000 00000000000000c0"},
		// 0-d: dims [].
		{&testArray{kind: Int64Array, shape: []int{}, data: Int64Bytes([]int64{5})}, "d828 82 80 d84f 48 0500000000000000"},
		// empty 2-D.
		{&testArray{kind: BoolArray, shape: []int{0, 3}, data: []byte{}}, "d828 82 82 00 03 d9da06 d840 40"},
	} {
		got, err := Marshal(test.a)
		want := strings.ReplaceAll(test.want, " ", "")
		if err != nil || hex.EncodeToString(got) != want {
			t.Errorf("Marshal(%v) = %x, %v, want %s", test.a, got, err, want)
		}
	}
}

// TestArrayForeign checks encodings other producers write: big-endian
// elements and uint8 arrays.
func TestArrayForeign(t *testing.T) {
	for _, test := range []struct {
		hex  string
		want *testArray
	}{
		{"d852 48 3ff0000000000000", &testArray{kind: Float64Array, shape: []int{1}, data: Float64Bytes([]float64{1})}},
		{"d84b 48 fffffffffffffffe", &testArray{kind: Int64Array, shape: []int{1}, data: Int64Bytes([]int64{-2})}},
		{"d840 42 00ff", &testArray{kind: Int64Array, shape: []int{2}, data: Int64Bytes([]int64{0, 255})}},
		{"d828 82 82 02 01 d840 42 0102", &testArray{kind: Int64Array, shape: []int{2, 1}, data: Int64Bytes([]int64{1, 2})}},
	} {
		got, err := Unmarshal(unhex(t, test.hex))
		if err != nil {
			t.Errorf("Unmarshal(%s) = %v", test.hex, err)
			continue
		}
		if diff := sameArray(got, test.want); diff != "" {
			t.Errorf("Unmarshal(%s): %s", test.hex, diff)
		}
	}
}

var malformedArrays = []struct{ hex, err string }{
	{"d856 47 00000000000000", "at byte 0: typed array (tag 86) of 7 bytes, not a multiple of its item size 8"},
	{"d84f 43 000000", "not a multiple of its item size 8"},
	{"d828 82 82 02 02 d856 48 0000000000000000", "at byte 6: typed array (tag 86) holds 1 elements, but its dims [2 2] make 4"},
	{"d828 82 82 1affffffff 01 d856 40", "array dimension 0 is not an unsigned integer below 2**31"},
	{"d828 82 81 1b00000000ffffffff d856 40", "array dimension 0"},
	{"d828 82 82 1a7fffffff 1a7fffffff d856 40", "holds 0 elements"},
	{"d828 83 80 d856 40 00", "encloses 3 items, want 2"},
	{"d828 82 80 01", "holds a unsigned integer after its dims, want a typed array"},
	{"d828 82 80 d9da07 40", "tag 55815 is not a typed array pirun reads"},
	{"d828 82 98 21", "array of 33 dimensions"},
	{"d828 82 01 02", "tag 40 encloses a unsigned integer, want a array"},
	{"d828 01", "tag 40 encloses a unsigned integer"},
	{"d856 60", "tag 86 encloses a text string, want a byte string"},
	{"d9da06 d856 48 0000000000000000", "tag 55814 (bool array) must enclose tag 64"},
	{"d9da06 d840 43 000201", "bool array element 1 is byte 2, want 0 or 1"},
	{"d856 5a 00100000 00", "input ends inside an item"},
	{"d856 5b ffffffffffffffff", "larger than"},
}

func TestArrayMalformed(t *testing.T) {
	for _, test := range malformedArrays {
		b := unhex(t, test.hex)
		_, err := Unmarshal(b)
		if err == nil || !strings.Contains(err.Error(), test.err) {
			t.Errorf("Unmarshal(%s) = %v, want an error containing %q", test.hex, err, test.err)
		}
		// The same through a reader, one byte at a time.
		_, rerr := NewDecoder(iotest.OneByteReader(bytes.NewReader(b))).Decode()
		if rerr == nil || !strings.Contains(rerr.Error(), test.err) {
			t.Errorf("Decode(reader of %s) = %v, want an error containing %q", test.hex, rerr, test.err)
		}
	}
}

func TestArrayUnregistered(t *testing.T) {
	f := newArray.Swap(nil)
	defer newArray.Store(f)
	_, err := Unmarshal(unhex(t, "d856 48 000000000000f03f"))
	if err == nil || !strings.Contains(err.Error(), "no array type is registered") {
		t.Errorf("Unmarshal without RegisterArray = %v, want an error saying none is registered", err)
	}
}

// TestArrayLent checks that a block Encoder sends a large array's memory
// as a part of its own, without copying it, and says so through Keep; a
// small one is copied and not kept.
func TestArrayLent(t *testing.T) {
	big := arrayOf(Float64Array, 1<<16) // 512 KiB
	small := arrayOf(Float64Array, 16)
	blocks, err := MarshalBlocks(starlark.NewList([]starlark.Value{small, big}), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	lent := false
	for _, p := range blocks.Parts(1 << 20) {
		if len(p) > 0 && unsafe.SliceData(p) == unsafe.SliceData(big.data) && len(p) == len(big.data) {
			lent = true
		}
	}
	if !lent {
		t.Errorf("Parts of a 512 KiB array: no part is the array's own memory")
	}
	if got := big.kept.Load(); got != 1 {
		t.Errorf("Keep calls for a lent array = %d, want 1", got)
	}
	if got := small.kept.Load(); got != 0 {
		t.Errorf("Keep calls for a copied array = %d, want 0", got)
	}
	if got, err := Unmarshal(blocks.Bytes()); err != nil || sameArray(got.(*starlark.List).Index(1), big) != "" {
		t.Errorf("Unmarshal(blocks) = %v, want the array back", err)
	}
}

func TestArrayShapeMismatchOnEncode(t *testing.T) {
	bad := &testArray{kind: Float64Array, shape: []int{2, 2}, data: make([]byte, 24)}
	if _, err := Marshal(bad); err == nil || !strings.Contains(err.Error(), "gives 24 bytes of float64 for shape [2 2]") {
		t.Errorf("Marshal(array of 24 bytes for shape (2, 2)) = %v, want an error naming both", err)
	}
}

// FuzzDecodeArray checks that decoding typed arrays never panics or
// hangs, and that a reader split at any boundary gives the same result.
func FuzzDecodeArray(f *testing.F) {
	for _, test := range malformedArrays {
		f.Add(unhex(f, test.hex), []byte{1, 2})
	}
	for _, a := range []*testArray{arrayOf(Float64Array, 3), arrayOf(Int64Array, 2, 2), arrayOf(BoolArray, 3, 1), arrayOf(Int64Array)} {
		f.Add(mustMarshal(f, a), []byte{3, 0, 5})
	}
	f.Fuzz(func(t *testing.T, data, split []byte) {
		want, wantErr := decodeWhole(NewBytesDecoder(data), Limits{})
		got, err := decodeWhole(NewDecoder(&splitReader{data: data, sizes: split}), Limits{})
		if fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Fatalf("split decode error %v, whole %v", err, wantErr)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("split decode %v, whole %v", got, want)
		}
	})
}

// BenchmarkCodecArray10MFloat64 reports encode and decode of a 10M float64
// array (80 MB), in bytes per second.
func BenchmarkCodecArray10MFloat64(b *testing.B) {
	a := arrayOf(Float64Array, 10_000_000)
	enc := mustMarshal(b, a)
	b.Run("encode-blocks", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := MarshalBlocks(a, 1<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-marshal", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := Marshal(a); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := Unmarshal(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-reader", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := NewDecoder(bytes.NewReader(enc)).Decode(); err != nil && err != io.EOF {
				b.Fatal(err)
			}
		}
	})
}
