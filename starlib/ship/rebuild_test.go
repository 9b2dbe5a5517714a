package ship

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// TestDefaultFunctions checks defaults that are functions: created before
// the function whose default they are; a cycle through a default fails.
func TestDefaultFunctions(t *testing.T) {
	h := newHost(t, "")
	g := h.mustExec("job.star", `
def inc(x):
    return x + 1
def twice(x, f = inc, g = lambda y, h = inc: h(y) * 2):
    return g(f(x))
L = []
def cyclic(x, d = L):
    return x
L.append(cyclic)
`)
	rebuilt := rebuild(t, h, function(t, g, "twice"))
	got, _, err := call(rebuilt, starlark.Tuple{starlark.MakeInt(1)}, nil)
	if want := starlark.MakeInt(6); err != nil || !equal(got, want) {
		t.Errorf("twice(1) on engine = %v (error %v), want %v", got, err, want)
	}
	data, err := CaptureBytes(function(t, g, "cyclic"), h.src)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Rebuild(data, engineDict(t))
	if want := "rebuild cyclic: a default value refers to the function being defined"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Rebuild(cyclic) error = %v, want one containing %q", err, want)
	}
}

// TestREPLChunks ships a function defined in REPL chunks, recorded under
// unique names, whose globals are not frozen: each capture copies the
// values current at that time.
func TestREPLChunks(t *testing.T) {
	h := newHost(t, "")
	globals := starlark.StringDict{}
	thread := h.thread(nil)
	chunk := func(i int, src string) {
		t.Helper()
		name := fmt.Sprintf("<stdin:%d>", i)
		if err := h.src.Add(name, []byte(src)); err != nil {
			t.Fatal(err)
		}
		opts := starlib.FileOptions()
		opts.LoadBindsGlobally = true
		f, err := opts.Parse(name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := starlark.ExecREPLChunk(f, thread, globals); err != nil {
			t.Fatal(err)
		}
	}
	chunk(1, "K = 2\nitems = [1]")
	chunk(2, "scale = lambda x: x * K")
	chunk(3, "def f(x):\n    return [scale(v) + x for v in items]")
	fn := function(t, globals, "f")
	for i, want := range []string{"[2]", "[2, 10]"} {
		rebuilt := rebuild(t, h, fn)
		local, _, _ := call(fn, starlark.Tuple{starlark.MakeInt(0)}, nil)
		got, _, err := call(rebuilt, starlark.Tuple{starlark.MakeInt(0)}, nil)
		if err != nil || got.String() != want || local.String() != want {
			t.Errorf("capture %d: f(0) on engine = %v (error %v), locally %v, want %s", i+1, got, err, local, want)
		}
		chunk(4+i, "items.append(5)")
	}
}

// TestDeterministic checks that a capture of unchanged values gives the
// same bytes, and that Hash covers the compiler version.
func TestDeterministic(t *testing.T) {
	h := newHost(t, "testdata")
	g := h.run("job.star")
	for _, name := range []string{"task", "apply_all", "data_kinds", "dump"} {
		fn := function(t, g, name)
		a, err := CaptureBytes(fn, h.src)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := CaptureBytes(fn, h.src)
		if !bytes.Equal(a, b) {
			t.Errorf("CaptureBytes(%s) differs between two calls", name)
		}
		if Hash(a) == Key(sha256.Sum256(a)) {
			t.Errorf("Hash(%s bundle) is the plain SHA-256 of the bytes, want it to cover the compiler version", name)
		}
	}
}

// TestUnmarshalRoundTrip checks that Unmarshal inverts Marshal.
func TestUnmarshalRoundTrip(t *testing.T) {
	h := newHost(t, "testdata")
	g := h.run("job.star")
	b, err := Capture(function(t, g, "apply_all"), h.src)
	if err != nil {
		t.Fatal(err)
	}
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := got.Marshal()
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("Marshal(Unmarshal(data)) = %x, %v, want %x", again, err, data)
	}
	if n := len(got.Funcs); n != 5 { // apply_all, fact, the lambda, is_even, is_odd
		t.Errorf("apply_all's bundle has %d functions, want 5", n)
	}
}

