// This file defines Methods, the one way pirun's Starlark types build
// their Attr and AttrNames from a method table (go.starlark.net's
// builtinAttr and builtinAttrNames).

package starlib

import (
	"slices"

	"go.starlark.net/starlark"
)

// Method is a method of Starlark values of type T: Attr binds it to its
// receiver, which it gets as recv.
type Method[T starlark.Value] func(recv T, thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// Methods is a Starlark type's method table: builtins by name.
type Methods map[string]*starlark.Builtin

// NewMethods builds the method table of the Starlark type typeName from
// fns; each builtin is registered as "typeName.name", so that its errors
// say where they came from.
func NewMethods[T starlark.Value](typeName string, fns map[string]Method[T]) Methods {
	m := make(Methods, len(fns))
	for name, f := range fns {
		m[name] = starlark.NewBuiltin(typeName+"."+name, func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
			return f(b.Receiver().(T), thread, b, args, kwargs)
		})
	}
	return m
}

// Attr returns method name bound to recv, or nil, nil when the table has
// no such method.
func (m Methods) Attr(recv starlark.Value, name string) (starlark.Value, error) {
	b := m[name]
	if b == nil {
		return nil, nil
	}
	return b.BindReceiver(recv), nil
}

// Names returns the names of the methods and of fields, sorted: what
// AttrNames returns.
func (m Methods) Names(fields ...string) []string {
	names := slices.Clone(fields)
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
