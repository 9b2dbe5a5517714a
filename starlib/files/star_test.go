package files_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pirun-dev/pirun/starlib/startest"
)

// TestStarFiles runs testdata/*.star on an engine's module whose data_dir
// and out_dir are one fresh folder, holding testdata/in.
func TestStarFiles(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.star"))
	if err != nil || len(names) == 0 {
		t.Fatalf("testdata/*.star: %v, %d files", err, len(names))
	}
	for _, filename := range names {
		t.Run(filepath.Base(filename), func(t *testing.T) {
			src, err := os.ReadFile(filename)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "in.csv"), []byte("a,b\n1,2\n3,4\n"), 0o644)
			startest.RunFile(t, filename, src, startest.Options{
				Predeclared: engineFiles(t, dir, dir, 4096),
				Context:     t.Context(),
			})
		})
	}
}
