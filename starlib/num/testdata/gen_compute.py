#!/usr/bin/python3
"""Writes compute_expected.json: each expression of CASES evaluated by numpy
(import numpy as num), for compute_test.go, which evaluates the same
expressions in Starlark. Expressions numpy rejects are left out (the Go
tests check num's errors). Run: /usr/bin/python3 gen_compute.py (numpy 1.24)."""
import json, math, warnings
import numpy as num

warnings.simplefilter("ignore")

A = "num.array([[1, 2, 3], [4, 5, 6]])"
F = "num.array([[1.5, -2.25, 0.0], [3.0, 7.5, -1.0]])"
V = "num.array([3.5, -1.0, 2.25, 8.0, 0.5, -6.75])"
I = "num.array([7, -7, 3, 0, 12])"
N = "num.array([[1.0, num.nan, 3.0], [4.0, 5.0, 6.0]])"
B = "num.array([[True, False, True], [False, False, True]])"
E = "num.array([])"
E2 = "num.zeros((0, 3))"
E3 = "num.zeros((3, 0))"
T = F + ".T"
S = F + "[:, ::-1]" if False else "num.array([[1.5, -2.25, 0.0], [3.0, 7.5, -1.0]])[::-1]"
DATA = [A, F, V, I, N, B, E, E2, E3, T, S, "num.array(2.5)", "num.array([1e100, 1.0, -1e100])"]
AXES = ["", ", axis=0", ", axis=1", ", axis=-1", ", axis=-2"]
FUNCS = ["sum", "prod", "mean", "var", "std", "min", "max", "ptp", "argmin", "argmax",
         "count_nonzero", "any", "all", "cumsum", "cumprod", "median", "nansum", "nanmean"]

CASES = []
for f in FUNCS:
    for d in DATA:
        for ax in AXES:
            CASES.append("num.%s(%s%s)" % (f, d, ax))
for d in [A, F, V, N, B, T]:
    for ax in AXES[:3]:
        CASES += [
            "num.percentile(%s, 30%s)" % (d, ax), "num.percentile(%s, [0, 10, 50, 90, 100]%s)" % (d, ax),
            "num.quantile(%s, 0.25%s)" % (d, ax), "num.quantile(%s, [0.5, 0.75]%s)" % (d, ax),
            "num.var(%s%s, ddof=1)" % (d, ax), "num.std(%s%s, ddof=1)" % (d, ax),
        ]
for m in ["sum", "mean", "std", "var", "min", "max", "argmin", "argmax", "any", "all", "cumsum", "prod", "ptp"]:
    CASES += ["%s.%s()" % (F, m), "%s.%s(axis=0)" % (A, m), "%s.%s(axis=1)" % (V + ".reshape(2, 3)", m)]
CASES += [
    "num.sum([1, 2, 3])", "num.sum([[1.5, 2], [3, 4]], axis=1)", "num.mean(7)", "num.max([True, False])",
    "num.min(num.array([num.nan, 1.0]))", "num.argmax(num.array([1.0, num.nan, num.nan]))",
    "num.argmin(num.array([2, 1, 1]))", "num.cumsum(" + B + ", axis=1)", "num.var(num.array([1.0]), ddof=1)",
    "num.std(num.array([1.0, 2.0, 4.0]), ddof=3)",
]
# Pairwise summation: numpy's order of additions, on data Go builds identically.
CASES += ["num.sum(PAIRWISE)", "num.mean(PAIRWISE)", "num.var(PAIRWISE)", "num.sum(PAIRWISE.reshape(1000, 100), axis=1)",
          "num.sum(PAIRWISE.reshape(1000, 100), axis=0)", "num.std(PAIRWISE.reshape(100, 1000), axis=1)"]

# keepdims, diff, trapz, average.
for d in [A, F, B, N]:
    for ax in ["", ", axis=0", ", axis=1"]:
        CASES += ["num.sum(%s%s, keepdims=True)" % (d, ax), "num.mean(%s%s, keepdims=True)" % (d, ax),
                  "num.max(%s%s, keepdims=True)" % (d, ax), "num.std(%s%s, keepdims=True)" % (d, ax)]
