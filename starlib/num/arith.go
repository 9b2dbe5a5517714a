// This file defines broadcasting, the drivers that run the generated
// loops over broadcast operands in chunks, the binary operations (+ - * /
// // % & | ^ and the two-argument functions) and the unary operators.

package num

import (
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

// chunk is how many elements a loop handles between calls to work, so that
// cancellation is seen within milliseconds.
const chunk = 1 << 16

// view lays an operand over an output of shape (rows, cols): the buffer
// index of element (r, c) is off + r*s0 + c*s1. A broadcast axis has
// stride 0.
type view struct{ off, s0, s1 int }

// dims2 returns shape as (rows, cols): () is (1, 1) and (n,) is (1, n).
func dims2(shape []int) (int, int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return 1, shape[0]
	}
	return shape[0], shape[1]
}

// broadcastShape returns the shape that shapes broadcast to, as numpy's
// rules say (axes aligned on the right; an axis of 1 stretches), or an
// error naming every shape.
func broadcastShape(shapes ...[]int) ([]int, error) {
	nd := 0
	for _, s := range shapes {
		nd = max(nd, len(s))
	}
	out := make([]int, nd)
	for k := range out {
		out[k] = 1
	}
	for _, s := range shapes {
		for k, d := range s {
			o := &out[nd-len(s)+k]
			switch {
			case d == *o || d == 1:
			case *o == 1:
				*o = d
			default:
				msg := "operands could not be broadcast together with shapes"
				for _, s := range shapes {
					msg += " " + shapeString(s)
				}
				return nil, fmt.Errorf("%s: each axis must be equal or 1 (axes align on the right)", msg)
			}
		}
	}
	return out, nil
}

// viewOf lays a over the output shape out, which a broadcasts to.
func viewOf(a *Array, out []int) view {
	nd := len(out)
	var sh, st [2]int
	for k := range nd {
		sh[k], st[k] = 1, 0
	}
	for k := range a.shape {
		j := nd - len(a.shape) + k
		sh[j], st[j] = a.shape[k], a.strides[k]
	}
	for k := range nd {
		if sh[k] == 1 {
			st[k] = 0 // a broadcast axis, or an axis of one element
		}
	}
	switch nd {
	case 0:
		return view{off: a.offset}
	case 1:
		return view{off: a.offset, s1: st[0]}
	}
	if out[1] == 1 {
		// One column: rows follow each other at stride s0, so that the
		// drivers run the whole column as one piece.
		return view{off: a.offset, s0: st[0], s1: st[0]}
	}
	return view{off: a.offset, s0: st[0], s1: st[1]}
}

// drive1 calls k over the (rows, cols) output in pieces of at most chunk
// elements: k(o, n, ai, as) computes out[o:o+n] from the operand's
// elements at ai, ai+as, …. It charges the work and stops at an error.
func drive1(thread *starlark.Thread, rows, cols int, a view, k func(o, n, ai, as int)) error {
	if a.s0 == cols*a.s1 {
		rows, cols = 1, rows*cols
	}
	acc := 0
	for r := range rows {
		for c := 0; c < cols; c += chunk {
			n := min(chunk, cols-c)
			k(r*cols+c, n, a.off+r*a.s0+c*a.s1, a.s1)
			if acc += n; acc >= chunk {
				if err := work(thread, acc); err != nil {
					return err
				}
				acc = 0
			}
		}
	}
	return work(thread, acc)
}

// drive2 is drive1 for two operands.
func drive2(thread *starlark.Thread, rows, cols int, a, b view, k func(o, n, ai, as, bi, bs int)) error {
	if a.s0 == cols*a.s1 && b.s0 == cols*b.s1 {
		rows, cols = 1, rows*cols
	}
	acc := 0
	for r := range rows {
		for c := 0; c < cols; c += chunk {
			n := min(chunk, cols-c)
			k(r*cols+c, n, a.off+r*a.s0+c*a.s1, a.s1, b.off+r*b.s0+c*b.s1, b.s1)
			if acc += n; acc >= chunk {
				if err := work(thread, acc); err != nil {
					return err
				}
				acc = 0
			}
		}
	}
	return work(thread, acc)
}

