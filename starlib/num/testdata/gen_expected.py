#!/usr/bin/python3
"""Writes core_expected.json: each expression of CASES evaluated by numpy
(import numpy as num), for core_test.go, which evaluates the same
expressions in Starlark. Run: /usr/bin/python3 gen_expected.py (numpy 1.24)."""
import json, math
import numpy as num

A = "num.array([[1, 2, 3], [4, 5, 6]])"
F = "num.array([1.5, -2.25, 0.0, 3.0])"
B = "num.array([True, False, True, False])"
I = "num.array([7, -7, 3, 0])"
CASES = [
    # constructors and dtype inference
    "num.array([1, 2, 3])", "num.array([1, 2.5])", "num.array([True, False])",
    "num.array([True, 2])", "num.array([[1, 2], [3, 4.0]])", "num.array([])",
    "num.array([[1, 2]], dtype='float64')", "num.array([1.7, -1.7], dtype='int64')",
    "num.array([0, 2, 0.5], dtype='bool')", "num.array(3.5)",
    "num.zeros(3)", "num.zeros((2, 3), dtype='int64')", "num.ones([2, 2])", "num.ones(0)",
    "num.full(3, 7)", "num.full((2, 2), 1.5)", "num.full(2, True)",
    "num.full((2,), 3, dtype='float64')",
    "num.zeros_like(" + A + ")", "num.ones_like(" + F + ")", "num.full_like(" + A + ", 9.7)",
    "num.full_like(" + F + ", 2)",
    "num.arange(5)", "num.arange(2, 10, 3)", "num.arange(10, 2, -3)", "num.arange(0.0, 1.0, 0.1)",
    "num.arange(1, 2, 0.3)", "num.arange(5, 1)", "num.arange(0, 5, dtype='float64')", "num.arange(-3.5, 3)",
    "num.linspace(0, 1, 5)", "num.linspace(0, 1, 5, endpoint=False)", "num.linspace(2, 3, 1)",
    "num.linspace(0, 10)", "num.linspace(0, 1, 0)", "num.linspace(-1, 1, 4)",
    "num.eye(3)", "num.eye(2, 3)", "num.eye(3, k=1)", "num.eye(3, 4, k=-1)", "num.identity(2)",
    "num.eye(2, dtype='int64')",
    "num.concatenate([num.array([1, 2]), num.array([3.5])])",
    "num.concatenate([" + A + ", " + A + "])", "num.concatenate([" + A + ", " + A + "], axis=1)",
    "num.concatenate([" + A + ", " + A + "], axis=-1)", "num.concatenate([" + A + ", " + A + "], axis=None)",
    "num.stack([num.array([1, 2]), num.array([3, 4])])", "num.stack([num.array([1, 2]), num.array([3, 4])], axis=1)",
    "num.vstack([num.array([1, 2]), num.array([3, 4])])", "num.vstack([" + A + ", num.array([7, 8, 9])])",
    "num.hstack([num.array([1, 2]), num.array([3.0])])", "num.hstack([" + A + ", " + A + "])",
    # attributes and methods
    A + ".T", A + ".reshape(3, 2)", A + ".reshape((3, 2))", A + ".reshape(-1)", A + ".reshape(1, -1)",
    A + ".reshape(-1, 1)", A + ".flatten()", A + ".T.flatten()", A + ".ravel()", A + ".T.ravel()",
    A + ".astype('float64')", F + ".astype('int64')", F + ".astype('bool')", A + ".copy()",
    F + ".T", A + ".T.T",
    # arithmetic, promotion, broadcasting
    A + " + 1", A + " + 1.5", "1 + " + A, "2.5 * " + A, A + " - " + A, A + " * " + A, A + " / 2",
    A + " / " + A, A + " // 4", A + " % 4", "-" + A, "+" + A, F + " + " + I, F + " * 2", "2 - " + F,
    F + " / 0", "-" + F + " / 0", I + " / 0", I + " // 0", I + " % 0", F + " // 0", F + " % 0",
    I + " // 2", I + " % 2", I + " // -2", I + " % -2", F + " // 0.5", F + " % -1.0", F + " // -1.0",
    "num.array([-7.5, 7.5, -0.5, 0.5]) % 2", "num.array([-7.5, 7.5, -0.5, 0.5]) // 2",
    A + " + num.array([10, 20, 30])", A + " * num.array([[2], [3]])",
    "num.array([[1], [2], [3]]) + num.array([10, 20])", "num.array([[1.0], [2.0]]) - num.array([[1, 2, 3]])",
    "num.array([1, 2, 3]) + num.array([1])", B + " + " + B, B + " * " + B, B + " + 1", B + " * 1.5",
    B + " & " + B, B + " | num.array([False, False, True, True])", B + " ^ " + B, "~" + B, "~" + I,
    I + " & 6", I + " | 8", I + " ^ 5", B + " / " + B,
    "num.array(2.0) + num.array(3)",
    # comparisons
    "num.less(" + F + ", 1)", "num.less_equal(" + I + ", 3)", "num.greater(" + A + ", 3)",
    "num.greater_equal(" + F + ", " + I + ")", "num.equal(" + A + ", num.array([1, 0, 3]))",
    "num.not_equal(" + B + ", True)", "num.less(" + B + ", num.array([True, True, False, False]))",
    "num.equal(num.array([num.nan, 1.0]), num.array([num.nan, 1.0]))", "num.less(num.array([[1], [5]]), num.array([2, 4, 6]))",
    "num.less(1, 2)", "num.greater(2.5, num.array([1, 3]))",
    "num.logical_and(" + B + ", num.array([True, True, False, False]))", "num.logical_or(" + F + ", " + I + ")",
    "num.logical_xor(" + B + ", True)", "num.logical_not(" + I + ")", "num.logical_not(" + B + ")",
    "num.where(" + B + ", " + F + ", " + I + ")", "num.where(num.greater(" + A + ", 2), " + A + ", 0)",
    "num.where(num.array([True, False]), 1.5, num.array([[1], [2]]))",
    "num.array_equal(" + A + ", " + A + ")", "num.array_equal(" + A + ", " + A + ".T)",
    "num.array_equal(num.array([1, 2]), num.array([1.0, 2.0]))", "num.array_equal(num.array([num.nan]), num.array([num.nan]))",
    "num.array_equal(num.array([num.nan]), num.array([num.nan]), equal_nan=True)",
    "num.allclose(num.array([1.0, 2.0]), num.array([1.0 + 1e-9, 2.0]))", "num.allclose(num.array([1.0]), num.array([1.1]))",
    "num.allclose(num.array([1.0]), num.array([1.1]), rtol=0.2)", "num.allclose(num.array([num.inf]), num.array([num.inf]))",
    "num.isclose(num.array([1.0, num.nan, num.inf, 0.0]), num.array([1.00001, num.nan, num.inf, 1e-9]))",
    "num.isclose(num.array([1.0, num.nan]), num.array([1.0, num.nan]), equal_nan=True)",
    "num.isclose(1.0, 1.0 + 1e-6)",
    # indexing
    F + "[1]", F + "[-1]", A + "[1]", A + "[-2]", A + "[1, 2]", A + "[-1, -3]", F + "[1:3]", F + "[::-1]",
    F + "[::2]", A + "[::-1]", A + "[1:]", A + ".T[0]", A + ".T[2]", F + "[num.array([True, False, True, True])]",
    A + "[num.greater(" + A + ", 2)]", A + "[num.array([True, False])]", F + "[[0, 2, 3]]", F + "[[-1, 0]]",
    A + "[[1, 0, 1]]", F + "[num.array([3, 1])]", F + "[[True, False, False, True]]", F + "[[]]",
    # elementwise functions
    "num.sqrt(" + A + ")", "num.sqrt(" + F + ")", "num.sqrt(4)", "num.sqrt(2.0)", "num.exp(" + F + ")",
    "num.log(" + A + ")", "num.log(" + F + ")", "num.log10(" + A + ")", "num.log2(" + A + ")",
    "num.sin(" + F + ")", "num.cos(" + F + ")", "num.tan(" + F + ")", "num.arcsin(num.array([0.5, -1.0, 2.0]))",
    "num.arccos(num.array([0.5, -1.0, 2.0]))", "num.arctan(" + F + ")", "num.arctan2(" + F + ", " + I + ")",
    "num.sinh(" + F + ")", "num.cosh(" + F + ")", "num.tanh(" + F + ")", "num.abs(" + F + ")", "num.abs(" + I + ")",
    "num.absolute(-3)", "num.abs(-2.5)", "num.floor(" + F + ")", "num.ceil(" + F + ")", "num.trunc(" + F + ")",
    "num.floor(" + I + ")", "num.round(num.array([0.5, 1.5, 2.5, -0.5, -1.5, 2.675]))",
    "num.round(num.array([1.2345, -1.2355, 123.456]), 2)", "num.round(num.array([1234.5, 1250.0, -1350.0]), -2)",
    "num.round(" + I + ", -1)", "num.round(" + I + ")", "num.round(2.5)", "num.around(" + F + ", 1)",
    "num.sign(" + F + ")", "num.sign(" + I + ")", "num.sign(num.array([num.nan, -0.0]))",
    "num.minimum(" + F + ", " + I + ")", "num.maximum(" + F + ", " + I + ")",
    "num.minimum(num.array([1.0, num.nan, 3.0]), num.array([num.nan, 2.0, 1.0]))", "num.maximum(" + A + ", 3)",
    "num.maximum(" + B + ", num.array([True, True, False, False]))",
    "num.clip(" + F + ", -1, 2)", "num.clip(" + A + ", 2, 4)", "num.clip(" + A + ", 2.5, None)", "num.clip(" + A + ", None, 3)",
    "num.hypot(" + F + ", 4)", "num.power(" + A + ", 2)", "num.power(" + F + ", 0.5)", "num.power(2, " + A + ")",
    "num.power(" + A + ", 0)", "num.square(" + F + ")", "num.square(" + I + ")", "num.isnan(num.array([1.0, num.nan, num.inf]))",
    "num.isinf(num.array([1.0, num.nan, -num.inf]))", "num.isfinite(num.array([1.0, num.nan, -num.inf]))",
    "num.isnan(" + I + ")", "num.isfinite(" + A + ")", "num.negative(" + F + ")", "num.negative(" + I + ")",
    "num.exp(num.array([]))", "num.sqrt(num.zeros((0, 3)))", "num.zeros((0, 3)) + num.ones(3)",
    "num.add(" + A + ", 1)", "num.subtract(" + F + ", " + I + ")", "num.multiply(2, 3)", "num.divide(" + I + ", 2)",
    "num.floor_divide(" + I + ", 3)", "num.remainder(" + I + ", 3)", "num.mod(" + F + ", 2)",
    "num.bitwise_and(" + I + ", 3)", "num.bitwise_or(" + B + ", False)", "num.bitwise_xor(" + I + ", " + I + ")",
    "num.add(num.array([1, 2]), [10, 20])",
    # str
    "num.array([1.0, 2.0, 3.0])", "num.array([0.1, 0.25, 100.0])", "num.array([1e-5, 1.0])", "num.array([1.5e-5, 1.0])",
    "num.array([1e8, 1.0])", "num.array([123456789.0])", "num.array([1.0 / 3, 2.0 / 3])", "num.array([num.nan, 1.0, -num.inf])",
    "num.array([num.nan])", "num.array([num.inf, -num.inf])", "num.array([-0.0, 0.0])", "num.array([1e300, -1e-300])",
    "num.array([[1.5, -2.0], [100.0, 4.25]])", "num.array([[True, False], [False, False]])", "num.array([[1, -200], [30, 4]])",
    "num.arange(30)", "num.arange(30.0)", "num.arange(100) / 7", "num.arange(2000)", "num.arange(2000) / 3",
    "num.arange(2000).reshape(40, 50)", "num.arange(2000).reshape(1000, 2)", "num.arange(2000).reshape(2, 1000)",
    "num.arange(1001).astype('bool')", "num.linspace(0, 1, 11)", "num.arange(24).reshape(4, 6) * 1.5",
    "num.arange(60).reshape(3, 20) - 30", "num.zeros((2, 0))", "num.array([0.1 + 0.2])", "num.array([1e16, 1.0])",
    "num.array([12345678.9, 0.5])", "num.array([1.0, 1000.0])", "num.array([1.0, 1001.0])", "num.array([0.0001, 1.0])",
    "num.array([0.00011, 0.1])", "num.array([True])", "num.array([5])", "num.array([-1.25])",
    # 0-d and empty edge cases
    "num.array(5) + 1", "num.sqrt(num.array(4.0))", "num.array(True) & False", "-num.array(2.5)",
    "num.array(7) // num.array([2, -2])", "num.array([]).reshape(0, 3)", "num.ones((0, 3)).T",
    "num.concatenate([num.array([]), num.array([1.0])])", "num.where(num.array([], dtype='bool'), 1, 2)",
    "num.zeros((0, 3)) * num.zeros((1, 3))", "num.less(num.zeros(0), 1)", "num.arange(0)", "num.eye(0)",
    "num.array([[]])", "num.array([[1.5]]) + num.array([])", "num.full((0,), 3)", "num.clip(num.array([]), 0, 1)",
]

