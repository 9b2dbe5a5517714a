// This file defines the limits on vectorised work: the memory an array
// may take, the steps its loops are charged, and cancellation inside long
// operations.

package num

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// Limits bounds the vectorised work of one Starlark thread. The zero value
// means no bounds.
type Limits struct {
	// MaxArrayBytes is the largest array, in bytes of elements, that an
	// operation may create; 0 means no bound.
	MaxArrayBytes int64
	// MaxSteps is the thread's execution step limit, the one given to
	// thread.SetMaxExecutionSteps; vectorised work is charged against it.
	// 0 means no bound.
	MaxSteps uint64
}

// limitsKey is the thread-local key of a thread's *limitState.
const limitsKey = "pirun.num.limits"

// contextKey is the thread-local key of the thread's context.Context,
// shared with package starlib (its SetContext) and go.starlark.net/repl.
const contextKey = "context"

// limitState is a thread's Limits and the steps charged so far.
type limitState struct {
	Limits
	charged uint64
}

// SetLimits sets the limits of thread's vectorised work. Like
// thread.SetLocal, call it before the thread starts executing.
func SetLimits(thread *starlark.Thread, l Limits) {
	thread.SetLocal(limitsKey, &limitState{Limits: l})
}

func limitsOf(thread *starlark.Thread) *limitState {
	if thread == nil {
		return nil
	}
	s, _ := thread.Local(limitsKey).(*limitState)
	return s
}

// defaultMaxArrayBytes is the process-wide bound of the arrays that work
// no running thread answers for makes (see SetDefaultMaxArrayBytes).
var defaultMaxArrayBytes atomic.Int64

// SetDefaultMaxArrayBytes sets the largest array, in bytes of elements,
// that an operation with no running thread to charge may create; 0 (the
// initial value) means no bound. Such operations are operators (a + b,
// which Starlark calls without a thread) whose operands are not bound to
// a running thread: arrays decoded from the wire and not bound with
// [BindThread] or [BindValue], arrays left in an engine's namespace by an
// earlier task, module-level arrays made by a thread that has finished.
// Only the memory bound applies to them: steps and cancellation belong to
// a thread. An engine daemon sets it from its max_array_bytes, so that
// `col + row` of two decoded 100k arrays is an error, not an 80 GB
// allocation that gets the engine killed. Safe for concurrent use; the
// last call wins for the whole process.
func SetDefaultMaxArrayBytes(n int64) { defaultMaxArrayBytes.Store(max(n, 0)) }

// maxArrayBytes returns the memory bound of work charged to thread: its
// own limit if it has limits, the process default if there is no thread,
// and 0 (none) for a thread without limits (a host script's).
func maxArrayBytes(thread *starlark.Thread) int64 {
	if thread == nil {
		return defaultMaxArrayBytes.Load()
	}
	if s := limitsOf(thread); s != nil {
		return s.MaxArrayBytes
	}
	return 0
}

// checkSize returns an error if an array of n elements of dtype and shape
// may not be made for thread: over its max_array_bytes, or, where none
// applies, over this machine's memory (numpy's MemoryError), rather than
// a Go runtime crash ("fatal error: out of memory") that loses the session.
func checkSize(thread *starlark.Thread, dtype DType, shape []int, n int) error {
	bytes := int64(n) * int64(dtype.ItemSize())
	if limit := maxArrayBytes(thread); limit > 0 {
		if bytes > limit {
			return fmt.Errorf("an array of shape %s and dtype %s takes %d bytes, over this engine's max_array_bytes of %d: work in smaller pieces, or raise [engine] max_array_bytes", shapeString(shape), dtype, bytes, limit)
		}
		return nil
	}
	if machine := MachineMemory(); machine > 0 && bytes > machine {
		return fmt.Errorf("cannot allocate %s for an array of shape %s and dtype %s: this machine has %s of memory; work in smaller pieces",
			gib(bytes), shapeString(shape), dtype, gib(machine))
	}
	return nil
}

// gib renders a size in bytes as GiB with one decimal, as numpy's
// MemoryError does.
func gib(bytes int64) string {
	return strconv.FormatFloat(float64(bytes)/(1<<30), 'f', 1, 64) + " GiB"
}

// stepsPer is how many element operations count as one Starlark step.
const stepsPer = 1024

