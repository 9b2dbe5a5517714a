// This file defines the Starlark module "random" and its functions.

package random

import (
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"go.starlark.net/starlark"
)

// Module is the Starlark module "random". It is frozen and immutable, so
// every thread may share it; each function draws from the calling thread's
// [Source] (see the package documentation).
//
//	random = module(
//	    seed, random, randint, randrange, uniform, gauss,
//	    choice, sample, shuffle,
//	)
//
// Each function is documented at its definition.
var Module starlark.HasAttrs = newModule(nil)

// impl is the implementation of a module function, drawing from src.
type impl func(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// impls are the module's functions in the order of [funcNames].
var impls = [numFuncs]impl{choice, gauss, randint, random, randrange, sample, seed, shuffle, uniform}

// newModule returns the module whose functions draw from src, or from the
// calling thread's Source if src is nil.
func newModule(src *Source) *module {
	m := new(module)
	for i, fn := range impls {
		call := func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return fn(source(thread), b, args, kwargs)
		}
		switch {
		case src != nil && funcNames[i] == "random":
			call = src.randomBuiltin // the hot path of pure-Starlark Monte Carlo loops
		case src != nil:
			call = func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
				return fn(src, b, args, kwargs)
			}
		}
		m.funcs[i] = starlark.NewBuiltin("random."+funcNames[i], call)
	}
	return m
}

// Module returns a module "random" like [Module] whose functions draw
// from s whatever the calling thread, without looking up the thread's
// Source on each call (a thread-local map lookup): the engine predeclares
// its own engine's module. Each call returns a new module; it is
// immutable, and its functions serve one thread at a time unless s is
// shared.
func (s *Source) Module() starlark.HasAttrs {
	return newModule(s)
}

// def seed(n=None):
//
// seed restarts the thread's stream from n, an int of any size, so that
// the numbers that follow repeat those that followed an earlier seed(n).
// With n None or omitted, the stream restarts from an unpredictable seed.
// It returns None.
func seed(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var n starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n?", &n); err != nil {
		return nil, err
	}
	switch n := n.(type) {
	case starlark.NoneType:
		src.Seed(int64(rand.Uint64()))
	case starlark.Int:
		src.Seed(seedOf(n))
	default:
		return nil, fmt.Errorf("%s: got %s, want int or None", b.Name(), n.Type())
	}
	return starlark.None, nil
}

// seedOf maps an int to a 64-bit seed: itself if it fits, else a hash.
func seedOf(n starlark.Int) int64 {
	if i, ok := n.Int64(); ok {
		return i
	}
	h := fnv.New64a()
	h.Write(n.BigInt().Bytes()) // cannot fail
	return int64(h.Sum64()) ^ int64(n.Sign())
}

// def random():
//
// random returns a float in the interval [0.0, 1.0).
func random(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	return starlark.Float(src.float64()), nil
}

// randomBuiltin is random drawing from s, without the indirections of
// the other functions: a π loop calls it twice per sample.
func (s *Source) randomBuiltin(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) != 0 || len(kwargs) != 0 {
		return random(s, b, args, kwargs) // for its error
	}
	return starlark.Float(s.float64()), nil
}

// def randint(a, b):
//
// randint returns an int N such that a <= N <= b, each equally likely.
// a and b are ints of any size, and a must not exceed b.
func randint(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var lo, hi starlark.Int
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &lo, "b", &hi); err != nil {
		return nil, err
	}
	n := hi.Sub(lo).Add(starlark.MakeInt(1))
	if n.Sign() <= 0 {
		return nil, fmt.Errorf("%s: empty range: a (%v) > b (%v)", b.Name(), lo, hi)
	}
	return lo.Add(src.below(n)), nil
}

// def randrange(start, stop=None, step=1):
//
// randrange returns an element of range(start, stop, step) chosen at
// random, each equally likely; randrange(stop) chooses from range(stop).
// The arguments are ints of any size; the range must not be empty, and
// step must not be 0.
func randrange(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var start, step starlark.Int = starlark.MakeInt(0), starlark.MakeInt(1)
	var stopv starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "start", &start, "stop?", &stopv, "step?", &step); err != nil {
		return nil, err
	}
	stop, ok := stopv.(starlark.Int)
	switch {
	case stopv == starlark.None && !isOne(step):
		return nil, fmt.Errorf("%s: step given without stop", b.Name())
	case stopv == starlark.None:
		start, stop = starlark.MakeInt(0), start
	case !ok:
		return nil, fmt.Errorf("%s: for parameter stop: got %s, want int", b.Name(), stopv.Type())
	}
	if step.Sign() == 0 {
		return nil, fmt.Errorf("%s: step must not be 0", b.Name())
	}
	width, stride := stop.Sub(start), step
	if step.Sign() < 0 {
		width, stride = width.Mul(starlark.MakeInt(-1)), step.Mul(starlark.MakeInt(-1))
	}
	n := width.Add(stride).Sub(starlark.MakeInt(1)).Div(stride) // ceil(width/stride)
	if n.Sign() <= 0 {
		return nil, fmt.Errorf("%s: empty range(%v, %v, %v)", b.Name(), start, stop, step)
	}
	return start.Add(step.Mul(src.below(n))), nil
}

