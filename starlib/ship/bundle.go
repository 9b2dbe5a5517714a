// This file defines Bundle, the captured form of a function, and its wire
// format (see the package documentation), and Hash, the content key under
// which engines cache rebuilt functions.

package ship

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib/wire"
)

// FormatVersion is the version of the bundle format written by
// [Bundle.Marshal]; [Unmarshal] rejects any other.
const FormatVersion = 1

// A Bundle is a captured function: the source of the function and of every
// function it reaches, with the values they read.
//
// A Bundle made by [Capture] or [Unmarshal] is not modified afterwards and
// may be read from several goroutines.
type Bundle struct {
	// Funcs lists the functions; Funcs[0] is the captured one.
	Funcs []Func
	// Refs is the reference table: the functions and names that encoded
	// values refer to by index.
	Refs []Ref
}

// A Func is one function of a bundle.
type Func struct {
	Name   string // the def's name, or "lambda"
	Lambda bool   // whether Src is a lambda expression rather than a def
	File   string // the user's file name, as recorded in Sources
	Line   int32  // 1-based line of the def or lambda keyword
	Col    int32  // 1-based rune column of the keyword
	Src    string // the text from the keyword on, defaults replaced by placeholders
	Env    []Binding
}

// A Binding gives a free name of a function its value.
type Binding struct {
	Name string
	// Value is the wire encoding of the value. Functions, builtins and
	// modules inside it are encoded as indexes into Bundle.Refs.
	Value []byte
}

// A Ref is an entry of the reference table: a function of the bundle if
// Name is empty, else a predeclared or Universe value the engine resolves
// by its dotted name ("json", "math.sqrt", "len").
type Ref struct {
	Func int // index into Bundle.Funcs when Name is empty
	Name string
}

// ref kinds on the wire.
const (
	refFunc = 0
	refName = 1
)

// Marshal returns the wire form of b. It is safe to call concurrently.
func (b *Bundle) Marshal() ([]byte, error) {
	s := getScratch()
	defer putScratch(s)
	e := s.enc
	e.EncodeArrayHead(3)
	e.EncodeUint(FormatVersion)
	e.EncodeArrayHead(len(b.Funcs))
	for i := range b.Funcs {
		b.Funcs[i].encode(e)
	}
	e.EncodeArrayHead(len(b.Refs))
	for _, r := range b.Refs {
		e.EncodeArrayHead(2)
		if r.Name == "" {
			e.EncodeUint(refFunc)
			e.EncodeUint(uint64(r.Func))
		} else {
			e.EncodeUint(refName)
			e.EncodeString(r.Name)
		}
	}
	if err := e.Flush(); err != nil {
		return nil, fmt.Errorf("marshal bundle: %w", err)
	}
	return bytes.Clone(s.buf.Bytes()), nil
}

// scratch is a reusable encoder with its output buffer.
type scratch struct {
	buf bytes.Buffer
	enc *wire.Encoder
}

// maxScratch bounds the buffer of a scratch kept for reuse.
const maxScratch = 1 << 20

var scratchPool = sync.Pool{New: func() any {
	s := new(scratch)
	s.enc = wire.NewEncoder(&s.buf)
	return s
}}

// getScratch returns an empty scratch.
func getScratch() *scratch {
	s := scratchPool.Get().(*scratch)
	s.buf.Reset()
	s.enc.Reset(&s.buf)
	return s
}

// putScratch returns s for reuse unless it grew large.
func putScratch(s *scratch) {
	s.enc.Ref = nil
	if s.buf.Cap() <= maxScratch {
		scratchPool.Put(s)
	}
}

// encode writes f as [name, kind, file, line, col, src, [[name, value]…]].
func (f *Func) encode(e *wire.Encoder) {
	e.EncodeArrayHead(7)
	e.EncodeString(f.Name)
	if f.Lambda {
		e.EncodeUint(1)
	} else {
		e.EncodeUint(0)
	}
	e.EncodeString(f.File)
	e.EncodeUint(uint64(f.Line))
	e.EncodeUint(uint64(f.Col))
	e.EncodeString(f.Src)
	e.EncodeArrayHead(len(f.Env))
	for _, v := range f.Env {
		e.EncodeArrayHead(2)
		e.EncodeString(v.Name)
		e.EncodeBytes(v.Value)
	}
}

// Unmarshal decodes and checks the wire form of a bundle. Malformed input
// gives an error. It does not compile anything, and it is safe for
// concurrent use.
func Unmarshal(data []byte) (*Bundle, error) {
	d := wire.NewBytesDecoder(data)
	b, err := decodeBundle(d)
	if err == nil {
		err = expectEnd(d)
	}
	if err != nil {
		return nil, fmt.Errorf("unmarshal bundle: %w", err)
	}
	if err := b.check(); err != nil {
		return nil, fmt.Errorf("unmarshal bundle: %w", err)
	}
	return b, nil
}

