package num

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
)

// limitedThread returns a thread with limits l and context ctx.
func limitedThread(ctx context.Context, l Limits) *starlark.Thread {
	thread := &starlark.Thread{Name: "limited"}
	thread.SetLocal(contextKey, ctx)
	if l.MaxSteps > 0 {
		thread.SetMaxExecutionSteps(l.MaxSteps)
	}
	SetLimits(thread, l)
	return thread
}

// TestCancelledOperator checks that an operator on big arrays stops soon
// after its thread's context is done, though Starlark calls operators
// without a thread: the loop sees the deadline between chunks.
func TestCancelledOperator(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	fired := make(chan time.Time, 1)
	context.AfterFunc(ctx, func() { fired <- time.Now() })
	thread := limitedThread(ctx, Limits{})
	// Without cancellation this loop runs for many seconds.
	const src = `
a = num.ones(100000)
def run():
    for i in range(1000000):
        b = a * 2.0 + a
run()
`
	_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "cancel.star", src, starlark.StringDict{"num": Module})
	end := time.Now()
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("error = %v, want a cancellation", err)
	}
	// 1 s: room for a loaded machine under -race, far below the loop's
	// whole run (many seconds).
	if late := end.Sub(<-fired); late > time.Second {
		t.Errorf("the loop stopped %v after the cancellation, want within 1s", late)
	}
}

// TestCancelledBuiltin checks that a huge operation on a thread whose
// context is already cancelled returns at once.
func TestCancelledBuiltin(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	thread := limitedThread(ctx, Limits{})
	a, err := alloc(nil, Float64, []int{4_000_000})
	if err != nil {
		t.Fatal(err)
	}
	sqrt := Module.Members["sqrt"].(*starlark.Builtin)
	start := time.Now()
	_, err = starlark.Call(thread, sqrt, starlark.Tuple{a}, nil)
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("num.sqrt on a cancelled thread: error = %v, want a cancellation", err)
	}
	// 1 s: room for a loaded machine; the whole sqrt takes seconds under
	// -race. The check below does not depend on the machine's speed.
	if d := time.Since(start); d > time.Second {
		t.Errorf("num.sqrt on a cancelled thread took %v, want under 1s", d)
	}

	// Into out=: at most the first chunk of the 4M elements is written.
	for i := range a.buf.f {
		a.buf.f[i] = 4
	}
	out, err := alloc(nil, Float64, []int{4_000_000})
	if err != nil {
		t.Fatal(err)
	}
	_, err = starlark.Call(thread, sqrt, starlark.Tuple{a}, []starlark.Tuple{{starlark.String("out"), out}})
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("num.sqrt(a, out=o) on a cancelled thread: error = %v, want a cancellation", err)
	}
	written := 0
	for _, x := range out.buf.f {
		if x != 0 {
			written++
		}
	}
	if written > chunk {
		t.Errorf("num.sqrt(a, out=o) on a cancelled thread wrote %d of 4M elements, want at most one chunk (%d)", written, chunk)
	}
}

// TestStepLimit checks that vectorised work counts against the step
// limit, at one step per 1024 element operations.
func TestStepLimit(t *testing.T) {
	for _, test := range []struct {
		src     string
		steps   uint64
		wantErr bool
	}{
		{"a = num.ones(100000)", 1000, false},                      // ~100 steps
		{"a = num.ones(2000000)", 1000, true},                      // ~2000 steps
		{"a = num.ones(500000)\nb = a + a\nc = b * a", 1000, true}, // ~1500
		{"a = num.ones(500000)\nb = a + a", 5000, false},
		// Indexing charges per 1024 elements too, not per element.
		{"a = num.ones(100000)\ni = num.arange(100000)\nb = a[i]\na[i] = b\nc = a[num.greater(a, 0)]", 1000, false},
		{"a = num.ones((50000, 2))\nm = num.greater(a.T[0], 0)\nb = a[m]\na[m] = 0", 1000, false},
	} {
		thread := limitedThread(context.Background(), Limits{MaxSteps: test.steps})
		_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "steps.star", test.src, starlark.StringDict{"num": Module})
		if test.wantErr != (err != nil) {
			t.Errorf("%q with %d steps: error = %v, want error %v", test.src, test.steps, err, test.wantErr)
			continue
		}
		if err != nil && !strings.Contains(err.Error(), "too many steps") {
			t.Errorf("%q: error %q, want it to say too many steps", test.src, err)
		}
	}
}

