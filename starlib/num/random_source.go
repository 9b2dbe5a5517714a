// This file defines RandSource, the seedable stream num.random draws from,
// and its binding to a Starlark thread.

package num

import (
	"math/bits"
	"math/rand/v2"
	"sync"

	"go.starlark.net/starlark"
)

// randKey is the thread-local key of a thread's *RandSource.
const randKey = "pirun.num.random"

// randSeedMix is the second PCG seed word, fixed so that one int64 seed
// determines the stream (the value starlib/random uses too).
const randSeedMix = 0x9e3779b97f4a7c15

// A RandSource is a seedable stream of pseudo-random numbers (PCG, from
// math/rand/v2) behind num.random. The same seed gives the same numbers on
// every run and platform: uniform floats, integers and choices are this
// package's own transforms of the PCG's 64-bit outputs, and normal numbers
// are math/rand/v2's NormFloat64 over the same PCG. Its methods are safe
// for concurrent use: a mutex guards the state, taken once per array
// filled, not per element.
type RandSource struct {
	mu  sync.Mutex
	pcg rand.PCG
	r   *rand.Rand // over &pcg, for NormFloat64
}

// defaultRandSource serves threads without a RandSource of their own. It
// is seeded unpredictably when the process starts.
var defaultRandSource = NewRandSource(int64(rand.Uint64()))

// NewRandSource returns a RandSource seeded with seed. Sources made with
// the same seed produce the same numbers.
func NewRandSource(seed int64) *RandSource {
	s := &RandSource{}
	s.pcg.Seed(uint64(seed), randSeedMix)
	s.r = rand.New(&s.pcg)
	return s
}

// Seed restarts s as if it had been made by NewRandSource(seed).
func (s *RandSource) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pcg.Seed(uint64(seed), randSeedMix)
}

// SetRandSource makes src the stream of thread's num.random functions.
// Like thread.SetLocal, call it before the thread starts executing. A nil
// src restores the process-wide default, which is seeded unpredictably at
// start and which num.random.seed reseeds on threads without their own.
func SetRandSource(thread *starlark.Thread, src *RandSource) {
	thread.SetLocal(randKey, src)
}

// RandSourceOf returns the RandSource set on thread with SetRandSource,
// or nil if none was set.
func RandSourceOf(thread *starlark.Thread) *RandSource {
	if thread == nil {
		return nil
	}
	src, _ := thread.Local(randKey).(*RandSource)
	return src
}

// randSource returns the RandSource thread draws from.
func randSource(thread *starlark.Thread) *RandSource {
	if src := RandSourceOf(thread); src != nil {
		return src
	}
	return defaultRandSource
}

// u01 turns 64 random bits into a float64 in [0, 1) with 53 random bits,
// as numpy's and math/rand/v2's Float64 do.
func u01(u uint64) float64 {
	return float64(u>>11) * 0x1p-53
}

// fillFloat64 fills out with floats in [0, 1). The caller holds s.mu.
func (s *RandSource) fillFloat64(out []float64) {
	for i := range out {
		out[i] = u01(s.pcg.Uint64())
	}
}

// uint64n returns a uniformly distributed number in [0, n), for n > 0, by
// Lemire's multiply-and-reject method. The caller holds s.mu.
func (s *RandSource) uint64n(n uint64) uint64 {
	hi, lo := bits.Mul64(s.pcg.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(s.pcg.Uint64(), n)
		}
	}
	return hi
}