// decodeBundle reads [version, [func…], [ref…]].
func decodeBundle(d *wire.Decoder) (*Bundle, error) {
	if err := expectArray(d, 3); err != nil {
		return nil, err
	}
	v, err := d.DecodeUint()
	if err != nil {
		return nil, err
	}
	if v != FormatVersion {
		return nil, fmt.Errorf("bundle format version %d, want %d (host and engine run different pirun versions)", v, FormatVersion)
	}
	n, err := d.DecodeArrayHead()
	if err != nil {
		return nil, err
	}
	b := &Bundle{Funcs: make([]Func, 0, min(n, 64))}
	for range n {
		f, err := decodeFunc(d)
		if err != nil {
			return nil, err
		}
		b.Funcs = append(b.Funcs, f)
	}
	if b.Refs, err = decodeRefs(d); err != nil {
		return nil, err
	}
	return b, nil
}

// decodeFunc reads one function record.
func decodeFunc(d *wire.Decoder) (f Func, err error) {
	if err := expectArray(d, 7); err != nil {
		return f, err
	}
	if f.Name, err = d.DecodeString(); err != nil {
		return f, err
	}
	kind, err := d.DecodeUint()
	if err != nil {
		return f, err
	}
	if kind > 1 {
		return f, fmt.Errorf("function %q: unknown kind %d", f.Name, kind)
	}
	f.Lambda = kind == 1
	if f.File, err = d.DecodeString(); err != nil {
		return f, err
	}
	if f.Line, err = decodeInt32(d); err != nil {
		return f, err
	}
	if f.Col, err = decodeInt32(d); err != nil {
		return f, err
	}
	if f.Src, err = d.DecodeString(); err != nil {
		return f, err
	}
	f.Env, err = decodeEnv(d)
	return f, err
}

// decodeEnv reads [[name, value]…].
func decodeEnv(d *wire.Decoder) ([]Binding, error) {
	n, err := d.DecodeArrayHead()
	if err != nil {
		return nil, err
	}
	env := make([]Binding, 0, min(n, 64))
	for range n {
		if err := expectArray(d, 2); err != nil {
			return nil, err
		}
		var v Binding
		if v.Name, err = d.DecodeString(); err != nil {
			return nil, err
		}
		if v.Value, err = d.DecodeBytes(); err != nil {
			return nil, err
		}
		env = append(env, v)
	}
	return env, nil
}

// decodeRefs reads [[kind, func index | name]…].
func decodeRefs(d *wire.Decoder) ([]Ref, error) {
	n, err := d.DecodeArrayHead()
	if err != nil {
		return nil, err
	}
	refs := make([]Ref, 0, min(n, 64))
	for range n {
		if err := expectArray(d, 2); err != nil {
			return nil, err
		}
		kind, err := d.DecodeUint()
		if err != nil {
			return nil, err
		}
		var r Ref
		switch kind {
		case refFunc:
			i, err := d.DecodeUint()
			if err != nil {
				return nil, err
			}
			r.Func = int(min(i, math.MaxInt32))
		case refName:
			if r.Name, err = d.DecodeString(); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("reference %d: unknown kind %d", len(refs), kind)
		}
		refs = append(refs, r)
	}
	return refs, nil
}

// expectArray reads an array head and checks its length.
func expectArray(d *wire.Decoder, n int) error {
	got, err := d.DecodeArrayHead()
	if err != nil {
		return err
	}
	if got != n {
		return fmt.Errorf("array of %d items, want %d", got, n)
	}
	return nil
}

// expectEnd checks that the input holds nothing more.
func expectEnd(d *wire.Decoder) error {
	switch err := d.Skip(); err {
	case io.EOF:
		return nil
	case nil:
		return errors.New("trailing data")
	default:
		return err
	}
}

// decodeInt32 reads a line or column number.
func decodeInt32(d *wire.Decoder) (int32, error) {
	u, err := d.DecodeUint()
	if err != nil {
		return 0, err
	}
	if u < 1 || u > math.MaxInt32/2 {
		return 0, fmt.Errorf("line or column %d out of range", u)
	}
	return int32(u), nil
}

// check validates what the decoder cannot: the table indexes.
func (b *Bundle) check() error {
	if len(b.Funcs) == 0 {
		return errors.New("no functions")
	}
	for i, r := range b.Refs {
		if r.Name == "" && (r.Func < 0 || r.Func >= len(b.Funcs)) {
			return fmt.Errorf("reference %d: function %d out of range", i, r.Func)
		}
	}
	return nil
}

// A Key is the content hash of a bundle, see [Hash].
type Key [sha256.Size]byte

// String returns the key in hexadecimal.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// Hash returns the SHA-256 of starlark.CompilerVersion followed by data: a
// rebuilt function depends on the bytes of its bundle and on the compiler
// that compiles them, and engines may run a different go.starlark.net than
// the host. It is safe for concurrent use.
func Hash(data []byte) Key {
	var version [8]byte
	binary.BigEndian.PutUint64(version[:], uint64(starlark.CompilerVersion))
	h := sha256.New()
	h.Write(version[:])
	h.Write(data)
	var k Key
	h.Sum(k[:0])
	return k
}
