// This file defines the engine's tests of num: files.read_array under
// data_dir, max_array_bytes, and abort, timeout and the step limit
// stopping long vectorised work with the engine usable after.

package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/num"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// runOK executes code on engine 0 and fails the test unless it succeeds.
func runOK(t *testing.T, h *fakeHub, d *Daemon, code string) {
	t.Helper()
	h.send(t, d, execute(code))
	if r := h.result(t); r.Status != wire.StatusOK {
		t.Fatalf("%s: %+v", code, r.Err)
	}
}

func TestReadArray(t *testing.T) {
	dir := t.TempDir()
	npy, err := os.ReadFile("../starlib/num/testdata/npy/f8_fortran.npy")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "m.npy"), npy, 0o644)
	os.WriteFile(filepath.Join(dir, "t.csv"), []byte("x,y,z\n1,2,3\n4,5,6\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.csv"), []byte("1,2\n3,x\n"), 0o644)
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "o.npy"), npy, 0o644)
	h, d := startDaemon(t, Config{Engines: 1, DataDir: dir})
	for _, test := range []struct{ code, want string }{
		{`r = files.read_array("m.npy")`, "float64 [2 3] [1.5 -2 3.25 4 5.5 -6.75]"},
		{`r = files.read_array("t.csv", delimiter=",", skiprows=1, usecols=[2, 0], dtype="int64")`, "int64 [2 2] [3 1 6 4]"},
		{`r = files.read_array("t.csv", delimiter=",", skiprows=1, usecols=1)`, "float64 [2] [2 5]"},
	} {
		runOK(t, h, d, test.code)
		a, ok := pullValue(t, h, d, "r").(*num.Array)
		if !ok {
			t.Fatalf("%s: pulled r is not an ndarray", test.code)
		}
		if got := a.DType().String() + " " + fmtInts(a.Shape()) + " " + fmtFloats(a.Float64s()); got != test.want {
			t.Errorf("%s: r = %s, want %s", test.code, got, test.want)
		}
	}
	for _, test := range []struct{ code, want string }{
		{`files.read_array("bad.csv", delimiter=",")`, `files.read_array: bad.csv:2:3: cannot read "x" as a number`},
		{`files.read_array("../o.npy")`, "outside data_dir"},
		{`files.read_array("m.npy", delimiter=",")`, "m.npy is a .npy file: delimiter, skiprows, usecols and dtype apply to text files only"},
		{`files.read_array("t.csv", usecols="a")`, "usecols[0] is a string"},
		{`files.read_array("nope.npy")`, `"nope.npy": no such file`},
	} {
		h.send(t, d, execute(test.code))
		if r := h.result(t); r.Status == wire.StatusOK || !strings.Contains(r.Err.Message, test.want) {
			t.Errorf("%s: status %d, err %+v; want an error containing %q", test.code, r.Status, r.Err, test.want)
		}
	}
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = starlark.MakeInt(x).String()
	}
	return "[" + strings.Join(s, " ") + "]"
}

func fmtFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strings.TrimSuffix(starlark.Float(x).String(), ".0")
	}
	return "[" + strings.Join(s, " ") + "]"
}

func TestMaxArrayBytes(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1, MaxArrayBytes: 1 << 20})
	h.send(t, d, execute("a = num.zeros((1000, 1000))"))
	r := h.result(t)
	if r.Status == wire.StatusOK || !strings.Contains(r.Err.Message, "shape (1000, 1000)") || !strings.Contains(r.Err.Message, "max_array_bytes of 1048576") {
		t.Errorf("num.zeros((1000, 1000)) under max_array_bytes 1MiB: status %d, err %+v; want an error naming the shape and the limit", r.Status, r.Err)
	}
	runOK(t, h, d, "a = num.zeros((100, 100))")
}

