package files_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/files"
)

// engineFiles returns an engine's predeclared dict whose files module
// reads under data and writes under out with quota.
func engineFiles(t *testing.T, data, out string, quota int64) starlark.StringDict {
	t.Helper()
	m, err := files.New(files.Options{DataDir: data, OutDir: out, MaxOutBytes: quota})
	if err != nil {
		t.Fatalf("files.New: %v", err)
	}
	d, err := starlib.Predeclared(starlib.Engine, starlark.StringDict{
		"files": m, "engine": starlark.None, "comm": starlark.None,
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// run executes src and returns its error, or "" on success.
func run(predecl starlark.StringDict, src string) string {
	th := &starlark.Thread{Name: "test"}
	_, err := starlark.ExecFileOptions(starlib.FileOptions(), th, "t.star", src, predecl)
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestJail(t *testing.T) {
	base := t.TempDir()
	out := filepath.Join(base, "out")
	secret := filepath.Join(base, "secret")
	os.MkdirAll(filepath.Join(out, "sub"), 0o755)
	os.WriteFile(secret, []byte("s"), 0o644)
	os.MkdirAll(filepath.Join(base, "elsewhere"), 0o755)
	os.Symlink("../secret", filepath.Join(out, "rel-link"))                   // relative, leads out
	os.Symlink(secret, filepath.Join(out, "abs-link"))                        // absolute
	os.Symlink("../elsewhere", filepath.Join(out, "dir-link"))                // a folder outside
	os.Symlink("sub", filepath.Join(out, "in-link"))                          // inside: allowed
	os.Symlink("/dev/zero", filepath.Join(out, "dev-link"))                   // a device, absolute
	if err := syscall.Mkfifo(filepath.Join(out, "fifo"), 0o644); err != nil { // a FIFO: must not block
		t.Fatal(err)
	}
	d := engineFiles(t, out, out, 1<<20)
	for _, test := range []struct {
		src, want string // want: "" = success, else a substring of the error
	}{
		{`files.write("../x", "a")`, `files.write: "../x" is outside out_dir; use a path relative to out_dir`},
		{`files.write("sub/../../x", "a")`, "outside out_dir"},
		{`files.write("/tmp/x", "a")`, `"/tmp/x" is outside out_dir`},
		{`files.append("../x", "a")`, "outside out_dir"},
		{`files.remove("../secret")`, "outside out_dir"},
		{`files.makedirs("../d")`, "outside out_dir"},
		{`files.write_array("../a", [1])`, "outside out_dir"},
		{`files.read("../secret")`, "outside data_dir"},
		{`files.read("rel-link")`, "escapes data_dir"},
		{`files.read("abs-link")`, "escapes data_dir"},
		{`files.append("rel-link", "x")`, "escapes out_dir"},
		{`files.write("dir-link/x", "a")`, "escapes out_dir"},
		{`files.append("dir-link/x", "a")`, "escapes out_dir"},
		{`files.makedirs("dir-link/d")`, "escapes out_dir"},
		{`files.read("dev-link")`, "escapes data_dir"},
		{`files.read("fifo")`, `"fifo" is a named pipe`},
		{`files.append("fifo", "x")`, `"fifo" is a named pipe`},
		{`files.write("fifo", "x")`, `"fifo" is a named pipe`},
		{`files.remove("fifo")`, `"fifo" is a named pipe`},
		{`files.write("in-link/ok.txt", "fine")`, ""},
		{`files.write("", "a")`, "the path is empty"},
		{`files.write(".", "a")`, "is out_dir itself"},
		{`files.write("sub", "a")`, `"sub" is a folder`},
		{`files.write("nodir/x.txt", "a")`, `its folder "nodir" does not exist (under out_dir ` + out + `); create it first with files.makedirs("nodir", exist_ok=True)`},
		{`files.write("x.txt", 3)`, "data is a int; want a string or bytes"},
		{`files.write(".pirun-0.tmp", "a")`, "a name pirun uses for writes in progress"},
		{`files.makedirs("empty")`, ""},
		{`files.makedirs("empty")`, `files.makedirs: "empty" already exists (under out_dir ` + out + `); pass exist_ok=True`},
		{`files.remove("sub")`, `"sub" is a folder that is not empty`},
		{`files.remove("empty")`, ""},
		{`files.remove("nope")`, `files.remove: "nope": no such file or folder`},
		{`files.remove("nope", missing_ok=True)`, ""},
	} {
		if got := run(d, test.src); test.want == "" && got != "" || !strings.Contains(got, test.want) {
			t.Errorf("%s: error %q, want %q", test.src, got, test.want)
		}
	}
	if data, _ := os.ReadFile(secret); string(data) != "s" {
		t.Errorf("the file outside out_dir holds %q, want it untouched", data)
	}
	if entries, _ := os.ReadDir(filepath.Join(base, "elsewhere")); len(entries) != 0 {
		t.Errorf("the folder outside out_dir holds %v, want nothing", entries)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "sub", "ok.txt")); string(data) != "fine" {
		t.Errorf("in-link/ok.txt holds %q, want %q", data, "fine")
	}
}

func TestMissingDirs(t *testing.T) {
	d := engineFiles(t, "", "", 0)
	for _, test := range []struct{ src, want string }{
		{`files.read("a")`, "files.read: this engine has no data_dir; set data_dir in the [engine] table"},
		{`files.write("a", "")`, "files.write: this engine has no out_dir; set out_dir in the [engine] table"},
	} {
		if got := run(d, test.src); !strings.Contains(got, test.want) {
			t.Errorf("%s: error %q, want %q", test.src, got, test.want)
		}
	}
	if _, err := files.New(files.Options{OutDir: "/proc/nope/out"}); err == nil || !strings.Contains(err.Error(), "out_dir") {
		t.Errorf("files.New with an out_dir that cannot be made = %v, want an error naming out_dir", err)
	}
}

// TestSymlinkSwap swaps a folder and a symbolic link to outside under
// writers, and checks that nothing ever lands outside.
func TestSymlinkSwap(t *testing.T) {
	base := t.TempDir()
	out, outside := filepath.Join(base, "out"), filepath.Join(base, "outside")
	os.MkdirAll(filepath.Join(out, "d"), 0o755)
	os.MkdirAll(outside, 0o755)
	d := engineFiles(t, out, out, 0)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Go(func() {
		real, link, tmp := filepath.Join(out, "d"), filepath.Join(out, "l"), filepath.Join(out, "t")
		os.Symlink(outside, link)
		for !stop.Load() {
			os.Rename(real, tmp) // d -> t, l -> d, then back
			os.Rename(link, real)
			os.Rename(real, link)
			os.Rename(tmp, real)
		}
	})
	for range 100 {
		run(d, `files.write("d/x.txt", "a")`)
		run(d, `files.append("d/y.txt", "b")`)
		run(d, `files.makedirs("d/z", exist_ok=True)`)
	}
	stop.Store(true)
	wg.Wait()
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Errorf("after racing writers with a symlink swap, outside holds %v, want nothing", entries)
	}
}

func TestQuota(t *testing.T) {
	out := t.TempDir()
	d := engineFiles(t, out, out, 1000)
	for _, test := range []struct{ src, want string }{
		{`files.write("a", "x" * 600)`, ""},
		{`files.write("b", "x" * 600)`, `files.write: writing 600 bytes to "b" would take out_dir past its max_out_bytes of 1000 bytes (600 bytes in it now); write less, remove files with files.remove, or raise [engine] max_out_bytes`},
		{`files.write("a", "x" * 1000)`, ""}, // replaces the 600: 1000 in use
		{`files.append("a", "y")`, "past its max_out_bytes of 1000 bytes"},
		{`files.remove("a")`, ""}, // gives the 1000 back
		{`files.write("b", "x" * 900)`, ""},
		{`files.append("b", "y" * 100)`, ""},
		{`files.write_array("c", [1.0])`, "max_out_bytes"},
	} {
		if got := run(d, test.src); test.want == "" && got != "" || !strings.Contains(got, test.want) {
			t.Errorf("%s: error %q, want %q", test.src, got, test.want)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "c.npy")); err == nil {
		t.Errorf("c.npy exists after a write over the quota")
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("out holds %v, want only b (no temporary files left)", entries)
	}
}

// TestAtomicWrite reads a file while it is rewritten: every read sees one
// whole version, never a part.
func TestAtomicWrite(t *testing.T) {
	out := t.TempDir()
	d := engineFiles(t, out, out, 0)
	const size = 256 << 10
	a, b := strings.Repeat("a", size), strings.Repeat("b", size)
	os.WriteFile(filepath.Join(out, "f"), []byte(a), 0o644)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Int64
	wg.Go(func() {
		for !stop.Load() {
			data, err := os.ReadFile(filepath.Join(out, "f"))
			if err != nil || len(data) != size || !(bytes.Equal(data, []byte(a)) || bytes.Equal(data, []byte(b))) {
				bad.Add(1)
			}
		}
	})
	pre := starlark.StringDict{"A": starlark.String(a), "B": starlark.String(b)}
	for k, v := range d {
		pre[k] = v
	}
	for i := range 20 {
		src := `files.write("f", A)`
		if i%2 == 0 {
			src = `files.write("f", B)`
		}
		if got := run(pre, src); got != "" {
			t.Fatal(got)
		}
	}
	stop.Store(true)
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Errorf("%d reads saw a missing or partly written file, want none", n)
	}
}

// TestFailedWriteKeepsOld fills a tiny file system so that a write fails
// midway, and checks that the old file is intact and no temporary file
// is left. It needs a tmpfs it can mount (root); without one it checks
// the same through the quota and a folder that refuses new files.
func TestFailedWriteKeepsOld(t *testing.T) {
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "f"), []byte("old"), 0o644)
	d := engineFiles(t, out, out, 0)
	if os.Geteuid() == 0 {
		if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", out).Run(); err == nil {
			t.Cleanup(func() { exec.Command("umount", "-l", out).Run() })
			os.WriteFile(filepath.Join(out, "f"), []byte("old"), 0o644)
			d = engineFiles(t, out, out, 0)
			got := run(d, `files.write("f", "x" * 200000)`)
			if !strings.Contains(got, `"f": no space left on device`) {
				t.Errorf("a write larger than the file system: %q, want no space left", got)
			}
			got = run(d, `files.append("f", "x" * 200000)`)
			if !strings.Contains(got, "no space left") {
				t.Errorf("an append larger than the file system: %q, want no space left", got)
			}
			checkOld(t, out)
			return
		}
	}
	if os.Geteuid() != 0 {
		os.Chmod(out, 0o555) // no new names: the temporary file cannot be made
		t.Cleanup(func() { os.Chmod(out, 0o755) })
		if got := run(d, `files.write("f", "new")`); !strings.Contains(got, "permission denied") {
			t.Errorf("a write in a read-only folder: %q, want permission denied", got)
		}
	}
	checkOld(t, out)
}