// promote returns the dtype of an operation on a and b: bool < int64 <
// float64, as numpy's promotion for these three types (a Python scalar,
// numpy's "weak" scalar, promotes the same way here).
func promote(a, b DType) DType {
	if a == Float64 || b == Float64 {
		return Float64
	}
	if a == Int64 || b == Int64 {
		return Int64
	}
	return Bool
}

// astype returns a as dtype: a itself if it has that dtype, else a new
// contiguous array converted as numpy's astype does (float to int
// truncates toward zero; nonzero is True).
func astype(thread *starlark.Thread, a *Array, dtype DType) (*Array, error) {
	if a.dtype == dtype {
		return a, nil
	}
	return convert(thread, a, dtype)
}

// convert returns a new contiguous copy of a with dtype.
func convert(thread *starlark.Thread, a *Array, dtype DType) (*Array, error) {
	out, err := allocFull(thread, dtype, a.shape)
	if err != nil {
		return nil, err
	}
	rows, cols := dims2(a.shape)
	v := viewOf(a, a.shape)
	var k func(o, n, ai, as int)
	switch {
	case dtype == Float64 && a.dtype == Float64:
		k = func(o, n, ai, as int) { uCopyF(out.buf.f[o:o+n], a.buf.f, ai, as) }
	case dtype == Float64 && a.dtype == Int64:
		k = func(o, n, ai, as int) { uIntToF(out.buf.f[o:o+n], a.buf.i, ai, as) }
	case dtype == Float64 && a.dtype == Bool:
		k = func(o, n, ai, as int) { uBoolToF(out.buf.f[o:o+n], a.buf.b, ai, as) }
	case dtype == Int64 && a.dtype == Float64:
		k = func(o, n, ai, as int) { uFloatToI(out.buf.i[o:o+n], a.buf.f, ai, as) }
	case dtype == Int64 && a.dtype == Int64:
		k = func(o, n, ai, as int) { uCopyI(out.buf.i[o:o+n], a.buf.i, ai, as) }
	case dtype == Int64 && a.dtype == Bool:
		k = func(o, n, ai, as int) { uBoolToI(out.buf.i[o:o+n], a.buf.b, ai, as) }
	case dtype == Bool && a.dtype == Float64:
		k = func(o, n, ai, as int) { uFloatToB(out.buf.b[o:o+n], a.buf.f, ai, as) }
	case dtype == Bool && a.dtype == Int64:
		k = func(o, n, ai, as int) { uIntToB(out.buf.b[o:o+n], a.buf.i, ai, as) }
	default:
		k = func(o, n, ai, as int) { uCopyB(out.buf.b[o:o+n], a.buf.b, ai, as) }
	}
	if err := drive1(thread, rows, cols, v, k); err != nil {
		return nil, err
	}
	return out, nil
}

// A binop is a binary elementwise operation: its loops per dtype and its
// rules.
type binop struct {
	name string // numpy's function name: "add"
	sym  string // the operator, if any: "+"

	f func(out, a []float64, ai, as int, b []float64, bi, bs int)
	i func(out, a []int64, ai, as int, b []int64, bi, bs int)
	b func(out, a []bool, ai, as int, b []bool, bi, bs int)

	// Comparisons: bool results.
	fb func(out []bool, a []float64, ai, as int, b []float64, bi, bs int)
	ib func(out []bool, a []int64, ai, as int, b []int64, bi, bs int)

	float   bool   // computes in float64 whatever the inputs (/, arctan2)
	logical bool   // computes on the truth of its inputs (logical_and)
	boolErr string // the error for bool operands, if any (- on bools)
}

func (op *binop) cmp() bool { return op.fb != nil }

// what names op in errors: "+" or "num.add".
func (op *binop) what() string {
	if op.sym != "" {
		return op.sym
	}
	return "num." + op.name
}

