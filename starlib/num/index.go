// This file defines indexing: a[i], a[i, j], a[i:j:k], a[mask] and
// a[[0, 2]], their assignments, reshaping and copying between views.

package num

import (
	"fmt"

	"go.starlark.net/starlark"
)

var (
	_ starlark.HasSetKey = (*Array)(nil)
	_ starlark.Sliceable = (*Array)(nil)
	_ starlark.Iterable  = (*Array)(nil)
)

// copyRun copies n elements of src, from s by stride ss, to dst, from d
// by stride ds; a stride of 0 in src repeats one element.
func copyRun[T any](dst []T, d, ds int, src []T, s, ss int, n int) {
	switch {
	case ds == 1 && ss == 1:
		copy(dst[d:d+n], src[s:s+n])
	case ds == 1 && ss == 0:
		v, part := src[s], dst[d:d+n]
		for i := range part {
			part[i] = v
		}
	default:
		for range n {
			dst[d] = src[s]
			d += ds
			s += ss
		}
	}
}

// assign copies src into dst (a view, which it changes in place),
// broadcasting src to dst's shape and converting it to dst's dtype.
func assign(thread *starlark.Thread, dst, src *Array) error {
	shape, err := broadcastShape(dst.shape, src.shape)
	if err != nil || !sameShape(shape, dst.shape) {
		return fmt.Errorf("could not broadcast input array from shape %s into shape %s", shapeString(src.shape), shapeString(dst.shape))
	}
	if src.buf == dst.buf || src.dtype != dst.dtype {
		if src, err = convert(thread, src, dst.dtype); err != nil {
			return err
		}
	}
	rows, cols := dims2(dst.shape)
	dv := view{off: dst.offset}
	switch len(dst.shape) {
	case 1:
		dv.s1 = dst.strides[0]
	case 2:
		dv.s0, dv.s1 = dst.strides[0], dst.strides[1]
	}
	sv := viewOf(src, dst.shape)
	acc := 0
	for r := range rows {
		for c := 0; c < cols; c += chunk {
			n := min(chunk, cols-c)
			d, s := dv.off+r*dv.s0+c*dv.s1, sv.off+r*sv.s0+c*sv.s1
			switch dst.dtype {
			case Float64:
				copyRun(dst.buf.f, d, dv.s1, src.buf.f, s, sv.s1, n)
			case Int64:
				copyRun(dst.buf.i, d, dv.s1, src.buf.i, s, sv.s1, n)
			default:
				copyRun(dst.buf.b, d, dv.s1, src.buf.b, s, sv.s1, n)
			}
			if acc += n; acc >= chunk {
				if err := work(thread, acc); err != nil {
					return err
				}
				acc = 0
			}
		}
	}
	return work(thread, acc)
}

// reshape returns a with shape, where one dimension may be -1 (inferred):
// a view if a is contiguous, else a view of a copy.
func reshape(thread *starlark.Thread, fn string, a *Array, shape []int) (*Array, error) {
	size := a.Size()
	if len(shape) > maxDims {
		return nil, fmt.Errorf("%s: shape %s has %d dimensions; num arrays have at most %d", fn, shapeString(shape), len(shape), maxDims)
	}
	infer, known := -1, 1
	for k, d := range shape {
		switch {
		case d == -1 && infer < 0:
			infer = k
		case d < 0:
			return nil, fmt.Errorf("%s: cannot reshape array of size %d into shape %s: only one dimension may be -1, and none may be negative otherwise", fn, size, shapeString(shape))
		default:
			known *= d
		}
	}
	shape = append([]int(nil), shape...)
	if infer >= 0 {
		if known == 0 || size%known != 0 {
			return nil, fmt.Errorf("%s: cannot reshape array of size %d into shape %s", fn, size, shapeString(shape))
		}
		shape[infer] = size / known
	}
	if n, err := sizeOf(shape); err != nil || n != size {
		return nil, fmt.Errorf("%s: cannot reshape array of size %d into shape %s: the sizes must be equal", fn, size, shapeString(shape))
	}
	if !a.IsContiguous() {
		c, err := convert(thread, a, a.dtype)
		if err != nil {
			return nil, err
		}
		a = c
	}
	return &Array{dtype: a.dtype, shape: shape, strides: rowMajorStrides(shape), offset: a.offset, buf: a.buf, th: a.th}, nil
}

