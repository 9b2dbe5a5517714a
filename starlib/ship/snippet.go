// This file defines the static analysis of a function: the text of its def
// or lambda with default expressions replaced by placeholders, and the free
// names that text uses. It depends only on the source text, so it is
// computed once per (file, position) and cached in the Sources.

package ship

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib"
)

// placeholderPrefix starts the name that stands for a default value in a
// shipped snippet: def f(x, k = __dflt_k).
const placeholderPrefix = "__dflt_"

// snippet is the static analysis of one def or lambda.
type snippet struct {
	name     string // the def's name, or "lambda"
	lambda   bool
	pos      syntax.Position // the def or lambda keyword
	src      string          // rewritten text, from the keyword to the end
	defaults []placeholder
	free     []freeName // sorted by first use
}

// placeholder binds a parameter's default to a placeholder name.
type placeholder struct {
	param int    // index for Function.ParamDefault
	name  string // placeholderPrefix + parameter name
	pos   syntax.Position
}

// freeName is a name the snippet uses but does not bind.
type freeName struct {
	name string
	pos  syntax.Position // its first use
}

// snippet returns the cached analysis of fn, computing it on first use.
func (s *Sources) snippet(fn *starlark.Function) (*snippet, error) {
	pos := fn.Position()
	f := s.lookup(pos.Filename())
	if f == nil {
		return nil, fmt.Errorf("cannot send %s: its source text is not known "+
			"(functions defined by code that pirun did not run from a file or the REPL, "+
			"such as a Go-built expression, cannot be sent)", fn.Name())
	}
	key := keyOf(pos)
	f.mu.Lock()
	sn := f.snippets[key]
	f.mu.Unlock()
	if sn != nil {
		return sn, nil
	}
	sn, err := analyse(f, fn)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snippets == nil {
		f.snippets = make(map[posKey]*snippet)
	}
	f.snippets[key] = sn
	return sn, nil
}

// analyse computes the snippet of fn from its source.
func analyse(f *source, fn *starlark.Function) (*snippet, error) {
	pos := fn.Position()
	node, err := f.node(pos)
	if err != nil {
		return nil, fmt.Errorf("cannot send %s: %w", fn.Name(), err)
	}
	sn := &snippet{name: fn.Name(), pos: pos}
	var params []syntax.Expr
	switch n := node.(type) {
	case *syntax.DefStmt:
		params = n.Params
	case *syntax.LambdaExpr:
		params, sn.lambda = n.Params, true
	default:
		return nil, fmt.Errorf("cannot send %s: no def or lambda at %s in its recorded source", fn.Name(), pos)
	}
	end := exactEnd(node)
	if err := sn.rewrite(f, end, params, fn); err != nil {
		return nil, fmt.Errorf("cannot send %s: %w", fn.Name(), err)
	}
	if f.resolved {
		sn.free = freeNamesIn(node, end)
	} else if err := sn.findFree(); err != nil {
		return nil, fmt.Errorf("cannot send %s: %w", fn.Name(), err)
	}
	return sn, nil
}

// rewrite sets sn.src to the text of the function, from its keyword to
// endPos, with each default expression among params replaced by a
// placeholder followed by as many newlines as the expression spanned, so
// that the lines of the body keep their numbers.
func (sn *snippet) rewrite(f *source, endPos syntax.Position, params []syntax.Expr, fn *starlark.Function) error {
	start, err := f.offset(sn.pos)
	if err != nil {
		return err
	}
	end, err := f.offset(endPos)
	if err != nil {
		return err
	}
	var b strings.Builder
	at := start
	for _, p := range params {
		bin, ok := p.(*syntax.BinaryExpr)
		if !ok || bin.Op != syntax.EQ {
			continue
		}
		ph, err := newPlaceholder(bin, fn)
		if err != nil {
			return err
		}
		from, err := f.offset(syntax.Start(bin.Y))
		if err != nil {
			return err
		}
		to, err := f.offset(exactEnd(bin.Y))
		if err != nil {
			return err
		}
		b.WriteString(f.text[at:from])
		b.WriteString(ph.name)
		b.WriteString(strings.Repeat("\n", len(lineStarts(f.text[from:to]))-1))
		at = to
		sn.defaults = append(sn.defaults, ph)
	}
	b.WriteString(f.text[at:end])
	sn.src = b.String()
	return nil
}

// newPlaceholder returns the placeholder of the parameter param = default.
func newPlaceholder(param *syntax.BinaryExpr, fn *starlark.Function) (placeholder, error) {
	id, ok := param.X.(*syntax.Ident)
	if !ok {
		return placeholder{}, fmt.Errorf("unexpected parameter at %s", syntax.Start(param))
	}
	for i := 0; i < fn.NumParams(); i++ {
		if name, _ := fn.Param(i); name == id.Name {
			return placeholder{param: i, name: placeholderPrefix + id.Name, pos: id.NamePos}, nil
		}
	}
	return placeholder{}, fmt.Errorf("parameter %s at %s does not match the function", id.Name, id.NamePos)
}

