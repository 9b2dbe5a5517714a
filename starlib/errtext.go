// This file defines how a script's error reads on a terminal (ErrorText)
// and its innermost cause (Cause).

package starlib

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// ErrorText is how a script's error reads on a terminal, ending in a
// newline: a Starlark backtrace (shortened, see Backtrace), a syntax error
// with its position, or each name resolution error on a line of its own
// with its position. For any other error it returns err's message and
// false: the caller names itself before it.
func ErrorText(err error) (text string, script bool) {
	var ee *starlark.EvalError
	var se syntax.Error
	var rl resolve.ErrorList
	switch {
	case errors.As(err, &ee):
		return strings.TrimRight(Backtrace(ee), "\n") + "\n", true
	case errors.As(err, &se):
		return se.Error() + "\n", true
	case errors.As(err, &rl):
		var b strings.Builder
		for _, e := range rl {
			fmt.Fprintf(&b, "%s: %s\n", e.Pos, e.Msg)
		}
		return b.String(), true
	}
	return err.Error() + "\n", false
}

// Cause returns the innermost cause of a Starlark evaluation error, or err.
func Cause(err error) error {
	var ee *starlark.EvalError
	if errors.As(err, &ee) && ee.Unwrap() != nil {
		return ee.Unwrap()
	}
	return err
}
