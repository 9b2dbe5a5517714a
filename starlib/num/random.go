// This file defines num.random: seed, random, rand, uniform, normal,
// standard_normal, exponential, integers (randint), choice, shuffle and
// permutation, each drawing from the thread's RandSource.

package num

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"go.starlark.net/starlark"
)

// randFill is the number of elements a fill draws between two charges of
// work (and checks for cancellation).
const randFill = 1 << 16

// fillChunks calls fill on successive chunks of n elements, [lo, hi),
// with s locked, charging thread's budget before each chunk.
func fillChunks(thread *starlark.Thread, s *RandSource, n int, fill func(lo, hi int)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for lo := 0; lo < n; lo += randFill {
		hi := min(n, lo+randFill)
		if err := work(thread, hi-lo); err != nil {
			return err
		}
		fill(lo, hi)
	}
	return nil
}

// sizeArg reads a size argument; none reports None (a single number).
func sizeArg(fname string, v starlark.Value) (shape []int, none bool, err error) {
	return parseSize(fname, "size", v)
}

// randFloats returns an array of shape filled by fill, or a single float
// (shape none) drawn by fill into a one-element buffer.
func randFloats(thread *starlark.Thread, fname string, shape []int, none bool, fill func(s *RandSource, x []float64)) (starlark.Value, error) {
	if none {
		shape = nil
	}
	out, err := allocFull(thread, Float64, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	s := randSource(thread)
	x := out.buf.f
	if err := fillChunks(thread, s, len(x), func(lo, hi int) { fill(s, x[lo:hi]) }); err != nil {
		return nil, fmt.Errorf("%s: %v", fname, err)
	}
	return result(out), nil
}

// def seed(seed=None):
//
// randomSeed restarts the thread's num.random stream from seed, an int,
// so that the numbers that follow repeat those that followed an earlier
// seed(seed), on every run and platform; with None, from an unpredictable
// seed. On an engine it reseeds that engine's stream only.
func randomSeed(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seed?", &v); err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case starlark.NoneType:
		randSource(thread).Seed(int64(rand.Uint64()))
	case starlark.Int:
		randSource(thread).Seed(seedOf(v))
	default:
		return nil, fmt.Errorf("%s: seed must be an int or None, not %s", b.Name(), v.Type())
	}
	return starlark.None, nil
}

// seedOf maps an int to a 64-bit seed: itself if it fits, else a hash of
// its digits (as starlib/random does).
func seedOf(n starlark.Int) int64 {
	if i, ok := n.Int64(); ok {
		return i
	}
	h := fnv.New64a()
	h.Write(n.BigInt().Bytes()) // cannot fail
	return int64(h.Sum64()) ^ int64(n.Sign())
}

// def random(size=None):
//
// randomRandom returns a float in [0, 1), or an array of them of shape
// size (an int or a tuple).
func randomRandom(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var sizev starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "size?", &sizev); err != nil {
		return nil, err
	}
	shape, none, err := sizeArg(b.Name(), sizev)
	if err != nil {
		return nil, err
	}
	return randFloats(thread, b.Name(), shape, none, (*RandSource).fillFloat64)
}

// def rand(*shape):
//
// randomRand is numpy's legacy rand(d0, d1): random(size=(d0, d1)), a
// single float with no arguments.
func randomRand(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unexpected keyword argument %s: give the dimensions as positional ints", b.Name(), kwargs[0][0])
	}
	if len(args) == 0 {
		return randFloats(thread, b.Name(), nil, true, (*RandSource).fillFloat64)
	}
	shape, _, err := parseSize(b.Name(), "shape", args)
	if err != nil {
		return nil, err
	}
	return randFloats(thread, b.Name(), shape, false, (*RandSource).fillFloat64)
}

// floatParams unpacks (p1=d1, p2=d2, size=None) of uniform, normal and
// the like.
func floatParams(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, p1 string, d1 float64, p2 string, d2 float64) (x, y float64, shape []int, none bool, err error) {
	xv, yv := floatParam{d1}, floatParam{d2}
	var sizev starlark.Value = starlark.None
	if err = starlark.UnpackArgs(b.Name(), args, kwargs, p1+"?", &xv, p2+"?", &yv, "size?", &sizev); err != nil {
		return
	}
	shape, none, err = sizeArg(b.Name(), sizev)
	return xv.f, yv.f, shape, none, err
}

