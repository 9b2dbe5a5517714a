// This file defines how the compute functions (reductions, linear algebra,
// sorting, random) read their arguments: arrays or scalars or lists, axes,
// sizes, and results returned as Starlark scalars when numpy gives a
// scalar.

package num

import (
	"fmt"
	"math"

	"go.starlark.net/starlark"
)

// computeArray returns v as an Array: an ndarray itself, a scalar as a 0-d
// array, or a (nested) list or tuple of numbers as a 1-D or 2-D array (as
// num.array reads it).
// fname names the builtin in errors.
func computeArray(fname string, v starlark.Value) (*Array, error) {
	switch v := v.(type) {
	case *Array:
		return v, nil
	case starlark.Int, starlark.Float, starlark.Bool:
		return scalarArray(v), nil
	case starlark.Indexable:
		if _, isStr := v.(starlark.String); !isStr {
			return fromValue(nil, fname, v, 0, false)
		}
	}
	return nil, fmt.Errorf("%s: got %s, want an ndarray, a number or a list of numbers", fname, v.Type())
}

// scalarArray returns the 0-d array of a number.
func scalarArray(v starlark.Value) *Array {
	switch v := v.(type) {
	case starlark.Bool:
		return &Array{dtype: Bool, buf: &buffer{b: []bool{bool(v)}}}
	case starlark.Int:
		if i, ok := v.Int64(); ok {
			return &Array{dtype: Int64, buf: &buffer{i: []int64{i}}}
		}
		f, _ := starlark.AsFloat(v)
		return &Array{dtype: Float64, buf: &buffer{f: []float64{f}}}
	case starlark.Float:
		return &Array{dtype: Float64, buf: &buffer{f: []float64{float64(v)}}}
	}
	return nil
}

// parseAxis reads an axis argument: None (-1 result, with all true) or an
// int within ndim, negative counting from the end.
func parseAxis(fname string, v starlark.Value, ndim int) (axis int, all bool, err error) {
	if v == nil || v == starlark.None {
		return 0, true, nil
	}
	i, ok := v.(starlark.Int)
	if !ok {
		return 0, false, fmt.Errorf("%s: axis must be None or an int, not %s", fname, v.Type())
	}
	k, ok := i.Int64()
	lim := int64(max(ndim, 1)) // a 0-d array takes axis 0 and -1, as numpy's reductions do
	if !ok || k < -lim || k >= lim {
		return 0, false, fmt.Errorf("%s: axis %v is out of bounds for array of dimension %d", fname, v, ndim)
	}
	if ndim == 0 {
		return 0, true, nil
	}
	if k < 0 {
		k += int64(ndim)
	}
	return int(k), false, nil
}

// parseSize reads a size or shape argument: an int or a tuple or list of
// ints. none reports that v was None.
func parseSize(fname, param string, v starlark.Value) (shape []int, none bool, err error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return nil, true, nil
	case starlark.Int:
		n, ok := v.Int64()
		if !ok || n < 0 || n > maxDim {
			return nil, false, fmt.Errorf("%s: %s=%v is not a valid dimension: give a non-negative int", fname, param, v)
		}
		return []int{int(n)}, false, nil
	case starlark.Indexable:
		if _, isStr := v.(starlark.String); isStr {
			break
		}
		for i := range v.Len() {
			d, ok := v.Index(i).(starlark.Int)
			n, ok2 := d.Int64()
			if !ok || !ok2 || n < 0 {
				return nil, false, fmt.Errorf("%s: %s=%v: dimension [%d] must be a non-negative int", fname, param, v, i)
			}
			shape = append(shape, int(n))
		}
		if len(shape) > maxDims {
			return nil, false, fmt.Errorf("%s: %s=%v has %d dimensions; num arrays have at most %d", fname, param, v, len(shape), maxDims)
		}
		return shape, false, nil
	}
	return nil, false, fmt.Errorf("%s: %s must be None, an int or a tuple of ints, not %s", fname, param, v.Type())
}

// maxDim bounds a dimension read from a script, so that it fits an int
// on 32-bit machines too (sizeOf then checks the product).
const maxDim = int64(math.MaxInt / 8)

// logWork returns the element operations of an n log n algorithm over n
// elements (a sort), saturating instead of overflowing an int.
func logWork(n int) int {
	k := 1
	for m := n; m > 1; m >>= 1 {
		k++
	}
	if n > math.MaxInt/k {
		return math.MaxInt
	}
	return n * k
}

// receiverArgs returns args with b's receiver in front when b is an
// ndarray method, so that num.f(a, ...) and a.f(...) unpack alike.
func receiverArgs(b *starlark.Builtin, args starlark.Tuple) starlark.Tuple {
	if recv := b.Receiver(); recv != nil {
		return append(starlark.Tuple{recv}, args...)
	}
	return args
}

// scalarOf returns element k (row-major, of a contiguous array) as a
// Starlark number, the way numpy's scalar results read.
func scalarOf(a *Array, p int) starlark.Value {
	switch a.dtype {
	case Int64:
		return starlark.MakeInt64(a.buf.i[p])
	case Bool:
		return starlark.Bool(a.buf.b[p])
	}
	return starlark.Float(a.buf.f[p])
}

// result returns a as a Starlark value: a 0-d array as a scalar, as numpy
// returns a scalar from a full reduction.
func result(a *Array) starlark.Value {
	if len(a.shape) == 0 {
		return scalarOf(a, a.offset)
	}
	return a
}

// meter charges work in chunks of about 64k element operations, so that
// cancellation is seen often without a call per element. Kernels that
// walk one long lane call poll between chunks; its error sticks in err.
type meter struct {
	thread  *starlark.Thread
	pending int
	err     error
}

// meterChunk is how many element operations a meter gathers before it
// calls work.
const meterChunk = 1 << 16

// add records n element operations and charges them once enough gather.
func (m *meter) add(n int) error {
	m.pending += n
	if m.pending < meterChunk {
		return nil
	}
	n, m.pending = m.pending, 0
	return work(m.thread, n)
}

// poll reports whether the work may go on: whether no earlier poll
// failed and the thread is neither cancelled nor out of steps (a poll
// costs one step). Long kernels call it every longChunk elements and stop
// when it fails; their caller returns m.err.
func (m *meter) poll() bool {
	if m.err == nil {
		m.err = work(m.thread, 0)
	}
	return m.err == nil
}

// longChunk is the length of the chunks between two polls in a kernel
// over a long lane.
const longChunk = 1 << 16

// flush charges what add has gathered.
func (m *meter) flush() error {
	n := m.pending
	m.pending = 0
	return work(m.thread, n)
}
