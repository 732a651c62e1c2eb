"""The tests' formulas: the sum of squared residuals from the statistics, Durbin–Watson,
Jarque–Bera, the omnibus normality test and the F test that every slope is zero."""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg
import scipy.stats

from ..stats import SufficientStats

__all__ = ["ssr_from_stats", "durbin_watson_statistic", "jarque_bera_test", "omnibus_test",
           "f_test"]


def ssr_from_stats(stats: SufficientStats, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """``SSR = Σ s_i (y_i − x_iᵀw − b)²`` per target, from the statistics alone::

        SSR = wᵀGw − 2 wᵀc + q + n_w e²,   e = x̄ᵀw + b − ȳ

    (``G``, ``c``, ``q`` centred on the means; ``coef`` (d, k), ``intercept`` (k,)).
    """
    Gw = stats.gram @ coef
    quad = np.sum(coef * Gw, axis=0) - 2.0 * np.sum(stats.cross * coef, axis=0)
    quad = quad + np.diag(stats.target_comoment)
    e = stats.mean_x @ coef + intercept - stats.mean_y
    return np.maximum(quad, 0.0) + stats.weight_sum * e * e


def durbin_watson_statistic(diff_sq_sum, sq_sum):
    """``DW = Σ_{i≥2} (u_i − u_{i−1})² / Σ u_i²`` (``u`` the weighted residuals, in row order)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(diff_sq_sum) / np.asarray(sq_sum)


def jarque_bera_test(n: int, skew, kurtosis):
    """``JB = n/6 · (S² + (K − 3)²/4)`` with p-value ``P(χ²₂ > JB)``."""
    skew, kurtosis = np.asarray(skew, dtype=float), np.asarray(kurtosis, dtype=float)
    jb = n / 6.0 * (skew**2 + 0.25 * (kurtosis - 3.0) ** 2)
    return jb, scipy.stats.chi2.sf(jb, 2)


def omnibus_test(n: int, skew, kurtosis):
    """D'Agostino–Pearson omnibus test ``K² = Z_s² + Z_k²``, p-value ``P(χ²₂ > K²)``.

    ``Z_s`` is D'Agostino's transform of the skewness ``√b₁``::

        y = √b₁ √((n+1)(n+3) / (6(n−2))),   β₂ = 3(n²+27n−70)(n+1)(n+3) / ((n−2)(n+5)(n+7)(n+9))
        W² = √(2(β₂−1)) − 1,   δ = 1/√(½ ln W²),   a = √(2/(W²−1)),   Z_s = δ asinh(y/a)

    and ``Z_k`` Anscombe & Glynn's transform of the kurtosis ``b₂``::

        E = 3(n−1)/(n+1),   V = 24n(n−2)(n−3) / ((n+1)²(n+3)(n+5)),   x = (b₂ − E)/√V
        √β₁ = 6(n²−5n+2)/((n+7)(n+9)) · √(6(n+3)(n+5) / (n(n−2)(n−3)))
        A = 6 + 8/√β₁ (2/√β₁ + √(1 + 4/β₁)),
        Z_k = [1 − 2/(9A) − ∛((1 − 2/A) / (1 + x√(2/(A−4))))] / √(2/(9A))

    (the same as ``scipy.stats.normaltest``).  NaN for fewer than 8 observations.
    """
    skew, b2 = np.asarray(skew, dtype=float), np.asarray(kurtosis, dtype=float)
    if n < 8:
        nan = np.full(skew.shape, np.nan)
        return nan, nan
    n = float(n)
    y = skew * math.sqrt((n + 1) * (n + 3) / (6.0 * (n - 2)))
    beta2 = 3.0 * (n**2 + 27 * n - 70) * (n + 1) * (n + 3) / ((n - 2) * (n + 5) * (n + 7) * (n + 9))
    W2 = -1.0 + math.sqrt(2.0 * (beta2 - 1.0))
    delta = 1.0 / math.sqrt(0.5 * math.log(W2))
    a = math.sqrt(2.0 / (W2 - 1.0))
    y = np.where(y == 0, 1.0, y)
    z_skew = delta * np.log(y / a + np.sqrt((y / a) ** 2 + 1.0))

    E = 3.0 * (n - 1) / (n + 1)
    var_b2 = 24.0 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5))
    x = (b2 - E) / math.sqrt(var_b2)
    sqrt_beta1 = (6.0 * (n * n - 5 * n + 2) / ((n + 7) * (n + 9))
                  * math.sqrt(6.0 * (n + 3) * (n + 5) / (n * (n - 2) * (n - 3))))
    A = 6.0 + 8.0 / sqrt_beta1 * (2.0 / sqrt_beta1 + math.sqrt(1.0 + 4.0 / sqrt_beta1**2))
    term1 = 1.0 - 2.0 / (9.0 * A)
    denom = 1.0 + x * math.sqrt(2.0 / (A - 4.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        term2 = np.sign(denom) * np.where(denom == 0, np.nan,
                                          np.abs((1.0 - 2.0 / A) / denom) ** (1.0 / 3.0))
    z_kurt = (term1 - term2) / math.sqrt(2.0 / (9.0 * A))
    k2 = z_skew**2 + z_kurt**2
    return k2, scipy.stats.chi2.sf(k2, 2)


def f_test(cov_type, params, cov, ess, ssr, df_model, df_resid, fit_intercept, const_idx,
           unidentified, factor=None, omega=None, df_denom=None):
    """The F test that every slope is zero: nonrobust ``(ESS/df_model)/(SSR/df_resid)``,
    robust the Wald form ``F = θ_sᵀ V_s⁻¹ θ_s / q`` (``θ_s`` the q slopes, ``V_s`` their
    covariance), computed as ``zᵀ Ω_s⁻¹ z / q`` in whitened coordinates
    (:meth:`GramFactor.unwhiten_slopes`) when the design has full rank, on ``(q, df_denom)``
    degrees of freedom (``df_denom``: ``G − 1`` for cluster-robust inference, as
    statsmodels' ``df_resid_inference``; else ``df_resid``).  A covariance that is not
    positive definite (two-way clustering and the uniform HAC kernel can give one) takes
    statsmodels' pseudo-inverse, and ``q`` its rank."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if cov_type == "nonrobust":
            if df_model <= 0:
                return float("nan"), float("nan"), (df_model, df_resid)
            F = (ess / df_model) / (ssr / df_resid)
            return float(F), float(scipy.stats.f.sf(F, df_model, df_resid)), (df_model, df_resid)
    df_resid = df_resid if df_denom is None else df_denom
    p = params.shape[0]
    slopes = np.ones(p, dtype=bool)
    if fit_intercept:
        slopes[0] = False
    elif const_idx is not None:
        slopes[const_idx] = False
    slopes &= ~unidentified
    q = int(slopes.sum())
    if q == 0:
        return float("nan"), float("nan"), (0, df_resid)
    icpt = int(fit_intercept)
    z = None
    if factor is not None and omega is not None and const_idx is None:
        z = factor.unwhiten_slopes(params[icpt:])
    if z is not None:
        try:
            cho = scipy.linalg.cho_factor(omega[icpt:, icpt:], lower=False, check_finite=False)
            F = float(z @ scipy.linalg.cho_solve(cho, z, check_finite=False)) / q
            return F, float(scipy.stats.f.sf(F, q, df_resid)), (q, df_resid)
        except (np.linalg.LinAlgError, ValueError):
            pass
    Vs = cov[np.ix_(slopes, slopes)]
    theta = params[slopes]
    try:
        cho = scipy.linalg.cho_factor(Vs, lower=False, check_finite=False)
        F = float(theta @ scipy.linalg.cho_solve(cho, theta, check_finite=False)) / q
    except (np.linalg.LinAlgError, ValueError):
        if not np.isfinite(Vs).all():
            return float("nan"), float("nan"), (q, df_resid)
        q = int(np.linalg.matrix_rank(Vs))
        if q == 0:                      # no variance at all (e.g. zero residuals)
            return float("nan"), float("nan"), (q, df_resid)
        F = float(theta @ np.linalg.pinv(Vs) @ theta) / q
    return F, float(scipy.stats.f.sf(F, q, df_resid)), (q, df_resid)
