"""Stepwise feature selection by AIC or BIC from the sufficient statistics (R's ``step()``).

Every step works on the centred moment matrix ``M = [[G, c], [cᵀ, q]]`` *swept* on the
features in the model (Goodnight's sweep operator): after sweeping the set ``S``, the corner
``M[y, y]`` is the residual sum of squares ``RSS(S)``, and for any feature ``j``

    RSS(S ± j) = M[y, y] − M[j, y]² / M[j, j]

(``M[j, j] < 0`` for a swept ``j``, so removing it raises the RSS).  So every candidate of a
step costs O(1), taking the step one sweep, O(d²), and there is no pass over the rows.
The criteria are statsmodels' ``OLS``/``WLS`` ones (the intercept always in the model,
``p = |S| + 1`` parameters, ``n`` rows, ``RSS`` weighted)::

    llf = −n/2 (log 2π + log(RSS/n) + 1) + ½ Σ log s_i
    AIC = −2 llf + 2p,    BIC = −2 llf + log(n) p,    adjusted R² = 1 − (n − 1)/(n − p) · RSS/TSS

(AIC and BIC are minimized, adjusted R² maximized).  The statistics do not keep ``Σ log s_i``:
weighted statistics need it passed as ``log_weight_sum`` (it shifts every model's AIC/BIC
alike, so it changes the values, not the choice); statistics whose total weight is not their
row count are refused without it.  Categorical terms entering and leaving whole are not
handled yet (the formula/categorical tables are a later issue): every column is one term.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..stats import SufficientStats
from ..validation import check_choice

__all__ = ["stepwise", "StepwiseResult", "information_criterion", "column_stats"]

#: a feature whose remaining variance (after sweeping the model) is below this fraction of
#: its own is collinear with the model and never enters
COLLINEAR = 1e-10


def sweep(M: np.ndarray, k: int) -> None:
    """Sweep (``M[k, k] > 0``: in) or reverse-sweep (``< 0``: out) ``M`` on ``k``, in place."""
    d = M[k, k]
    inward = d > 0
    row = M[k, :].copy()
    col = M[:, k].copy()
    M -= np.outer(col, row) / d
    sign = 1.0 if inward else -1.0
    M[k, :] = sign * row / d
    M[:, k] = sign * col / d
    M[k, k] = -1.0 / d


CRITERIA = ("aic", "bic", "adjr2")


def information_criterion(rss: float, n: int, n_params: int, criterion: str, tss: float = np.nan,
                          log_weight_sum: float = 0.0) -> float:
    """statsmodels' AIC/BIC (or adjusted R², which needs the centred ``tss``) of a Gaussian
    linear model with ``n_params`` parameters (the intercept included)."""
    if criterion == "adjr2":
        return 1.0 - (n - 1) / (n - n_params) * rss / tss
    llf = -0.5 * n * (np.log(2 * np.pi) + np.log(rss / n) + 1.0) + 0.5 * log_weight_sum
    penalty = 2.0 if criterion == "aic" else np.log(n)
    return -2.0 * llf + penalty * n_params


def better(a: float, b: float, criterion: str) -> bool:
    """Is criterion value ``a`` strictly better than ``b``?"""
    return a > b if criterion == "adjr2" else a < b


def check_stats(stats, criterion: str, log_weight_sum, what: str) -> float:
    """The checks every selection from statistics makes; returns ``Σ log s_i`` (0 unweighted)."""
    check_choice("criterion", criterion, CRITERIA)
    if stats.n_targets != 1:
        raise ValueError(f"{what} takes one target, got {stats.n_targets}")
    d, n = stats.n_features, stats.n_rows
    if n <= d + 1:
        raise ValueError(f"{what} needs more rows (n_samples={n}) than features + 1 ({d + 1}): "
                         "the criteria of a model with as many parameters as rows are not finite")
    if log_weight_sum is None:
        if abs(stats.weight_sum - n) > 1e-9 * n:
            raise ValueError(
                f"the statistics are weighted (total weight {stats.weight_sum:g} over {n} rows): "
                "the likelihood needs log_weight_sum = Σ log s_i, which the statistics do not "
                "keep; pass it (StepwiseSelector computes it from sample_weight)")
        return 0.0
    log_weight_sum = float(log_weight_sum)
    if not np.isfinite(log_weight_sum):
        raise ValueError(f"log_weight_sum must be finite (rows of zero weight have no likelihood), "
                         f"got {log_weight_sum}")
    return log_weight_sum


@dataclass
class StepwiseResult:
    """The selected features (column indices, in the order they stand in the model), the
    path — ``(action, feature, criterion after the step)`` with action ``"start"``,
    ``"+"`` or ``"-"`` — and the criterion of the final model."""

    selected: list
    path: list = field(default_factory=list)
    criterion: str = "aic"
    value: float = np.nan
    feature_names: list | None = None

    def names(self) -> list:
        if self.feature_names is None:
            return [f"x{j}" for j in self.selected]
        return [self.feature_names[j] for j in self.selected]


def stepwise(stats, direction: str = "both", criterion: str = "aic", start=None,
             feature_names=None, log_weight_sum=None) -> StepwiseResult:
    """Stepwise selection from :class:`~linreg.stats.SufficientStats` (one target).

    ``direction``: ``"forward"`` (from ``start``, default none), ``"backward"`` (from
    ``start``, default all features) or ``"both"`` (from ``start``, default none; each step
    the best single addition or removal).  Stops when no step improves the criterion
    (``"aic"``, ``"bic"`` or ``"adjr2"``).  ``log_weight_sum``: ``Σ log s_i`` for weighted
    statistics (see the module's notes).
    """
    check_choice("direction", direction, ("forward", "backward", "both"))
    lws = check_stats(stats, criterion, log_weight_sum, "stepwise selection")
    d, n = stats.n_features, stats.n_rows
    if start is None:
        start = list(range(d)) if direction == "backward" else []
    start = [int(j) for j in start]
    if any(j < 0 or j >= d for j in start) or len(set(start)) != len(start):
        raise ValueError(f"start must list distinct feature indices in 0–{d - 1}, got {start}")
    M = stats.comoment.copy()
    tss = M[d, d]
    var = np.diag(M)[:d].copy()
    inside = np.zeros(d, dtype=bool)
    for j in start:
        if M[j, j] <= COLLINEAR * max(var[j], np.finfo(float).tiny):
            raise ValueError(f"start feature {j} is constant or collinear with the others")
        sweep(M, j)
        inside[j] = True
    value = information_criterion(M[d, d], n, int(inside.sum()) + 1, criterion, tss, lws)
    path = [("start", None, value)]
    order = list(start)
    while True:
        best = (value, None)
        with np.errstate(divide="ignore", invalid="ignore"):
            rss = M[d, d] - M[:d, d] ** 2 / np.diag(M)[:d]
        for j in range(d):
            if inside[j] and direction == "forward":
                continue
            if not inside[j] and (direction == "backward"
                                  or M[j, j] <= COLLINEAR * max(var[j], np.finfo(float).tiny)):
                continue
            size = int(inside.sum()) + (-1 if inside[j] else 1) + 1
            v = information_criterion(max(rss[j], np.finfo(float).tiny), n, size, criterion, tss, lws)
            if better(v, best[0], criterion):
                best = (v, j)
        value, j = best
        if j is None:
            break
        sweep(M, j)
        inside[j] = not inside[j]
        if inside[j]:
            order.append(j)
        else:
            order.remove(j)
        path.append(("+" if inside[j] else "-", j, value))
    return StepwiseResult(order, path, criterion, value, feature_names)


def column_stats(stats: SufficientStats, columns) -> SufficientStats:
    """The statistics of the features ``columns`` (and every target) alone."""
    d = stats.n_features
    idx = np.r_[np.asarray(columns, dtype=np.int64), np.arange(d, d + stats.n_targets)]
    return SufficientStats(stats.n_rows, stats.weight_sum, stats.mean[idx].copy(),
                           stats.comoment[np.ix_(idx, idx)].copy(), len(columns))