// def uniform(a, b):
//
// uniform returns a float N between a and b: a + (b-a) * random().
// a and b are ints or floats.
func uniform(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var lo, hi number
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &lo, "b", &hi); err != nil {
		return nil, err
	}
	return starlark.Float(float64(lo) + float64(hi-lo)*src.float64()), nil
}

// def gauss(mu=0.0, sigma=1.0):
//
// gauss returns a float drawn from the normal distribution with mean mu
// and standard deviation sigma (ints or floats).
func gauss(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	mu, sigma := number(0), number(1)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "mu?", &mu, "sigma?", &sigma); err != nil {
		return nil, err
	}
	return starlark.Float(float64(mu) + float64(sigma)*src.normFloat64()), nil
}

// def choice(seq):
//
// choice returns an element of the non-empty sequence seq (a list, tuple,
// string, range, …), each position equally likely.
func choice(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var seq sequence
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seq", &seq); err != nil {
		return nil, err
	}
	if seq.Len() == 0 {
		return nil, fmt.Errorf("%s: cannot choose from an empty %s", b.Name(), seq.Type())
	}
	return seq.Index(src.intN(seq.Len())), nil
}

// def sample(population, k):
//
// sample returns a new list of k elements chosen from the sequence
// population at distinct positions, in selection order; every subset is
// equally likely. 0 <= k <= len(population) is required. Memory use is
// proportional to k, so sampling a large range is cheap.
func sample(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var pop sequence
	var k int
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "population", &pop, "k", &k); err != nil {
		return nil, err
	}
	n := pop.Len()
	if k < 0 || k > n {
		return nil, fmt.Errorf("%s: k (%d) must be between 0 and the population size (%d)", b.Name(), k, n)
	}
	moved := make(map[int]int, k) // a Fisher-Yates shuffle of the positions, stored sparsely
	at := func(i int) int {
		if v, ok := moved[i]; ok {
			return v
		}
		return i
	}
	out := make([]starlark.Value, k)
	for i := range k {
		j := i + src.intN(n-i)
		out[i] = pop.Index(at(j))
		moved[j] = at(i)
	}
	return starlark.NewList(out), nil
}

// def shuffle(list):
//
// shuffle puts the elements of list in a random order, in place, each
// order equally likely, and returns None. It fails if list is frozen or
// is being iterated over.
func shuffle(src *Source, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var list *starlark.List
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "list", &list); err != nil {
		return nil, err
	}
	n := list.Len()
	if n == 0 {
		return starlark.None, nil
	}
	// Check mutability first, so that even a one-element list fails alike.
	if err := list.SetIndex(0, list.Index(0)); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	for i := n - 1; i > 0; i-- {
		j := src.intN(i + 1)
		x, y := list.Index(i), list.Index(j)
		_ = list.SetIndex(i, y) // cannot fail: checked above
		_ = list.SetIndex(j, x)
	}
	return starlark.None, nil
}

// number is an Unpacker for an int or a float, as a finite float64.
type number float64

func (f *number) Unpack(v starlark.Value) error {
	x, ok := starlark.AsFloat(v)
	if !ok {
		return fmt.Errorf("got %s, want int or float", v.Type())
	}
	if _, isInt := v.(starlark.Int); isInt && math.IsInf(x, 0) {
		return fmt.Errorf("int too large to convert to float")
	}
	*f = number(x)
	return nil
}

// isOne reports whether i is 1.
func isOne(i starlark.Int) bool {
	one, ok := i.Int64()
	return ok && one == 1
}

// sequence is an Unpacker for an indexable sequence (list, tuple, string,
// range, …).
type sequence struct{ starlark.Indexable }

func (s *sequence) Unpack(v starlark.Value) error {
	seq, ok := v.(starlark.Indexable)
	if !ok {
		return fmt.Errorf("got %s, want a sequence (list, tuple, string, range)", v.Type())
	}
	s.Indexable = seq
	return nil
}
