// This file defines Backtrace: a Starlark traceback shortened as CPython
// shortens a runaway recursion's, so that a stack overflow reports a few
// frames instead of a hundred thousand.

package starlib

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"
)

// Bounds of a shortened traceback.
const (
	// repeatShown is how many times a frame repeated in a row is shown
	// before "[Previous line repeated N more times]" (CPython's 3).
	repeatShown = 3
	// edgeLines is how many lines are kept at each end of a traceback
	// longer than twice that, the middle said as "… N more frames".
	edgeLines = 20
)

// Backtrace returns ee.Backtrace() shortened: a frame repeated in a row
// (direct recursion) is shown repeatShown times then counted, as CPython's
// "[Previous line repeated N more times]"; and of what remains, the first
// and last edgeLines lines are kept, the frames between counted ("… N more
// frames"), which shortens mutual recursion too.
func Backtrace(ee *starlark.EvalError) string {
	stack := ee.CallStack
	suffix := ""
	if last := len(stack) - 1; last >= 0 && stack[last].Pos.Filename() == "<builtin>" {
		suffix = " in " + stack[last].Name
		stack = stack[:last]
	}
	type line struct {
		text   string
		frames int // frames the line stands for
	}
	var lines []line
	for i := 0; i < len(stack); {
		j := i + 1
		for j < len(stack) && stack[j] == stack[i] {
			j++
		}
		text := fmt.Sprintf("  %s: in %s", stack[i].Pos, stack[i].Name)
		shown := min(j-i, repeatShown)
		for range shown {
			lines = append(lines, line{text, 1})
		}
		if more := j - i - shown; more > 0 {
			lines = append(lines, line{fmt.Sprintf("  [Previous line repeated %d more times]", more), more})
		}
		i = j
	}
	var b strings.Builder
	if len(stack) > 0 {
		b.WriteString("Traceback (most recent call last):\n")
	}
	write := func(ls []line) {
		for _, l := range ls {
			b.WriteString(l.text)
			b.WriteByte('\n')
		}
	}
	if len(lines) <= 2*edgeLines+1 {
		write(lines)
	} else {
		write(lines[:edgeLines])
		more := 0
		for _, l := range lines[edgeLines : len(lines)-edgeLines] {
			more += l.frames
		}
		fmt.Fprintf(&b, "  … %d more frames\n", more)
		write(lines[len(lines)-edgeLines:])
	}
	fmt.Fprintf(&b, "Error%s: %s", suffix, ee.Msg)
	return b.String()
}
