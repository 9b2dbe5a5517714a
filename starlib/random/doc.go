// Package random defines the Starlark module "random": seedable
// pseudo-random numbers after Python's random module.
//
// Each Starlark thread draws from a [Source]. The engine gives each of its
// engines its own Source, attaches it to every task thread with
// [SetSource], and predeclares that Source's own module ([Source.Module]),
// whose functions draw from it without looking the thread's Source up on
// every call. The streams of different engines are therefore independent,
// and random.seed(n) reseeds only the stream of the engine that calls it.
// A Source serves one thread at a time without locking (an engine runs one
// task at a time). A thread without a Source draws from one process-wide
// Source, seeded randomly at start-up and safe for concurrent use, which
// random.seed(n) then reseeds for the whole process, as in Python.
//
// The same seed gives the same sequence within one pirun version. The
// generator is PCG from math/rand/v2; it is not suitable for security.
package random
