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

**Column moments.**  ``n_w``, the weighted means and ``Σ s (z − z̄)²`` per column of dense
``X`` and ``Y``, and the cross moments ``Σ s (x − x̄)(y − ȳ)ᵀ`` (d × k: the loss and gradient
at zero, for free), in one read: each block of rows is centred on its own mean (two passes
over a block that stays in cache) and blocks are merged with Chan et al.'s update, as
:mod:`linreg.stats` does for the full statistics.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .dense_groups import GROUP_MIN_WIDTH, dense_group_pass
from .kernel_types import read_only
from .parallel import PASS_BLOCK_ROWS, map_pieces, pass_pieces

__all__ = ["residual_pass", "raw_column_sums", "dense_moments", "merge_moments",
           "csr_column_sums"]

#: sums may be reassociated (so they vectorize); NaN and inf still behave as IEEE says
FAST = {"reassoc", "contract"}
#: about this many float64 values per block of the moments pass (a block stays in cache)
MOMENT_BLOCK_VALUES = 1 << 18


@njit(cache=True, nogil=True, fastmath=FAST)
def _dense_pass(X, Y, s, rows, lo, hi, shift, inv_scale, theta, beta, targets, g, rsum,
                centred, u, sums, sxx, sxy):
    """Rows ``rows[lo:hi]`` of dense ``X``: adds ``s x̃ rᵀ`` to ``g`` and ``s r`` to ``rsum``;
    returns ``Σ s ‖r‖²``.  ``theta`` and ``g`` are flat (d·k,), row-major like ``θ``.  One
    target: ``u = θ/scale`` and ``g`` gets ``s (x − shift) r`` (scaled by the caller), so a
    row is read with one array beside it (two with ``centred``, when the shift is not 0).
    With ``sums``, also adds ``s x²`` and ``s x yᵀ`` of the raw rows to ``sxx`` and ``sxy``
    (flat (d·k,)) from the same read.  (One target and rows of ``GROUP_MIN_WIDTH`` columns or
    more go to :func:`linreg.dense_groups.dense_group_pass` instead: four rows at a time.)"""
    d = X.shape[1]
    k = beta.shape[0]
    weighted = s.shape[0] > 0
    r = np.empty(k)
    total = 0.0
    for t in range(lo, hi):
        i = rows[t]
        wi = s[i] if weighted else 1.0
        if sums and k > 1:
            for c in range(k):
                wy = wi * Y[i, c]
                for j in range(d):
                    sxy[j * k + c] += X[i, j] * wy
            for j in range(d):
                sxx[j] += wi * X[i, j] * X[i, j]
        if k == 1:      # one target: plain loops over the row, which vectorize
            acc = beta[0] - Y[i, 0] if targets else beta[0]
            if centred:
                for j in range(d):
                    acc += (X[i, j] - shift[j]) * u[j]
            else:
                for j in range(d):
                    acc += X[i, j] * u[j]
            total += wi * acc * acc
            acc *= wi
            rsum[0] += acc
            if sums:        # the column sums in the gradient's loop: the row is read once
                wy = wi * Y[i, 0]
                for j in range(d):
                    x = X[i, j]
                    g[j] += (x - shift[j]) * acc
                    sxx[j] += wi * x * x
                    sxy[j] += x * wy
            elif centred:
                for j in range(d):
                    g[j] += (X[i, j] - shift[j]) * acc
            else:
                for j in range(d):
                    g[j] += X[i, j] * acc
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
              targets, g, rsum, u, sums, sxx, sxy):
    """Rows ``rows[lo:hi]`` of a CSR matrix: adds ``s (x/scale) rᵀ`` (stored entries only)
    to ``g`` and ``s r`` to ``rsum``; returns ``Σ s ‖r‖²``.  ``w_theta = wᵀθ`` (k,), the
    lazy centring; ``theta`` and ``g`` flat (d·k,).  With ``sums``, also the raw column
    sums of :func:`_dense_pass` (stored entries)."""
    k = beta.shape[0]
    weighted = s.shape[0] > 0
    r = np.empty(k)
    total = 0.0
    for t in range(lo, hi):
        i = rows[t]
        wi = s[i] if weighted else 1.0
        if sums:
            _add_csr_row_sums(indptr, indices, data, Y, i, wi, k, sxx, sxy)
        if k == 1:      # one target: θ/scale given as u, g gets s x r (scaled by the caller)
            # (unsigned positions and columns: no wraparound test per read)
            lo_q, hi_q = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
            acc = beta[0] - w_theta[0] - (Y[i, 0] if targets else 0.0)
            for q in range(lo_q, hi_q):
                acc += data[q] * u[np.uint64(indices[q])]
            total += wi * acc * acc
            acc *= wi
            rsum[0] += acc
            for q in range(lo_q, hi_q):
                g[np.uint64(indices[q])] += data[q] * acc
            continue
        for c in range(k):
            r[c] = beta[c] - w_theta[c] - (Y[i, c] if targets else 0.0)
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            xs = data[q] * inv_scale[j]
            for c in range(k):
                r[c] += xs * theta[j * k + c]
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