// floatParam is an UnpackArgs target taking a float or an int, as
// numpy's float parameters do.
type floatParam struct{ f float64 }

func (p *floatParam) Unpack(v starlark.Value) error {
	switch v.(type) {
	case starlark.Int, starlark.Float:
		p.f, _ = starlark.AsFloat(v)
		return nil
	}
	return fmt.Errorf("got %s, want a number", v.Type())
}

// def uniform(low=0.0, high=1.0, size=None):
//
// randomUniform returns a float drawn uniformly from [low, high), or an
// array of them of shape size.
func randomUniform(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	low, high, shape, none, err := floatParams(b, args, kwargs, "low", 0, "high", 1)
	if err != nil {
		return nil, err
	}
	if math.IsInf(high-low, 0) || high-low != high-low {
		return nil, fmt.Errorf("%s: high - low is not finite (low=%v, high=%v): give a finite range", b.Name(), low, high)
	}
	d := high - low
	return randFloats(thread, b.Name(), shape, none, func(s *RandSource, x []float64) {
		for i := range x {
			x[i] = low + d*u01(s.pcg.Uint64())
		}
	})
}

// def normal(loc=0.0, scale=1.0, size=None):
//
// randomNormal returns a float drawn from the normal distribution of mean
// loc and standard deviation scale (not negative), or an array of them of
// shape size.
func randomNormal(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	loc, scale, shape, none, err := floatParams(b, args, kwargs, "loc", 0, "scale", 1)
	if err != nil {
		return nil, err
	}
	if !(scale >= 0) {
		return nil, fmt.Errorf("%s: scale < 0 (scale=%v): the standard deviation must not be negative", b.Name(), scale)
	}
	return randFloats(thread, b.Name(), shape, none, func(s *RandSource, x []float64) {
		for i := range x {
			x[i] = loc + scale*s.r.NormFloat64()
		}
	})
}

// def standard_normal(size=None):
//
// randomStandardNormal is normal(0.0, 1.0, size).
func randomStandardNormal(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var sizev starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "size?", &sizev); err != nil {
		return nil, err
	}
	shape, none, err := sizeArg(b.Name(), sizev)
	if err != nil {
		return nil, err
	}
	return randFloats(thread, b.Name(), shape, none, func(s *RandSource, x []float64) {
		for i := range x {
			x[i] = s.r.NormFloat64()
		}
	})
}

// def exponential(scale=1.0, size=None):
//
// randomExponential returns a float drawn from the exponential
// distribution of mean scale, or an array of them of shape size.
func randomExponential(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	sp := floatParam{1}
	var sizev starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "scale?", &sp, "size?", &sizev); err != nil {
		return nil, err
	}
	scale := sp.f
	if !(scale >= 0) {
		return nil, fmt.Errorf("%s: scale < 0 (scale=%v): the mean must not be negative", b.Name(), scale)
	}
	shape, none, err := sizeArg(b.Name(), sizev)
	if err != nil {
		return nil, err
	}
	return randFloats(thread, b.Name(), shape, none, func(s *RandSource, x []float64) {
		for i := range x {
			x[i] = -math.Log1p(-u01(s.pcg.Uint64())) * scale
		}
	})
}

// def integers(low, high=None, size=None, endpoint=False):
//
// randomIntegers returns an int drawn uniformly from [low, high) (from
// [0, low) if high is None; high included with endpoint), or an int64
// array of them of shape size, as numpy's Generator.integers.
func randomIntegers(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var low int64
	var highv, sizev starlark.Value = starlark.None, starlark.None
	endpoint := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "low", &low, "high?", &highv, "size?", &sizev, "endpoint?", &endpoint); err != nil {
		return nil, err
	}
	high := low
	if highv == starlark.None {
		low = 0
	} else if err := starlark.AsInt(highv, &high); err != nil {
		return nil, fmt.Errorf("%s: high must be an int64 or None: %v", b.Name(), err)
	}
	if low > high || (low == high && !endpoint) {
		return nil, fmt.Errorf("%s: low >= high (low=%d, high=%d): the range of integers to draw from is empty", b.Name(), low, high)
	}
	// n is the number of integers to draw from; 0 stands for all 2**64.
	n := uint64(high) - uint64(low)
	if endpoint {
		n++
	}
	shape, none, err := sizeArg(b.Name(), sizev)
	if err != nil {
		return nil, err
	}
	if none {
		shape = nil
	}
	out, err := allocFull(thread, Int64, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	s, x := randSource(thread), out.buf.i
	if err := fillChunks(thread, s, len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if n == 0 {
				x[i] = int64(s.pcg.Uint64())
			} else {
				x[i] = low + int64(s.uint64n(n))
			}
		}
	}); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return result(out), nil
}

