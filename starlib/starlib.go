// This file defines the dialect, the table of predeclared names and the
// assembly of a side's predeclared dict.

package starlib

import (
	"fmt"
	"slices"
	"strings"

	"go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib/num"
	"github.com/pirun-dev/pirun/starlib/random"
)

// FileOptions returns the pirun dialect: go.starlark.net with set, while,
// top-level control flow, global reassignment and recursion enabled.
// Host and engine must parse, resolve and compile with it (recursion is
// recorded in compiled code, so a mismatch fails only when a shipped
// function recurses). Each call returns a fresh value that the caller may
// modify; it is safe for concurrent use.
func FileOptions() *syntax.FileOptions {
	return &syntax.FileOptions{
		Set:             true,
		While:           true,
		TopLevelControl: true,
		GlobalReassign:  true,
		Recursion:       true,
	}
}

// Side says where a predeclared name is implemented.
type Side uint8

// The sides of a predeclared name.
const (
	Shared Side = iota // defined by starlib, the same on host and engine
	Host               // defined by package host; a stub on engines
	Engine             // defined by package engine; a stub on the host
	Each               // defined by each side its own way (files: out_dir on engines, the script's folder on the host)
)

// String returns "shared", "host" or "engine".
func (s Side) String() string {
	switch s {
	case Shared:
		return "shared"
	case Host:
		return "host"
	case Engine:
		return "engine"
	case Each:
		return "each"
	}
	return fmt.Sprintf("Side(%d)", uint8(s))
}

// names maps every predeclared name that pirun adds to the Universe to its
// side. fail, set and the other Universe builtins are not listed: the
// interpreter provides them everywhere.
var names = map[string]Side{
	"struct": Shared,
	"json":   Shared,
	"math":   Shared,
	"time":   Shared,
	"random": Shared,
	"pow":    Shared,
	"sum":    Shared,
	"round":  Shared,
	"format": Shared,
	"divmod": Shared,
	"num":    Shared,

	"Client":   Host,
	"remote":   Host,
	"parallel": Host,
	"map":      Host,
	"ref":      Host,
	"argv":     Host,
	"wait":     Host,

	"engine": Engine,
	"files":  Each,
	"comm":   Engine,
}

// shared holds the values of the Shared names. They are frozen and
// immutable, so every thread may use the same values.
var shared = newShared()

func newShared() starlark.StringDict {
	d := starlark.StringDict{
		"struct": starlark.NewBuiltin("struct", starlarkstruct.Make),
		"json":   json.Module,
		"math":   mathModule,
		"time":   timeModule,
		"random": random.Module,
		"pow":    starlark.NewBuiltin("pow", pow),
		"sum":    starlark.NewBuiltin("sum", sum),
		"round":  starlark.NewBuiltin("round", round),
		"format": starlark.NewBuiltin("format", format),
		"divmod": starlark.NewBuiltin("divmod", divmod),
		"num":    num.Module,
	}
	d.Freeze()
	return d
}

// Names returns a new map from each name that pirun predeclares (besides
// go.starlark.net's Universe, which includes fail) to its side. It is safe
// for concurrent use.
func Names() map[string]Side {
	m := make(map[string]Side, len(names))
	for name, side := range names {
		m[name] = side
	}
	return m
}

// sideNames returns the sorted names of side.
func sideNames(side Side) []string {
	var list []string
	for name, s := range names {
		if s == side {
			list = append(list, name)
		}
	}
	slices.Sort(list)
	return list
}

// Predeclared returns a new predeclared dict for side (Host or Engine): the
// shared modules, the values of impl, and a stub (see [Stub]) for each name
// of the other side. impl must hold exactly the names of side and of Each, each with a
// non-nil value; otherwise Predeclared reports every missing, nil or
// unexpected name in one error. impl is neither modified nor frozen.
// Predeclared is safe for concurrent use.
func Predeclared(side Side, impl starlark.StringDict) (starlark.StringDict, error) {
	if side != Host && side != Engine {
		return nil, fmt.Errorf("predeclared %v: side must be host or engine", side)
	}
	if err := checkImpl(side, impl); err != nil {
		return nil, err
	}
	d := make(starlark.StringDict, len(names))
	for name, s := range names {
		switch s {
		case Shared:
			d[name] = shared[name]
		case side, Each:
			d[name] = impl[name]
		default:
			d[name] = Stub(name)
		}
	}
	return d, nil
}

// checkImpl reports in one error every name of side that impl lacks or
// maps to nil, and every name in impl that is not a name of side.
func checkImpl(side Side, impl starlark.StringDict) error {
	var missing, null, extra []string
	for _, name := range append(sideNames(side), sideNames(Each)...) {
		v, ok := impl[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case v == nil:
			null = append(null, name)
		}
	}
	for name := range impl {
		if s, ok := names[name]; !ok || s != side && s != Each {
			extra = append(extra, name)
		}
	}
	slices.Sort(extra)
	var problems []string
	for _, p := range []struct {
		what  string
		names []string
	}{{"missing", missing}, {"nil", null}, {"unexpected", extra}} {
		if len(p.names) > 0 {
			problems = append(problems, p.what+" "+quoteAll(p.names))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("predeclared %v: implementation has %s", side, strings.Join(problems, "; "))
	}
	return nil
}

// quoteAll returns the names quoted and separated by commas.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, name := range names {
		q[i] = fmt.Sprintf("%q", name)
	}
	return strings.Join(q, ", ")
}