def residual_pass(X, Y, s, rows, shift, inv_scale, theta, beta, targets: bool = True,
                  column_sums: bool = False):
    """``(S, g, ρ)`` of the module docstring over ``X[rows]`` (dense, or CSR when ``X`` has
    ``indptr``), ``g`` in design coordinates (d, k).  ``s``: the weights indexed by row of
    ``X`` (empty for unit weights); ``Y`` (n, k) float64 (ignored with ``targets=False``).

    With ``column_sums``, returns ``(S, g, ρ, (Σ s x², Σ s x yᵀ))`` — the raw columns' sums
    over the same rows, (d,) and (d, k) — from the same read: what the start of a fit on the
    raw design needs of the columns, without a pass of its own."""
    d, k = theta.shape
    flat = np.ascontiguousarray(theta, dtype=np.float64).ravel()
    beta = np.ascontiguousarray(beta, dtype=np.float64)
    sparse = hasattr(X, "indptr")
    pieces = pass_pieces(rows.shape[0], PASS_BLOCK_ROWS, d * k + (d * (k + 1) if column_sums else 0))

    def sums_arrays():
        if column_sums:
            return np.zeros(d), np.zeros(d * k)
        return np.empty(0), np.empty(0)

    if sparse:
        w = shift * inv_scale
        w_theta = np.sum(w[:, None] * flat.reshape(d, k), axis=0)    # (not BLAS: a small call can wait for its threads)

        u = flat * inv_scale if k == 1 else flat

        def piece(bounds):
            g, rsum, extra = np.zeros(d * k), np.zeros(k), sums_arrays()
            total = _csr_pass(X.indptr, X.indices, X.data, Y, s, rows, bounds[0], bounds[1],
                              inv_scale, flat, beta, w_theta, targets, g, rsum, u,
                              column_sums, *extra)
            return total, g, rsum, extra
    else:
        centred = bool(np.any(shift != 0.0))
        u = flat * inv_scale if k == 1 else flat
        # the inputs read-only: one compiled version for writable and read-only rows
        X, Y, s, rows = read_only(X), read_only(Y), read_only(s), read_only(rows)

        grouped = k == 1 and d >= GROUP_MIN_WIDTH    # (chosen here: narrow rows never compile it)

        def piece(bounds):
            g, rsum, extra = np.zeros(d * k), np.zeros(k), sums_arrays()
            if grouped:
                total = dense_group_pass(X, Y, s, rows, bounds[0], bounds[1], shift, beta,
                                         targets, g, rsum, centred, u, column_sums, *extra)
            else:
                total = _dense_pass(X, Y, s, rows, bounds[0], bounds[1], shift, inv_scale, flat,
                                    beta, targets, g, rsum, centred, u, column_sums, *extra)
            return total, g, rsum, extra

    nnz = X.nnz if sparse else rows.shape[0] * d
    parts = map_pieces(piece, pieces, nnz * k)
    total, g, rsum = 0.0, np.zeros(d * k), np.zeros(k)
    sums = [np.zeros(d), np.zeros(d * k)] if column_sums else []
    for part_total, part_g, part_rsum, extra in parts:   # in piece order: the same bits always
        total += part_total
        g += part_g
        rsum += part_rsum
        for into, part in zip(sums, extra):
            into += part
    g = g.reshape(d, k)
    if k == 1:
        g *= inv_scale[:, None]
    if sparse:
        g -= np.outer(w, rsum)
    if column_sums:
        return total, g, rsum, (sums[0], sums[1].reshape(d, k))
    return total, g, rsum


