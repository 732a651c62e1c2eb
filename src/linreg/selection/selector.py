"""``StepwiseSelector``: feature selection by AIC, BIC or adjusted R² as an estimator.

``fit(X, y)`` computes the sufficient statistics once, selects columns from them
(:func:`~linreg.selection.stepwise` or :func:`~linreg.selection.subsets.best_subset`), and fits
a :class:`~linreg.LinearRegression` on the chosen columns (``model_``); ``predict`` and
``transform`` take all the original columns.  With ``sample_weight`` the criteria are
statsmodels' ``WLS`` ones (``Σ log s_i`` computed here; zero weights are refused: such a row
has no likelihood).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ..estimator import LinearRegression
from ..stats import sufficient_stats
from ..validation import check_choice
from .stepwise import CRITERIA, stepwise
from .subsets import MAX_FEATURES, best_subset

__all__ = ["StepwiseSelector"]


class StepwiseSelector(RegressorMixin, BaseEstimator):
    """Select features by an information criterion, then fit on them.

    Parameters
    ----------
    criterion : {"aic", "bic", "adjr2"}, default="bic"
    direction : {"both", "forward", "backward", "exhaustive"}, default="both"
        ``"exhaustive"``: the best of all subsets (``d ≤ max_features``).
    start : list of int, optional
        Columns the search starts from (not for ``"exhaustive"``).
    max_features : int, default=20

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
    model_ : LinearRegression
        Fitted on the chosen columns.

    Examples
    --------
    >>> import numpy as np
    >>> from linreg.selection import StepwiseSelector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 5)); y = 3 * X[:, 1] - 2 * X[:, 3] + rng.standard_normal(200)
    >>> StepwiseSelector(criterion="bic").fit(X, y).selected_
    [1, 3]
    """

    def __init__(self, criterion="bic", direction="both", start=None, max_features=MAX_FEATURES):
        self.criterion = criterion
        self.direction = direction
        self.start = start
        self.max_features = max_features

    def fit(self, X, y, sample_weight=None):
        check_choice("criterion", self.criterion, CRITERIA)
        check_choice("direction", self.direction, ("both", "forward", "backward", "exhaustive"))
        names = list(X.columns) if hasattr(X, "columns") else None
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (rows × features), got shape {X.shape}")
        if y.ndim != 1 or len(y) != len(X):
            raise ValueError(f"y must be 1-D with one value per row of X ({len(X)}), got shape {y.shape}")
        if not (np.isfinite(X).all() and np.isfinite(y).all()):
            raise ValueError("X and y must be finite (no NaN or infinity)")
        log_weight_sum = None
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=float)
            if sample_weight.shape != y.shape:
                raise ValueError(f"sample_weight must have one value per row ({len(y)}), "
                                 f"got shape {sample_weight.shape}")
            if not (np.isfinite(sample_weight).all() and (sample_weight > 0).all()):
                raise ValueError("sample_weight must be finite and positive: a row of zero weight "
                                 "has no likelihood for AIC/BIC (drop such rows)")
            log_weight_sum = float(np.log(sample_weight).sum())
        names = names or [f"x{j}" for j in range(X.shape[1])]
        stats = sufficient_stats(X, y.reshape(-1, 1), sample_weight)
        if self.direction == "exhaustive":
            if self.start is not None:
                raise ValueError("start has no meaning for direction='exhaustive'")
            result = best_subset(stats, self.criterion, self.max_features, names, log_weight_sum)
        else:
            result = stepwise(stats, self.direction, self.criterion, self.start, names, log_weight_sum)
        self.result_ = result
        self.selected_ = list(result.selected)
        self.selected_names_ = result.names()
        self.path_ = list(result.path)
        self.criterion_value_ = result.value
        self.support_ = np.zeros(X.shape[1], dtype=bool)
        self.support_[self.selected_] = True
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.array(names, dtype=object)
        model = LinearRegression()
        if self.selected_:
            model.fit(X[:, self.selected_], y, sample_weight=sample_weight)
        else:  # the intercept alone: a model with no feature columns is not fitted by LinearRegression
            model = None
        self.model_ = model
        self.intercept_only_ = float(np.average(y, weights=sample_weight))
        return self

    def transform(self, X):
        check_is_fitted(self, "selected_")
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise ValueError(f"X must have the {self.n_features_in_} columns the selector was "
                             f"fitted on, got shape {X.shape}")
        return X[:, self.selected_]

    def predict(self, X):
        Xs = self.transform(X)
        if self.model_ is None:
            return np.full(len(Xs), self.intercept_only_)
        return self.model_.predict(Xs)
