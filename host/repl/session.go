// This file defines the REPL's face for a notebook kernel: cells fed one
// at a time instead of read from input, each run as a chunk named
// "<cell:N>" whose final expression's value is returned rather than
// printed, and the answers to completion, is-complete and inspection
// requests.

package repl

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/host/client"
	"github.com/pirun-dev/pirun/starlib"
)

// chunkName returns the name of chunk n: "<stdin:N>", or with
// REPLConfig.Cells "<cell:N>" for the running cell's first chunk and
// "<cell:N.K>" for its K-th (a cell of several line magics).
func (r *REPL) chunkName(n int) string {
	switch {
	case !r.cfg.Cells:
		return fmt.Sprintf("<stdin:%d>", n)
	case r.cell > 0 && n > r.cell:
		return fmt.Sprintf("<cell:%d.%d>", r.cell, n-r.cell+1)
	}
	return fmt.Sprintf("<cell:%d>", n)
}

// StartCells sets the session up on c for a caller that feeds it cells
// with RunCell instead of calling Run.
func (r *REPL) StartCells(c *client.Client) error { return r.start(c) }

// RunCell runs one cell as "<cell:n>" (0, or a number already used:
// the next free one; a cell's further chunks are "<cell:n.2>", ...): a %%magic with its body, %magic
// lines followed by code, or Starlark (on the engines under %autopx). It
// returns the value of a final expression statement, or nil when there is
// none or it is None. Interrupt cancels it. Output goes to the REPL's Out
// and Err as in a terminal session. It must not be called concurrently.
func (r *REPL) RunCell(ctx context.Context, n int, text string) (starlark.Value, error) {
	if n <= r.used {
		n = r.used + 1 // a number taken (by a silent cell): the cell's name must be new
	}
	r.cell, r.used, r.n = n, n, n-1
	defer func() { r.n = n }()
	ctx, done := r.chunkContext(ctx)
	v, err := r.runCell(ctx, text)
	if done() {
		r.client.AbortPending()
		if err == nil {
			err = errInterruptChunk
		} else if !strings.Contains(err.Error(), errInterruptChunk.Error()) {
			err = fmt.Errorf("%w (%v)", errInterruptChunk, err)
		}
	}
	return v, err
}

// runCell runs a cell's magics and code.
func (r *REPL) runCell(ctx context.Context, text string) (starlark.Value, error) {
	lines := strings.Split(text, "\n")
	first := 0
	for first < len(lines) && isBlank(lines[first]) {
		first++
	}
	if first < len(lines) && strings.HasPrefix(lines[first], "%%") {
		return nil, r.magic(ctx, strings.Join(lines[first:], "\n"))
	}
	// leading %magic lines run in order; the code after them keeps its
	// line numbers (the magics' lines become blank)
	i := first
	for ; i < len(lines) && (strings.HasPrefix(lines[i], "%") || isBlank(lines[i])); i++ {
		if isBlank(lines[i]) {
			continue
		}
		if err := r.magic(ctx, lines[i]); err != nil {
			return nil, err
		}
		lines[i] = ""
	}
	if i == len(lines) {
		return nil, nil
	}
	code := strings.Join(lines, "\n")
	if r.autopx != nil {
		return nil, r.px(ctx, *r.autopx, code)
	}
	return r.execCell(ctx, code)
}

// execCell runs Starlark on the host and returns the value of its final
// expression statement, which runs as "_ = expr" (see exec).
func (r *REPL) execCell(ctx context.Context, text string) (starlark.Value, error) {
	name := r.chunkName(r.n + 1)
	f, err := replOptions().Parse(name, text, 0)
	if err != nil {
		r.n++ // the error names the cell
		return nil, err
	}
	if len(f.Stmts) == 0 {
		return nil, nil // comments only
	}
	r.nextName()
	if err := r.client.Sources().Add(name, []byte(text)); err != nil {
		return nil, err
	}
	last := len(f.Stmts) - 1
	es, isExpr := f.Stmts[last].(*syntax.ExprStmt)
	prev, hadPrev := r.globals["_"]
	if isExpr {
		f.Stmts[last] = assignUnderscore(es.X)
	}
	th := r.script.NewThread(ctx, name, ".")
	stop := starlib.BindCancel(ctx, th)
	defer stop()
	if err := starlark.ExecREPLChunk(f, th, r.globals); err != nil || !isExpr {
		return nil, err
	}
	switch v := r.globals["_"]; {
	case v != starlark.None:
		return v, nil
	case hadPrev:
		r.globals["_"] = prev // as in Python, None does not replace _
	default:
		delete(r.globals, "_")
	}
	return nil, nil
}

// Complete returns the completions of the word that ends at byte offset
// cursor of code (names, attributes of a dotted path, keywords, magics),
// and the byte offset where the completed part starts.
func (r *REPL) Complete(code string, cursor int) ([]string, int) {
	cursor = min(max(cursor, 0), len(code))
	line := code[strings.LastIndexByte(code[:cursor], '\n')+1 : cursor]
	c := &completer{scope: r.globals}
	rest, n := c.Do([]rune(line), len([]rune(line)))
	runes := []rune(line)
	prefix := string(runes[len(runes)-n:])
	out := make([]string, len(rest))
	for i, s := range rest {
		out[i] = prefix + string(s)
	}
	return out, cursor - len(prefix)
}

