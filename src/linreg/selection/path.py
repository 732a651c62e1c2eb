"""The pieces of exact cross-validation from sufficient statistics.

* :func:`fold_stats` — one pass over the rows, wherever they are, giving every fold's
  :class:`~linreg.stats.SufficientStats` (their merge is the whole data's);
* :func:`path_coefficients` — the ridge solutions for a whole path of ``alpha`` from one
  set of statistics: one eigendecomposition ``Ã = V Λ Vᵀ`` of the (standardized) Gram, then
  ``θ(α) = V (Λ + n_w α I)⁻¹ Vᵀ c̃`` for each ``α`` (``α = 0`` goes through the normal solver,
  so a rank-deficient design gets the same minimum-norm answer as ``LinearRegression``);
* :func:`held_out_sse` — ``Σ s (xᵀw + b − y)²`` on a held-out fold from its statistics::

      Σ s e eᵀ = Wᵀ G W − Wᵀ C − Cᵀ W + Q + n_h m mᵀ,   m = x̄ᵀ W + b − ȳ

  (``G, C, Q`` the fold's centred moments, ``x̄, ȳ`` its means, ``n_h`` its weight).
* :func:`auto_alphas` — the default log-spaced path.
"""

from __future__ import annotations

import contextlib
import functools

import numpy as np

from ..design import Design
from ..parallel import map_row_pieces, one_blas_thread
from ..penalty import l2_curvature
from ..rows import NonFiniteRows, StatsRows
from ..rows.sparse import sparse_stats
from ..solvers import make_problem, normal
from ..stats import SufficientStats, representative_point, shifted_stats, unshift

__all__ = ["fold_stats", "path_coefficients", "held_out_sse", "auto_alphas", "check_alphas",
           "PIECE_ROWS", "POINT_ROWS", "SMALL_ORDER", "small_work"]

#: rows of a block whose folds' statistics are computed together, pieces of a block running
#: on threads (each fold's rows are a slice of the piece for contiguous folds, else a copy)
PIECE_ROWS = 16384
#: rows whose median is the point a fold's statistics are accumulated around
POINT_ROWS = 256
#: Gram matrices of at most this order are decomposed with BLAS on one thread: threads cost
#: more than they give at that size (measured at d = 100: 5 ms on one thread, 60–400 ms on
#: two when the cores are busy with other work)
SMALL_ORDER = 256


def small_work(order: int):
    """A context for O(order³) work after the pass: BLAS on one thread when ``order`` is at
    most :data:`SMALL_ORDER`, else as it is."""
    return one_blas_thread() if order <= SMALL_ORDER else contextlib.nullcontext()


def _fold_slices(ids: np.ndarray, n_folds: int, contiguous: bool):
    """``(order, cuts)``: the rows of fold ``f`` are ``order[cuts[f]:cuts[f + 1]]`` (or that
    slice itself when ``order`` is None: the ids are sorted already)."""
    order = None if contiguous else np.argsort(ids, kind="stable")
    cuts = np.searchsorted(ids if order is None else ids[order], np.arange(n_folds + 1))
    if order is not None and np.count_nonzero(np.diff(cuts)) == 1:
        order = None                  # one fold only: the rows in order, no copy
    return order, cuts


def _piece_fold_stats(X, Y, w, lo: int, hi: int, start: int, folds, d: int, k: int) -> list:
    """Every fold's statistics of the rows ``lo:hi`` of a block whose first row is the global
    row ``start``: each fold's rows accumulated around a point of their own (the median of
    their first rows: a fold whose target is constant gets a target variance of exactly
    zero)."""
    out = [SufficientStats.empty(d, k) for _ in range(folds.n_folds)]
    order, cuts = _fold_slices(folds.of_rows(start + lo, start + hi), folds.n_folds,
                               folds.kind == "kfold")
    for f in range(folds.n_folds):
        a, b = int(cuts[f]), int(cuts[f + 1])
        if a == b:
            continue
        rows = slice(lo + a, lo + b) if order is None else order[a:b] + lo
        Xf, Yf = X[rows], Y[rows]
        wf = None if w is None else w[rows]
        where = f"rows {start + lo}–{start + hi - 1}"
        if hasattr(Xf, "tocsr"):          # canonical CSR rows (checked finite): sparse products
            out[f] = sparse_stats(Xf, Yf, wf)
            continue
        K = representative_point(Xf, Yf, POINT_ROWS)
        try:
            with np.errstate(invalid="ignore", over="ignore"):   # checked just below
                shifted = shifted_stats(Xf, Yf, wf, K)
            if not shifted.is_finite():
                raise NonFiniteRows(f"{where}: X, y or sample_weight holds NaN or inf, or "
                                    "values whose squares overflow float64")
            out[f] = unshift(shifted, K)
        except NonFiniteRows:
            raise
        except ValueError as exc:              # sums of squares that float64 cannot hold
            raise NonFiniteRows(f"{where}: {exc}") from None
    return out


def _block_fold_stats(block, start: int, folds, d: int, k: int) -> list:
    """Every fold's statistics of one block of rows ``start, start + 1, …``, pieces of
    ``PIECE_ROWS`` rows on threads (:func:`linreg.parallel.map_row_pieces`: the pieces, and
    so the bits, depend on the rows only), merged in row order."""
    X, Y, w = block
    parts = map_row_pieces(lambda lo, hi: _piece_fold_stats(X, Y, w, lo, hi, start, folds, d, k),
                           X.shape[0], PIECE_ROWS)
    out = [SufficientStats.empty(d, k) for _ in range(folds.n_folds)]
    for part in parts:
        out = [a.merge(b) for a, b in zip(out, part)]
    return out


