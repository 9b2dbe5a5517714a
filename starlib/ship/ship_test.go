package ship

import (
	"errors"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

// TestShip ships functions of testdata/job.star and compares each rebuilt
// function's result with a local call.
func TestShip(t *testing.T) {
	h := newHost(t, "testdata")
	g := h.run("job.star")
	engine := engineDict(t)
	for _, test := range []struct {
		fn     string
		args   starlark.Tuple
		kwargs []starlark.Tuple
	}{
		{fn: "task", args: starlark.Tuple{starlark.MakeInt(1)}}, // global constant, helper reading a dict with tuple keys
		{fn: "task", args: starlark.Tuple{starlark.MakeInt(4), starlark.MakeInt(2)}},
		{fn: "adder", args: starlark.Tuple{starlark.MakeInt(1)}},     // lambda closing over locals
		{fn: "collector", args: starlark.Tuple{starlark.MakeInt(7)}}, // nested def, default from a local
		{fn: "fact", args: starlark.Tuple{starlark.MakeInt(20)}},     // recursion
		{fn: "is_even", args: starlark.Tuple{starlark.MakeInt(9)}},   // mutual recursion
		{fn: "is_odd", args: starlark.Tuple{starlark.MakeInt(9)}},
		{fn: "scale2", args: starlark.Tuple{starlark.MakeInt(21)}},  // default computed in a loop
		{fn: "weird", args: starlark.Tuple{starlark.String("abc")}}, // multi-line lambda
		{fn: "index", args: starlark.Tuple{starlark.MakeInt(2)}},    // lambda x: A[x]
		{fn: "slicer", args: starlark.Tuple{starlark.MakeInt(1)}},
		{fn: "pair", args: starlark.Tuple{starlark.MakeInt(1)}},
		{fn: "from_lib", args: starlark.Tuple{starlark.MakeInt(5)}},   // load()ed function and value
		{fn: "apply_all", args: starlark.Tuple{starlark.MakeInt(4)}},  // a global list of functions
		{fn: "logger", args: starlark.Tuple{starlark.MakeInt(1)}},     // mutates a captured list: frozen on both sides
		{fn: "dump", args: starlark.Tuple{starlark.MakeInt(4)}},       // J = json, json and math used directly
		{fn: "root", args: starlark.Tuple{starlark.MakeInt(16)}},      // [math.sqrt, random.randint]
		{fn: "length", args: starlark.Tuple{starlark.String("four")}}, // L = len
		{fn: "fib", args: starlark.Tuple{starlark.MakeInt(15)}},       // a global lambda calling itself
		{fn: "multi_default", args: starlark.Tuple{starlark.String("b"), starlark.None, starlark.MakeInt(9)}},
		{fn: "multi_default", args: starlark.Tuple{starlark.String("a")}, kwargs: []starlark.Tuple{{starlark.String("z"), starlark.True}}},
		{fn: "data_kinds"},
		{fn: "uses_set", args: starlark.Tuple{starlark.NewList([]starlark.Value{starlark.MakeInt(3), starlark.MakeInt(1), starlark.MakeInt(3)})}},
		{fn: "counter", args: starlark.Tuple{starlark.MakeInt(10)}},
		{fn: "kwonly", args: starlark.Tuple{starlark.MakeInt(1)}},
	} {
		fn := function(t, g, test.fn)
		want, _, wantErr := call(fn, test.args, test.kwargs)
		data, err := CaptureBytes(fn, h.src)
		if err != nil {
			t.Errorf("CaptureBytes(%s) failed: %v", test.fn, err)
			continue
		}
		rebuilt, err := Rebuild(data, engine)
		if err != nil {
			t.Errorf("Rebuild(%s) failed: %v", test.fn, err)
			continue
		}
		got, _, gotErr := call(rebuilt, test.args, test.kwargs)
		switch {
		case wantErr != nil || gotErr != nil:
			if wantErr == nil || gotErr == nil || errMsg(gotErr) != errMsg(wantErr) {
				t.Errorf("%s%v on engine: error %v, want %v", test.fn, test.args, gotErr, wantErr)
			}
		default:
			if eq, err := starlark.Equal(got, want); err != nil || !eq {
				t.Errorf("%s%v on engine = %v, want %v", test.fn, test.args, got, want)
			}
		}
	}
}

// TestShipFrozen checks that a closure mutating a captured list fails on
// the engine with the error it has on the host: values are copies, frozen.
func TestShipFrozen(t *testing.T) {
	h := newHost(t, "testdata")
	g := h.run("job.star")
	rebuilt := rebuild(t, h, function(t, g, "logger"))
	_, _, err := call(rebuilt, starlark.Tuple{starlark.MakeInt(1)}, nil)
	if want := "append: cannot append to frozen list"; err == nil || errMsg(err) != want {
		t.Errorf("logger(1) on engine: error %v, want %q", err, want)
	}
}

// TestShipPrint checks that print in a rebuilt function goes to the
// calling thread's Print.
func TestShipPrint(t *testing.T) {
	h := newHost(t, "testdata")
	g := h.run("job.star")
	rebuilt := rebuild(t, h, function(t, g, "shout"))
	_, out, err := call(rebuilt, starlark.Tuple{starlark.MakeInt(3)}, nil)
	if want := "engine-side print: 3\n"; err != nil || out != want {
		t.Errorf("shout(3) printed %q (error %v), want %q", out, err, want)
	}
}

// TestShipEngineOnly checks that an engine-only name (a stub on the host)
// resolves to the engine's value.
func TestShipEngineOnly(t *testing.T) {
	h := newHost(t, "testdata")
	g := h.run("job.star")
	rebuilt := rebuild(t, h, function(t, g, "local_file"))
	got, _, err := call(rebuilt, starlark.Tuple{starlark.String("x.txt")}, nil)
	if want := starlark.String("data:x.txt"); err != nil || !equal(got, want) {
		t.Errorf("local_file(x.txt) on engine = %v (error %v), want %v", got, err, want)
	}
}

// rebuild captures fn and rebuilds it against the engine dict.
func rebuild(t *testing.T, h *host, fn *starlark.Function) *starlark.Function {
	t.Helper()
	data, err := CaptureBytes(fn, h.src)
	if err != nil {
		t.Fatalf("CaptureBytes(%s): %v", fn.Name(), err)
	}
	rebuilt, err := Rebuild(data, engineDict(t))
	if err != nil {
		t.Fatalf("Rebuild(%s): %v", fn.Name(), err)
	}
	return rebuilt
}

// TestShipBacktrace checks that an error on the engine names the user's
// file and line, lines after a multi-line default included.
func TestShipBacktrace(t *testing.T) {
	const src = `# A job whose functions fail.
SCALE = 2

def ratio(x, opts = {
    "a": 1,
    "b": 2,
}):
    # comment
    y = x * SCALE

    z = 1
    return y // (x - z)

boom = lambda x: [
    x,
    x // 0,
]
`
	h := newHost(t, "")
	g := h.mustExec("job.star", src)
	for _, test := range []struct {
		fn   string
		want string
	}{
		{"ratio", "job.star:12:14: in ratio"},
		{"boom", "job.star:16:7: in lambda"},
	} {
		rebuilt := rebuild(t, h, function(t, g, test.fn))
		_, _, err := call(rebuilt, starlark.Tuple{starlark.MakeInt(1)}, nil)
		var ee *starlark.EvalError
		if !errors.As(err, &ee) || !strings.Contains(ee.Backtrace(), test.want) {
			t.Errorf("%s(1) on engine: error %v, want a backtrace with %q", test.fn, err, test.want)
		}
	}
}

// TestCannotSend checks every "cannot send" error, message and all.
func TestCannotSend(t *testing.T) {
	for _, test := range []struct {
		src  string
		fn   string // a global function, or "f" when the source calls send
		want string
	}{{
		src: `c = Client()
def f(x):
    return c.ids
`,
		fn:   "f",
		want: "cannot send 'c' (Client) to engines: used by f at job.star:3",
	}, {
		src: `def f(x):
    y = x + 1
    return remote(y)
`,
		fn:   "f",
		want: "cannot send 'remote' (builtin_function_or_method) to engines: used by f at job.star:3: remote is only available on the host",
	}, {
		src: `R = map
def f(x):
    return R(x)
`,
		fn:   "f",
		want: "cannot send 'R' (builtin_function_or_method) to engines: used by f at job.star:3: map is only available on the host",
	}, {
		src: `items = []
push = items.append
def f(x):
    push(x)
`,
		fn:   "f",
		want: "cannot send 'push' (builtin_function_or_method) to engines: used by f at job.star:4: it is a bound method (a method of a list); send the list and call the method inside the function",
	}, {
		src: `items = []
cfg = {"a": 1, "k": items.append}
def f(x):
    return cfg["a"]
`,
		fn:   "f",
		want: `cannot send 'cfg' (dict) to engines: used by f at job.star:4: cannot send builtin_function_or_method value at ["k"]`,
	}, {
		src: `V = [1, (2, Client())]
f = lambda x: V[x]
`,
		fn:   "f",
		want: "cannot send 'V' (list) to engines: used by lambda at job.star:2: cannot send Client value at [1][1]",
	}, {
		src: `def f(x, c = Client()):
    return x
`,
		fn:   "f",
		want: "cannot send the default value of 'c' (Client) to engines: used by f at job.star:1",
	}, {
		src: `def make():
    c = Client()
    return lambda: c
f = make()
`,
		fn:   "f",
		want: "cannot send 'c' (Client) to engines: used by lambda at job.star:3",
	}, {
		src: `c = Client()
def g():
    return [c]
def f(x):
    return g()
`,
		fn:   "f",
		want: "cannot send 'c' (Client) to engines: used by g at job.star:3",
	}, {
		src: `def f(x):
    return LATER + x
send(f)
LATER = 1
`,
		fn:   "f",
		want: "cannot send 'LATER' to engines: used by f at job.star:2: it has no value yet (assign it before sending f)",
	}} {
		h := newHost(t, "")
		var sendErr error
		h.pre = withSend(h.pre, h.src, &sendErr)
		g, err := h.exec("job.star", test.src)
		if err != nil {
			t.Errorf("exec:\n%s\nfailed: %v", test.src, err)
			continue
		}
		if sendErr == nil {
			_, sendErr = Capture(function(t, g, test.fn), h.src)
		}
		var se *SendError
		if sendErr == nil || sendErr.Error() != test.want || !errors.As(sendErr, &se) {
			t.Errorf("Capture(%s) of\n%s\nerror = %v, want %s", test.fn, test.src, sendErr, test.want)
		}
	}
}

// withSend returns a copy of pre with send(f), which captures f at once
// and stores the error in *errp.
func withSend(pre starlark.StringDict, src *Sources, errp *error) starlark.StringDict {
	d := make(starlark.StringDict, len(pre)+1)
	for k, v := range pre {
		d[k] = v
	}
	d["send"] = starlark.NewBuiltin("send", func(_ *starlark.Thread, _ *starlark.Builtin, args starlark.Tuple, _ []starlark.Tuple) (starlark.Value, error) {
		_, *errp = Capture(args[0].(*starlark.Function), src)
		return starlark.None, nil
	})
	return d
}

// TestUnknownSource checks the error for a function whose text is not in
// Sources.
func TestUnknownSource(t *testing.T) {
	h := newHost(t, "")
	g, err := starlark.ExecFileOptions(starlib.FileOptions(), h.thread(nil), "unrecorded.star", "def f(x):\n    return x\n", h.pre)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Capture(function(t, g, "f"), h.src)
	if want := "cannot send f: its source text is not known"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Capture(f) error = %v, want prefix %q", err, want)
	}
}
