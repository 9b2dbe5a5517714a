// This file defines the tables through which the reductions, linear
// algebra, sorting and random parts of num join the module.

package num

import "go.starlark.net/starlark"

// builtinFunc is the signature of a starlark.Builtin's function.
type builtinFunc = func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

// computeFuncs holds module-level functions (num.NAME) defined by the
// compute files: reductions, dot/matmul/outer, sort/argsort/unique,
// histogram.
var computeFuncs = map[string]builtinFunc{
	// reduce.go, cumulative.go
	"sum":           reduceBuiltin(reduceSum),
	"prod":          reduceBuiltin(reduceProd),
	"mean":          reduceBuiltin(reduceMean),
	"var":           varBuiltin(false),
	"std":           varBuiltin(true),
	"min":           reduceBuiltin(reduceMin),
	"max":           reduceBuiltin(reduceMax),
	"amin":          reduceBuiltin(reduceMin),
	"amax":          reduceBuiltin(reduceMax),
	"ptp":           reduceBuiltin(reducePtp),
	"argmin":        reduceBuiltin(reduceArgmin),
	"argmax":        reduceBuiltin(reduceArgmax),
	"count_nonzero": reduceBuiltin(reduceCountNonzero),
	"any":           reduceBuiltin(reduceAny),
	"all":           reduceBuiltin(reduceAll),
	"nansum":        reduceBuiltin(reduceNansum),
	"nanmean":       reduceBuiltin(reduceNanmean),
	"cumsum":        cumulativeBuiltin(false),
	"cumprod":       cumulativeBuiltin(true),
	"median":        medianBuiltin,
	"percentile":    quantileBuiltin(100),
	"quantile":      quantileBuiltin(1),
	"average":       numAverage,
	// calculus.go
	"diff":      numDiff,
	"trapz":     numTrapz,
	"trapezoid": numTrapz,
	// linalg.go
	"dot":    numDot,
	"matmul": numMatmul,
	"inner":  numInner,
	"outer":  numOuter,
	"trace":  numTrace,
	// sort.go, histogram.go
	"sort":         numSort,
	"argsort":      numArgsort,
	"unique":       numUnique,
	"searchsorted": numSearchsorted,
	"histogram":    numHistogram,
	"bincount":     numBincount,
}

// computeMethods holds ndarray methods (a.NAME(...)) defined by the
// compute files; the Array is b.Receiver().
var computeMethods = map[string]builtinFunc{
	"sum":     reduceBuiltin(reduceSum),
	"prod":    reduceBuiltin(reduceProd),
	"mean":    reduceBuiltin(reduceMean),
	"var":     varBuiltin(false),
	"std":     varBuiltin(true),
	"min":     reduceBuiltin(reduceMin),
	"max":     reduceBuiltin(reduceMax),
	"ptp":     reduceBuiltin(reducePtp),
	"argmin":  reduceBuiltin(reduceArgmin),
	"argmax":  reduceBuiltin(reduceArgmax),
	"any":     reduceBuiltin(reduceAny),
	"all":     reduceBuiltin(reduceAll),
	"cumsum":  cumulativeBuiltin(false),
	"cumprod": cumulativeBuiltin(true),
	"dot":     numDot,
	"trace":   numTrace,
	"sort":    arraySort,
	"argsort": numArgsort,
}

// linalgFuncs holds the members of num.linalg.
var linalgFuncs = map[string]builtinFunc{
	"solve":   linalgSolve,
	"inv":     linalgInv,
	"det":     linalgDet,
	"slogdet": linalgSlogdet,
	"norm":    linalgNorm,
	"eig":     linalgEig,
	"eigh":    linalgEigh,
	"svd":     linalgSVD,
	"qr":      linalgQR,
	"lstsq":   linalgLstsq,
}

// randomFuncs holds the members of num.random.
var randomFuncs = map[string]builtinFunc{
	"seed":            randomSeed,
	"random":          randomRandom,
	"rand":            randomRand,
	"uniform":         randomUniform,
	"normal":          randomNormal,
	"standard_normal": randomStandardNormal,
	"exponential":     randomExponential,
	"integers":        randomIntegers,
	"randint":         randomIntegers,
	"choice":          randomChoice,
	"shuffle":         randomShuffle,
	"permutation":     randomPermutation,
}
