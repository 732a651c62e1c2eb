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

import functools

import numpy as np

from ..design import Design
from ..penalty import l2_curvature
from ..rows import StatsRows
from ..solvers import make_problem, normal
from ..stats import SufficientStats, representative_point, shifted_stats, unshift

__all__ = ["fold_stats", "path_coefficients", "held_out_sse", "auto_alphas", "check_alphas",
           "SUB_BLOCK_ROWS"]

#: rows handled at once inside a block: bounds the copy of one fold's rows
SUB_BLOCK_ROWS = 32768


def _block_fold_stats(block, start: int, folds, d: int, k: int) -> list:
    """Every fold's statistics of one block of rows ``start, start + 1, …``."""
    X, Y, w = block
    m = X.shape[0]
    out = [SufficientStats.empty(d, k) for _ in range(folds.n_folds)]
    for lo in range(0, m, SUB_BLOCK_ROWS):
        hi = min(lo + SUB_BLOCK_ROWS, m)
        ids = folds.of_rows(start + lo, start + hi)
        order = np.argsort(ids, kind="stable")
        cuts = np.searchsorted(ids[order], np.arange(folds.n_folds + 1))
        for f in range(folds.n_folds):
            sel = order[cuts[f]:cuts[f + 1]]
            if sel.shape[0] == 0:
                continue
            if sel.shape[0] == hi - lo:           # the whole sub-block: no copy
                Xf, Yf = X[lo:hi], Y[lo:hi]
                wf = None if w is None else w[lo:hi]
            else:
                sel = sel + lo
                Xf, Yf = X[sel], Y[sel]
                wf = None if w is None else w[sel]
            K = representative_point(Xf, Yf)
            with np.errstate(invalid="ignore", over="ignore"):   # checked just below
                s = unshift(shifted_stats(Xf, Yf, wf, K), K)
            if not s.is_finite():
                raise ValueError(f"rows {start + lo}–{start + hi - 1}: X, y or sample_weight "
                                 "holds NaN or inf, or values whose squares overflow float64")
            out[f] = out[f].merge(s)
    return out


def fold_stats(rows, folds) -> list:
    """Every fold's statistics in one pass over ``rows`` (:meth:`Rows.map_blocks_at`: each
    block's rows sorted into folds by their global row numbers, where the block lives)."""
    d, k = rows.n_features, rows.n_targets
    fn = functools.partial(_block_fold_stats, folds=folds, d=d, k=k)
    per_block = rows.map_blocks_at(fn)
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