// findFree parses and resolves the rewritten text, every name counting as
// predeclared, and records the names it uses but does not bind, with the
// position of their first use, placeholders excepted. It is the fallback
// for files that do not resolve as a whole (see source.parse).
func (sn *snippet) findFree() error {
	opts := starlib.FileOptions()
	always := func(string) bool { return true }
	never := func(string) bool { return false }
	var root syntax.Node
	if sn.lambda {
		expr, err := opts.ParseExpr(sn.pos.Filename(), lambdaPortion(sn.src, sn.pos.Line, sn.pos.Col), 0)
		if err != nil {
			return err
		}
		if _, err := resolve.ExprOptions(opts, expr, always, never); err != nil {
			return err
		}
		root = expr
	} else {
		file, err := opts.Parse(sn.pos.Filename(), defPortion(sn.src, sn.pos.Line, sn.pos.Col), 0)
		if err != nil {
			return err
		}
		if err := resolve.File(file, always, never); err != nil {
			return err
		}
		root = file
	}
	sn.free = freeNames(root)
	return nil
}

// defPortion returns the source of a def snippet for the parser.
func defPortion(src string, line, col int32) syntax.FilePortion {
	return syntax.FilePortion{Content: []byte(src), FirstLine: line, FirstCol: col}
}

// lambdaPortion returns the source of a lambda snippet for the parser:
// wrapped in parentheses, since a lambda that spans lines is only legal
// inside brackets, and starting one column early so that the lambda keeps
// its column.
func lambdaPortion(src string, line, col int32) syntax.FilePortion {
	return syntax.FilePortion{Content: []byte("(" + src + ")"), FirstLine: line, FirstCol: col - 1}
}

// freeNames returns the names of the resolved snippet root that resolve
// as predeclared (that is, that it does not bind), without placeholders,
// sorted by their first use.
func freeNames(root syntax.Node) []freeName {
	first := make(map[string]syntax.Position)
	syntax.Walk(root, func(n syntax.Node) bool {
		id, ok := n.(*syntax.Ident)
		if !ok {
			return true
		}
		b, ok := id.Binding.(*resolve.Binding)
		if ok && b.Scope == resolve.Predeclared && !strings.HasPrefix(id.Name, placeholderPrefix) {
			firstUse(first, id)
		}
		return true
	})
	return sortFree(first)
}

// freeNamesIn returns the names that the def or lambda node, ending at
// end, uses but does not bind, sorted by their first use. It reads the
// bindings of the whole file, resolved with every name predeclared: a name
// is free if it is global or predeclared, or if it is a local of an
// enclosing function or comprehension, bound outside node. Its parameters'
// defaults are evaluated outside it, so they are skipped; so is a def's
// own name, which its snippet binds.
func freeNamesIn(node syntax.Node, end syntax.Position) []freeName {
	first := make(map[string]syntax.Position)
	var self string
	var body []syntax.Node
	switch n := node.(type) {
	case *syntax.DefStmt:
		self = n.Name.Name
		for _, stmt := range n.Body {
			body = append(body, stmt)
		}
	case *syntax.LambdaExpr:
		body = []syntax.Node{n.Body}
	}
	start := syntax.Start(node)
	visit := func(n syntax.Node) bool {
		id, ok := n.(*syntax.Ident)
		if !ok || id.Name == self {
			return true
		}
		b, ok := id.Binding.(*resolve.Binding)
		if !ok {
			return true
		}
		switch b.Scope {
		case resolve.Local, resolve.Cell, resolve.Free:
			if b.First == nil || !before(b.First.NamePos, start) && before(b.First.NamePos, end) {
				return true // bound inside node
			}
		}
		firstUse(first, id)
		return true
	}
	for _, n := range body {
		syntax.Walk(n, visit)
	}
	return sortFree(first)
}

// firstUse records the use id of a name if it is the first one.
func firstUse(first map[string]syntax.Position, id *syntax.Ident) {
	if p, seen := first[id.Name]; !seen || before(id.NamePos, p) {
		first[id.Name] = id.NamePos
	}
}

// sortFree returns the names of first sorted by their first use.
func sortFree(first map[string]syntax.Position) []freeName {
	free := make([]freeName, 0, len(first))
	for name, pos := range first {
		free = append(free, freeName{name, pos})
	}
	slices.SortFunc(free, func(a, b freeName) int {
		if before(a.pos, b.pos) {
			return -1
		}
		if before(b.pos, a.pos) {
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
	return free
}

// before reports whether p comes before q in the same file.
func before(p, q syntax.Position) bool {
	return p.Line < q.Line || p.Line == q.Line && p.Col < q.Col
}

// exactEnd returns the position just after the last rune of n. Span is not
// enough: for IndexExpr, SliceExpr and parenthesised TupleExpr it ends at
// the closing bracket rather than after it, and a node's end may be set by
// such a descendant.
func exactEnd(n syntax.Node) syntax.Position {
	_, end := n.Span()
	syntax.Walk(n, func(m syntax.Node) bool {
		var e syntax.Position
		switch m := m.(type) {
		case nil:
			return false
		case *syntax.IndexExpr:
			e = m.Rbrack
			e.Col++
		case *syntax.SliceExpr:
			e = m.Rbrack
			e.Col++
		case *syntax.TupleExpr:
			if m.Rparen.IsValid() {
				e = m.Rparen
				e.Col++
			} else {
				_, e = m.Span()
			}
		default:
			_, e = m.Span()
		}
		if before(end, e) {
			end = e
		}
		return true
	})
	return end
}