var (
	opAdd      = &binop{name: "add", sym: "+", f: bAddF, i: bAddI, b: bOrB}
	opSub      = &binop{name: "subtract", sym: "-", f: bSubF, i: bSubI, boolErr: "the - operator is not supported on bool arrays (as in numpy): use ^ or num.logical_xor"}
	opMul      = &binop{name: "multiply", sym: "*", f: bMulF, i: bMulI, b: bAndB}
	opDiv      = &binop{name: "true_divide", sym: "/", f: bDivF, float: true}
	opFloorDiv = &binop{name: "floor_divide", sym: "//", f: bFloorDivF, i: bFloorDivI}
	opMod      = &binop{name: "remainder", sym: "%", f: bModF, i: bModI}
	opBitAnd   = &binop{name: "bitwise_and", sym: "&", i: bBitAndI, b: bAndB}
	opBitOr    = &binop{name: "bitwise_or", sym: "|", i: bBitOrI, b: bOrB}
	opXor      = &binop{name: "bitwise_xor", sym: "^", i: bXorI, b: bXorB}
	opPower    = &binop{name: "power", f: bPowF, i: bPowI}
	opMinimum  = &binop{name: "minimum", f: bMinF, i: bMinI, b: bAndB}
	opMaximum  = &binop{name: "maximum", f: bMaxF, i: bMaxI, b: bOrB}
	opArctan2  = &binop{name: "arctan2", f: bArctan2F, float: true}
	opHypot    = &binop{name: "hypot", f: bHypotF, float: true}
	opLess     = &binop{name: "less", fb: bLtF, ib: bLtI}
	opLessEq   = &binop{name: "less_equal", fb: bLeF, ib: bLeI}
	opGreater  = &binop{name: "greater", fb: bGtF, ib: bGtI}
	opGreaterE = &binop{name: "greater_equal", fb: bGeF, ib: bGeI}
	opEqual    = &binop{name: "equal", fb: bEqF, ib: bEqI, b: bEqB}
	opNotEqual = &binop{name: "not_equal", fb: bNeF, ib: bNeI, b: bNeB}
	opLogAnd   = &binop{name: "logical_and", b: bAndB, logical: true}
	opLogOr    = &binop{name: "logical_or", b: bOrB, logical: true}
	opLogXor   = &binop{name: "logical_xor", b: bXorB, logical: true}
)

// tokenOps maps Starlark's binary operators to their operations.
var tokenOps = map[syntax.Token]*binop{
	syntax.PLUS:       opAdd,
	syntax.MINUS:      opSub,
	syntax.STAR:       opMul,
	syntax.SLASH:      opDiv,
	syntax.SLASHSLASH: opFloorDiv,
	syntax.PERCENT:    opMod,
	syntax.AMP:        opBitAnd,
	syntax.PIPE:       opBitOr,
	syntax.CIRCUMFLEX: opXor,
}

// apply computes op(a, b) with broadcasting into a new array.
func (op *binop) apply(thread *starlark.Thread, a, b *Array) (*Array, error) {
	return op.applyInto(thread, a, b, nil)
}

// applyInto computes op(a, b) into into (numpy's out=), or into a new
// array if into is nil, and returns the array written.
func (op *binop) applyInto(thread *starlark.Thread, a, b, into *Array) (*Array, error) {
	shape, err := broadcastShape(a.shape, b.shape)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", op.what(), err)
	}
	dt := promote(a.dtype, b.dtype)
	switch {
	case op.logical:
		dt = Bool
	case op.float:
		dt = Float64
	case dt == Bool && op.b == nil:
		if op.boolErr != "" {
			return nil, fmt.Errorf("%s: %s", op.what(), op.boolErr)
		}
		dt = Int64
	case dt == Float64 && op.f == nil && op.fb == nil:
		return nil, fmt.Errorf("%s: operands of dtype %s and %s: %s needs int64 or bool arrays; convert with a.astype(\"int64\")", op.what(), a.dtype, b.dtype, op.what())
	}
	if a, err = astype(thread, a, dt); err != nil {
		return nil, err
	}
	if b, err = astype(thread, b, dt); err != nil {
		return nil, err
	}
	if op == opPower && dt == Int64 && anyNegative(b) {
		return nil, fmt.Errorf("num.power: integers to negative integer powers are not allowed (as in numpy): make the base float, e.g. num.power(a.astype(\"float64\"), b)")
	}
	outDT := dt
	if op.cmp() {
		outDT = Bool
	}
	out, direct, err := output(thread, op.what(), outDT, shape, into, a, b)
	if err != nil {
		return nil, err
	}
	base := out.offset
	rows, cols := dims2(shape)
	av, bv := viewOf(a, shape), viewOf(b, shape)
	var k func(o, n, ai, as, bi, bs int)
	switch {
	case outDT == Bool && dt == Float64:
		k = func(o, n, ai, as, bi, bs int) { op.fb(out.buf.b[base+o:base+o+n], a.buf.f, ai, as, b.buf.f, bi, bs) }
	case outDT == Bool && dt == Int64:
		k = func(o, n, ai, as, bi, bs int) { op.ib(out.buf.b[base+o:base+o+n], a.buf.i, ai, as, b.buf.i, bi, bs) }
	case dt == Float64:
		k = func(o, n, ai, as, bi, bs int) { op.f(out.buf.f[base+o:base+o+n], a.buf.f, ai, as, b.buf.f, bi, bs) }
	case dt == Int64:
		k = func(o, n, ai, as, bi, bs int) { op.i(out.buf.i[base+o:base+o+n], a.buf.i, ai, as, b.buf.i, bi, bs) }
	case op.b != nil:
		k = func(o, n, ai, as, bi, bs int) { op.b(out.buf.b[base+o:base+o+n], a.buf.b, ai, as, b.buf.b, bi, bs) }
	default: // an ordered comparison of bools: compare as ints
		ai, err := convert(thread, a, Int64)
		if err != nil {
			return nil, err
		}
		bi, err := convert(thread, b, Int64)
		if err != nil {
			return nil, err
		}
		return op.applyInto(thread, ai, bi, into)
	}
	if err := drive2(thread, rows, cols, av, bv, k); err != nil {
		return nil, err
	}
	return finish(thread, out, into, direct)
}