// work charges n element operations to thread's step budget (n/1024 steps,
// at least one) and returns an error if the budget is spent or the
// thread's context is done (abort, timeout, Ctrl-C). Long loops call it
// every chunk of about 64k elements, so that cancellation is seen within
// milliseconds.
func work(thread *starlark.Thread, n int) error {
	if thread == nil {
		return nil
	}
	if err := cancelled(thread); err != nil {
		return err
	}
	s := limitsOf(thread)
	if s == nil || s.MaxSteps == 0 {
		return nil
	}
	s.charged += uint64(n/stepsPer) + 1
	if thread.ExecutionSteps()+s.charged > s.MaxSteps {
		return fmt.Errorf("Starlark computation cancelled: too many steps (vectorised work counts %d element operations as one step; the limit is %d)", stepsPer, s.MaxSteps)
	}
	return nil
}

// cancelled returns an error if thread's context is done.
func cancelled(thread *starlark.Thread) error {
	if ctx, ok := thread.Local(contextKey).(context.Context); ok && ctx != nil {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("Starlark computation cancelled: %v", context.Cause(ctx))
		}
	}
	return nil
}

// alloc returns a new zeroed contiguous array of dtype and shape, or an
// error if the shape is invalid or the array would exceed thread's
// MaxArrayBytes.
func alloc(thread *starlark.Thread, dtype DType, shape []int) (*Array, error) {
	return allocOf(thread, dtype, shape, false)
}

// allocFull is alloc for an output whose every element the caller writes
// before the array is seen (or drops it on an error): a big one's memory
// is not cleared first.
func allocFull(thread *starlark.Thread, dtype DType, shape []int) (*Array, error) {
	return allocOf(thread, dtype, shape, true)
}

func allocOf(thread *starlark.Thread, dtype DType, shape []int, full bool) (*Array, error) {
	if len(shape) > maxDims {
		return nil, fmt.Errorf("shape %s has %d dimensions; num arrays have at most %d", shapeString(shape), len(shape), maxDims)
	}
	n, err := sizeOf(shape)
	if err != nil {
		return nil, err
	}
	if thread != nil && n >= chunk {
		// A big allocation takes time: not on a cancelled thread.
		if err := cancelled(thread); err != nil {
			return nil, err
		}
	}
	if err := checkSize(thread, dtype, shape, n); err != nil {
		return nil, err
	}
	a := newArrayOf(dtype, shape, full)
	a.th = thread
	return a, nil
}

// BindValue binds every array in v — v itself, or an element of the
// lists, tuples, dict values and structs nested in it —
// to thread, as [BindThread] does. An engine calls it on the values it
// decodes for a task (arguments, pushed values, scattered parts) before
// the task's thread runs, so that operators on them charge that task and
// stop with it. Like BindThread it writes the arrays: call it only while
// no other goroutine can reach v.
func BindValue(thread *starlark.Thread, v starlark.Value) {
	bindValue(thread, v, 0)
}

// maxBindDepth bounds the nesting BindValue follows (a cyclic list
// reaches it instead of looping).
const maxBindDepth = 64

func bindValue(thread *starlark.Thread, v starlark.Value, depth int) {
	if depth > maxBindDepth {
		return
	}
	switch v := v.(type) {
	case *Array:
		v.th = thread
	case *starlark.List:
		for i := 0; i < v.Len(); i++ {
			bindValue(thread, v.Index(i), depth+1)
		}
	case starlark.Tuple:
		for _, x := range v {
			bindValue(thread, x, depth+1)
		}
	case *starlark.Dict: // keys are hashable, so never arrays
		for _, kv := range v.Items() {
			bindValue(thread, kv[1], depth+1)
		}
	case *starlarkstruct.Struct:
		for _, name := range v.AttrNames() {
			x, _ := v.Attr(name)
			bindValue(thread, x, depth+1)
		}
	}
}

// bindingResults wraps a builtin of another file's table (num-compute's)
// so that the arrays it returns — the result, or the elements of a
// returned tuple or list — are bound to the calling thread when they are
// not bound yet, as alloc binds the arrays made through it: operators on
// them then charge the thread and stop with it. Only unfrozen arrays are
// bound: Starlark confines those to the running thread, so the write is
// safe.
func bindingResults(f builtinFunc) builtinFunc {
	return func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		v, err := f(thread, b, args, kwargs)
		if err != nil {
			return v, err
		}
		switch v := v.(type) {
		case *Array:
			bindFresh(thread, v)
		case starlark.Tuple:
			for _, x := range v {
				bindFresh(thread, x)
			}
		case *starlark.List:
			for i := 0; i < v.Len(); i++ {
				bindFresh(thread, v.Index(i))
			}
		}
		return v, nil
	}
}

// bindFresh binds v to thread if v is an unfrozen array bound to none.
func bindFresh(thread *starlark.Thread, v starlark.Value) {
	if a, ok := v.(*Array); ok && a.th == nil && !a.buf.frozen {
		a.th = thread
	}
}
