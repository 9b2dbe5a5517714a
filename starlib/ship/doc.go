// Package ship sends Starlark functions from the host to engines as source
// text plus the values they read, and turns them back into callable
// functions there.
//
// go.starlark.net cannot serialise a function: its bytecode is internal and
// the syntax tree is gone once a file has run. So shipping goes through the
// source (SPEC §6):
//
//   - The host records the exact text of every file, load()ed module and
//     REPL chunk it runs in a [Sources], under a unique name, before running
//     it.
//   - [Capture] finds the def or lambda at the function's position in that
//     text, cuts it out (to its exact end), and replaces each default
//     expression with a placeholder bound to the default value computed at
//     def time. The names the function uses but does not bind are read off
//     the file's tree, parsed and resolved once with every free name counted
//     as predeclared (for a file that does not resolve as a whole, the
//     snippet is re-parsed and resolved on its own instead). Capture looks
//     each name up as the interpreter would — closure cells and load()
//     bindings, module globals, predeclared names, Universe — and records
//     its current value. The analysis is cached per (file, position); a
//     repeated capture only reads and encodes values.
//   - [Rebuild] compiles each function as a tiny module of its own, with
//     syntax.FilePortion so that positions, and so backtraces, name the
//     user's file and line. The captured values are that module's
//     predeclared names. The interpreter reads predeclared names at run
//     time from the map given to Program.Init, so all functions are created
//     first and the values that refer to functions are filled in after:
//     recursion, mutual recursion and lists of functions need nothing more.
//   - A [Cache] on the engine keeps rebuilt, frozen functions by [Hash].
//
// # What is captured
//
// Data (None, bool, int, float, string, bytes, list, tuple, dict, set,
// struct) is copied by value at capture time: closure cells are snapshots,
// later changes on the host are not seen, and changes on the engine never
// flow back. Rebuilt values are frozen, so a function that mutates a
// captured list fails on the engine with a "frozen" error, exactly as it
// does on the host once the script's globals are frozen (at the end of its
// top-level code); a task that needs a mutable object should create it or
// copy it (list(x)) inside the function.
//
// Starlark functions reached through free names or inside captured data
// are captured the same way, recursively; functions from load()ed files
// travel with that file's text. Builtins and modules that the engine also
// predeclares (json, math.sqrt, engine, files) and Universe builtins held
// in variables (f = len) travel as names the engine resolves. Everything
// else fails with a [*SendError] naming the value, its type, the function
// and the line: host-only names (remote, map, Client, …), host objects (a
// Client, a view, an AsyncResult, or any other value of a type that is
// neither plain data nor a function), bound methods (f = mylist.append),
// and names with no value yet (a global assigned after the function is
// sent).
//
// # Bundle format
//
// A bundle is one CBOR array written with package wire:
//
//	bundle  = [version, [func…], [ref…]]      version = FormatVersion (1)
//	func    = [name, kind, file, line, col, src, [binding…]]
//	binding = [name, value]
//	ref     = [0, func index] | [1, dotted name]
//
// funcs[0] is the captured function. kind is 0 for a def (src is a def
// statement starting at file:line:col) and 1 for a lambda (src is a lambda
// expression starting there). In src, the default of parameter p is the
// placeholder __dflt_p, which the bindings give the default's value; a
// default expression spanning several lines is replaced by the placeholder
// and as many newlines, so the body keeps its line numbers (columns after
// a placeholder on the same line may shift). The other bindings give the
// free names their values. Each value is a CBOR byte string holding one
// wire-encoded value, so a rebuilder can decode values in the order it
// needs; the encoder's Ref hook writes each function, builtin or module
// inside a value as an index into the ref table, whose entries are a
// function of the bundle or a dotted name ("json", "math.sqrt", "len")
// resolved on the engine in its predeclared dict, then in Universe.
//
// Capture is deterministic: the same function and values give the same
// bytes, so [Hash] (SHA-256 over starlark.CompilerVersion and the bytes)
// identifies a rebuilt function.
package ship
