package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFilesOut runs a script whose engines write files (pirun's own
// engines: out_dir is the script's folder), whose host reads them back
// and writes a summary, and checks the files on disk, numpy reading the
// arrays when it is there.
func TestFilesOut(t *testing.T) {
	src, err := os.ReadFile("testdata/cli/files_out.star")
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	dir := filepath.Join(base, "job")
	os.Mkdir(dir, 0o755)
	script := filepath.Join(dir, "files_out.star")
	if err := os.WriteFile(script, src, 0o644); err != nil {
		t.Fatal(err)
	}
	r := runPirun(t, base, cliTimeout, "-n", "3", "--quiet", script)
	if r.code != 0 {
		t.Fatalf("pirun files_out.star = exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		`engines wrote ["out/part-0.txt", "out/part-1.txt", "out/part-2.txt"]`,
		"engine 2 squares [0, 1, 4, 9, 16]",
		"log lines 3",
		"arrays [[0.0, 1.5, 3.0], [0.0, 1.5, 3.0, 4.5], [0.0, 1.5, 3.0, 4.5, 6.0]]",
		`files.write: "../outside.txt" is outside out_dir; use a path relative to out_dir (` + dir + `)`,
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q\nstdout:\n%s", want, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(base, "outside.txt")); err == nil {
		t.Errorf("an engine wrote outside its out_dir")
	}
	data, err := os.ReadFile(filepath.Join(dir, "out", "part-1.txt"))
	if got, want := string(data), "engine 1 squares [0, 1, 4, 9]\n"; err != nil || got != want {
		t.Errorf("out/part-1.txt = %q, %v, want %q", got, err, want)
	}
	var summary struct{ Parts, Bytes int }
	data, err = os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil || json.Unmarshal(data, &summary) != nil || summary.Parts != 3 || summary.Bytes == 0 {
		t.Errorf("summary.json = %q, %v, want 3 parts and their bytes", data, err)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	if len(entries) != 7 {
		t.Errorf("out/ holds %d entries, want 3 parts, 3 arrays and the log (no temporary files)", len(entries))
	}
	py := "/usr/bin/python3"
	if exec.Command(py, "-c", "import numpy").Run() != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("numpy is needed to check the .npy files under CI=true")
		}
		return
	}
	out, err := exec.Command(py, "-c", "import numpy, sys; a = numpy.load(sys.argv[1]); print(a.dtype, a.tolist())",
		filepath.Join(dir, "out", "arr-2.npy")).CombinedOutput()
	if got, want := strings.TrimSpace(string(out)), "float64 [0.0, 1.5, 3.0, 4.5, 6.0]"; err != nil || got != want {
		t.Errorf("numpy.load(out/arr-2.npy) = %q, %v, want %q", got, err, want)
	}
}
