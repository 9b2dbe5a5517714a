// This file defines num.linalg: solve, inv, det, slogdet, norm, eigh,
// eig, svd, qr and lstsq, on gonum's LAPACK. Inputs of any dtype compute
// in float64.

package num

import (
	"fmt"
	"math"
	"slices"

	"go.starlark.net/starlark"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// floatMatrix returns a fresh row-major float64 copy of 2-D a, which
// LAPACK may overwrite.
func floatMatrix(thread *starlark.Thread, a *Array) (blas64.General, error) {
	r, c := a.shape[0], a.shape[1]
	if err := work(thread, r*c); err != nil {
		return blas64.General{}, err
	}
	return blas64.General{Rows: r, Cols: c, Stride: max(c, 1), Data: slices.Clone(a.Float64s())}, nil
}

// matrixArg reads a 2-D array argument; square requires rows == columns.
func matrixArg(fname, param string, v starlark.Value, square bool) (*Array, error) {
	a, err := computeArray(fname, v)
	if err != nil {
		return nil, err
	}
	if a.NDim() != 2 {
		return nil, fmt.Errorf("%s: %s has shape %s: %d-dimensional array given. Array must be two-dimensional", fname, param, shapeString(a.shape), a.NDim())
	}
	if square && a.shape[0] != a.shape[1] {
		return nil, fmt.Errorf("%s: %s has shape %s: Last 2 dimensions of the array must be square", fname, param, shapeString(a.shape))
	}
	return a, nil
}

// oneMatrix reads the single square matrix argument "a" of num.linalg.NAME.
func oneMatrix(b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, square bool) (*Array, error) {
	var av starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av); err != nil {
		return nil, err
	}
	return matrixArg(b.Name(), "a", av, square)
}

// fromGeneral returns g's contents as a new float64 array.
func fromGeneral(g blas64.General) *Array {
	out := newArray(Float64, []int{g.Rows, g.Cols})
	for i := range g.Rows {
		copy(out.buf.f[i*g.Cols:(i+1)*g.Cols], g.Data[i*g.Stride:i*g.Stride+g.Cols])
	}
	return out
}

// fromDense returns a mat.Dense as a new float64 array.
func fromDense(d *mat.Dense) *Array {
	return fromGeneral(d.RawMatrix())
}

// cost charges thread for an O(n³) decomposition of an n×n matrix.
func cost(thread *starlark.Thread, fname string, n int) error {
	ops := int64(n) * int64(n) * int64(n)
	if err := work(thread, int(min(ops, int64(math.MaxInt)))); err != nil {
		return fmt.Errorf("%s: %v", fname, err)
	}
	return nil
}

// linalgSolve is num.linalg.solve(a, b): x with a @ x == b, for a square
// a and b of shape (n,) or (n, k); "Singular matrix" if a is singular.
func linalgSolve(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av, bv starlark.Value
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "b", &bv); err != nil {
		return nil, err
	}
	a, err := matrixArg(b.Name(), "a", av, true)
	if err != nil {
		return nil, err
	}
	rhs, err := computeArray(b.Name(), bv)
	if err != nil {
		return nil, err
	}
	n := a.shape[0]
	if rhs.NDim() == 0 || rhs.shape[0] != n {
		return nil, fmt.Errorf("%s: a has shape %s and b shape %s: b must have %d rows, one per row of a", b.Name(), shapeString(a.shape), shapeString(rhs.shape), n)
	}
	if err := cost(thread, b.Name(), n); err != nil {
		return nil, err
	}
	lu, _ := floatMatrix(thread, a)
	ipiv := make([]int, n)
	if !lapack64.Getrf(lu, ipiv) {
		return nil, fmt.Errorf("%s: Singular matrix: a (shape %s) has no inverse, so a @ x == b has no unique solution; num.linalg.lstsq finds a least-squares one", b.Name(), shapeString(a.shape))
	}
	k := 1
	if rhs.NDim() == 2 {
		k = rhs.shape[1]
	}
	x := slices.Clone(rhs.Float64s())
	if n > 0 && k > 0 {
		lapack64.Getrs(blas.NoTrans, lu, blas64.General{Rows: n, Cols: k, Stride: k, Data: x}, ipiv)
	}
	out, _ := FromFloat64s(x, rhs.shape...)
	return out, nil
}

