"""What :meth:`LinearRegression.summary <linreg.LinearRegression.summary>` sums over: the rows
(the training rows the model holds, or those passed again) and their statistics, checked
before any pass; then :func:`.summarize`."""

from __future__ import annotations

from ..dask_support import is_dask_collection
from ..rows import StatsRows, as_rows
from ..sources import is_source
from ..stats import SufficientStats
from ..validation import check_choice
from .robust import check_cov_options
from .summarize import COV_TYPES, check_inference_allowed, summarize

__all__ = ["summary_of"]


def summary_of(model, cov_type, X, y, sample_weight, target_names, validate, held_rows,
               use_t=None, **options):
    """The summary of a fitted ``model``: its statistics (``stats_``) and ``held_rows`` (the
    rows kept after ``fit``), or the rows ``X``, ``y``, ``sample_weight`` passed again
    (``validate`` the estimator's check of in-memory data).  ``options`` are the
    covariance's (``groups``, ``maxlags``, …), checked before the rows are read."""
    check_choice("cov_type", cov_type, COV_TYPES)
    check_cov_options(cov_type, **options)
    check_inference_allowed(model)
    stats = getattr(model, "stats_", None)
    stats = stats if isinstance(stats, SufficientStats) else None
    if getattr(model, "encoding_", None) is not None and X is not None:
        from ..rows.table import frozen_table_rows
        rows = frozen_table_rows(model, X, y, sample_weight)
    elif X is not None or y is not None:
        if X is None or (y is None and not is_source(X) and not is_dask_collection(X)):
            raise ValueError("pass both X and y to summary() (or neither, to use the "
                             "training data the model was fitted on)")
        groups = options.get("groups")
        # cluster labels named by column are not features
        names = ([groups] if isinstance(groups, str) else
                 [g for g in groups if isinstance(g, str)]
                 if isinstance(groups, (list, tuple)) else [])
        rows = as_rows(X, y, sample_weight, validate=validate, exclude=names)
    else:
        rows = held_rows
        if rows is None or stats is None or isinstance(rows, StatsRows):
            raise ValueError(
                "summary() needs the training rows for the residuals, and this model does "
                "not hold them (it was loaded from a file, or fitted with partial_fit or "
                "merge): pass them, as "
                "model.summary(X=X_train, y=y_train, sample_weight=w_train)")
    if stats is None:
        stats = rows.stats()
    return summarize(model, rows, stats, cov_type, use_t=use_t,
                     target_names=rows.target_names if target_names is None else target_names,
                     **options)
