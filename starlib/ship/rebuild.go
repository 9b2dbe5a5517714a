// This file defines Rebuild, which turns a bundle back into a callable,
// frozen function on an engine.

package ship

import (
	"errors"
	"fmt"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"

	"github.com/pirun-dev/pirun/starlib"
	"github.com/pirun-dev/pirun/starlib/wire"
)

// initSteps bounds the work of defining one function (its defaults are
// placeholders, so a handful of steps suffices).
const initSteps = 1000

// Rebuild decodes a bundle and compiles its functions, each as a tiny
// module of its own whose positions are those of the user's file, so that
// backtraces name the user's file and line. Names a bundle refers to
// ("json", "math.sqrt") are resolved in predeclared and then in
// starlark.Universe; predeclared itself is neither modified nor retained.
//
// The result and everything it reaches are frozen, so it may be called
// from several goroutines at once, each with its own thread; a function
// that mutates a captured value fails with a "frozen" error, as it would
// on the host once the script's globals are frozen. Malformed data gives
// an error, never a panic. Rebuild is safe for concurrent use.
func Rebuild(data []byte, predeclared starlark.StringDict) (*starlark.Function, error) {
	b, err := Unmarshal(data)
	if err != nil {
		return nil, err
	}
	return b.Rebuild(predeclared)
}

// Rebuild compiles the functions of b; see the function [Rebuild].
func (b *Bundle) Rebuild(predeclared starlark.StringDict) (*starlark.Function, error) {
	r := &rebuilder{
		b:           b,
		predeclared: predeclared,
		funcs:       make([]*starlark.Function, len(b.Funcs)),
		state:       make([]uint8, len(b.Funcs)),
		envs:        make([]starlark.StringDict, len(b.Funcs)),
		refs:        make([]starlark.Value, len(b.Refs)),
		thread:      &starlark.Thread{Name: "ship.Rebuild", Print: func(*starlark.Thread, string) {}},
	}
	for i := range b.Funcs {
		if err := r.create(i); err != nil {
			return nil, err
		}
	}
	if err := r.bindRest(); err != nil {
		return nil, err
	}
	for i, env := range r.envs {
		env.Freeze()
		r.funcs[i].Freeze()
	}
	return r.funcs[0], nil
}

// rebuilder holds the state of one Rebuild.
type rebuilder struct {
	b           *Bundle
	predeclared starlark.StringDict
	funcs       []*starlark.Function
	state       []uint8 // of each function: unborn, creating or created
	envs        []starlark.StringDict
	refs        []starlark.Value // resolved references, nil until needed
	thread      *starlark.Thread
}

const (
	unborn = iota
	creating
	created
)

// create compiles function i and defines it, decoding first the default
// values it needs (creating the functions they refer to).
func (r *rebuilder) create(i int) error {
	switch r.state[i] {
	case created:
		return nil
	case creating:
		return fmt.Errorf("rebuild %s: a default value refers to the function being defined", r.b.Funcs[i].Name)
	}
	r.state[i] = creating
	f := &r.b.Funcs[i]
	env := make(starlark.StringDict, len(f.Env))
	for _, v := range f.Env {
		env[v.Name] = starlark.None // rebound below or in bindRest
	}
	r.envs[i] = env
	for _, v := range f.Env {
		if isPlaceholder(v.Name) {
			if err := r.decodeInto(env, f, v); err != nil {
				return err
			}
		}
	}
	fn, err := r.define(f, env)
	if err != nil {
		return fmt.Errorf("rebuild %s at %s:%d: %w", f.Name, f.File, f.Line, err)
	}
	r.funcs[i], r.state[i] = fn, created
	return nil
}

