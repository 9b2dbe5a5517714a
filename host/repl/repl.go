// This file defines REPL, the interactive session: chunks read from a
// terminal (with line editing) or a pipe, each kept under a unique name
// such as "<stdin:7>" so that the functions it defines can be shipped,
// run in module globals that persist across chunks.

package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/host/api"
	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
)

// Errors a REPL session ends with.
var (
	// ErrInterrupted means Ctrl-C (or Interrupt) came while a piped
	// session waited for its next chunk: the session ended there.
	ErrInterrupted = errors.New("interrupted")
	// ErrChunkFailed means at least one chunk of a piped session failed
	// (its error was printed; the following chunks still ran).
	ErrChunkFailed = errors.New("a chunk failed")
)

// errInterruptChunk is the cause with which Interrupt cancels a chunk.
var errInterruptChunk = errors.New("interrupted by Ctrl-C; the remote tasks of this session were aborted")

// Config configures a REPL. It is plain data.
type Config struct {
	In       io.Reader // the chunks when not Terminal (a pipe or a file)
	Out      io.Writer // values, print output, engine output and magics
	Err      io.Writer // errors
	Terminal bool      // standard input is a terminal: prompts, line editing, completion, history, colours
	NoColor  bool      // no colours even on a terminal ($NO_COLOR is set)
	History  string    // the line history file when Terminal; "" keeps none
	Argv     []string  // the session's argv
	Banner   string    // the first line of the banner, e.g. "pirun 0.1.0"
	Cells    bool      // chunks are a notebook's cells, named "<cell:N>" (RunCell)
	// Connect opens the clusters named by Client(profile=…, connect=…);
	// nil refuses them.
	Connect func(ctx context.Context, profile, connect string) (*client.Client, error)
}

// REPL is an interactive session on a cluster: a read-eval-print loop
// for Starlark with magics (%px, %%px, %autopx, %pxresult, %engines,
// %help) that run code on the engines.
//
// A chunk is a simple statement, a compound statement (ended by a blank
// line at the prompt, or in piped input by the next unindented line), or
// a magic. Each chunk's text is registered with the client's Sources as
// "<stdin:N>" before it runs, so the functions it defines can be shipped
// and its errors name it. The value of an expression chunk is printed
// (unless None) and kept in "_".
//
// Run must be called once. Interrupt and EngineOutput are safe for
// concurrent use; the rest is not.
type REPL struct {
	cfg    Config
	mu     sync.Mutex // serialises every write to Out and Err
	out    io.Writer  // Out, or the line editor's wrapper of it
	errw   io.Writer  // Err, or the line editor's wrapper of it
	mute   atomic.Bool
	editor *editor // nil unless Terminal
	in     *chunkReader
	idle   chan struct{} // Interrupt while a piped session waits for input

	client  *client.Client
	script  *api.Script
	globals starlark.StringDict
	n       int // chunks run
	cell    int // RunCell: the running cell's number
	used    int // RunCell: the highest cell number used
	failed  int
	autopx  *pxOptions // non-nil while %autopx is on
	last    *pxRun     // the last %px, for %pxresult

	running   sync.Mutex // guards cancel
	cancel    context.CancelCauseFunc
	closeOnce sync.Once
}

// New returns a session configured by cfg. With cfg.Terminal it sets
// up the line editor on standard input; Close restores the terminal.
func New(cfg Config) (*REPL, error) {
	r := &REPL{cfg: cfg, out: cfg.Out, errw: cfg.Err, idle: make(chan struct{}, 1)}
	var src lineSource
	if cfg.Terminal {
		ed, err := newEditor(cfg, new(completer))
		if err != nil {
			return nil, err
		}
		r.editor, r.out, r.errw, src = ed, ed.stdout(), ed.stderr(), ed
	} else {
		src = newPipeLines(cfg.In, r.idle)
	}
	r.in = &chunkReader{src: src, terminal: cfg.Terminal}
	return r, nil
}

// EngineOutput returns the writer for the client's streamed engine output
// (client.Config.Output): it writes between the session's own lines, and
// holds back while a blocking %px collects each engine's output. It is
// safe for concurrent use.
func (r *REPL) EngineOutput() io.Writer { return streamWriter{r} }

// streamWriter is the REPL's writer for streamed engine output.
type streamWriter struct{ r *REPL }