// TestNumStopped checks that the task timeout, abort and the step limit
// stop a loop of 2M-element operations promptly, leaving the engine
// usable.
func TestNumStopped(t *testing.T) {
	// The timeout on an engine without a step limit: 20k steps (20M
	// element operations) take less than 300 ms once the loop's arrays
	// reuse the heap's memory.
	const loop = "a = num.zeros(2000000)\nfor i in range(100000):\n    a = a + 1.0000001\n"
	h, d := startDaemon(t, Config{Engines: 1})
	start := time.Now()
	h.send(t, d, wire.Task{Kind: wire.KindExecute, File: "t.star", Code: loop, Timeout: int64(300 * time.Millisecond)})
	r := h.result(t)
	if r.Status != wire.StatusTimeout {
		t.Errorf("num loop past its timeout: status %d, err %+v; want TimeoutError", r.Status, r.Err)
	}
	// 5 s over the timeout: a loaded machine under -race with 16 MB arrays
	// and their GC, still far below the loop's whole run (minutes).
	if ran := time.Duration(r.Finished - r.Started); ran > 300*time.Millisecond+5*time.Second {
		t.Errorf("num loop with a 300ms timeout ran %v (sent %v ago)", ran, time.Since(start))
	}
	runOK(t, h, d, "b = (num.zeros(3) + 1.5).tolist()")
	if got := pullValue(t, h, d, "b"); got.String() != "[1.5, 1.5, 1.5]" {
		t.Errorf("(num.zeros(3) + 1.5).tolist() after the timed-out task = %v, want [1.5, 1.5, 1.5]", got)
	}

	h, d = startDaemon(t, Config{Engines: 1, MaxSteps: 20_000})
	h.send(t, d, execute(loop))
	r = h.result(t)
	if r.Status != wire.StatusError || !strings.Contains(r.Err.Message, "too many steps") {
		t.Errorf("num loop under a step limit of 20k: status %d, err %+v; want 'too many steps'", r.Status, r.Err)
	}
	runOK(t, h, d, "b = (num.zeros(3) + 1.5).tolist()")
	if got := pullValue(t, h, d, "b"); got.String() != "[1.5, 1.5, 1.5]" {
		t.Errorf("(num.zeros(3) + 1.5).tolist() after the stopped tasks = %v, want [1.5, 1.5, 1.5]", got)
	}
}

func TestNumAbortRunning(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1})
	id := h.send(t, d, execute("a = num.zeros(2000000)\nfor i in range(100000):\n    a = a + 1.0000001\n"))
	e := d.engine(0)
	deadline := time.Now().Add(10 * time.Second)
	for e.stat().State != wire.StateBusy {
		if time.Now().After(deadline) {
			t.Fatal("task did not start within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let it get into the loop; not a synchronisation
	sent := time.Now()
	e.abort("c", "", []uint64{id}, map[uint64]bool{})
	r := h.result(t)
	if r.Status != wire.StatusAborted {
		t.Errorf("aborted num loop: status %d, err %+v; want TaskAborted", r.Status, r.Err)
	}
	// 5 s: a loaded machine under -race with 16 MB arrays and their GC,
	// still far below the loop's whole run (minutes).
	if took := time.Since(sent); took > 5*time.Second {
		t.Errorf("abort of a num loop took %v to stop it", took)
	}
	runOK(t, h, d, "ok = 1")
}

// TestNumNamespaceArraysAnswerToTheRunningTask checks that an array left
// in the namespace by an earlier task is charged to the task that uses it
// now: operators on it count against this task's step limit.
func TestNumNamespaceArraysAnswerToTheRunningTask(t *testing.T) {
	h, d := startDaemon(t, Config{Engines: 1, MaxSteps: 20_000})
	runOK(t, h, d, "a = num.zeros(2000000)")
	h.send(t, d, execute("for i in range(1000):\n    b = a + 1.0\n"))
	if r := h.result(t); r.Status != wire.StatusError || !strings.Contains(r.Err.Message, "too many steps") {
		t.Errorf("1000 × (a + 1.0) on a 2M-element array from an earlier task, step limit 20k: status %d, err %+v; want 'too many steps'", r.Status, r.Err)
	}
}
