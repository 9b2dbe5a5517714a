// This file defines the matrix products num.dot, num.matmul, num.inner,
// num.outer and num.trace. Float products run in gonum's Dgemm, a block
// of rows at a time, so that a long product is charged against the step
// limit and stops soon after its thread is cancelled; int products run in
// a typed loop and stay int64, as numpy's.

package num

import (
	"fmt"

	"go.starlark.net/starlark"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemmBlock is the number of multiply-adds one Dgemm call may do between
// two checks of the step budget and the thread's context: 2-4 ms here,
// 10-30 ms on a Raspberry Pi, so that cancellation is seen within 100 ms.
// Blocks of a few rows cost gonum little (2000×2000 runs 4 rows a block).
const gemmBlock = 1 << 24

// matmulOperands reads num.NAME(a, b) into two arrays.
func matmulOperands(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*Array, *Array, error) {
	var av, bv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), receiverArgs(b, args), kwargs, "a", &av, "b", &bv); err != nil {
		return nil, nil, err
	}
	x, err := computeArray(b.Name(), av)
	if err != nil {
		return nil, nil, err
	}
	y, err := computeArray(b.Name(), bv)
	if err != nil {
		return nil, nil, err
	}
	return x, y, nil
}

// numDot is num.dot(a, b): the inner product of two 1-D arrays (a
// number), a matrix times a vector or a vector times a matrix (1-D), the
// matrix product of two 2-D arrays, or the product by a scalar if either
// is one.
func numDot(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y, err := matmulOperands(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if x.NDim() == 0 || y.NDim() == 0 {
		out, err := scaleArray(thread, x, y)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return result(out), nil
	}
	return matmulValue(thread, b.Name(), x, y)
}

// numMatmul is num.matmul(a, b): numpy's a @ b for 1-D and 2-D arrays,
// which is dot without scalars.
func numMatmul(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y, err := matmulOperands(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	for k, v := range []*Array{x, y} {
		if v.NDim() == 0 {
			return nil, fmt.Errorf("%s: operand %d is a scalar: matmul multiplies arrays of 1 or 2 dimensions; use num.multiply or * to scale", b.Name(), k)
		}
	}
	return matmulValue(thread, b.Name(), x, y)
}

// numInner is num.inner(a, b): for 1-D arrays their inner product, for
// 2-D ones the products of a's rows with b's rows (a @ b.T).
func numInner(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y, err := matmulOperands(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if x.NDim() == 0 || y.NDim() == 0 {
		out, err := scaleArray(thread, x, y)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		return result(out), nil
	}
	if y.NDim() == 2 {
		y = transpose(y)
	}
	if x.shape[x.NDim()-1] != y.shape[0] {
		return nil, fmt.Errorf("%s: shapes %s and %s do not match: the last dimensions must be equal", b.Name(), shapeString(x.shape), shapeString(y.shape))
	}
	return matmulValue(thread, b.Name(), x, y)
}

// transpose returns the transposed view of a 2-D array.
func transpose(a *Array) *Array {
	return &Array{dtype: a.dtype, shape: []int{a.shape[1], a.shape[0]}, strides: []int{a.strides[1], a.strides[0]}, offset: a.offset, buf: a.buf}
}

// numOuter is num.outer(a, b): the 2-D array of products a[i]*b[j] of
// the flattened arrays.
func numOuter(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	x, y, err := matmulOperands(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	col := flatView(x)
	col = &Array{dtype: col.dtype, shape: []int{col.Size(), 1}, strides: []int{1, 1}, offset: col.offset, buf: col.buf}
	row := flatView(y)
	row = &Array{dtype: row.dtype, shape: []int{1, row.Size()}, strides: []int{1, 1}, offset: row.offset, buf: row.buf}
	out, err := matmul(thread, col, row)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return out, nil
}

// flatView returns a as a contiguous 1-D array (a view if a is contiguous).
func flatView(a *Array) *Array {
	c := a.Contiguous()
	return &Array{dtype: c.dtype, shape: []int{c.Size()}, strides: []int{1}, offset: c.offset, buf: c.buf}
}

// numTrace is num.trace(a, offset=0): the sum of a 2-D array's diagonal
// (above it by offset, below it if negative); int64 for ints and bools.
func numTrace(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av starlark.Value
	offset := 0
	if err := starlark.UnpackArgs(b.Name(), receiverArgs(b, args), kwargs, "a", &av, "offset?", &offset); err != nil {
		return nil, err
	}
	a, err := computeArray(b.Name(), av)
	if err != nil {
		return nil, err
	}
	if a.NDim() != 2 {
		return nil, fmt.Errorf("%s: a has shape %s: trace needs a 2-D array", b.Name(), shapeString(a.shape))
	}
	r, c := a.shape[0], a.shape[1]
	i0, j0 := max(0, -offset), max(0, offset)
	n := max(0, min(r-i0, c-j0))
	diag := &Array{dtype: a.dtype, shape: []int{n}, strides: []int{a.strides[0] + a.strides[1]}, offset: a.offset, buf: a.buf}
	if n > 0 {
		diag.offset = a.index(i0, j0)
	}
	out, err := reduce(thread, b.Name(), reduceSum, diag, 0, true)
	if err != nil {
		return nil, err
	}
	return result(out), nil
}

// matmulValue multiplies 1-D or 2-D x and y as numpy's matmul: a 1-D x is
// a row, a 1-D y a column, and their dimension drops from the result.
func matmulValue(thread *starlark.Thread, fname string, x, y *Array) (starlark.Value, error) {
	xm, ym := x, y
	if x.NDim() == 1 {
		xm = &Array{dtype: x.dtype, shape: []int{1, x.shape[0]}, strides: []int{0, x.strides[0]}, offset: x.offset, buf: x.buf}
	}
	if y.NDim() == 1 {
		ym = &Array{dtype: y.dtype, shape: []int{y.shape[0], 1}, strides: []int{y.strides[0], 0}, offset: y.offset, buf: y.buf}
	}
	if xm.shape[1] != ym.shape[0] {
		return nil, fmt.Errorf("%s: shapes %s and %s not aligned: %d (dim %d) != %d (dim 0); the first's columns must equal the second's rows", fname, shapeString(x.shape), shapeString(y.shape), xm.shape[1], x.NDim()-1, ym.shape[0])
	}
	out, err := matmul(thread, xm, ym)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	switch {
	case x.NDim() == 1 && y.NDim() == 1:
		out.shape, out.strides = nil, nil
	case x.NDim() == 1:
		out.shape, out.strides = []int{out.shape[1]}, []int{1}
	case y.NDim() == 1:
		out.shape, out.strides = []int{out.shape[0]}, []int{1}
	}
	return result(out), nil
}

// matmul returns the product of 2-D x (m×k) and y (k×n). Floats (either
// side) multiply in gonum; ints and bools in an int64 loop (bool times
// bool gives bool, as numpy).
func matmul(thread *starlark.Thread, x, y *Array) (*Array, error) {
	m, k, n := x.shape[0], x.shape[1], y.shape[1]
	if x.dtype != Float64 && y.dtype != Float64 {
		out, err := matmulInt(thread, x, y)
		if err != nil || x.dtype != Bool || y.dtype != Bool {
			return out, err
		}
		res := newArray(Bool, out.shape)
		for i, v := range out.buf.i {
			res.buf.b[i] = v != 0
		}
		return res, nil
	}
	out, err := alloc(thread, Float64, []int{m, n})
	if err != nil {
		return nil, err
	}
	if m == 0 || n == 0 {
		return out, nil
	}
	if k == 0 {
		return out, work(thread, m*n)
	}
	a, ta := blasMatrix(x)
	b, tb := blasMatrix(y)
	c := blas64.General{Rows: m, Cols: n, Stride: n, Data: out.buf.f}
	rows := max(1, gemmBlock/max(1, k*n))
	for i0 := 0; i0 < m; i0 += rows {
		i1 := min(m, i0+rows)
		if err := work(thread, (i1-i0)*k*n); err != nil {
			return nil, err
		}
		blas64.Gemm(ta, tb, 1, rowBlock(a, ta, i0, i1), b, 0, rowBlock(c, blas.NoTrans, i0, i1))
	}
	return out, nil
}

// blasMatrix returns a 2-D array as a gonum matrix: its own memory when
// it is a contiguous float64 array or the transpose of one (then with
// blas.Trans), else a contiguous float64 copy.
func blasMatrix(a *Array) (blas64.General, blas.Transpose) {
	r, c := a.shape[0], a.shape[1]
	if a.dtype == Float64 && r > 1 && c > 1 && a.strides[0] == 1 && a.strides[1] >= r {
		// The transpose of a row-major c×r matrix with row stride strides[1].
		return blas64.General{Rows: c, Cols: r, Stride: a.strides[1], Data: a.buf.f[a.offset:]}, blas.Trans
	}
	if a.dtype == Float64 && (c == 1 || a.strides[1] == 1) && (r == 1 || a.strides[0] >= c) {
		stride := c
		if r > 1 {
			stride = a.strides[0]
		}
		return blas64.General{Rows: r, Cols: c, Stride: stride, Data: a.buf.f[a.offset:]}, blas.NoTrans
	}
	return blas64.General{Rows: r, Cols: c, Stride: c, Data: a.Float64s()}, blas.NoTrans
}

// rowBlock returns rows i0 to i1 of op(g), where op is the transpose if t
// is blas.Trans.
func rowBlock(g blas64.General, t blas.Transpose, i0, i1 int) blas64.General {
	if t == blas.Trans {
		return blas64.General{Rows: g.Rows, Cols: i1 - i0, Stride: g.Stride, Data: g.Data[i0:]}
	}
	return blas64.General{Rows: i1 - i0, Cols: g.Cols, Stride: g.Stride, Data: g.Data[i0*g.Stride:]}
}

// matmulInt multiplies int64 or bool matrices in int64, row by row (the
// i-k-j order, which walks y and the result contiguously).
func matmulInt(thread *starlark.Thread, x, y *Array) (*Array, error) {
	m, k, n := x.shape[0], x.shape[1], y.shape[1]
	out, err := alloc(thread, Int64, []int{m, n})
	if err != nil {
		return nil, err
	}
	xl := lanesOf(x, 1, false)
	xs := make([]int64, k)
	yc := y
	if y.dtype != Int64 || !y.IsContiguous() {
		yc = &Array{dtype: Int64, shape: y.shape, strides: rowMajorStrides(y.shape), buf: &buffer{i: y.Int64s()}}
	}
	yd := yc.buf.i[yc.offset:]
	mt := &meter{thread: thread}
	for i := range m {
		if err := mt.add(k * n); err != nil {
			return nil, err
		}
		xr := xl.ints(i, xs)
		row := out.buf.i[i*n : (i+1)*n]
		for p, v := range xr {
			if v == 0 {
				continue
			}
			yr := yd[p*n : (p+1)*n]
			for j, w := range yr {
				row[j] += v * w
			}
		}
	}
	return out, mt.flush()
}

// scaleArray returns the product of x and y, one of them 0-d, with
// numpy's dtype: float64 if either is, else int64 (bool for two bools).
func scaleArray(thread *starlark.Thread, x, y *Array) (*Array, error) {
	if x.NDim() != 0 {
		x, y = y, x // x is the scalar
	}
	dt := Int64
	switch {
	case x.dtype == Float64 || y.dtype == Float64:
		dt = Float64
	case x.dtype == Bool && y.dtype == Bool:
		dt = Bool
	}
	out, err := alloc(thread, dt, y.shape)
	if err != nil {
		return nil, err
	}
	if err := work(thread, y.Size()); err != nil {
		return nil, err
	}
	switch dt {
	case Float64:
		s := x.Float64s()[0]
		for i, v := range y.Float64s() {
			out.buf.f[i] = s * v
		}
	case Int64:
		s := x.Int64s()[0]
		for i, v := range y.Int64s() {
			out.buf.i[i] = s * v
		}
	case Bool:
		s := x.Bools()[0]
		for i, v := range y.Bools() {
			out.buf.b[i] = s && v
		}
	}
	return out, nil
}
