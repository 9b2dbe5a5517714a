// This file defines what the encoder and decoder share: the CBOR constants
// and private tags, Limits, UnsendableError, Marshal and Unmarshal.

package wire

import (
	"fmt"
	"io"
	"strings"

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
	return e.buf, nil
}

// Unmarshal decodes b, which must hold exactly one value, with
// DefaultLimits and no Ref hook. The result is not frozen and does not
// alias b. It is safe for concurrent use.
func Unmarshal(b []byte) (starlark.Value, error) {
	d := NewBytesDecoder(b)
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
