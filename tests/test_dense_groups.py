"""The dense loss pass on wide rows (one target, ``GROUP_MIN_WIDTH`` columns or more: four rows
at a time, :func:`linreg.dense_groups.dense_group_pass`) against the same sums written out in
NumPy, and against the row-at-a-time kernel that narrower rows use (the same sums to the last
few bits: only the order of the additions differs)."""

from __future__ import annotations

import numpy as np
import pytest

from linreg import passes
from linreg.dense_groups import GROUP_MIN_WIDTH


@pytest.mark.parametrize("weighted, centred, targets", [
    (True, True, True), (False, False, True), (True, False, False)])
def test_wide_rows_four_at_a_time_equal_numpy(weighted, centred, targets):
    rng = np.random.default_rng(7)
    n, d = 203, GROUP_MIN_WIDTH + 5                    # 203 rows: a short last group
    X = rng.standard_normal((n, d)) + 2.0
    Y = rng.standard_normal((n, 1))
    s = rng.uniform(0.5, 2.0, n) if weighted else np.empty(0)
    rows = rng.permutation(n)[:151]                    # a subset, in shuffled order
    shift = X.mean(axis=0) if centred else np.zeros(d)
    inv_scale = 1.0 / X.std(axis=0)
    theta, beta = rng.standard_normal((d, 1)) * 0.01, np.array([0.3])
    S, g, rho, (sxx, sxy) = passes.residual_pass(X, Y, s, rows, shift, inv_scale, theta, beta,
                                                 targets=targets, column_sums=True)
    w = s[rows] if weighted else np.ones(rows.size)
    Xt = (X[rows] - shift) * inv_scale
    r = Xt @ theta + beta - (Y[rows] if targets else 0.0)
    np.testing.assert_allclose(S, w @ (r[:, 0] ** 2), rtol=1e-12)
    np.testing.assert_allclose(g, Xt.T @ (w[:, None] * r), rtol=1e-10, atol=1e-12 * np.abs(g).max())
    np.testing.assert_allclose(rho, w @ r, rtol=1e-12)
    np.testing.assert_allclose(sxx, w @ X[rows] ** 2, rtol=1e-12)
    np.testing.assert_allclose(sxy[:, 0], (w * Y[rows, 0]) @ X[rows], rtol=1e-10,
                               atol=1e-12 * np.abs(sxy).max())
    # the row-at-a-time kernel of narrower rows, on the same wide rows: the same sums
    flat = theta.ravel()
    g1, rsum1, sxx1, sxy1 = np.zeros(d), np.zeros(1), np.zeros(d), np.zeros(d)
    S1 = passes._dense_pass(X, Y, s, rows, 0, rows.size, shift, inv_scale, flat, beta, targets,
                            g1, rsum1, bool(centred), flat * inv_scale, True, sxx1, sxy1)
    np.testing.assert_allclose(S, S1, rtol=1e-13)
    np.testing.assert_allclose(g[:, 0], g1 * inv_scale, rtol=1e-11, atol=1e-13 * np.abs(g).max())
    np.testing.assert_allclose(sxx, sxx1, rtol=1e-13)
