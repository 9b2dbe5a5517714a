// This file defines sorting: num.sort, a.sort() (in place), num.argsort,
// num.unique and num.searchsorted. Floats sort with NaN last, as numpy.

package num

import (
	"fmt"
	"slices"

	"go.starlark.net/starlark"
)

// lessNaN orders floats with NaN after every number, as numpy sorts.
func lessNaN(a, b float64) bool { return a < b || (b != b && a == a) }

// cmpNaN is lessNaN as a three-way comparison.
func cmpNaN(a, b float64) int {
	switch {
	case lessNaN(a, b):
		return -1
	case lessNaN(b, a):
		return 1
	}
	return 0
}

// sortFloats sorts x ascending with NaNs last, polling m (see
// mergeSort).
func sortFloats(m *meter, x []float64) {
	k := 0
	for i, v := range x {
		if v == v {
			x[k], x[i] = v, x[k]
			k++
		}
	}
	mergeSort(m, x[:k], slices.Sort[[]float64], mergeOrdered[float64])
}

// runLen is the length of the runs mergeSort sorts at once: a few
// milliseconds of work each.
const runLen = 1 << 14

// mergeSort sorts x with sortRun and merge (which must agree, and be
// stable if x must be): a short x at once; a long one in runs of runLen
// elements, then merged pass by pass, polling m between runs, between
// merges and every longChunk elements merged, so that a cancelled sort
// stops soon. Stopped early, x holds its elements in some order.
func mergeSort[T any](m *meter, x []T, sortRun func([]T), merge func(m *meter, out, a, b []T) bool) {
	n := len(x)
	if n <= 2*longChunk {
		sortRun(x)
		return
	}
	for lo := 0; lo < n; lo += runLen {
		if !m.poll() {
			return
		}
		sortRun(x[lo:min(n, lo+runLen)])
	}
	src, dst := x, make([]T, n)
	for width := runLen; width < n; width *= 2 {
		for lo := 0; lo < n; lo += 2 * width {
			mid, hi := min(n, lo+width), min(n, lo+2*width)
			if !m.poll() || !merge(m, dst[lo:hi], src[lo:mid], src[mid:hi]) {
				if &src[0] != &x[0] {
					copy(x, src)
				}
				return
			}
		}
		src, dst = dst, src
	}
	if &src[0] != &x[0] {
		copy(x, src)
	}
}

// mergeFunc returns a merge of sorted slices by less for mergeSort: it
// merges a and b into out, taking from a first among equals (stable), and
// reports false if m's poll stopped it.
func mergeFunc[T any](less func(a, b T) bool) func(m *meter, out, a, b []T) bool {
	return func(m *meter, out, a, b []T) bool {
		i, j, k := 0, 0, 0
		for i < len(a) && j < len(b) {
			if less(b[j], a[i]) {
				out[k] = b[j]
				j++
			} else {
				out[k] = a[i]
				i++
			}
			k++
			if k%longChunk == 0 && !m.poll() {
				return false
			}
		}
		k += copy(out[k:], a[i:])
		copy(out[k:], b[j:])
		return true
	}
}

// mergeOrdered is mergeFunc's merge for numbers by <, without a call per
// comparison (NaNs must be out of the way).
func mergeOrdered[T float64 | int64](m *meter, out, a, b []T) bool {
	i, j, k := 0, 0, 0
	for i < len(a) && j < len(b) {
		if b[j] < a[i] {
			out[k] = b[j]
			j++
		} else {
			out[k] = a[i]
			i++
		}
		k++
		if k%longChunk == 0 && !m.poll() {
			return false
		}
	}
	k += copy(out[k:], a[i:])
	copy(out[k:], b[j:])
	return true
}

// sortBools sorts x: false before true.
func sortBools(x []bool) {
	nf := 0
	for _, v := range x {
		if !v {
			nf++
		}
	}
	for i := range x {
		x[i] = i >= nf
	}
}

// sortAxisArgs reads (a, axis=-1, kind=None) and returns a's array, the
// axis and whether it is None (flatten).
func sortAxisArgs(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*Array, int, bool, error) {
	var av, axisv, kind starlark.Value = nil, starlark.MakeInt(-1), starlark.None
	if err := starlark.UnpackArgs(b.Name(), receiverArgs(b, args), kwargs, "a", &av, "axis?", &axisv, "kind?", &kind); err != nil {
		return nil, 0, false, err
	}
	a, err := computeArray(b.Name(), av)
	if err != nil {
		return nil, 0, false, err
	}
	axis, all, err := parseAxis(b.Name(), axisv, a.NDim())
	return a, axis, all, err
}

