"""Leave-one-out and generalized cross-validation for the closed form.

Both hold the *whole data's* penalty ``n_w α`` and design (centring, scaling) fixed, as
scikit-learn's ``RidgeCV`` does: the fit without row ``i`` minimises
``Σ_{j≠i} s_j (x̃_jᵀθ + β − y_j)² + n_w α ‖θ‖²``, so its alpha *per row* is
``α n_w / (n_w − s_i)``.  (The k-fold scores, in contrast, refit each training fold with its
own ``n_w``.)  With ``standardize=False`` that is ``sklearn.linear_model.RidgeCV`` with
``alphas = n_w · alphas``.

* ``"loo"`` — exact, from the leverages ``h_i = s_i (1/n_w + x̃_iᵀ (Ã + n_w α I)⁻¹ x̃_i)``
  (the ``1/n_w`` with an intercept; ``x̃`` centred then): the left-out residual is
  ``(y_i − ŷ_i)/(1 − h_i)``.  One pass over the rows with ``Ã = VΛVᵀ``:
  ``x̃ᵀ(Ã + n_w α I)⁻¹x̃ = Σ_j (x̃ᵀv_j)²/(λ_j + n_w α)`` for every ``α`` at once.
* ``"gcv"`` — Golub, Heath & Wahba's approximation with no pass at all:
  ``GCV(α) = (RSS(α)/n_w) / (1 − df(α)/n_w)²``, ``df(α) = Σ_j λ_j/(λ_j + n_w α)`` (+1 for
  the intercept), ``RSS`` from the statistics.
"""

from __future__ import annotations

import functools

import numpy as np

from ..design import Design
from ..penalty import l2_curvature
from .path import held_out_sse, small_work

__all__ = ["loo_scores", "gcv_scores"]


def _spectrum(stats, fit_intercept, standardize):
    design = Design.from_stats(stats, fit_intercept, standardize)
    ds = design.apply(stats)
    A = ds.gram if fit_intercept else ds.uncentred_gram()
    with small_work(A.shape[0]):
        lam, V = np.linalg.eigh(A)
    lam = np.maximum(lam, 0.0)
    return design, ds, lam, V


def _inverse(lam, weight_sum, alpha):
    """``1/(λ + n_w α)``, zero on the null space when ``α = 0`` (the minimum-norm fit)."""
    den = lam + l2_curvature(weight_sum, alpha)
    if alpha == 0:
        tol = lam.max(initial=0.0) * 1e-12
        return np.where(lam > tol, 1.0 / np.where(lam > tol, lam, 1.0), 0.0)
    return 1.0 / den


def _loo_block(block, start, design, mean_x, V, inverses, coefs, intercepts, weight_sum,
               fit_intercept):
    X, Y, w = block
    s = np.ones(X.shape[0]) if w is None else w
    Xt = design.transform(X)
    P = (Xt - mean_x) @ V if fit_intercept else Xt @ V
    P *= P
    a, k = intercepts.shape
    sums = np.zeros((2, a, k))
    for i in range(a):
        h = s * (P @ inverses[i]) + (s / weight_sum if fit_intercept else 0.0)
        r = Y - (np.asarray(X, dtype=np.float64) @ coefs[i] + intercepts[i])
        with np.errstate(divide="ignore", invalid="ignore"):
            e2 = (r / (1.0 - h)[:, None]) ** 2
        sums[0, i] = s @ e2
        sums[1, i] = s @ (e2 * e2)
    return sums


def loo_scores(rows, stats, alphas, coefs, intercepts, fit_intercept, standardize):
    """``(mse, se)`` of shape (n_alphas, k): the exact leave-one-out mean squared error
    (weighted by ``s``) and its standard error over the rows, in one pass over ``rows``.
    ``coefs``, ``intercepts``: the whole data's path (:func:`path_coefficients`)."""
    design, ds, lam, V = _spectrum(stats, fit_intercept, standardize)
    inverses = np.array([_inverse(lam, stats.weight_sum, a) for a in alphas])
    fn = functools.partial(_loo_block, design=design, mean_x=ds.mean_x, V=V, inverses=inverses,
                           coefs=coefs, intercepts=intercepts, weight_sum=stats.weight_sum,
                           fit_intercept=fit_intercept)
    sums = sum(rows.map_blocks_at(fn))
    mse = sums[0] / stats.weight_sum
    with np.errstate(invalid="ignore"):
        var = np.maximum(sums[1] / stats.weight_sum - mse**2, 0.0)
    return mse, np.sqrt(var / max(stats.n_rows - 1, 1))


def gcv_scores(stats, alphas, coefs, intercepts, fit_intercept, standardize):
    """GCV criterion per alpha and target, shape (n_alphas, k), from the statistics alone."""
    _, _, lam, _ = _spectrum(stats, fit_intercept, standardize)
    df = np.array([float(np.sum(lam * _inverse(lam, stats.weight_sum, a))) for a in alphas])
    df = df + (1.0 if fit_intercept else 0.0)
    sse = held_out_sse(stats, coefs, intercepts)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (sse / stats.weight_sum) / ((1.0 - df / stats.weight_sum) ** 2)[:, None]
