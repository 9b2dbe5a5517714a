// Package wire is what pirun's host and engines say to each other: the
// value codec, and the protocol messages built with it. It imports no
// transport; everything here works on bytes, io.Reader and io.Writer.
//
// # Values on the wire
//
// Starlark values are written as CBOR (RFC 8949), straight from and to
// starlark.Value, with no intermediate Go tree. Any CBOR decoder can
// parse the stream; only the private tags below carry pirun-specific
// meaning.
//
//	Starlark value            CBOR
//	None, True, False         simple values 0xf6, 0xf5, 0xf4
//	int in [-2**64, 2**64)    major type 0 (n ≥ 0) or 1 (n < 0), shortest head
//	other int                 tag 2 (n ≥ 0) or 3 (n < 0: holds -1-n) around a
//	                          big-endian byte string (RFC 8949 §3.4.3)
//	float                     always a double (0xfb + 8 bytes), so every bit
//	                          survives: inf, -inf, nan payloads, -0.0
//	string, valid UTF-8       text string
//	string, not UTF-8         tag 55811 around a byte string of its bytes
//	bytes                     byte string
//	list                      array
//	tuple                     tag 55810 around an array
//	dict                      map, in insertion order; keys may be any
//	                          hashable value (int, float, tuple, None, …)
//	set                       tag 258 (IANA "finite set") around an array,
//	                          in insertion order
//	struct                    tag 55812 around a map of field name (a
//	                          string) to value, fields in the struct's
//	                          (sorted) order; only structs made by the
//	                          default constructor starlarkstruct.Default
//	num ndarray (an Array)    RFC 8746 typed arrays, below
//	anything else             tag 55813 around an unsigned integer: an index
//	                          into the caller's reference table, through
//	                          Encoder.Ref and Decoder.Ref
//
// The private tags 55810-55814 are not registered with IANA. They sit in
// the first-come-first-served range, past the registered 55799-55801
// (self-described CBOR and its relatives); 55802-55809 and 55815-55819
// are kept for later pirun types.
//
// # Typed arrays
//
// A value implementing Array (num's ndarray) travels as an RFC 8746
// typed array: its elements' raw bytes, little-endian, in row-major
// order, never as boxed numbers.
//
//	array                     CBOR
//	float64, 1-D              tag 86 (binary64, little endian) around a
//	                          byte string of 8 bytes per element
//	int64, 1-D                tag 79 (sint64, little endian), likewise
//	bool, 1-D                 tag 55814 (pirun's) around tag 64 (uint8)
//	                          around one byte per element, 0 or 1: any
//	                          RFC 8746 reader sees a uint8 array, pirun
//	                          sees bools again
//	any other number of dims  tag 40 (multi-dimensional, row-major) around
//	(0-d, 2-D)                [dims, one of the above]: [] for 0-d, [r, c]
//	                          for 2-D, so (1, n) stays 2-D
//
// The decoder also reads what other producers may write: tags 82 and 75
// (float64 and int64 big-endian, swapped), and tag 64 without tag 55814
// (uint8, read as int64). Other typed-array tags are an error naming
// them. A payload whose length is not a multiple of the item size, a
// bool byte other than 0 or 1, or dims whose product differs from the
// element count is an error naming the byte offset. The payload is read
// as any byte string is (sized by the input at hand, never by its head),
// then handed to the constructor set with RegisterArray, which copies it
// once into fresh, aligned memory, or, for a Decoder with KeepArrays (a
// received message nothing writes again) and an aligned little-endian
// payload of 1 MiB or more, keeps it in place, copy-on-write. An
// Assembler starts a message's second part, where a large array's bytes
// begin, on an 8-byte boundary.
//
// A block Encoder lends an array's bytes of 64 KiB or more instead of
// copying them (calling ArrayData.Keep, after which the array copies
// before writing), so Blocks.Parts sends arrays of 256 KiB or more as
// parts of their own. On little-endian machines the bytes are the
// array's own memory (Float64Bytes); elsewhere a portable copy.
//
// A value with no wire form (a function, builtin, module, host-only
// object, or a struct with another constructor) is handed to Encoder.Ref;
// with no hook, or when the hook refuses, encoding fails with an
// *UnsendableError such as `cannot send function value at [2]["k"]`.
// Its path says where the value sits: [i] is a list or tuple index, [k]
// the value under dict key k (repr, shortened), {key i} the i-th dict
// key itself, {i} the i-th set element, .f a struct field.
//
// # What the decoder accepts
//
// The decoder reads exactly what the encoder writes, and is lenient only
// where the meaning is unambiguous: non-shortest heads, half and single
// precision floats, bignums that would fit 64 bits, tag 55811 around
// bytes that are valid UTF-8. It rejects, with an error naming the byte
// offset: indefinite lengths and breaks, reserved additional
// information, simple values other than false, true and null
// (undefined too), unknown tags, a tag around the wrong kind of item,
// text strings that are not UTF-8, unhashable dict keys and set elements,
// repeated dict keys, set elements and struct fields (never silently
// dropped), and, in Unmarshal, data after the value. Input that ends
// inside an item gives an error wrapping io.ErrUnexpectedEOF.
//
// Hostile input is bounded by Limits: nesting depth (1000 by default;
// the encoder applies the same limit, which also stops it on cyclic
// values) and total size (1 GiB by default, so a 256 MiB value fits).
// No length read from the input is trusted for allocation: lists, dicts
// and strings are sized by the input actually at hand, so a head
// claiming 4 GiB on a 10-byte input fails at once without allocating.
// Keys that Starlark hashes alike (all floats in (-1, 1), ints equal
// modulo 2**32) cost a comparison each per insertion, so the comparisons
// they cause in one call are bounded too. Decoded values are never
// frozen: the receiver decides.
//
// # Streams and envelopes
//
// An Encoder buffers output and writes it in 256 KiB blocks; its
// primitives (EncodeNil … EncodeMapHead) and a Decoder's matching
// Decode* methods and Skip build protocol envelopes around values with
// the same stream. Marshal and Unmarshal handle one value in memory.
//
// Large values travel as Blocks: a block Encoder (NewBlockEncoder,
// MarshalBlocks) hands full buffers over instead of copying them to grow
// and lends large strings, MarshalBatchBlocks and MarshalResultsBlocks
// put such payloads into their envelopes without copying them, and
// Blocks.Parts with Sender.SendParts cut the result into message parts.
// Batch, Task, Results and Result have hand-written encoders that write
// the same bytes as the reflective one, and with Done hand-written
// decoders that give the same values and errors (the hot path of small
// tasks); every other envelope goes through reflection.
package wire