// output returns the array an operation writes its result of dtype and
// shape to: into itself if it can take the result directly (direct), a
// new array otherwise, copied into into by finish.
func output(thread *starlark.Thread, fn string, dtype DType, shape []int, into *Array, inputs ...*Array) (out *Array, direct bool, err error) {
	if into != nil {
		if !sameShape(into.shape, shape) {
			return nil, false, fmt.Errorf("%s: out has shape %s but the result has shape %s: give an out of the result's shape", fn, shapeString(into.shape), shapeString(shape))
		}
		if err := into.checkMutable("write to"); err != nil {
			return nil, false, fmt.Errorf("%s: out: %v", fn, err)
		}
		if promote(dtype, into.dtype) != into.dtype {
			return nil, false, fmt.Errorf("%s: cannot write a %s result into out of dtype %s (numpy's same_kind rule): give a %s out, or convert with astype", fn, dtype, into.dtype, dtype)
		}
		if into.dtype == dtype && into.IsContiguous() && !overlaps(into, inputs) {
			return into, true, nil
		}
	}
	out, err = allocFull(thread, dtype, shape)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %v", fn, err)
	}
	return out, false, nil
}

// overlaps reports whether into shares memory with an input laid out
// differently (an input with into's exact layout is safe to overwrite
// element by element).
func overlaps(into *Array, inputs []*Array) bool {
	for _, in := range inputs {
		if in.buf == into.buf && !(in.offset == into.offset && sameShape(in.shape, into.shape) && sameShape(in.strides, into.strides)) {
			return true
		}
	}
	return false
}

// finish copies out into into when output could not write there directly,
// and returns the array the operation gives.
func finish(thread *starlark.Thread, out, into *Array, direct bool) (*Array, error) {
	if into == nil || direct {
		return out, nil
	}
	if err := assign(thread, into, out); err != nil {
		return nil, err
	}
	return into, nil
}

// anyNegative reports whether an int64 array has a negative element.
func anyNegative(a *Array) bool {
	for _, x := range a.Int64s() {
		if x < 0 {
			return true
		}
	}
	return false
}

// Binary implements starlark.HasBinary: + - * / // % & | ^ between an
// array and an array or a number, on either side.
func (a *Array) Binary(tok syntax.Token, y starlark.Value, side starlark.Side) (starlark.Value, error) {
	op := tokenOps[tok]
	if op == nil {
		return nil, nil
	}
	b, ok, err := scalarOrArray(y)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", op.sym, err)
	}
	if !ok {
		switch y.(type) {
		case *starlark.List, starlark.Tuple: // converted, as numpy does
			if b, err = fromValue(opThread(a), op.sym, y, 0, false); err != nil {
				return nil, err
			}
		default:
			return nil, nil // Starlark reports the unsupported operand types
		}
	}
	x := a
	if side == starlark.Right {
		x, b = b, a
	}
	thread := opThread(x, b)
	out, err := op.apply(thread, x, b)
	if err != nil {
		return nil, err
	}
	return valueOf(out), nil
}

