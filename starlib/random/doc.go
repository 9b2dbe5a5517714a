// Package random defines the Starlark module "random": seedable
// pseudo-random numbers after Python's random module.
//
// Each Starlark thread draws from a [Source]. The engine gives each of its
// engines its own Source and attaches it to every task thread with
// [SetSource], so the streams of different engines are independent and
// random.seed(n) reseeds only the stream of the engine that calls it. A
// thread without a Source draws from one process-wide Source, seeded
// randomly at start-up, which random.seed(n) then reseeds for the whole
// process, as in Python.
//
// The same seed gives the same sequence within one pirun version. The
// generator is PCG from math/rand/v2; it is not suitable for security.
package random