@njit(cache=True, nogil=True, fastmath=FAST)
def _dense_raw_sums(X, Y, s, rows, lo, hi, sxx, sxy):
    """Rows ``rows[lo:hi]`` of dense ``X``: adds ``s x²`` to ``sxx`` and ``s x yᵀ`` to ``sxy``
    (flat (d·k,))."""
    d = X.shape[1]
    k = Y.shape[1]
    weighted = s.shape[0] > 0
    for t in range(lo, hi):
        i = rows[t]
        wi = s[i] if weighted else 1.0
        if k == 1:
            wy = wi * Y[i, 0]
            for j in range(d):
                x = X[i, j]
                sxx[j] += wi * x * x
                sxy[j] += x * wy
            continue
        for j in range(d):
            x = X[i, j]
            sxx[j] += wi * x * x
            for c in range(k):
                sxy[j * k + c] += wi * x * Y[i, c]


@njit(cache=True, nogil=True, fastmath=FAST)
def _csr_raw_sums(indptr, indices, data, Y, s, rows, lo, hi, sxx, sxy):
    """:func:`_dense_raw_sums` of CSR rows (stored entries)."""
    k = Y.shape[1]
    weighted = s.shape[0] > 0
    for t in range(lo, hi):
        i = rows[t]
        _add_csr_row_sums(indptr, indices, data, Y, i, s[i] if weighted else 1.0, k, sxx, sxy)


@njit(cache=True, nogil=True, fastmath=FAST, inline="always")
def _add_csr_row_sums(indptr, indices, data, Y, i, wi, k, sxx, sxy):
    """Adds row ``i``'s ``wi x²`` to ``sxx`` and ``wi x yᵀ`` to ``sxy`` (flat (d·k,)), its
    stored entries only: the raw columns' sums, in the loss pass or alone."""
    if k == 1:      # (unsigned positions and columns: no wraparound test per read)
        for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            j = np.uint64(indices[q])
            wx = wi * data[q]
            sxx[j] += wx * data[q]
            sxy[j] += wx * Y[i, 0]
        return
    for q in range(indptr[i], indptr[i + 1]):
        j = indices[q]
        wx = wi * data[q]
        sxx[j] += wx * data[q]
        for c in range(k):
            sxy[j * k + c] += wx * Y[i, c]


def raw_column_sums(X, Y, s, rows) -> tuple:
    """``(Σ s x², Σ s x yᵀ)`` — (d,), (d, k) — of the raw columns over ``X[rows]`` (dense, or
    CSR read in place), in the caller's thread: the pieces of :func:`residual_pass`, one
    after another, added in order (the same bits wherever it runs).  ``s`` indexed by row of
    ``X`` (empty for unit weights).  What the start of a stochastic fit on the raw design
    needs of the columns (:class:`linreg.deferred_start.DeferredStart`), which runs it beside the
    first epoch (:func:`linreg.parallel.in_background`)."""
    d = X.shape[1]
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    k = Y.shape[1]
    sxx, sxy = np.zeros(d), np.zeros(d * k)
    for lo, hi in pass_pieces(rows.shape[0], PASS_BLOCK_ROWS, d * (k + 1)):
        part_xx, part_xy = np.zeros(d), np.zeros(d * k)
        if hasattr(X, "indptr"):
            _csr_raw_sums(X.indptr, X.indices, X.data, Y, s, rows, lo, hi, part_xx, part_xy)
        else:
            _dense_raw_sums(X, Y, s, rows, lo, hi, part_xx, part_xy)
        sxx += part_xx
        sxy += part_xy
    return sxx, sxy.reshape(d, k)


