"""Compiled passes over the rows in memory: the full-data loss and gradient, and the column
means and variances — what the iterative solvers need when they do not form the d × d
statistics (:mod:`linreg.training_objective`).

**The loss and gradient pass.**  For parameters ``θ`` (d, k), ``β`` (k,) in the design
coordinates ``x̃ = (x − shift)/scale`` of :class:`linreg.design.Design`, one read of the rows
``X[rows]`` gives::

    r_i = x̃_iᵀθ + β − y_i           S = Σ s_i ‖r_i‖²
    g   = Σ s_i x̃_i r_iᵀ           ρ = Σ s_i r_i

from which :mod:`linreg.training_objective` forms ``J = S/(2 n_w) + (α/2)‖θ‖²``,
``∇_θ J = g/n_w + αθ`` and ``∇_β J = ρ/n_w`` (:func:`linreg.objective.loss` and
:func:`~linreg.objective.gradient` on the design's rows, which the tests compare).  Dense rows
are centred and scaled on the fly (nothing is copied); CSR rows (``indptr``, ``indices``,
``data`` read in place) are centred lazily, since a sparse row stays sparse only before
centring::

    x̃_iᵀθ = Σ_{j stored in row i} x_ij θ_j/scale_j − wᵀθ,      w = shift/scale
    g     = Σ_i s_i (x_i/scale) r_iᵀ − w ρᵀ

so a pass costs O(nnz·k) + O(d·k).  With ``targets=False`` the targets are taken as zero:
the pass then gives ``H p`` for the Hessian ``H`` of ``J`` (a matrix-free product).

The rows are split into pieces fixed by their number (:func:`linreg.parallel.row_pieces`),
run side by side on threads (the kernels release the GIL), and the pieces' sums are added in
order: the same bits on any number of threads.

**Column moments.**  ``n_w``, the weighted means and ``Σ s (x − x̄)²`` per column of a dense
array, in one read: each block of rows is centred on its own mean (two passes over a block
that stays in cache) and blocks are merged with Chan et al.'s update, as
:mod:`linreg.stats` does for the full statistics.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .parallel import blas_threads, map_in_threads, row_pieces

__all__ = ["residual_pass", "dense_moments", "merge_moments", "PASS_BLOCK_ROWS"]

#: sums may be reassociated (so they vectorize); NaN and inf still behave as IEEE says
FAST = {"reassoc", "contract"}
#: rows per block of a pass (pieces are made of whole blocks)
PASS_BLOCK_ROWS = 4096
#: about this many float64 values per block of the moments pass (a block stays in cache)
MOMENT_BLOCK_VALUES = 1 << 16


@njit(cache=True, nogil=True, fastmath=FAST)
def _dense_pass(X, Y, s, rows, lo, hi, shift, inv_scale, theta, beta, targets, g, rsum):
    """Rows ``rows[lo:hi]`` of dense ``X``: adds ``s x̃ rᵀ`` to ``g`` and ``s r`` to ``rsum``;
    returns ``Σ s ‖r‖²``.  ``theta`` and ``g`` are flat (d·k,), row-major like ``θ``."""
    d = X.shape[1]
    k = beta.shape[0]
    weighted = s.shape[0] > 0
    r = np.empty(k)
    total = 0.0
    for t in range(lo, hi):
        i = rows[t]
        wi = s[i] if weighted else 1.0
        if k == 1:      # one target: plain loops over the row, which vectorize
            acc = beta[0] - Y[i, 0] if targets else beta[0]
            for j in range(d):
                acc += (X[i, j] - shift[j]) * inv_scale[j] * theta[j]
            total += wi * acc * acc
            acc *= wi
            rsum[0] += acc
            for j in range(d):
                g[j] += (X[i, j] - shift[j]) * inv_scale[j] * acc
            continue
        for c in range(k):
            r[c] = beta[c] - Y[i, c] if targets else beta[c]
        for j in range(d):
            xt = (X[i, j] - shift[j]) * inv_scale[j]
            for c in range(k):
                r[c] += xt * theta[j * k + c]
        for c in range(k):
            total += wi * r[c] * r[c]
            r[c] *= wi
            rsum[c] += r[c]
        for j in range(d):
            xt = (X[i, j] - shift[j]) * inv_scale[j]
            for c in range(k):
                g[j * k + c] += xt * r[c]
    return total


@njit(cache=True, nogil=True, fastmath=FAST)
def _csr_pass(indptr, indices, data, Y, s, rows, lo, hi, inv_scale, theta, beta, w_theta,
              targets, g, rsum):
    """Rows ``rows[lo:hi]`` of a CSR matrix: adds ``s (x/scale) rᵀ`` (stored entries only)
    to ``g`` and ``s r`` to ``rsum``; returns ``Σ s ‖r‖²``.  ``w_theta = wᵀθ`` (k,), the
    lazy centring; ``theta`` and ``g`` flat (d·k,)."""
    k = beta.shape[0]
    weighted = s.shape[0] > 0
    r = np.empty(k)
    total = 0.0
    for t in range(lo, hi):
        i = rows[t]
        for c in range(k):
            r[c] = beta[c] - w_theta[c] - (Y[i, c] if targets else 0.0)
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            xs = data[q] * inv_scale[j]
            for c in range(k):
                r[c] += xs * theta[j * k + c]
        wi = s[i] if weighted else 1.0
        for c in range(k):
            total += wi * r[c] * r[c]
            r[c] *= wi
            rsum[c] += r[c]
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            xs = data[q] * inv_scale[j]
            for c in range(k):
                g[j * k + c] += xs * r[c]
    return total


def _workers(n_pieces: int) -> int:
    import os
    return min(n_pieces, blas_threads(), os.cpu_count() or 1)


def residual_pass(X, Y, s, rows, shift, inv_scale, theta, beta, targets: bool = True):
    """``(S, g, ρ)`` of the module docstring over ``X[rows]`` (dense, or CSR when ``X`` has
    ``indptr``), ``g`` in design coordinates (d, k).  ``s``: the weights indexed by row of
    ``X`` (empty for unit weights); ``Y`` (n, k) float64 (ignored with ``targets=False``)."""
    d, k = theta.shape
    flat = np.ascontiguousarray(theta, dtype=np.float64).ravel()
    beta = np.ascontiguousarray(beta, dtype=np.float64)
    sparse = hasattr(X, "indptr")
    pieces = row_pieces(rows.shape[0], PASS_BLOCK_ROWS)
    if sparse:
        w = shift * inv_scale
        w_theta = w @ flat.reshape(d, k)

        def piece(bounds):
            g, rsum = np.zeros(d * k), np.zeros(k)
            total = _csr_pass(X.indptr, X.indices, X.data, Y, s, rows, bounds[0], bounds[1],
                              inv_scale, flat, beta, w_theta, targets, g, rsum)
            return total, g, rsum
    else:
        def piece(bounds):
            g, rsum = np.zeros(d * k), np.zeros(k)
            total = _dense_pass(X, Y, s, rows, bounds[0], bounds[1], shift, inv_scale, flat,
                                beta, targets, g, rsum)
            return total, g, rsum

    parts = map_in_threads(piece, pieces, _workers(len(pieces)))
    total, g, rsum = 0.0, np.zeros(d * k), np.zeros(k)
    for part_total, part_g, part_rsum in parts:      # in piece order: the same bits always
        total += part_total
        g += part_g
        rsum += part_rsum
    g = g.reshape(d, k)
    if sparse:
        g -= np.outer(w, rsum)
    return total, g, rsum


@njit(cache=True, nogil=True, fastmath=FAST)
def _dense_moments(X, s, lo, hi, block):
    """``(n_w, mean, m2)`` of rows ``lo:hi`` of ``X``: blocks centred on their own mean,
    merged with Chan et al.'s update."""
    d = X.shape[1]
    weighted = s.shape[0] > 0
    n_w = 0.0
    mean = np.zeros(d)
    m2 = np.zeros(d)
    bmean = np.empty(d)
    bm2 = np.empty(d)
    for b0 in range(lo, hi, block):
        b1 = min(b0 + block, hi)
        bw = 0.0
        for j in range(d):
            bmean[j] = 0.0
            bm2[j] = 0.0
        for i in range(b0, b1):
            wi = s[i] if weighted else 1.0
            bw += wi
            for j in range(d):
                bmean[j] += wi * X[i, j]
        if bw == 0.0:
            continue
        for j in range(d):
            bmean[j] /= bw
        for i in range(b0, b1):
            wi = s[i] if weighted else 1.0
            for j in range(d):
                z = X[i, j] - bmean[j]
                bm2[j] += wi * z * z
        total = n_w + bw
        for j in range(d):
            delta = bmean[j] - mean[j]
            mean[j] += delta * (bw / total)
            m2[j] += bm2[j] + delta * delta * (n_w * bw / total)
        n_w = total
    return n_w, mean, m2


def merge_moments(a: tuple, b: tuple) -> tuple:
    """Chan et al.'s merge of two ``(n_w, mean, m2)`` of disjoint rows."""
    na, ma, sa = a
    nb, mb, sb = b
    if nb == 0:
        return a
    if na == 0:
        return b
    n = na + nb
    delta = mb - ma
    return n, ma + delta * (nb / n), sa + sb + delta**2 * (na * nb / n)


def dense_moments(X, s=None) -> tuple:
    """``(n_w, mean, m2)`` per column of a dense ``X`` (n, d), ``m2 = Σ s (x − x̄)²``, in one
    read on threads (pieces fixed by ``n``: the same bits on any number of threads)."""
    X = np.asarray(X)
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    n, d = X.shape
    s = np.empty(0) if s is None else np.ascontiguousarray(s, dtype=np.float64)
    block = int(max(1, min(PASS_BLOCK_ROWS, MOMENT_BLOCK_VALUES // max(d, 1))))
    pieces = row_pieces(n, block)
    parts = map_in_threads(lambda b: _dense_moments(X, s, b[0], b[1], block), pieces,
                           _workers(len(pieces)))
    total = (0.0, np.zeros(d), np.zeros(d))
    for part in parts:
        total = merge_moments(total, part)
    return total
