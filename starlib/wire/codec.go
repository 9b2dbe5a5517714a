// This file defines what the encoder and decoder share (the CBOR
// constants and private tags, Limits, UnsendableError, Marshal and
// Unmarshal) and the primitives that protocol envelopes are built from:
// Encoder.EncodeNil … EncodeMapHead, Decoder.DecodeNil … DecodeMapHead
// and Decoder.Skip.

package wire

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"

	"go.starlark.net/starlark"
)

// CBOR major types (RFC 8949 §3.1), already shifted into the initial byte.
const (
	majorUint   = 0 << 5
	majorNegInt = 1 << 5
	majorBytes  = 2 << 5
	majorText   = 3 << 5
	majorArray  = 4 << 5
	majorMap    = 5 << 5
	majorTag    = 6 << 5
	majorSimple = 7 << 5
)

// Initial bytes of the simple values and of the double-precision float.
const (
	cborFalse   = 0xf4
	cborTrue    = 0xf5
	cborNull    = 0xf6
	cborFloat16 = 0xf9
	cborFloat32 = 0xfa
	cborFloat64 = 0xfb
)

// Tags. 2, 3 and 258 are registered with IANA; the others are pirun's
// private tags, documented in doc.go.
const (
	tagPosBignum = 2
	tagNegBignum = 3
	tagSet       = 258
	tagTuple     = 55810
	tagRawString = 55811
	tagStruct    = 55812
	tagRef       = 55813
)

// Defaults used when a field of Limits is zero or negative.
const (
	defaultMaxDepth = 1000
	defaultMaxBytes = 1 << 30
)

// Limits bounds what an Encoder produces and what a Decoder accepts.
// The zero value means DefaultLimits.
type Limits struct {
	// MaxDepth is the deepest nesting of containers (list, tuple, dict,
	// set, struct) allowed; a scalar has depth 0 and [1] has depth 1.
	// Zero or negative means 1000. It also stops the encoder on cyclic
	// values.
	MaxDepth int

	// MaxBytes is the total number of bytes a Decoder may consume, or an
	// Encoder may produce, since it was created or Reset. Zero or
	// negative means 1 GiB.
	MaxBytes int64
}

// DefaultLimits returns the limits used for zero fields of Limits:
// a depth of 1000 and 1 GiB of input. It is safe for concurrent use.
func DefaultLimits() Limits {
	return Limits{MaxDepth: defaultMaxDepth, MaxBytes: defaultMaxBytes}
}

// effective returns l with its zero or negative fields replaced by defaults.
func (l Limits) effective() Limits {
	if l.MaxDepth <= 0 {
		l.MaxDepth = defaultMaxDepth
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = defaultMaxBytes
	}
	return l
}

// UnsendableError reports a value that has no wire form: a function,
// builtin, module or other type, when the Encoder has no Ref hook or the
// hook refused it. Its message names the value's type and where it was
// found, e.g. `cannot send function value at [2]["k"]`.
type UnsendableError struct {
	// Value is the value that could not be sent; never nil.
	Value starlark.Value
	// Err is the Ref hook's error, or nil when there was no hook.
	Err error

	rpath []string // path segments, innermost first
}

