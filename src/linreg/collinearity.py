"""Two statistics users ask for beside the coefficients, cheap from the training statistics:
variance inflation factors and standardized coefficients.

With ``M`` the centred co-moments of ``[x, y]`` (weighted by the sample weights):

* ``VIF_j = 1 / (1 − R²_j)``, ``R²_j`` that of regressing feature ``j`` on the others with an
  intercept; equal to ``(M_xx⁻¹)_jj · (M_xx)_jj`` (statsmodels'
  ``variance_inflation_factor`` with a constant column in the design);
* the standardized coefficient ``β_j = w_j · s_j / s_y``, ``s`` the (weighted) standard
  deviations: the change in ``y``, in its standard deviations, for one standard deviation of
  ``x_j`` (what a fit on z-scored columns gives).
"""

from __future__ import annotations

import numpy as np

__all__ = ["vif", "standardized_coefficients"]


def _stats(model):
    from .stats import SufficientStats
    stats = getattr(model, "stats_", None)
    if not isinstance(stats, SufficientStats):
        raise ValueError("this needs the model's training statistics (stats_), which a model "
                         "fitted stochastically does not keep; refit with solver 'auto', "
                         "'normal', 'qr' or 'gd'")
    return stats


def _named(values, model):
    from .validation import coefficient_names
    names = coefficient_names(model)
    if names is None:
        return values
    import pandas as pd
    if values.ndim == 1:
        return pd.Series(values, index=[str(n) for n in names])
    return pd.DataFrame(values, columns=[str(n) for n in names])


def vif(model):
    """The variance inflation factor of each feature (a pandas Series indexed by name when the
    fit saw names); ``inf`` for a feature that is a linear combination of the others."""
    stats = _stats(model)
    G = np.asarray(stats.gram, dtype=np.float64)
    d = G.shape[0]
    scale = np.sqrt(np.diag(G))
    out = np.full(d, np.inf)
    ok = scale > 0
    if d == 1:
        out[ok] = 1.0
        return _named(out, model)
    R = G[np.ix_(ok, ok)] / np.outer(scale[ok], scale[ok])       # the correlation matrix
    s = np.linalg.svd(R, compute_uv=False)
    if s[-1] > 1e-12 * s[0]:
        diag = np.diag(np.linalg.inv(R))
    else:
        # singular: R²_j of each column on the others by least squares (1 − R²_j ≈ 0: inf)
        m = R.shape[0]
        diag = np.empty(m)
        for j in range(m):
            others = np.delete(np.arange(m), j)
            fit, *_ = np.linalg.lstsq(R[np.ix_(others, others)], R[others, j], rcond=1e-12)
            unexplained = 1.0 - float(R[j, others] @ fit)
            diag[j] = np.inf if unexplained <= 1e-10 else 1.0 / unexplained
    out[ok] = diag
    return _named(out, model)


def standardized_coefficients(model):
    """``coef_ · s_x / s_y`` (shape of ``coef_``; pandas when the fit saw names)."""
    stats = _stats(model)
    d = stats.n_features
    sd = np.sqrt(np.maximum(np.diag(stats.comoment), 0.0) / stats.weight_sum)
    sx, sy = sd[:d], sd[d:]
    coef = np.asarray(model.coef_, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        beta = coef * sx / sy[0] if coef.ndim == 1 else coef * sx[None, :] / sy[:, None]
    return _named(beta, model)
