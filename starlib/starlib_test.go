package starlib_test

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib"
)

// fakeImpl returns a builtin for each name of side, which returns its
// name and side as a string.
func fakeImpl(side starlib.Side) starlark.StringDict {
	impl := starlark.StringDict{}
	for name, s := range starlib.Names() {
		if s == side || s == starlib.Each {
			impl[name] = starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
				return starlark.String(name + "@" + side.String()), nil
			})
		}
	}
	return impl
}

// predeclared returns side's predeclared dict with fake implementations.
func predeclared(t *testing.T, side starlib.Side) starlark.StringDict {
	t.Helper()
	d, err := starlib.Predeclared(side, fakeImpl(side))
	if err != nil {
		t.Fatalf("Predeclared(%v) failed: %v", side, err)
	}
	return d
}

// exec runs src in the dialect with the given predeclared names.
func exec(src string, predeclared starlark.StringDict) error {
	thread := &starlark.Thread{Name: "test"}
	_, err := starlark.ExecFileOptions(starlib.FileOptions(), thread, "test.star", src, predeclared)
	return err
}

func TestFileOptions(t *testing.T) {
	for _, test := range []struct {
		feature string
		src     string
		disable func(*syntax.FileOptions)
		wantErr string // with the feature disabled
	}{
		{"Set", "s = set([1, 2])", func(o *syntax.FileOptions) { o.Set = false }, "does not support sets"},
		{"While", "def f():\n  while False:\n    pass\nf()", func(o *syntax.FileOptions) { o.While = false }, "does not support while loops"},
		{"TopLevelControl", "if True:\n  x = 1", func(o *syntax.FileOptions) { o.TopLevelControl = false }, "if statement not within a function"},
		{"GlobalReassign", "x = 1\nx = 2\nx += 1", func(o *syntax.FileOptions) { o.GlobalReassign = false }, "cannot reassign global x"},
		{"Recursion", "def f(n):\n  return 0 if n == 0 else f(n - 1)\nf(3)", func(o *syntax.FileOptions) { o.Recursion = false }, "called recursively"},
	} {
		thread := &starlark.Thread{Name: test.feature}
		if _, err := starlark.ExecFileOptions(starlib.FileOptions(), thread, "f.star", test.src, nil); err != nil {
			t.Errorf("%s: exec with FileOptions() = %v, want success", test.feature, err)
		}
		opts := starlib.FileOptions()
		test.disable(opts)
		_, err := starlark.ExecFileOptions(opts, thread, "f.star", test.src, nil)
		if err == nil || !strings.Contains(err.Error(), test.wantErr) {
			t.Errorf("%s: exec without the feature = %v, want error containing %q", test.feature, err, test.wantErr)
		}
	}
}

func TestFileOptionsFresh(t *testing.T) {
	a := starlib.FileOptions()
	a.Set, a.Recursion = false, false
	if b := starlib.FileOptions(); !b.Set || !b.Recursion || b == a {
		t.Errorf("FileOptions() after modifying an earlier result = %+v, want a fresh full dialect", *b)
	}
	if a := starlib.FileOptions(); a.LoadBindsGlobally {
		t.Errorf("FileOptions().LoadBindsGlobally = true, want false")
	}
}

func TestSideString(t *testing.T) {
	for _, test := range []struct {
		side starlib.Side
		want string
	}{
		{starlib.Shared, "shared"},
		{starlib.Host, "host"},
		{starlib.Engine, "engine"},
		{starlib.Each, "each"},
		{starlib.Side(9), "Side(9)"},
	} {
		if got := test.side.String(); got != test.want {
			t.Errorf("Side(%d).String() = %q, want %q", uint8(test.side), got, test.want)
		}
	}
}

func TestNames(t *testing.T) {
	want := map[string]starlib.Side{
		"struct": starlib.Shared, "json": starlib.Shared, "math": starlib.Shared,
		"time": starlib.Shared, "random": starlib.Shared, "pow": starlib.Shared,
		"sum": starlib.Shared, "round": starlib.Shared, "format": starlib.Shared, "divmod": starlib.Shared, "num": starlib.Shared,
		"Client": starlib.Host, "remote": starlib.Host, "parallel": starlib.Host, "map": starlib.Host,
		"ref": starlib.Host, "argv": starlib.Host, "wait": starlib.Host,
		"engine": starlib.Engine, "files": starlib.Each, "comm": starlib.Engine,
	}
	got := starlib.Names()
	if !maps.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	got["json"] = starlib.Host
	if starlib.Names()["json"] != starlib.Shared {
		t.Errorf("Names() shares its map with callers, want a copy")
	}
}