@njit(cache=True, nogil=True, fastmath=FAST)
def _dense_moments(X, Y, s, lo, hi, block):
    """``(n_w, x̄, m2_x, ȳ, m2_y, c)`` of rows ``lo:hi`` (``c = Σ s (x − x̄)(y − ȳ)ᵀ``, (d, k)):
    blocks centred on their own means, merged with Chan et al.'s update."""
    d = X.shape[1]
    k = Y.shape[1]
    weighted = s.shape[0] > 0
    n_w = 0.0
    mean_x, m2_x = np.zeros(d), np.zeros(d)
    mean_y, m2_y = np.zeros(k), np.zeros(k)
    cross = np.zeros((d, k))
    bx, bm2x = np.empty(d), np.empty(d)
    by, bm2y = np.empty(k), np.empty(k)
    bcross = np.empty((d, k))
    bcross1 = bcross[:, 0] if k == 1 else np.empty(0)      # one target: a 1-D view
    zy = np.empty(k)
    for b0 in range(lo, hi, block):
        b1 = min(b0 + block, hi)
        bw = 0.0
        bx[:] = 0.0
        by[:] = 0.0
        for i in range(b0, b1):
            wi = s[i] if weighted else 1.0
            bw += wi
            for j in range(d):
                bx[j] += wi * X[i, j]
            for c in range(k):
                by[c] += wi * Y[i, c]
        if bw == 0.0:
            continue
        bx /= bw
        by /= bw
        bm2x[:] = 0.0
        bm2y[:] = 0.0
        bcross[:, :] = 0.0
        for i in range(b0, b1):
            wi = s[i] if weighted else 1.0
            for c in range(k):
                zy[c] = Y[i, c] - by[c]
                bm2y[c] += wi * zy[c] * zy[c]
            if k == 1:
                wz = wi * zy[0]
                for j in range(d):
                    z = X[i, j] - bx[j]
                    bm2x[j] += wi * z * z
                    bcross1[j] += z * wz
            else:
                for j in range(d):
                    z = X[i, j] - bx[j]
                    bm2x[j] += wi * z * z
                    for c in range(k):
                        bcross[j, c] += wi * z * zy[c]
        total = n_w + bw
        f, g = bw / total, n_w * bw / total
        for j in range(d):
            dx = bx[j] - mean_x[j]
            mean_x[j] += dx * f
            m2_x[j] += bm2x[j] + dx * dx * g
            for c in range(k):
                cross[j, c] += bcross[j, c] + dx * (by[c] - mean_y[c]) * g
        for c in range(k):
            dy = by[c] - mean_y[c]
            mean_y[c] += dy * f
            m2_y[c] += bm2y[c] + dy * dy * g
        n_w = total
    return n_w, mean_x, m2_x, mean_y, m2_y, cross


def merge_moments(a: tuple, b: tuple) -> tuple:
    """Chan et al.'s merge of two ``(n_w, x̄, m2_x, ȳ, m2_y, c)`` of disjoint rows."""
    na, nb = a[0], b[0]
    if nb == 0:
        return a
    if na == 0:
        return b
    n = na + nb
    dx, dy = b[1] - a[1], b[3] - a[3]
    g = na * nb / n
    return (n, a[1] + dx * (nb / n), a[2] + b[2] + dx**2 * g, a[3] + dy * (nb / n),
            a[4] + b[4] + dy**2 * g, a[5] + b[5] + np.outer(dx, dy) * g)