// sortInPlace sorts every lane of a along axis (or all of a, if 1-D).
func sortInPlace(thread *starlark.Thread, a *Array, axis int) error {
	l := lanesOf(a, axis, len(a.shape) < 2)
	m := &meter{thread: thread}
	fs, is, bs := make([]float64, l.n), make([]int64, 0), make([]bool, 0)
	switch a.dtype {
	case Int64:
		is = make([]int64, l.n)
	case Bool:
		bs = make([]bool, l.n)
	}
	for j := range l.count {
		if err := m.add(logWork(l.n)); err != nil {
			return err
		}
		switch a.dtype {
		case Float64:
			x := l.floats(j, fs)
			sortFloats(m, x)
			if l.step != 1 {
				l.setFloats(j, x)
			}
		case Int64:
			x := l.ints(j, is)
			mergeSort(m, x, slices.Sort[[]int64], mergeOrdered[int64])
			if l.step != 1 {
				l.setInts(j, x)
			}
		case Bool:
			x := l.bools(j, bs)
			sortBools(x)
			if l.step != 1 {
				l.setBools(j, x)
			}
		}
		if m.err != nil {
			return m.err
		}
	}
	return m.flush()
}

// numSort is num.sort(a, axis=-1, kind=None): a sorted copy of a along
// axis, or of a flattened if axis is None. NaNs sort last.
func numSort(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, axis, all, err := sortAxisArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if all {
		axis = 0
	}
	c, err := copyArray(thread, a)
	if err == nil && all && len(c.shape) != 1 {
		c = &Array{dtype: c.dtype, shape: []int{c.Size()}, strides: []int{1}, buf: c.buf}
	}
	if err == nil {
		err = sortInPlace(thread, c, axis)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return c, nil
}

// arraySort is a.sort(axis=-1, kind=None): sorts a in place along axis and
// returns None.
func arraySort(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, axis, all, err := sortAxisArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if all && a.NDim() == 2 {
		return nil, fmt.Errorf("%s: axis=None cannot sort a 2-D array in place: use num.sort(a, axis=None) for a sorted flat copy", b.Name())
	}
	if err := a.checkMutable("sort"); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if err := sortInPlace(thread, a, axis); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

// keyed is an element of a lane beside its index, for argsort.
type keyed[K any] struct {
	k K
	i int64
}

// argsortLane sets idx to the stable sorting permutation of lane j,
// polling m. It sorts (element, index) pairs, ties broken by index, so
// that a fast unstable sort gives the stable order.
func argsortLane(m *meter, l *lanes, j int, idx []int64, fs []float64, is []int64) {
	if l.a.dtype == Float64 {
		x := l.floats(j, fs)
		cmp := func(p, q keyed[float64]) int {
			if c := cmpNaN(p.k, q.k); c != 0 {
				return c
			}
			return int(p.i - q.i)
		}
		argsortKeyed(m, x, idx, cmp)
		return
	}
	cmp := func(p, q keyed[int64]) int {
		switch {
		case p.k < q.k:
			return -1
		case p.k > q.k:
			return 1
		}
		return int(p.i - q.i)
	}
	argsortKeyed(m, l.ints(j, is), idx, cmp)
}

// argsortKeyed sets idx to the order of x by cmp over (element, index).
func argsortKeyed[K any](m *meter, x []K, idx []int64, cmp func(p, q keyed[K]) int) {
	pairs := make([]keyed[K], len(x))
	for i, v := range x {
		pairs[i] = keyed[K]{v, int64(i)}
	}
	mergeSort(m, pairs, func(r []keyed[K]) { slices.SortFunc(r, cmp) }, mergeFunc(func(p, q keyed[K]) bool { return cmp(p, q) < 0 }))
	for i, p := range pairs {
		idx[i] = p.i
	}
}

// numArgsort is num.argsort(a, axis=-1, kind=None): the int64 indices that
// sort a along axis (of a flattened if axis is None), stable for equal
// elements, NaNs last.
func numArgsort(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, axis, all, err := sortAxisArgs(b, args, kwargs)
	if err != nil {
		return nil, err
	}
	shape := a.shape
	if all || len(shape) < 2 {
		shape, axis, all = []int{a.Size()}, 0, true
	}
	out, err := alloc(thread, Int64, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	l, ol := lanesOf(a, axis, all), lanesOf(out, axis, all)
	m := &meter{thread: thread}
	fs, is, idx := l.scratchFloats(), l.scratchInts(), make([]int64, l.n)
	for j := range l.count {
		if err := m.add(logWork(l.n)); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		argsortLane(m, &l, j, idx, fs, is)
		if m.err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), m.err)
		}
		ol.setInts(j, idx)
	}
	if err := m.flush(); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return out, nil
}