func (w streamWriter) Write(p []byte) (int, error) {
	if w.r.mute.Load() {
		return len(p), nil
	}
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	return w.r.out.Write(p)
}

// printf writes to the session's output.
func (r *REPL) printf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, format, args...)
}

// errorf writes an error (in red on a terminal).
func (r *REPL) errorf(format string, args ...any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	if r.cfg.Terminal && !r.cfg.NoColor {
		msg = "\x1b[31m" + msg + "\x1b[0m"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintln(r.errw, msg)
}

// sessionOut is the io.Writer of print in chunks.
type sessionOut struct{ r *REPL }

func (w sessionOut) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	return w.r.out.Write(p)
}

// Interrupt is Ctrl-C: it cancels the running chunk and aborts every
// unfinished task of the client. In a piped session waiting for input, it
// ends the session with ErrInterrupted. It is safe for concurrent use.
func (r *REPL) Interrupt() {
	r.running.Lock()
	cancel := r.cancel
	r.running.Unlock()
	if cancel == nil {
		select {
		case r.idle <- struct{}{}:
		default:
		}
		return
	}
	cancel(errInterruptChunk)
	if r.client != nil {
		r.client.AbortPending()
	}
}

// Close restores the terminal and stops reading input. It is idempotent.
func (r *REPL) Close() error {
	var err error
	r.closeOnce.Do(func() { err = r.in.src.close() })
	return err
}

// Run runs the session on c until the input ends (Ctrl-D) or ctx is done.
// It returns nil, ctx's cause, ErrInterrupted, or ErrChunkFailed (piped
// sessions only). It closes the REPL when it returns.
func (r *REPL) Run(ctx context.Context, c *client.Client) error {
	defer r.Close()
	if err := r.start(c); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { r.in.src.close() })
	defer stop()
	if r.cfg.Terminal {
		r.banner(ctx)
	}
	for {
		r.setScope()
		ps1, ps2 := r.prompts()
		text, err := r.in.read(ctx, ps1, ps2)
		switch {
		case errors.Is(err, errPromptInterrupt):
			continue
		case errors.Is(err, io.EOF) && ctx.Err() == nil:
			return r.end()
		case ctx.Err() != nil:
			c.AbortPending()
			return context.Cause(ctx)
		case err != nil:
			c.AbortPending()
			return err
		}
		r.eval(ctx, text)
	}
}

// start sets up the session's script and globals on c.
func (r *REPL) start(c *client.Client) error {
	r.client = c
	r.script = &api.Script{Client: c, Argv: r.cfg.Argv, Stdout: sessionOut{r}, Connect: r.cfg.Connect}
	predecl, err := r.script.Predeclared()
	if err != nil {
		return err
	}
	// Chunks hold the predeclared names as globals: shipping must still
	// send them as names (a function typed here that uses math).
	c.Sources().SetPredeclared(predecl)
	r.globals = make(starlark.StringDict, len(predecl)+1)
	for k, v := range predecl {
		r.globals[k] = v
	}
	r.globals["c"] = api.NewClientValue(c)
	return nil
}

// end is the result of a session whose input ended.
func (r *REPL) end() error {
	if r.cfg.Terminal {
		return nil
	}
	if r.failed > 0 {
		return ErrChunkFailed
	}
	return nil
}

// prompts returns the first-line and continuation prompts.
func (r *REPL) prompts() (string, string) {
	if r.autopx != nil {
		return "[px] >>> ", "[px] ... "
	}
	return ">>> ", "... "
}

// eval runs one chunk: a magic, a chunk for the engines under %autopx,
// or Starlark on the host.
func (r *REPL) eval(ctx context.Context, text string) {
	ctx, done := r.chunkContext(ctx)
	var err error
	switch {
	case strings.HasPrefix(text, "%"):
		err = r.magic(ctx, text)
	case r.autopx != nil:
		err = r.px(ctx, *r.autopx, text)
	default:
		err = r.exec(ctx, text)
	}
	interrupted := done()
	if interrupted {
		r.client.AbortPending() // tasks submitted while the cancellation was on its way
	}
	if err != nil {
		r.failed++
		r.report(err, interrupted)
	}
}

