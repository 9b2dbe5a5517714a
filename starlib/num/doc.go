// Package num is pirun's numpy: the ndarray type (float64, int64 and bool
// elements; 0, 1 or 2 dimensions; row-major; slices and rows are views)
// and the Starlark module num, whose loops run in Go (SPEC §11).
//
// Names, arguments, defaults, dtypes and results follow numpy wherever
// Starlark allows. Where it does not:
//
//   - Comparisons are functions (num.less, num.equal, …): Starlark's
//     Compare must return one bool. a == b and a < b between arrays are
//     errors that name the function to use; an array == a value of another
//     type is False, as Starlark compares different types.
//   - There is no @ and no ** in Starlark: num.matmul, num.dot, num.power.
//   - a[:, 0] does not parse: use a.T[0] for a column.
//   - a.dtype is a string, "float64", "int64" or "bool", so that
//     a.dtype == "float64" reads as it does in numpy.
//   - The truth of an array is whether it has elements (Starlark's Truth
//     cannot fail with numpy's "ambiguous" error): use num.any / num.all.
//   - Starlark cannot assign to a slice: a[1:3].fill(v) or
//     num.copyto(a[1:3], b) write through the view.
//   - a += b rebinds a to a new array; num.add(a, b, out=a) (out= on every
//     elementwise function) writes in place, as numpy's out= does.
//
// Starlark calls operators (a + b) without a thread. An array remembers
// the thread whose operation made it, and an operator charges its work to
// the first operand's thread that is still running (see BindThread for
// arrays made outside num, such as decoded task arguments).
//
// Every operation allocates through alloc, which enforces the thread's
// max_array_bytes, and charges its element operations through work, which
// counts them against the step limit and sees cancellation within about
// 64k elements.
//
// Elementwise loops are generated (gen_kernels.go writes kernels.go): one
// typed loop per operation and dtype, with contiguous and array-scalar
// fast paths.
package num

//go:generate go run gen_kernels.go
