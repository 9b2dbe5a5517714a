// This file defines num's side of the wire codec: an Array is sent as an
// RFC 8746 typed array (see package wire's doc), and decoded typed arrays
// become Arrays again.

package num

import (
	"slices"
	"unsafe"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/wire"
)

var _ wire.Array = (*Array)(nil)

func init() { wire.RegisterArray(fromWire) }

// WireArray implements wire.Array: a's logical contents (a view or a
// transpose sends what it shows), as the memory of a contiguous array when
// a is one (no copy on little-endian machines), else of a contiguous copy.
// When the encoder keeps that memory to send it later, the buffer is
// marked lent, and its next write copies it first (checkMutable).
func (a *Array) WireArray() wire.ArrayData {
	c := a.Contiguous()
	n := c.Size()
	ad := wire.ArrayData{Shape: c.Shape()}
	switch c.dtype {
	case Float64:
		ad.Kind, ad.Data = wire.Float64Array, wire.Float64Bytes(c.buf.f[c.offset:c.offset+n])
	case Int64:
		ad.Kind, ad.Data = wire.Int64Array, wire.Int64Bytes(c.buf.i[c.offset:c.offset+n])
	case Bool:
		ad.Kind, ad.Data = wire.BoolArray, wire.BoolBytes(c.buf.b[c.offset:c.offset+n])
	}
	if c == a && !a.buf.frozen {
		buf := a.buf
		ad.Keep = func() { buf.lent.Store(true) }
	}
	return ad
}

// unlend gives b fresh memory with the same contents, so that memory the
// wire encoder still holds is never written.
func (b *buffer) unlend() {
	switch {
	case b.f != nil:
		b.f = slices.Clone(b.f)
	case b.i != nil:
		b.i = slices.Clone(b.i)
	case b.b != nil:
		b.b = slices.Clone(b.b)
	}
	b.lent.Store(false)
}

// fromWire is the wire.NewArrayFunc of num: it copies data once into a
// new array of kind and shape, or, with keep, makes the array over data
// itself, marked lent so that its first write copies it (checkMutable).
func fromWire(kind wire.ArrayKind, shape []int, data []byte, keep bool) (starlark.Value, error) {
	var dtype DType
	switch kind {
	case wire.Float64Array:
		dtype = Float64
	case wire.Int64Array:
		dtype = Int64
	case wire.BoolArray:
		dtype = Bool
	}
	n, err := sizeOf(shape)
	if err == nil {
		err = checkShape(n, shape)
	}
	if err != nil {
		return nil, err
	}
	noteBig(len(data))
	if keep && dtype != Bool && len(data) > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(data)))%8 == 0 {
		a := &Array{dtype: dtype, shape: append([]int(nil), shape...), strides: rowMajorStrides(shape), buf: &buffer{}}
		p := unsafe.Pointer(unsafe.SliceData(data))
		if dtype == Float64 {
			a.buf.f = unsafe.Slice((*float64)(p), len(data)/8)
		} else {
			a.buf.i = unsafe.Slice((*int64)(p), len(data)/8)
		}
		a.buf.lent.Store(true)
		return a, nil
	}
	switch dtype {
	case Float64:
		return FromFloat64s(wire.Float64sOf(data), shape...)
	case Int64:
		return FromInt64s(wire.Int64sOf(data), shape...)
	}
	a := newArray(dtype, shape)
	copy(wire.BoolBytes(a.buf.b), data)
	return a, nil
}
