// This file defines Error and Problem, the one error that loading and
// validation return, and the suggestion of a known key for a misspelt one.

package conf

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// EnvFile is the [Error.File] of problems found in PIRUN_* environment
// variables by [Profile.ApplyEnv] and [Engine.ApplyEnv].
const EnvFile = "environment"

// Error reports every problem found in one configuration file. Its message
// has one line per problem:
//
//	/home/pi/.config/pirun/rpi/pirun.toml:3: hub.port: expected an integer 0..65535 (0 picks a free port), got 70000
//
// An Error is plain data, safe to share once returned.
type Error struct {
	File     string    // the file; EnvFile for the environment; "" from Validate
	Problems []Problem // at least one, in file order where lines are known
}

// Problem is one thing wrong in a configuration file.
type Problem struct {
	// Key is the dotted path of the key, such as "engine.task_timeout" or
	// "hosts[1].host" (array indices count from 0), or an environment
	// variable's name. It is empty for TOML syntax errors.
	Key string
	// Line and Column locate the problem in the file, counting from 1; 0
	// when unknown. Column is set for syntax errors only.
	Line, Column int
	// Msg says what is wrong and what was expected.
	Msg string
	// Context is the lines of the file around a syntax error, with a caret
	// under it, ready to print; empty otherwise.
	Context string
}

// Error returns one line per problem, each starting with the file.
func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(p.format(e.File))
	}
	return b.String()
}

// String returns the problem without its file, such as
// "3: hub.port: expected an integer 0..65535, got 70000".
func (p Problem) String() string { return p.format("") }

// format renders "file:line:col: key: msg" followed by the context lines,
// leaving out the parts that are empty.
func (p Problem) format(file string) string {
	loc := file
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
		if p.Column > 0 {
			loc += ":" + strconv.Itoa(p.Column)
		}
		loc = strings.TrimPrefix(loc, ":")
	}
	var parts []string
	for _, s := range []string{loc, p.Key, p.Msg} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	s := strings.Join(parts, ": ")
	if p.Context != "" {
		s += "\n" + strings.TrimRight(p.Context, "\n")
	}
	return s
}

// problems collects Problems; the zero value is ready to use.
type problems []Problem

// add records a problem at key.
func (ps *problems) add(key, format string, args ...any) {
	*ps = append(*ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// errorOf returns nil for no problems, else an *Error for file.
func errorOf(file string, ps []Problem) error {
	if len(ps) == 0 {
		return nil
	}
	return &Error{File: file, Problems: ps}
}

// syntaxProblem turns a TOML parse error into a Problem with its position
// and the lines around it.
func syntaxProblem(err error, src []byte) Problem {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return Problem{Msg: "invalid TOML: " + err.Error()}
	}
	p := Problem{Line: pe.Position.Line, Column: pe.Position.Col, Msg: "invalid TOML: " + pe.Message}
	p.Context = syntaxContext(pe, src)
	return p
}

// syntaxContext returns the lines around a syntax error with a caret under
// it, from ErrorWithPosition, or "" when the position is outside src (the
// TOML package then indexes out of range: it reports some errors at line 0).
func syntaxContext(pe toml.ParseError, src []byte) (context string) {
	pos := pe.Position
	if pos.Line < 1 || pos.Line > bytes.Count(src, []byte("\n"))+1 || pos.Col < 1 || pos.Len < 0 {
		return ""
	}
	defer func() {
		if recover() != nil { // a defect of the TOML package must not stop pirun
			context = ""
		}
	}()
	_, listing, _ := strings.Cut(pe.ErrorWithPosition(), ":\n\n")
	return listing
}

// unknownKeyMsg says that name is not a key of table, suggesting the
// closest known key when it is near.
// table is how the table is written in the file ("[engine]", "[[hosts]]"),
// "" for the top level.
func unknownKeyMsg(table, name string, known []string) string {
	msg := "unknown key at the top level"
	if table != "" {
		msg = "unknown key in " + table
	}
	if s := closest(name, known); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return msg + "; known keys: " + strings.Join(sorted, ", ")
}

// closest returns the known key nearest to name when it is near enough to
// be a typo (a case change, or a few edits relative to its length), else "".
func closest(name string, known []string) string {
	best, bestDist := "", -1
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return k
		}
		d := EditDistance(strings.ToLower(name), k)
		if d <= max(1, len(k)/3) && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	return best
}

// EditDistance is the optimal-string-alignment distance between a and b:
// insertions, deletions, substitutions and swaps of neighbours ("enigne" is
// two edits from "engines"), counted in bytes; keys, commands and flags are
// ASCII. The CLI's "did you mean" uses it too.
func EditDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
