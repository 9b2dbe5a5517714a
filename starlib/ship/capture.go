// This file defines Capture, which turns a function on the host into a
// Bundle, and SendError, which explains why a value cannot be sent.

package ship

import (
	"bytes"
	"errors"
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// A SendError reports a value that a function uses but that cannot be sent
// to engines. Its message has the form
//
//	cannot send 'c' (Client) to engines: used by f at job.star:12
//
// followed, when there is more to say, by ": " and Detail.
type SendError struct {
	Name    string          // the free name, or the parameter whose default it is
	Default bool            // whether the value is the default of parameter Name
	Type    string          // the value's type; empty if the name has no value yet
	Func    string          // the function using it: its name, or "lambda"
	Pos     syntax.Position // the first use of Name in Func (the parameter, for a default)
	Detail  string          // why, where inside the value, or what to do; may be empty
}

// Error returns the message described at [SendError].
func (e *SendError) Error() string {
	what := fmt.Sprintf("'%s'", e.Name)
	if e.Default {
		what = "the default value of " + what
	}
	if e.Type != "" {
		what += " (" + e.Type + ")"
	}
	msg := fmt.Sprintf("cannot send %s to engines: used by %s at %s:%d", what, e.Func, e.Pos.Filename(), e.Pos.Line)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// errUnsendable is returned by the encoder's Ref hook for a value that has
// no wire form and no name the engine knows, when its type says it all.
var errUnsendable = errors.New("value cannot be sent")

// Capture captures fn, whose source text and that of every function it
// reaches must be recorded in src, as a Bundle. It reads the current values
// of the names fn uses: closure cells and load() bindings, module globals
// (data is copied; functions are captured the same way, recursively, cycles
// included), the defaults computed when fn was defined, and predeclared and
// Universe builtins and modules, which travel as names the engine resolves.
// A value that cannot be sent fails with a *SendError.
//
// Capture is safe for concurrent use, but it reads fn's module globals and
// closure cells, so the values must not be modified concurrently (they
// never are once frozen).
func Capture(fn *starlark.Function, src *Sources) (*Bundle, error) {
	c := &capturer{src: src, funcIdx: make(map[*starlark.Function]int), scratch: getScratch()}
	defer putScratch(c.scratch)
	c.enc, c.buf = c.scratch.enc, &c.scratch.buf
	c.enc.Ref = c.ref
	c.addFunc(fn)
	for i := 0; i < len(c.pending); i++ {
		if err := c.captureFunc(i); err != nil {
			return nil, err
		}
	}
	c.finish()
	return &c.b, nil
}

// CaptureBytes returns the wire form of Capture(fn, src). It is safe for
// concurrent use under the same conditions as Capture.
func CaptureBytes(fn *starlark.Function, src *Sources) ([]byte, error) {
	b, err := Capture(fn, src)
	if err != nil {
		return nil, err
	}
	return b.Marshal()
}

// capturer holds the state of one Capture.
type capturer struct {
	src     *Sources
	b       Bundle
	pending []*starlark.Function       // pending[i] is b.Funcs[i]
	funcIdx map[*starlark.Function]int // function → index in b.Funcs
	funcRef []int                      // function index → 1 + index in b.Refs, 0 if none yet
	nameRef map[string]int             // dotted name → index in b.Refs
	globals map[*starlark.Module]starlark.StringDict
	scratch *scratch
	buf     *bytes.Buffer      // the encoded values of all bindings, in scratch
	spans   [][2]int           // offsets in buf of each binding value, in order
	enc     *wire.Encoder      // scratch's encoder
	fn      *starlark.Function // the function being captured
	sn      *snippet           // its analysis
	env     []Binding          // its bindings so far
	names   *nameIndex         // its predeclared dict, indexed lazily
}

// addFunc returns the index of fn in the function table, adding it (to be
// captured later) if needed.
func (c *capturer) addFunc(fn *starlark.Function) int {
	if i, ok := c.funcIdx[fn]; ok {
		return i
	}
	i := len(c.pending)
	c.funcIdx[fn] = i
	c.pending = append(c.pending, fn)
	c.funcRef = append(c.funcRef, 0)
	c.b.Funcs = append(c.b.Funcs, Func{})
	return i
}

// captureFunc fills b.Funcs[i] from the analysis and values of pending[i].
func (c *capturer) captureFunc(i int) error {
	fn := c.pending[i]
	sn, err := c.src.snippet(fn)
	if err != nil {
		return err
	}
	c.fn, c.sn, c.names = fn, sn, nil
	c.env = make([]Binding, 0, len(sn.defaults)+len(sn.free))
	for _, p := range sn.defaults {
		u := use{name: p.name[len(placeholderPrefix):], dflt: true, pos: p.pos}
		if err := c.bind(p.name, fn.ParamDefault(p.param), u); err != nil {
			return err
		}
	}
	for _, free := range sn.free {
		if err := c.bindFree(free); err != nil {
			return err
		}
	}
	// The Ref hook may have grown b.Funcs: index it only now.
	c.b.Funcs[i] = Func{Name: sn.name, Lambda: sn.lambda, File: sn.pos.Filename(),
		Line: sn.pos.Line, Col: sn.pos.Col, Src: sn.src, Env: c.env}
	return nil
}

// use says which name of the current function a value is bound to, for
// error messages.
type use struct {
	name string          // the free name, or the parameter of a default
	dflt bool            // whether the value is the default of parameter name
	pos  syntax.Position // first use, or the parameter
}

// fail returns the SendError for value v of u in the current function.
func (c *capturer) fail(u use, v starlark.Value, detail string) error {
	e := &SendError{Name: u.name, Default: u.dflt, Func: c.sn.name, Pos: u.pos, Detail: detail}
	if v != nil {
		e.Type = v.Type()
	}
	return e
}

// bindFree looks up a free name the way the interpreter would, and adds
// its binding unless the engine supplies it by itself (Universe names).
func (c *capturer) bindFree(free freeName) error {
	fn, u := c.fn, use{name: free.name, pos: free.pos}
	for j := range fn.NumFreeVars() {
		if b, v := fn.FreeVar(j); b.Name == free.name {
			return c.bind(free.name, v, u)
		}
	}
	if v, ok := c.globalsOf(fn.Module())[free.name]; ok {
		return c.bind(free.name, v, u)
	}
	if v, ok := fn.Module().Predeclared()[free.name]; ok {
		return c.bindPredeclared(v, u)
	}
	if starlark.Universe.Has(free.name) {
		return nil
	}
	return c.fail(u, nil, c.noValue())
}

// noValue is the detail for a name with no value.
func (c *capturer) noValue() string {
	return "it has no value yet (assign it before sending " + c.sn.name + ")"
}

// globalsOf returns the current globals of a module, read once per Capture.
func (c *capturer) globalsOf(m *starlark.Module) starlark.StringDict {
	if g, ok := c.globals[m]; ok {
		return g
	}
	if c.globals == nil {
		c.globals = make(map[*starlark.Module]starlark.StringDict)
	}
	g := m.Globals()
	c.globals[m] = g
	return g
}

// bindPredeclared binds a predeclared name used directly: a reference the
// engine resolves, unless the name exists only on the host.
func (c *capturer) bindPredeclared(v starlark.Value, u use) error {
	if !c.src.names.known(u.name) && !starlark.Universe.Has(u.name) {
		// Not a name pirun predeclares: a value a rebuilt function was
		// given as its module's predeclared (a pulled function's K),
		// sent again the way it came, by value.
		return c.bind(u.name, v, u)
	}
	if c.src.names.side(u.name) == starlib.Host && !starlib.IsStub(v) {
		if isData(v) { // argv: host data travels by value
			return c.bind(u.name, v, u)
		}
		return c.fail(u, v, u.name+" is only available on the host")
	}
	return c.bindEncoded(u.name, func() error { return c.encodeRef(c.addName(u.name)) })
}

// bind adds the binding name = v.
func (c *capturer) bind(name string, v starlark.Value, u use) error {
	if v == nil {
		return c.fail(u, nil, c.noValue())
	}
	if !isData(v) {
		if _, err := c.ref(v); err == errUnsendable {
			return c.fail(u, v, "")
		} else if err != nil {
			return c.fail(u, v, err.Error())
		}
	}
	if err := c.bindEncoded(name, func() error { return c.enc.Encode(v) }); err != nil {
		return c.fail(u, v, nestedDetail(err))
	}
	return nil
}

// bindEncoded adds a binding whose value write encodes, recording where its
// bytes are in c.buf.
func (c *capturer) bindEncoded(name string, write func() error) error {
	start := c.buf.Len()
	err := write()
	if err == nil {
		err = c.enc.Flush()
	}
	if err != nil {
		c.enc.Reset(c.buf)
		c.buf.Truncate(start)
		return err
	}
	c.spans = append(c.spans, [2]int{start, c.buf.Len()})
	c.env = append(c.env, Binding{Name: name})
	return nil
}

// encodeRef writes a bare reference to entry i of the reference table.
func (c *capturer) encodeRef(i int) error { return c.enc.Encode(refValue(i)) }

// refValue is a value with no wire form, standing for reference i.
type refValue int

func (refValue) String() string        { return "<ref>" }
func (refValue) Type() string          { return "ref" }
func (refValue) Freeze()               {}
func (refValue) Truth() starlark.Bool  { return true }
func (refValue) Hash() (uint32, error) { return 0, nil }

// ref is the encoder's Ref hook: it returns the reference-table index of a
// function, or of a builtin or module the engine can resolve by name.
func (c *capturer) ref(v starlark.Value) (uint64, error) {
	switch v := v.(type) {
	case refValue:
		return uint64(v), nil
	case *starlark.Function:
		return uint64(c.refFunc(c.addFunc(v))), nil
	case *starlark.Builtin:
		if v.Receiver() != nil {
			if name, ok := c.index().methodName(v); ok {
				return uint64(c.addName(name)), nil
			}
			return 0, unsendable("it is a bound method (a method of a " + v.Receiver().Type() + "); send the " + v.Receiver().Type() + " and call the method inside the function")
		}
	}
	if name, ok := c.nameOf(v); ok {
		return uint64(c.addName(name)), nil
	}
	if name, side, ok := starlib.StubSide(v); ok && side != starlib.Host {
		return uint64(c.addName(name)), nil
	}
	if name, ok := c.hostName(v); ok {
		return 0, unsendable(name + " is only available on the host")
	}
	return 0, unsendable("")
}

// hostName returns the host-only predeclared name that holds v.
func (c *capturer) hostName(v starlark.Value) (string, bool) {
	if name, side, ok := starlib.StubSide(v); ok && side == starlib.Host {
		return name, true
	}
	if !hashable(v) {
		return "", false
	}
	name, ok := c.index().hostly[v]
	return name, ok
}

// unsendable returns the Ref hook's error: why a value cannot be sent, or
// errUnsendable when its type says it all.
func unsendable(why string) error {
	if why == "" {
		return errUnsendable
	}
	return errors.New(why)
}

// nestedDetail returns the detail of a SendError for an encoding error:
// where inside the value the unsendable value is, in the notation of
// package wire (`cannot send builtin_function_or_method value at ["k"]`).
func nestedDetail(err error) string {
	var ue *wire.UnsendableError
	if !errors.As(err, &ue) {
		return err.Error()
	}
	msg := "cannot send " + ue.Value.Type() + " value"
	if p := ue.Path(); p != "" {
		msg += " at " + p
	}
	return msg
}

// nameOf returns the predeclared or Universe name that holds v.
func (c *capturer) nameOf(v starlark.Value) (string, bool) {
	if name, ok := c.index().name(v); ok {
		return name, true
	}
	return universeIndex().name(v)
}

// index returns the name index of the current function's predeclared dict.
func (c *capturer) index() *nameIndex {
	if c.names == nil {
		dict := c.fn.Module().Predeclared()
		if len(dict) == 0 {
			c.src.mu.Lock()
			dict = c.src.predecl
			c.src.mu.Unlock()
		}
		c.names = c.src.names.index(dict)
	}
	return c.names
}

// refFunc returns the reference index of function i.
func (c *capturer) refFunc(i int) int {
	if r := c.funcRef[i]; r > 0 {
		return r - 1
	}
	c.b.Refs = append(c.b.Refs, Ref{Func: i})
	c.funcRef[i] = len(c.b.Refs)
	return len(c.b.Refs) - 1
}

// addName returns the reference index of a dotted name.
func (c *capturer) addName(name string) int {
	if i, ok := c.nameRef[name]; ok {
		return i
	}
	if c.nameRef == nil {
		c.nameRef = make(map[string]int)
	}
	c.b.Refs = append(c.b.Refs, Ref{Name: name})
	c.nameRef[name] = len(c.b.Refs) - 1
	return len(c.b.Refs) - 1
}

// finish copies the encoded values out of the scratch buffer and points
// each binding at its bytes.
func (c *capturer) finish() {
	data := bytes.Clone(c.buf.Bytes())
	k := 0
	for i := range c.b.Funcs {
		env := c.b.Funcs[i].Env
		for j := range env {
			s := c.spans[k]
			env[j].Value = data[s[0]:s[1]:s[1]]
			k++
		}
	}
}

// isData reports whether v is plain data that the codec encodes by value.
func isData(v starlark.Value) bool {
	switch v.(type) {
	case starlark.NoneType, starlark.Bool, starlark.Int, starlark.Float,
		starlark.String, starlark.Bytes, *starlark.List, starlark.Tuple,
		*starlark.Dict, *starlark.Set, *starlarkstruct.Struct, wire.Array:
		return true
	}
	return false
}