# Statements ending with the array a, for assignment.
STMTS = [
    "a = num.arange(6.0)\na[num.greater(a, 2)] = -1",
    "a = num.arange(12).reshape(3, 4)\na[1] = num.array([9, 9, 9, 9])",
    "a = num.arange(12).reshape(3, 4)\na[[0, 2]] = 5",
    "a = num.arange(12).reshape(3, 4)\na[[0, 2]] = num.array([1, 2, 3, 4])",
    "a = num.arange(12).reshape(3, 4)\na[[0, 2]] = num.array([[1, 2, 3, 4], [5, 6, 7, 8]])",
    "a = num.arange(6)\na[[1, 3]] = num.array([10, 30])",
    "a = num.arange(6)\na[[-1]] = 7",
    "a = num.arange(12).reshape(3, 4)\na[num.array([True, False, True])] = 0",
    "a = num.arange(12).reshape(3, 4)\na[num.array([True, False, True])] = num.array([1, 2, 3, 4])",
    "a = num.arange(12).reshape(3, 4) * 1.0\na[1, 2] = 7.5",
    "a = num.zeros((2, 3))\na[0] = 1.5",
    "a = num.zeros((2, 3), dtype='int64')\na[0] = 1.9",
    "a = num.arange(4)\na[num.less(a, 2)] = num.array([10, 20])",
    "a = num.arange(12).reshape(3, 4)\na.T[1] = 0",
    "a = num.arange(12).reshape(3, 4)\na[::2][1] = -1",
    "a = num.arange(12).reshape(3, 4)\nnum.copyto(a[1:], num.array([0, 1, 2, 3]))",
    "a = num.arange(12).reshape(3, 4)\na[1:3].fill(0)",
    "a = num.arange(12).reshape(3, 4)\na[num.greater(a, 5)] = num.arange(6) * 10",
    "a = num.arange(5) * 1.0\nnum.copyto(a, num.array([1, 2, 3, 4, 5]) / 2)",
    "a = num.array([True, False, True])\na[1] = 2",
    "a = num.arange(12).reshape(3, 4)\na[1][2] = 99",
    "a = num.arange(6)\nb = a[1:5]\nb[[0, 3]] = 0",
]

