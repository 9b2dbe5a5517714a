package repl

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/host/hub"
)

// lines is a lineSource over fixed lines.
type lines []string

func (l *lines) readLine(context.Context, string) (string, error) {
	if len(*l) == 0 {
		return "", io.EOF
	}
	s := (*l)[0]
	*l = (*l)[1:]
	return s, nil
}

func (l *lines) close() error { return nil }

// chunks splits text into the chunks a REPL reads.
func chunks(t *testing.T, text string, terminal bool) []string {
	t.Helper()
	src := lines(strings.Split(strings.TrimSuffix(text, "\n"), "\n"))
	c := &chunkReader{src: &src, terminal: terminal}
	var out []string
	for {
		chunk, err := c.read(context.Background(), ">>> ", "... ")
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, chunk)
	}
}

func TestChunks(t *testing.T) {
	for _, test := range []struct {
		name     string
		in       string
		terminal bool
		want     []string
	}{
		{"simple statements", "x = 1\n\ny = 2; z = 3\n", false, []string{"x = 1\n", "y = 2; z = 3\n"}},
		{"brackets go on", "x = [1,\n\n2]\nx\n", true, []string{"x = [1,\n\n2]\n", "x\n"}},
		{"string goes on", "s = \"\"\"a\n\nb\"\"\"\n", true, []string{"s = \"\"\"a\n\nb\"\"\"\n"}},
		{"blank line ends a def at the terminal", "def f():\n    x = 1\n\n    return x\n", true,
			[]string{"def f():\n    x = 1\n", "    return x\n"}},
		{"blank lines stay inside a piped def", "def f():\n    x = 1\n\n    return x\nf()\n", false,
			[]string{"def f():\n    x = 1\n\n    return x\n", "f()\n"}},
		{"unindented line ends a def", "def f():\n    return 1\nf()\n", true, []string{"def f():\n    return 1\n", "f()\n"}},
		{"else continues an if", "if x:\n    a = 1\nelse:\n    a = 2\n\nb = 1\n", true,
			[]string{"if x:\n    a = 1\nelse:\n    a = 2\n", "b = 1\n"}},
		{"comment inside a def", "def f():\n# note\n    return 1\n", false, []string{"def f():\n# note\n    return 1\n"}},
		{"blank line after a header at the terminal", "if x:\n\nx = 1\n", true, []string{"if x:\n", "x = 1\n"}},
		{"syntax error shown at once at the terminal", "def f(:\n    pass\n", true, []string{"def f(:\n", "    pass\n"}},
		{"piped def with an error stays one chunk", "def f():\n    return )\n    x = 1\ny = 2\n", false,
			[]string{"def f():\n    return )\n    x = 1\n", "y = 2\n"}},
		{"magic line", "%px a = 1\nb = 2\n", true, []string{"%px a = 1", "b = 2\n"}},
		{"cell up to a blank line", "%%px --targets 0\na = 1\nb = a\n\nc = 3\n", false,
			[]string{"%%px --targets 0\na = 1\nb = a\n", "c = 3\n"}},
		{"magic ends a def", "def f():\n    return 1\n%px x = 1\n", false, []string{"def f():\n    return 1\n", "%px x = 1"}},
		{"input ends inside a def", "for i in range(2):\n    print(i)", false, []string{"for i in range(2):\n    print(i)\n"}},
	} {
		if got := chunks(t, test.in, test.terminal); !slices.Equal(got, test.want) {
			t.Errorf("%s: chunks(%q, terminal=%v) = %q, want %q", test.name, test.in, test.terminal, got, test.want)
		}
	}
}

func TestComplete(t *testing.T) {
	c := new(completer)
	c.setScope(starlark.StringDict{"c": api.NewClientValue(nil), "square": starlark.None, "s": starlark.String("x")})
	for _, test := range []struct {
		line string
		want []string
		n    int
	}{
		{"c.load_", []string{"balanced_view"}, 5},
		{"x = c.wait_f", []string{"or_engines"}, 6},
		{"x = c.wait", []string{"_for_engines", "_interactive"}, 4},
		{"squ", []string{"are"}, 3},
		{"print(s.upp", []string{"er"}, 3},
		{"%auto", []string{"px"}, 5},
		{"%pxr", []string{"esult"}, 4},
		{"whi", []string{"le"}, 3},
		{"nosuch.x", nil, 1},
		{"x = %au", nil, 3},
	} {
		got, n := c.Do([]rune(test.line), len([]rune(test.line)))
		var gs []string
		for _, g := range got {
			gs = append(gs, string(g))
		}
		if !slices.Equal(gs, test.want) || n != test.n {
			t.Errorf("Do(%q) = %q, %d, want %q, %d", test.line, gs, n, test.want, test.n)
		}
	}
}

