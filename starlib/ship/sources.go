// This file defines Sources, the registry of the exact text of every file,
// loaded module and REPL chunk the host runs, with a cache of their parsed
// trees and of the static analysis of the functions they define.

package ship

import (
	"fmt"
	"sync"
	"unicode/utf8"

	"go.starlark.net/resolve"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib"
)

// Sources records the text of every file, load()ed module and REPL chunk
// that the host runs, under a unique name (the filename given to the
// parser, e.g. "job.star", "lib/util.star" or "<stdin:7>"). The host must
// add a text before running it, and must run exactly the bytes it added:
// [Capture] slices a function's source out of the recorded text by the
// positions the interpreter reports.
//
// The zero value is an empty registry ready to use. A Sources is safe for
// concurrent use; it must not be copied after first use.
type Sources struct {
	mu    sync.Mutex
	files map[string]*source
	names nameCache // reverse indexes of predeclared dicts, see names.go
	// predecl names values for functions whose module has no predeclared
	// dict (REPL chunks run with ExecREPLChunk hold them as globals).
	predecl starlark.StringDict
}

// source is one registered text with its lazily built parse and analyses.
type source struct {
	name string
	text string

	once     sync.Once
	err      error                  // parse error
	lines    []int                  // byte offset of the start of each line
	nodes    map[posKey]syntax.Node // *syntax.DefStmt and *syntax.LambdaExpr by keyword position
	resolved bool                   // whether the tree's identifiers carry bindings

	mu       sync.Mutex
	snippets map[posKey]*snippet // static analyses, see snippet.go
}

// posKey packs a 1-based line and rune column.
type posKey uint64

func keyOf(pos syntax.Position) posKey {
	return posKey(uint64(uint32(pos.Line))<<32 | uint64(uint32(pos.Col)))
}

// Add records src as the text of filename. Adding the same text again
// under the same name does nothing; a different text under a name already
// present is an error, because names must be unique (give REPL chunks
// names such as "<stdin:7>"). Add copies src.
func (s *Sources) Add(filename string, src []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.files[filename]; ok {
		if old.text != string(src) {
			return fmt.Errorf("add source %q: a different text is already registered under this name", filename)
		}
		return nil
	}
	if s.files == nil {
		s.files = make(map[string]*source)
	}
	s.files[filename] = &source{name: filename, text: string(src)}
	return nil
}

// SetPredeclared sets the predeclared names to recognise in values of
// functions whose module has none of its own: the REPL runs chunks with
// their predeclared names as globals, and a function that uses math or
// json must still send them as names, not values. Call it before Capture.
func (s *Sources) SetPredeclared(d starlark.StringDict) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.predecl = d
}

// Get returns a copy of the text recorded under filename, and whether
// there is one.
func (s *Sources) Get(filename string) ([]byte, bool) {
	f := s.lookup(filename)
	if f == nil {
		return nil, false
	}
	return []byte(f.text), true
}

// Len returns the number of recorded texts.
func (s *Sources) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

// lookup returns the source recorded under filename, or nil.
func (s *Sources) lookup(filename string) *source {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[filename]
}

// parse parses the text once, indexes its lines and its def and lambda
// nodes, and resolves the tree with every free name counting as
// predeclared, so that the free names of any function can be read off it.
// The tree never leaves the source and is never compiled. If it does not
// resolve (a REPL chunk that relies on LoadBindsGlobally, say), functions
// are analysed by re-parsing their snippets instead.
func (f *source) parse() error {
	f.once.Do(func() {
		tree, err := starlib.FileOptions().Parse(f.name, f.text, 0)
		if err != nil {
			f.err = fmt.Errorf("parse %s: %w", f.name, err)
			return
		}
		always := func(string) bool { return true }
		f.resolved = resolve.File(tree, always, func(string) bool { return false }) == nil
		f.lines = lineStarts(f.text)
		f.nodes = make(map[posKey]syntax.Node)
		syntax.Walk(tree, func(n syntax.Node) bool {
			switch n := n.(type) {
			case *syntax.DefStmt:
				f.nodes[keyOf(n.Def)] = n
			case *syntax.LambdaExpr:
				f.nodes[keyOf(n.Lambda)] = n
			}
			return true
		})
	})
	return f.err
}

// node returns the def or lambda node whose keyword is at pos, or nil.
func (f *source) node(pos syntax.Position) (syntax.Node, error) {
	if err := f.parse(); err != nil {
		return nil, err
	}
	return f.nodes[keyOf(pos)], nil
}

// lineStarts returns the byte offset at which each line of text starts.
// Like the scanner, it ends a line at "\n", "\r\n" or a lone "\r".
func lineStarts(text string) []int {
	lines := []int{0}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				i++
			}
			lines = append(lines, i+1)
		case '\n':
			lines = append(lines, i+1)
		}
	}
	return lines
}

// offset converts a position (1-based line, 1-based rune column, as the
// scanner counts them: one column per rune or invalid byte) to a byte
// offset in the text.
func (f *source) offset(pos syntax.Position) (int, error) {
	if pos.Line < 1 || int(pos.Line) > len(f.lines) || pos.Col < 1 {
		return 0, fmt.Errorf("position %s is outside %s", pos, f.name)
	}
	off := f.lines[pos.Line-1]
	for col := int32(1); col < pos.Col; col++ {
		if off >= len(f.text) || f.text[off] == '\n' || f.text[off] == '\r' {
			return 0, fmt.Errorf("position %s is outside %s", pos, f.name)
		}
		_, size := utf8.DecodeRuneInString(f.text[off:])
		off += size
	}
	return off, nil
}
