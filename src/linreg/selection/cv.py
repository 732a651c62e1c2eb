"""``LinearRegressionCV``: the penalty ``alpha`` chosen by exact cross-validation in one pass."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from ..rows import MemoryRows, SourceRows, as_rows, target_from_frame
from ..rows.sparse import SPARSE_FORMATS, check_finite_X
from ..rows.table import table_rows
from ..validation import check_choice, check_finite, check_sample_weight
from .folds import make_folds
from .loo import gcv_scores, loo_scores
from .path import (
    auto_alphas,
    check_alphas,
    fold_stats,
    held_out_sse,
    path_coefficients,
    small_work,
)
from .scores import choose_alpha, mae_pass

__all__ = ["LinearRegressionCV"]

SCORINGS = ("mse", "r2", "mae")


class LinearRegressionCV(RegressorMixin, BaseEstimator):
    """Ridge regression with ``alpha`` chosen by cross-validation, exactly and in one pass.

    The objective is :class:`linreg.LinearRegression`'s,
    ``J = 1/(2 Σs_i) Σ s_i (x_iᵀw + b − y_i)² + (alpha/2)‖w‖²``, and **alpha keeps its
    per-row meaning on each training fold**: the fold's fit is ``LinearRegression(alpha)``
    fitted on the training rows alone (penalty ``n_train α``, standardization from the
    training rows).  Each fold score equals that refit scored on the held-out rows, to
    rounding: every fold's sufficient statistics come from one pass over the rows, a training
    set's statistics are the other folds' merged, the whole ``alphas`` path of a training set
    costs one eigendecomposition of its (standardized) Gram, and the held-out squared error
    ``Σ s (xᵀw + b − y)²`` follows from the held-out fold's statistics.  ``scoring="mae"``
    is not a function of the statistics: it takes a second pass over the rows.

    Parameters
    ----------
    alphas : array-like or None, default=None
        Strictly increasing, ≥ 0.  None: ``n_alphas`` values log-spaced over
        ``[1e-5, 1e2] × L``, ``L`` the mean eigenvalue of the Hessian (1 when standardized).
    n_alphas : int, default=50
    cv : int, array-like, splitter, "loo" or "gcv", default=5
        An int ``k``: k folds by row number (:mod:`linreg.selection.folds`): contiguous as
        ``KFold(k)`` with ``shuffle=False``; with ``shuffle=True`` row ``i`` is in fold
        ``splitmix64(splitmix64(random_state) ^ i) mod k`` — the same for arrays, files and
        Dask.  An array of length ``n``: fold ids or groups (one fold per distinct value).
        A scikit-learn splitter (rows in memory): its test sets, which must partition the
        rows (``groups`` passed to ``fit`` go to it).  ``"loo"``: exact leave-one-out from
        the leverages (one more pass); ``"gcv"``: generalized CV from the eigenvalues (no
        pass).  Both keep the whole data's penalty ``n_w α`` and standardization for every
        left-out fit, as ``sklearn.linear_model.RidgeCV`` does (with ``standardize=False``
        RidgeCV's alpha is ``Σs·alpha``); see :mod:`linreg.selection.loo`.
    shuffle : bool, default=False
    random_state : int, default=0
    scoring : {"mse", "r2", "mae"}, default="mse"
        Per fold, with the sample weights; averaged over targets and then (unweighted) over
        folds, as ``GridSearchCV`` does.  ``"mae"`` needs a second pass; ``"loo"`` and
        ``"gcv"`` take ``"mse"`` only.
    selection : {"min", "1se"}, default="min"
        ``"min"``: the alpha with the best mean score; ``"1se"``: glmnet's rule, the largest
        alpha whose mean score is within one standard error (over folds) of the best.
        An alpha with a NaN score is never chosen (a warning names it).
    alpha_per_target : bool, default=False
        With several targets: choose one alpha per target, each from that target's own
        scores (as ``RidgeCV(alpha_per_target=True)``, here for k folds too), and refit each
        target with its alpha.  The folds' statistics, the eigendecompositions and the
        coefficient paths are shared by the targets, so this costs nothing more.  False: one
        alpha for all targets, from the scores averaged over targets.  With one target it
        changes nothing.
    fit_intercept, standardize : bool, default=True
        As in :class:`linreg.LinearRegression`.
    formula : str or None, default=None
    missing : {"error", "drop"}, default="error"
        As in :class:`linreg.LinearRegression`: tables (pandas, pyarrow, a
        :mod:`linreg.sources` file, a Dask DataFrame) with categorical columns, a formula,
        missing values.  See *Tables* below.

    Attributes
    ----------
    alpha_, alpha_min_, alpha_1se_ : float, or ndarray (n_targets,) per target
    alphas_ : ndarray (n_alphas,)
    mse_path_ : ndarray (n_alphas, n_folds), or (n_alphas, n_folds, n_targets) per target
        Held-out mean squared error per alpha and fold (mean over targets, unless one alpha
        per target is chosen); for ``"loo"`` and ``"gcv"`` one fold.
    score_path_ : ndarray, the shape of ``mse_path_``
        The chosen ``scoring`` per alpha and fold (and target).
    cv_results_ : dict
        ``"alphas"``, ``"mean_test_<scoring>"``, ``"std_test_<scoring>"``,
        ``"se_test_<scoring>"``, ``"split<i>_test_<scoring>"`` (each (n_alphas,), or
        (n_alphas, n_targets) per target), ``"fold_rows"``.
    coef_, intercept_ : refitted on all rows at ``alpha_`` (from the total statistics).
    estimator_ : linreg.LinearRegression
        That refit (for ``summary()`` of an unpenalized choice, ``save``…).
    n_folds_ : int
    stats_ : linreg.SufficientStats of all rows.
    coef_names_, terms_, n_dropped_ : tables only, as in :class:`linreg.LinearRegression`.

    Tables
    ------
    A table is read through its encoding, and **one pass learns the levels and every
    fold's statistics** (of the cells, keyed by level: :mod:`linreg.tables.cells`); after it
    the levels are fixed and everything is from the statistics.  Each fold score equals
    ``LinearRegression(formula=..., alpha=...)`` refitted on the training rows — **with the
    same columns**: the design is that of all rows (the levels of every block, and the state
    of ``center``/``scale``/``poly`` learned from all rows), so a training fold that lacks a
    level still has that level's column, zero in every one of its rows (its coefficient is
    then 0 for ``alpha > 0``, and the minimum-norm 0 for ``alpha = 0``), and a held-out row
    of that level is predicted with it.  A row's fold comes from its number in the table or
    the file, **rows left out for a missing value keeping theirs** (``missing="drop"``): so
    ``cv=5`` holds out what ``KFold(5).split(table)`` does, less those rows, and a fold-id
    array has one id per row of the table.  Contiguous folds need the table's row count
    before the pass: a CSV file's non-empty lines are counted first (a read without parsing), a
    Dask DataFrame's partitions' lengths found by a pass that counts rows; with
    ``shuffle=True`` or a fold-id array a file needs no count.  ``scoring="mae"`` is a second
    pass (the design's blocks, as for any rows).  The refit (``estimator_``) is the table
    fit at ``alpha_``: ``coef_names_``, ``terms_``, ``predict(table)``, ``summary()``, ``save``.

    Examples
    --------
    >>> import numpy as np
    >>> from linreg import LinearRegressionCV
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5)); y = X @ [1.0, 0, 0, 2.0, 0] + rng.normal(size=200)
    >>> m = LinearRegressionCV(alphas=[0.001, 0.01, 0.1, 1.0]).fit(X, y)
    >>> m.mse_path_.shape, float(m.alpha_) in (0.001, 0.01, 0.1)
    ((4, 5), True)
    """

    def __init__(self, *, alphas=None, n_alphas=50, cv=5, shuffle=False, random_state=0,
                 scoring="mse", selection="min", alpha_per_target=False, fit_intercept=True,
                 standardize=True, formula=None, missing="error"):
        self.alphas = alphas
        self.n_alphas = n_alphas
        self.cv = cv
        self.shuffle = shuffle
        self.random_state = random_state
        self.scoring = scoring
        self.selection = selection
        self.alpha_per_target = alpha_per_target
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.formula = formula
        self.missing = missing

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        return tags

    def _validate(self, X, y, sample_weight):
        if hasattr(y, "tocsr"):
            raise ValueError(f"y is a scipy.sparse {type(y).__name__} of shape {y.shape}; linreg "
                             "needs a dense y (y.toarray(), ravelled for one target)")
        X, y = validate_data(self, X, y, reset=True, multi_output=True, y_numeric=True,
                             dtype=[np.float64, np.float32], ensure_all_finite=False,
                             accept_sparse=SPARSE_FORMATS)
        check_finite_X(X, getattr(self, "feature_names_in_", None))
        Y = np.asarray(y.reshape(-1, 1) if y.ndim == 1 else y, dtype=np.float64)
        check_finite(Y, "y")
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight is zero for every row: there is nothing to fit")
        return X, Y, y.ndim == 1, sample_weight

    def _closed_form_cv(self) -> bool:
        return isinstance(self.cv, str) and self.cv in ("loo", "gcv")

    def _check_params(self):
        check_choice("scoring", self.scoring, SCORINGS)
        check_choice("selection", self.selection, ("min", "1se"))
        check_choice("missing", self.missing, ("error", "drop"))
        if self.formula is not None and not isinstance(self.formula, str):
            raise ValueError(f"formula must be None or text such as 'y ~ x1 + C(group)', got "
                             f"{self.formula!r}")
        if not isinstance(self.alpha_per_target, (bool, np.bool_)):
            raise ValueError(f"alpha_per_target must be True or False, got {self.alpha_per_target!r}")
        if self._closed_form_cv():
            if self.scoring != "mse":
                raise ValueError(f"cv={self.cv!r} scores by mean squared error only; got "
                                 f"scoring={self.scoring!r} (use k folds for 'r2' or 'mae')")
            if self.cv == "gcv" and self.selection == "1se":
                raise ValueError("selection='1se' needs a standard error over folds, which "
                                 "cv='gcv' does not have; use selection='min' or k folds")
        if self.alphas is None and (not isinstance(self.n_alphas, (int, np.integer))
                                    or self.n_alphas < 1):
            raise ValueError(f"n_alphas must be a positive int, got {self.n_alphas!r}")

    def fit(self, X, y=None, sample_weight=None, groups=None):
        """Choose ``alpha`` and refit on all rows; returns ``self``.  ``X`` may be in memory,
        a :mod:`linreg.sources` source or a dask collection (as for ``LinearRegression``):
        every fold's statistics come from one pass over it."""
        self._check_params()
        alphas = None if self.alphas is None else check_alphas(self.alphas)
        for name in ("coef_names_", "terms_", "n_dropped_"):     # from an earlier fit
            if hasattr(self, name):
                delattr(self, name)
        rows = table_rows(X, y, sample_weight, self.formula, self.missing, self.fit_intercept)
        table = rows is not None
        if not table:
            X, y = target_from_frame(X, y)
            rows = as_rows(X, y, sample_weight, validate=self._validate)
            if not isinstance(rows, MemoryRows):
                self.n_features_in_ = rows.n_features
                if rows.feature_names is not None:
                    self.feature_names_in_ = np.asarray(rows.feature_names, dtype=object)
                elif hasattr(self, "feature_names_in_"):      # from an earlier fit
                    del self.feature_names_in_
        arrays = rows.arrays()
        if self._closed_form_cv():
            self._fit_loo(rows, alphas)
        else:
            needs_count = not (self.shuffle and isinstance(self.cv, int)) and not _is_ids(self.cv)
            n = _row_count(rows, needs_count)
            folds = make_folds(self.cv, n, self.shuffle, self.random_state,
                               X if table else None if arrays is None else arrays[0],
                               y if table else None if arrays is None else arrays[1], groups)
            self._fit_folds(rows, folds, alphas, n)
        return self

    def _fit_folds(self, rows, folds, alphas, n_rows):
        if hasattr(rows, "fold_stats"):      # a table: the levels learned in the same pass
            parts = rows.fold_stats(folds)
            read = getattr(rows, "rows_read", None)
        else:
            parts = fold_stats(rows, folds)
            read = sum(s.n_rows for s in parts)
        if folds.kind == "kfold" and read is not None and read != n_rows:
            raise ValueError(f"the folds were laid out for {n_rows} rows (the rows counted "
                             f"before the pass), but the pass read {read}; the file's line "
                             "count misleads (line ends inside quoted values?): use shuffle=True "
                             "or an array of fold ids")
        for f, s in enumerate(parts):
            if s.n_rows < 2 or s.weight_sum <= 0:
                raise ValueError(f"fold {f} holds {s.n_rows} rows (weight {s.weight_sum:g}); "
                                 "every fold needs at least 2 rows of positive weight (use "
                                 "fewer folds, or other fold ids)")
        total = parts[0]
        for s in parts[1:]:
            total = total.merge(s)
        if alphas is None:
            alphas = auto_alphas(total, self.fit_intercept, self.standardize, self.n_alphas)
        k = total.n_targets
        sse = np.empty((alphas.shape[0], folds.n_folds, k))
        paths = []
        for f in range(folds.n_folds):
            training = None
            for g, s in enumerate(parts):
                if g != f:
                    training = s if training is None else training.merge(s)
            coefs, intercepts = path_coefficients(training, alphas, self.fit_intercept,
                                                  self.standardize)
            paths.append((coefs, intercepts))
            sse[:, f] = held_out_sse(parts[f], coefs, intercepts)
        weights = np.array([s.weight_sum for s in parts])
        mse = sse / weights[None, :, None]
        if self.scoring == "mse":
            score = mse
        elif self.scoring == "r2":
            ss_tot = np.array([np.diag(s.target_comoment) for s in parts])   # (folds, k)
            with np.errstate(divide="ignore", invalid="ignore"):
                score = 1.0 - sse / ss_tot[None]
        else:
            score = mae_pass(rows, folds, paths) / weights[None, :, None]
        self.mse_path_, self.score_path_ = self._by_target(mse), self._by_target(score)
        self.n_folds_ = folds.n_folds
        self._choose(alphas, self.score_path_, None, total, rows,
                     extra={"fold_rows": np.array([s.n_rows for s in parts])})

    def _fit_loo(self, rows, alphas):
        total = rows.stats()
        if total.n_rows < 3:
            raise ValueError(f"cv={self.cv!r} needs at least 3 rows, got {total.n_rows} "
                             f"(n_samples={total.n_rows})")
        if alphas is None:
            alphas = auto_alphas(total, self.fit_intercept, self.standardize, self.n_alphas)
        coefs, intercepts = path_coefficients(total, alphas, self.fit_intercept, self.standardize)
        if self.cv == "loo":
            mse, se = loo_scores(rows, total, alphas, coefs, intercepts, self.fit_intercept,
                                 self.standardize)
        else:
            mse, se = gcv_scores(total, alphas, coefs, intercepts, self.fit_intercept,
                                 self.standardize), None
        self.mse_path_ = self._by_target(mse[:, None, :])
        self.score_path_ = self.mse_path_
        if se is not None:
            se = se if self.mse_path_.ndim == 3 else se.mean(axis=1)
        self.n_folds_ = total.n_rows if self.cv == "loo" else 1
        self._choose(alphas, self.score_path_, se, total, rows, extra={})

    def _by_target(self, path):
        """A path (n_alphas, n_folds, k) as the attributes keep it: per target when one
        alpha per target is chosen (and there are several), else averaged over targets."""
        return path if self.alpha_per_target and path.shape[2] > 1 else path.mean(axis=2)

    def _choose(self, alphas, score_path, se, total, rows, extra):
        from ..estimator import LinearRegression
        higher_is_better = self.scoring == "r2"
        if score_path.ndim == 3:        # one alpha per target, from that target's scores
            choices = [choose_alpha(alphas, score_path[:, :, j], higher_is_better,
                                    None if se is None else se[:, j], f"target {j}: ")
                       for j in range(score_path.shape[2])]
        else:
            choices = [choose_alpha(alphas, score_path, higher_is_better, se)]

        def gather(name):
            values = [getattr(c, name) for c in choices]
            return values[0] if score_path.ndim == 2 else np.stack(values, axis=-1)

        self.alphas_ = alphas
        self.alpha_min_, self.alpha_1se_ = gather("alpha_min"), gather("alpha_1se")
        self.alpha_ = self.alpha_1se_ if self.selection == "1se" else self.alpha_min_
        name = self.scoring
        results = {"alphas": alphas, f"mean_test_{name}": gather("mean"),
                   f"std_test_{name}": gather("std"), f"se_test_{name}": gather("se")}
        if score_path.shape[1] > 1:
            for f in range(score_path.shape[1]):
                results[f"split{f}_test_{name}"] = score_path[:, f]
        results.update(extra)
        self.cv_results_ = results
        self.stats_ = total
        alpha = self.alpha_ if np.ndim(self.alpha_) else float(self.alpha_)
        refit = LinearRegression(alpha=alpha, fit_intercept=self.fit_intercept,
                                 standardize=self.standardize, solver="normal")
        if getattr(rows, "encoding", None) is not None:     # a table: its encoded fit
            refit.set_params(formula=self.formula, missing=self.missing)
            with small_work(total.n_features):
                refit.fit_encoded(rows)
            self.n_features_in_ = refit.n_features_in_
            self.feature_names_in_ = refit.feature_names_in_
            self.coef_names_, self.terms_ = refit.coef_names_, refit.terms_
            self.n_dropped_ = refit.n_dropped_
        else:
            with small_work(total.n_features):
                refit.solve_from_stats(total, rows.single_target)
            if hasattr(self, "feature_names_in_"):
                refit.feature_names_in_ = self.feature_names_in_
        self.estimator_ = refit
        self.coef_, self.intercept_ = refit.coef_, refit.intercept_

    def plot_path(self, axes=None, coefficients=True, target=None, path=None):
        """Draw the selection of alpha; returns the axes.

        The cross-validation curve — the mean held-out score per alpha ± one standard error
        over the folds, ``alpha_min_`` and ``alpha_1se_`` marked, the chosen one (``alpha_``)
        said so (:func:`linreg.plotting.draw_cv`) — and, with ``coefficients``, the
        coefficient paths: every coefficient refitted on all rows at every alpha (from the
        total statistics: one eigendecomposition), times its feature's standard deviation
        when ``standardize`` (the scale the penalty acts on), with ``alpha_`` marked.

        Parameters
        ----------
        axes : matplotlib Axes, or a sequence of two (one without coefficients), optional
            Where to draw; by default new ones (pyplot's, or a figure without pyplot when
            only ``path`` is wanted).
        coefficients : bool, default=True
        target : int, optional
            With several targets: whose curve (one alpha per target; default all) and whose
            coefficients (default the first) to draw.
        path : str or path-like, optional
            Also write the figure there (.png, .svg or .pdf).
        """
        from .. import path_plots, plotting

        check_is_fitted(self)
        axes = path_plots.panels(2 if coefficients else 1, axes,
                                 to_file=path is not None and axes is None)
        plotting.draw_cv(axes[0], self, target)
        if coefficients:
            k = self.stats_.n_targets
            j = 0 if target is None else int(target)
            coefs, _ = path_coefficients(self.stats_, self.alphas_, self.fit_intercept,
                                         self.standardize)
            ylabel = "coefficient"
            if self.standardize:
                coefs = coefs * np.sqrt(np.diag(self.stats_.gram) / self.stats_.weight_sum)[:, None]
                ylabel = "coefficient × sd of its feature"
            names = getattr(self, "coef_names_", getattr(self, "feature_names_in_", None))
            names = list(names) if names is not None else [f"x{i}" for i in range(coefs.shape[1])]
            alpha = float(np.atleast_1d(self.alpha_)[j if np.ndim(self.alpha_) else 0])
            title = "Coefficient paths (refitted on all rows)" + (f", target {j}" if k > 1 else "")
            path_plots.draw_coef_path(axes[1], self.alphas_, coefs[:, :, j], names, alpha,
                                      ylabel, title)
        if path is not None:
            path_plots.save_panels(axes, path)
        return axes

    def predict(self, X):
        """``ŷ = X w + b`` with the refitted coefficients (a table through its encoding)."""
        check_is_fitted(self)
        if getattr(self.estimator_, "encoding_", None) is not None:
            return self.estimator_.predict(X)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                          accept_sparse=SPARSE_FORMATS)
        coef = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        X = X.astype(np.float64) if hasattr(X, "tocsr") else np.asarray(X, dtype=np.float64)
        return np.asarray(X @ coef) + self.intercept_


def _is_ids(cv) -> bool:
    """Whether ``cv`` is an array of fold ids (which needs no row count before the pass)."""
    return (not isinstance(cv, (str, int, np.integer, list, tuple)) and cv is not None
            and not hasattr(cv, "split")) or (isinstance(cv, (list, tuple)) and bool(cv)
                                                and not isinstance(cv[0], (list, tuple)))


def _row_count(rows, needed: bool):
    """The number of rows the folds are laid out over (a table's rows: those with a missing
    value included), or None; when ``needed`` (contiguous folds, a splitter), a file's rows
    are counted if no metadata says it."""
    if hasattr(rows, "table_row_count"):
        n = rows.table_row_count() if not needed else rows.count_table_rows()
        return n
    n = rows.row_count()
    if n is None and needed and isinstance(rows, SourceRows):
        n = rows.source.count_rows()
    return n
