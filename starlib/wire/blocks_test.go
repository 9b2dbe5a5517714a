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

// TestPooledEncodersKeepOutputs checks that outputs carved from the
// buffers pooled Encoders share stay intact while later outputs are
// written, also across goroutines.
func TestPooledEncodersKeepOutputs(t *testing.T) {
	const workers, per = 4, 2000
	outs := make([][]Blocks, workers)
	done := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := range per {
				v := starlark.Tuple{starlark.MakeInt(w), starlark.MakeInt(i), starlark.String(strings.Repeat("s", i%50))}
				b, err := MarshalBlocks(v, 1<<20)
				if err != nil {
					done <- err
					return
				}
				outs[w] = append(outs[w], b)
			}
			done <- nil
		}()
	}
	for range workers {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for w, bs := range outs {
		for i, b := range bs {
			want := mustMarshal(t, starlark.Tuple{starlark.MakeInt(w), starlark.MakeInt(i), starlark.String(strings.Repeat("s", i%50))})
			if !bytes.Equal(b.Bytes(), want) {
				t.Fatalf("output %d of worker %d changed after later encodes: % x, want % x", i, w, b.Bytes(), want)
			}
		}
	}
}

// TestPutBlockEncoderKeepsOnlySmallBuffers checks that a pooled Encoder
// keeps the rest of its buffer for the next output only when that buffer
// is small, so that tiny outputs never pin a large block.
func TestPutBlockEncoderKeepsOnlySmallBuffers(t *testing.T) {
	for _, tc := range []struct {
		expr string
		keep bool
	}{
		{`1`, true},
		{`list(range(200000))`, false},
	} {
		e := GetBlockEncoder(1 << 20)
		e.buf, e.smallBlock = nil, false // start without a carried buffer
		if err := e.Encode(eval(t, tc.expr)); err != nil {
			t.Fatal(err)
		}
		out := e.Blocks()
		PutBlockEncoder(e)
		if kept := e.buf != nil; kept != tc.keep {
			t.Errorf("after %s (%d bytes): kept the rest of its buffer = %v (%d bytes), want %v", tc.expr, out.Len(), kept, len(e.buf), tc.keep)
		}
		if len(e.buf) > carveBlock {
			t.Errorf("after %s: kept %d bytes, more than %d", tc.expr, len(e.buf), carveBlock)
		}
	}
}
