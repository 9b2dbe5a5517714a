// This file defines Explain, which rewords the syntax and resolve errors
// that Python constructs cause into the Starlark way of saying them.

package starlib

import (
	"bytes"
	"regexp"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/syntax"
)

// Hints for Python constructs that Starlark lacks (SPEC §4 and §11).
const (
	hintPow    = "Starlark has no ** operator: use pow(x, y)"
	hintImport = `Starlark has no import: modules are predeclared: json, math, time, random, num, struct; load("file.star", "name") loads your own .star files`
	hintTry    = "Starlark has no try/except: use ar.errors() or ar.get(return_exceptions=True) for remote failures, fail() to raise"
	hintRaise  = `Starlark has no raise: use fail("message") to stop with an error`
	hintFStr   = `Starlark has no f-strings: use format(x, spec) or "%s" % x`
	hintClass  = "Starlark has no class: use struct(name=value, ...) for records, and functions for behaviour"
	hintIs     = "Starlark has no is operator: use == or !="
)

// keywordHints maps the message of a parse error at a Python keyword
// (reserved in Starlark) to its hint.
var keywordHints = map[string]string{
	"got import, want primary expression":  hintImport,
	"got from, want primary expression":    hintImport,
	"got try, want primary expression":     hintTry,
	"got except, want primary expression":  hintTry,
	"got finally, want primary expression": hintTry,
	"got raise, want primary expression":   hintRaise,
	"got class, want primary expression":   hintClass,
}

// undefinedHints maps a Python builtin that Starlark lacks to its hint.
var undefinedHints = map[string]string{
	"isinstance": `Starlark has no isinstance: compare type(x) with a name such as "int", "list" or "dict"`,
	"Exception":  hintRaise,
	"ValueError": hintRaise,
	"TypeError":  hintRaise,
	"KeyError":   hintRaise,
	"open":       "engines read files with files.read(path) or files.lines(path), under their data_dir",
}

// fString matches an f-string prefix: f"…", F'…', rf"…", fr'…'.
var fString = regexp.MustCompile(`(^|[^\w])([fF][rR]?|[rR][fF])["']`)

// Explain returns err, reworded when it is a syntax error (syntax.Error)
// or a list of resolve errors (resolve.ErrorList) caused by a Python
// construct that Starlark lacks: ** ("use pow(x, y)"), import and from
// (modules are predeclared), try/except/finally and raise (fail()),
// f-strings (format or %), class (struct), is (==), and a few Python
// builtins such as isinstance. The error keeps its type and its
// file:line:col; only the message changes. Any other error, and nil, is
// returned unchanged. src is the source that was parsed (a string, a
// []byte or a syntax.FilePortion), used to recognise f-strings; it may be
// nil. Explain is safe for concurrent use.
func Explain(src any, err error) error {
	switch e := err.(type) {
	case syntax.Error:
		if hint := syntaxHint(src, e); hint != "" {
			e.Msg = hint
			return e
		}
	case resolve.ErrorList:
		var out resolve.ErrorList
		for i, r := range e {
			name, ok := strings.CutPrefix(r.Msg, "undefined: ")
			word, _, _ := strings.Cut(name, " ")
			hint := undefinedHints[word]
			if !ok || hint == "" {
				continue
			}
			if out == nil {
				out = append(resolve.ErrorList(nil), e...)
			}
			out[i].Msg = "undefined: " + name + ": " + hint
		}
		if out != nil {
			return out
		}
	}
	return err
}

// syntaxHint returns the hint for a syntax error, or "".
func syntaxHint(src any, e syntax.Error) string {
	msg := e.Msg
	switch {
	case strings.HasPrefix(msg, "got '**',"):
		return hintPow
	case keywordHints[msg] != "":
		return keywordHints[msg]
	case strings.HasPrefix(msg, "got is,"):
		return hintIs
	case strings.HasPrefix(msg, "got string literal,"):
		line := sourceLine(src, int(e.Pos.Line))
		if col := int(e.Pos.Col) - 1; col >= 0 && col < len(line) {
			line = line[:col]
		}
		if fString.Match(line) {
			return hintFStr
		}
	}
	return ""
}

// sourceLine returns line n (from 1, as in positions) of src, or nil.
func sourceLine(src any, n int) []byte {
	var text []byte
	first := 1
	switch src := src.(type) {
	case string:
		text = []byte(src)
	case []byte:
		text = src
	case syntax.FilePortion:
		text, first = src.Content, max(int(src.FirstLine), 1)
	}
	lines := bytes.Split(text, []byte("\n"))
	if i := n - first; i >= 0 && i < len(lines) {
		return lines[i]
	}
	return nil
}
