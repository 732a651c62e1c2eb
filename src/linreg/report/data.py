"""Everything the report page shows, computed before any HTML is written (:func:`report_data`).

The rows — arrays in memory, a pandas or pyarrow table for a model fitted from a formula or
a table, a :mod:`linreg.sources` file source read in blocks, Dask collections — become one
:class:`linreg.rows.Rows`, read block by block, never whole:

* the statistics (the model's training statistics when it keeps them, else one pass);
* for a fit with OLS inference, :func:`linreg.inference.summarize.summarize` without per-row
  arrays (one pass): every number of the summary, the ANOVA table and the Wald tests of the
  terms come from all rows;
* for a penalized or sign-constrained fit, the coefficients, R², RMSE and the objective ``J``
  from the statistics (:func:`linreg.penalized.penalized_summary`), and the reason the OLS
  standard errors are not shown;
* the plots' rows and the columns' ranges (:func:`.sample.sample_pass`, one pass).

Memory is bounded by a block of rows, the plots' sample and the ``(d + k)²`` statistics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..exceptions import no_statistics
from .diagnostics import MAX_POINTS
from .sample import RowSample, sample_pass

__all__ = ["TargetReport", "ReportData", "report_data", "fitted_model", "cv_source"]


@dataclass
class TargetReport:
    """One target's part of the report.

    ``results``: the OLS :class:`~linreg.inference.RegressionResults` (None without
    inference); ``anova``/``wald``: its ANOVA table (type 2) and Wald tests of the terms, or
    the text of why there are none (``anova_note``); without inference ``params`` (intercept
    first, names ``param_names``), ``rsquared``, ``rmse``, ``objective`` (``J`` at the
    solution) and ``alpha``.
    """

    name: str
    results: object = None
    anova: object = None
    wald: object = None
    anova_note: str = ""
    param_names: list = field(default_factory=list)
    params: np.ndarray | None = None
    rsquared: float = float("nan")
    rmse: float = float("nan")
    objective: float = float("nan")
    alpha: float = 0.0
    standardized: bool = False


@dataclass
class ReportData:
    """What the page shows: the fitted ``model`` (for a LinearRegressionCV its refit
    ``estimator_``), ``cv_source`` (what holds a cross-validation curve, or None), ``targets``
    (:class:`TargetReport` each), ``refusal`` (the
    :class:`~linreg.exceptions.PenalizedInferenceError` that says why there is no OLS
    inference, or None), ``sample`` (:class:`~.sample.RowSample`), ``n_rows``, ``n_dropped`` (rows
    with a missing value left out of a table's fit; None when the rows are not a table's),
    ``column_names`` (X's then Y's), ``weighted``, ``levels`` (a table's categorical columns
    and their levels), ``rank`` and ``scales`` (σ² per target; inference only)."""

    model: object
    cv_source: object
    targets: list
    refusal: object
    sample: RowSample
    n_rows: int
    n_dropped: int | None
    column_names: list
    weighted: bool
    levels: dict
    rank: int | None = None
    scales: list = field(default_factory=list)

    def diagnostics(self, j: int):
        """Target ``j``'s diagnostic plot data (fits with OLS inference)."""
        return self.sample.diagnostics(j, self.scales[j], self.rank)


def fitted_model(model):
    """The LinearRegression a report describes: ``model``, or a LinearRegressionCV's refit."""
    return model.estimator_ if hasattr(model, "cv_results_") else model


def cv_source(model):
    """What :func:`linreg.plotting.draw_cv` draws the curve from: a LinearRegressionCV, or a
    model saved by ``linreg fit --alpha cv`` (its file records ``cv_path``); else None."""
    if hasattr(model, "cv_results_"):
        return model
    return model if "cv_path" in (getattr(model, "metadata_", None) or {}) else None


