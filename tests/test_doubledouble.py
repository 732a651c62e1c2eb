"""Double-double arithmetic (linreg/doubledouble.py) and the compiled loop of a refinement pass
(linreg/refine_kernel.py) against exact rational arithmetic (fractions)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from linreg import doubledouble as dd

F = Fraction


def awkward_values(n: int, seed: int) -> np.ndarray:
    """Random float64 values of every sign and of magnitudes from 1e-30 to 1e30, with all
    53 bits used (so products and sums round)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n) * 10.0 ** rng.uniform(-30, 30, n)


def exact(pair) -> Fraction:
    return F(float(pair[0])) + F(float(pair[1]))


def test_two_sum_and_two_product_are_exact():
    a, b = awkward_values(2000, 1), awkward_values(2000, 2)
    b[:500] = -a[:500] * (1 + 2.0**-40)          # near cancellation
    b[500:600] = a[500:600] * 2.0**-60           # far apart
    s, e = dd.two_sum(a, b)
    p, f = dd.two_product(a, b)
    for i in range(len(a)):
        assert F(s[i]) + F(e[i]) == F(a[i]) + F(b[i])
        assert F(p[i]) + F(f[i]) == F(a[i]) * F(b[i])
        assert s[i] == a[i] + b[i] and p[i] == a[i] * b[i]


def significant_bits(v: float) -> int:
    """Bits from the leading to the last nonzero one of ``v``'s significand (0 for 0)."""
    m = abs(F(v).numerator)
    while m and m % 2 == 0:
        m //= 2
    return m.bit_length()


def test_split_gives_halves_whose_products_are_exact():
    a = awkward_values(500, 3)
    hi, lo = dd.split(a)
    assert np.array_equal(hi + lo, a)
    for h, low in zip(hi, lo):
        assert significant_bits(h) <= 26 and significant_bits(low) <= 27
        assert F(h * h) == F(h) * F(h) and F(h * low) == F(h) * F(low)


@pytest.mark.parametrize("op", ["add", "cancelling add", "multiply", "divide"])
def test_pair_arithmetic_has_double_double_accuracy(op):
    rng = np.random.default_rng(4)
    xh = awkward_values(300, 5) * 1e-10
    x = dd.two_sum(xh, xh * rng.uniform(-1, 1, 300) * 2.0**-53)   # normalized pairs
    yh = awkward_values(300, 6) * 1e-10
    y = dd.two_sum(yh, yh * rng.uniform(-1, 1, 300) * 2.0**-53)
    if op == "cancelling add":
        y = dd.two_sum(-x[0] * (1 + 2.0**-45), x[1] * 0.5)
    for i in range(300):
        xi, yi = (x[0][i], x[1][i]), (y[0][i], y[1][i])
        if op in ("add", "cancelling add"):
            got, want = dd.dd_add(xi, yi), exact(xi) + exact(yi)
        elif op == "multiply":
            got, want = dd.dd_multiply(xi, yi), exact(xi) * exact(yi)
        else:
            got, want = dd.dd_divide(xi, yi[0]), exact(xi) / F(yi[0])
        assert abs(exact(got) - want) <= F(4, 2**106) * abs(want), (op, i)
        assert got[0] + got[1] == got[0]          # normalized: lo below half an ulp of hi


def test_pairwise_sum_of_pairs():
    hi = awkward_values(37, 7).reshape(37, 1) * 1e-20
    hi[::2] *= -1
    lo = hi * 2.0**-55
    total = dd.dd_sum((hi, lo))
    want = sum(F(h) + F(v) for h, v in zip(hi[:, 0], lo[:, 0]))
    assert abs(exact((total[0][0], total[1][0])) - want) <= F(64, 2**106) * sum(
        abs(F(h)) for h in hi[:, 0])
    empty = dd.dd_sum((np.zeros((0, 2)), np.zeros((0, 2))))
    assert np.array_equal(empty[0], [0.0, 0.0]) and np.array_equal(empty[1], [0.0, 0.0])


def kernel_inputs(seed: int, weighted: bool):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((25, 4)) * [1.0, 1e3, 1e-3, 10.0] + [3.0, 0.0, 1.0, -50.0]
    u_hi = rng.standard_normal((4, 2)) / [[1.0], [1e3], [1e-3], [10.0]]
    u_lo = u_hi * 2.0**-56
    c_hi = np.array([0.7, -3.0])
    c_lo = c_hi * 2.0**-57
    Y = X @ u_hi + c_hi + 1e-9 * rng.standard_normal((25, 2))
    w = rng.uniform(0.1, 3.0, 25) if weighted else np.empty(0)
    return X, Y, w, u_hi, u_lo, c_hi, c_lo


@pytest.mark.parametrize("weighted", [False, True])
def test_the_compiled_loop_against_rational_arithmetic(weighted):
    """``[Xᵀ s r; Σ s r]`` with ``r = y − c − X u``: within 1e-29 of the terms' size."""
    from linreg.refine_kernel import normal_residual_sums
    X, Y, w, u_hi, u_lo, c_hi, c_lo = kernel_inputs(9, weighted)
    g_hi, g_lo = normal_residual_sums(X, Y, w, u_hi, u_lo, c_hi, c_lo)
    for t in range(2):
        want, size = [F(0)] * 5, [F(0)] * 5
        for i in range(25):
            fitted = sum(F(X[i, j]) * (F(u_hi[j, t]) + F(u_lo[j, t])) for j in range(4))
            c = F(c_hi[t]) + F(c_lo[t])
            s = F(w[i]) if weighted else F(1)
            r = F(Y[i, t]) - c - fitted
            magnitude = abs(F(Y[i, t])) + abs(c) + sum(
                abs(F(X[i, j]) * F(u_hi[j, t])) for j in range(4))
            for j in range(4):
                want[j] += F(X[i, j]) * s * r
                size[j] += abs(F(X[i, j]) * s) * magnitude
            want[4] += s * r
            size[4] += s * magnitude
        for j in range(5):
            got = F(g_hi[j, t]) + F(g_lo[j, t])
            assert abs(got - want[j]) <= F(1, 10**29) * size[j], (t, j)


@pytest.mark.parametrize("weighted", [False, True])
def test_dekker_splitting_and_fused_multiply_add_give_the_same_bits(monkeypatch, weighted):
    """The compiled loop (with the CPU's fused multiply-add where it has one) and the same
    loop run as Python with Dekker's splitting for every product's error."""
    from linreg import refine_kernel
    inputs = kernel_inputs(10, weighted)
    compiled = refine_kernel.normal_residual_sums(*inputs)
    for name in ("two_sum", "fast_two_sum", "split", "product_error", "exact_product_error"):
        monkeypatch.setattr(refine_kernel, name, getattr(refine_kernel, name).py_func)
    monkeypatch.setattr(refine_kernel, "HARDWARE_FMA", False)
    python = refine_kernel.normal_residual_sums.py_func(*inputs)
    assert np.array_equal(compiled[0], python[0]) and np.array_equal(compiled[1], python[1])