def fold_stats(rows, folds) -> list:
    """Every fold's statistics in one pass over ``rows`` (each block's rows sorted into folds
    by their global row numbers, where the block lives).  The pass checks its own values —
    every fold's sums must be finite — so rows in files are read as stored, with no copy
    and no check of every value (:meth:`Rows.map_blocks_checking`); a block whose sums are
    not finite is then checked to name the bad value."""
    d, k = rows.n_features, rows.n_targets
    fn = functools.partial(_block_fold_stats, folds=folds, d=d, k=k)
    matrix = rows.matrix()
    if matrix is not None and hasattr(matrix[0], "tocsr"):
        # a sparse matrix in memory, its values checked by the validation: one block, whose
        # folds' statistics come from sparse products (O(nnz · d), never dense rows)
        per_block = [fn(matrix, 0)]
    else:
        per_block = rows.map_blocks_checking(fn)
    totals = [SufficientStats.empty(d, k) for _ in range(folds.n_folds)]
    for block in per_block:
        totals = [a.merge(b) for a, b in zip(totals, block)]
    return totals


def check_alphas(alphas) -> np.ndarray:
    """``alphas`` as a float array: finite, ≥ 0, strictly increasing."""
    a = np.asarray(alphas, dtype=np.float64).reshape(-1) if np.ndim(alphas) <= 1 else None
    if a is None or a.shape[0] == 0:
        raise ValueError(f"alphas must be a non-empty 1-D list of numbers, got {alphas!r}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"alphas must be finite; got {a.tolist()}")
    if np.any(a < 0):
        raise ValueError(f"alphas must be >= 0; alphas[{int(np.flatnonzero(a < 0)[0])}] is "
                         f"{a[a < 0][0]!r}")
    if np.any(np.diff(a) <= 0):
        i = int(np.flatnonzero(np.diff(a) <= 0)[0])
        raise ValueError(f"alphas must be strictly increasing (sorted, no repeats); alphas[{i}] = "
                         f"{a[i]!r} is followed by {a[i + 1]!r}")
    return a


def auto_alphas(stats: SufficientStats, fit_intercept: bool, standardize: bool,
                n_alphas: int) -> np.ndarray:
    """``n_alphas`` values log-spaced over ``[1e-5 L, 1e2 L]``, ``L = tr(Ã)/(d n_w)`` the
    mean eigenvalue of the loss's Hessian ``Ã/n_w`` (1 for standardized features): from a
    penalty that barely moves the least-squares fit to one that shrinks it almost to zero."""
    ds = Design.from_stats(stats, fit_intercept, standardize).apply(stats)
    A = ds.gram if fit_intercept else ds.uncentred_gram()
    L = float(np.trace(A)) / max(A.shape[0], 1) / stats.weight_sum
    L = L if np.isfinite(L) and L > 0 else 1.0
    return L * np.logspace(-5, 2, n_alphas)


def path_coefficients(stats: SufficientStats, alphas: np.ndarray, fit_intercept: bool,
                      standardize: bool):
    """``(coef, intercept)`` of shapes (n_alphas, d, k) and (n_alphas, k), in original units:
    ``LinearRegression(alpha=a, fit_intercept, standardize)`` fitted on the rows of
    ``stats``, for every ``a`` (alpha per row of these rows: the penalty is ``n_w α``)."""
    with small_work(stats.n_features):
        return _path_coefficients(stats, alphas, fit_intercept, standardize)


def _path_coefficients(stats, alphas, fit_intercept, standardize):
    design = Design.from_stats(stats, fit_intercept, standardize)
    ds = design.apply(stats)
    A = ds.gram if fit_intercept else ds.uncentred_gram()
    rhs = ds.normal_rhs()
    lam, V = np.linalg.eigh(A)
    lam = np.maximum(lam, 0.0)
    proj = V.T @ rhs
    d, k = rhs.shape
    coefs = np.empty((alphas.shape[0], d, k))
    intercepts = np.empty((alphas.shape[0], k))
    for i, a in enumerate(alphas):
        if a == 0:
            problem = make_problem(stats, StatsRows(stats), fit_intercept, standardize, 0.0)
            solution = normal.solve(problem)
            theta, beta = solution.theta, solution.beta
        else:
            theta = V @ (proj / (lam + l2_curvature(stats.weight_sum, a))[:, None])
            beta = ds.mean_y - ds.mean_x @ theta if fit_intercept else np.zeros(k)
        coef, intercept = design.to_original(theta, beta)
        coefs[i] = coef
        intercepts[i] = intercept if fit_intercept else 0.0
    return coefs, intercepts


def held_out_sse(stats: SufficientStats, coefs: np.ndarray, intercepts: np.ndarray) -> np.ndarray:
    """``Σ s (xᵀw + b − y)²`` per alpha and target, shape (n_alphas, k), over the rows of
    ``stats`` (from their statistics alone; see the module docstring)."""
    G, C, Q = stats.gram, stats.cross, stats.target_comoment
    GW = np.einsum("ij,ajk->aik", G, coefs)
    quad = np.einsum("aik,aik->ak", coefs, GW)
    lin = np.einsum("ik,aik->ak", C, coefs)
    m = np.einsum("i,aik->ak", stats.mean_x, coefs) + intercepts - stats.mean_y
    sse = quad - 2 * lin + np.diag(Q)[None, :] + stats.weight_sum * m * m
    return np.maximum(sse, 0.0)