def dense_moments(X, Y, s=None) -> tuple:
    """``(n_w, x̄, m2_x, ȳ, m2_y, c)`` of dense ``X`` (n, d) and ``Y`` (n, k):
    ``m2 = Σ s (x − x̄)²`` per column and ``c = Σ s (x − x̄)(y − ȳ)ᵀ``, in one read on threads
    (pieces fixed by ``n``: the same bits on any number of threads)."""
    X = np.asarray(X)
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    n, d = X.shape
    k = Y.shape[1]
    s = np.empty(0) if s is None else np.ascontiguousarray(s, dtype=np.float64)
    X, Y, s = read_only(X), read_only(Y), read_only(s)      # one compiled version (kernel_types)
    block = int(max(1, min(PASS_BLOCK_ROWS, MOMENT_BLOCK_VALUES // max(d, 1))))
    pieces = pass_pieces(n, block, d * (k + 2))
    parts = map_pieces(lambda b: _dense_moments(X, Y, s, b[0], b[1], block), pieces, n * (d + k))
    total = (0.0, np.zeros(d), np.zeros(d), np.zeros(k), np.zeros(k), np.zeros((d, k)))
    for part in parts:
        total = merge_moments(total, part)
    return total


@njit(cache=True, nogil=True, fastmath=FAST)
def _csr_sums(indptr, indices, data, s, Yc, lo, hi, sx, sxx, sxy):
    """Rows ``lo:hi`` of a CSR matrix: ``Σ s x``, ``Σ s x²`` and ``Σ s x ycᵀ`` per column
    (unsigned positions where they index alone: no wraparound test per read)."""
    k = Yc.shape[1]
    weighted = s.shape[0] > 0
    for i in range(lo, hi):
        wi = s[i] if weighted else 1.0
        if k == 1:
            yc = Yc[i, 0]
            for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                j = np.uint64(indices[q])
                v = wi * data[q]
                sx[j] += v
                sxx[j] += v * data[q]
                sxy[j] += v * yc
            continue
        for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            j = indices[q]          # signed: j * k + c below
            v = wi * data[q]
            sx[j] += v
            sxx[j] += v * data[q]
            for c in range(k):
                sxy[j * k + c] += v * Yc[i, c]


def csr_column_sums(X, s=None, Yc=None) -> tuple:
    """``(Σ s x, Σ s x², Σ s x ycᵀ)`` per column of a CSR ``X`` — (d,), (d,), (d, k) — in one
    O(nnz·k) read on threads (``Yc`` (n, k), or None for no third sum; pieces fixed by
    ``n``, added in order)."""
    n, d = X.shape
    s = np.empty(0) if s is None else np.ascontiguousarray(s, dtype=np.float64)
    Yc = np.empty((n, 0)) if Yc is None else np.ascontiguousarray(Yc, dtype=np.float64)
    k = Yc.shape[1]
    pieces = pass_pieces(n, 4 * PASS_BLOCK_ROWS, d * (k + 2))

    def piece(bounds):
        # one target: the three sums of a column side by side (one cache line per entry
        # read instead of three: about 13 % off the pass; the same additions in the same order)
        sums = ((lambda S: (S[:, 0], S[:, 1], S[:, 2]))(np.zeros((d, 3))) if k == 1
                else (np.zeros(d), np.zeros(d), np.zeros(d * k)))
        _csr_sums(X.indptr, X.indices, X.data, s, Yc, bounds[0], bounds[1], *sums)
        return sums

    totals = [np.zeros(d), np.zeros(d), np.zeros(d * k)]
    for part in map_pieces(piece, pieces, X.nnz * (k + 1)):
        for total, value in zip(totals, part):
            total += value
    return totals[0], totals[1], totals[2].reshape(d, k)
