"""Trusted references for the tests: exact least squares in rational arithmetic, and
numpy.linalg.lstsq."""

from __future__ import annotations

from fractions import Fraction

import numpy as np


def solve_exact(A: list[list[Fraction]], b: list[Fraction]) -> list[Fraction]:
    """Gauss–Jordan elimination with exact fractions (A square, nonsingular)."""
    n = len(A)
    M = [row[:] + [b[i]] for i, row in enumerate(A)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if M[r][col] != 0)
        M[col], M[pivot] = M[pivot], M[col]
        p = M[col][col]
        M[col] = [v / p for v in M[col]]
        for r in range(n):
            if r != col and M[r][col] != 0:
                f = M[r][col]
                M[r] = [a - f * c for a, c in zip(M[r], M[col])]
    return [M[i][n] for i in range(n)]


def exact_least_squares(X, y, sample_weight=None, fit_intercept=True, alpha=Fraction(0)):
    """Exact minimiser of 1/(2 Σs) Σ s (xᵀw + b − y)² + (alpha/2)‖w‖² for the float data given
    (each float taken at its exact binary value).  Returns (coef, intercept) as Fractions."""
    X = [[Fraction(float(v)) for v in row] for row in np.asarray(X)]
    y = [Fraction(float(v)) for v in np.asarray(y)]
    n = len(X)
    s = [Fraction(1)] * n if sample_weight is None else [Fraction(float(v)) for v in sample_weight]
    rows = [([Fraction(1)] if fit_intercept else []) + r for r in X]
    p = len(rows[0])
    sw = sum(s)
    A = [[sum(s[i] * rows[i][a] * rows[i][b] for i in range(n)) for b in range(p)] for a in range(p)]
    rhs = [sum(s[i] * rows[i][a] * y[i] for i in range(n)) for a in range(p)]
    off = 1 if fit_intercept else 0
    for j in range(off, p):
        A[j][j] += sw * Fraction(alpha)
    sol = solve_exact(A, rhs)
    intercept = sol[0] if fit_intercept else Fraction(0)
    return sol[off:], intercept


def correct_digits(estimate, exact) -> float:
    """Smallest number of correct significant digits over the entries."""
    worst = np.inf
    for e, x in zip(np.ravel(estimate), exact):
        x = Fraction(x)
        if x == 0:
            err = abs(float(e))
            digits = np.inf if err == 0 else -np.log10(err)
        else:
            rel = abs((Fraction(float(e)) - x) / x)
            digits = np.inf if rel == 0 else -np.log10(float(rel))
        worst = min(worst, digits)
    return worst


def lstsq_fit(X, Y, sample_weight=None):
    """(coef (d, k), intercept (k,)) of weighted OLS with intercept, by numpy.linalg.lstsq."""
    Y = Y.reshape(len(Y), -1)
    A = np.column_stack([np.ones(len(X)), X])
    s = np.ones(len(X)) if sample_weight is None else np.asarray(sample_weight)
    sol = np.linalg.lstsq(A * np.sqrt(s)[:, None], Y * np.sqrt(s)[:, None], rcond=None)[0]
    return sol[1:], sol[0]


def rel(a, b):
    """Largest absolute difference relative to the largest entry of the reference ``b``."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
