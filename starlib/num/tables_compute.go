// This file defines the tables through which the reductions, linear
// algebra, sorting and random parts of num join the module.

package num

import "go.starlark.net/starlark"

// builtinFunc is the signature of a starlark.Builtin's function.
type builtinFunc = func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// computeFuncs holds module-level functions (num.NAME) defined by the
// compute files: reductions, dot/matmul/outer, sort/argsort/unique,
// histogram.
var computeFuncs = map[string]builtinFunc{}

// computeMethods holds ndarray methods (a.NAME(...)) defined by the
// compute files; the Array is b.Receiver().
var computeMethods = map[string]builtinFunc{}

// linalgFuncs holds the members of num.linalg.
var linalgFuncs = map[string]builtinFunc{}

// randomFuncs holds the members of num.random.
var randomFuncs = map[string]builtinFunc{}