// linalgInv is num.linalg.inv(a): the inverse of a square matrix;
// "Singular matrix" if it has none.
func linalgInv(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := oneMatrix(b, args, kwargs, true)
	if err != nil {
		return nil, err
	}
	n := a.shape[0]
	if err := cost(thread, b.Name(), n); err != nil {
		return nil, err
	}
	lu, _ := floatMatrix(thread, a)
	ipiv := make([]int, n)
	if n > 0 {
		ws := make([]float64, max(1, n*64))
		if !lapack64.Getrf(lu, ipiv) || !lapack64.Getri(lu, ipiv, ws, len(ws)) {
			return nil, fmt.Errorf("%s: Singular matrix: a (shape %s) has no inverse; num.linalg.pinv is not available, but num.linalg.lstsq solves least-squares problems", b.Name(), shapeString(a.shape))
		}
	}
	return fromGeneral(lu), nil
}

// slogdet returns the sign and the log of the absolute value of the
// determinant of square a, from its LU factors, as numpy's slogdet.
func slogdet(thread *starlark.Thread, a *Array) (sign, logdet float64) {
	n := a.shape[0]
	lu, _ := floatMatrix(thread, a)
	ipiv := make([]int, n)
	lapack64.Getrf(lu, ipiv)
	sign = 1.0
	for i := range n {
		if ipiv[i] != i {
			sign = -sign
		}
		d := lu.Data[i*lu.Stride+i]
		if d == 0 {
			return 0, math.Inf(-1)
		}
		if d < 0 {
			sign = -sign
		}
		logdet += math.Log(math.Abs(d))
	}
	return sign, logdet
}

// linalgDet is num.linalg.det(a): the determinant of a square matrix,
// computed as numpy does (sign * exp(logdet) from the LU factors).
func linalgDet(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := oneMatrix(b, args, kwargs, true)
	if err != nil {
		return nil, err
	}
	if err := cost(thread, b.Name(), a.shape[0]); err != nil {
		return nil, err
	}
	sign, logdet := slogdet(thread, a)
	return starlark.Float(sign * math.Exp(logdet)), nil
}

// linalgSlogdet is num.linalg.slogdet(a): (sign, logabsdet) of the
// determinant of a square matrix, which does not overflow.
func linalgSlogdet(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := oneMatrix(b, args, kwargs, true)
	if err != nil {
		return nil, err
	}
	if err := cost(thread, b.Name(), a.shape[0]); err != nil {
		return nil, err
	}
	sign, logdet := slogdet(thread, a)
	return starlark.Tuple{starlark.Float(sign), starlark.Float(logdet)}, nil
}

// linalgEigh is num.linalg.eigh(a, UPLO="L"): the eigenvalues (ascending)
// and eigenvectors (the columns of the second result) of a symmetric
// matrix, read from its lower (or upper) triangle.
func linalgEigh(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av starlark.Value
	uplo := "L"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "UPLO?", &uplo); err != nil {
		return nil, err
	}
	if uplo != "L" && uplo != "U" {
		return nil, fmt.Errorf("%s: UPLO=%q: give \"L\" or \"U\"", b.Name(), uplo)
	}
	a, err := matrixArg(b.Name(), "a", av, true)
	if err != nil {
		return nil, err
	}
	n := a.shape[0]
	if err := cost(thread, b.Name(), n); err != nil {
		return nil, err
	}
	g, _ := floatMatrix(thread, a)
	// Mirror the chosen triangle, so that gonum sees a symmetric matrix.
	for i := range n {
		for j := range i {
			if uplo == "L" {
				g.Data[j*n+i] = g.Data[i*n+j]
			} else {
				g.Data[i*n+j] = g.Data[j*n+i]
			}
		}
	}
	var e mat.EigenSym
	if n > 0 && !e.Factorize(mat.NewSymDense(n, g.Data), true) {
		return nil, fmt.Errorf("%s: Eigenvalues did not converge", b.Name())
	}
	w, v := newArray(Float64, []int{n}), newArray(Float64, []int{n, n})
	if n > 0 {
		e.Values(w.buf.f)
		var vd mat.Dense
		e.VectorsTo(&vd)
		v = fromDense(&vd)
	}
	return starlark.Tuple{w, v}, nil
}

