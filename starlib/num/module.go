// This file defines the num module: its members, its submodules
// num.linalg and num.random, and its constants.

package num

import (
	"math"
	"sort"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Module is the frozen num module, predeclared as "num" on hosts and
// engines.
var Module = newModule()

// coreFuncs are the module's functions defined by this package's core
// files: constructors, elementwise functions and comparisons.
func coreFuncs() map[string]builtinFunc {
	m := elementwiseFuncs()
	for name, f := range map[string]builtinFunc{
		"array":       arrayFn,
		"asarray":     asarrayFn,
		"zeros":       zerosFn(nil),
		"ones":        zerosFn(starlark.MakeInt(1)),
		"empty":       zerosFn(nil),
		"full":        fullFn,
		"zeros_like":  likeFn(starlark.MakeInt(0)),
		"ones_like":   likeFn(starlark.MakeInt(1)),
		"empty_like":  likeFn(starlark.MakeInt(0)),
		"full_like":   likeFn(nil),
		"arange":      arangeFn,
		"linspace":    linspaceFn,
		"eye":         eyeFn,
		"identity":    identityFn,
		"concatenate": concatenateFn,
		"stack":       stackFn,
		"vstack":      vstackFn,
		"hstack":      hstackFn,
		"where":       whereFn,
		"array_equal": arrayEqualFn,
		"isclose":     iscloseFn,
		"allclose":    allcloseFn,
		"reshape":     reshapeFn,
		"transpose":   transposeFn,
		"shape":       shapeFn,
		"ndim":        ndimFn,
		"size":        sizeFn,
		"copy":        copyFn,
		"ravel":       ravelFn,
		"nonzero":     nonzeroFn,
		"copyto":      copytoFn,
	} {
		m[name] = f
	}
	return m
}

// members builds a module's dict of builtins named prefix+NAME: those of
// num-compute's table compute, which bind the arrays they return to their
// caller's thread (bindingResults), and those of this package's core
// table (nil for none), which allocate through alloc and so bind them
// already. A core name replaces a compute one.
func members(prefix string, compute, core map[string]builtinFunc) starlark.StringDict {
	d := make(starlark.StringDict)
	for name, f := range compute {
		d[name] = starlark.NewBuiltin(prefix+name, bindingResults(f))
	}
	for name, f := range core {
		d[name] = starlark.NewBuiltin(prefix+name, f)
	}
	return d
}

func newModule() *starlarkstruct.Module {
	d := members("num.", computeFuncs, coreFuncs())
	d["linalg"] = &starlarkstruct.Module{Name: "num.linalg", Members: members("num.linalg.", linalgFuncs, nil)}
	d["random"] = &starlarkstruct.Module{Name: "num.random", Members: members("num.random.", randomFuncs, nil)}
	d["pi"] = starlark.Float(math.Pi)
	d["e"] = starlark.Float(math.E)
	d["inf"] = starlark.Float(math.Inf(1))
	d["nan"] = starlark.Float(math.NaN())
	d["float64"] = starlark.String("float64")
	d["int64"] = starlark.String("int64")
	d["bool_"] = starlark.String("bool")
	m := &starlarkstruct.Module{Name: "num", Members: d}
	m.Freeze()
	return m
}

// Names returns the sorted names of the num module's members.
func Names() []string {
	names := make([]string, 0, len(Module.Members))
	for name := range Module.Members {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