// TestMaxArrayBytes checks that an array over max_array_bytes is an error
// naming its shape and the limit, from builtins and operators alike.
func TestMaxArrayBytes(t *testing.T) {
	for _, test := range []struct{ src, want string }{
		{"num.zeros((100, 200))", "num.zeros: an array of shape (100, 200) and dtype float64 takes 160000 bytes, over this engine's max_array_bytes of 100000"},
		{"a = num.ones((300, 1))\nb = a + a.T", "+: an array of shape (300, 300) and dtype float64 takes 720000 bytes"},
		{"num.arange(20000)", "num.arange: an array of shape (20000,) and dtype int64"},
	} {
		thread := limitedThread(context.Background(), Limits{MaxArrayBytes: 100000})
		_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "bytes.star", test.src, starlark.StringDict{"num": Module})
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%q: error = %v, want it to contain %q", test.src, err, test.want)
		}
	}
}

// TestMachineMemoryBound checks that where no max_array_bytes applies (a
// host script's thread, or an operator on arrays bound to none), an array
// larger than the machine's memory is an error naming its size, shape and
// the machine's memory, as numpy's MemoryError is, not a runtime crash.
func TestMachineMemoryBound(t *testing.T) {
	machine := MachineMemory()
	if machine <= 0 {
		t.Fatal("MachineMemory() = 0: /proc/meminfo has no MemTotal on this Linux machine")
	}
	rows := machine/8/100000 + 1 // float64 rows of 100000 columns, one past the machine's memory
	for _, src := range []string{
		fmt.Sprintf("num.zeros((%d, 100000))", rows),
		fmt.Sprintf("a = num.ones((%d, 1))\nb = a + num.ones(100000)", rows),
	} {
		thread := &starlark.Thread{Name: "host"}
		_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "host.star", src, starlark.StringDict{"num": Module})
		want := fmt.Sprintf("for an array of shape (%d, 100000) and dtype float64: this machine has %s of memory", rows, gib(machine))
		if err == nil || !strings.Contains(err.Error(), "cannot allocate ") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error = %v, want it to say it cannot allocate it and %q", src, err, want)
		}
	}
	if got := memTotalOf("MemFree: 10 kB\nMemTotal:        2048 kB\n"); got != 2048<<10 {
		t.Errorf("memTotalOf = %d, want %d", got, 2048<<10)
	}
	if got := memTotalOf("MemTotal: lots\n"); got != 0 {
		t.Errorf("memTotalOf of a malformed line = %d, want 0", got)
	}
}

// TestFrozen checks that a frozen array, and every view of it, refuses
// assignment, and still reads.
func TestFrozen(t *testing.T) {
	a, _ := FromFloat64s([]float64{1, 2, 3, 4}, 2, 2)
	row := a.row(0)
	a.Freeze()
	for _, set := range []func() error{
		func() error { return a.SetKey(starlark.MakeInt(0), starlark.Float(1)) },
		func() error { return row.SetKey(starlark.MakeInt(0), starlark.Float(1)) },
		func() error {
			return a.SetKey(starlark.Tuple{starlark.MakeInt(0), starlark.MakeInt(1)}, starlark.Float(1))
		},
	} {
		if err := set(); err == nil || !strings.Contains(err.Error(), "cannot assign to element of frozen ndarray") || !strings.Contains(err.Error(), "a.copy()") {
			t.Errorf("assignment to a frozen array: error = %v", err)
		}
	}
	if v, _, err := a.Get(starlark.Tuple{starlark.MakeInt(1), starlark.MakeInt(1)}); err != nil || v != starlark.Float(4) {
		t.Errorf("a[1, 1] of a frozen array = %v, %v, want 4.0", v, err)
	}
}

