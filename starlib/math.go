// This file defines the math module: go.starlark.net/lib/math plus inf and
// nan.

package starlib

import (
	"math"

	libmath "go.starlark.net/lib/math"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// mathModule is the Starlark module "math". It has every member of
// go.starlark.net/lib/math (ceil, floor, round, sqrt, log, sin, …, pi, e),
// documented there, plus, as in Python:
//
//	math.inf  # float: positive infinity, float("inf")
//	math.nan  # float: not a number, float("nan")
//
// go.starlark.net's module itself is not modified.
var mathModule = newMathModule()

func newMathModule() *starlarkstruct.Module {
	members := make(starlark.StringDict, len(libmath.Module.Members)+2)
	for name, v := range libmath.Module.Members {
		members[name] = v
	}
	members["inf"] = starlark.Float(math.Inf(1))
	members["nan"] = starlark.Float(math.NaN())
	m := &starlarkstruct.Module{Name: "math", Members: members}
	m.Freeze()
	return m
}