func TestPredeclaredSameKeys(t *testing.T) {
	host, engine := predeclared(t, starlib.Host), predeclared(t, starlib.Engine)
	hostKeys, engineKeys := slices.Sorted(maps.Keys(host)), slices.Sorted(maps.Keys(engine))
	if !slices.Equal(hostKeys, engineKeys) {
		t.Errorf("host keys = %v, engine keys = %v, want equal", hostKeys, engineKeys)
	}
	if names := slices.Sorted(maps.Keys(starlib.Names())); !slices.Equal(hostKeys, names) {
		t.Errorf("host keys = %v, want Names() = %v", hostKeys, names)
	}
	for name, side := range starlib.Names() {
		for _, test := range []struct {
			side starlib.Side
			d    starlark.StringDict
		}{{starlib.Host, host}, {starlib.Engine, engine}} {
			wantStub := side != starlib.Shared && side != starlib.Each && side != test.side
			if got := starlib.IsStub(test.d[name]); got != wantStub {
				t.Errorf("IsStub(%v predeclared[%q]) = %v, want %v", test.side, name, got, wantStub)
			}
		}
	}
}

func TestPredeclaredErrors(t *testing.T) {
	withImpl := func(side starlib.Side, edit func(starlark.StringDict)) starlark.StringDict {
		impl := fakeImpl(side)
		edit(impl)
		return impl
	}
	for _, test := range []struct {
		name string
		side starlib.Side
		impl starlark.StringDict
		want string // regexp
	}{
		{"shared side", starlib.Shared, nil, `^predeclared shared: side must be host or engine$`},
		{"empty engine", starlib.Engine, nil, `^predeclared engine: implementation has missing "comm", "engine", "files"$`},
		{"nil and extra", starlib.Host, withImpl(starlib.Host, func(d starlark.StringDict) {
			d["wait"] = nil
			delete(d, "argv")
			d["engine"] = starlark.None
			d["json"] = starlark.None
		}), `^predeclared host: implementation has missing "argv"; nil "wait"; unexpected "engine", "json"$`},
		{"each side", starlib.Host, withImpl(starlib.Host, func(d starlark.StringDict) {
			delete(d, "files")
		}), `^predeclared host: implementation has missing "files"$`},
	} {
		_, err := starlib.Predeclared(test.side, test.impl)
		if err == nil || !regexp.MustCompile(test.want).MatchString(err.Error()) {
			t.Errorf("%s: Predeclared(%v, …) error = %v, want match for %s", test.name, test.side, err, test.want)
		}
	}
}

func TestPredeclaredUsesImpl(t *testing.T) {
	impl := fakeImpl(starlib.Engine)
	d, err := starlib.Predeclared(starlib.Engine, impl)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range impl {
		if d[name] != v {
			t.Errorf("Predeclared(engine)[%q] = %v, want the impl value %v", name, d[name], v)
		}
	}
	d["files"] = starlark.None
	if impl["files"] == starlark.None {
		t.Errorf("Predeclared returned a dict sharing storage with impl")
	}
}

func TestStubMessages(t *testing.T) {
	const (
		onEngine = "is only available on an engine: call it inside a function you send with apply/map/remote"
		onHost   = "is only available on the host (in a script or the REPL), not inside a function running on an engine"
		inSPMD   = "is only available in SPMD jobs (pirun mpi, or DirectView execute/apply)"
	)
	for _, test := range []struct {
		side starlib.Side
		src  string
		want string
	}{
		{starlib.Host, `engine("x")`, "engine is only available on an engine: use it inside a function you send with apply/map/remote"},
		{starlib.Host, `engine.id`, "engine.id is only available on an engine: use it inside a function you send with apply/map/remote"},
		{starlib.Host, `comm.rank`, "comm.rank " + inSPMD},
		{starlib.Host, `comm()`, "comm " + inSPMD},
		{starlib.Engine, `remote(len)`, "remote " + onHost},
		{starlib.Engine, `Client()`, "Client " + onHost},
		{starlib.Engine, `map(len, [1])`, "map " + onHost},
		{starlib.Engine, `ref.x`, "ref.x " + onHost},
	} {
		err := exec(test.src, predeclared(t, test.side))
		if err == nil || err.Error() != test.want {
			t.Errorf("on %v: %s fails with %v, want %q", test.side, test.src, err, test.want)
		}
	}
}

func TestStubValue(t *testing.T) {
	host := predeclared(t, starlib.Host)
	eng := host["engine"]
	if name, side, ok := starlib.StubSide(eng); name != "engine" || side != starlib.Engine || !ok {
		t.Errorf("StubSide(engine) = %q, %v, %v, want \"engine\", engine, true", name, side, ok)
	}
	if _, _, ok := starlib.StubSide(host["json"]); ok {
		t.Errorf("StubSide(json) ok = true, want false")
	}
	if got, want := eng.String(), "<engine: engine only>"; got != want {
		t.Errorf("engine.String() = %q, want %q", got, want)
	}
	if eng.Truth() {
		t.Errorf("eng.Truth() = True, want False")
	}
	if _, err := eng.Hash(); err != nil {
		t.Errorf("eng.Hash() failed: %v", err)
	}
	if err := exec(`x = {engine: type(engine)}; y = dir(engine)`, host); err != nil {
		t.Errorf("using engine as a dict key, type(engine), dir(engine) failed: %v", err)
	}
	for _, name := range []string{"json", "pow", "nope", "fail", "files"} {
		if v := starlib.Stub(name); v != nil {
			t.Errorf("Stub(%q) = %v, want nil", name, v)
		}
	}
}