// Len implements starlark.Sequence: the length of axis 0.
func (a *Array) Len() int {
	if len(a.shape) == 0 {
		return 0
	}
	return a.shape[0]
}

// Index implements starlark.Indexable: element i of a 1-D array, or row i
// of a 2-D array as a view.
func (a *Array) Index(i int) starlark.Value {
	if len(a.shape) == 1 {
		return a.elem(a.offset + i*a.strides[0])
	}
	return a.row(i)
}

// Slice implements starlark.Sliceable: a[i:j:k] along axis 0, a view.
func (a *Array) Slice(start, end, step int) starlark.Value {
	if len(a.shape) == 0 {
		return a // Starlark's slicing cannot fail here; a 0-d array has no axis
	}
	n := 0
	if step > 0 && end > start {
		n = (end - start + step - 1) / step
	} else if step < 0 && end < start {
		n = (start - end - step - 1) / -step
	}
	v := &Array{dtype: a.dtype, shape: append([]int(nil), a.shape...), strides: append([]int(nil), a.strides...), buf: a.buf, th: a.th}
	v.shape[0] = n
	v.strides[0] = a.strides[0] * step
	v.offset = a.offset
	if n > 0 {
		v.offset += start * a.strides[0]
	}
	return v
}

// Iterate implements starlark.Iterable: the elements of a 1-D array as
// numbers, the rows of a 2-D array as views.
func (a *Array) Iterate() starlark.Iterator { return &arrayIterator{a: a} }

type arrayIterator struct {
	a *Array
	i int
}

func (it *arrayIterator) Next(p *starlark.Value) bool {
	if it.i >= it.a.Len() {
		return false
	}
	*p = it.a.Index(it.i)
	it.i++
	return true
}

func (it *arrayIterator) Done() {}

// axisIndex checks index i along axis and returns it non-negative.
func (a *Array) axisIndex(i int64, axis int) (int, error) {
	n := int64(a.shape[axis])
	if i < -n || i >= n {
		return 0, fmt.Errorf("index %d is out of bounds for axis %d with size %d", i, axis, n)
	}
	if i < 0 {
		i += n
	}
	return int(i), nil
}

// target is what an index selects: one element or a view (at, or view
// non-nil), a mask, or a list of indices along axis 0.
type target struct {
	view *Array  // a view: a row, a[i, j] as a 0-d view, a itself
	mask *Array  // a bool array of a's shape, or of a's rows
	idx  []int64 // indices along axis 0, checked and non-negative
}

// locate interprets key as an index into a.
func (a *Array) locate(key starlark.Value) (target, error) {
	switch k := key.(type) {
	case starlark.Int:
		return a.locateInts(starlark.Tuple{k})
	case starlark.Tuple:
		return a.locateInts(k)
	case *Array:
		return a.locateArray(k)
	case *starlark.List:
		arr, err := fromValue(nil, "index", k, 0, false)
		if err != nil {
			return target{}, err
		}
		if k.Len() == 0 {
			arr, _ = convert(nil, arr, Int64)
		}
		return a.locateArray(arr)
	case starlark.Bool:
		return target{}, fmt.Errorf("a bool is not an index: use an int, or a bool array as a mask")
	}
	return target{}, fmt.Errorf("%s is not an index: use an int, a pair of ints (a[i, j]), a slice, a bool mask or a list of ints", key.Type())
}

