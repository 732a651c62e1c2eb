"""``StepwiseSelector``: feature selection by AIC, BIC or adjusted R² as an estimator.

``fit(X, y)`` computes the sufficient statistics once — of rows in memory (dense or
``scipy.sparse``), of a :mod:`linreg.sources` source or of a dask collection: whatever
:func:`linreg.rows.as_rows` takes, in one pass — selects columns from them
(:func:`~linreg.selection.stepwise` or :func:`~linreg.selection.subsets.best_subset`), and fits
a :class:`~linreg.LinearRegression` on the chosen columns (``model_``); ``predict`` and
``transform`` take all the original columns.  With sample weights the criteria are
statsmodels' ``WLS`` ones (``Σ log s_i`` is computed in the same pass; zero weights are
refused: such a row has no likelihood).
"""

from __future__ import annotations

import functools

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.feature_selection import SelectorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..dask_support import is_dask_collection
from ..estimator import LinearRegression
from ..rows import MemoryRows, SparseRows, as_rows, target_from_frame
from ..rows.sparse import SPARSE_FORMATS
from ..rows.table import table_rows
from ..stats import SufficientStats, sufficient_stats
from ..validation import check_choice
from .stepwise import CRITERIA, column_stats, stepwise
from .subsets import MAX_FEATURES, best_subset

__all__ = ["StepwiseSelector", "column_stats"]