// bindRest decodes the values that are not defaults, now that every
// function exists; the modules read them at call time (late binding).
func (r *rebuilder) bindRest() error {
	for i := range r.b.Funcs {
		f := &r.b.Funcs[i]
		for _, v := range f.Env {
			if !isPlaceholder(v.Name) {
				if err := r.decodeInto(r.envs[i], f, v); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// decodeInto decodes the value of binding v of f into env.
func (r *rebuilder) decodeInto(env starlark.StringDict, f *Func, v Binding) error {
	d := wire.NewBytesDecoder(v.Value)
	d.Ref = r.ref
	x, err := d.Decode()
	if err == nil {
		err = expectEnd(d)
	}
	if err != nil {
		return fmt.Errorf("rebuild %s: value of %s: %w", f.Name, v.Name, err)
	}
	env[v.Name] = x
	return nil
}

// ref is the decoder's Ref hook: it resolves entry i of the reference
// table, creating a function if needed.
func (r *rebuilder) ref(i uint64) (starlark.Value, error) {
	if i >= uint64(len(r.refs)) {
		return nil, fmt.Errorf("reference %d out of range", i)
	}
	if v := r.refs[i]; v != nil {
		return v, nil
	}
	ref := r.b.Refs[i]
	if ref.Name == "" {
		if err := r.create(ref.Func); err != nil {
			return nil, err
		}
		r.refs[i] = r.funcs[ref.Func]
		return r.refs[i], nil
	}
	v, err := r.resolve(ref.Name)
	if err != nil {
		return nil, err
	}
	r.refs[i] = v
	return v, nil
}

// resolve returns the value of a dotted name: a predeclared or Universe
// name, then attributes.
func (r *rebuilder) resolve(dotted string) (starlark.Value, error) {
	name, attrs, _ := strings.Cut(dotted, ".")
	v, ok := r.predeclared[name]
	if !ok {
		v, ok = starlark.Universe[name]
	}
	if !ok || v == nil {
		return nil, fmt.Errorf("the function needs %q, which this engine does not provide (is it running an older pirun?)", name)
	}
	for attrs != "" {
		var attr string
		attr, attrs, _ = strings.Cut(attrs, ".")
		x, ok := v.(starlark.HasAttrs)
		if !ok {
			return nil, fmt.Errorf("the function needs %q, which this engine does not provide", dotted)
		}
		a, err := x.Attr(attr)
		if err != nil || a == nil {
			return nil, fmt.Errorf("the function needs %q, which this engine does not provide", dotted)
		}
		v = a
	}
	return v, nil
}

// define compiles f in the module environment env and returns the
// function it defines.
func (r *rebuilder) define(f *Func, env starlark.StringDict) (*starlark.Function, error) {
	opts := starlib.FileOptions()
	r.thread.SetMaxExecutionSteps(r.thread.ExecutionSteps() + initSteps)
	if f.Lambda {
		expr, err := opts.ParseExpr(f.File, lambdaPortion(f.Src, f.Line, f.Col), 0)
		if err != nil {
			return nil, err
		}
		if err := checkLambda(expr); err != nil {
			return nil, err
		}
		v, err := starlark.EvalExprOptions(opts, r.thread, expr, env)
		if err != nil {
			return nil, err
		}
		return asFunction(v)
	}
	file, err := opts.Parse(f.File, defPortion(f.Src, f.Line, f.Col), 0)
	if err != nil {
		return nil, err
	}
	if err := checkDef(file, f.Name); err != nil {
		return nil, err
	}
	prog, err := starlark.FileProgram(file, env.Has)
	if err != nil {
		return nil, err
	}
	globals, err := prog.Init(r.thread, env)
	if err != nil {
		return nil, err
	}
	return asFunction(globals[f.Name])
}

// asFunction returns v as a Starlark function.
func asFunction(v starlark.Value) (*starlark.Function, error) {
	fn, ok := v.(*starlark.Function)
	if !ok {
		return nil, errors.New("source does not define a function")
	}
	return fn, nil
}

// checkDef checks that file is exactly one def statement named name whose
// defaults are placeholders, so that defining it runs no user code.
func checkDef(file *syntax.File, name string) error {
	if len(file.Stmts) != 1 {
		return errors.New("source is not a single def statement")
	}
	def, ok := file.Stmts[0].(*syntax.DefStmt)
	if !ok || def.Name.Name != name {
		return fmt.Errorf("source is not the def statement of %s", name)
	}
	return checkParams(def.Params)
}

// checkLambda checks that expr is a parenthesised lambda whose defaults
// are placeholders.
func checkLambda(expr syntax.Expr) error {
	paren, ok := expr.(*syntax.ParenExpr)
	if !ok {
		return errors.New("source is not a lambda expression")
	}
	lambda, ok := paren.X.(*syntax.LambdaExpr)
	if !ok {
		return errors.New("source is not a lambda expression")
	}
	return checkParams(lambda.Params)
}

// checkParams checks that every default is its parameter's placeholder.
func checkParams(params []syntax.Expr) error {
	for _, p := range params {
		bin, ok := p.(*syntax.BinaryExpr)
		if !ok {
			continue
		}
		param, ok1 := bin.X.(*syntax.Ident)
		dflt, ok2 := bin.Y.(*syntax.Ident)
		if !ok1 || !ok2 || dflt.Name != placeholderPrefix+param.Name {
			return fmt.Errorf("default of a parameter at %s is not a placeholder", syntax.Start(p))
		}
	}
	return nil
}

// isPlaceholder reports whether a binding holds a default value.
func isPlaceholder(name string) bool { return strings.HasPrefix(name, placeholderPrefix) }