// chunkContext returns the context of one chunk, which Interrupt cancels,
// and a function that ends it and reports whether it was interrupted.
func (r *REPL) chunkContext(parent context.Context) (context.Context, func() bool) {
	ctx, cancel := context.WithCancelCause(parent)
	r.running.Lock()
	r.cancel = cancel
	r.running.Unlock()
	return ctx, func() bool {
		r.running.Lock()
		r.cancel = nil
		r.running.Unlock()
		interrupted := errors.Is(context.Cause(ctx), errInterruptChunk)
		cancel(nil)
		return interrupted
	}
}

// report prints a chunk's error: a Starlark backtrace, a syntax error
// with its position, or the message.
func (r *REPL) report(err error, interrupted bool) {
	var pf *pxFailed
	if !errors.As(err, &pf) { // else each engine's error is printed already
		text, _ := starlib.ErrorText(err)
		r.errorf("%s", text)
	}
	if interrupted && !strings.Contains(err.Error(), errInterruptChunk.Error()) {
		r.errorf("%v", errInterruptChunk)
	}
}

// nextName returns the name of the next chunk, "<stdin:N>".
func (r *REPL) nextName() string {
	r.n++
	return r.chunkName(r.n)
}

// replOptions are the dialect's options with load() binding globally, as
// in go.starlark.net/repl.
func replOptions() *syntax.FileOptions {
	opts := starlib.FileOptions()
	opts.LoadBindsGlobally = true
	return opts
}

// exec runs a chunk of Starlark on the host. Its text is registered
// before it runs. The value of a sole expression is printed and kept in
// "_" unless it is None: the expression is run as the assignment
// "_ = expr" in the chunk's module, so that the functions it creates ship
// like any other (an expression evaluated on its own would see the
// globals as predeclared names, which shipping cannot copy).
func (r *REPL) exec(ctx context.Context, text string) error {
	name := r.chunkName(r.n + 1)
	f, err := replOptions().Parse(name, text, 0)
	if err != nil {
		r.n++ // the error names the chunk
		return starlib.Explain(text, err)
	}
	if len(f.Stmts) == 0 {
		return nil // comments only
	}
	r.nextName()
	if err := r.client.Sources().Add(name, []byte(text)); err != nil {
		return err
	}
	expr := soleExpr(f)
	prev, hadPrev := r.globals["_"]
	if expr != nil {
		f.Stmts[0] = assignUnderscore(expr)
	}
	th := r.script.NewThread(ctx, name, ".")
	stop := starlib.BindCancel(ctx, th)
	defer stop()
	if err := starlark.ExecREPLChunk(f, th, r.globals); err != nil || expr == nil {
		return starlib.Explain(text, err)
	}
	switch v := r.globals["_"]; {
	case v != starlark.None:
		r.printf("%s\n", v)
	case hadPrev:
		r.globals["_"] = prev // as in Python, None does not replace _
	default:
		delete(r.globals, "_")
	}
	return nil
}

// soleExpr returns the expression of a chunk that is one expression
// statement, or nil.
func soleExpr(f *syntax.File) syntax.Expr {
	if len(f.Stmts) == 1 {
		if s, ok := f.Stmts[0].(*syntax.ExprStmt); ok {
			return s.X
		}
	}
	return nil
}

// assignUnderscore returns the statement "_ = x", positioned at x.
func assignUnderscore(x syntax.Expr) *syntax.AssignStmt {
	pos, _ := x.Span()
	return &syntax.AssignStmt{OpPos: pos, Op: syntax.EQ, LHS: &syntax.Ident{NamePos: pos, Name: "_"}, RHS: x}
}

// setScope publishes the names the completer offers.
func (r *REPL) setScope() {
	if r.editor == nil {
		return
	}
	scope := make(starlark.StringDict, len(r.globals))
	for k, v := range r.globals {
		scope[k] = v
	}
	r.editor.setScope(scope)
}

// banner prints the cluster the session runs on and where help is.
func (r *REPL) banner(ctx context.Context) {
	if r.cfg.Banner != "" {
		r.printf("%s\n", r.cfg.Banner)
	}
	ids, hub, err := r.cluster(ctx)
	if err != nil {
		r.errorf("%v", err)
	} else {
		r.printf("%d engine(s) %v on %s\n", len(ids), ids, hub)
	}
	r.printf("c = Client() is defined. %%help lists the magics (%%px runs code on the engines); Ctrl-D leaves.\n")
}
