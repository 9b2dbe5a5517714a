// This file defines the codec benchmarks, in bytes of CBOR per second.

package wire

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"go.starlark.net/starlark"
)

// benchList returns a list of n ints in [0, 1e9), as in the research
// notes (§B.2): most take 5 bytes on the wire.
func benchList(n int) starlark.Value {
	elems := make([]starlark.Value, n)
	x := uint64(88172645463325252)
	for i := range elems {
		x ^= x << 13 // xorshift: deterministic and cheap
		x ^= x >> 7
		x ^= x << 17
		elems[i] = starlark.MakeInt64(int64(x % 1e9))
	}
	return starlark.NewList(elems)
}

// benchDict returns {"keyNNNNNN": N} with n entries.
func benchDict(n int) starlark.Value {
	d := starlark.NewDict(n)
	for i := range n {
		d.SetKey(starlark.String(fmt.Sprintf("key%06d", i)), starlark.MakeInt(i))
	}
	return d
}

func BenchmarkCodecList2MInts(b *testing.B) { benchCodec(b, benchList(2_000_000)) }

func BenchmarkCodecDict100k(b *testing.B) { benchCodec(b, benchDict(100_000)) }

func BenchmarkCodecMixed(b *testing.B) {
	elems := make([]starlark.Value, 1000)
	for i := range elems {
		elems[i] = eval(b, `{"name": "engine-%d", "load": 0.25, "tags": ("a", "b"), "n": -7, "ok": True}`)
	}
	benchCodec(b, starlark.NewList(elems))
}

// benchCodec reports encode, decode and both, in bytes of CBOR per second.
func benchCodec(b *testing.B, v starlark.Value) {
	enc := mustMarshal(b, v)
	b.Run("encode+decode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			out, err := Marshal(v)
			if err == nil {
				_, err = Unmarshal(out)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := Marshal(v); err != nil {
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
	b.Run("encode-blocks", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := MarshalBlocks(v, 8<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encode-stream", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		e := NewEncoder(io.Discard)
		for b.Loop() {
			e.Reset(io.Discard)
			if err := e.Encode(v); err != nil || e.Flush() != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-stream", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := NewDecoder(bytes.NewReader(enc)).Decode(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