// Unary implements starlark.HasUnary: -a, +a and ~a.
func (a *Array) Unary(tok syntax.Token) (starlark.Value, error) {
	thread := opThread(a)
	var op *unop
	switch tok {
	case syntax.MINUS:
		op = uopNegative
	case syntax.PLUS:
		op = uopPositive
	case syntax.TILDE:
		op = uopInvert
	default:
		return nil, nil
	}
	out, err := op.apply(thread, a)
	if err != nil {
		return nil, err
	}
	return valueOf(out), nil
}

// BindThread makes thread the one that operators on a (and on the arrays
// computed from it) charge their work to and stop with, while thread runs.
// num's builtins bind the arrays they make to their caller's thread; call
// it for an array made otherwise for a task, such as a decoded argument,
// before any other thread can see the array.
func BindThread(thread *starlark.Thread, a *Array) { a.th = thread }

// opThread returns the thread that operators on arrays charge their work
// to: Starlark calls Binary and Unary without a thread, so an array
// remembers the thread that made it, and the first of the operands whose
// thread is still running gives its limits and its cancellation. Nil if
// none is: the operator then has the process-wide memory bound of
// SetDefaultMaxArrayBytes, and no steps or cancellation.
//
// Reading another thread's CallStackDepth is sound because no array is
// reachable from two threads running at the same time: Starlark forbids
// sharing mutable values between running threads, and pirun shares frozen
// ones only sequentially — values between engines, the host and ranks go
// through the wire codec (copies), each engine's namespace and ship cache
// are its own and its tasks run one after another, and the host runs one
// script, REPL or kernel thread at a time. An array whose thread has
// finished is read only after that thread's end (the engine's job queue,
// the REPL loop). BindThread and BindValue keep this rule by binding only
// fresh values no other goroutine can reach; TestOpThreadSharing runs the
// legal sharing under the race detector.
func opThread(arrays ...*Array) *starlark.Thread {
	for _, a := range arrays {
		if a.th != nil && a.th.CallStackDepth() > 0 {
			return a.th
		}
	}
	return nil
}

// scalarOrArray returns v as an array if it is an array or a number (a
// 0-d array), and false for other types.
func scalarOrArray(v starlark.Value) (*Array, bool, error) {
	switch v := v.(type) {
	case *Array:
		return v, true, nil
	case starlark.Int:
		i, ok := v.Int64()
		if !ok {
			return nil, false, fmt.Errorf("integer %v does not fit in int64", v)
		}
		return scalarI(i), true, nil
	case starlark.Float:
		return scalarF(float64(v)), true, nil
	case starlark.Bool:
		return scalarB(bool(v)), true, nil
	}
	return nil, false, nil
}

// scalarF, scalarI and scalarB return 0-d arrays.
func scalarF(x float64) *Array {
	return &Array{dtype: Float64, shape: []int{}, strides: []int{}, buf: &buffer{f: []float64{x}}}
}

func scalarI(x int64) *Array {
	return &Array{dtype: Int64, shape: []int{}, strides: []int{}, buf: &buffer{i: []int64{x}}}
}

func scalarB(x bool) *Array {
	return &Array{dtype: Bool, shape: []int{}, strides: []int{}, buf: &buffer{b: []bool{x}}}
}

// valueOf returns a, or its one element as a Starlark number if a is 0-d,
// as numpy returns scalars from operations on scalars.
func valueOf(a *Array) starlark.Value {
	if len(a.shape) == 0 {
		return a.elem(a.offset)
	}
	return a
}

// elem returns the element at buffer index p as a Starlark value.
func (a *Array) elem(p int) starlark.Value {
	switch a.dtype {
	case Float64:
		return starlark.Float(a.buf.f[p])
	case Int64:
		return starlark.MakeInt64(a.buf.i[p])
	}
	return starlark.Bool(a.buf.b[p])
}

// A unop is a one-argument elementwise operation.
type unop struct {
	name string
	f    func(out, a []float64, ai, as int)
	i    func(out, a []int64, ai, as int)
	b    func(out, a []bool, ai, as int)
	fb   func(out []bool, a []float64, ai, as int) // predicates: bool results

	float  bool  // computes in float64 (sqrt of an int array is float)
	constI *bool // a predicate's constant result for int and bool input
}