// TestBindThread checks that operators on an array made outside num (as
// the wire codec makes them) see the limits of the thread it is bound to.
func TestBindThread(t *testing.T) {
	a, _ := FromFloat64s(make([]float64, 20000))
	thread := limitedThread(context.Background(), Limits{MaxArrayBytes: 100000})
	BindThread(thread, a)
	_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "bind.star", "b = a + 1", starlark.StringDict{"num": Module, "a": a})
	if want := "+: an array of shape (20000,) and dtype float64 takes 160000 bytes"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a + 1 over the limit: error = %v, want %q", err, want)
	}
}

// setDefaultMaxArrayBytes sets the process default for one test.
func setDefaultMaxArrayBytes(t *testing.T, n int64) {
	t.Helper()
	old := defaultMaxArrayBytes.Load()
	SetDefaultMaxArrayBytes(n)
	t.Cleanup(func() { SetDefaultMaxArrayBytes(old) })
}

// TestDefaultMaxArrayBytes checks that operators on arrays no running
// thread is bound to (decoded, or left by an earlier task) have the
// process default memory bound, and that a thread's own limits, or a
// host thread's lack of them, still rule its own arrays.
func TestDefaultMaxArrayBytes(t *testing.T) {
	setDefaultMaxArrayBytes(t, 1<<20)
	unbound := func(n int, shape ...int) *Array {
		a, err := FromFloat64s(make([]float64, n), shape...)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Before the default, col + row of two decoded 100k arrays tried to
	// allocate 80 GB; 3000 keeps a regression a failure, not an OOM kill.
	col, row := unbound(3000, 3000, 1), unbound(3000, 1, 3000)
	for _, test := range []struct {
		name   string
		limits *Limits // nil: a host thread, without limits
		src    string
		want   string // "" for success
	}{
		{"unbound operands, host thread", nil, "c = col + row",
			"+: an array of shape (3000, 3000) and dtype float64 takes 72000000 bytes, over this engine's max_array_bytes of 1048576"},
		{"unbound operands, engine thread", &Limits{MaxArrayBytes: 1 << 30}, "c = col * row",
			"*: an array of shape (3000, 3000) and dtype float64 takes 72000000 bytes, over this engine's max_array_bytes of 1048576"},
		{"unary on unbound", nil, "c = -num_big", "num.negative: an array of shape (200000,)"},
		{"small unbound", nil, "c = col + 1.0", ""},
		{"host thread's own arrays", nil, "c = num.zeros(200000) + 1.0", ""},
		{"engine thread's own limit", &Limits{MaxArrayBytes: 1 << 22}, "c = num.zeros(200000) + 1.0", ""},
		{"engine thread's own limit, lower", &Limits{MaxArrayBytes: 1 << 10}, "c = num.zeros(200) + 1.0",
			"num.zeros: an array of shape (200,) and dtype float64 takes 1600 bytes, over this engine's max_array_bytes of 1024"},
	} {
		thread := &starlark.Thread{Name: test.name}
		if test.limits != nil {
			SetLimits(thread, *test.limits)
		}
		env := starlark.StringDict{"num": Module, "col": col, "row": row, "num_big": unbound(200000)}
		_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "default.star", test.src, env)
		switch {
		case test.want == "" && err != nil:
			t.Errorf("%s: %q: error = %v, want none", test.name, test.src, err)
		case test.want != "" && (err == nil || !strings.Contains(err.Error(), test.want)):
			t.Errorf("%s: %q: error = %v, want %q", test.name, test.src, err, test.want)
		}
	}
}

