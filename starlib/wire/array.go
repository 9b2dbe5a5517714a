// This file defines typed arrays on the wire (RFC 8746): the Array
// interface a Starlark value implements to be sent as one, the
// registration of the decoder's constructor, and their encoding and
// decoding.

package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"unsafe"

	"go.starlark.net/starlark"
)

// RFC 8746 tags (IANA-registered), and pirun's private bool-array tag.
const (
	tagMultiDim  = 40    // [dims, typed array], row-major
	tagUint8     = 64    // uint8 typed array
	tagInt64BE   = 75    // sint64, big endian
	tagInt64LE   = 79    // sint64, little endian
	tagFloat64BE = 82    // IEEE 754 binary64, big endian
	tagFloat64LE = 86    // IEEE 754 binary64, little endian
	tagBoolArray = 55814 // around a uint8 typed array of 0s and 1s
)

// maxArrayDims bounds the dimensions the decoder accepts in tag 40.
const maxArrayDims = 32

// ArrayKind is the element type of an array on the wire.
type ArrayKind uint8

// The element types of arrays on the wire.
const (
	Float64Array ArrayKind = iota + 1 // float64, 8 bytes each
	Int64Array                        // int64, 8 bytes each
	BoolArray                         // bool, one byte each, 0 or 1
)

// String returns the kind's element type name: "float64", "int64", "bool".
func (k ArrayKind) String() string {
	switch k {
	case Float64Array:
		return "float64"
	case Int64Array:
		return "int64"
	case BoolArray:
		return "bool"
	}
	return fmt.Sprintf("ArrayKind(%d)", uint8(k))
}

// ItemSize returns the bytes one element of kind k takes on the wire.
func (k ArrayKind) ItemSize() int {
	if k == BoolArray {
		return 1
	}
	return 8
}

// ArrayData is an array's contents as the encoder sends them.
type ArrayData struct {
	// Kind is the element type.
	Kind ArrayKind
	// Shape has one length per dimension (none for a 0-d array).
	Shape []int
	// Data holds the elements in row-major order, little-endian, bools
	// as one byte each (0 or 1): len(Data) is the product of Shape times
	// Kind.ItemSize(). It may alias the array's memory.
	Data []byte
	// Keep, if non-nil, is called when the encoder keeps Data past the
	// call to send it later without a copy (a block Encoder lends Data
	// of 64 KiB or more): from then on the array must never write the
	// memory Data aliases (it copies before its next write).
	Keep func()
}

// Array is implemented by Starlark values that travel as RFC 8746 typed
// arrays (package num's ndarray). The decoder turns them back into values
// through the constructor set with RegisterArray.
type Array interface {
	starlark.Value
	// WireArray returns the array's contents. It is called on the
	// encoding goroutine, and, for lists encoded in two halves, on
	// another goroutine at the same time for other elements.
	WireArray() ArrayData
}

// NewArrayFunc makes a Starlark value of an array read from the wire.
// data holds the elements as ArrayData.Data does, and its length matches
// shape and kind. Unless keep is set, data is valid only during the call
// (the function copies it); with keep, data is 8-byte aligned memory that
// nothing writes again, which the array may keep instead of a copy as
// long as it copies before its first write (see Decoder.KeepArrays). The
// function must be safe for concurrent use.
type NewArrayFunc func(kind ArrayKind, shape []int, data []byte, keep bool) (starlark.Value, error)

// keepArrayBytes is the size from which a decoder with KeepArrays lets a
// typed array keep the input's memory: below it a copy costs less than
// the input it would keep alive.
const keepArrayBytes = 1 << 20

var newArray atomic.Pointer[NewArrayFunc]

// RegisterArray sets the constructor of decoded typed arrays, as
// image.RegisterFormat does for image decoders: package num calls it
// from its init function. A later call replaces an earlier one. It is
// safe for concurrent use.
func RegisterArray(f NewArrayFunc) { newArray.Store(&f) }

// littleEndian reports whether this machine stores numbers little-end
// first, so that a float64 slice's memory is already the wire's bytes.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Float64Bytes returns the little-endian bytes of f: on little-endian
// machines f's own memory (no copy), elsewhere a new slice.
func Float64Bytes(f []float64) []byte {
	if len(f) == 0 {
		return []byte{}
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 8*len(f))
	}
	out := make([]byte, 8*len(f))
	for i, x := range f {
		binary.LittleEndian.PutUint64(out[8*i:], math.Float64bits(x))
	}
	return out
}

// Int64Bytes is Float64Bytes for int64s.
func Int64Bytes(v []int64) []byte {
	if len(v) == 0 {
		return []byte{}
	}
	if littleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 8*len(v))
	}
	out := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(out[8*i:], uint64(x))
	}
	return out
}