// Error implements error.
func (e *UnsendableError) Error() string {
	msg := "cannot send " + e.Value.Type() + " value"
	if p := e.Path(); p != "" {
		msg += " at " + p
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the Ref hook's error, if any.
func (e *UnsendableError) Unwrap() error { return e.Err }

// Path returns where the value was found inside the encoded value, in
// the notation of doc.go (`[2]["k"].f`), or "" for the value itself.
func (e *UnsendableError) Path() string {
	var b strings.Builder
	for i := len(e.rpath) - 1; i >= 0; i-- {
		b.WriteString(e.rpath[i])
	}
	return b.String()
}

// withSegment adds a path segment, made by seg on demand, to err if it
// is an *UnsendableError, and returns err.
func withSegment(err error, seg func() string) error {
	if ue, ok := err.(*UnsendableError); ok {
		ue.rpath = append(ue.rpath, seg())
	}
	return err
}

// maxReprLen bounds dict keys quoted in paths and error messages.
const maxReprLen = 40

// shortRepr returns v's repr, truncated to about maxReprLen bytes.
func shortRepr(v starlark.Value) string {
	s := v.String()
	if len(s) > maxReprLen {
		s = s[:maxReprLen] + "..."
	}
	return s
}

// Marshal returns the encoding of v, with DefaultLimits and no Ref hook.
// It is safe for concurrent use.
func Marshal(v starlark.Value) ([]byte, error) {
	var e Encoder
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return e.buf[:e.n], nil
}

// Unmarshal decodes b, which must hold exactly one value, with
// DefaultLimits and no Ref hook. The result is not frozen and does not
// alias b. It is safe for concurrent use.
func Unmarshal(b []byte) (starlark.Value, error) {
	return unmarshal(NewBytesDecoder(b))
}

// UnmarshalKeeping is Unmarshal for a message's bytes that nothing writes
// again: typed arrays of 1 MiB or more may keep b's memory instead of a
// copy (Decoder.KeepArrays), copying it before their first write.
func UnmarshalKeeping(b []byte) (starlark.Value, error) {
	d := NewBytesDecoder(b)
	d.KeepArrays = true
	return unmarshal(d)
}

func unmarshal(d *Decoder) (starlark.Value, error) {
	v, err := d.Decode()
	if err == io.EOF {
		return nil, fmt.Errorf("wire: decode: empty input: %w", io.ErrUnexpectedEOF)
	}
	if err == nil {
		err = d.expectEnd()
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

// EncodeNil writes a CBOR null (Starlark None). Errors are sticky.
func (e *Encoder) EncodeNil() {
	e.byte(cborNull)
	e.primitiveDone()
}

// EncodeBool writes a CBOR boolean. Errors are sticky.
func (e *Encoder) EncodeBool(b bool) {
	e.byte(boolByte(b))
	e.primitiveDone()
}

// EncodeInt writes a CBOR integer (major type 0 or 1). Errors are sticky.
func (e *Encoder) EncodeInt(i int64) {
	e.int64(i)
	e.primitiveDone()
}

// EncodeUint writes a CBOR unsigned integer. Errors are sticky.
func (e *Encoder) EncodeUint(u uint64) {
	e.head(majorUint, u)
	e.primitiveDone()
}

// EncodeFloat writes a CBOR double (always 8 bytes, so every float64,
// NaN payloads included, round-trips exactly). Errors are sticky.
func (e *Encoder) EncodeFloat(f float64) {
	e.float(f)
	e.primitiveDone()
}

// EncodeString writes s as a text string if it is valid UTF-8, otherwise
// as a byte string under the raw-string tag. Errors are sticky.
func (e *Encoder) EncodeString(s string) {
	e.string(s)
	e.primitiveDone()
}

// EncodeBytes writes a CBOR byte string. Errors are sticky.
func (e *Encoder) EncodeBytes(b []byte) {
	e.payload(majorBytes, unsafe.String(unsafe.SliceData(b), len(b))) // copied or written, never kept
	e.primitiveDone()
}

// EncodeArrayHead writes the head of an array of n items; the caller
// then writes the n items. Errors are sticky.
func (e *Encoder) EncodeArrayHead(n int) {
	e.containerHead(majorArray, n)
}

// EncodeMapHead writes the head of a map of n pairs; the caller then
// writes 2n items, key before value. Errors are sticky.
func (e *Encoder) EncodeMapHead(n int) {
	e.containerHead(majorMap, n)
}

// DecodeNil consumes a null if it comes next and reports whether it did.
func (d *Decoder) DecodeNil() (bool, error) {
	if err := d.start(); err != nil {
		return false, err
	}
	if err := d.need(1); err != nil {
		return false, d.finish(err)
	}
	if d.buf[d.pos] != cborNull {
		return false, nil
	}
	d.pos++
	return true, nil
}

// primitive reads the head of an item that an exported Decode method
// expects, checking that its major type is major.
func (d *Decoder) primitive(major byte, want string) (off int64, ib byte, arg uint64, err error) {
	if err := d.start(); err != nil {
		return 0, 0, 0, err
	}
	off = d.off()
	ib, arg, err = d.head()
	if err == nil && ib&0xe0 != major {
		err = d.errorf(off, "found a %s, want %s", kinds[ib>>5], want)
	}
	return off, ib, arg, d.finish(err)
}

// DecodeBool reads a boolean.
func (d *Decoder) DecodeBool() (bool, error) {
	off, ib, _, err := d.primitive(majorSimple, "a bool")
	if err == nil && ib != cborTrue && ib != cborFalse {
		err = d.finish(d.errorf(off, "found simple value 0x%02x, want a bool", ib))
	}
	return ib == cborTrue, err
}

// DecodeInt reads an integer in the int64 range (no bignums).
func (d *Decoder) DecodeInt() (int64, error) {
	if err := d.start(); err != nil {
		return 0, err
	}
	off := d.off()
	ib, arg, err := d.head()
	switch {
	case err != nil:
	case ib&0xe0 != majorUint && ib&0xe0 != majorNegInt:
		err = d.errorf(off, "found a %s, want an integer", kinds[ib>>5])
	case arg > math.MaxInt64:
		err = d.errorf(off, "integer out of the int64 range")
	case ib&0xe0 == majorNegInt:
		return -1 - int64(arg), nil
	default:
		return int64(arg), nil
	}
	return 0, d.finish(err)
}

// DecodeUint reads an unsigned integer.
func (d *Decoder) DecodeUint() (uint64, error) {
	_, _, arg, err := d.primitive(majorUint, "an unsigned integer")
	return arg, err
}

// DecodeFloat reads a float (half, single or double precision).
func (d *Decoder) DecodeFloat() (float64, error) {
	off, ib, arg, err := d.primitive(majorSimple, "a float")
	if err == nil && ib != cborFloat64 && ib != cborFloat32 && ib != cborFloat16 {
		err = d.finish(d.errorf(off, "found simple value 0x%02x, want a float", ib))
	}
	return toFloat(ib, arg), err
}

// DecodeString reads a string: a text string, or a byte string under the
// raw-string tag, as EncodeString writes them.
func (d *Decoder) DecodeString() (string, error) {
	if err := d.start(); err != nil {
		return "", err
	}
	off := d.off()
	if d.buf[d.pos]&0xe0 == majorText { // the common case, without boxing a Value
		_, arg, err := d.head()
		var s string
		if err == nil {
			s, err = d.str(off, arg)
		}
		if err == nil && !utf8.ValidString(s) {
			err = d.errorf(off, "text string is not valid UTF-8")
		}
		return s, d.finish(err)
	}
	v, err := d.value(0)
	if err != nil {
		return "", d.finish(err)
	}
	s, ok := v.(starlark.String)
	if !ok {
		return "", d.finish(d.errorf(off, "found a %s, want a string", v.Type()))
	}
	return string(s), nil
}

// decodeBytesView is DecodeBytes without the copy when d decodes a byte
// slice (NewBytesDecoder): the result aliases that slice. Envelopes use it
// for payloads, which would otherwise be copied once more per message.
func (d *Decoder) decodeBytesView() ([]byte, error) {
	if d.r != nil {
		return d.DecodeBytes()
	}
	off, _, arg, err := d.primitive(majorBytes, "a byte string")
	if err != nil {
		return nil, err
	}
	b, _, err := d.payload(off, arg)
	if err != nil {
		return nil, d.finish(err)
	}
	return b[:len(b):len(b)], nil
}

// DecodeBytes reads a byte string into a new slice.
func (d *Decoder) DecodeBytes() ([]byte, error) {
	off, _, arg, err := d.primitive(majorBytes, "a byte string")
	if err != nil {
		return nil, err
	}
	b, fresh, err := d.payload(off, arg)
	if err != nil {
		return nil, d.finish(err)
	}
	if !fresh {
		b = bytes.Clone(b)
	}
	return b, nil
}

// DecodeAppend reads an array and appends its items to dst, as Decode
// would decode them into a list, without making the list. dst grows only
// when it lacks room.
func (d *Decoder) DecodeAppend(dst []starlark.Value) ([]starlark.Value, error) {
	if err := d.start(); err != nil {
		return dst, err
	}
	off := d.off()
	ib, arg, err := d.head()
	if err == nil && ib&0xe0 != majorArray {
		err = d.errorf(off, "found a %s, want an array", kinds[ib>>5])
	}
	if err != nil {
		return dst, d.finish(err)
	}
	out, err := d.appendItems(dst, off, arg, 1)
	if err != nil {
		return dst, d.finish(err)
	}
	return out, nil
}

// DecodeArrayHead reads the head of an array and returns its length n;
// n is at most what Limits.MaxBytes leaves, but may exceed the input, so
// do not allocate n items up front.
func (d *Decoder) DecodeArrayHead() (int, error) {
	return d.containerHead(majorArray, "an array", 1)
}

// DecodeMapHead reads the head of a map and returns its number of pairs
// n; as for DecodeArrayHead, do not allocate n pairs up front.
func (d *Decoder) DecodeMapHead() (int, error) {
	return d.containerHead(majorMap, "a map", 2)
}

func (d *Decoder) containerHead(major byte, want string, unit int64) (int, error) {
	off, _, arg, err := d.primitive(major, want)
	if err != nil {
		return 0, err
	}
	n, err := d.count(off, arg, unit)
	return n, d.finish(err)
}

// Skip reads and discards one well-formed item of any kind, tags and
// all, within the Limits (for forward-compatible envelopes).
func (d *Decoder) Skip() error {
	if err := d.start(); err != nil {
		return err
	}
	return d.finish(d.skip(0))
}

// skip discards one item whose container, if any, is at depth.
func (d *Decoder) skip(depth int) error {
	off := d.off()
	ib, arg, err := d.head()
	for err == nil && ib&0xe0 == majorTag {
		ib, arg, err = d.head() // a tag adds no depth, as in Decode
	}
	if err != nil {
		return err
	}
	switch major := ib & 0xe0; major {
	case majorBytes, majorText:
		return d.discard(off, arg)
	case majorArray, majorMap:
		return d.skipItems(off, major, arg, depth+1)
	case majorSimple:
		if ib&31 == 24 && arg < 32 {
			return d.errorf(off, "malformed simple value %d", arg)
		}
	}
	return nil
}

// skipItems skips the contents of an array or map.
func (d *Decoder) skipItems(off int64, major byte, arg uint64, depth int) error {
	if depth > d.lim.MaxDepth {
		return d.depthErr(off)
	}
	unit := int64(1)
	if major == majorMap {
		unit = 2
	}
	n, err := d.count(off, arg, unit)
	for i := 0; err == nil && i < n*int(unit); i++ {
		err = d.skip(depth)
	}
	return err
}

// discard skips an n-byte payload without keeping it.
func (d *Decoder) discard(off int64, arg uint64) error {
	n, err := d.count(off, arg, 1)
	if err != nil {
		return err
	}
	for {
		k := min(n, d.end-d.pos)
		d.pos += k
		if n -= k; n == 0 {
			return nil
		}
		if d.r == nil {
			return d.truncErr(off)
		}
		if d.fill(1); d.pos == len(d.buf) {
			return d.truncErr(off)
		}
	}
}

// Bytes returns the output of an Encoder made without a writer (the zero
// Encoder, or NewEncoder(nil)). The slice is the Encoder's buffer: it is
// valid until the next use of e. A block Encoder gives up its output as
// by Blocks, joined into one slice.
func (e *Encoder) Bytes() []byte {
	if e.blockMax > 0 {
		return e.Blocks().Bytes()
	}
	return e.buf[:e.n]
}