CASES += ["num.sum(" + A + ", dtype='float64')", "num.cumsum(" + F + ", dtype='int64')", "num.prod(" + B + ", axis=0, dtype='float64')",
          "num.sum(" + F + ", dtype=int)", "num.cumprod(" + A + ", axis=1, dtype=float)", F + ".sum(axis=0, dtype='int64')"]
CASES += [F + " - " + F + ".mean(axis=1, keepdims=True)", A + ".sum(axis=0, keepdims=True)"]
for d in [A, F, V, I, B, T, E]:
    CASES += ["num.diff(%s)" % d, "num.diff(%s, n=2)" % d, "num.diff(%s, axis=0)" % d, "num.diff(%s, n=0)" % d,
              "num.diff(%s, n=7)" % d]
for d in [A, F, V, I, T, "num.sin(num.linspace(0, 3.0, 1001))"]:
    CASES += ["num.trapz(%s)" % d, "num.trapz(%s, dx=0.25)" % d, "num.trapz(%s, axis=0)" % d]
CASES += ["num.trapz(" + V + ", x=num.array([0.0, 0.5, 1.5, 1.75, 3.0, 4.5]))",
          "num.trapz(" + F + ", x=[0.0, 1.0, 3.0])", "num.trapz(" + F + ", x=[0.0, 2.0], axis=0)",
          "num.trapz(PAIRWISE, dx=0.001)"]
for d in [A, F, V]:
    for ax in ["", ", axis=0", ", axis=-1"]:
        CASES += ["num.average(%s%s)" % (d, ax)]
CASES += ["num.average(" + F + ", weights=" + A + ")", "num.average(" + F + ", axis=0, weights=" + A + ")",
          "num.average(" + F + ", axis=1, weights=[1.0, 2.0, 0.5])", "num.average(" + F + ", axis=0, weights=[3, 1])",
          "num.average(" + V + ", weights=" + V + " * " + V + ")"]

