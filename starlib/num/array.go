// This file defines the ndarray type's storage: dtypes, the Array struct
// with its shape, strides and shared buffer, and the accessors other
// packages (the wire codec, the engine's files module) build on.

package num

import (
	"fmt"
	"math"
	"sync/atomic"

	"go.starlark.net/starlark"
)

// DType is the element type of an Array.
type DType uint8

// The dtypes of SPEC §11.
const (
	Float64 DType = iota
	Int64
	Bool
)

// String returns numpy's name of d: "float64", "int64" or "bool".
func (d DType) String() string {
	switch d {
	case Float64:
		return "float64"
	case Int64:
		return "int64"
	case Bool:
		return "bool"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// ItemSize returns the bytes one element of d takes: 8, 8 or 1.
func (d DType) ItemSize() int {
	if d == Bool {
		return 1
	}
	return 8
}

// ParseDType returns the dtype named s ("float64", "float", "int64", "int",
// "bool"), as numpy's dtype= argument accepts them.
func ParseDType(s string) (DType, error) {
	switch s {
	case "float64", "float", "f8", "double":
		return Float64, nil
	case "int64", "int", "i8":
		return Int64, nil
	case "bool", "?":
		return Bool, nil
	}
	return 0, fmt.Errorf("unknown dtype %q: use \"float64\", \"int64\" or \"bool\"", s)
}

// buffer is the memory that an array and all its views share. Exactly one
// of f, i and b is in use, by the dtype of the arrays over it. frozen is
// shared too: freezing an array freezes every view of its memory, so no
// alias can change a frozen value.
type buffer struct {
	f      []float64
	i      []int64
	b      []bool
	frozen bool
	// lent is set when the wire encoder keeps the memory to send it later
	// without a copy: checkMutable then copies it before any write.
	lent atomic.Bool
}

// Array is a numpy-style ndarray of 0, 1 or 2 dimensions, row-major. A
// slice, a row or a transpose is a view: it shares its buffer. Strides are
// in elements, not bytes, and may be negative (a[::-1]). An Array is not
// safe for concurrent mutation; once frozen it is immutable and may be
// shared.
type Array struct {
	dtype   DType
	shape   []int // len(shape) is the number of dimensions, 0 to 2
	strides []int // per axis, in elements
	offset  int   // index in the buffer of the first element
	buf     *buffer

	// th is the thread whose operation made the array, if any: operators,
	// which Starlark calls without a thread, charge their work to it while
	// it runs (see opThread).
	th *starlark.Thread
}

var (
	_ starlark.Value = (*Array)(nil)
)

// maxDims is the most dimensions an Array may have.
const maxDims = 2

// maxElems bounds the elements of an array, so that sizes and byte counts
// never overflow an int, on 32-bit platforms (the Pi's armv6 and armv7
// builds) too.
const maxElems = math.MaxInt / 8

// sizeOf returns the product of shape, or an error if a dimension is
// negative or the product overflows.
func sizeOf(shape []int) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %s", d, shapeString(shape))
		}
		if d != 0 && n > maxElems/d {
			return 0, fmt.Errorf("shape %s is too large", shapeString(shape))
		}
		n *= d
	}
	return n, nil
}

// rowMajorStrides returns the strides of a contiguous array of shape.
func rowMajorStrides(shape []int) []int {
	strides := make([]int, len(shape))
	s := 1
	for k := len(shape) - 1; k >= 0; k-- {
		strides[k] = s
		s *= shape[k]
	}
	return strides
}

// newArray returns a zeroed contiguous array of dtype and shape. The
// caller has checked shape with sizeOf (and any memory limit).
func newArray(dtype DType, shape []int) *Array {
	return newArrayOf(dtype, shape, false)
}

// newArrayOf returns a new contiguous array of dtype and shape, zeroed
// unless full: then the caller must write every element before the array
// is seen (see newBuffer).
func newArrayOf(dtype DType, shape []int, full bool) *Array {
	n, _ := sizeOf(shape)
	return &Array{dtype: dtype, shape: append([]int(nil), shape...), strides: rowMajorStrides(shape), buf: newBuffer(dtype, n, full)}
}

// checkShape reports whether n elements fill shape exactly.
func checkShape(n int, shape []int) error {
	if len(shape) > maxDims {
		return fmt.Errorf("shape %s has %d dimensions; num arrays have at most %d", shapeString(shape), len(shape), maxDims)
	}
	size, err := sizeOf(shape)
	if err != nil {
		return err
	}
	if size != n {
		return fmt.Errorf("cannot make an array of shape %s from %d elements", shapeString(shape), n)
	}
	return nil
}

// FromFloat64s returns a contiguous float64 array of shape over data,
// which it takes ownership of. With no shape the array is 1-D.
func FromFloat64s(data []float64, shape ...int) (*Array, error) {
	if shape == nil {
		shape = []int{len(data)}
	}
	if err := checkShape(len(data), shape); err != nil {
		return nil, err
	}
	return &Array{dtype: Float64, shape: append([]int(nil), shape...), strides: rowMajorStrides(shape), buf: &buffer{f: data}}, nil
}

// FromInt64s is FromFloat64s for int64 data.
func FromInt64s(data []int64, shape ...int) (*Array, error) {
	if shape == nil {
		shape = []int{len(data)}
	}
	if err := checkShape(len(data), shape); err != nil {
		return nil, err
	}
	return &Array{dtype: Int64, shape: append([]int(nil), shape...), strides: rowMajorStrides(shape), buf: &buffer{i: data}}, nil
}

