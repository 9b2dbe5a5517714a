// This file defines the ndarray's attributes (shape, ndim, size, dtype, T)
// and its own methods (reshape, copy, astype, tolist, flatten, ravel,
// round, clip, fill, item).

package num

import (
	"fmt"
	"slices"
	"sort"

	"go.starlark.net/starlark"
)

var _ starlark.HasAttrs = (*Array)(nil)

// fields are the ndarray's attributes that are not methods.
var fields = map[string]func(a *Array) starlark.Value{
	"shape": func(a *Array) starlark.Value {
		t := make(starlark.Tuple, len(a.shape))
		for k, d := range a.shape {
			t[k] = starlark.MakeInt(d)
		}
		return t
	},
	"ndim":     func(a *Array) starlark.Value { return starlark.MakeInt(len(a.shape)) },
	"size":     func(a *Array) starlark.Value { return starlark.MakeInt(a.Size()) },
	"dtype":    func(a *Array) starlark.Value { return starlark.String(a.dtype.String()) },
	"itemsize": func(a *Array) starlark.Value { return starlark.MakeInt(a.dtype.ItemSize()) },
	"nbytes":   func(a *Array) starlark.Value { return starlark.MakeInt(a.Size() * a.dtype.ItemSize()) },
	"T":        func(a *Array) starlark.Value { return a.transpose() },
}

// coreMethods are the ndarray methods defined here; computeMethods add the
// reductions and sorting.
var coreMethods = map[string]builtinFunc{
	"reshape": reshapeMethod,
	"copy":    copyMethod,
	"astype":  astypeMethod,
	"tolist":  tolistMethod,
	"flatten": flattenMethod,
	"ravel":   ravelMethod,
	"round":   roundFn,
	"clip":    clipFn,
	"fill":    fillMethod,
	"item":    itemMethod,
}

// methods is the ndarray's method table: coreMethods and computeMethods,
// each a builtin named "ndarray.NAME".
var methods = buildMethods()

// attrNames is the sorted list of the ndarray's attributes.
var attrNames = buildAttrNames()

func buildMethods() map[string]*starlark.Builtin {
	m := make(map[string]*starlark.Builtin)
	for name, f := range computeMethods {
		m[name] = starlark.NewBuiltin("ndarray."+name, bindingResults(f))
	}
	for name, f := range coreMethods {
		m[name] = starlark.NewBuiltin("ndarray."+name, f)
	}
	return m
}

func buildAttrNames() []string {
	var names []string
	for name := range fields {
		names = append(names, name)
	}
	for name := range methods {
		names = append(names, name)
	}
	sort.Strings(names)
	return slices.Compact(names)
}

// Attr implements starlark.HasAttrs.
func (a *Array) Attr(name string) (starlark.Value, error) {
	if f, ok := fields[name]; ok {
		return f(a), nil
	}
	if m, ok := methods[name]; ok {
		return m.BindReceiver(a), nil
	}
	return nil, nil
}

// AttrNames implements starlark.HasAttrs.
func (a *Array) AttrNames() []string { return attrNames }

// transpose returns a's transpose, a view (a itself as a view for 1-D).
func (a *Array) transpose() *Array {
	t := &Array{dtype: a.dtype, shape: slices.Clone(a.shape), strides: slices.Clone(a.strides), offset: a.offset, buf: a.buf, th: a.th}
	slices.Reverse(t.shape)
	slices.Reverse(t.strides)
	return t
}

// recv returns b's receiver, the array of a method call.
func recv(b *starlark.Builtin) *Array { return b.Receiver().(*Array) }

// reshapeMethod is a.reshape(r, c), a.reshape((r, c)), with one -1.
func reshapeMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: takes the new shape only, as a.reshape(r, c) or a.reshape((r, c))", b.Name())
	}
	var dims starlark.Value = args
	if len(args) == 1 {
		dims = args[0]
	}
	if len(args) == 0 {
		return nil, fmt.Errorf("%s: give the new shape, as a.reshape(r, c) or a.reshape((r, c))", b.Name())
	}
	var shape []int
	if n, ok := dims.(starlark.Int); ok {
		dims = starlark.Tuple{n}
	}
	seq, ok := dims.(starlark.Indexable)
	if _, isStr := dims.(starlark.String); !ok || isStr {
		return nil, fmt.Errorf("%s: shape must be ints or a tuple of ints, not %s", b.Name(), dims.Type())
	}
	for k := range seq.Len() {
		var d int
		if err := starlark.AsInt(seq.Index(k), &d); err != nil {
			return nil, fmt.Errorf("%s: dimension [%d] is a %s, want an int", b.Name(), k, seq.Index(k).Type())
		}
		shape = append(shape, d)
	}
	return reshape(thread, b.Name(), recv(b), shape)
}

func copyMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	a := recv(b)
	return convert(thread, a, a.dtype)
}

func astypeMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dtv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "dtype", &dtv); err != nil {
		return nil, err
	}
	dt, ok, err := dtypeArg(b.Name(), dtv)
	if err != nil {
		return nil, err
	}
	if !ok {
		dt = Float64 // numpy: astype(None) is float64
	}
	return convert(thread, recv(b), dt)
}

func flattenMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	a := recv(b)
	c, err := convert(thread, a, a.dtype)
	if err != nil {
		return nil, err
	}
	return reshape(thread, b.Name(), c, []int{a.Size()})
}

func ravelMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	a := recv(b)
	return reshape(thread, b.Name(), a, []int{a.Size()})
}

// tolistMethod is a.tolist(): nested lists of Starlark numbers (a number
// for a 0-d array).
func tolistMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0); err != nil {
		return nil, err
	}
	a := recv(b)
	if err := work(thread, a.Size()); err != nil {
		return nil, err
	}
	return a.toList(), nil
}

func (a *Array) toList() starlark.Value {
	switch len(a.shape) {
	case 0:
		return a.elem(a.offset)
	case 1:
		elems := make([]starlark.Value, a.shape[0])
		for k := range elems {
			elems[k] = a.elem(a.offset + k*a.strides[0])
		}
		return starlark.NewList(elems)
	}
	rows := make([]starlark.Value, a.shape[0])
	for r := range rows {
		rows[r] = a.row(r).toList()
	}
	return starlark.NewList(rows)
}

// fillMethod is a.fill(value): every element set to value, in place.
func fillMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &v); err != nil {
		return nil, err
	}
	a := recv(b)
	if err := a.checkMutable("fill"); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	s, ok, err := scalarOrArray(v)
	if err != nil || !ok || s.NDim() != 0 {
		return nil, fmt.Errorf("%s: the value must be a number, not %s", b.Name(), v.Type())
	}
	return starlark.None, assign(thread, a, s)
}

// itemMethod is a.item() of a one-element array, or a.item(k) (flat
// index), as a Starlark number.
func itemMethod(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a := recv(b)
	k := -1
	if err := starlark.UnpackPositionalArgs(b.Name(), args, kwargs, 0, &k); err != nil {
		return nil, err
	}
	n := a.Size()
	if len(args) == 0 {
		if n != 1 {
			return nil, fmt.Errorf("%s: can only convert an array of size 1 to a number, this one has shape %s: give a flat index, a.item(k)", b.Name(), shapeString(a.shape))
		}
		k = 0
	}
	if k < -n || k >= n {
		return nil, fmt.Errorf("%s: index %d is out of bounds for size %d", b.Name(), k, n)
	}
	if k < 0 {
		k += n
	}
	_, cols := dims2(a.shape)
	switch len(a.shape) {
	case 0:
		return a.elem(a.offset), nil
	case 1:
		return a.elem(a.offset + k*a.strides[0]), nil
	}
	return a.elem(a.index(k/cols, k%cols)), nil
}

// arrayArg unpacks a builtin's one array argument (a list converts).
func arrayArg(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (*Array, error) {
	var v starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &v); err != nil {
		return nil, err
	}
	return operand(thread, b.Name(), v)
}

// reshapeFn is num.reshape(a, newshape).
func reshapeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var v, sv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &v, "newshape", &sv); err != nil {
		return nil, err
	}
	a, err := operand(thread, b.Name(), v)
	if err != nil {
		return nil, err
	}
	return reshapeMethod(thread, starlark.NewBuiltin(b.Name(), nil).BindReceiver(a), starlark.Tuple{sv}, nil)
}

func transposeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := arrayArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return a.transpose(), nil
}

func shapeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := arrayArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return fields["shape"](a), nil
}

func ndimFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := arrayArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.MakeInt(a.NDim()), nil
}

func sizeFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := arrayArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return starlark.MakeInt(a.Size()), nil
}

func copyFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := arrayArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return convert(thread, a, a.dtype)
}

func ravelFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := arrayArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	return reshape(thread, b.Name(), a, []int{a.Size()})
}

// nonzeroFn is num.nonzero(a): the indices of a's nonzero elements, one
// int64 array per axis.
func nonzeroFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := arrayArg(thread, b, args, kwargs)
	if err != nil {
		return nil, err
	}
	if a, err = astype(thread, a, Bool); err != nil {
		return nil, err
	}
	return nonzero(thread, b.Name(), a)
}

// copytoFn is num.copyto(dst, src): src, broadcast and converted, written
// into dst (a view such as a[1:4] or a.T[0] changes its array).
func copytoFn(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dv, sv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "dst", &dv, "src", &sv); err != nil {
		return nil, err
	}
	dst, ok := dv.(*Array)
	if !ok {
		return nil, fmt.Errorf("%s: dst must be an ndarray, not %s", b.Name(), dv.Type())
	}
	if err := dst.checkMutable("write to"); err != nil {
		return nil, fmt.Errorf("%s: dst: %v", b.Name(), err)
	}
	src, err := operand(thread, b.Name(), sv)
	if err != nil {
		return nil, err
	}
	if err := assign(thread, dst, src); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return starlark.None, nil
}