# Linear algebra.
M = "num.array([[4.0, -2.0, 1.0], [3.0, 6.0, -4.0], [2.0, 1.0, 8.0]])"
MI = "num.array([[2, 1, 0], [1, 3, 1], [0, 1, 4]])"
SY = "num.array([[2.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.5, -1.0, 4.0]])"
R = "num.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0], [-1.0, 0.5]])"
CASES += [
    "num.dot(" + V + ", " + V + ")", "num.dot(" + I + ", " + I + ")", "num.dot(" + A + ", num.array([1, 0, -1]))",
    "num.dot(" + A + ", num.array([1.0, 0.5, -1.0]))", "num.dot(num.array([1, 2]), " + A + ")",
    "num.dot(" + A + ", " + A + ".T)", "num.dot(" + F + ", " + T + ")", "num.dot(" + T + ", " + F + ")",
    "num.dot(" + A + ".T, " + F + ")", "num.dot(2, " + A + ")", "num.dot(" + F + ", 0.5)", "num.dot(3, 4)",
    "num.dot(2.5, 4)", "num.dot(" + B + ", " + B + ".T)", "num.dot(" + B + ", " + A + ".T)",
    "num.matmul(" + M + ", " + M + ")", "num.matmul(" + M + ", " + MI + ")", "num.matmul(" + MI + ", " + MI + ")",
    "num.matmul(" + V + "[:3], " + M + ")", "num.matmul(" + M + ", " + V + "[:3])", "num.matmul(" + V + "[::2], " + V + "[1::2])",
    "num.matmul(" + M + "[::-1], " + M + ".T[::2].T)", "num.matmul(num.zeros((2, 0)), num.zeros((0, 3)))",
    "num.matmul(num.zeros((0, 2)), num.zeros((2, 3)))",
    "num.inner(" + V + ", " + V + ")", "num.inner(" + A + ", " + F + ")", "num.inner(" + M + ", num.array([1.0, 2.0, 3.0]))",
    "num.outer(num.array([1, 2, 3]), num.array([4, 5]))", "num.outer(" + V + ", num.array([1.5, -2.0]))", "num.outer(" + A + ", " + B + ")",
    "num.trace(" + M + ")", "num.trace(" + A + ")", "num.trace(" + A + ", offset=1)", "num.trace(" + A + ", offset=-1)",
    "num.trace(" + A + ", offset=5)", "num.trace(" + B + ")", "num.trace(" + T + ")",
    "num.linalg.solve(" + M + ", num.array([1.0, 2.0, 3.0]))", "num.linalg.solve(" + MI + ", num.array([[1, 2], [3, 4], [5, 6]]))",
    "num.linalg.inv(" + M + ")", "num.linalg.inv(" + MI + ")", "num.linalg.inv(num.array([[2.0]]))",
    "num.linalg.det(" + M + ")", "num.linalg.det(" + MI + ")", "num.linalg.det(num.array([[1, 2], [3, 4]]))",
    "num.linalg.det(num.array([[1.0, 2.0], [2.0, 4.0]]))", "num.linalg.det(num.eye(4))",
    "num.linalg.slogdet(" + M + ")", "num.linalg.slogdet(num.array([[0.0, 1.0], [1.0, 0.0]]))",
    "num.linalg.norm(" + V + ")", "num.linalg.norm(" + M + ")", "num.linalg.norm(" + A + ")", "num.linalg.norm(" + I + ")",
    "num.linalg.norm(" + M + ", 'fro')", "num.linalg.norm(" + M + ", 'nuc')", "num.linalg.norm(" + M + ", 1)",
    "num.linalg.norm(" + M + ", -1)", "num.linalg.norm(" + M + ", num.inf)", "num.linalg.norm(" + M + ", -num.inf)",
    "num.linalg.norm(" + M + ", 2)", "num.linalg.norm(" + M + ", -2)",
    "num.linalg.norm(" + V + ", 1)", "num.linalg.norm(" + V + ", 0)", "num.linalg.norm(" + V + ", num.inf)",
    "num.linalg.norm(" + V + ", -num.inf)", "num.linalg.norm(" + V + ", 3)", "num.linalg.norm(" + V + ", 0.5)",
    "num.linalg.norm(" + M + ", axis=0)", "num.linalg.norm(" + M + ", axis=1)", "num.linalg.norm(" + M + ", 1, axis=1)",
    "num.linalg.norm(" + M + ", num.inf, axis=0)", "num.linalg.norm(" + M + ", axis=(0, 1))", "num.linalg.norm(" + M + ", 1, axis=(1, 0))",
    "num.linalg.norm(" + E + ")",
    "num.linalg.eigh(" + SY + ")[0]", "num.linalg.svd(" + M + ")[1]", "num.linalg.svd(" + R + ", compute_uv=False)",
    "num.linalg.eig(" + SY + ")[0]", "num.linalg.eigh(" + SY + ", UPLO='U')[0]",
    "num.linalg.lstsq(" + R + ", num.array([1.0, 2.0, 0.5, 3.0]))[0]", "num.linalg.lstsq(" + R + ", num.array([1.0, 2.0, 0.5, 3.0]))[1]",
    "num.linalg.lstsq(" + R + ", num.array([1.0, 2.0, 0.5, 3.0]))[2]", "num.linalg.lstsq(" + R + ", num.array([1.0, 2.0, 0.5, 3.0]))[3]",
    "num.linalg.lstsq(" + R + ", num.array([[1.0, 0.0], [2.0, 1.0], [0.5, 0.0], [3.0, 1.0]]))[1]",
    "num.linalg.lstsq(num.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), num.array([1.0, 2.0, 3.0]))[0]",
    "num.linalg.lstsq(num.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), num.array([1.0, 2.0, 3.0]))[2]",
    "num.linalg.lstsq(" + M + ", num.array([1.0, 2.0, 3.0]))[0]",
]

