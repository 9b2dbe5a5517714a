// This file defines stubs: the values that stand for a name of the other
// side, so that host and engine predeclare the same names and a misplaced
// use fails with a message saying where the name belongs.

package starlib

import (
	"fmt"

	"go.starlark.net/starlark"
)

// stub stands for a host-only or engine-only name where it is not
// available. Calling it, indexing it, testing membership in it or getting
// any attribute fails with where. A stub
// is immutable, hashable (by name), and false in a boolean context, so
// portable code may test `if files: …`.
type stub struct {
	name  string
	side  Side   // the side that defines name
	where string // "is only available …", completing a message about name
}

var (
	_ starlark.Callable  = stub{}
	_ starlark.HasAttrs  = stub{}
	_ starlark.Mapping   = stub{}
	_ starlark.Container = stub{}
)

// wheres completes, for names with a more specific rule than their side's,
// the message "<name> is only available …".
var wheres = map[string]string{
	"comm":   "in SPMD jobs (pirun mpi, or DirectView execute/apply)",
	"engine": "on an engine: use it inside a function you send with apply/map/remote",
}

// sideWheres completes the message for the other names of each side.
var sideWheres = map[Side]string{
	Host:   "on the host (in a script or the REPL), not inside a function running on an engine",
	Engine: "on an engine: call it inside a function you send with apply/map/remote",
}

// Stub returns the stub for a host-only or engine-only name, or nil if
// name is shared, defined by each side, or unknown. Stub is safe for concurrent use, and stubs
// may be shared between threads.
func Stub(name string) starlark.Value {
	side, ok := names[name]
	if !ok || side == Shared || side == Each {
		return nil
	}
	where, ok := wheres[name]
	if !ok {
		where = sideWheres[side]
	}
	return stub{name: name, side: side, where: where}
}

// IsStub reports whether v is a stub returned by [Stub] or placed by
// [Predeclared]. The shipping code uses it to refuse sending stubs.
func IsStub(v starlark.Value) bool {
	_, ok := v.(stub)
	return ok
}

// StubSide reports the name a stub stands for and the side that defines
// that name; ok is false if v is not a stub.
func StubSide(v starlark.Value) (name string, side Side, ok bool) {
	s, ok := v.(stub)
	return s.name, s.side, ok
}

// Name returns the name the stub stands for.
func (s stub) Name() string { return s.name }

// String returns a description such as "<files: engine only>".
func (s stub) String() string { return fmt.Sprintf("<%s: %v only>", s.name, s.side) }

// Type returns "stub".
func (s stub) Type() string { return "stub" }

// Freeze does nothing: a stub is immutable.
func (s stub) Freeze() {}

// Truth returns False: the name is not available here.
func (s stub) Truth() starlark.Bool { return false }

// Hash returns a hash of the name.
func (s stub) Hash() (uint32, error) { return starlark.String(s.name).Hash() }

// CallInternal fails with where the name is available.
func (s stub) CallInternal(*starlark.Thread, starlark.Tuple, []starlark.Tuple) (starlark.Value, error) {
	return nil, fmt.Errorf("%s is only available %s", s.name, s.where)
}

// Attr fails with where the name is available, whatever the attribute.
func (s stub) Attr(attr string) (starlark.Value, error) {
	return nil, fmt.Errorf("%s.%s is only available %s", s.name, attr, s.where)
}

// Get fails with where the name is available, so that indexing (argv[0])
// and membership tests fail alike.
func (s stub) Get(starlark.Value) (starlark.Value, bool, error) {
	return nil, false, fmt.Errorf("%s is only available %s", s.name, s.where)
}

// Has fails with where the name is available, so that `x in argv` fails.
func (s stub) Has(starlark.Value) (bool, error) {
	return false, fmt.Errorf("%s is only available %s", s.name, s.where)
}

// AttrNames returns no names: a stub has no usable attributes.
func (s stub) AttrNames() []string { return nil }
