package files_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestStaleTempSwept: a temporary file left by an engine killed while
// writing is removed when the module next opens out_dir, once old; a
// young one (a write in progress elsewhere) stays and counts.
func TestStaleTempSwept(t *testing.T) {
	out := t.TempDir()
	stale := filepath.Join(out, ".pirun-0123456789abcdef.tmp")
	young := filepath.Join(out, ".pirun-fedcba9876543210.tmp")
	os.WriteFile(stale, make([]byte, 1000), 0o644)
	os.WriteFile(young, make([]byte, 100), 0o644)
	os.WriteFile(filepath.Join(out, "keep.txt"), make([]byte, 50), 0o644)
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	d := engineFiles(t, "", out, 1200) // the "restart"
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale temporary file is still there after New (stat: %v); want it removed", err)
	}
	if _, err := os.Stat(young); err != nil {
		t.Errorf("a young temporary file was removed by New (%v); want it kept, it may be a write in progress", err)
	}
	if e := run(d, `files.write("a", "x" * 1051)`); !strings.Contains(e, "max_out_bytes") {
		t.Errorf("writing 1051 bytes beside 150 under a quota of 1200: got %q; want the quota refused", e)
	}
	if e := run(d, `files.write("a", "x" * 1050)`); e != "" {
		t.Errorf("writing 1050 bytes beside 150 under a quota of 1200: %s", e)
	}
}

// TestQuotaCountsExisting: the quota bounds out_dir's total, files there
// before the module opened it included, across restarts; removing them
// gives back only what they held.
func TestQuotaCountsExisting(t *testing.T) {
	out := t.TempDir()
	os.MkdirAll(filepath.Join(out, "sub"), 0o755)
	os.WriteFile(filepath.Join(out, "sub", "old.bin"), make([]byte, 50), 0o644)
	d := engineFiles(t, "", out, 100)
	if e := run(d, `files.write("a", "x" * 30)`); e != "" {
		t.Fatalf("writing 30 bytes beside 50 under a quota of 100: %s", e)
	}
	d = engineFiles(t, "", out, 100) // a restart: 80 bytes in out_dir
	if e := run(d, `files.write("b", "x" * 21)`); !strings.Contains(e, "max_out_bytes") || !strings.Contains(e, "(80 bytes in it now)") {
		t.Errorf("after a restart, writing 21 bytes beside 80 under a quota of 100: got %q; want it refused, 80 bytes in use", e)
	}
	if e := run(d, `files.remove("sub/old.bin")`); e != "" {
		t.Fatal(e)
	}
	if e := run(d, `files.write("b", "x" * 71)`); !strings.Contains(e, "(30 bytes in it now)") {
		t.Errorf("after removing a 50-byte file there before, writing 71 bytes beside 30 under a quota of 100: got %q; want it refused, 30 bytes in use", e)
	}
	if e := run(d, `files.write("b", "x" * 70)`); e != "" {
		t.Errorf("writing 70 bytes beside 30 under a quota of 100: %s", e)
	}
}

// TestQuotaConcurrentWriters: writers racing for the quota cannot take
// out_dir past it together.
func TestQuotaConcurrentWriters(t *testing.T) {
	out := t.TempDir()
	d := engineFiles(t, "", out, 1000)
	var wg sync.WaitGroup
	errs := make([]string, 40)
	for i := range errs {
		wg.Go(func() { errs[i] = run(d, fmt.Sprintf(`files.write("f%d", "x" * 100)`, i)) })
	}
	wg.Wait()
	ok := 0
	for _, e := range errs {
		switch {
		case e == "":
			ok++
		case !strings.Contains(e, "max_out_bytes"):
			t.Errorf("a concurrent write failed other than on the quota: %s", e)
		}
	}
	var total int64
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += info.Size()
	}
	if ok != 10 || total != 1000 {
		t.Errorf("40 concurrent writes of 100 bytes under a quota of 1000: %d succeeded, %d bytes in out_dir; want 10 and 1000", ok, total)
	}
}

// TestWriteArrayEmptyPath: write_array("") names no file and is refused,
// not written as a hidden ".npy".
func TestWriteArrayEmptyPath(t *testing.T) {
	out := t.TempDir()
	d := engineFiles(t, "", out, 0)
	for _, p := range []string{"", "sub/"} {
		if e := run(d, fmt.Sprintf(`files.write_array(%q, [1, 2])`, p)); !strings.Contains(e, "names no file") {
			t.Errorf("files.write_array(%q): got %q; want it refused as naming no file", p, e)
		}
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("files.write_array with no file name left %v in out_dir", entries)
	}
}