// BoolBytes is Float64Bytes for bools: Go stores a bool as one byte, 0
// or 1, on every machine.
func BoolBytes(b []bool) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&b[0])), len(b))
}

// noZeroCopy returns a copy of data in new memory that is not cleared
// before the copy fills it (strings.Builder.Grow allocates so): for a
// large array that saves a pass over memory as long as the copy.
func noZeroCopy(data []byte) []byte {
	var sb strings.Builder
	sb.Grow(len(data))
	sb.Write(data)
	s := sb.String()
	return unsafe.Slice(unsafe.StringData(s), len(s)) // sb is dropped: the bytes are ours
}

// Float64sOf returns a new slice of the little-endian float64s in data,
// whose length is a multiple of 8, in fresh 8-byte aligned memory: one
// copy, without clearing the memory first.
func Float64sOf(data []byte) []float64 {
	n := len(data) / 8
	if littleEndian && n > 0 {
		if b := noZeroCopy(data); uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
			return unsafe.Slice((*float64)(unsafe.Pointer(&b[0])), n)
		}
	}
	f := make([]float64, n)
	CopyFloat64s(f, data)
	return f
}

// Int64sOf is Float64sOf for int64s.
func Int64sOf(data []byte) []int64 {
	n := len(data) / 8
	if littleEndian && n > 0 {
		if b := noZeroCopy(data); uintptr(unsafe.Pointer(&b[0]))%8 == 0 {
			return unsafe.Slice((*int64)(unsafe.Pointer(&b[0])), n)
		}
	}
	v := make([]int64, n)
	CopyInt64s(v, data)
	return v
}

// CopyFloat64s copies little-endian float64 bytes into dst (one memmove
// on little-endian machines); len(src) must be 8*len(dst).
func CopyFloat64s(dst []float64, src []byte) {
	if littleEndian {
		copy(Float64Bytes(dst), src)
		return
	}
	for i := range dst {
		dst[i] = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
	}
}

// CopyInt64s is CopyFloat64s for int64s.
func CopyInt64s(dst []int64, src []byte) {
	if littleEndian {
		copy(Int64Bytes(dst), src)
		return
	}
	for i := range dst {
		dst[i] = int64(binary.LittleEndian.Uint64(src[8*i:]))
	}
}

// array appends a typed array: a bare typed-array tag for one dimension,
// else tag 40 around [dims, typed array].
func (e *Encoder) array(a Array) error {
	ad := a.WireArray()
	size := ad.Kind.ItemSize()
	n := 1
	for _, d := range ad.Shape {
		if d < 0 {
			return fmt.Errorf("wire: encode: %s with negative dimension in shape %v", a.Type(), ad.Shape)
		}
		n *= d
	}
	if ad.Kind < Float64Array || ad.Kind > BoolArray || len(ad.Data) != n*size {
		return fmt.Errorf("wire: encode: %s gives %d bytes of %v for shape %v", a.Type(), len(ad.Data), ad.Kind, ad.Shape)
	}
	if len(ad.Shape) != 1 {
		e.head(majorTag, tagMultiDim)
		e.head(majorArray, 2)
		e.head(majorArray, uint64(len(ad.Shape)))
		for _, d := range ad.Shape {
			e.head(majorUint, uint64(d))
		}
	}
	switch ad.Kind {
	case Float64Array:
		e.head(majorTag, tagFloat64LE)
	case Int64Array:
		e.head(majorTag, tagInt64LE)
	case BoolArray:
		e.head(majorTag, tagBoolArray)
		e.head(majorTag, tagUint8)
	}
	e.keptPayload(ad.Data, ad.Keep)
	return e.err
}

// keptPayload appends a byte string of b, as payload does, calling keep
// (if non-nil) when b is lent rather than copied or written at once.
func (e *Encoder) keptPayload(b []byte, keep func()) {
	if keep != nil && e.blockMax > 0 && len(b) >= lendSize && e.w == nil {
		keep()
	}
	e.payload(majorBytes, unsafe.String(unsafe.SliceData(b), len(b)))
}

// errNoArrays is the error for a typed array when none is registered.
var errNoArrays = errors.New("typed array found, but no array type is registered (a program that decodes arrays imports package num)")