var (
	vFalse, vTrue = false, true

	uopNegative = &unop{name: "negative", f: uNegF, i: uNegI}
	uopPositive = &unop{name: "positive", f: uCopyF, i: uCopyI, b: uCopyB}
	uopInvert   = &unop{name: "invert", i: uInvertI, b: uNotB}
	uopAbs      = &unop{name: "absolute", f: uAbsF, i: uAbsI, b: uCopyB}
	uopSquare   = &unop{name: "square", f: uSquareF, i: uSquareI, b: uCopyB}
	uopSign     = &unop{name: "sign", f: uSignF, i: uSignI}
	uopIsnan    = &unop{name: "isnan", fb: uIsnanF, constI: &vFalse}
	uopIsinf    = &unop{name: "isinf", fb: uIsinfF, constI: &vFalse}
	uopIsfinite = &unop{name: "isfinite", fb: uIsfiniteF, constI: &vTrue}
	uopNot      = &unop{name: "logical_not", b: uNotB}
)

// floatUnops are the functions computed in float64: f(int array) is a
// float array, as in numpy.
var floatUnops = map[string]func(out, a []float64, ai, as int){
	"sqrt": uSqrtF, "exp": uExpF, "log": uLogF, "log10": uLog10F, "log2": uLog2F,
	"sin": uSinF, "cos": uCosF, "tan": uTanF, "arcsin": uArcsinF, "arccos": uArccosF,
	"arctan": uArctanF, "sinh": uSinhF, "cosh": uCoshF, "tanh": uTanhF,
	"floor": uFloorF, "ceil": uCeilF, "trunc": uTruncF,
}

// apply computes op(a) into a new array.
func (op *unop) apply(thread *starlark.Thread, a *Array) (*Array, error) {
	return op.applyInto(thread, a, nil)
}

// applyInto computes op(a) into into (numpy's out=), or into a new array
// if into is nil, and returns the array written.
func (op *unop) applyInto(thread *starlark.Thread, a, into *Array) (*Array, error) {
	var err error
	dt := a.dtype
	switch {
	case op.fb != nil:
		if dt != Float64 {
			out, direct, err := output(thread, "num."+op.name, Bool, a.shape, into)
			if err != nil {
				return nil, err
			}
			if err := assign(thread, out, scalarB(*op.constI)); err != nil {
				return nil, err
			}
			return finish(thread, out, into, direct)
		}
	case op.float:
		dt = Float64
	case op == uopNot:
		dt = Bool
	case dt == Bool && op.b == nil:
		if op == uopNegative {
			return nil, fmt.Errorf("num.negative: the - operator is not supported on bool arrays (as in numpy): use ~ or num.logical_not")
		}
		dt = Int64
	case dt == Float64 && op.f == nil:
		return nil, fmt.Errorf("num.%s: needs an int64 or bool array, got float64: convert with a.astype(\"int64\")", op.name)
	}
	if a, err = astype(thread, a, dt); err != nil {
		return nil, err
	}
	outDT := dt
	if op.fb != nil {
		outDT = Bool
	}
	out, direct, err := output(thread, "num."+op.name, outDT, a.shape, into, a)
	if err != nil {
		return nil, err
	}
	base := out.offset
	rows, cols := dims2(a.shape)
	v := viewOf(a, a.shape)
	var k func(o, n, ai, as int)
	switch {
	case op.fb != nil:
		k = func(o, n, ai, as int) { op.fb(out.buf.b[base+o:base+o+n], a.buf.f, ai, as) }
	case dt == Float64:
		k = func(o, n, ai, as int) { op.f(out.buf.f[base+o:base+o+n], a.buf.f, ai, as) }
	case dt == Int64:
		k = func(o, n, ai, as int) { op.i(out.buf.i[base+o:base+o+n], a.buf.i, ai, as) }
	default:
		k = func(o, n, ai, as int) { op.b(out.buf.b[base+o:base+o+n], a.buf.b, ai, as) }
	}
	if err := drive1(thread, rows, cols, v, k); err != nil {
		return nil, err
	}
	return finish(thread, out, into, direct)
}
