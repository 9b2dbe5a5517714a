// This file defines the REPL's tab completion: global names, attributes
// of values reached by a dotted path of globals, keywords and magics.

package repl

import (
	"slices"
	"strings"
	"sync"

	"go.starlark.net/starlark"
)

// keywords are the Starlark keywords a chunk may start with or contain.
var keywords = []string{"and", "break", "continue", "def", "elif", "else", "for", "if", "in", "lambda",
	"load", "not", "or", "pass", "return", "while"}

// completer completes the word before the cursor. Its scope is a copy of
// the globals, replaced before each prompt; it is safe for concurrent use.
type completer struct {
	mu    sync.Mutex
	scope starlark.StringDict
}

func (c *completer) setScope(scope starlark.StringDict) {
	c.mu.Lock()
	c.scope = scope
	c.mu.Unlock()
}

// Do implements readline.AutoCompleter: it returns the candidates' rest
// after the word before pos, and the word's length.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	word := lastWord(head)
	c.mu.Lock()
	scope := c.scope
	c.mu.Unlock()
	prefix, names := word, []string(nil)
	switch {
	case strings.HasPrefix(word, "%") && strings.TrimSpace(head) == word:
		names = magicNames()
	case strings.Contains(word, "."):
		i := strings.LastIndexByte(word, '.')
		prefix, names = word[i+1:], attrNames(scope, word[:i])
	default:
		names = globalNames(scope)
	}
	var out [][]rune
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && n != prefix {
			out = append(out, []rune(n[len(prefix):]))
		}
	}
	return out, len([]rune(prefix))
}

// lastWord returns the dotted name (or %magic) that ends s.
func lastWord(s string) string {
	i := len(s)
	for i > 0 {
		r := rune(s[i-1])
		if !isIdentRune(r) && r != '.' && r != '%' {
			break
		}
		i--
	}
	return s[i:]
}

// globalNames returns the names a chunk can use, sorted.
func globalNames(scope starlark.StringDict) []string {
	names := slices.Concat(scope.Keys(), starlark.Universe.Keys(), keywords)
	slices.Sort(names)
	return slices.Compact(names)
}

// attrNames returns the attributes of the value at a dotted path of
// globals ("c", "lview.map"). It never calls a function.
func attrNames(scope starlark.StringDict, path string) []string {
	parts := strings.Split(path, ".")
	v, ok := scope[parts[0]]
	if !ok {
		v, ok = starlark.Universe[parts[0]]
	}
	for _, p := range parts[1:] {
		if !ok {
			return nil
		}
		v, ok = attr(v, p)
	}
	if !ok {
		return nil
	}
	if h, isAttrs := v.(starlark.HasAttrs); isAttrs {
		return h.AttrNames()
	}
	return nil
}

// attr returns v.name, if v has it.
func attr(v starlark.Value, name string) (starlark.Value, bool) {
	h, ok := v.(starlark.HasAttrs)
	if !ok {
		return nil, false
	}
	x, err := h.Attr(name)
	return x, err == nil && x != nil
}
