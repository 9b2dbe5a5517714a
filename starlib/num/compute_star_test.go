package num_test

import (
	"os"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/num"
	"github.com/pirun-dev/pirun/starlib/startest"
)

// TestComputeStarFile runs testdata/compute.star: reductions, linear
// algebra, sorting, histograms and num.random as a user meets them.
func TestComputeStarFile(t *testing.T) {
	const filename = "testdata/compute.star"
	src, err := os.ReadFile(filename)
	if err != nil {
		t.Fatal(err)
	}
	startest.RunFile(t, filename, src, startest.Options{
		Predeclared: starlark.StringDict{"num": num.Module},
		Context:     t.Context(),
	})
}
