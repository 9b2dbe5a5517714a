package num

import (
	"slices"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// TestTablesDisjoint checks that no name is defined both by the core files
// and by the compute tables: one would silently hide the other.
func TestTablesDisjoint(t *testing.T) {
	core := coreFuncs()
	for name := range computeFuncs {
		if _, ok := core[name]; ok {
			t.Errorf("num.%s is defined by both the core files and computeFuncs", name)
		}
	}
	for name := range computeMethods {
		if _, ok := coreMethods[name]; ok {
			t.Errorf("ndarray.%s is defined by both coreMethods and computeMethods", name)
		}
		if _, ok := fields[name]; ok {
			t.Errorf("ndarray.%s is both an attribute and a computeMethods entry", name)
		}
	}
}

// TestModule checks the module's shape: its name, submodules, constants,
// and the functions SPEC §11 lists for the core.
func TestModule(t *testing.T) {
	if Module.Name != "num" {
		t.Errorf("Module.Name = %q, want num", Module.Name)
	}
	for _, sub := range []string{"linalg", "random"} {
		m, ok := Module.Members[sub].(*starlarkstruct.Module)
		if !ok || m.Name != "num."+sub {
			t.Errorf("num.%s = %v, want a module named num.%s", sub, Module.Members[sub], sub)
		}
	}
	for _, name := range []string{
		"array", "zeros", "ones", "full", "arange", "linspace", "eye", "concatenate", "stack",
		"less", "less_equal", "greater", "greater_equal", "equal", "not_equal", "where", "array_equal", "allclose",
		"sqrt", "exp", "log", "log10", "sin", "cos", "tan", "arctan", "arctan2", "abs", "floor", "ceil", "round",
		"minimum", "maximum", "clip", "hypot", "power", "isnan", "isfinite",
		"pi", "e", "inf", "nan",
	} {
		if _, ok := Module.Members[name]; !ok {
			t.Errorf("num.%s is missing", name)
		}
	}
	if b, ok := Module.Members["sqrt"].(*starlark.Builtin); !ok || b.Name() != "num.sqrt" {
		t.Errorf("num.sqrt = %v, want a builtin named num.sqrt", Module.Members["sqrt"])
	}
	if names := Names(); !slices.IsSorted(names) || len(names) != len(Module.Members) {
		t.Errorf("Names() = %v, want the sorted member names", names)
	}
}

// TestAttrNames checks that the ndarray lists its attributes sorted, and
// that each one resolves.
func TestAttrNames(t *testing.T) {
	a, _ := FromFloat64s([]float64{1, 2})
	names := a.AttrNames()
	if !slices.IsSorted(names) {
		t.Errorf("AttrNames() = %v, not sorted", names)
	}
	for _, want := range []string{"T", "astype", "copy", "dtype", "flatten", "ndim", "ravel", "reshape", "shape", "size", "tolist"} {
		if !slices.Contains(names, want) {
			t.Errorf("AttrNames() lacks %q", want)
		}
	}
	for _, name := range names {
		if v, err := a.Attr(name); err != nil || v == nil {
			t.Errorf("a.%s = %v, %v", name, v, err)
		}
	}
	if b, _ := a.Attr("reshape"); b.(*starlark.Builtin).Name() != "ndarray.reshape" {
		t.Errorf("a.reshape is named %q, want ndarray.reshape", b.(*starlark.Builtin).Name())
	}
}
