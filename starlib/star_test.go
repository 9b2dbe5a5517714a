package starlib_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/random"
	"github.com/pirun-dev/pirun/starlib/startest"
)

// TestStarFiles runs each testdata/*.star file through startest, on the
// side it names.
func TestStarFiles(t *testing.T) {
	sides := map[string]starlib.Side{
		"dialect.star":     starlib.Host,
		"json.star":        starlib.Host,
		"math.star":        starlib.Engine,
		"pow.star":         starlib.Engine,
		"python.star":      starlib.Host,
		"pyhabits.star":    starlib.Engine,
		"random.star":      starlib.Engine,
		"struct.star":      starlib.Host,
		"stub_engine.star": starlib.Engine,
		"stub_host.star":   starlib.Host,
		"time.star":        starlib.Host,
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.star"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	if want := slices.Sorted(maps.Keys(sides)); !slices.Equal(files, want) {
		t.Errorf("testdata/*.star = %v, want the files listed here, %v", files, want)
	}
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			filename := filepath.Join("testdata", name)
			src, err := os.ReadFile(filename)
			if err != nil {
				t.Fatal(err)
			}
			startest.RunFile(t, filename, src, startest.Options{
				Predeclared: predeclared(t, sides[name]),
				Setup: func(thread *starlark.Thread) {
					random.SetSource(thread, random.NewSource(1))
				},
				Context: t.Context(),
			})
		})
	}
}
