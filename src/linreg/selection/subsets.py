"""Exhaustive best-subset selection from the sufficient statistics (one target).

Every subset's residual sum of squares comes from the centred moment matrix
``M = [[G, c], [cᵀ, q]]`` without a pass over the rows.  The subsets are visited depth-first
in increasing column order; a node ``S`` (largest column ``j``) keeps only the Schur
complement of ``M`` on ``S`` restricted to the columns after ``j`` and the target — the
trailing block of ``M`` swept on ``S`` — so a child ``S ∪ {k}`` is one rank-one update of a
smaller block, ``B' = B[k+1:, k+1:] − B[k+1:, k] B[k, k+1:] / B[k, k]`` (O(d²) at most), and
all children's RSS are read off at once, ``RSS(S ∪ {k}) = B[y, y] − B[k, y]² / B[k, k]``.
The depth is at most ``d``, so rounding does not accumulate along the ``2^d`` subsets as it
would in a sweep-and-unsweep Gray-code walk.  A column that is (numerically) a combination of
the subset it would join is skipped, with every superset of that subset and column: such a
model has the RSS of a smaller one and more parameters, so no criterion here chooses it.

AIC, BIC and adjusted R² depend on a model only through ``(RSS, |S|)`` and improve as the RSS
falls, so the best model of each size decides: the result is the best model of the best size.
"""

from __future__ import annotations

import numpy as np

from .stepwise import COLLINEAR, StepwiseResult, better, check_stats, information_criterion

__all__ = ["best_subset", "MAX_FEATURES"]

#: 2^20 ≈ a million subsets: seconds; every further column doubles the time
MAX_FEATURES = 20


def best_rss_by_size(comoment: np.ndarray, d: int):
    """The lowest RSS of each subset size 0…d and the subset that attains it."""
    var = np.diag(comoment)[:d].copy()
    floor = COLLINEAR * np.maximum(var, np.finfo(float).tiny)
    best = np.full(d + 1, np.inf)
    best[0] = comoment[d, d]
    chosen: list = [()] + [None] * d
    stack = [(comoment, (), 0)]  # (trailing block over columns first..d−1 and y, subset, first)
    while stack:
        B, subset, first = stack.pop()
        diag = np.diag(B)[:-1]
        ok = diag > floor[first:]
        if not ok.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            rss = np.where(ok, B[-1, -1] - B[:-1, -1] ** 2 / diag, np.inf)
        size = len(subset) + 1
        k = int(np.argmin(rss))
        if rss[k] < best[size]:
            best[size] = max(rss[k], np.finfo(float).tiny)
            chosen[size] = subset + (first + k,)
        for k in np.flatnonzero(ok[:-1]):  # the last column has no children
            tail = B[k + 1:, k + 1:] - np.outer(B[k + 1:, k], B[k, k + 1:]) / B[k, k]
            stack.append((tail, subset + (first + int(k),), first + int(k) + 1))
    return best, chosen


def best_subset(stats, criterion: str = "bic", max_features: int = MAX_FEATURES,
                feature_names=None, log_weight_sum=None) -> StepwiseResult:
    """The best of all ``2^d`` subsets of the features by ``criterion`` (``"aic"``, ``"bic"``,
    ``"adjr2"``), from :class:`~linreg.stats.SufficientStats`.

    Returns a :class:`~linreg.selection.StepwiseResult` whose ``path`` lists, for every
    size ``k`` that some full-rank subset has, ``(k, best subset of size k, its criterion)``.
    ``d > max_features`` is refused (the cost doubles with each feature): use
    :func:`~linreg.selection.stepwise` there.
    """
    lws = check_stats(stats, criterion, log_weight_sum, "best-subset selection")
    d, n = stats.n_features, stats.n_rows
    if d > max_features:
        raise ValueError(f"best-subset selection visits all 2^{d} subsets of the {d} features; "
                         f"it is limited to max_features={max_features} (raise it knowingly, or "
                         "use stepwise selection)")
    rss, chosen = best_rss_by_size(stats.comoment, d)
    tss = stats.comoment[d, d]
    path, best = [], None
    for k in range(d + 1):
        if chosen[k] is None:
            continue
        value = information_criterion(rss[k], n, k + 1, criterion, tss, lws)
        path.append((k, sorted(chosen[k]), value))
        if best is None or better(value, best[2], criterion):
            best = path[-1]
    return StepwiseResult(list(best[1]), path, criterion, best[2], feature_names)
