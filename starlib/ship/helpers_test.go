// This file defines the test harness: a host that runs scripts with their
// text recorded in Sources, and an engine-side predeclared dict.

package ship

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/pirun-dev/pirun/starlib"
)

// client stands for a host-only object such as a pirun Client.
type client struct{}

func (client) String() string        { return "<client>" }
func (client) Type() string          { return "Client" }
func (client) Freeze()               {}
func (client) Truth() starlark.Bool  { return true }
func (client) Hash() (uint32, error) { return 0, errors.New("unhashable") }

// hostDict returns a host-side predeclared dict with fake host builtins.
func hostDict(t testing.TB) starlark.StringDict {
	t.Helper()
	none := func(name string) *starlark.Builtin {
		return starlark.NewBuiltin(name, func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return starlark.None, nil
		})
	}
	impl := starlark.StringDict{
		"Client": starlark.NewBuiltin("Client", func(*starlark.Thread, *starlark.Builtin, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
			return client{}, nil
		}),
		"remote":   none("remote"),
		"parallel": none("parallel"),
		"map":      none("map"),
		"ref":      none("ref"),
		"wait":     none("wait"),
		"argv":     starlark.NewList(nil),
		"files":    &starlarkstruct.Module{Name: "files", Members: starlark.StringDict{"read": none("files.read")}},
	}
	d, err := starlib.Predeclared(starlib.Host, impl)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// engineDict returns an engine-side predeclared dict whose files.read(n)
// returns "data:" + n.
func engineDict(t testing.TB) starlark.StringDict {
	t.Helper()
	read := starlark.NewBuiltin("files.read", func(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var name string
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
			return nil, err
		}
		return starlark.String("data:" + name), nil
	})
	impl := starlark.StringDict{
		"engine": starlarkstruct.FromStringDict(starlark.String("engine"), starlark.StringDict{"id": starlark.MakeInt(3)}),
		"files":  &starlarkstruct.Module{Name: "files", Members: starlark.StringDict{"read": read}},
		"comm":   starlib.Stub("comm"),
	}
	d, err := starlib.Predeclared(starlib.Engine, impl)
	if err != nil {
		t.Fatal(err)
	}
	d.Freeze()
	return d
}

// host runs scripts the way pirun's host does: every text is added to
// Sources before it runs, and load() resolves files next to the loader.
type host struct {
	t       testing.TB
	src     *Sources
	pre     starlark.StringDict
	dir     string // where load() finds files
	modules map[string]starlark.StringDict
}

func newHost(t testing.TB, dir string) *host {
	return &host{t: t, src: new(Sources), pre: hostDict(t), dir: dir, modules: make(map[string]starlark.StringDict)}
}

// thread returns a host thread whose prints go to out, if non-nil.
func (h *host) thread(out *strings.Builder) *starlark.Thread {
	th := &starlark.Thread{Name: "host", Load: h.load}
	th.Print = func(_ *starlark.Thread, msg string) {
		if out != nil {
			out.WriteString(msg + "\n")
		}
	}
	return th
}

// exec records and runs src as filename, returning its frozen globals.
func (h *host) exec(filename, src string) (starlark.StringDict, error) {
	if err := h.src.Add(filename, []byte(src)); err != nil {
		return nil, err
	}
	return starlark.ExecFileOptions(starlib.FileOptions(), h.thread(nil), filename, src, h.pre)
}

// mustExec is exec that fails the test on error.
func (h *host) mustExec(filename, src string) starlark.StringDict {
	h.t.Helper()
	g, err := h.exec(filename, src)
	if err != nil {
		h.t.Fatalf("exec %s: %v", filename, err)
	}
	return g
}

// run runs a file of dir.
func (h *host) run(name string) starlark.StringDict {
	h.t.Helper()
	data, err := os.ReadFile(filepath.Join(h.dir, name))
	if err != nil {
		h.t.Fatal(err)
	}
	return h.mustExec(name, string(data))
}

// load is the thread's Load hook: modules are read from dir, recorded and
// run once.
func (h *host) load(_ *starlark.Thread, module string) (starlark.StringDict, error) {
	if g, ok := h.modules[module]; ok {
		return g, nil
	}
	data, err := os.ReadFile(filepath.Join(h.dir, module))
	if err != nil {
		return nil, err
	}
	g, err := h.exec(module, string(data))
	h.modules[module] = g
	return g, err
}

// function returns the global name of g as a function.
func function(t testing.TB, g starlark.StringDict, name string) *starlark.Function {
	t.Helper()
	fn, ok := g[name].(*starlark.Function)
	if !ok {
		t.Fatalf("%s is %v, not a function", name, g[name])
	}
	return fn
}

// call calls fn in a fresh thread, collecting its prints.
func call(fn starlark.Callable, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, string, error) {
	var out strings.Builder
	th := &starlark.Thread{Name: "call", Print: func(_ *starlark.Thread, msg string) { out.WriteString(msg + "\n") }}
	v, err := starlark.Call(th, fn, args, kwargs)
	return v, out.String(), err
}

// errMsg returns the message of err without its backtrace.
func errMsg(err error) string {
	var ee *starlark.EvalError
	if errors.As(err, &ee) {
		return ee.Msg
	}
	return err.Error()
}

// equal reports whether x == y in Starlark.
func equal(x, y starlark.Value) bool {
	eq, err := starlark.Equal(x, y)
	return err == nil && eq
}