def _memory_validation(estimator):
    """Checks of in-memory ``X``, ``y``, ``sample_weight`` against a fitted ``estimator``
    (its number and names of features), as its fit checked them; returns ``(X, Y, single,
    w)`` for :func:`linreg.rows.as_rows`."""
    from sklearn.utils.validation import validate_data

    from ..validation import check_finite, check_sample_weight

    def validate(X, y, sample_weight):
        if y is None:
            raise ValueError("the report needs the targets y of the rows X (or X a data "
                             "source, or the table a formula model was fitted on)")
        X, y = validate_data(estimator, X, y, reset=False, multi_output=True, y_numeric=True,
                             dtype=np.float64, ensure_all_finite=False,
                             accept_sparse=("csr", "csc", "coo"))
        Y = np.asarray(y, dtype=np.float64).reshape(X.shape[0], -1)
        check_finite(Y, "y")
        if not hasattr(X, "tocsr"):
            check_finite(X, "X", getattr(estimator, "feature_names_in_", None))
        w = None if sample_weight is None else check_sample_weight(sample_weight, X.shape[0])
        return X, Y, np.ndim(y) == 1, w

    return validate


def training_rows(model, X, y=None, sample_weight=None):
    """The :class:`~linreg.rows.Rows` of ``X``, ``y``, ``sample_weight`` for a report of
    ``model`` (a model fitted on a table reads them through its encoding)."""
    from ..rows import as_rows
    fitted = fitted_model(model)
    if getattr(fitted, "encoding_", None) is not None:
        from ..rows.table import frozen_table_rows
        return frozen_table_rows(fitted, X, y, sample_weight)
    return as_rows(X, y, sample_weight, validate=_memory_validation(model))


def _check_same_rows(stats, trained) -> None:
    """The rows given must be the training rows (for a fit the report shows without the
    residual pass's own check): same count, total weight and means."""
    from ..stats import SufficientStats
    if not isinstance(trained, SufficientStats):
        return
    spread = np.sqrt(np.maximum(np.diag(trained.comoment), 0.0) / trained.weight_sum)
    same = (stats.n_rows == trained.n_rows
            and np.isclose(stats.weight_sum, trained.weight_sum, rtol=1e-9, atol=0.0)
            and np.all(np.abs(stats.mean - trained.mean)
                       <= 1e-7 * (np.abs(trained.mean) + spread) + 1e-300))
    if not same:
        raise ValueError(f"the rows given for the report are not the rows the model was "
                         f"fitted on ({stats.n_rows} rows, total weight {stats.weight_sum:.10g}; "
                         f"the fit saw {trained.n_rows} and {trained.weight_sum:.10g}, or other "
                         "column means): pass the training data")


def _target_names(model, rows, given, k: int) -> list[str]:
    from ..validation import name_list
    recorded = (getattr(model, "metadata_", None) or {}).get("target_name")
    for candidate in (given, rows.target_names, recorded):
        names = name_list(candidate)
        if names is not None and len(names) == k:
            return [str(n) for n in names]
    return ["y"] if k == 1 else [f"y{j}" for j in range(k)]


def _coefficients(model) -> tuple[np.ndarray, np.ndarray]:
    coef = np.asarray(model.coef_, dtype=np.float64)
    coef = coef[:, None] if coef.ndim == 1 else coef.T                       # (d, k)
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    return coef, intercept


def _ols_targets(model, rows, stats, names):
    """The summary (all rows, no per-row arrays), its ANOVA and term tests, per target."""
    from ..inference.factor import GramFactor
    from ..inference.summarize import summarize
    results = summarize(model, rows, stats, "nonrobust", keep_rows=False, target_names=names)
    results = list(results) if isinstance(results, tuple) else [results]
    targets = []
    for name, result in zip(names, results, strict=True):
        part = TargetReport(name, results=result)
        if result.term_slices is not None:
            try:
                part.anova = result.anova(typ=2)
                part.wald = result.wald_test_terms()
            except ValueError as exc:
                part.anova_note = str(exc)
        targets.append(part)
    factor = GramFactor(stats, model.fit_intercept)
    if factor.ill_conditioned():                  # as the summary does: the rows' factor
        factor.use_row_factor(rows.qr_factor(factor.design()))
    return targets, factor, int(results[0].rank), [float(r.scale) for r in results]


