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

// A Source is a seedable stream of pseudo-random numbers. Its methods are
// safe for concurrent use (a mutex guards the state), so one Source may
// serve every task of an engine even if tasks overlap.
type Source struct {
	mu  sync.Mutex
	pcg *rand.PCG
	r   *rand.Rand
}

// defaultSource serves threads without a Source of their own.
var defaultSource = NewSource(int64(rand.Uint64()))

// NewSource returns a Source seeded with seed. Sources made with the same
// seed produce the same sequence.
func NewSource(seed int64) *Source {
	pcg := rand.NewPCG(uint64(seed), seedMix)
	return &Source{pcg: pcg, r: rand.New(pcg)}
}

// Seed restarts s as if it had been made by NewSource(seed).
func (s *Source) Seed(seed int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
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

// float64 returns a number in [0, 1).
func (s *Source) float64() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.Float64()
}

// normFloat64 returns a normally distributed number (mean 0, deviation 1).
func (s *Source) normFloat64() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.NormFloat64()
}

// intN returns a number in [0, n), for n > 0.
func (s *Source) intN(n int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.r.IntN(n)
}

// below returns a uniformly distributed int in [0, n), for n > 0.
func (s *Source) below(n starlark.Int) starlark.Int {
	if u, ok := n.Uint64(); ok {
		s.mu.Lock()
		defer s.mu.Unlock()
		return starlark.MakeUint64(s.r.Uint64N(u))
	}
	return starlark.MakeBigInt(s.belowBig(n.BigInt()))
}

// belowBig returns a uniformly distributed number in [0, n), for n >=
// 2**64, by rejection sampling of n.BitLen() random bits.
func (s *Source) belowBig(n *big.Int) *big.Int {
	s.mu.Lock()
	defer s.mu.Unlock()
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