func checkOld(t *testing.T, out string) {
	t.Helper()
	if data, _ := os.ReadFile(filepath.Join(out, "f")); string(data) != "old" {
		t.Errorf("after a failed write f holds %d bytes, want the old content", len(data))
	}
	if entries, _ := os.ReadDir(out); len(entries) != 1 {
		t.Errorf("after a failed write the folder holds %d entries, want only f", len(entries))
	}
}

// TestNPYNumpy writes arrays and has numpy read them back, when numpy is
// there (CI=true requires it).
func TestNPYNumpy(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("numpy is needed to check .npy files: %v", err)
		}
		t.Skipf("no numpy (%v); CI=true makes this a failure", err)
	}
	out := t.TempDir()
	d := engineFiles(t, out, out, 0)
	src := `
files.write_array("f", num.array([[1.5, -2.0, 3.25], [4.0, 5.5, -6.75]]))
files.write_array("i.npy", num.arange(5))
files.write_array("b", num.array([True, False, True]))
files.write_array("t", num.arange(6).reshape(2, 3).T)
files.write_array("l", [1, 2, 3])
`
	if got := run(d, src); got != "" {
		t.Fatal(got)
	}
	script := `
import numpy as np, sys
d = sys.argv[1]
for name in ["f", "i", "b", "t", "l"]:
    a = np.load(d + "/" + name + ".npy")
    print(name, a.dtype, a.shape, a.tolist())
`
	got, err := exec.Command(py, "-c", script, out).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy.load: %v\n%s", err, got)
	}
	want := `f float64 (2, 3) [[1.5, -2.0, 3.25], [4.0, 5.5, -6.75]]
i int64 (5,) [0, 1, 2, 3, 4]
b bool (3,) [True, False, True]
t int64 (3, 2) [[0, 3], [1, 4], [2, 5]]
l int64 (3,) [1, 2, 3]
`
	if string(got) != want {
		t.Errorf("numpy.load read\n%s\nwant\n%s", got, want)
	}
	if got := run(d, `a = files.read_array("t.npy")
if str(a.tolist()) != "[[0, 3], [1, 4], [2, 5]]": fail(a)`); got != "" {
		t.Errorf("read_array of a written array: %s", got)
	}
}

// TestHost checks the host's module: paths relative to the thread's
// folder, absolute paths allowed.
func TestHost(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	m := files.NewHost(func(th *starlark.Thread) string { return th.Local("dir").(string) })
	th := &starlark.Thread{Name: "host"}
	th.SetLocal("dir", dir)
	src := `
files.write("a.txt", "hello\n")
files.append("a.txt", "world\n")
files.makedirs("sub/deeper", exist_ok=True)
files.write(OTHER + "/abs.txt", "abs")
lines = files.lines("a.txt")
names = files.listdir()
`
	g, err := starlark.ExecFileOptions(starlib.FileOptions(), th, "h.star", src,
		starlark.StringDict{"files": m, "OTHER": starlark.String(other)})
	if err != nil {
		t.Fatal(err)
	}
	if got := g["lines"].String(); got != `["hello", "world"]` {
		t.Errorf("lines = %s", got)
	}
	if got := g["names"].String(); got != `["a.txt", "sub"]` {
		t.Errorf("listdir() = %s", got)
	}
	if data, _ := os.ReadFile(filepath.Join(other, "abs.txt")); string(data) != "abs" {
		t.Errorf("the absolute path holds %q", data)
	}
}
