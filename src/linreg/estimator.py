"""The scikit-learn compatible estimator: :class:`LinearRegression`."""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import objective
from .closed_form import (NORMAL_EQUATIONS_MAX_CONDITION, Solution, condition_number,
                          solve_normal_equations, solve_qr)
from .descent import full_batch_descent
from .exceptions import ConvergenceWarning, IllConditionedWarning, RankDeficiencyWarning
from .optimizers import get_optimizer
from .stats import Design, DesignStats, SufficientStats, sufficient_stats
from .validation import (check_choice, check_finite, check_nonnegative_float,
                         check_positive_int, column_label)

__all__ = ["LinearRegression", "SOLVERS"]

SOLVERS = ("auto", "normal", "qr", "gd")


@dataclass
class Problem:
    """What a solver gets: the statistics, the design, and the rows where there are rows."""

    stats: SufficientStats
    design: Design
    ds: DesignStats
    alpha: float
    X: np.ndarray | None = None
    Y: np.ndarray | None = None
    sample_weight: np.ndarray | None = None


class LinearRegression(RegressorMixin, BaseEstimator):
    """Linear regression ``ŷ = Xw + b`` by closed form or gradient descent.

    Every solver minimises the same objective::

        J(w, b) = 1/(2 Σs_i) Σ s_i (x_iᵀw + b − y_i)² + (alpha/2) ‖w‖²

    with ``s`` the sample weights (1 by default) and the intercept ``b`` never penalised.
    So ``alpha`` is scikit-learn ``SGDRegressor``'s ``alpha``, and with ``standardize=False``
    ``sklearn.linear_model.Ridge(alpha=Σs_i·alpha)`` gives the same solution.

    Parameters
    ----------
    solver : {"auto", "normal", "qr", "gd"}, default="auto"
        ``"normal"``: the normal equations, accumulated in row blocks and solved by Cholesky.
        ``"qr"``: Householder QR with iterative refinement in extended precision, for
        ill-conditioned data.  ``"auto"``: ``"normal"``, switching to ``"qr"`` when the
        condition number says the normal equations would lose digits.  ``"gd"``: batch
        gradient descent (from the sufficient statistics when ``n ≥ d``).
    alpha : float, default=0.0
        L2 penalty ``(alpha/2)‖w‖²``.  With ``standardize=True`` it applies to the
        coefficients of the standardized features (as glmnet does), so it penalises every
        feature on the same scale; ``coef_`` is still reported in original units.
    fit_intercept : bool, default=True
    standardize : bool, default=True
        Centre (with an intercept) and scale each feature to unit standard deviation inside
        the fit.  A constant column is left unscaled.  Coefficients are reported in the
        original units; without a penalty the solution does not depend on this choice.
    learning_rate : "auto" or float, default="auto"
        Step size ``η`` of ``"gd"``; ``"auto"`` is ``1/L`` with ``L`` the largest eigenvalue of
        the loss's Hessian (the standardized Gram matrix / n_w + alpha).
    max_iter : int, default=1000
        Iterations of ``"gd"``.
    tol : float, default=1e-6
        ``"gd"`` stops when ``‖∇J‖ ≤ tol·‖∇J(start)‖``; ``tol=0`` runs exactly ``max_iter``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Iterations run (0 for a closed form).
    loss_history_ : ndarray
        ``J`` after each iteration, starting with the starting point (closed forms: ``[J]``).
    grad_norm_history_ : ndarray
        ``‖∇J‖`` at the same points.
    solver_ : str
        The solver that produced the coefficients (``"auto"`` resolves to ``"normal"`` or ``"qr"``).
    condition_number_ : float
        2-norm condition number of the column-equilibrated design (``inf`` if rank-deficient).
    rank_ : int
        Numerical rank of the design (features only).
    n_features_in_, feature_names_in_ : as in scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from linreg import LinearRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = 2 * X[:, 0] + 1
    >>> m = LinearRegression().fit(X, y)
    >>> round(float(m.coef_[0]), 12), round(float(m.intercept_), 12)
    (2.0, 1.0)
    """

    def __init__(self, solver="auto", alpha=0.0, fit_intercept=True, standardize=True,
                 learning_rate="auto", max_iter=1000, tol=1e-6):
        self.solver = solver
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------ checks
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def _check_params(self) -> None:
        check_choice("solver", self.solver, SOLVERS)
        check_nonnegative_float("alpha", self.alpha)
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise ValueError(f"fit_intercept={self.fit_intercept!r} must be True or False")
        if not isinstance(self.standardize, (bool, np.bool_)):
            raise ValueError(f"standardize={self.standardize!r} must be True or False")
        if not (isinstance(self.learning_rate, str) and self.learning_rate == "auto"):
            if (isinstance(self.learning_rate, (bool, str)) or not isinstance(self.learning_rate, numbers.Real)
                    or not np.isfinite(self.learning_rate) or self.learning_rate <= 0):
                raise ValueError(f"learning_rate={self.learning_rate!r} must be 'auto' or a "
                                 "finite number > 0")
        check_positive_int("max_iter", self.max_iter)
        check_nonnegative_float("tol", self.tol)

    def _validate_training_data(self, X, y, sample_weight, reset=True):
        y_array = np.asarray(y) if not hasattr(y, "dtype") else y
        if getattr(y_array, "dtype", None) is not None and y_array.dtype.kind == "f" and len(y_array):
            check_finite(np.asarray(y_array).reshape(len(y_array), -1), "y")
        X, y = validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True,
                             dtype=[np.float64, np.float32], ensure_all_finite=False)
        names = getattr(self, "feature_names_in_", None)
        check_finite(X, "X", names)
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        Y = np.asarray(Y, dtype=np.float64)
        check_finite(Y, "y")
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64,
                                                 ensure_non_negative=True)
            check_finite(sample_weight, "sample_weight")
            if not np.any(sample_weight > 0):
                raise ValueError("sample_weight is zero for every row: there is nothing to fit")
        return X, Y, y.ndim == 1, sample_weight

    # ------------------------------------------------------------------ fit
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` (n, d) and ``y`` (n,) or (n, k); returns ``self``."""
        self._check_params()
        X, Y, single, sw = self._validate_training_data(X, y, sample_weight)
        stats = sufficient_stats(X, Y, sw)
        self._fit_problem(stats, X, Y, sw, single)
        return self

    def _fit_problem(self, stats: SufficientStats, X, Y, sw, single: bool) -> None:
        design = Design.from_stats(stats, self.fit_intercept, self.standardize)
        ds = design.apply(stats)
        problem = Problem(stats, design, ds, float(self.alpha), X, Y, sw)
        self.condition_number_ = condition_number(ds, problem.alpha)
        solver = self.solver
        if solver == "auto":
            solver = "normal"
            if self.condition_number_ ** 2 > NORMAL_EQUATIONS_MAX_CONDITION and X is not None:
                solver = "qr"
        elif solver == "normal" and 1e10 < self.condition_number_ ** 2 < np.inf:
            warnings.warn(
                f"the design's condition number is {self.condition_number_:.3g}, so the normal "
                f"equations may lose about {2 * np.log10(self.condition_number_):.0f} of 16 "
                "digits; solver='qr' (or 'auto') keeps about twice as many.",
                IllConditionedWarning, stacklevel=3)
        solution = getattr(self, f"_solve_{solver}")(problem)
        self.solver_ = solver
        self.rank_ = solution.rank
        if solution.dependent_columns or solution.rank < stats.n_features:
            self._warn_rank(solution, ds)
        coef, intercept = design.to_original(solution.theta, solution.beta)
        self.stats_ = stats
        self._set_coefficients(coef, intercept, single)
        if solver in ("normal", "qr"):
            J = objective.loss_from_stats(ds, solution.theta, solution.beta, problem.alpha)
            gw, gb = objective.gradient_from_stats(ds, solution.theta, solution.beta, problem.alpha)
            self.loss_history_ = np.array([J])
            self.grad_norm_history_ = np.array([np.sqrt(np.sum(gw**2) + np.sum(gb**2) * self.fit_intercept)])
            self.n_iter_ = 0

    def _set_coefficients(self, coef, intercept, single: bool) -> None:
        if not self.fit_intercept:
            intercept = np.zeros_like(intercept)
        if single:
            self.coef_ = coef[:, 0].copy()
            self.intercept_ = float(intercept[0])
        else:
            self.coef_ = np.ascontiguousarray(coef.T)
            self.intercept_ = intercept.copy()

    def _warn_rank(self, solution: Solution, ds: DesignStats) -> None:
        names = getattr(self, "feature_names_in_", None)
        d = ds.gram.shape[0]
        constant = [j for j in range(d) if ds.gram[j, j] <= 1e-13 * max(1.0, ds.gram.diagonal().max())
                    and ds.fit_intercept]
        dependent = [j for j in solution.dependent_columns if j not in constant]
        parts = []
        if constant:
            parts.append("constant (so indistinguishable from the intercept): "
                         + ", ".join(column_label(j, names) for j in constant))
        if dependent:
            parts.append("linearly dependent on each other: "
                         + ", ".join(column_label(j, names) for j in dependent))
        detail = "; ".join(parts) if parts else "(the dependent columns could not be isolated)"
        warnings.warn(
            f"X is rank-deficient (rank {solution.rank} < {d} features). Columns {detail}. "
            "Their individual coefficients are not identifiable; returning the minimum-norm "
            "solution.", RankDeficiencyWarning, stacklevel=4)

    # ------------------------------------------------------------------ solvers
    def _solve_normal(self, problem: Problem) -> Solution:
        return solve_normal_equations(problem.ds, problem.alpha)

    def _solve_qr(self, problem: Problem) -> Solution:
        if problem.X is None:
            raise ValueError("solver='qr' needs the rows of X; this data source only provides "
                             "sufficient statistics — use solver='normal' or 'auto'")
        design = problem.design
        if design.fit_intercept:
            # QR always works on centred columns (far better conditioned); the explicit
            # intercept column absorbs any rounding of the means exactly.
            centred = Design(problem.stats.mean_x.copy(), design.scale, True, design.standardize)
        else:
            centred = design
        solution = solve_qr(problem.X, problem.Y, centred, problem.alpha,
                            problem.sample_weight, problem.ds.weight_sum)
        if centred is not design:
            coef, intercept = centred.to_original(solution.theta, solution.beta)
            solution.theta, solution.beta = design.from_original(coef, intercept)
        return solution

    def _solve_gd(self, problem: Problem) -> Solution:
        ds, alpha = problem.ds, problem.alpha
        d, k = ds.cross.shape
        L = objective.lipschitz_constant(ds, alpha)
        lr = 1.0 / L if self.learning_rate == "auto" else float(self.learning_rate)
        use_rows = problem.X is not None and problem.X.shape[0] < d
        if use_rows:
            Xd = problem.design.transform(problem.X)
            Y, sw = problem.Y, problem.sample_weight
            loss_fn = lambda w, b: objective.loss(Xd, Y, w, b, alpha, sw)  # noqa: E731
            grad_fn = lambda w, b: objective.gradient(Xd, Y, w, b, alpha, sw)  # noqa: E731
        else:
            loss_fn = lambda w, b: objective.loss_from_stats(ds, w, b, alpha)  # noqa: E731
            grad_fn = lambda w, b: objective.gradient_from_stats(ds, w, b, alpha)  # noqa: E731
        result = full_batch_descent(loss_fn, grad_fn, np.zeros((d, k)), np.zeros(k),
                                    self.fit_intercept, lr, self.max_iter, self.tol,
                                    get_optimizer("plain"), lipschitz=L)
        self.n_iter_ = result.n_iter
        self.loss_history_ = np.asarray(result.loss_history)
        self.grad_norm_history_ = np.asarray(result.grad_norm_history)
        self.learning_rate_ = lr
        if not result.converged and self.tol > 0:
            warnings.warn(
                f"gradient descent reached max_iter={self.max_iter} with the gradient norm at "
                f"{result.grad_norm_history[-1] / result.grad_norm_history[0]:.3g} of its start "
                f"(tol={self.tol:g}); increase max_iter, or use solver='auto' for the exact "
                "solution.", ConvergenceWarning, stacklevel=4)
        return Solution(result.theta, result.beta, d)

    # ------------------------------------------------------------------ use
    def predict(self, X):
        """``ŷ = X w + b``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                          ensure_all_finite=False)
        check_finite(X, "X", getattr(self, "feature_names_in_", None))
        coef = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        return objective.predict(np.asarray(X, dtype=np.float64), coef, self.intercept_)

    def save(self, path) -> None:
        """Write the fitted model to ``path`` (JSON, versioned; atomically replaced)."""
        from .persistence import save
        save(self, path)