// CellStatus says whether code is a complete cell ("complete"), needs
// more lines ("incomplete", with the indent of the next one), or cannot
// become valid ("invalid"). A compound statement is incomplete until a
// blank line ends it, as in Python's console.
func CellStatus(code string) (status, indent string) {
	lines := strings.Split(strings.TrimRight(code, " \t"), "\n")
	lastLine := lines[len(lines)-1]
	if strings.HasPrefix(strings.TrimLeft(code, " \t\n"), "%") {
		if strings.HasPrefix(strings.TrimLeft(code, " \t\n"), "%%") && !isBlank(lastLine) {
			return "incomplete", ""
		}
		return "complete", ""
	}
	lastText := ""
	for i := len(lines) - 1; i >= 0; i-- {
		if !isBlank(lines[i]) {
			lastText = lines[i]
			break
		}
	}
	lead := lastText[:len(lastText)-len(strings.TrimLeft(lastText, " \t"))]
	text := code + "\n" // an error on the last line is not "more lines could mend it"
	_, err := replOptions().Parse("<cell>", text, 0)
	switch {
	case err == nil && isCompound(code) && !isBlank(lastLine):
		return "incomplete", lead
	case err == nil:
		return "complete", ""
	case incomplete(err, text):
		if strings.HasSuffix(strings.TrimRight(lastText, " \t"), ":") {
			lead += "    "
		}
		return "incomplete", lead
	}
	return "invalid", ""
}

// Inspect returns the documentation of the name (a dotted path of
// globals) around byte offset cursor of code: a builtin's or a view
// method's doc, else the value's type and text.
func (r *REPL) Inspect(code string, cursor int) (string, bool) {
	cursor = min(max(cursor, 0), len(code))
	end := cursor
	for end < len(code) && isIdentRune(rune(code[end])) {
		end++
	}
	word := lastWord(code[:end])
	word = strings.TrimLeft(word, "%.")
	if word == "" {
		return "", false
	}
	parts := strings.Split(word, ".")
	v, ok := r.globals[parts[0]]
	if !ok {
		v, ok = starlark.Universe[parts[0]]
	}
	for _, p := range parts[1:] {
		if !ok {
			break
		}
		v, ok = attr(v, p)
	}
	if !ok {
		return "", false
	}
	if b, isBuiltin := v.(*starlark.Builtin); isBuiltin {
		if doc := builtinDocs[b.Name()]; doc != "" {
			return doc, true
		}
		return fmt.Sprintf("%s: a built-in function", b.Name()), true
	}
	if doc := builtinDocs[v.Type()]; doc != "" {
		return fmt.Sprintf("%s = %s\n\n%s", word, v.String(), doc), true
	}
	return fmt.Sprintf("%s: %s = %s", word, v.Type(), v.String()), true
}

// CellError describes a cell's error as Jupyter shows it: its kind, its
// message and the lines of its traceback (the Starlark backtrace naming
// <cell:N> lines, a syntax error's position, or the message).
func CellError(err error) (kind, msg string, traceback []string) {
	var ee *starlark.EvalError
	var rl resolve.ErrorList
	var se syntax.Error
	var pf *pxFailed
	switch {
	case errors.Is(err, errInterruptChunk):
		return "Interrupted", err.Error(), []string{err.Error()}
	case errors.As(err, &pf):
		return "RemoteError", pf.Error() + " (their errors are shown above)", []string{pf.Error()}
	case errors.As(err, &ee):
		kind = "Error"
		if t := errorKind(ee.Unwrap()); t != "" {
			kind = t
		}
		return kind, ee.Msg, strings.Split(strings.TrimRight(starlib.Backtrace(ee), "\n"), "\n")
	case errors.As(err, &rl):
		for _, e := range rl {
			traceback = append(traceback, fmt.Sprintf("%s: %s", e.Pos, e.Msg))
		}
		return "SyntaxError", rl[0].Msg, traceback
	case errors.As(err, &se):
		return "SyntaxError", se.Msg, []string{fmt.Sprintf("%s: %s", se.Pos, se.Msg)}
	}
	return "Error", err.Error(), strings.Split(err.Error(), "\n")
}

// errorKind returns the Starlark type name of a pirun error value
// (RemoteError, TimeoutError, ...), or "".
func errorKind(err error) string {
	for err != nil {
		if v, ok := err.(starlark.Value); ok {
			return v.Type()
		}
		err = errors.Unwrap(err)
	}
	return ""
}

// Progress returns the session client's Progress (0, 0 before it has one).
func (r *REPL) Progress() (done, total int) {
	if r.client == nil {
		return 0, 0
	}
	return r.client.Progress()
}