def enc(x):
    if isinstance(x, float):
        if math.isnan(x): return "nan"
        if math.isinf(x): return "inf" if x > 0 else "-inf"
    return x

out = []
for expr in CASES:
    v = eval(expr)
    case = {"expr": expr}
    if isinstance(v, num.ndarray):
        case["dtype"] = {"float64": "float64", "int64": "int64", "bool": "bool"}[str(v.dtype)]
        case["shape"] = list(v.shape)
        case["values"] = [enc(x) for x in v.ravel().tolist()]
        case["str"] = str(v)
    else:
        if isinstance(v, num.ndarray):
            v = v[()]
        if isinstance(v, (bool, num.bool_)):
            case["type"], case["value"] = "bool", bool(v)
        elif isinstance(v, (int, num.integer)):
            case["type"], case["value"] = "int", int(v)
        else:
            case["type"], case["value"] = "float", enc(float(v))
    out.append(case)
for code in STMTS:
    env = {"num": num}
    exec(code, env)
    v = env["a"]
    out.append({"stmts": code, "dtype": str(v.dtype), "shape": list(v.shape),
                "values": [enc(x) for x in v.ravel().tolist()], "str": str(v)})
with open("core_expected.json", "w") as f:
    json.dump(out, f, indent=0)
    f.write("\n")
print(len(out), "cases")
