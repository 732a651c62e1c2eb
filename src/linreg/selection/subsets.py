"""Exhaustive best-subset selection from the sufficient statistics (one target).

Every subset's residual sum of squares comes from the centred moment matrix
``M = [[G, c], [cᵀ, q]]`` without a pass over the rows.  The subsets are visited depth-first
in increasing column order; a node ``S`` (largest column ``j``) keeps only the Schur
complement of ``M`` on ``S`` restricted to the columns after ``j`` and the target — the
trailing block of ``M`` swept on ``S`` — so a child ``S ∪ {k}`` is one rank-one update of a
smaller block, ``B' = B[k+1:, k+1:] − B[k+1:, k] B[k, k+1:] / B[k, k]`` (O(d²) at most), and
all children's RSS are read off at once, ``RSS(S ∪ {k}) = B[y, y] − B[k, y]² / B[k, k]``.
The walk is compiled (:mod:`.subset_search`).  The depth is at most ``d``, so rounding does not accumulate along the ``2^d`` subsets as it
would in a sweep-and-unsweep Gray-code walk.  A column that is (numerically) a combination of
the subset it would join is skipped, with every superset of that subset and column: such a
model has the RSS of a smaller one and more parameters, so no criterion here chooses it.

AIC, BIC and adjusted R² depend on a model only through ``(RSS, |S|)`` and improve as the RSS
falls, so the best model of each size decides: the result is the best model of the best size.
"""

from __future__ import annotations

import numpy as np

from .stepwise import COLLINEAR, StepwiseResult, better, check_stats, information_criterion

__all__ = ["best_subset", "MAX_FEATURES", "MOST_FEATURES"]

#: the default limit: 2^25 ≈ 34 million subsets, a few seconds compiled; every further
#: column doubles the time
MAX_FEATURES = 25
#: the hard limit (subsets are bit masks; 2^40 subsets would take days)
MOST_FEATURES = 40


def best_rss_by_size(comoment: np.ndarray, d: int):
    """The lowest RSS of each subset size 0…d and the subset that attains it (None for a size
    no full-rank subset has): the compiled search of :mod:`.subset_search`."""
    from .subset_search import search_subsets

    var = np.diag(comoment)[:d].copy()
    floor = COLLINEAR * np.maximum(var, np.finfo(float).tiny)
    best, masks = search_subsets(np.ascontiguousarray(comoment, dtype=np.float64), floor)
    chosen = [tuple(j for j in range(d) if (int(masks[k]) >> j) & 1) if np.isfinite(best[k])
              else None for k in range(d + 1)]
    return best, chosen


def best_subset(stats, criterion: str = "bic", max_features: int = MAX_FEATURES,
                feature_names=None, log_weight_sum=None) -> StepwiseResult:
    """The best of all ``2^d`` subsets of the features by ``criterion`` (``"aic"``, ``"bic"``,
    ``"adjr2"``), from :class:`~linreg.stats.SufficientStats`.

    Returns a :class:`~linreg.selection.StepwiseResult` whose ``path`` lists, for every
    size ``k`` that some full-rank subset has, ``(k, best subset of size k, its criterion)``.
    ``d > max_features`` is refused (the cost doubles with each feature; measured on a
    2-core machine: d = 25 in under 2 s, 28 in 9 s, 30 in 46 s): use
    :func:`~linreg.selection.stepwise` there, or raise ``max_features`` (at most
    ``MOST_FEATURES = 40``) knowingly.
    """
    if (not isinstance(max_features, (int, np.integer)) or isinstance(max_features, bool)
            or not 0 <= max_features <= MOST_FEATURES):
        raise ValueError(f"max_features must be an int in 0–{MOST_FEATURES} (each feature "
                         f"doubles the time of the search), got {max_features!r}")
    lws = check_stats(stats, criterion, log_weight_sum, "best-subset selection")
    d, n = stats.n_features, stats.n_rows
    if d > max_features:
        raise ValueError(f"best-subset selection visits all 2^{d} subsets of the {d} features; "
                         f"it is limited to max_features={max_features} (each further feature "
                         "doubles the time: d = 25 takes seconds, 30 about a minute; raise it "
                         "knowingly, or use stepwise selection)")
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
