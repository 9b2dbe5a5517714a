// Package starlib defines the Starlark dialect and the builtins that the
// pirun host and its engines share.
//
// # Dialect
//
// [FileOptions] returns the one dialect used on both sides: go.starlark.net
// with while loops, top-level if/for/while, global reassignment, recursion
// and the set builtin. Every parse, resolve and compile in pirun goes
// through the …Options APIs with this value; the legacy APIs and the
// deprecated resolve.Allow* globals are never used, and starlark.Universe
// is never modified.
//
// # Names
//
// Every predeclared name belongs to one [Side] (see [Names]):
//
//   - shared: struct, json, math, time, random, pow, and the Python habits
//     sum, round, format and divmod, defined here, plus the Universe
//     builtins (fail, set, …), which go.starlark.net supplies;
//   - host: Client, remote, parallel, map, ref, argv and wait, defined by
//     package host;
//   - engine: engine, files and comm, defined by package engine.
//
// [Predeclared] builds a side's predeclared dict from the shared modules,
// that side's implementations, and a stub for each name of the other side.
// Host and engine therefore predeclare the same set of names, so a script
// resolves identically everywhere, and a name used on the wrong side fails
// at run time with a message that says where it belongs (see [IsStub]).
//
// # Context and cancellation
//
// Builtin signatures are fixed, so the thread-local "context" (the key the
// go.starlark.net REPL uses for Control-C) carries a task's context to
// blocking builtins such as time.sleep. [SetContext] stores it, [Context]
// reads it, and [BindCancel] cancels the thread when the context is done.
//
// # Shared modules
//
// The modules are immutable and frozen, so one value serves every thread.
// json is go.starlark.net's lib/json, and math its lib/math plus inf and
// nan; struct is
// starlarkstruct.Make; random is [random.Module] from
// github.com/pirun-dev/pirun/starlib/random; time (lib/time plus a
// cancellable sleep) and pow are documented where they are defined.
package starlib
