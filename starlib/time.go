// This file defines the time module: go.starlark.net/lib/time plus a
// cancellable sleep.

package starlib

import (
	"context"
	"fmt"
	"math"
	"time"

	libtime "go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
)

// timeModule is the Starlark module "time". It has every member of
// go.starlark.net/lib/time (from_timestamp, is_valid_timezone, now,
// parse_duration, parse_time, time, and the constants nanosecond …
// hour), documented there, plus:
//
// def time(year=None, month=None, day=None, hour=None, minute=None, second=None, nanosecond=None, location=None):
//
// time, called with no arguments, returns the current time as a float:
// seconds since the Unix epoch, as Python's time.time(). Called with
// arguments, it is lib/time's constructor of a time.time value.
//
// def sleep(seconds):
//
// sleep suspends the calling thread for seconds, an int, a float or a
// time.duration, which must be finite and not negative. It returns None,
// or fails at once when the thread's context (see [Context]) is done, for
// instance when a task is aborted or times out or Control-C is pressed in
// the REPL. A thread.Cancel that does not come through the context is seen
// only when sleep returns.
var timeModule = newTimeModule()

func newTimeModule() *starlarkstruct.Module {
	members := make(starlark.StringDict, len(libtime.Module.Members)+1)
	for name, v := range libtime.Module.Members {
		members[name] = v
	}
	members["sleep"] = starlark.NewBuiltin("time.sleep", sleep)
	members["time"] = starlark.NewBuiltin("time.time", epochTime)
	m := &starlarkstruct.Module{Name: "time", Members: members}
	m.Freeze()
	return m
}

// libTime is lib/time's time constructor.
var libTime = libtime.Module.Members["time"].(*starlark.Builtin)

// epochTime is time.time: the seconds since the epoch with no arguments,
// else lib/time's constructor.
func epochTime(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(args) > 0 || len(kwargs) > 0 {
		return libTime.CallInternal(thread, args, kwargs)
	}
	return starlark.Float(float64(time.Now().UnixNano()) / 1e9), nil
}

func sleep(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var d seconds
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "seconds", &d); err != nil {
		return nil, err
	}
	ctx := Context(thread)
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), context.Cause(ctx))
	}
	if d == 0 {
		return starlark.None, nil
	}
	timer := time.NewTimer(time.Duration(d))
	defer timer.Stop()
	select {
	case <-timer.C:
		return starlark.None, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %w", b.Name(), context.Cause(ctx))
	}
}

// seconds is an Unpacker for a non-negative, finite number of seconds
// given as an int, a float or a time.duration.
type seconds time.Duration

func (d *seconds) Unpack(v starlark.Value) error {
	if dur, ok := v.(libtime.Duration); ok {
		if dur < 0 {
			return fmt.Errorf("got %v, want a duration that is not negative", dur)
		}
		*d = seconds(dur)
		return nil
	}
	f, ok := starlark.AsFloat(v)
	if !ok {
		return fmt.Errorf("got %s, want int, float or time.duration", v.Type())
	}
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return fmt.Errorf("got %v, want a finite number of seconds", v)
	case f < 0:
		return fmt.Errorf("got %v, want a number of seconds that is not negative", v)
	case f*float64(time.Second) >= math.MaxInt64:
		return fmt.Errorf("got %v seconds, want at most %d", v, int64(math.MaxInt64/time.Second))
	}
	*d = seconds(f * float64(time.Second))
	return nil
}