// numUnique is num.unique(a, return_index=False, return_inverse=False,
// return_counts=False): the sorted distinct elements of a flattened (NaNs
// collapsed into one, last); with any return_ flag, a tuple of that array
// and, in this order, the index of each value's first occurrence, the
// index into the values of every element of a, and each value's count
// (all int64).
func numUnique(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av starlark.Value
	var retIndex, retInverse, retCounts bool
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "ar", &av, "return_index?", &retIndex, "return_inverse?", &retInverse, "return_counts?", &retCounts); err != nil {
		return nil, err
	}
	a, err := computeArray(b.Name(), av)
	if err != nil {
		return nil, err
	}
	u, err := unique(thread, a)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if !retIndex && !retInverse && !retCounts {
		return u.values, nil
	}
	res := starlark.Tuple{u.values}
	for _, r := range []struct {
		want bool
		x    []int64
	}{{retIndex, u.index}, {retInverse, u.inverse}, {retCounts, u.counts}} {
		if r.want {
			arr, _ := FromInt64s(r.x)
			res = append(res, arr)
		}
	}
	return res, nil
}

// uniques is what unique finds.
type uniques struct {
	values                 *Array
	index, inverse, counts []int64
}

// unique finds the distinct elements of a, flattened.
func unique(thread *starlark.Thread, a *Array) (*uniques, error) {
	l := lanesOf(a, 0, true)
	m := &meter{thread: thread}
	if err := m.add(logWork(l.n)); err != nil {
		return nil, err
	}
	idx := make([]int64, l.n)
	if argsortLane(m, &l, 0, idx, l.scratchFloats(), l.scratchInts()); m.err != nil {
		return nil, m.err
	}
	u := &uniques{inverse: make([]int64, l.n)}
	var fs []float64
	var is []int64
	if a.dtype == Float64 {
		fs = l.floats(0, make([]float64, l.n))
	} else {
		is = l.ints(0, make([]int64, l.n))
	}
	same := func(p, q int64) bool {
		if fs != nil {
			return fs[p] == fs[q] || (fs[p] != fs[p] && fs[q] != fs[q])
		}
		return is[p] == is[q]
	}
	for k, p := range idx {
		if k == 0 || !same(idx[k-1], p) {
			u.index = append(u.index, p)
			u.counts = append(u.counts, 0)
		}
		g := len(u.index) - 1
		u.counts[g]++
		u.inverse[p] = int64(g)
	}
	vals, err := alloc(thread, a.dtype, []int{len(u.index)})
	if err != nil {
		return nil, err
	}
	for g, p := range u.index {
		switch a.dtype {
		case Float64:
			vals.buf.f[g] = fs[p]
		case Int64:
			vals.buf.i[g] = is[p]
		case Bool:
			vals.buf.b[g] = is[p] != 0
		}
	}
	u.values = vals
	return u, nil
}

// numSearchsorted is num.searchsorted(a, v, side="left"): for each value
// of v, the index in the sorted 1-D array a where inserting it keeps a
// sorted: before equal elements (side "left") or after them ("right").
// An int for a number v, an int64 array of v's shape for an array.
func numSearchsorted(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av, vv starlark.Value
	side := "left"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "v", &vv, "side?", &side); err != nil {
		return nil, err
	}
	if side != "left" && side != "right" {
		return nil, fmt.Errorf("%s: side=%q: give \"left\" or \"right\"", b.Name(), side)
	}
	a, err := computeArray(b.Name(), av)
	if err != nil {
		return nil, err
	}
	if a.NDim() != 1 {
		return nil, fmt.Errorf("%s: a has shape %s: give a sorted 1-D array", b.Name(), shapeString(a.shape))
	}
	v, err := computeArray(b.Name(), vv)
	if err != nil {
		return nil, err
	}
	if err := work(thread, logWork(max(v.Size(), a.Size()))); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	out, err := alloc(thread, Int64, v.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	xs, vs := a.Float64s(), v.Float64s()
	for k, x := range vs {
		out.buf.i[k] = int64(searchFloats(xs, x, side == "right"))
	}
	return result(out), nil
}

// searchFloats returns the first index i of sorted xs with x < xs[i]
// (right) or x <= xs[i] (left), NaN ordered last.
func searchFloats(xs []float64, x float64, right bool) int {
	lo, hi := 0, len(xs)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		var before bool // xs[mid] comes before x's place
		if right {
			before = !lessNaN(x, xs[mid])
		} else {
			before = lessNaN(xs[mid], x)
		}
		if before {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