def _weighted_block(block, index):
    """A block's statistics, ``Σ log s`` and its number of weights that are not > 0."""
    X, Y, w = block
    X = np.asarray(X, dtype=np.float64)
    if w is None:
        w = np.ones(X.shape[0])
    w = np.asarray(w, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = sufficient_stats(X, np.asarray(Y, dtype=np.float64).reshape(X.shape[0], -1), w)
        positive = w > 0
        log_sum = float(np.log(w[positive]).sum())
    if not (s.is_finite() and np.isfinite(w).all()):
        raise ValueError(f"block {index} of the rows holds NaN or inf in X, y or sample_weight")
    return s, log_sum, int(X.shape[0] - positive.sum())


class StepwiseSelector(SelectorMixin, RegressorMixin, BaseEstimator):
    """Select features by an information criterion, then fit on them.

    Parameters
    ----------
    criterion : {"aic", "bic", "adjr2"}, default="bic"
    direction : {"both", "forward", "backward", "exhaustive"}, default="both"
        ``"exhaustive"``: the best of all subsets (``d ≤ max_features``).
    start : list of int, optional
        Columns the search starts from (not for ``"exhaustive"``).
    max_features : int, default=25
        The most features ``"exhaustive"`` accepts (its cost doubles with each one); with
        terms, the most terms (at most 16).
    formula : str or None, default=None
    missing : {"error", "drop"}, default="error"
        Tables (pandas, pyarrow, a :mod:`linreg.sources` file, a Dask DataFrame), as in
        :class:`~linreg.LinearRegression`: see *Terms* below.

    Attributes
    ----------
    selected_ : list of int
        The chosen columns, in the order they entered (sorted for ``"exhaustive"``).
    selected_names_ : list of str
    support_ : ndarray of bool, shape (n_features_in_,)
    path_ : list of tuples
        ``(action, column, criterion)`` per step (``(size, columns, criterion)`` per subset
        size for ``"exhaustive"``).
    criterion_value_ : float
    result_ : StepwiseResult
    stats_ : linreg.SufficientStats
        Of all the rows and features.
    model_ : LinearRegression or None
        Fitted on the chosen columns in column order, the columns ``transform`` gives (None
        when no column is chosen: the model is the intercept, ``intercept_only_``).  From rows in memory it is ``fit`` on those columns;
        from a source or a dask collection it is solved from the statistics of those columns
        (the normal equations: no second pass).

    Terms
    -----
    With a ``formula``, or a table whose columns need encoding (text, categories, missing
    values), the units of selection are the formula's **terms**: all the dummy columns of
    ``species`` enter and leave together, as do an interaction's.  Steps respect
    marginality as R's ``step`` does: a term enters only when every term whose factors it
    contains is in the model (``species:sex`` after ``species`` and ``sex``), and leaves
    only when no term in the model contains it; ``start`` must be such a set (term names).
    The number of parameters is the design's rank (aliased columns — an empty cell of an
    interaction — do not count), as statsmodels counts it, so each step's AIC/BIC is that of
    ``statsmodels.formula.api.ols(formula, data).fit()`` of the model it reaches.  Every
    criterion comes from the statistics of the full design (block sweeps,
    :mod:`.stepwise_terms`); the levels are those of all rows, and with ``missing="drop"``
    every model is of the rows the full formula keeps.  After ``fit``: ``selected_`` (term
    indices), ``selected_names_`` (their names), ``formula_`` (the chosen model's formula,
    ``"y ~ 1"`` for none), ``terms_`` and ``coef_names_`` (of the full design),
    ``support_`` (over its columns), ``path_`` naming terms by index, ``n_dropped_``;
    ``model_`` is ``LinearRegression(formula=formula_)`` solved from the statistics of its
    columns (no second pass), with ``coef_names_``, ``terms_``, ``summary()`` (a pass over
    the same rows; tables in memory and files), ``predict(table)`` and ``save``.
    ``predict`` takes a table; ``transform`` does not apply.

    Notes
    -----
    ``fit`` takes what :class:`~linreg.LinearRegression` takes: arrays or ``scipy.sparse``
    matrices with ``y`` (one target), a :mod:`linreg.sources` source (with ``y=None``; its
    weights, if it has any, are the sample weights), a dask array with ``y``, or a dask
    DataFrame with ``y`` a column name (``sample_weight`` too).  ``predict`` and ``transform``
    take arrays, ``scipy.sparse`` matrices, or (``predict``) dask collections.

    Examples
    --------
    >>> import numpy as np
    >>> from linreg.selection import StepwiseSelector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5)); y = 3 * X[:, 1] - 2 * X[:, 3] + rng.standard_normal(200)
    >>> StepwiseSelector(criterion="bic").fit(X, y).selected_
    [1, 3]
    """

    def __init__(self, criterion="bic", direction="both", start=None, max_features=MAX_FEATURES,
                 formula=None, missing="error"):
        self.criterion = criterion
        self.direction = direction
        self.start = start
        self.max_features = max_features
        self.formula = formula
        self.missing = missing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.required = True
        return tags

    def _validate(self, X, y, sample_weight):
        if y is None:
            raise ValueError("StepwiseSelector requires y to be passed, but the target y is None "
                             "(or pass a data source, which holds its target)")
        X, y = validate_data(self, X, y, reset=True, y_numeric=True, accept_sparse=SPARSE_FORMATS,
                             dtype=[np.float64, np.float32])
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != y.shape:
                raise ValueError(f"sample_weight must have one value per row ({len(y)}), "
                                 f"got shape {sample_weight.shape}")
            if not (np.isfinite(sample_weight).all() and (sample_weight > 0).all()):
                raise ValueError("sample_weight must be finite and positive: a row of zero "
                                 "weight has no likelihood for AIC/BIC (drop such rows)")
        return X, np.asarray(y, dtype=np.float64).reshape(-1, 1), True, sample_weight

    def _statistics(self, rows, X, sample_weight):
        """``(stats, Σ log s or None)`` of ``rows`` in one pass."""
        if isinstance(rows, (MemoryRows, SparseRows)):
            w = rows.sample_weight
            return rows.stats(), None if w is None else float(np.log(w).sum())
        if not (sample_weight is not None or getattr(X, "has_weights", False)):
            return rows.stats(), None
        parts = rows.map_blocks(_weighted_block)
        stats = functools.reduce(SufficientStats.merge, (p[0] for p in parts))
        if sum(p[2] for p in parts):
            raise ValueError(f"sample_weight is zero or negative for {sum(p[2] for p in parts)} "
                             "rows: a row of zero weight has no likelihood for AIC/BIC (drop "
                             "such rows)")
        return stats, sum(p[1] for p in parts)

    def fit(self, X, y=None, sample_weight=None):
        """Select the columns and fit on them; returns ``self``."""
        check_choice("criterion", self.criterion, CRITERIA)
        check_choice("direction", self.direction, ("both", "forward", "backward", "exhaustive"))
        if self.direction == "exhaustive" and self.start is not None:
            raise ValueError("start has no meaning for direction='exhaustive'")
        check_choice("missing", self.missing, ("error", "drop"))
        for name in ("formula_", "terms_", "coef_names_", "n_dropped_", "selected_terms_"):
            if hasattr(self, name):          # from an earlier fit
                delattr(self, name)
        table = table_rows(X, y, sample_weight, self.formula, self.missing, True)
        if table is not None:
            from .selector_terms import fit_terms
            fit_terms(self, table)
            return self
        X, y = target_from_frame(X, y)
        rows = as_rows(X, y, sample_weight, validate=self._validate)
        if rows.n_targets != 1:
            raise ValueError(f"StepwiseSelector selects for one target; got {rows.n_targets}")
        if not isinstance(rows, (MemoryRows, SparseRows)):   # validate_data recorded them
            self.n_features_in_ = rows.n_features
            if rows.feature_names is not None:
                self.feature_names_in_ = np.asarray(rows.feature_names, dtype=object)
            elif hasattr(self, "feature_names_in_"):      # from an earlier fit
                del self.feature_names_in_
        stats, log_weight_sum = self._statistics(rows, X, sample_weight)
        names = getattr(self, "feature_names_in_", None)
        names = ([str(c) for c in names] if names is not None
                 else [f"x{j}" for j in range(stats.n_features)])
        if self.direction == "exhaustive":
            result = best_subset(stats, self.criterion, self.max_features, names, log_weight_sum)
        else:
            result = stepwise(stats, self.direction, self.criterion, self.start, names,
                              log_weight_sum)
        self.result_, self.stats_ = result, stats
        self.selected_ = list(result.selected)
        self.selected_names_ = result.names()
        self.path_ = list(result.path)
        self.criterion_value_ = result.value
        self.support_ = np.zeros(stats.n_features, dtype=bool)
        self.support_[self.selected_] = True
        self.intercept_only_ = float(stats.mean_y[0])
        self.model_ = self._fit_model(rows, stats) if self.selected_ else None
        return self

    def _fit_model(self, rows, stats):
        columns = np.flatnonzero(self.support_)
        model = LinearRegression()
        arrays = rows.matrix()
        if arrays is not None:
            Xm, Y, w = arrays
            model.fit(Xm[:, columns], Y[:, 0], sample_weight=w)
        else:
            model.set_params(solver="normal")
            model.solve_from_stats(column_stats(stats, columns), single_target=True)
        return model

    def plot_path(self, ax=None, path=None):
        """Draw the selection path: the criterion after each step, each point labelled with
        the feature that entered or left (for ``"exhaustive"``: the criterion of the best
        model of each size), the chosen model ringed
        (:func:`linreg.path_plots.draw_selection_path`).  On ``ax`` (new axes if None);
        ``path``: also write the figure there (.png, .svg or .pdf).  Returns the axes."""
        from .. import path_plots

        check_is_fitted(self, "support_")
        (ax,) = path_plots.panels(1, ax, to_file=path is not None and ax is None)
        names = (self.result_.feature_names if hasattr(self, "formula_")
                 else getattr(self, "feature_names_in_", None))
        names = list(names) if names is not None else [f"x{j}" for j in range(self.n_features_in_)]
        path_plots.draw_selection_path(ax, self.path_, self.criterion, names,
                                       exhaustive=self.direction == "exhaustive")
        if path is not None:
            path_plots.save_panels([ax], path)
        return ax

    def _get_support_mask(self):
        check_is_fitted(self, "support_")
        return self.support_

    def transform(self, X):
        """The chosen columns of ``X`` (arrays and matrices; a selection of a table's terms
        has ``formula_`` and ``model_`` instead)."""
        check_is_fitted(self, "support_")
        if hasattr(self, "formula_"):
            raise ValueError("this selector chose terms of a table: its columns are the "
                             f"design of the formula {self.formula_!r} — use model_ (or "
                             "predict), or fit LinearRegression(formula=selector.formula_)")
        return super().transform(X)

    def predict(self, X):
        """``ŷ`` of the model on the chosen columns, from all the original columns (a dask
        collection gives a lazy result)."""
        check_is_fitted(self, "support_")
        if hasattr(self, "formula_"):            # selected terms of a table
            if self.model_ is not None:
                return self.model_.predict(X)
            n = X.num_rows if hasattr(X, "num_rows") else len(X)
            return np.full(n, self.intercept_only_)
        if is_dask_collection(X):
            frame = hasattr(X, "columns")
            if frame:
                missing = [c for c in self.selected_names_ if c not in X.columns]
                if missing:
                    raise ValueError(f"the DataFrame lacks the chosen column(s) {missing}")
            elif X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(f"X must have the {self.n_features_in_} columns the selector "
                                 f"was fitted on, got shape {X.shape}")
            if self.model_ is None:
                first = X[X.columns[0]] if frame else X[:, 0]
                return first * 0.0 + self.intercept_only_
            columns = np.flatnonzero(self.support_)
            return self.model_.predict(X[list(self.feature_names_in_[columns])] if frame
                                       else X[:, columns])
        Xs = self.transform(X)
        if self.model_ is None:
            return np.full(Xs.shape[0], self.intercept_only_)
        return self.model_.predict(Xs)