// TestBindValue checks that BindValue reaches the arrays nested in the
// containers a task's arguments arrive in, so operators on them have the
// task's limits.
func TestBindValue(t *testing.T) {
	mk := func() *Array {
		a, _ := FromFloat64s(make([]float64, 20000))
		return a
	}
	d := new(starlark.Dict)
	inDict := mk()
	d.SetKey(starlark.String("k"), inDict)
	inStruct := mk()
	s := starlarkstruct.FromStringDict(starlarkstruct.Default, starlark.StringDict{"x": inStruct})
	top, inList, inTuple := mk(), mk(), mk()
	v := starlark.Tuple{top, starlark.NewList([]starlark.Value{inList, starlark.Tuple{inTuple}}), d, s}
	thread := limitedThread(context.Background(), Limits{MaxArrayBytes: 100000})
	BindValue(thread, v)
	for name, a := range map[string]*Array{"top": top, "in a list": inList, "in a tuple": inTuple, "in a dict": inDict, "in a struct": inStruct} {
		_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "bind.star", "b = a * 2.0", starlark.StringDict{"a": a})
		if want := "*: an array of shape (20000,) and dtype float64 takes 160000 bytes"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("a * 2.0 of an array %s over the limit: error = %v, want %q", name, err, want)
		}
	}
	// A cyclic list ends the walk.
	l := starlark.NewList(nil)
	l.Append(l)
	BindValue(thread, l)
}

// TestOpThreadSharing runs, under the race detector, the sharing pirun
// allows: a frozen array made by a thread that has finished, read by the
// operators of two threads running at once beside arrays of their own.
func TestOpThreadSharing(t *testing.T) {
	maker := limitedThread(context.Background(), Limits{MaxArrayBytes: 1 << 20})
	globals, err := starlark.ExecFileOptions(&syntax.FileOptions{}, maker, "maker.star", "W = num.linspace(0, 1, 1000)", starlark.StringDict{"num": Module})
	if err != nil {
		t.Fatal(err)
	}
	globals.Freeze()
	const src = `
def run():
    own = num.ones(1000)
    s = 0.0
    for i in range(200):
        s += (W * 2.0 + own - W).sum() + (-W).sum()
    return s
s = run()
`
	errs := make(chan error, 2)
	for g := 0; g < 2; g++ {
		go func() {
			thread := limitedThread(context.Background(), Limits{MaxArrayBytes: 1 << 20, MaxSteps: 1 << 30})
			_, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "share.star", src, starlark.StringDict{"num": Module, "W": globals["W"]})
			errs <- err
		}()
	}
	for g := 0; g < 2; g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestResultsBound checks that every way a script makes an array binds it
// to the thread that made it (num-core's builtins through alloc, views
// through their base, num-compute's through bindingResults), so that
// operators on it have that thread's limits.
func TestResultsBound(t *testing.T) {
	for _, src := range []string{
		"num.array([1.0, 2.0])", "num.zeros(3)", "num.ones((2, 2))", "num.full(3, 1.5)", "num.arange(4)",
		"num.linspace(0, 1, 5)", "num.eye(2)", "num.concatenate([a, a])", "num.stack([a, a])", "a.copy()",
		"a.astype(\"int64\")", "m.reshape(4)", "m.T", "a[1:]", "a[num.less(a, 2.0)]", "a[[0, 1]]", "m[0]",
		"num.where(num.less(a, 2.0), a, 0.0)", "num.sqrt(a)", "num.minimum(a, 1.0)", "num.clip(a, 0, 1)", "a + 1",
		"-a", "num.less(a, 1.0)", "num.asarray(a)", "num.array(a)", "num.sum(m, axis=0)", "num.sort(a)", "num.random.random(3)",
		"num.cumsum(a)", "num.dot(m, m)", "num.argsort(a)", "num.unique(a)", "num.outer(a, a)", "num.linalg.inv(m + num.eye(2))",
		"m.sum(axis=1)", "m.max(axis=0)", "num.abs(a)", "num.round(a)", "a.flatten()", "m.ravel()", "num.isnan(a)",
		"list(m)[0]", "num.histogram(a, 2)[0]", "num.add(a, a)", "num.array([a, a])", "num.power(a, 2)",
	} {
		thread := &starlark.Thread{Name: "bound"}
		thread.SetLocal(contextKey, context.Background())
		SetLimits(thread, Limits{})
		g, err := starlark.ExecFileOptions(&syntax.FileOptions{}, thread, "b.star", "a = num.array([1.0, 2.0, 3.0, 4.0])\nm = num.array([[1.0, 2.0], [3.0, 4.0]])\nx = "+src, starlark.StringDict{"num": Module})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if x := g["x"].(*Array); x.th != thread {
			t.Errorf("x = %s: x is not bound to the thread that made it", src)
		}
	}
}
