// This file defines the error kinds: the one vocabulary of task failures
// that engines, the hub and clients write into a Result and the host
// shows as Starlark errors (SPEC §7).

package wire

// ErrorKind is the kind of a task's failure; its value is the name of the
// Starlark error type a user sees (err.type).
type ErrorKind string

// The kinds of task failures.
const (
	RemoteError          ErrorKind = "RemoteError"          // the task's code failed
	EngineError          ErrorKind = "EngineError"          // its engine died, was lost or shut down, or the task could not reach one
	TimeoutError         ErrorKind = "TimeoutError"         // it ran past its timeout
	TaskAborted          ErrorKind = "TaskAborted"          // it was aborted
	MemoryError          ErrorKind = "MemoryError"          // its engine's max_memory was passed; the engine lives
	ImpossibleDependency ErrorKind = "ImpossibleDependency" // a dependency failed, so it can never run
)

// Error is "Kind: message", so that a wire error can travel as a Go error.
func (e *Error) Error() string { return string(e.Type) + ": " + e.Message }