// FromBools is FromFloat64s for bool data.
func FromBools(data []bool, shape ...int) (*Array, error) {
	if shape == nil {
		shape = []int{len(data)}
	}
	if err := checkShape(len(data), shape); err != nil {
		return nil, err
	}
	return &Array{dtype: Bool, shape: append([]int(nil), shape...), strides: rowMajorStrides(shape), buf: &buffer{b: data}}, nil
}

// DType returns a's element type.
func (a *Array) DType() DType { return a.dtype }

// Shape returns a copy of a's shape.
func (a *Array) Shape() []int { return append([]int(nil), a.shape...) }

// NDim returns the number of dimensions of a.
func (a *Array) NDim() int { return len(a.shape) }

// Size returns the number of elements of a.
func (a *Array) Size() int {
	n, _ := sizeOf(a.shape)
	return n
}

// IsContiguous reports whether a's elements lie in row-major order, one
// after the other, in its buffer.
func (a *Array) IsContiguous() bool {
	s := 1
	for k := len(a.shape) - 1; k >= 0; k-- {
		if a.shape[k] != 1 && a.strides[k] != s {
			return false
		}
		s *= a.shape[k]
	}
	return true
}

// index returns the buffer index of the element at idx (one int per axis).
func (a *Array) index(idx ...int) int {
	p := a.offset
	for k, i := range idx {
		p += i * a.strides[k]
	}
	return p
}

// each calls f with the buffer index of every element of a, in row-major
// order.
func (a *Array) each(f func(p int)) {
	switch len(a.shape) {
	case 0:
		f(a.offset)
	case 1:
		p := a.offset
		for range a.shape[0] {
			f(p)
			p += a.strides[0]
		}
	case 2:
		for r := range a.shape[0] {
			p := a.offset + r*a.strides[0]
			for range a.shape[1] {
				f(p)
				p += a.strides[1]
			}
		}
	}
}

// Contiguous returns a if it is contiguous, else a contiguous copy of it.
func (a *Array) Contiguous() *Array {
	if a.IsContiguous() {
		return a
	}
	return a.Copy()
}

// Copy returns a contiguous, unfrozen copy of a.
func (a *Array) Copy() *Array {
	c, _ := convert(nil, a, a.dtype) // no thread: no limit, no error
	c.th = nil
	return c
}

// Float64s returns a's elements in row-major order as float64s. For a
// contiguous float64 array it is the array's own memory (do not modify
// it unless you own a); otherwise a new slice, converted from ints or
// bools.
func (a *Array) Float64s() []float64 {
	if a.dtype == Float64 && a.IsContiguous() {
		return a.buf.f[a.offset : a.offset+a.Size()]
	}
	c, _ := convert(nil, a, Float64)
	return c.buf.f
}

// Int64s returns a's elements of an int64 or bool array in row-major order
// as int64s: for a contiguous int64 array its own memory (see Float64s),
// otherwise a new slice. It panics on a float64 array: convert with
// astype first.
func (a *Array) Int64s() []int64 {
	if a.dtype == Float64 {
		panic("num: Int64s of a " + a.dtype.String() + " array")
	}
	if a.dtype == Int64 && a.IsContiguous() {
		return a.buf.i[a.offset : a.offset+a.Size()]
	}
	c, _ := convert(nil, a, Int64)
	return c.buf.i
}

// Bools returns the elements of a bool array in row-major order: for a
// contiguous array its own memory (see Float64s), otherwise a new slice.
// It panics on another dtype.
func (a *Array) Bools() []bool {
	if a.dtype != Bool {
		panic("num: Bools of a " + a.dtype.String() + " array")
	}
	if a.IsContiguous() {
		return a.buf.b[a.offset : a.offset+a.Size()]
	}
	c, _ := convert(nil, a, Bool)
	return c.buf.b
}

// b2f converts a bool to 0 or 1.
func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// shapeString formats shape as numpy prints it: (3,), (2, 3), ().
func shapeString(shape []int) string {
	switch len(shape) {
	case 0:
		return "()"
	case 1:
		return fmt.Sprintf("(%d,)", shape[0])
	}
	s := "("
	for k, d := range shape {
		if k > 0 {
			s += ", "
		}
		s += fmt.Sprint(d)
	}
	return s + ")"
}

// Type implements starlark.Value: "ndarray", as numpy's type name.
func (a *Array) Type() string { return "ndarray" }

// Freeze implements starlark.Value. It freezes a's buffer, and so every
// view of it.
func (a *Array) Freeze() { a.buf.frozen = true }

// checkMutable returns an error naming op if a is frozen.
func (a *Array) checkMutable(op string) error {
	if a.buf.frozen {
		return fmt.Errorf("cannot %s frozen ndarray (values made at a module's top level, and those sent with a function, are frozen): make a mutable copy with a.copy()", op)
	}
	if a.buf.lent.Load() {
		a.buf.unlend()
	}
	return nil
}

// Truth implements starlark.Value: an array is true when it has elements
// (Starlark cannot raise numpy's "truth value is ambiguous" here).
func (a *Array) Truth() starlark.Bool { return a.Size() > 0 }

// Hash implements starlark.Value: arrays are mutable and unhashable.
func (a *Array) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: ndarray") }

// String implements starlark.Value, as numpy's str(a).
func (a *Array) String() string { return formatArray(a) }
