// This file tests Encoder.EncodeRange against Encode of the same items.

package wire

import (
	"bytes"
	"errors"
	"testing"

	"go.starlark.net/starlark"
)

func TestEncodeRange(t *testing.T) {
	for _, expr := range []string{
		`list(range(300)) + [-1, 1 << 40, "s", None, (1, 2), [3]] + list(range(70000, 70100))`,
		`tuple(range(1000))`,
		`range(0, 5000, 7)`,
	} {
		seq := eval(t, expr).(starlark.Indexable)
		n := seq.Len()
		items := make([]starlark.Value, n)
		for i := range items {
			items[i] = seq.Index(i)
		}
		for _, r := range [][2]int{{0, 0}, {0, n}, {5, 17}, {n - 1, n}, {n / 3, n}} {
			for _, tuple := range []bool{false, true} {
				var want starlark.Value = starlark.NewList(items[r[0]:r[1]])
				if tuple {
					want = starlark.Tuple(items[r[0]:r[1]])
				}
				e := NewBlockEncoder(0)
				if err := e.EncodeRange(seq, r[0], r[1], tuple); err != nil {
					t.Fatalf("EncodeRange(%.20s, %d, %d, %v) failed: %v", expr, r[0], r[1], tuple, err)
				}
				if got := e.Bytes(); !bytes.Equal(got, mustMarshal(t, want)) {
					t.Errorf("EncodeRange(%.20s, %d, %d, %v) differs from Encode of the items", expr, r[0], r[1], tuple)
				}
			}
		}
	}
}

func TestEncodeRangeErrors(t *testing.T) {
	seq := starlark.NewList([]starlark.Value{starlark.MakeInt(1), starlark.NewBuiltin("f", nil), starlark.None})
	for _, r := range [][2]int{{-1, 2}, {2, 1}, {0, 4}} {
		var e Encoder
		if err := e.EncodeRange(seq, r[0], r[1], false); err == nil {
			t.Errorf("EncodeRange(3 items, %d, %d) = nil, want a range error", r[0], r[1])
		}
	}
	var e Encoder
	var ue *UnsendableError
	if err := e.EncodeRange(seq, 1, 3, false); !errors.As(err, &ue) || ue.Path() != "[0]" {
		t.Errorf("EncodeRange(unsendable at 1, 1, 3) = %v, want an UnsendableError at [0]", err)
	}
	if e.EncodeNil(); !bytes.Equal(e.Bytes(), []byte{cborNull}) {
		t.Errorf("output after a failed EncodeRange = %x, want f6 (rolled back)", e.Bytes())
	}
}

func TestDecodeAppend(t *testing.T) {
	for _, expr := range []string{`[]`, `[1, "a", [2], 300000]`, `list(range(100000))`} {
		v := eval(t, expr).(*starlark.List)
		data := mustMarshal(t, v)
		for _, dst := range [][]starlark.Value{nil, {starlark.None}, make([]starlark.Value, 1, 1+v.Len())} {
			got, err := NewBytesDecoder(data).DecodeAppend(dst)
			if err != nil {
				t.Fatalf("DecodeAppend(%.20s) failed: %v", expr, err)
			}
			want := append(append([]starlark.Value(nil), dst...), collect(v)...)
			if diff := identical(starlark.NewList(got), starlark.NewList(want)); diff != "" {
				t.Errorf("DecodeAppend(%.20s) onto %d items: %s", expr, len(dst), diff)
			}
			if cap(dst) >= len(want) && len(got) > 0 && &got[0] != &dst[:1][0] {
				t.Errorf("DecodeAppend(%.20s) reallocated a slice with room", expr)
			}
		}
	}
	for _, bad := range []string{`(1, 2)`, `{"a": 1}`, `5`} {
		if _, err := NewBytesDecoder(mustMarshal(t, eval(t, bad))).DecodeAppend(nil); err == nil {
			t.Errorf("DecodeAppend(%s) = nil error, want one (not a list)", bad)
		}
	}
	if _, err := NewBytesDecoder([]byte{0x83, 1, 2}).DecodeAppend(nil); err == nil {
		t.Errorf("DecodeAppend(truncated) = nil error, want one")
	}
}
