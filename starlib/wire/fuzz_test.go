// This file defines the codec fuzz tests, FuzzDecode and FuzzRoundTrip.

package wire

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"testing/iotest"

	"go.starlark.net/starlark"
)

// maxSeed bounds the seeds' size: the fuzzer spends its time minimizing
// large inputs instead of exploring.
const maxSeed = 1024

// fuzzSeeds adds the encodings of the round-trip table and the malformed
// inputs to f's corpus; args makes the rest of each seed's arguments.
func fuzzSeeds(f *testing.F, args func(b []byte) []any) {
	for _, expr := range roundTripExprs {
		if enc := mustMarshal(f, eval(f, expr)); len(enc) <= maxSeed {
			f.Add(args(enc)...)
		}
	}
	for _, test := range malformed {
		f.Add(args(unhex(f, test.hex))...)
	}
}

// splitReader returns its data in chunks whose sizes come from sizes
// (cycled); a zero size makes one empty read, as readers may.
type splitReader struct {
	data, sizes []byte
	i           int
	empty       bool // the last read was empty
}

func (r *splitReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(r.sizes) > 0 {
		n = int(r.sizes[r.i%len(r.sizes)]) % 97
		r.i++
	}
	if n == 0 && r.empty {
		n = 1
	}
	r.empty = n == 0
	n = min(n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// hideLen hides a reader's Len method from the Decoder.
type hideLen struct{ io.Reader }

// FuzzDecode checks that decoding never panics or hangs, and that input
// split at any chunk boundaries decodes exactly as it does in one piece.
// When split's first byte is odd, it is also the byte limit.
func FuzzDecode(f *testing.F) {
	fuzzSeeds(f, func(b []byte) []any { return []any{b, []byte{0, 3, 1, 64}} })
	f.Add([]byte("\x82\x61a\x00"), []byte{3})
	f.Fuzz(func(t *testing.T, data, split []byte) {
		var lim Limits
		if len(split) > 0 && split[0]&1 == 1 {
			lim.MaxBytes = int64(split[0])
		}
		want, wantErr := decodeWhole(NewBytesDecoder(data), lim)
		for _, r := range []io.Reader{
			iotest.OneByteReader(bytes.NewReader(data)),
			&splitReader{data: data, sizes: split},
			hideLen{iotest.HalfReader(bytes.NewReader(data))},
		} {
			got, err := decodeWhole(NewDecoder(r), lim)
			if fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Fatalf("decode of %x from %T = %v, want %v", data, r, err, wantErr)
			}
			if err == nil && identical(got, want) != "" {
				t.Fatalf("decode of %x from %T = %v, want %v: %s", data, r, got, want, identical(got, want))
			}
		}
		checkSkip(t, data, wantErr == nil)
	})
}

// decodeWhole decodes one value that must span the whole input.
func decodeWhole(d *Decoder, lim Limits) (starlark.Value, error) {
	d.Limits = lim
	v, err := d.Decode()
	if err == nil {
		err = d.expectEnd()
	}
	return v, err
}

// checkSkip checks that Skip accepts what Decode accepts, and consumes
// the same bytes.
func checkSkip(t *testing.T, data []byte, decodes bool) {
	d := NewBytesDecoder(data)
	err := d.Skip()
	if decodes && (err != nil || d.off() != int64(len(data))) {
		t.Fatalf("Skip(%x) = %v at byte %d, want nil at byte %d", data, err, d.off(), len(data))
	}
}

// FuzzRoundTrip checks that whatever decodes encodes back to a value
// that decodes equal, with the same types, and to the same bytes again.
func FuzzRoundTrip(f *testing.F) {
	fuzzSeeds(f, func(b []byte) []any { return []any{b} })
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		enc, err := Marshal(v)
		if err != nil {
			t.Fatalf("Marshal(Unmarshal(%x)) failed: %v", data, err)
		}
		got, err := Unmarshal(enc)
		if err != nil {
			t.Fatalf("Unmarshal(%x) (re-encoding of %x) failed: %v", enc, data, err)
		}
		if d := identical(v, got); d != "" {
			t.Fatalf("round trip of %x = %v, want %v: %s", data, got, v, d)
		}
		if eq, err := starlark.EqualDepth(v, got, 1<<20); err != nil || !eq {
			t.Fatalf("EqualDepth(round trip of %x) = %v, %v, want true", data, eq, err)
		}
		if again, _ := Marshal(got); !bytes.Equal(again, enc) {
			t.Fatalf("re-encoding of %x = %x, want %x (encoding is not canonical)", data, again, enc)
		}
	})
}