// locateInts handles a[i] and a[i, j].
func (a *Array) locateInts(key starlark.Tuple) (target, error) {
	if len(key) > len(a.shape) {
		return target{}, fmt.Errorf("too many indices for array: array is %d-dimensional, but %d were indexed", len(a.shape), len(key))
	}
	v := &Array{dtype: a.dtype, shape: a.shape[len(key):], strides: a.strides[len(key):], offset: a.offset, buf: a.buf, th: a.th}
	for axis, x := range key {
		n, ok := x.(starlark.Int)
		if !ok {
			return target{}, fmt.Errorf("index [%d] of %s is a %s: a[i, j] takes ints only (a slice does not parse beside a comma: for column j use a.T[j])", axis, key, x.Type())
		}
		i, ok := n.Int64()
		if !ok {
			return target{}, fmt.Errorf("index %v is out of bounds for axis %d with size %d", n, axis, a.shape[axis])
		}
		p, err := a.axisIndex(i, axis)
		if err != nil {
			return target{}, err
		}
		v.offset += p * a.strides[axis]
	}
	return target{view: v}, nil
}

// locateArray handles a[mask] and a[indices].
func (a *Array) locateArray(k *Array) (target, error) {
	if len(a.shape) == 0 {
		return target{}, fmt.Errorf("too many indices for array: array is 0-dimensional")
	}
	switch k.dtype {
	case Bool:
		if sameShape(k.shape, a.shape) || (len(k.shape) == 1 && len(a.shape) == 2 && k.shape[0] == a.shape[0]) {
			return target{mask: k}, nil
		}
		return target{}, fmt.Errorf("boolean index of shape %s does not match the array's shape %s: a mask has the array's shape (or one bool per row)", shapeString(k.shape), shapeString(a.shape))
	case Int64:
		if len(k.shape) != 1 {
			return target{}, fmt.Errorf("an index array must be 1-D, got shape %s", shapeString(k.shape))
		}
		idx := append([]int64(nil), k.Int64s()...)
		for j, i := range idx {
			p, err := a.axisIndex(i, 0)
			if err != nil {
				return target{}, err
			}
			idx[j] = int64(p)
		}
		return target{idx: idx}, nil
	}
	return target{}, fmt.Errorf("arrays used as indices must be of integer or boolean type, not %s", k.dtype)
}

