// This file defines the Session that runs a kernel's cells on a
// repl.REPL: the notebook's cells are the REPL's chunks.

package kernel

import (
	"context"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/host/repl"
)

// NewREPLSession returns the Session of r, which must have been made
// with REPLConfig.Cells, the kernel's Stdout and Stderr as its Out and
// Err, and started with StartCells.
func NewREPLSession(r *repl.REPL) Session { return replSession{r} }

type replSession struct{ r *repl.REPL }

func (s replSession) Execute(ctx context.Context, n int, code string) (starlark.Value, error) {
	v, err := s.r.RunCell(ctx, n, code)
	if err != nil {
		name, msg, tb := repl.CellError(err)
		return nil, &CellError{Name: name, Value: msg, Traceback: tb}
	}
	return v, nil
}

func (s replSession) Interrupt() { s.r.Interrupt() }

func (s replSession) Complete(code string, cursor int) ([]string, int) {
	return s.r.Complete(code, cursor)
}

func (s replSession) IsComplete(code string) (string, string) { return repl.CellStatus(code) }

func (s replSession) Inspect(code string, cursor int) (string, bool) {
	return s.r.Inspect(code, cursor)
}

func (s replSession) Progress() (int, int) { return s.r.Progress() }