// linalgEig is num.linalg.eig(a): the eigenvalues and right eigenvectors
// (columns) of a square matrix. num has no complex dtype, so a matrix
// with complex eigenvalues is an error.
func linalgEig(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	a, err := oneMatrix(b, args, kwargs, true)
	if err != nil {
		return nil, err
	}
	n := a.shape[0]
	if err := cost(thread, b.Name(), n); err != nil {
		return nil, err
	}
	w, v := newArray(Float64, []int{n}), newArray(Float64, []int{n, n})
	if n == 0 {
		return starlark.Tuple{w, v}, nil
	}
	g, _ := floatMatrix(thread, a)
	var e mat.Eigen
	if !e.Factorize(mat.NewDense(n, n, g.Data), mat.EigenRight) {
		return nil, fmt.Errorf("%s: Eigenvalues did not converge", b.Name())
	}
	vals := e.Values(nil)
	for i, z := range vals {
		if imag(z) != 0 {
			return nil, fmt.Errorf("%s: eigenvalue %d is complex (%v), and num has no complex dtype: for a symmetric matrix use num.linalg.eigh", b.Name(), i, z)
		}
		w.buf.f[i] = real(z)
	}
	var cv mat.CDense
	e.VectorsTo(&cv)
	for i := range n {
		for j := range n {
			v.buf.f[i*n+j] = real(cv.At(i, j))
		}
	}
	return starlark.Tuple{w, v}, nil
}

// linalgSVD is num.linalg.svd(a, full_matrices=True, compute_uv=True):
// (U, S, Vh) with a == U @ diag(S) @ Vh and S descending; U is m×m and Vh
// n×n, or m×k and k×n (k = min(m, n)) without full_matrices; S alone
// without compute_uv.
func linalgSVD(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av starlark.Value
	full, uv := true, true
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "full_matrices?", &full, "compute_uv?", &uv); err != nil {
		return nil, err
	}
	a, err := matrixArg(b.Name(), "a", av, false)
	if err != nil {
		return nil, err
	}
	m, n := a.shape[0], a.shape[1]
	if err := cost(thread, b.Name(), max(m, n)); err != nil {
		return nil, err
	}
	if m == 0 || n == 0 {
		return nil, fmt.Errorf("%s: a has shape %s: the matrix must not be empty", b.Name(), shapeString(a.shape))
	}
	g, _ := floatMatrix(thread, a)
	kind := mat.SVDNone
	switch {
	case uv && full:
		kind = mat.SVDFull
	case uv:
		kind = mat.SVDThin
	}
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(m, n, g.Data), kind) {
		return nil, fmt.Errorf("%s: SVD did not converge", b.Name())
	}
	s, _ := FromFloat64s(svd.Values(nil))
	if !uv {
		return s, nil
	}
	var u, vm mat.Dense
	svd.UTo(&u)
	svd.VTo(&vm)
	return starlark.Tuple{fromDense(&u), s, transpose(fromDense(&vm)).Contiguous()}, nil
}

// linalgQR is num.linalg.qr(a, mode="reduced"): (Q, R) with a == Q @ R,
// Q's columns orthonormal and R upper triangular; Q is m×k and R k×n
// (k = min(m, n)), or m×m and m×n with mode "complete"; mode "r" gives R
// alone.
func linalgQR(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av starlark.Value
	mode := "reduced"
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "mode?", &mode); err != nil {
		return nil, err
	}
	if mode != "reduced" && mode != "complete" && mode != "r" {
		return nil, fmt.Errorf("%s: mode=%q: give \"reduced\", \"complete\" or \"r\"", b.Name(), mode)
	}
	a, err := matrixArg(b.Name(), "a", av, false)
	if err != nil {
		return nil, err
	}
	m, n := a.shape[0], a.shape[1]
	if err := cost(thread, b.Name(), max(m, n)); err != nil {
		return nil, err
	}
	if m == 0 || n == 0 {
		return nil, fmt.Errorf("%s: a has shape %s: the matrix must not be empty", b.Name(), shapeString(a.shape))
	}
	g, _ := floatMatrix(thread, a)
	var qr mat.QR
	qr.Factorize(mat.NewDense(m, n, g.Data))
	var q, r mat.Dense
	qr.QTo(&q)
	qr.RTo(&r)
	k := min(m, n)
	if mode == "complete" {
		k = m
	}
	ra := fromDense(r.Slice(0, k, 0, n).(*mat.Dense))
	if mode == "r" {
		return ra, nil
	}
	return starlark.Tuple{fromDense(q.Slice(0, m, 0, k).(*mat.Dense)), ra}, nil
}