// multiDim reads the content of tag 40: [dims, typed array].
func (d *Decoder) multiDim(off int64) (starlark.Value, error) {
	n, err := d.enclosed(off, tagMultiDim, majorArray)
	if err != nil {
		return nil, err
	}
	if n != 2 {
		return nil, d.errorf(off, "tag 40 (multi-dimensional array) encloses %d items, want 2: [dims, typed array]", n)
	}
	doff := d.off()
	ndim, err := d.enclosed(doff, tagMultiDim, majorArray)
	if err != nil {
		return nil, err
	}
	if ndim > maxArrayDims {
		return nil, d.errorf(doff, "array of %d dimensions; at most %d are accepted", ndim, maxArrayDims)
	}
	shape := make([]int, ndim)
	for i := range shape {
		ioff := d.off()
		ib, arg, err := d.head()
		if err != nil {
			return nil, err
		}
		if ib&0xe0 != majorUint || arg > math.MaxInt32 {
			return nil, d.errorf(ioff, "array dimension %d is not an unsigned integer below 2**31", i)
		}
		shape[i] = int(arg)
	}
	toff := d.off()
	ib, tag, err := d.head()
	if err != nil {
		return nil, err
	}
	if ib&0xe0 != majorTag {
		return nil, d.errorf(toff, "tag 40 holds a %s after its dims, want a typed array (tag 64, 75, 79, 82 or 86)", kinds[ib>>5])
	}
	return d.typedArray(toff, tag, shape)
}

// typedArray reads the byte string of a typed-array tag (or of the
// bool-array tag around tag 64) at off, as an array of shape (nil: 1-D).
func (d *Decoder) typedArray(off int64, tag uint64, shape []int) (starlark.Value, error) {
	if tag == tagBoolArray {
		ib, inner, err := d.head()
		if err != nil {
			return nil, err
		}
		if ib&0xe0 != majorTag || inner != tagUint8 {
			return nil, d.errorf(off, "tag %d (bool array) must enclose tag 64 (uint8 typed array)", tagBoolArray)
		}
	}
	var kind ArrayKind
	switch tag {
	case tagFloat64LE, tagFloat64BE:
		kind = Float64Array
	case tagInt64LE, tagInt64BE, tagUint8:
		kind = Int64Array
	case tagBoolArray:
		kind = BoolArray
	default:
		return nil, d.errorf(off, "tag %d is not a typed array pirun reads: want 64 (uint8), 75/79 (int64 big/little endian) or 82/86 (float64 big/little endian)", tag)
	}
	n, err := d.enclosed(off, tag, majorBytes)
	if err != nil {
		return nil, err
	}
	b, _, err := d.payload(off, n)
	if err != nil {
		return nil, err
	}
	item := 8
	if tag == tagUint8 || tag == tagBoolArray {
		item = 1
	}
	if len(b)%item != 0 {
		return nil, d.errorf(off, "typed array (tag %d) of %d bytes, not a multiple of its item size %d", tag, len(b), item)
	}
	count := len(b) / item
	if shape == nil {
		shape = []int{count}
	} else if want, ok := elements(shape); !ok || want != count {
		return nil, d.errorf(off, "typed array (tag %d) holds %d elements, but its dims %v make %d", tag, count, shape, want)
	}
	b, err = d.toLittle(off, tag, b)
	if err != nil {
		return nil, err
	}
	f := newArray.Load()
	if f == nil {
		return nil, d.errorf(off, "%v", errNoArrays)
	}
	keep := d.KeepArrays && d.r == nil && (tag == tagFloat64LE || tag == tagInt64LE) && littleEndian &&
		len(b) >= keepArrayBytes && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 == 0
	v, err := (*f)(kind, shape, b, keep)
	if err != nil {
		return nil, d.errorf(off, "%v", err)
	}
	return v, nil
}

// elements returns the product of shape, and false if it overflows.
func elements(shape []int) (int, bool) {
	n := 1
	for _, k := range shape {
		if k != 0 && n > math.MaxInt/k {
			return 0, false
		}
		n *= k
	}
	return n, true
}

// toLittle converts the payload of a typed array to what NewArrayFunc
// takes: big-endian elements swapped, uint8 widened to int64, bools
// checked to be 0 or 1. Little-endian payloads are returned as they are.
func (d *Decoder) toLittle(off int64, tag uint64, b []byte) ([]byte, error) {
	switch tag {
	case tagFloat64BE, tagInt64BE:
		out := make([]byte, len(b))
		for i := 0; i < len(b); i += 8 {
			binary.LittleEndian.PutUint64(out[i:], binary.BigEndian.Uint64(b[i:]))
		}
		return out, nil
	case tagUint8:
		out := make([]byte, 8*len(b))
		for i, c := range b {
			out[8*i] = c
		}
		return out, nil
	case tagBoolArray:
		for i, c := range b {
			if c > 1 {
				return nil, d.errorf(off, "bool array element %d is byte %d, want 0 or 1", i, c)
			}
		}
	}
	return b, nil
}