# Sorting, searching, histograms.
U = "num.array([3, 1, 2, 3, 3, 1, -4])"
FN = "num.array([2.5, num.nan, -1.0, 2.5, 0.0, num.nan, -3.5])"
CASES += [
    "num.sort(" + V + ")", "num.sort(" + I + ")", "num.sort(" + FN + ")", "num.sort(" + F + ")", "num.sort(" + F + ", axis=0)",
    "num.sort(" + F + ", axis=None)", "num.sort(" + B + ")", "num.sort(" + B + ", axis=0)", "num.sort(" + T + ")", "num.sort(" + E + ")",
    "num.sort(" + A + ", axis=-2)", "num.sort(" + S + ", axis=1)",
    "num.argsort(" + V + ")", "num.argsort(" + I + ")", "num.argsort(" + FN + ", kind='stable')", "num.argsort(" + F + ")",
    "num.argsort(" + F + ", axis=0)", "num.argsort(" + F + ", axis=None)", "num.argsort(" + U + ", kind='stable')",
    "num.argsort(" + B + "[0], kind='stable')", "num.argsort(" + T + ")",
    "num.unique(" + U + ")", "num.unique(" + FN + ")", "num.unique(" + B + ")", "num.unique(" + F + ")", "num.unique(" + E + ")",
    "num.unique(" + U + ", return_counts=True)", "num.unique(" + U + ", return_index=True, return_inverse=True, return_counts=True)",
    "num.unique(" + FN + ", return_counts=True)",
    "num.searchsorted(num.array([1.0, 2.0, 2.0, 3.5]), 2.0)", "num.searchsorted(num.array([1.0, 2.0, 2.0, 3.5]), 2.0, side='right')",
    "num.searchsorted(num.array([1, 2, 2, 4]), num.array([0, 2, 3, 5]))", "num.searchsorted(num.array([1, 2, 2, 4]), num.array([0, 2, 3, 5]), side='right')",
    "num.searchsorted(num.array([1.0, 2.0, num.nan]), num.array([num.nan, 1.5]))",
    "num.histogram(" + V + ")", "num.histogram(" + V + ", bins=3)", "num.histogram(" + V + ", bins=4, range=(-2, 6))",
    "num.histogram(" + I + ", bins=[-10, 0, 5, 12])", "num.histogram(" + V + ", bins=[-1.0, 0.5, 3.5, 8.0])",
    "num.histogram(" + F + ", bins=5)", "num.histogram(num.array([1.0, 1.0, 1.0]))", "num.histogram(" + E + ", bins=4)",
    "num.histogram(num.arange(10), bins=3)", "num.histogram(num.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]), bins=10)",
    "num.histogram(" + V + ", bins=3, weights=" + V + ")", "num.histogram(" + V + ", bins=3, density=True)",
    "num.histogram(" + B + ", bins=2)",
    "num.bincount(num.array([0, 1, 1, 3, 2, 1, 7]))", "num.bincount(num.array([0, 1, 1, 3]), minlength=6)",
    "num.bincount(num.array([0, 1, 1, 2]), weights=num.array([0.5, 1.0, 0.25, 2.0]))", "num.bincount(num.array([], dtype='int64'))",
]


def pairwise():
    return num.array([(i % 1000) * 0.001 + 1.0 / (i + 1) for i in range(100000)])


def enc_float(x):
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def encode(v):
    if isinstance(v, tuple):
        return {"items": [encode(x) for x in v]}
    if isinstance(v, num.ndarray) and v.ndim > 0:
        return {"dtype": str(v.dtype), "shape": list(v.shape),
                "values": [enc_float(x) if v.dtype.kind == "f" else (bool(x) if v.dtype.kind == "b" else int(x)) for x in v.ravel()]}
    if isinstance(v, num.ndarray):
        v = v[()]
    if isinstance(v, (bool, num.bool_)):
        return {"type": "bool", "value": bool(v)}
    if isinstance(v, (int, num.integer)):
        return {"type": "int", "value": int(v)}
    return {"type": "float", "value": enc_float(v)}


out, skipped = [], []
for expr in CASES:
    try:
        v = eval(expr, {"num": num, "PAIRWISE": pairwise()})
    except Exception as e:
        skipped.append("%s: %s" % (expr, e))
        continue
    c = {"expr": expr}
    c.update(encode(v))
    out.append(c)
with open("compute_expected.json", "w") as f:
    json.dump(out, f, indent=0)
print(len(out), "cases;", len(skipped), "rejected by numpy:")
for s in skipped:
    print("  ", s)