// TestRebuildMalformed checks that bad bundles give errors.
func TestRebuildMalformed(t *testing.T) {
	good := func(f Func) []byte {
		b := &Bundle{Funcs: []Func{f}}
		data, err := b.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	def := Func{Name: "f", File: "job.star", Line: 1, Col: 1, Src: "def f(x):\n    return x"}
	withSrc := func(src string) Func { f := def; f.Src = src; return f }
	for _, test := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "unmarshal bundle"},
		{"not an array", []byte{0x01}, "unmarshal bundle"},
		{"truncated", good(def)[:10], "unmarshal bundle"},
		{"no functions", mustMarshal(t, &Bundle{}), "no functions"},
		{"two statements", good(withSrc("def f(x):\n    return x\nprint(1)")), "not a single def statement"},
		{"wrong name", good(withSrc("def g(x):\n    return x")), "not the def statement of f"},
		{"code in a default", good(withSrc("def f(x, y = print(1)):\n    return x")), "is not a placeholder"},
		{"syntax error", good(withSrc("def f(x:\n")), "rebuild f at job.star:1"},
		{"lambda", good(Func{Name: "lambda", Lambda: true, File: "j", Line: 1, Col: 1, Src: "1 + 2"}), "not a lambda expression"},
		{"trailing data", append(good(def), 0x00), "trailing data"},
		{"trailing value data", mustMarshal(t, &Bundle{Funcs: []Func{withEnv(def, "j", []byte{0x01, 0x02})}}), "trailing data"},
		{"future version", append([]byte{0x83, 0x02}, good(def)[2:]...), "bundle format version 2, want 1"},
		{"bad value", mustMarshal(t, &Bundle{Funcs: []Func{withEnv(def, "j", []byte{0xff})}}), "rebuild f: value of j"},
		{"bad ref", mustMarshal(t, &Bundle{Funcs: []Func{def}, Refs: []Ref{{Func: 3}}}), "function 3 out of range"},
		{"missing name", missingName(t, def), `needs "nosuch"`},
	} {
		_, err := Rebuild(test.data, engineDict(t))
		if err == nil || !strings.Contains(err.Error(), test.want) {
			t.Errorf("Rebuild(%s) error = %v, want one containing %q", test.name, err, test.want)
		}
	}
}

func mustMarshal(t *testing.T, b *Bundle) []byte {
	t.Helper()
	data, err := b.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func withEnv(f Func, name string, value []byte) Func {
	f.Env = append(f.Env, Binding{Name: name, Value: value})
	return f
}

// missingName returns a bundle referring to a name no engine has.
func missingName(t *testing.T, f Func) []byte {
	var buf bytes.Buffer
	e := wire.NewEncoder(&buf)
	e.Ref = func(starlark.Value) (uint64, error) { return 0, nil }
	if err := e.Encode(refValue(0)); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return mustMarshal(t, &Bundle{Funcs: []Func{withEnv(f, "j", buf.Bytes())}, Refs: []Ref{{Name: "nosuch"}}})
}

// FuzzRebuild checks that Rebuild never panics, whatever its input.
func FuzzRebuild(f *testing.F) {
	h := newHost(f, "testdata")
	g := h.run("job.star")
	for _, name := range []string{"task", "adder", "collector", "apply_all", "dump", "weird", "multi_default", "data_kinds"} {
		data, err := CaptureBytes(function(f, g, name), h.src)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	pre := engineDict(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fn, err := Rebuild(data, pre)
		if err != nil {
			return
		}
		th := &starlark.Thread{Print: func(*starlark.Thread, string) {}}
		th.SetMaxExecutionSteps(10000)
		starlark.Call(th, fn, starlark.Tuple{starlark.MakeInt(1)}, nil) //nolint:errcheck // only panics matter
	})
}
