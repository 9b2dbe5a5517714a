package num

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
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
	_, err := starlark.ExecFile(thread, "cancel.star", src, starlark.StringDict{"num": Module})
	end := time.Now()
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("error = %v, want a cancellation", err)
	}
	if late := end.Sub(<-fired); late > 100*time.Millisecond {
		t.Errorf("the loop stopped %v after the cancellation, want within 100ms", late)
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
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("num.sqrt on a cancelled thread took %v, want under 100ms", d)
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
		_, err := starlark.ExecFile(thread, "steps.star", test.src, starlark.StringDict{"num": Module})
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
		_, err := starlark.ExecFile(thread, "bytes.star", test.src, starlark.StringDict{"num": Module})
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("%q: error = %v, want it to contain %q", test.src, err, test.want)
		}
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
		if err := set(); err == nil || !strings.Contains(err.Error(), "cannot assign to element of frozen ndarray") {
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
	_, err := starlark.ExecFile(thread, "bind.star", "b = a + 1", starlark.StringDict{"num": Module, "a": a})
	if want := "+: an array of shape (20000,) and dtype float64 takes 160000 bytes"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a + 1 over the limit: error = %v, want %q", err, want)
	}
}
