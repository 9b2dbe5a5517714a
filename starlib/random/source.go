// This file defines Source, a seedable random stream, and its binding to a
// Starlark thread.

package random

import (
	"math/big"
	"math/rand/v2"
	"sync"

	"go.starlark.net/starlark"
)

// sourceKey is the thread-local key of a thread's Source.
const sourceKey = "pirun.random.source"

// seedMix is the second PCG seed word, fixed so that one int64 seed
// determines the stream.
const seedMix = 0x9e3779b97f4a7c15

// A Source is a seedable stream of pseudo-random numbers. A Source made
// by NewSource serves one thread at a time, without locking: an engine
// runs one task at a time, and gives each of its tasks its own engine's
// Source. The process-wide default Source, which serves the threads that
// have none, is safe for concurrent use.
type Source struct {
	pcg rand.PCG
	r   *rand.Rand  // over pcg
	mu  *sync.Mutex // guards pcg; nil unless the Source is shared
}

// defaultSource serves threads without a Source of their own.
var defaultSource = newShared(int64(rand.Uint64()))

// NewSource returns a Source seeded with seed, for one thread at a time.
// Sources made with the same seed produce the same sequence.
func NewSource(seed int64) *Source {
	s := &Source{pcg: *rand.NewPCG(uint64(seed), seedMix)}
	s.r = rand.New(&s.pcg)
	return s
}

// newShared returns a Source, seeded with seed, that is safe for
// concurrent use.
func newShared(seed int64) *Source {
	s := NewSource(seed)
	s.mu = new(sync.Mutex)
	return s
}

// lock locks s if it is shared, and returns the function that unlocks it.
func (s *Source) lock() func() {
	if s.mu == nil {
		return func() {}
	}
	s.mu.Lock()
	return s.mu.Unlock
}

// Seed restarts s as if it had been made by NewSource(seed).
func (s *Source) Seed(seed int64) {
	defer s.lock()()
	s.pcg.Seed(uint64(seed), seedMix)
}

// SetSource makes src the Source of thread's random module. Like
// thread.SetLocal, it must be called before the thread starts executing.
// A nil src restores the process-wide default.
func SetSource(thread *starlark.Thread, src *Source) {
	thread.SetLocal(sourceKey, src)
}

// SourceOf returns the Source set on thread with SetSource, or nil if none
// was set (the module then uses the process-wide default).
func SourceOf(thread *starlark.Thread) *Source {
	src, _ := thread.Local(sourceKey).(*Source)
	return src
}

// source returns the Source that thread draws from.
func source(thread *starlark.Thread) *Source {
	if src := SourceOf(thread); src != nil {
		return src
	}
	return defaultSource
}

// float64 returns a number in [0, 1), as rand.Rand.Float64 does (the
// same sequence), without locking unless s is shared: it is the hot path
// of random.random().
func (s *Source) float64() float64 {
	if s.mu != nil {
		s.mu.Lock()
		u := s.pcg.Uint64()
		s.mu.Unlock()
		return float64(u<<11>>11) / (1 << 53)
	}
	return float64(s.pcg.Uint64()<<11>>11) / (1 << 53)
}

// normFloat64 returns a normally distributed number (mean 0, deviation 1).
func (s *Source) normFloat64() float64 {
	defer s.lock()()
	return s.r.NormFloat64()
}

// intN returns a number in [0, n), for n > 0.
func (s *Source) intN(n int) int {
	defer s.lock()()
	return s.r.IntN(n)
}

// below returns a uniformly distributed int in [0, n), for n > 0.
func (s *Source) below(n starlark.Int) starlark.Int {
	if u, ok := n.Uint64(); ok {
		defer s.lock()()
		return starlark.MakeUint64(s.r.Uint64N(u))
	}
	return starlark.MakeBigInt(s.belowBig(n.BigInt()))
}

// belowBig returns a uniformly distributed number in [0, n), for n >=
// 2**64, by rejection sampling of n.BitLen() random bits.
func (s *Source) belowBig(n *big.Int) *big.Int {
	defer s.lock()()
	bits := n.BitLen()
	buf := make([]byte, (bits+7)/8)
	z := new(big.Int)
	for {
		for i := range buf {
			buf[i] = byte(s.r.Uint32())
		}
		buf[0] &= byte(0xff >> (8*len(buf) - bits))
		if z.SetBytes(buf).Cmp(n) < 0 {
			return z
		}
	}
}
