package random_test

import (
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/random"
)

// BenchmarkRandom measures one call of random.random() from Go: through
// the thread's Source (random.Module), through an engine's own module
// (Source.Module), and through the process-wide default.
func BenchmarkRandom(b *testing.B) {
	src := random.NewSource(1)
	for _, test := range []struct {
		name   string
		module *starlark.Builtin
		src    *random.Source
	}{
		{"thread", member(b, random.Module, "random"), src},
		{"bound", member(b, src.Module(), "random"), src},
		{"default", member(b, random.Module, "random"), nil},
	} {
		b.Run(test.name, func(b *testing.B) {
			thread := &starlark.Thread{Name: "bench"}
			random.SetSource(thread, test.src)
			for b.Loop() {
				if _, err := starlark.Call(thread, test.module, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// member returns the builtin m.name.
func member(tb testing.TB, m starlark.HasAttrs, name string) *starlark.Builtin {
	tb.Helper()
	v, err := m.Attr(name)
	if err != nil || v == nil {
		tb.Fatalf("module has no %s: %v", name, err)
	}
	return v.(*starlark.Builtin)
}
