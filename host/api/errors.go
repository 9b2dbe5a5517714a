// This file defines the errors a user sees (SPEC §7): task errors as Go
// errors and as Starlark values (for errors() and return_exceptions), and
// the cluster errors that map to exit status 3.

package api

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// TaskError is a task's failure: RemoteError (the code raised an error),
// EngineError (its engine died), TimeoutError, TaskAborted or
// ImpossibleDependency. It is also the Starlark value of that failure:
//
//	err.type       # "RemoteError", "EngineError", "TimeoutError", "TaskAborted", ...
//	err.engine_id  # int, or None when no engine ran it
//	err.host       # string: the engine's host
//	err.task_id    # int
//	err.message    # string: the error without traceback
//	err.traceback  # string: the Starlark traceback in the user's file:line, or ""
type TaskError struct {
	Kind      wire.ErrorKind
	Engine    int // -1 when none
	Host      string
	Task      uint64
	Label     string
	Message   string
	Backtrace string
}

func NewTaskError(r wire.Result, label string) *TaskError {
	e := &TaskError{Kind: wire.RemoteError, Engine: r.Engine, Host: r.Host, Task: r.Task, Label: label}
	if r.Err != nil {
		e.Kind, e.Message, e.Backtrace = r.Err.Type, r.Err.Message, r.Err.Backtrace
	}
	return e
}

// Error formats the failure with where it happened and its traceback.
func (e *TaskError) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Kind))
	if e.Engine >= 0 {
		fmt.Fprintf(&b, " on engine %d", e.Engine)
		if e.Host != "" {
			fmt.Fprintf(&b, " (%s)", e.Host)
		}
	}
	fmt.Fprintf(&b, ", task %d", e.Task)
	if e.Label != "" {
		fmt.Fprintf(&b, " [%s]", e.Label)
	}
	b.WriteString(": ")
	if e.Backtrace != "" {
		b.WriteString(e.Message)
		b.WriteString("\nremote ")
		b.WriteString(e.Backtrace)
	} else {
		b.WriteString(e.Message)
	}
	return b.String()
}

func (e *TaskError) String() string        { return e.Error() }
func (e *TaskError) Type() string          { return string(e.Kind) }
func (e *TaskError) Freeze()               {}
func (e *TaskError) Truth() starlark.Bool  { return true }
func (e *TaskError) Hash() (uint32, error) { return 0, errors.New("unhashable: " + string(e.Kind)) }
func (e *TaskError) AttrNames() []string {
	return []string{"engine_id", "host", "message", "task_id", "traceback", "type"}
}

func (e *TaskError) Attr(name string) (starlark.Value, error) {
	switch name {
	case "type":
		return starlark.String(e.Kind), nil
	case "engine_id":
		if e.Engine < 0 {
			return starlark.None, nil
		}
		return starlark.MakeInt(e.Engine), nil
	case "host":
		return starlark.String(e.Host), nil
	case "task_id":
		return starlark.MakeUint64(e.Task), nil
	case "message":
		return starlark.String(e.Message), nil
	case "traceback":
		return starlark.String(e.Backtrace), nil
	}
	return nil, nil
}
