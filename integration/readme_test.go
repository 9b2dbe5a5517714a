package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadmeTour runs the five-minute tour exactly as README.md shows it,
// on 4 local engines, and checks the results its comments promise.
func TestReadmeTour(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```python\n# tour.star[^\n]*\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ```python block starting with # tour.star")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tour.star"), m[1], 0o644); err != nil {
		t.Fatal(err)
	}
	r := runPirun(t, dir, 60*time.Second, "-n", "4", "tour.star")
	if r.code != 0 {
		t.Fatalf("the README tour failed: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		"[0, 1, 2, 3]\n[0, 1, 2, 3]\n",
		"[0, 1, 4, 9, 16, 25, 36, 49]\n",
		"[20, 20, 20, 20]\n",
		"[0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121, 144, 169, 196, 225]\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the README tour's output lacks %q:\n%s", want, r.stdout)
		}
	}
}
