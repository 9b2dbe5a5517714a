// This file defines the limits on vectorised work: the memory an array
// may take, the steps its loops are charged, and cancellation inside long
// operations.

package num

import (
	"context"
	"fmt"

	"go.starlark.net/starlark"
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
	if s := limitsOf(thread); s != nil && s.MaxArrayBytes > 0 {
		if bytes := int64(n) * int64(dtype.ItemSize()); bytes > s.MaxArrayBytes {
			return nil, fmt.Errorf("an array of shape %s and dtype %s takes %d bytes, over this engine's max_array_bytes of %d: work in smaller pieces, or raise [engine] max_array_bytes", shapeString(shape), dtype, bytes, s.MaxArrayBytes)
		}
	}
	a := newArray(dtype, shape)
	a.th = thread
	return a, nil
}