def _fit_only_targets(model, stats, names):
    """Coefficients, R², RMSE and ``J`` of a fit without OLS inference, per target."""
    from ..design import Design
    from ..inference.terms import parameter_names
    from ..penalized import penalized_summary
    coef, _ = _coefficients(model)
    d, k = coef.shape
    param_names = list(parameter_names(model, d, model.fit_intercept)[0])
    fit = penalized_summary(model, stats, param_names[int(model.fit_intercept):], names)
    scale = Design.from_stats(stats, model.fit_intercept, model.standardize).scale
    alphas = np.broadcast_to(np.asarray(model.alpha, dtype=np.float64), (k,))
    targets = []
    for j, name in enumerate(names):
        theta = coef[:, j] * scale            # the coefficients the penalty acts on
        objective = fit.rmse[j] ** 2 / 2 + alphas[j] / 2 * float(theta @ theta)
        targets.append(TargetReport(name, param_names=param_names,
                                    params=np.asarray(fit.params[j]),
                                    rsquared=float(fit.rsquared[j]), rmse=float(fit.rmse[j]),
                                    objective=float(objective), alpha=float(alphas[j]),
                                    standardized=bool(model.standardize)))
    return targets


def report_data(model, X, y=None, sample_weight=None, target_names=None,
                max_points: int = MAX_POINTS) -> ReportData:
    """The :class:`ReportData` of a fitted ``model`` (a LinearRegression or a
    LinearRegressionCV) on its training rows ``X``, ``y``, ``sample_weight`` (see the module
    docstring for what ``X`` may be)."""
    from sklearn.utils.validation import check_is_fitted

    from ..exceptions import PenalizedInferenceError
    from ..inference.summarize import check_inference_allowed
    from ..stats import SufficientStats
    check_is_fitted(model)
    fitted = fitted_model(model)
    rows = training_rows(model, X, y, sample_weight)
    trained = getattr(fitted, "stats_", None)
    trained = trained if isinstance(trained, SufficientStats) else None
    table = getattr(fitted, "encoding_", None) is not None
    if trained is None and getattr(fitted, "solver_", None) == "lsqr":
        d = fitted.n_features_in_
        raise no_statistics(d, "the report's numbers come from them")
    coef, intercept = _coefficients(fitted)
    names = _target_names(fitted, rows, target_names, coef.shape[1])
    try:
        check_inference_allowed(fitted)
        refusal = None
    except PenalizedInferenceError as exc:
        refusal = exc
    if refusal is not None or trained is None or table:
        stats = rows.stats()                      # (a table's also counts its missing rows)
        _check_same_rows(stats, trained)
    if refusal is not None:
        targets = _fit_only_targets(fitted, stats, names)
        sample = sample_pass(rows, coef, intercept, limit=max_points)
        rank, scales = None, []
    else:
        targets, factor, rank, scales = _ols_targets(fitted, rows, trained or stats, names)
        sample = sample_pass(rows, coef, intercept, factor, scales, rank, limit=max_points)
    from ..validation import coefficient_names
    columns = coefficient_names(fitted) or [f"x{j}" for j in range(coef.shape[0])]
    encoding = getattr(fitted, "encoding_", None)
    levels = {}
    if encoding is not None:
        refs = getattr(encoding, "ref_index", None) or {}
        levels = {str(c): [str(v) + (" (reference)" if i == refs.get(c) else "")
                           for i, v in enumerate(lv)] for c, lv in encoding.levels.items()}
    weighted = sample.weight is not None
    return ReportData(fitted, cv_source(model), targets, refusal, sample, sample.n_rows,
                      int(rows.n_dropped) if table else None, columns + names, weighted,
                      levels, rank, scales)