// Get implements starlark.Mapping: a[i], a[i, j], a[mask], a[[0, 2]].
func (a *Array) Get(key starlark.Value) (starlark.Value, bool, error) {
	t, err := a.locate(key)
	if err != nil {
		return nil, false, fmt.Errorf("ndarray index: %v", err)
	}
	thread := opThread(a)
	switch {
	case t.view != nil:
		return valueOf(t.view), true, nil
	case t.mask != nil:
		out, err := maskGet(thread, a, t.mask)
		if err != nil {
			return nil, false, fmt.Errorf("ndarray index: %v", err)
		}
		return out, true, nil
	}
	shape := append([]int(nil), a.shape...)
	shape[0] = len(t.idx)
	out, err := alloc(thread, a.dtype, shape)
	if err != nil {
		return nil, false, fmt.Errorf("ndarray index: %v", err)
	}
	if err := moveRows(thread, out, a, t.idx, false); err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// moveRows copies a's rows (elements of a 1-D array) at idx to sel's
// rows 0, 1, … (take), or, if put, sel's rows to a's rows at idx. sel is
// contiguous, of a's dtype.
func moveRows(thread *starlark.Thread, sel, a *Array, idx []int64, put bool) error {
	_, cols := dims2(a.shape)
	s1 := a.strides[len(a.shape)-1]
	s0 := a.strides[0]
	if len(a.shape) == 1 {
		cols, s0 = 1, a.strides[0]
	}
	acc := 0
	for j, i := range idx {
		p, q := a.offset+int(i)*s0, j*cols
		switch {
		case a.dtype == Float64 && put:
			copyRun(a.buf.f, p, s1, sel.buf.f, q, 1, cols)
		case a.dtype == Float64:
			copyRun(sel.buf.f, q, 1, a.buf.f, p, s1, cols)
		case a.dtype == Int64 && put:
			copyRun(a.buf.i, p, s1, sel.buf.i, q, 1, cols)
		case a.dtype == Int64:
			copyRun(sel.buf.i, q, 1, a.buf.i, p, s1, cols)
		case put:
			copyRun(a.buf.b, p, s1, sel.buf.b, q, 1, cols)
		default:
			copyRun(sel.buf.b, q, 1, a.buf.b, p, s1, cols)
		}
		if acc += cols; acc >= chunk {
			if err := work(thread, acc); err != nil {
				return err
			}
			acc = 0
		}
	}
	return work(thread, acc)
}

// SetKey implements starlark.HasSetKey: a[i] = v, a[i, j] = v,
// a[mask] = v, a[[0, 2]] = v, where v is a number or an array that
// broadcasts to what the index selects.
func (a *Array) SetKey(key, v starlark.Value) error {
	if err := a.checkMutable("assign to element of"); err != nil {
		return err
	}
	t, err := a.locate(key)
	if err != nil {
		return fmt.Errorf("ndarray index: %v", err)
	}
	src, ok, err := scalarOrArray(v)
	if err != nil {
		return fmt.Errorf("ndarray assignment: %v", err)
	}
	if !ok {
		if src, err = fromValue(nil, "ndarray assignment", v, a.dtype, true); err != nil {
			return err
		}
	}
	thread := opThread(a, src)
	switch {
	case t.view != nil:
		if err := assign(thread, t.view, src); err != nil {
			return fmt.Errorf("ndarray assignment: %v", err)
		}
		return nil
	case t.mask != nil:
		if err := maskSet(thread, a, t.mask, src); err != nil {
			return fmt.Errorf("ndarray assignment: %v", err)
		}
		return nil
	}
	// Indices: src broadcasts to the selection's shape.
	shape := append([]int(nil), a.shape...)
	shape[0] = len(t.idx)
	if bs, err := broadcastShape(shape, src.shape); err != nil || !sameShape(bs, shape) {
		return fmt.Errorf("ndarray assignment: could not broadcast input array from shape %s into shape %s", shapeString(src.shape), shapeString(shape))
	}
	// The values, broadcast to the selection and converted, then
	// scattered: a repeated index takes the last value, as in numpy.
	sel, err := alloc(thread, a.dtype, shape)
	if err != nil {
		return fmt.Errorf("ndarray assignment: %v", err)
	}
	if err := assign(thread, sel, src); err != nil {
		return fmt.Errorf("ndarray assignment: %v", err)
	}
	return moveRows(thread, sel, a, t.idx, true)
}

// maskGet returns the elements of a where mask is true, as a 1-D array
// (mask of a's shape) or the rows of a where it is true (a mask per row).
func maskGet(thread *starlark.Thread, a, mask *Array) (*Array, error) {
	if len(mask.shape) < len(a.shape) {
		rows := trueRows(mask)
		out, err := alloc(thread, a.dtype, []int{len(rows), a.shape[1]})
		if err != nil {
			return nil, err
		}
		return out, moveRows(thread, out, a, rows, false)
	}
	m := mask.Contiguous().Bools()
	n, err := countTrue(thread, m)
	if err != nil {
		return nil, err
	}
	out, err := alloc(thread, a.dtype, []int{n})
	if err != nil {
		return nil, err
	}
	rows, cols := dims2(a.shape)
	v := viewOf(a, a.shape)
	k := 0
	err = pieces(thread, rows, cols, func(r, c, n int) {
		p, j := v.off+r*v.s0+c*v.s1, r*cols+c
		switch a.dtype {
		case Float64:
			k = maskCopy(out.buf.f, k, a.buf.f, p, v.s1, m[j:j+n])
		case Int64:
			k = maskCopy(out.buf.i, k, a.buf.i, p, v.s1, m[j:j+n])
		default:
			k = maskCopy(out.buf.b, k, a.buf.b, p, v.s1, m[j:j+n])
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// trueRows returns the indices where a 1-D bool array is true.
func trueRows(mask *Array) []int64 {
	var rows []int64
	for r, m := range mask.Bools() {
		if m {
			rows = append(rows, int64(r))
		}
	}
	return rows
}

// countTrue counts the true elements of m.
func countTrue(thread *starlark.Thread, m []bool) (int, error) {
	n := 0
	for lo := 0; lo < len(m); lo += chunk {
		for _, x := range m[lo:min(lo+chunk, len(m))] {
			if x {
				n++
			}
		}
		if err := work(thread, min(chunk, len(m)-lo)); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// pieces calls f(r, c, n) for the pieces of at most chunk elements of a
// rows × cols array, row by row, charging their work.
func pieces(thread *starlark.Thread, rows, cols int, f func(r, c, n int)) error {
	acc := 0
	for r := range rows {
		for c := 0; c < cols; c += chunk {
			n := min(chunk, cols-c)
			f(r, c, n)
			if acc += n; acc >= chunk {
				if err := work(thread, acc); err != nil {
					return err
				}
				acc = 0
			}
		}
	}
	return work(thread, acc)
}

// maskCopy copies to out, from index k, the elements of src at p, p+s1,
// … whose flag in m is true, and returns the next index of out.
func maskCopy[T any](out []T, k int, src []T, p, s1 int, m []bool) int {
	for _, x := range m {
		if x {
			out[k] = src[p]
			k++
		}
		p += s1
	}
	return k
}

// maskPut stores into dst at p, p+s1, … where m is true the values vals
// from index k on, or vals[0] everywhere if it is the only one, and
// returns the next index of vals.
func maskPut[T any](dst []T, p, s1 int, m []bool, vals []T, k int) int {
	if len(vals) == 1 {
		v := vals[0]
		for _, x := range m {
			if x {
				dst[p] = v
			}
			p += s1
		}
		return k
	}
	for _, x := range m {
		if x {
			dst[p] = vals[k]
			k++
		}
		p += s1
	}
	return k
}

// maskSet is a[mask] = src.
func maskSet(thread *starlark.Thread, a, mask, src *Array) error {
	if len(mask.shape) < len(a.shape) {
		rows := trueRows(mask)
		sel, err := alloc(thread, a.dtype, []int{len(rows), a.shape[1]})
		if err != nil {
			return err
		}
		if err := assign(thread, sel, src); err != nil {
			return err
		}
		return moveRows(thread, sel, a, rows, true)
	}
	m := mask.Contiguous().Bools()
	n, err := countTrue(thread, m)
	if err != nil {
		return err
	}
	size := src.Size()
	if size != 1 && size != n {
		return fmt.Errorf("cannot assign %d input values (shape %s) to the %d output values where the mask is true: give one value or exactly %d", size, shapeString(src.shape), n, n)
	}
	vals, err := convert(thread, src, a.dtype)
	if err != nil {
		return err
	}
	rows, cols := dims2(a.shape)
	v := viewOf(a, a.shape)
	k := 0
	return pieces(thread, rows, cols, func(r, c, n int) {
		p, j := v.off+r*v.s0+c*v.s1, r*cols+c
		switch a.dtype {
		case Float64:
			k = maskPut(a.buf.f, p, v.s1, m[j:j+n], vals.buf.f, k)
		case Int64:
			k = maskPut(a.buf.i, p, v.s1, m[j:j+n], vals.buf.i, k)
		default:
			k = maskPut(a.buf.b, p, v.s1, m[j:j+n], vals.buf.b, k)
		}
	})
}
