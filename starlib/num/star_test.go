package num_test

import (
	"os"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/num"
	"github.com/pirun-dev/pirun/starlib/startest"
)

// TestStarFile runs testdata/num.star, the module as a user meets it.
func TestStarFile(t *testing.T) {
	const filename = "testdata/num.star"
	src, err := os.ReadFile(filename)
	if err != nil {
		t.Fatal(err)
	}
	startest.RunFile(t, filename, src, startest.Options{
		Predeclared: starlark.StringDict{"num": num.Module},
		Context:     t.Context(),
	})
}
