package starlib_test

import (
	"slices"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

func TestMethods(t *testing.T) {
	m := starlib.NewMethods("T", map[string]starlib.Method[starlark.String]{
		"upper": func(recv starlark.String, _ *starlark.Thread, b *starlark.Builtin, _ starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
			return starlark.String(b.Name() + " of " + string(recv)), nil
		},
	})
	if got, want := m.Names("size"), []string{"size", "upper"}; !slices.Equal(got, want) {
		t.Errorf("Names(size) = %v, want %v", got, want)
	}
	v, err := m.Attr(starlark.String("x"), "upper")
	if err != nil {
		t.Fatal(err)
	}
	got, err := starlark.Call(new(starlark.Thread), v, nil, nil)
	if err != nil || got != starlark.String("T.upper of x") {
		t.Errorf("Attr(x, upper)() = %v, %v, want \"T.upper of x\"", got, err)
	}
	if v, err := m.Attr(starlark.String("x"), "nope"); v != nil || err != nil {
		t.Errorf("Attr(x, nope) = %v, %v, want nil, nil", v, err)
	}
}
