// This file defines the driver: RunFile executes each chunk and compares
// its errors with the expected ones.

package startest

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarktest"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib"
)

// A Reporter receives test failures. *testing.T satisfies it, and so does
// any starlarktest.Reporter, to which assert.star reports.
type Reporter interface {
	Error(args ...any)
}

// Options configures RunFile. The zero value runs chunks with only the
// Universe and assert.star.
type Options struct {
	// Predeclared is the predeclared dict of every chunk, typically from
	// starlib.Predeclared. It is not modified; its values must be safe to
	// share between the chunks, which run one after another.
	Predeclared starlark.StringDict

	// Setup, if not nil, is called with each chunk's thread before it
	// runs, after the reporter and the context are set; it may set Print,
	// thread locals (such as a random.Source), or a step limit.
	Setup func(thread *starlark.Thread)

	// Load, if not nil, loads modules other than "assert.star".
	Load func(thread *starlark.Thread, module string) (starlark.StringDict, error)

	// Context, if not nil, is the context of each chunk's thread (see
	// starlib.SetContext); when it is done the running chunk is cancelled
	// and the remaining chunks are not run.
	Context context.Context
}

// RunFile parses the test file src (named filename in messages and
// positions), runs each chunk in its own module and thread with the pirun
// dialect, and reports to r, as "filename:line: …", every malformed
// expectation or directive, every unexpected error, every error that does
// not match its expectation, and every expected error that did not occur.
// assert.star failures are reported to r too. RunFile is safe for
// concurrent use if opts' values are.
func RunFile(r Reporter, filename string, src []byte, opts Options) {
	f, err := parse(filename, src)
	if err != nil {
		r.Error("\n" + err.Error())
		return
	}
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	for _, c := range f.chunks {
		if ctx.Err() != nil {
			r.Error(fmt.Sprintf("\n%s:%d: chunk not run: %v", filename, c.line, context.Cause(ctx)))
			return
		}
		c.run(ctx, r, filename, opts)
	}
}

// run executes the chunk and reports the differences between its errors
// and the expected ones.
func (c *chunk) run(ctx context.Context, r Reporter, filename string, opts Options) {
	thread := &starlark.Thread{
		Name: fmt.Sprintf("%s:%d", filename, c.line),
		Load: opts.load,
	}
	starlarktest.SetReporter(thread, r)
	starlib.SetContext(thread, ctx)
	if opts.Setup != nil {
		opts.Setup(thread)
	}
	stop := starlib.BindCancel(ctx, thread)
	src := syntax.FilePortion{Content: c.src, FirstLine: int32(c.line), FirstCol: 1}
	_, err := starlark.ExecFileOptions(starlib.FileOptions(), thread, filename, src, opts.Predeclared)
	err = starlib.Explain(src, err)
	stop()
	c.check(r, filename, err)
}

// load serves assert.star, then defers to opts.Load.
func (opts Options) load(thread *starlark.Thread, module string) (starlark.StringDict, error) {
	if module == "assert.star" {
		return starlarktest.LoadAssertModule()
	}
	if opts.Load != nil {
		return opts.Load(thread, module)
	}
	return nil, fmt.Errorf("cannot load %q: this test driver provides only assert.star", module)
}

// check reports err's mismatches with the expected errors, then the
// expected errors that did not occur, in line order.
func (c *chunk) check(r Reporter, filename string, err error) {
	var (
		evalErr   *starlark.EvalError
		syntaxErr syntax.Error
		errList   resolve.ErrorList
	)
	switch {
	case err == nil:
	case errors.As(err, &evalErr):
		c.gotEvalError(r, filename, evalErr)
	case errors.As(err, &syntaxErr):
		c.gotError(r, filename, int(syntaxErr.Pos.Line), syntaxErr.Msg)
	case errors.As(err, &errList):
		for _, e := range errList {
			c.gotError(r, filename, int(e.Pos.Line), e.Msg)
		}
	default:
		r.Error(fmt.Sprintf("\n%s:%d: unexpected error: %v", filename, c.line, err))
	}
	lines := make([]int, 0, len(c.want))
	for line := range c.want {
		lines = append(lines, line)
	}
	slices.Sort(lines)
	for _, line := range lines {
		r.Error(fmt.Sprintf("\n%s:%d: expected error matching %q did not occur", filename, line, c.want[line]))
	}
}

// gotEvalError attributes err to the innermost frame in filename whose
// line expects an error, or else reports it as unexpected with its
// backtrace.
func (c *chunk) gotEvalError(r Reporter, filename string, err *starlark.EvalError) {
	for i := len(err.CallStack) - 1; i >= 0; i-- {
		pos := err.CallStack[i].Pos
		if pos.Filename() != filename {
			continue
		}
		if _, ok := c.want[int(pos.Line)]; ok {
			c.gotError(r, filename, int(pos.Line), err.Error())
			return
		}
	}
	r.Error("\nunexpected error: " + err.Backtrace())
}

// gotError checks an error at line against the expectation there.
func (c *chunk) gotError(r Reporter, filename string, line int, msg string) {
	rx, ok := c.want[line]
	if !ok {
		r.Error(fmt.Sprintf("\n%s:%d: unexpected error: %s", filename, line, msg))
		return
	}
	delete(c.want, line)
	if !rx.MatchString(msg) {
		r.Error(fmt.Sprintf("\n%s:%d: error %q does not match pattern %q", filename, line, msg, rx))
	}
}
