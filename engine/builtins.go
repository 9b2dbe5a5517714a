// This file defines the engine-only predeclared names: the `engine`
// module, and each engine's `comm` (package comm), bound per task.

package engine

import (
	"fmt"
	"os"

	"go.starlark.net/starlark"

	"github.com/pirun-dev/pirun/starlib"
)

// predeclared builds e's predeclared names. Each engine has its own dict
// (its `engine` value differs), and so its own function cache.
func (d *Daemon) predeclared(e *Engine) (starlark.StringDict, error) {
	cv, err := d.comm.Attach(e.ID)
	if err != nil {
		return nil, err
	}
	predecl, err := starlib.Predeclared(starlib.Engine, starlark.StringDict{
		"engine": e.value,
		"files":  d.files,
		"comm":   cv,
	})
	if err == nil {
		predecl["random"] = e.rand.Module() // draws from e.rand with no per-call lookup
	}
	return predecl, err
}

// engineValue is the `engine` module of one engine:
//
//	engine.id        # int: this engine's id, assigned by the hub
//	engine.hostname  # string: the machine's host name
//	engine.pid       # int: the engine process's pid
//	engine.name      # string: the daemon's name from its [engine] settings
//	engine.ns        # dict: the engine's persistent namespace (push, pull, execute)
type engineValue struct{ e *Engine }

var engineAttrs = []string{"hostname", "id", "name", "ns", "pid"}

func (v *engineValue) String() string        { return fmt.Sprintf("<engine %d on %s>", v.e.ID, v.e.d.host) }
func (v *engineValue) Type() string          { return "engine" }
func (v *engineValue) Freeze()               {}
func (v *engineValue) Truth() starlark.Bool  { return true }
func (v *engineValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable: engine") }
func (v *engineValue) AttrNames() []string   { return engineAttrs }

func (v *engineValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "id":
		return starlark.MakeInt(v.e.ID), nil
	case "hostname":
		return starlark.String(v.e.d.host), nil
	case "pid":
		return starlark.MakeInt(os.Getpid()), nil
	case "name":
		return starlark.String(v.e.d.name), nil
	case "ns":
		return v.e.ns, nil
	}
	return nil, nil
}