// def choice(a, size=None, replace=True, p=None):
//
// randomChoice returns an element drawn from the 1-D array a (from
// range(a) if a is an int), or an array of them of shape size: with
// replacement by default, all different with replace=False, and with
// probabilities p (a 1-D sequence of a's length, non-negative, summing to
// 1) if given.
func randomChoice(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av, sizev, pv starlark.Value = nil, starlark.None, starlark.None
	replace := true
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "size?", &sizev, "replace?", &replace, "p?", &pv); err != nil {
		return nil, err
	}
	pop, n, err := population(b.Name(), av)
	if err != nil {
		return nil, err
	}
	shape, none, err := sizeArg(b.Name(), sizev)
	if err != nil {
		return nil, err
	}
	if none {
		shape = nil
	}
	count, _ := sizeOf(shape)
	if n == 0 && count > 0 {
		return nil, fmt.Errorf("%s: a cannot be empty unless no samples are taken", b.Name())
	}
	var cdf []float64
	if pv != starlark.None {
		if cdf, err = cumulativeP(b.Name(), pv, n); err != nil {
			return nil, err
		}
		if !replace {
			return nil, fmt.Errorf("%s: replace=False with p is not supported: draw with replacement, or without p", b.Name())
		}
	}
	if !replace && count > n {
		return nil, fmt.Errorf("%s: Cannot take a larger sample than population when replace=False (size %d, population %d)", b.Name(), count, n)
	}
	idx, err := alloc(thread, Int64, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if err := drawIndices(thread, randSource(thread), idx.buf.i, n, replace, cdf); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if pop == nil {
		return result(idx), nil
	}
	out, err := alloc(thread, pop.dtype, shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	for k, i := range idx.buf.i {
		p := pop.index(int(i))
		switch pop.dtype {
		case Float64:
			out.buf.f[k] = pop.buf.f[p]
		case Int64:
			out.buf.i[k] = pop.buf.i[p]
		case Bool:
			out.buf.b[k] = pop.buf.b[p]
		}
	}
	return result(out), nil
}

// population reads choice's a: a 1-D array (or list), or an int n
// standing for range(n) (then the array is nil).
func population(fname string, av starlark.Value) (*Array, int, error) {
	if i, ok := av.(starlark.Int); ok {
		n, ok := i.Int64()
		if !ok || n < 0 || n > maxDim {
			return nil, 0, fmt.Errorf("%s: a=%v must be a non-negative int or a 1-D array", fname, av)
		}
		return nil, int(n), nil
	}
	pop, err := computeArray(fname, av)
	if err != nil {
		return nil, 0, err
	}
	if pop.NDim() != 1 {
		return nil, 0, fmt.Errorf("%s: a has shape %s: a must be 1-dimensional or an integer", fname, shapeString(pop.shape))
	}
	return pop, pop.Size(), nil
}

// cumulativeP checks choice's probabilities and returns their running
// sums, the last one exactly 1.
func cumulativeP(fname string, pv starlark.Value, n int) ([]float64, error) {
	pa, err := computeArray(fname, pv)
	if err != nil {
		return nil, err
	}
	if pa.NDim() != 1 || pa.Size() != n {
		return nil, fmt.Errorf("%s: p has shape %s: a and p must have same size (%d)", fname, shapeString(pa.shape), n)
	}
	cdf := make([]float64, n)
	acc := 0.0
	for i, v := range pa.Float64s() {
		if !(v >= 0) {
			return nil, fmt.Errorf("%s: p[%d] = %v: probabilities are not non-negative", fname, i, v)
		}
		acc += v
		cdf[i] = acc
	}
	if math.Abs(acc-1) > math.Sqrt(math.Nextafter(1, 2)-1) {
		return nil, fmt.Errorf("%s: probabilities do not sum to 1 (they sum to %v)", fname, acc)
	}
	for i := range cdf {
		cdf[i] /= acc
	}
	cdf[n-1] = 1
	return cdf, nil
}

// drawIndices fills idx with indices into a population of n: uniformly
// with replacement, by the cumulative probabilities cdf if not nil, or all
// different (a partial Fisher-Yates shuffle) without replacement.
func drawIndices(thread *starlark.Thread, s *RandSource, idx []int64, n int, replace bool, cdf []float64) error {
	switch {
	case cdf != nil:
		return fillChunks(thread, s, len(idx), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				k := searchFloats(cdf, u01(s.pcg.Uint64()), true)
				idx[i] = int64(min(k, n-1))
			}
		})
	case replace:
		return fillChunks(thread, s, len(idx), func(lo, hi int) {
			for i := lo; i < hi; i++ {
				idx[i] = int64(s.uint64n(uint64(n)))
			}
		})
	}
	if err := work(thread, n); err != nil {
		return err
	}
	perm := make([]int64, n)
	for i := range perm {
		perm[i] = int64(i)
	}
	s.mu.Lock()
	for i := range idx {
		j := i + int(s.uint64n(uint64(n-i)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	s.mu.Unlock()
	copy(idx, perm)
	return nil
}

// def shuffle(x):
//
// randomShuffle shuffles the array x in place along its first axis (the
// rows of a 2-D array move, each row intact) and returns None.
func randomShuffle(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var x *Array
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &x); err != nil {
		return nil, fmt.Errorf("%v (shuffle changes an ndarray in place: for a list use random.shuffle)", err)
	}
	if err := x.checkMutable("shuffle"); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	if err := shuffleRows(thread, randSource(thread), x); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}

// shuffleRows shuffles a along axis 0 by Fisher-Yates, last index first,
// as numpy does.
func shuffleRows(thread *starlark.Thread, s *RandSource, a *Array) error {
	if a.NDim() == 0 {
		return fmt.Errorf("cannot shuffle a 0-d array: give a 1-D or 2-D array")
	}
	n := a.shape[0]
	if err := work(thread, a.Size()); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cols, cstride := 1, 0
	if a.NDim() == 2 {
		cols, cstride = a.shape[1], a.strides[1]
	}
	rs := a.strides[0]
	for i := n - 1; i > 0; i-- {
		j := int(s.uint64n(uint64(i + 1)))
		if i == j {
			continue
		}
		p, q := a.offset+i*rs, a.offset+j*rs
		for range cols {
			switch a.dtype {
			case Float64:
				a.buf.f[p], a.buf.f[q] = a.buf.f[q], a.buf.f[p]
			case Int64:
				a.buf.i[p], a.buf.i[q] = a.buf.i[q], a.buf.i[p]
			case Bool:
				a.buf.b[p], a.buf.b[q] = a.buf.b[q], a.buf.b[p]
			}
			p += cstride
			q += cstride
		}
	}
	return nil
}

// def permutation(x):
//
// randomPermutation returns a shuffled copy of the array x (along its
// first axis), or of range(x) as an int64 array if x is an int.
func randomPermutation(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var xv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "x", &xv); err != nil {
		return nil, err
	}
	var out *Array
	if i, ok := xv.(starlark.Int); ok {
		n, ok := i.Int64()
		if !ok || n < 0 || n > maxDim {
			return nil, fmt.Errorf("%s: x=%v must be a non-negative int or an array", b.Name(), xv)
		}
		var err error
		if out, err = alloc(thread, Int64, []int{int(n)}); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
		for k := range out.buf.i {
			out.buf.i[k] = int64(k)
		}
	} else {
		a, err := computeArray(b.Name(), xv)
		if err != nil {
			return nil, err
		}
		if out, err = copyArray(thread, a); err != nil {
			return nil, fmt.Errorf("%s: %v", b.Name(), err)
		}
	}
	if err := shuffleRows(thread, randSource(thread), out); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return out, nil
}
