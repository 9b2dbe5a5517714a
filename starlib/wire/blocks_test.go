// This file tests the block Encoder: same bytes as Marshal, bounded
// blocks, limits and errors.

package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

func TestMarshalBlocksSameBytes(t *testing.T) {
	exprs := append([]string{
		`list(range(300000))`,
		`["x" * 70000, "y" * 200000, b"z" * 300000, 1, rawstr(b"\xff" * 100000)]`,
		`{str(i): [i] * 3 for i in range(20000)}`,
		`tuple([float(i) for i in range(50000)])`,
	}, roundTripExprs...)
	for _, expr := range exprs {
		v := eval(t, expr)
		want := mustMarshal(t, v)
		for _, size := range []int{0, 100_000, 1 << 20} {
			got, err := MarshalBlocks(v, size)
			if err != nil {
				t.Fatalf("MarshalBlocks(%.40s, %d) failed: %v", expr, size, err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("MarshalBlocks(%.40s, %d) = %d bytes, want the %d of Marshal", expr, size, got.Len(), len(want))
			}
			for _, p := range got {
				if len(p) > max(size, lendSize) {
					t.Errorf("MarshalBlocks(%.40s, %d) made a block of %d bytes", expr, size, len(p))
				}
			}
		}
	}
}

func TestBlockEncoderLimits(t *testing.T) {
	for _, expr := range []string{`list(range(100000))`, `["x" * 300000]`} {
		e := NewBlockEncoder(1 << 16)
		e.Limits.MaxBytes = 1000
		if err := e.Encode(eval(t, expr)); err == nil || !strings.Contains(err.Error(), "Limits.MaxBytes") {
			t.Errorf("block Encode(%s) with MaxBytes 1000 = %v, want limit error", expr, err)
		}
	}
	e := NewBlockEncoder(1 << 16)
	bad := starlark.NewList([]starlark.Value{starlark.MakeInt(1), starlark.NewBuiltin("f", nil)})
	var ue *UnsendableError
	if err := e.Encode(bad); !errors.As(err, &ue) || ue.Path() != "[1]" {
		t.Errorf("block Encode(unsendable) = %v, want an UnsendableError at [1]", err)
	}
	if err := e.Encode(starlark.MakeInt(5)); err != nil {
		t.Fatalf("block Encode after a value error = %v, want nil (nothing was handed over)", err)
	}
	if got := e.Blocks().Bytes(); !bytes.Equal(got, []byte{5}) {
		t.Errorf("block output after a rolled-back value = %x, want 05", got)
	}
}

func TestEncodeBlocks(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 100_000)
	in := Blocks{[]byte("ab"), big, nil, []byte("c")}
	want := append(append([]byte{0x5a, 0, 1, 0x86, 0xa3}, "ab"...), append(big, 'c')...)
	for _, e := range []*Encoder{{}, NewBlockEncoder(1 << 16)} {
		e.EncodeBlocks(in)
		if got := e.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("EncodeBlocks (block encoder %v) = %d bytes %x…, want %d bytes %x…", e.blockMax > 0, len(got), got[:min(8, len(got))], len(want), want[:8])
		}
	}
}
