package ship

import (
	"fmt"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// TestSnippet checks the text cut out for a function: its exact end (the
// Span off-by-one of IndexExpr, SliceExpr and parenthesised TupleExpr),
// default placeholders, rune columns and line endings.
func TestSnippet(t *testing.T) {
	for _, test := range []struct {
		src, fn, want string
		args          starlark.Tuple
	}{
		{"a = [1, 2]\nf = lambda x: a[x]\n", "f", "lambda x: a[x]", starlark.Tuple{starlark.MakeInt(1)}},
		{"a = [1, 2]\nf = lambda x: a[x:]\n", "f", "lambda x: a[x:]", starlark.Tuple{starlark.MakeInt(1)}},
		{"a = [1, 2]\nf = lambda x: (x, a)\n", "f", "lambda x: (x, a)", starlark.Tuple{starlark.MakeInt(1)}},
		{"a = [1, 2]\ndef f(x):\n    return a[0], a[x]\n", "f", "def f(x):\n    return a[0], a[x]", starlark.Tuple{starlark.MakeInt(1)}},
		{"fs = [lambda x, k=k: x*k for k in range(3)]\nf = fs[2]\n", "f", "lambda x, k=__dflt_k: x*k", starlark.Tuple{starlark.MakeInt(4)}},
		{"ü = 'é'; f = lambda x: ü + x[0]  # é\n", "f", "lambda x: ü + x[0]", starlark.Tuple{starlark.String("ab")}},
		{"x = 1\r\ndef f(y):\r\n    return [y,\r\n        x]\r\n", "f", "def f(y):\r\n    return [y,\r\n        x]", starlark.Tuple{starlark.MakeInt(2)}},
		{"fs = [\nlambda x: x + 1,\n]\nf = fs[0]\n", "f", "lambda x: x + 1", starlark.Tuple{starlark.MakeInt(2)}},
		{"def f(x, d = {\n    'a': [1,\n       2],\n}, e = 3):\n    return d['a'][x] + e  # end\n# after\n", "f",
			"def f(x, d = __dflt_d\n\n\n, e = __dflt_e):\n    return d['a'][x] + e", starlark.Tuple{starlark.MakeInt(1)}},
		{"def outer(n):\n    def f(x, k = n):\n        if x:\n            return k\n        pass\n    return f\nf = outer(3)\n", "f",
			"def f(x, k = __dflt_k):\n        if x:\n            return k\n        pass", starlark.Tuple{starlark.MakeInt(1)}},
		{"def outer(n):\n\tdef f(x):\n\t\treturn x + n\n\treturn f\nf = outer(3)\n", "f",
			"def f(x):\n\t\treturn x + n", starlark.Tuple{starlark.MakeInt(1)}},
	} {
		h := newHost(t, "")
		g := h.mustExec("job.star", test.src)
		fn := function(t, g, test.fn)
		b, err := Capture(fn, h.src)
		if err != nil {
			t.Errorf("Capture(%s) of %q failed: %v", test.fn, test.src, err)
			continue
		}
		if got := b.Funcs[0].Src; got != test.want {
			t.Errorf("Capture(%s) of %q: src = %q, want %q", test.fn, test.src, got, test.want)
		}
		want, _, wantErr := call(fn, test.args, nil)
		data, _ := b.Marshal()
		rebuilt, err := Rebuild(data, engineDict(t))
		if err != nil {
			t.Errorf("Rebuild(%s) of %q failed: %v", test.fn, test.src, err)
			continue
		}
		got, _, err := call(rebuilt, test.args, nil)
		if eq, _ := starlark.Equal(got, want); err != nil || wantErr != nil || !eq {
			t.Errorf("%s%v of %q on engine = %v (error %v), want %v (error %v)", test.fn, test.args, test.src, got, err, want, wantErr)
		}
	}
}

// TestFreeNames checks which names a snippet needs, in order of first use.
func TestFreeNames(t *testing.T) {
	h := newHost(t, "")
	g := h.mustExec("job.star", `
A, B, C = 1, 2, 3
def f(x, k = A):
    y = [B + v for v in range(x) if v != C]
    return len(y) + k + f(0) if x else json.encode(y)
`)
	sn, err := h.src.snippet(function(t, g, "f"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, free := range sn.free {
		names = append(names, free.name)
	}
	if got, want := strings.Join(names, " "), "B range C len json"; got != want {
		t.Errorf("free names of f = %s, want %s", got, want)
	}
}

// TestSources checks Add's uniqueness rule and Get.
func TestSources(t *testing.T) {
	var s Sources
	if err := s.Add("a.star", []byte("x = 1\n")); err != nil {
		t.Fatal(err)
	}
	if err := s.Add("a.star", []byte("x = 1\n")); err != nil {
		t.Errorf("Add of the same text again: %v, want nil", err)
	}
	want := `add source "a.star": a different text is already registered under this name`
	if err := s.Add("a.star", []byte("x = 2\n")); err == nil || err.Error() != want {
		t.Errorf("Add of a different text = %v, want %s", err, want)
	}
	if got, ok := s.Get("a.star"); !ok || string(got) != "x = 1\n" {
		t.Errorf("Get(a.star) = %q, %v, want %q, true", got, ok, "x = 1\n")
	}
	if _, ok := s.Get("b.star"); ok {
		t.Errorf("Get(b.star) found a text, want none")
	}
	if n := s.Len(); n != 1 {
		t.Errorf("Len() = %d, want 1", n)
	}
}

// TestFreeNamesFallback checks that the two ways of finding free names (the
// resolved file, and the re-parsed snippet used when the file does not
// resolve as a whole) agree on every function of testdata/job.star.
func TestFreeNamesFallback(t *testing.T) {
	h := newHost(t, "testdata")
	g := h.run("job.star")
	f := h.src.lookup("job.star")
	n := 0
	for name, v := range g {
		fn, ok := v.(*starlark.Function)
		if !ok {
			continue
		}
		n++
		f.resolved = true
		whole, err := analyse(f, fn)
		if err != nil {
			t.Fatal(err)
		}
		f.resolved = false
		snip, err := analyse(f, fn)
		f.resolved = true
		if err != nil {
			t.Fatal(err)
		}
		if got, want := freeString(snip.free), freeString(whole.free); got != want {
			t.Errorf("free names of %s from its snippet = %s, from the file = %s", name, got, want)
		}
	}
	if n < 20 {
		t.Errorf("compared %d functions, want at least 20", n)
	}
}

// freeString lists free names with the line of their first use.
func freeString(free []freeName) string {
	var b strings.Builder
	for _, f := range free {
		fmt.Fprintf(&b, "%s:%d ", f.name, f.pos.Line)
	}
	return b.String()
}
