"""``StepwiseSelector`` on a table: the formula's terms selected whole (see the selector's
*Terms* section), every criterion from the statistics of the full design."""

from __future__ import annotations

import numpy as np

from ..estimator import LinearRegression
from .stepwise import column_stats
from .stepwise_terms import best_terms, stepwise_terms
from .terms import TermSet, formula_text, sub_encoding

__all__ = ["fit_terms"]


def _log_weights(rows) -> float:
    """``Σ log s_i`` over the rows the fit keeps (a pass over them: the statistics do not
    hold it); a weight that is not > 0 is refused (such a row has no likelihood)."""
    def block(b, numbers):
        w = b[2]
        if w is None:
            return 0.0, 0
        return float(np.log(w[w > 0]).sum()), int(np.sum(~(w > 0)))

    parts = rows.map_numbered(block)
    bad = sum(p[1] for p in parts)
    if bad:
        raise ValueError(f"sample_weight is zero or negative for {bad} rows: a row of zero "
                         "weight has no likelihood for AIC/BIC (drop such rows)")
    return sum(p[0] for p in parts)


def fit_terms(selector, rows) -> None:
    """Select the terms of ``rows`` (a table's rows through its encoding) and set the
    selector's attributes."""
    stats = rows.stats()
    encoding = rows.encoding
    if rows.n_targets != 1:
        raise ValueError(f"StepwiseSelector selects for one target; got {rows.n_targets}")
    if not encoding.formula.intercept:
        raise ValueError("selection by AIC/BIC compares models with an intercept: keep it in "
                         "the formula (no '- 1')")
    weighted = (getattr(rows, "weights", None) is not None          # in memory, files
                or getattr(rows, "weight", None) is not None)         # a Dask DataFrame
    log_weight_sum = _log_weights(rows) if weighted else None
    terms = TermSet.from_encoding(encoding)
    if selector.direction == "exhaustive":
        result = best_terms(stats, terms, selector.criterion, selector.max_features,
                            log_weight_sum)
    else:
        result = stepwise_terms(stats, terms, selector.direction, selector.criterion,
                                selector.start, log_weight_sum)
    inputs = [c for c in encoding.columns_used if c not in encoding.formula.targets]
    selector.n_features_in_ = len(inputs)
    selector.feature_names_in_ = np.asarray(inputs, dtype=object)
    selector.coef_names_, selector.terms_ = list(encoding.names), dict(encoding.term_slices)
    selector.n_dropped_ = int(rows.n_dropped)
    selector.result_, selector.stats_ = result, stats
    selector.selected_ = list(result.selected)
    selector.selected_names_ = selector.selected_terms_ = result.names()
    selector.path_ = list(result.path)
    selector.criterion_value_ = result.value
    selector.formula_ = formula_text(encoding.formula, selector.selected_terms_)
    columns = terms.chosen_columns(selector.selected_)
    selector.support_ = np.zeros(stats.n_features, dtype=bool)
    selector.support_[columns] = True
    selector.intercept_only_ = float(stats.mean_y[0])
    selector.model_ = _model(selector, rows, stats, columns) if selector.selected_ else None


def _model(selector, rows, stats, columns):
    """``LinearRegression(formula=formula_)`` solved from the statistics of its columns (no
    pass), holding the same rows for ``summary()`` where they can be read again."""
    sub, order = sub_encoding(rows.encoding, selector.formula_, columns)
    model = LinearRegression(formula=selector.formula_, missing=selector.missing,
                             solver="normal")
    part = column_stats(stats, order)
    if hasattr(rows, "with_stats"):
        return model.fit_encoded(rows.with_stats(sub, part, rows.n_dropped))
    model.solve_from_stats(part, single_target=True)     # a Dask DataFrame: no rows held
    model.encoding_, model.coef_names_ = sub, list(sub.names)
    model.terms_, model.n_dropped_ = dict(sub.term_slices), int(rows.n_dropped)
    inputs = [c for c in sub.columns_used if c not in sub.formula.targets]
    model.n_features_in_ = len(inputs)
    model.feature_names_in_ = np.asarray(inputs, dtype=object)
    return model