func TestParsePx(t *testing.T) {
	for _, test := range []struct {
		args string
		want pxOptions
		code string
		err  string
	}{
		{"a = 1", pxOptions{block: true}, "a = 1", ""},
		{"--targets 0,2 --noblock print(1)", pxOptions{targets: "0,2"}, "print(1)", ""},
		{"--targets=1:3 --stream x", pxOptions{targets: "1:3", block: true, stream: true}, "x", ""},
		{"--block", pxOptions{block: true}, "", ""},
		{"--verbose x", pxOptions{}, "", "unknown flag --verbose"},
		{"--targets", pxOptions{}, "", "--targets needs a value"},
	} {
		got, code, err := parsePx(test.args)
		if test.err != "" {
			if err == nil || !strings.Contains(err.Error(), test.err) {
				t.Errorf("parsePx(%q) error = %v, want one containing %q", test.args, err, test.err)
			}
			continue
		}
		if err != nil || got != test.want || code != test.code {
			t.Errorf("parsePx(%q) = %+v, %q, %v, want %+v, %q", test.args, got, code, err, test.want, test.code)
		}
	}
}

func TestWithOut(t *testing.T) {
	for _, test := range []struct {
		code, want string
		out        bool
	}{
		{"a = 1\n", "a = 1\n", false},
		{"a\n", "_ = a\n", true},
		{"a = 1; a + 1\n", "a = 1; _ = a + 1\n", true},
		{"x = 1\nf(\n  x)\n", "x = 1\n_ = f(\n  x)\n", true},
		{"s = \"é\"; len(s)\n", "s = \"é\"; _ = len(s)\n", true},
		{"def f():\n    return 1\n", "def f():\n    return 1\n", false},
	} {
		got, out, err := withOut("<stdin:1>", test.code)
		if err != nil || got != test.want || out != test.out {
			t.Errorf("withOut(%q) = %q, %v, %v, want %q, %v", test.code, got, out, err, test.want, test.out)
		}
	}
}

// testClient connects a client to an in-process hub without engines.
func testClient(t *testing.T) *client.Client {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	h, err := hub.New(hub.Config{DontListen: true, Version: "test"}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Shutdown)
	nc, err := nats.Connect("", h.InProcess(), nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Connect(context.Background(), nc, client.Config{}, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// syncBuf is a bytes buffer safe for concurrent use.
type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// runREPL runs a piped session on in and returns its output, errors and
// result.
func runREPL(t *testing.T, in io.Reader, during func(*REPL)) (string, string, error) {
	t.Helper()
	var out, errs syncBuf
	r, err := New(Config{In: in, Out: &out, Err: &errs, Argv: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), testClient(t)) }()
	if during != nil {
		during(r)
	}
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("the session did not end within 20s")
	}
	return out.String(), errs.String(), err
}

func TestREPLPiped(t *testing.T) {
	out, errs, err := runREPL(t, strings.NewReader(`x = 1
x + 1
def f(a):
    b = a * 2

    return b
f(x)
_
print("p", argv)
None
_
1 / 0
x = 5
x
"s"
%nosuch
%px 1
`), nil)
	if want := "2\n2\n2\np [\"a\"]\n2\n5\n\"s\"\n"; out != want {
		t.Errorf("output = %q, want %q", out, want)
	}
	for _, want := range []string{"<stdin:9>:1:3: in <toplevel>", "floating-point division by zero",
		"unknown magic %nosuch: %help lists the magics", "NoEnginesError"} {
		if !strings.Contains(errs, want) {
			t.Errorf("errors = %q, want them to contain %q", errs, want)
		}
	}
	if !errors.Is(err, ErrChunkFailed) {
		t.Errorf("Run = %v, want ErrChunkFailed", err)
	}
}

// TestREPLInterrupt interrupts a running chunk: it stops, the session
// goes on; an interrupt while waiting for input ends a piped session.
func TestREPLInterrupt(t *testing.T) {
	pr, pw := io.Pipe()
	out, errs, err := runREPL(t, pr, func(r *REPL) {
		io.WriteString(pw, "time.sleep(60)\n")
		deadline := time.Now().Add(10 * time.Second)
		for !r.chunkRunning() {
			if time.Now().After(deadline) {
				t.Fatal("the chunk did not start within 10s")
			}
			time.Sleep(5 * time.Millisecond)
		}
		r.Interrupt()
		io.WriteString(pw, "1 + 1\n")
		for !strings.Contains(r.cfg.Out.(*syncBuf).String(), "2") || r.chunkRunning() {
			if time.Now().After(deadline) {
				t.Fatal("the session did not go on after the interrupt")
			}
			time.Sleep(5 * time.Millisecond)
		}
		r.Interrupt()
	})
	if out != "2\n" || !strings.Contains(errs, "interrupted by Ctrl-C") {
		t.Errorf("after an interrupt: output %q, errors %q; want \"2\\n\" and an interrupted chunk", out, errs)
	}
	if !errors.Is(err, ErrInterrupted) {
		t.Errorf("Run = %v after an interrupt while idle, want ErrInterrupted", err)
	}
}

// chunkRunning reports whether a chunk is running.
func (r *REPL) chunkRunning() bool {
	r.running.Lock()
	defer r.running.Unlock()
	return r.cancel != nil
}
