"""What ``summary()`` shows for a penalized (ridge, ``alpha > 0``) fit: the coefficients, R²,
RMSE and the objective — everything that is valid — and not the OLS standard errors, t-values
and p-values, which do not hold for a penalized estimator (asking for them raises the
:class:`~linreg.exceptions.PenalizedInferenceError` that says why).

The fit statistics come from the training statistics alone: with ``M`` the centred co-moments
of ``[x, y]``, ``μ`` their means and ``n_w = Σ s_i``, the weighted residual sum of squares is

    SSR = M_yy − 2 wᵀM_xy + wᵀM_xx w + n_w (μ_y − μ_xᵀw − b)²

and ``R² = 1 − SSR/SST`` (``SST = M_yy``, uncentred ``M_yy + n_w μ_y²`` without intercept),
``RMSE = √(SSR/n_w)``, as scikit-learn's metrics with ``sample_weight``.
"""

from __future__ import annotations

import textwrap

import numpy as np

from .exceptions import MessageBuilder, PenalizedInferenceError

__all__ = ["PenalizedSummary", "penalized_summary"]

#: what a penalized summary refuses, as statsmodels names it
OLS_ONLY = ("bse", "tvalues", "pvalues", "conf_int", "cov_params", "fvalue", "f_pvalue",
            "wald_test_terms", "anova")


class PenalizedSummary:
    """The valid part of a summary of a penalized fit (one per target, as lists).

    Attributes: ``param_names`` (intercept first), ``params``, ``rsquared``, ``rmse``,
    ``nobs``, ``alpha``, ``objective`` (``J`` at the solution), ``refusal`` (the
    :class:`PenalizedInferenceError` for the OLS statistics).
    """

    def __init__(self, param_names, params, rsquared, rmse, nobs, alpha, objective,
                 target_names, refusal):
        self.param_names, self.params = param_names, params
        self.rsquared, self.rmse, self.nobs = rsquared, rmse, nobs
        self.alpha, self.objective, self.target_names = alpha, objective, target_names
        self.refusal = refusal

    def __getattr__(self, name):
        if name in OLS_ONLY:
            raise self.refusal
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def text(self, setting=None) -> str:
        """The table; ``setting`` words parameter settings (default: Python's keywords)."""
        lines = []
        for j, target in enumerate(self.target_names):
            alpha = (f"{self.alpha:g}" if np.ndim(self.alpha) == 0
                     else f"{self.alpha[j]:g} for this target")
            lines += [f"Penalized linear regression (ridge, alpha = {alpha}): {target}",
                      "=" * 78,
                      f"Observations: {self.nobs}   R-squared: {self.rsquared[j]:.4f}   "
                      f"RMSE: {self.rmse[j]:.6g}   objective J: {self.objective:.6g}",
                      "-" * 78, f"{'':<24}{'coef':>14}"]
            for name, value in zip(self.param_names, self.params[j], strict=True):
                lines.append(f"{name:<24}{value:>14.6g}")
            lines.append("=" * 78)
        refusal = self.refusal.worded(setting) if setting else str(self.refusal)
        lines += textwrap.wrap("Not shown: " + refusal, 78)
        return "\n".join(lines) + "\n"

    def __str__(self) -> str:
        return self.text()

    def to_frame(self):
        """One row per coefficient (pandas), one column per target."""
        import pandas as pd
        return pd.DataFrame(np.asarray(self.params).T, index=self.param_names,
                            columns=self.target_names)


def penalized_summary(model, stats, feature_names, target_names) -> PenalizedSummary:
    """The :class:`PenalizedSummary` of a fitted ``model`` from its training ``stats``."""
    d = stats.n_features
    coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))          # (k, d)
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    M, mu, n_w = stats.comoment, stats.mean, stats.weight_sum
    Mxx, Mxy, Myy = M[:d, :d], M[:d, d:], np.diag(M[d:, d:])
    shift = mu[d:] - coef @ mu[:d] - intercept
    ssr = (Myy - 2 * np.einsum("kd,dk->k", coef, Mxy)
           + np.einsum("kd,de,ke->k", coef, Mxx, coef) + n_w * shift**2)
    ssr = np.maximum(ssr, 0.0)
    sst = Myy if model.fit_intercept else Myy + n_w * mu[d:] ** 2
    names = ["intercept"] * bool(model.fit_intercept) + list(feature_names)
    params = [([float(b)] if model.fit_intercept else []) + list(map(float, w))
              for w, b in zip(coef, intercept, strict=True)]
    history = getattr(model, "loss_history_", None)
    alpha = np.asarray(model.alpha, dtype=np.float64)
    alpha = float(alpha) if alpha.ndim == 0 else alpha.tolist()      # or one per target
    m = MessageBuilder()
    refusal = PenalizedInferenceError(
        "Standard errors, t-values and p-values are ordinary least squares' and do not hold "
        f"for a model fitted with {m.setting('alpha', alpha)} (an L2 penalty): "
        "the penalty shrinks the coefficients, biasing them, and the OLS formulas ignore "
        f"that. Refit with {m.setting('alpha', 0.0)} to get them.", parameters=m.parameters)
    return PenalizedSummary(names, params, list(1 - ssr / sst), list(np.sqrt(ssr / n_w)),
                            int(stats.n_rows), alpha,
                            float(history[-1]) if history is not None and len(history) else
                            float("nan"), list(target_names), refusal)
