"""The dense one-target loss and gradient pass of :func:`linreg.passes.residual_pass`, rows
taken ``PASS_GROUP`` at a time: a long row leaves neither ``u`` nor the sums it adds to in the
first-level cache, so a row at a time reads each of them once a row from the second level.
A group's residuals come from one sweep over ``u``, its terms of the gradient and the raw
columns' sums from one sweep over those sums — each sum still added to row by row, in order,
with no reassociation (a group's sweep has the bits of four sweeps of one row).  Narrow rows
(fewer than ``GROUP_MIN_WIDTH`` columns), which leave all of it in the first level, are not
grouped.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["dense_group_pass", "PASS_GROUP", "GROUP_MIN_WIDTH"]

#: sums may be reassociated (so they vectorize); NaN and inf still behave as IEEE says
FAST = {"reassoc", "contract"}
#: rows narrower than this are read one at a time (by :func:`linreg.passes.residual_pass`'s
#: own kernel): a row, ``u`` and the sums then stay in the first-level cache, and grouping
#: only costs (measured: 1.8x slower at d = 100, break-even near 500, 1.8x faster at 700 with
#: the column sums)
GROUP_MIN_WIDTH = 640

#: rows of a dense one-target pass read as a group: their residuals in one sweep over ``u``,
#: then their terms of the gradient and the column sums in one sweep over those sums
PASS_GROUP = 4


@njit(cache=True, nogil=True, fastmath=FAST)
def _group_products(X, i0, i1, i2, i3, shift, u, centred):
    """``(x − shift)ᵀu`` of rows ``i0 … i3`` of dense ``X`` (``xᵀu`` unless ``centred``), in
    one sweep over ``u``.  Every row's product is the same arithmetic whichever of the four
    places it takes (a group of fewer rows repeats one): its bits do not depend on where
    the row falls."""
    d = X.shape[1]
    a0 = a1 = a2 = a3 = 0.0
    if centred:
        for j in range(d):
            uj, sj = u[j], shift[j]
            a0 += (X[i0, j] - sj) * uj
            a1 += (X[i1, j] - sj) * uj
            a2 += (X[i2, j] - sj) * uj
            a3 += (X[i3, j] - sj) * uj
    else:
        for j in range(d):
            uj = u[j]
            a0 += X[i0, j] * uj
            a1 += X[i1, j] * uj
            a2 += X[i2, j] * uj
            a3 += X[i3, j] * uj
    return a0, a1, a2, a3


@njit(cache=True, nogil=True, fastmath={"contract"})
def _group_add(X, idx, acc, wx, wy, m, shift, g, sxx, sxy, sums, centred):
    """Adds the ``m`` rows ``idx[:m]``'s terms ``(x − shift)·acc`` to ``g`` and, with ``sums``,
    ``wx·x²`` to ``sxx`` and ``x·wy`` to ``sxy``: one sweep over the sums for four rows,
    each sum added to row by row in order (no reassociation: the bits of four sweeps of
    one row)."""
    d = X.shape[1]
    if m < PASS_GROUP:
        for b in range(m):
            i, a, w, v = idx[b], acc[b], wx[b], wy[b]
            for j in range(d):
                x = X[i, j]
                g[j] += (x - shift[j]) * a
                if sums:
                    sxx[j] += w * x * x
                    sxy[j] += x * v
        return
    i0, i1, i2, i3 = idx[0], idx[1], idx[2], idx[3]
    a0, a1, a2, a3 = acc[0], acc[1], acc[2], acc[3]
    if sums:
        w0, w1, w2, w3 = wx[0], wx[1], wx[2], wx[3]
        v0, v1, v2, v3 = wy[0], wy[1], wy[2], wy[3]
        if centred:
            for j in range(d):
                x0, x1, x2, x3, sj = X[i0, j], X[i1, j], X[i2, j], X[i3, j], shift[j]
                g[j] = (((g[j] + (x0 - sj) * a0) + (x1 - sj) * a1) + (x2 - sj) * a2) + (x3 - sj) * a3
                sxx[j] = (((sxx[j] + w0 * x0 * x0) + w1 * x1 * x1) + w2 * x2 * x2) + w3 * x3 * x3
                sxy[j] = (((sxy[j] + x0 * v0) + x1 * v1) + x2 * v2) + x3 * v3
        else:
            for j in range(d):
                x0, x1, x2, x3 = X[i0, j], X[i1, j], X[i2, j], X[i3, j]
                g[j] = (((g[j] + x0 * a0) + x1 * a1) + x2 * a2) + x3 * a3
                sxx[j] = (((sxx[j] + w0 * x0 * x0) + w1 * x1 * x1) + w2 * x2 * x2) + w3 * x3 * x3
                sxy[j] = (((sxy[j] + x0 * v0) + x1 * v1) + x2 * v2) + x3 * v3
    elif centred:
        for j in range(d):
            sj = shift[j]
            g[j] = ((((g[j] + (X[i0, j] - sj) * a0) + (X[i1, j] - sj) * a1)
                     + (X[i2, j] - sj) * a2) + (X[i3, j] - sj) * a3)
    else:
        for j in range(d):
            g[j] = (((g[j] + X[i0, j] * a0) + X[i1, j] * a1) + X[i2, j] * a2) + X[i3, j] * a3


@njit(cache=True, nogil=True, fastmath=FAST)
def dense_group_pass(X, Y, s, rows, lo, hi, shift, beta, targets, g, rsum, centred, u, sums,
                      sxx, sxy):
    """Rows ``rows[lo:hi]`` of dense ``X``, one target (``u = θ/scale``): adds
    ``s (x − shift) r`` to ``g`` and ``s r`` to ``rsum``, with ``sums`` also ``s x²`` to
    ``sxx`` and ``s x y`` to ``sxy``; returns ``Σ s r²`` — as
    :func:`linreg.passes.residual_pass` describes its rows' kernel."""
    weighted = s.shape[0] > 0
    total = 0.0
    idx = np.empty(PASS_GROUP, np.int64)
    acc, wx, wy = np.empty(PASS_GROUP), np.empty(PASS_GROUP), np.empty(PASS_GROUP)
    for t0 in range(lo, hi, PASS_GROUP):
        m = min(PASS_GROUP, hi - t0)
        for b in range(PASS_GROUP):
            idx[b] = rows[t0 + min(b, m - 1)]
        products = _group_products(X, idx[0], idx[1], idx[2], idx[3], shift, u, centred)
        for b in range(m):
            i = idx[b]
            wi = s[i] if weighted else 1.0
            a = (beta[0] - Y[i, 0] if targets else beta[0]) + products[b]
            total += wi * a * a
            a *= wi
            rsum[0] += a
            acc[b], wx[b], wy[b] = a, wi, wi * Y[i, 0]
        _group_add(X, idx, acc, wx, wy, m, shift, g, sxx, sxy, sums, centred)
    return total