// linalgLstsq is num.linalg.lstsq(a, b, rcond=None): the least-squares
// solution x of a @ x == b, as the tuple (x, residuals, rank, s): the
// sums of squared residuals per column of b (empty unless a has full
// column rank and more rows than columns), a's effective rank, and its
// singular values. Singular values below rcond (default machine epsilon
// times max(m, n)) times the largest count as zero.
func linalgLstsq(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var av, bv, rcondv starlark.Value = nil, nil, starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "a", &av, "b", &bv, "rcond?", &rcondv); err != nil {
		return nil, err
	}
	a, err := matrixArg(b.Name(), "a", av, false)
	if err != nil {
		return nil, err
	}
	rhs, err := computeArray(b.Name(), bv)
	if err != nil {
		return nil, err
	}
	m, n := a.shape[0], a.shape[1]
	if rhs.NDim() == 0 || rhs.shape[0] != m {
		return nil, fmt.Errorf("%s: a has shape %s and b shape %s: b must have %d rows, one per row of a", b.Name(), shapeString(a.shape), shapeString(rhs.shape), m)
	}
	if m == 0 || n == 0 {
		return nil, fmt.Errorf("%s: a has shape %s: the matrix must not be empty", b.Name(), shapeString(a.shape))
	}
	rcond, err := rcondArg(b.Name(), rcondv, max(m, n))
	if err != nil {
		return nil, err
	}
	if err := cost(thread, b.Name(), max(m, n)); err != nil {
		return nil, err
	}
	k := 1
	if rhs.NDim() == 2 {
		k = rhs.shape[1]
	}
	g, _ := floatMatrix(thread, a)
	var svd mat.SVD
	if !svd.Factorize(mat.NewDense(m, n, g.Data), mat.SVDThin) {
		return nil, fmt.Errorf("%s: SVD did not converge in Linear Least Squares", b.Name())
	}
	s := svd.Values(nil)
	rank := 0
	for _, v := range s {
		if v > rcond*s[0] {
			rank++
		}
	}
	bd := mat.NewDense(m, k, slices.Clone(rhs.Float64s()))
	x := newArray(Float64, []int{n, k})
	if rank > 0 {
		var xd mat.Dense
		svd.SolveTo(&xd, bd, rank)
		x = fromDense(&xd)
	}
	resid := []float64{}
	if rank == n && m > n {
		resid = residuals(a, x, bd)
	}
	if rhs.NDim() == 1 {
		x.shape, x.strides = []int{n}, []int{1}
	}
	ra, _ := FromFloat64s(resid)
	sa, _ := FromFloat64s(s)
	return starlark.Tuple{x, ra, starlark.MakeInt(rank), sa}, nil
}

// residuals returns the sums of squares of the columns of b - a @ x.
func residuals(a, x *Array, b *mat.Dense) []float64 {
	m, n, k := a.shape[0], a.shape[1], x.shape[1]
	var r mat.Dense
	r.Mul(mat.NewDense(m, n, slices.Clone(a.Float64s())), mat.NewDense(n, k, x.buf.f))
	r.Sub(b, &r)
	resid := make([]float64, k)
	for j := range k {
		for i := range m {
			resid[j] += r.At(i, j) * r.At(i, j)
		}
	}
	return resid
}

// rcondArg reads lstsq's rcond: a number, or None for machine epsilon
// times the larger dimension.
func rcondArg(fname string, v starlark.Value, dim int) (float64, error) {
	if v == starlark.None {
		return (math.Nextafter(1, 2) - 1) * float64(dim), nil
	}
	f, ok := starlark.AsFloat(v)
	if !ok {
		return 0, fmt.Errorf("%s: rcond must be a number or None, not %s", fname, v.Type())
	}
	return f, nil
}
