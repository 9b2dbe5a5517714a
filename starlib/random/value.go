// This file defines module, the value of a random module: immutable
// builtins found by a switch, since random.random() in a loop looks its
// function up on every call (a map lookup in a starlarkstruct.Module took
// 7% of a π loop's time).

package random

import (
	"fmt"
	"slices"

	"go.starlark.net/starlark"
)

// numFuncs is the number of functions of the module.
const numFuncs = 9

// funcNames are the module's function names, sorted.
var funcNames = [numFuncs]string{"choice", "gauss", "randint", "random", "randrange", "sample", "seed", "shuffle", "uniform"}

// A module is a random module: its functions, in funcNames' order. It
// is immutable once built.
type module struct {
	funcs [numFuncs]*starlark.Builtin
}

var _ starlark.HasAttrs = (*module)(nil)

func (m *module) String() string        { return `<module "random">` }
func (m *module) Type() string          { return "module" }
func (m *module) Freeze()               {}
func (m *module) Truth() starlark.Bool  { return true }
func (m *module) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: %s", m.Type()) }

// AttrNames returns the function names, sorted, in a new slice.
func (m *module) AttrNames() []string { return slices.Clone(funcNames[:]) }

// Attr returns the function called name, or nil.
func (m *module) Attr(name string) (starlark.Value, error) {
	i := -1
	switch name {
	case "choice":
		i = 0
	case "gauss":
		i = 1
	case "randint":
		i = 2
	case "random":
		i = 3
	case "randrange":
		i = 4
	case "sample":
		i = 5
	case "seed":
		i = 6
	case "shuffle":
		i = 7
	case "uniform":
		i = 8
	}
	if i < 0 {
		return nil, nil
	}
	return m.funcs[i], nil
}
