// This file defines Rows and ConcatRows: an array split along axis 0 and
// arrays joined along it, for DirectView.scatter and gather.

package num

import (
	"fmt"
	"slices"
)

// Rows returns the view a[start:end] along axis 0, sharing a's memory:
// for a 2-D array the rows start to end-1, for a 1-D array those
// elements. It returns an error for a 0-d array or a bad range.
func (a *Array) Rows(start, end int) (*Array, error) {
	if len(a.shape) == 0 {
		return nil, fmt.Errorf("a 0-d array has no axis 0 to split")
	}
	if start < 0 || end < start || end > a.shape[0] {
		return nil, fmt.Errorf("rows [%d:%d] of an array of shape %s", start, end, shapeString(a.shape))
	}
	shape := slices.Clone(a.shape)
	shape[0] = end - start
	return &Array{dtype: a.dtype, shape: shape, strides: slices.Clone(a.strides),
		offset: a.offset + start*a.strides[0], buf: a.buf}, nil
}

// ConcatRows returns a new array of arrays joined along axis 0, as
// numpy.concatenate does: they must have the same number of dimensions
// (1 or 2) and the same lengths past axis 0; the dtype is the widest of
// theirs (bool < int64 < float64).
func ConcatRows(arrays []*Array) (*Array, error) {
	if len(arrays) == 0 {
		return nil, fmt.Errorf("need at least one array to concatenate")
	}
	first := arrays[0]
	dtype, rows := Bool, 0
	for i, a := range arrays {
		if len(a.shape) == 0 || len(a.shape) != len(first.shape) || !slices.Equal(a.shape[1:], first.shape[1:]) {
			return nil, fmt.Errorf("cannot concatenate arrays of shapes %s and %s along axis 0 (array %d)", shapeString(first.shape), shapeString(a.shape), i)
		}
		rows += a.shape[0]
		if a.dtype == Float64 || a.dtype == Int64 && dtype == Bool {
			dtype = a.dtype
		}
	}
	shape := slices.Clone(first.shape)
	shape[0] = rows
	if _, err := sizeOf(shape); err != nil {
		return nil, err
	}
	out := newArray(dtype, shape)
	at := 0
	for _, a := range arrays {
		switch dtype {
		case Float64:
			at += copy(out.buf.f[at:], a.Float64s())
		case Int64:
			at += copy(out.buf.i[at:], a.Int64s())
		case Bool:
			at += copy(out.buf.b[at:], a.Bools())
		}
	}
	return out, nil
}
