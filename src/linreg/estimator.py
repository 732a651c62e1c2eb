"""The scikit-learn compatible estimator: :class:`LinearRegression`."""

from __future__ import annotations

import functools
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from . import objective
from .checkpoint import Checkpoint
from .checkpoint import fingerprint as checkpoint_fingerprint
from .closed_form import (NORMAL_EQUATIONS_MAX_CONDITION, Solution, condition_number,
                          solve_normal_equations, solve_qr, solve_qr_factor)
from .descent import (TrainingSettings, fit_iterative, new_state, partial_fit_epoch,
                      warn_divergences, warn_not_converged)
from .exceptions import ConvergenceWarning, IllConditionedWarning, RankDeficiencyWarning, warn_user
from .optimizers import OPTIMIZERS, SCHEDULES, get_optimizer
from .rank import Identification, identify_stats
from .refine import refine_qr_solution, warn_statistics_only
from .dask_support import is_dask_collection
from .rows.dask import DaskRows
from .rows import AccumulatedRows, MemoryRows, Rows, StatsRows, as_rows
from .sources import is_source
from .design import Design, DesignStats
from .stats import SufficientStats, representative_point, sufficient_stats
from .validation import (check_choice, check_finite, check_nonnegative_float,
                         check_positive_int, column_label)

__all__ = ["LinearRegression", "SOLVERS"]

SOLVERS = ("auto", "normal", "qr", "gd", "sgd", "minibatch")
#: the solvers that take steps (the others solve exactly)
ITERATIVE_SOLVERS = ("gd", "sgd", "minibatch")


def _listed(labels: list[str], limit: int = 10) -> str:
    """``a, b, c`` — at most ``limit`` of them, then how many more."""
    shown = ", ".join(labels[:limit])
    return shown if len(labels) <= limit else f"{shown} and {len(labels) - limit} more"


@dataclass
class Problem:
    """What a solver gets: the statistics, the design, the rank decision and the rows
    (:class:`linreg.rows.Rows`: in memory, in files, on Dask, or only their statistics)."""

    stats: SufficientStats
    design: Design
    ds: DesignStats
    alpha: float
    rows: Rows
    #: the rank decision (linreg.rank.identify) every solver, the warning and rank_ share
    identification: Identification
    #: a linreg.checkpoint.Checkpoint for the iterative solvers, or None
    checkpoint: object = None

    # the rows in memory, for the solvers that read them in place (None otherwise)
    @property
    def X(self):
        arrays = self.rows.arrays()
        return None if arrays is None else arrays[0]

    @property
    def Y(self):
        arrays = self.rows.arrays()
        return None if arrays is None else arrays[1]

    @property
    def sample_weight(self):
        arrays = self.rows.arrays()
        return None if arrays is None else arrays[2]

    def row_blocks(self, shuffle: bool, rng):
        """Blocks ``(X, Y, w)`` of rows that are not in memory (files, Dask)."""
        return self.rows.blocks(shuffle, rng)


def _same_param(a, b) -> bool:
    if isinstance(a, (numbers.Real, np.number)) and isinstance(b, (numbers.Real, np.number)):
        return float(a) == float(b)
    return type(a) is type(b) and a == b


class LinearRegression(RegressorMixin, BaseEstimator):
    """Linear regression ``ŷ = Xw + b`` by closed form or gradient descent.

    Every solver minimises the same objective::

        J(w, b) = 1/(2 Σs_i) Σ s_i (x_iᵀw + b − y_i)² + (alpha/2) ‖w‖²

    with ``s`` the sample weights (1 by default) and the intercept ``b`` never penalised.
    So ``alpha`` is scikit-learn ``SGDRegressor``'s ``alpha``, and with ``standardize=False``
    ``sklearn.linear_model.Ridge(alpha=Σs_i·alpha)`` gives the same solution.

    Parameters
    ----------
    solver : {"auto", "normal", "qr", "gd", "sgd", "minibatch"}, default="auto"
        ``"normal"``: the normal equations, accumulated in row blocks and solved by Cholesky.
        ``"qr"``: Householder QR with iterative refinement in extended precision, for
        ill-conditioned data (rows in files or on Dask: a streamed QR, refined by more passes
        over the rows).  ``"auto"``: ``"normal"``, switching to ``"qr"`` when the
        condition number says the normal equations would lose digits.  ``"gd"``: batch
        gradient descent (from the sufficient statistics when ``n ≥ d``).  ``"sgd"``:
        stochastic gradient descent, one sample per update; ``"minibatch"``: one update per
        ``batch_size`` rows (both compiled, reading the rows of ``X`` in a fresh random order
        each epoch without copying ``X``).
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
        Step size ``η₀`` of the iterative solvers.  ``"auto"`` is a step that is safe for the
        method: ``1/L`` for ``"gd"`` (``L`` the largest eigenvalue of the loss's Hessian, the
        standardized Gram matrix / n_w + alpha); for ``"sgd"``/``"minibatch"`` ``1/L_B`` from
        the largest row norm (see :func:`linreg.descent.auto_learning_rate`), times
        ``1 − momentum`` with momentum; for Adam 0.01 × (stochastic) or 0.1 × (``"gd"``)
        the spread of ``y``: Adam moves each coefficient by about ``η`` per step.
    max_iter : int, default=1000
        Iterations of ``"gd"``; epochs (passes over the data) of ``"sgd"``/``"minibatch"``.
    tol : float, default=1e-6
        The iterative solvers stop when ``‖∇J‖ ≤ tol·‖∇J(start)‖`` (the full-data gradient,
        from the statistics); ``tol=0`` disables stopping on tolerance.  With
        ``early_stopping``, also the improvement the validation loss must make.
    optimizer : {"plain", "momentum", "nesterov", "adam"}, default="plain"
        The update rule of :mod:`linreg.optimizers` (as ``torch.optim.SGD`` and
        ``torch.optim.Adam`` define them), for every iterative solver.
    momentum : float, default=0.9
        ``μ`` of ``"momentum"`` and ``"nesterov"``, in [0, 1).
    beta1, beta2 : float, default=0.9, 0.999
        Adam's moment decay rates, in [0, 1).
    epsilon : float, default=1e-8
        Adam's ``ε`` (> 0).
    schedule : {"auto", "constant", "invscaling", "exponential", "plateau"}, default="auto"
        Learning rate per epoch ``t = 1, 2, …``: ``"constant"`` ``η₀``; ``"invscaling"``
        ``η₀/t^power_t``; ``"exponential"`` ``η₀·decay_rateᵗ⁻¹``; ``"plateau"`` halves the rate
        whenever the training loss has not improved (by 0.01 %) for ``n_iter_no_change``
        epochs, and stops after 20 halvings.  ``"auto"``: ``"constant"`` for ``"gd"``,
        ``"plateau"`` for ``"sgd"``/``"minibatch"``.
    power_t : float, default=0.25
        Exponent of ``"invscaling"`` (≥ 0).
    decay_rate : float, default=0.99
        Factor per epoch of ``"exponential"``, in (0, 1].
    batch_size : int, default=32
        Rows per update of ``"minibatch"`` (1 ≤ batch_size ≤ n).
    shuffle : bool, default=True
        Visit the rows in a fresh random order each epoch (``"sgd"``/``"minibatch"``).
    random_state : int or None, default=0
        Seed of the row orders and the validation split; the same seed gives bit-identical
        results.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the rows; stop when their loss has not improved by
        ``tol`` (relative) for ``n_iter_no_change`` epochs, and keep the parameters with the
        best validation loss.
    validation_fraction : float, default=0.1
        In (0, 1).
    n_iter_no_change : int, default=5
        Patience of early stopping and of the ``"plateau"`` schedule.
    callback : callable or None, default=None
        Called after each epoch (``"gd"``: iteration) with a dict ``info`` holding ``epoch``,
        ``loss``, ``grad_norm``, ``learning_rate``, ``coef`` and ``intercept`` (in original
        units; ``coef`` of shape (n_features,) when there is one target, else
        (n_targets, n_features)) and ``validation_loss`` (or None); returning ``True`` stops
        training.  Not saved in model files.
    warm_start : bool, default=False
        ``fit`` of an iterative solver starts from the current ``coef_``/``intercept_``.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    n_iter_ : int
        Iterations run (1 for a closed form: one solve).
    loss_history_ : ndarray
        ``J`` after each iteration, starting with the starting point (closed forms: ``[J]``).
    grad_norm_history_ : ndarray
        ``‖∇J‖`` at the same points.
    learning_rate_history_ : ndarray
        Iterative solvers: the learning rate of each epoch (iteration).
    validation_loss_history_ : ndarray
        Iterative solvers with ``early_stopping``: validation ``J`` at the start and after each
        epoch (empty otherwise).
    learning_rate_ : float
        Iterative solvers: the ``η₀`` used (after any halving after a divergence).
    training_state_ : linreg.descent.TrainingState
        Iterative solvers: parameters, optimizer state, random generator and counters, from
        which ``partial_fit`` continues.
    solver_ : str
        The solver that produced the coefficients (``"auto"`` resolves to ``"normal"`` or ``"qr"``).
    condition_number_ : float
        2-norm condition number of the column-equilibrated design, centred when there is an
        intercept (``inf`` if rank-deficient).
    n_refinement_passes_ : int
        Passes of iterative refinement over the rows after the QR solve (residuals in
        extended precision): in memory, those of :func:`linreg.closed_form.solve_qr`; for
        rows read from files or on Dask, one pass each, made when ``condition_number_`` >
        1e3 (:mod:`linreg.refine`; one pass for κ up to about 1e5, two beyond).  0 for the
        other solvers, and for ``partial_fit``, which keeps no rows to re-read (it warns
        instead when its solution may have fewer than 9 correct digits).
    rank_ : int
        Numerical rank of the design (features only; centred when there is an intercept).
        Every solver, the :class:`~linreg.exceptions.RankDeficiencyWarning` and
        :meth:`summary` share one decision (:func:`linreg.rank.identify`): a singular value
        of the centred, equilibrated design below ``1e-6`` of the largest counts as zero.
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
                 learning_rate="auto", max_iter=1000, tol=1e-6, optimizer="plain",
                 momentum=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8, schedule="auto",
                 power_t=0.25, decay_rate=0.99, batch_size=32, shuffle=True, random_state=0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 callback=None, warm_start=False):
        self.solver = solver
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.tol = tol
        self.optimizer = optimizer
        self.momentum = momentum
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.schedule = schedule
        self.power_t = power_t
        self.decay_rate = decay_rate
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callback = callback
        self.warm_start = warm_start

    def __getstate__(self):
        # the training rows are only referenced for summary(); copying or serializing the
        # estimator must not carry the caller's whole data set along
        state = super().__getstate__()
        state.pop("_training_rows", None)
        return state

    # ------------------------------------------------------------------ checks
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        return tags

    def check_params(self) -> None:
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
        self._check_training_params()

    def _check_training_params(self) -> None:
        """The parameters of the iterative solvers (checked whatever the solver, so a bad
        value is reported where it is set)."""
        check_choice("optimizer", self.optimizer, tuple(OPTIMIZERS))
        check_choice("schedule", self.schedule, ("auto",) + SCHEDULES)
        for name in ("momentum", "beta1", "beta2"):
            value = getattr(self, name)
            if check_nonnegative_float(name, value) >= 1:
                raise ValueError(f"{name}={value!r} must be in [0, 1)")
        if check_nonnegative_float("epsilon", self.epsilon) == 0:
            raise ValueError(f"epsilon={self.epsilon!r} must be > 0")
        check_nonnegative_float("power_t", self.power_t)
        if not 0 < check_nonnegative_float("decay_rate", self.decay_rate) <= 1:
            raise ValueError(f"decay_rate={self.decay_rate!r} must be in (0, 1]")
        check_positive_int("batch_size", self.batch_size)
        for name in ("shuffle", "early_stopping", "warm_start"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name}={getattr(self, name)!r} must be True or False")
        if self.random_state is not None:
            check_positive_int("random_state", self.random_state, minimum=0)
        if not 0 < check_nonnegative_float("validation_fraction", self.validation_fraction) < 1:
            raise ValueError(f"validation_fraction={self.validation_fraction!r} must be in (0, 1)")
        check_positive_int("n_iter_no_change", self.n_iter_no_change)
        if self.callback is not None and not callable(self.callback):
            raise ValueError(f"callback={self.callback!r} must be None or a function of one "
                             "argument (the info dict)")

    def _validate_training_data(self, X, y, sample_weight, reset=True, finite_X=True):
        y_array = np.asarray(y) if not hasattr(y, "dtype") else y
        if getattr(y_array, "dtype", None) is not None and y_array.dtype.kind == "f" and len(y_array):
            check_finite(np.asarray(y_array).reshape(len(y_array), -1), "y")
        X, y = validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True,
                             dtype=[np.float64, np.float32], ensure_all_finite=False)
        if finite_X:
            check_finite(X, "X", getattr(self, "feature_names_in_", None))
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
    def fit(self, X, y=None, sample_weight=None, checkpoint=None, checkpoint_every=1):
        """Fit the model to ``X`` (n, d) and ``y`` (n,) or (n, k); returns ``self``.

        ``checkpoint`` (a file path; iterative solvers only) saves the training state every
        ``checkpoint_every`` epochs and at the end, atomically; if the file exists, training
        resumes from it and ends with the coefficients of an uninterrupted run with the same
        ``random_state`` (see :mod:`linreg.checkpoint`).

        ``X`` may also be a data source of :mod:`linreg.sources` (rows, targets and weights
        all come from it, read in blocks), or a dask array (with ``y`` a dask array) or dask
        DataFrame (with ``y`` a dask Series or the target column's name): the statistics
        are then computed per partition on the cluster (:mod:`linreg.dask_support`).
        Whatever the input, it becomes one :class:`linreg.rows.Rows` here, and the rest of
        the fit asks it for what it needs.
        """
        ckpt = None
        if checkpoint is not None:
            if self.solver not in ITERATIVE_SOLVERS:
                raise ValueError(f"checkpoint is for the iterative solvers {ITERATIVE_SOLVERS}; "
                                 f"solver={self.solver!r} has no training state to save")
            ckpt = Checkpoint(checkpoint, checkpoint_every)
        self.check_params()
        rows = as_rows(X, y, sample_weight, validate=functools.partial(
            self._validate_training_data, finite_X=False))
        if ckpt is not None and isinstance(rows, DaskRows):
            raise ValueError("checkpoint is not supported for dask collections")
        stats = rows.stats()
        if not isinstance(rows, MemoryRows):      # validate_data recorded them for arrays
            self._set_input_names(rows.feature_names, stats.n_features)
        self._fit_problem(stats, rows, checkpoint=ckpt)
        return self

    def _set_input_names(self, names, n_features: int) -> None:
        """``n_features_in_`` and ``feature_names_in_`` for data that did not pass through
        ``validate_data`` (sources, Dask)."""
        self.n_features_in_ = int(n_features)
        if names is not None:
            self.feature_names_in_ = np.asarray(list(names), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _fit_problem(self, stats: SufficientStats, rows: Rows, checkpoint=None) -> None:
        design = Design.from_stats(stats, self.fit_intercept, self.standardize)
        ds = design.apply(stats)
        identification = identify_stats(stats, self.fit_intercept)
        problem = Problem(stats, design, ds, float(self.alpha), rows, identification, checkpoint)
        self.condition_number_ = (identification.condition_number if problem.alpha == 0
                                  else condition_number(ds, problem.alpha))
        solver = self.solver
        if solver == "auto":
            solver = "normal"
            if self.condition_number_ ** 2 > NORMAL_EQUATIONS_MAX_CONDITION:
                if rows.has_factor():
                    solver = "qr"
                else:
                    warn_statistics_only(self.condition_number_)
        elif solver == "normal" and 1e10 < self.condition_number_ ** 2 < np.inf:
            warn_user(
                f"the design's condition number is {self.condition_number_:.3g}, so the normal "
                f"equations may lose about {2 * np.log10(self.condition_number_):.0f} of 16 "
                "digits; solver='qr' (or 'auto') keeps about twice as many.",
                IllConditionedWarning)
        solution = getattr(self, f"_solve_{solver}")(problem)
        self.solver_ = solver
        self.n_refinement_passes_ = solution.refinement_steps
        self.rank_ = identification.rank_x
        if problem.alpha == 0 and not identification.full_rank:
            self._warn_rank(identification, stats)
        coef, intercept = design.to_original(solution.theta, solution.beta)
        self.stats_ = stats
        # the training rows, by reference (not a copy, never saved), for summary()'s residual
        # pass (statistics only after partial_fit and merge)
        self._training_rows = rows
        self._set_coefficients(coef, intercept, rows.single_target)
        if solver in ("normal", "qr"):
            J = objective.loss_from_stats(ds, solution.theta, solution.beta, problem.alpha)
            gw, gb = objective.gradient_from_stats(ds, solution.theta, solution.beta, problem.alpha)
            self.loss_history_ = np.array([J])
            self.grad_norm_history_ = np.array([np.sqrt(np.sum(gw**2) + np.sum(gb**2) * self.fit_intercept)])
            self.n_iter_ = 1

    def _set_coefficients(self, coef, intercept, single: bool) -> None:
        if not self.fit_intercept:
            intercept = np.zeros_like(intercept)
        if single:
            self.coef_ = coef[:, 0].copy()
            self.intercept_ = float(intercept[0])
        else:
            self.coef_ = np.ascontiguousarray(coef.T)
            self.intercept_ = intercept.copy()

    def _warn_rank(self, identification: Identification, stats: SufficientStats) -> None:
        """The :class:`RankDeficiencyWarning`, worded from the rank decision: the constant
        columns, the columns that repeat the intercept (add up to a constant), the others,
        and the usual fix."""
        names = getattr(self, "feature_names_in_", None)
        d = stats.n_features
        constant = ([int(j) for j in np.flatnonzero(identification.constant)]
                    if self.fit_intercept else [])
        dependent = [j for j in identification.dependent_features if j not in constant]
        with_intercept = identification.intercept_with_columns(
            stats.mean_x, np.diag(stats.gram), stats.weight_sum)
        parts, fixes = [], []
        if constant:
            parts.append("constant (so indistinguishable from the intercept): "
                         + _listed([column_label(j, names) for j in constant]))
            fixes.append("drop the constant column" + ("s" if len(constant) > 1 else ""))
        if dependent and with_intercept:
            parts.append("the intercept and " + _listed([column_label(j, names) for j in dependent])
                         + " are linearly dependent: some of these columns add up to a constant "
                         "(the intercept's column of ones), as dummy columns for every level of "
                         "a categorical do")
            fixes.append("drop one column of each such set — for dummy columns, one level of "
                         "each categorical, e.g. pd.get_dummies(..., drop_first=True) — or fit "
                         "without the intercept")
        elif dependent:
            parts.append(_listed([column_label(j, names) for j in dependent])
                         + " are linearly dependent on each other")
            fixes.append("drop one column of each dependent set")
        if not parts:
            parts.append("the dependent columns could not be isolated")
        n_params = d + bool(self.fit_intercept)
        why = (f"{stats.n_rows} rows cannot determine {n_params} parameters. "
               if stats.n_rows < n_params else "")
        fix = f" To identify every coefficient, {'; '.join(fixes)}." if fixes and not why else ""
        warn_user(
            f"X is rank-deficient (rank {identification.rank_x} < {d} features): "
            f"{'; '.join(parts)}. {why}Their individual coefficients "
            f"are not identifiable; returning the minimum-norm solution.{fix}",
            RankDeficiencyWarning)

    # ------------------------------------------------------------------ solvers
    def _solve_normal(self, problem: Problem) -> Solution:
        return solve_normal_equations(problem.ds, problem.alpha, problem.identification,
                                      problem.design.scale)

    def _solve_qr(self, problem: Problem) -> Solution:
        design = problem.design
        if design.fit_intercept:
            # QR always works on centred columns (far better conditioned); the explicit
            # intercept column absorbs any rounding of the means exactly.
            centred = Design(problem.stats.mean_x.copy(), design.scale, True, design.standardize)
        else:
            centred = design
        arrays = problem.rows.arrays()
        if arrays is None:
            # one more pass (TSQR) where the rows are; y is centred too (on its mean from the
            # statistics), as solve_qr does
            y_shift = problem.stats.mean_y.copy() if centred.fit_intercept else None
            factor = problem.rows.qr_factor(centred, y_shift)
            solution = solve_qr_factor(factor, centred, problem.alpha, problem.ds.weight_sum,
                                       problem.stats.n_rows, y_shift,
                                       n_null=problem.identification.n_null)
            # more passes over re-readable rows when the condition number calls for them
            solution = refine_qr_solution(problem.rows, factor, solution, centred, problem.alpha,
                                          problem.ds.weight_sum, y_shift, self.condition_number_)
        else:       # in memory: QR with iterative refinement from the rows themselves
            X, Y, sw = arrays
            solution = solve_qr(X, Y, centred, problem.alpha, sw, problem.ds.weight_sum,
                                n_null=problem.identification.n_null)
        if centred is not design:
            coef, intercept = centred.to_original(solution.theta, solution.beta)
            solution.theta, solution.beta = design.from_original(coef, intercept)
        return solution

    def _solve_gd(self, problem: Problem) -> Solution:
        return self._solve_iterative(problem, "gd")

    def _solve_sgd(self, problem: Problem) -> Solution:
        return self._solve_iterative(problem, "sgd")

    def _solve_minibatch(self, problem: Problem) -> Solution:
        return self._solve_iterative(problem, "minibatch")

    # ------------------------------------------------------------------ training
    def _training_settings(self, solver: str) -> TrainingSettings:
        schedule = self.schedule
        if schedule == "auto":
            schedule = "constant" if solver == "gd" else "plateau"
        opt = get_optimizer(self.optimizer, momentum=self.momentum, beta1=self.beta1,
                            beta2=self.beta2, epsilon=self.epsilon)
        return TrainingSettings(
            solver=solver, optimizer=opt, learning_rate=self.learning_rate, schedule=schedule,
            power_t=float(self.power_t), decay_rate=float(self.decay_rate),
            batch_size=int(self.batch_size), max_iter=int(self.max_iter), tol=float(self.tol),
            shuffle=bool(self.shuffle), early_stopping=bool(self.early_stopping),
            validation_fraction=float(self.validation_fraction),
            n_iter_no_change=int(self.n_iter_no_change), callback=self.callback,
            fit_intercept=bool(self.fit_intercept), alpha=float(self.alpha))

    def _training_report(self, design: Design, n_targets: int, single: bool):
        """``params -> (coef, intercept)`` in original units, shaped as ``coef_``/``intercept_``."""
        def report(params):
            theta = params[:-n_targets].reshape(-1, n_targets)
            coef, intercept = design.to_original(theta, params[-n_targets:])
            if not self.fit_intercept:
                intercept = np.zeros_like(intercept)
            if single:
                return coef[:, 0].copy(), float(intercept[0])
            return np.ascontiguousarray(coef.T), intercept.copy()
        return report

    def _solve_iterative(self, problem: Problem, solver: str) -> Solution:
        d, k = problem.ds.cross.shape
        settings = self._training_settings(solver)
        if solver == "minibatch":
            n = problem.X.shape[0] if problem.X is not None else int(problem.stats.n_rows)
            n_train = n - int(np.ceil(settings.validation_fraction * n)) if settings.early_stopping else n
            if settings.batch_size > n_train:
                raise ValueError(f"batch_size={settings.batch_size} is larger than the number of "
                                 f"training rows (n_samples={n_train}); use a batch_size between 1 "
                                 f"and {n_train}")
        init = None
        if self.warm_start and hasattr(self, "coef_"):
            coef = np.asarray(self.coef_, dtype=np.float64)
            coef = coef.reshape(-1, 1) if coef.ndim == 1 else coef.T
            if coef.shape == (d, k):
                theta, beta = problem.design.from_original(
                    coef, np.atleast_1d(np.asarray(self.intercept_, dtype=np.float64)))
                init = np.concatenate([theta.ravel(), beta if self.fit_intercept else np.zeros(k)])
        if problem.checkpoint is not None:
            problem.checkpoint.fingerprint = checkpoint_fingerprint(
                settings, problem.stats, problem.design, self.random_state)
        outcome = fit_iterative(problem, settings, self.random_state, init,
                                self._training_report(problem.design, k, k == 1),
                                checkpoint=problem.checkpoint)
        self._set_training_attributes(outcome.state)
        warn_divergences(settings, outcome.state)
        warn_not_converged(settings, outcome)
        return Solution(outcome.theta, outcome.beta, d)

    def _set_training_attributes(self, state) -> None:
        self.training_state_ = state
        self.n_iter_ = state.epoch
        self.loss_history_ = np.asarray(state.loss_history, dtype=np.float64)
        self.grad_norm_history_ = np.asarray(state.grad_norm_history, dtype=np.float64)
        self.learning_rate_history_ = np.asarray(state.learning_rate_history, dtype=np.float64)
        self.validation_loss_history_ = np.asarray(state.validation_loss_history, dtype=np.float64)
        self.learning_rate_ = state.learning_rate

    def _partial_fit_stochastic(self, X, y, sample_weight):
        """One epoch of ``"sgd"``/``"minibatch"`` over these rows (in a random order when
        ``shuffle``), continuing the optimizer state, counters and random generator of the
        previous ``fit``/``partial_fit``.  The first call fixes the design (centring and
        scaling) from its rows.  ``loss_history_`` gets ``J`` of all rows seen so far."""
        self.check_params()
        state = getattr(self, "training_state_", None)
        # continue only what an iterative fit left (a later closed-form fit supersedes it)
        first = state is None or getattr(self, "solver_", None) not in ITERATIVE_SOLVERS
        X, Y, single, sw = self._validate_training_data(X, y, sample_weight, reset=first)
        chunk = sufficient_stats(X, Y, sw)
        d, k = chunk.n_features, chunk.n_targets
        if first:
            stats = chunk
            design = Design.from_stats(chunk, self.fit_intercept, self.standardize)
            state = new_state(design, d, k, self.random_state)
        else:
            if k != state.n_targets:
                raise ValueError(f"y has {k} target(s); the model was fitted with {state.n_targets}")
            single = np.ndim(self.coef_) == 1
            stats = self.stats_.merge(chunk)
        settings = self._training_settings(self.solver)
        report = self._training_report(state.design, k, single)
        partial_fit_epoch(state, settings, stats, X, Y, sw, report)
        ds = state.design.apply(stats)
        self.stats_ = stats
        self.solver_ = self.solver
        identification = identify_stats(stats, self.fit_intercept)
        self.condition_number_ = (identification.condition_number if float(self.alpha) == 0
                                  else condition_number(ds, float(self.alpha)))
        self.rank_ = identification.rank_x
        theta, beta = state.theta_beta()
        coef, intercept = state.design.to_original(theta, beta)
        self._set_coefficients(coef, intercept, single)
        self._set_training_attributes(state)
        warn_divergences(settings, state)
        return self

    # ------------------------------------------------------------------ incremental
    def partial_fit(self, X, y, sample_weight=None):
        """Fit on one more chunk of rows; returns ``self``.

        With ``solver`` ``"sgd"`` or ``"minibatch"``: more stochastic steps on this chunk.
        Otherwise exact accumulation: the chunk's :class:`~linreg.stats.SufficientStats` are
        merged into ``stats_`` and the model is re-solved from them, so after any sequence of
        chunks ``coef_`` equals the batch fit on their concatenation.  ``"qr"`` also keeps one
        triangular factor of all rows so far (updated chunk by chunk, TSQR), and solves from
        it, without the refinement a fit on re-readable rows makes: it warns
        (:class:`~linreg.exceptions.IllConditionedWarning`, with the estimated loss) when the
        solution may have fewer than 9 correct digits.  ``"auto"`` here has only the
        statistics, so it solves the normal equations and warns, with the estimated loss,
        whenever the condition number says ``"qr"`` would keep more digits
        (``κ² > 1e6``).  A model already fitted with :meth:`fit` continues from that fit's
        statistics.
        """
        if self.solver in ("sgd", "minibatch"):
            return self._partial_fit_stochastic(X, y, sample_weight)
        self.check_params()
        first = not isinstance(getattr(self, "stats_", None), SufficientStats)
        X, Y, single, sw = self._validate_training_data(X, y, sample_weight, reset=first)
        with_factor = self.solver == "qr"
        accumulated = getattr(self, "_training_rows", None)
        if first:
            # all chunks are accumulated around one point K fixed by the first chunk
            accumulated = AccumulatedRows(representative_point(X, Y),
                                          SufficientStats.empty(X.shape[1], Y.shape[1]),
                                          single_target=single)
        else:
            if Y.shape[1] != self.stats_.n_targets:
                raise ValueError(f"y has {Y.shape[1]} target(s); the model was fitted "
                                 f"with {self.stats_.n_targets}")
            if not isinstance(accumulated, AccumulatedRows):
                accumulated = self._continued(accumulated, with_factor)
        accumulated = accumulated.add(X, Y, sw, with_factor)
        self._fit_problem(accumulated.stats(), accumulated)
        return self

    def _continued(self, rows, with_factor: bool) -> AccumulatedRows:
        """``partial_fit`` after ``fit``, ``merge`` or loading: the accumulation starts from the
        model's statistics, around their means (and, for ``"qr"``, from a factor of its rows,
        which it must still hold)."""
        K = self.stats_.mean.copy()
        relative = SufficientStats(self.stats_.n_rows, self.stats_.weight_sum, np.zeros_like(K),
                                   self.stats_.comoment, self.stats_.n_features)
        factor = None
        if with_factor:
            if rows is None or not rows.has_factor():
                raise ValueError("partial_fit with solver='qr' can continue only a model whose "
                                 "rows it has seen (a fit on in-memory arrays or a data source, "
                                 "or earlier partial_fit calls with solver='qr'); refit, or use "
                                 "solver='normal' or 'auto'")
            d = self.stats_.n_features
            factor = rows.qr_factor(Design(K[:d], np.ones(d), True, False), K[d:])
        return AccumulatedRows(K, relative, factor, np.ndim(self.coef_) == 1)

    def merge(self, other: "LinearRegression") -> "LinearRegression":
        """Combine with a model fitted on other (disjoint) rows: the exact joint fit.

        The two models' statistics are merged (Chan et al.'s update) and the model is
        re-solved from them, so the result equals the batch fit on both data sets together.
        Both must be fitted, with the same parameters, features and number of targets.
        Modifies and returns ``self``.
        """
        if not isinstance(other, LinearRegression):
            raise ValueError(f"can only merge with another LinearRegression, not "
                             f"{type(other).__name__}")
        for name, model in (("this model", self), ("the other model", other)):
            if not hasattr(model, "coef_"):
                raise ValueError(f"{name} is not fitted; fit both models before merging")
            if not isinstance(getattr(model, "stats_", None), SufficientStats):
                raise ValueError(f"{name} has no sufficient statistics (loaded from a file, "
                                 "or fitted stochastically), so an exact merge is impossible; "
                                 "refit it with solver 'auto', 'normal' or 'gd'")
        mine, theirs = self.get_params(), other.get_params()
        differ = sorted(k for k in mine if not _same_param(mine[k], theirs[k]))
        if differ:
            raise ValueError("cannot merge models with different parameters: "
                             + ", ".join(f"{k}={mine[k]!r} vs {theirs[k]!r}" for k in differ))
        if self.n_features_in_ != other.n_features_in_:
            raise ValueError(f"cannot merge a model of {self.n_features_in_} features with one "
                             f"of {other.n_features_in_}")
        a = getattr(self, "feature_names_in_", None)
        b = getattr(other, "feature_names_in_", None)
        if (a is None) != (b is None) or (a is not None and list(a) != list(b)):
            raise ValueError(f"cannot merge models fitted on different features: "
                             f"{None if a is None else list(a)} vs {None if b is None else list(b)}")
        if np.ndim(self.coef_) != np.ndim(other.coef_) or \
                self.stats_.n_targets != other.stats_.n_targets:
            raise ValueError("cannot merge models with different targets (one vs several, or a "
                             "different number)")
        if self.solver == "qr":
            raise ValueError("merge re-solves from the statistics; solver='qr' needs the rows. "
                             "Use solver='auto' or 'normal'")
        return self.solve_from_stats(self.stats_.merge(other.stats_), np.ndim(self.coef_) == 1)

    def solve_from_stats(self, stats: SufficientStats, single_target: bool = True):
        """Fit from the sufficient statistics alone, with no rows: the exact solution of
        every closed-form solver (``"qr"`` needs the rows) and the full-batch descent of
        ``"gd"``.  What :meth:`merge` and the plots' optimum use; returns ``self``.

        ``single_target``: report ``coef_`` 1-D (one target).  :meth:`summary` then needs
        the rows passed to it.
        """
        self.check_params()
        if not isinstance(stats, SufficientStats):
            raise ValueError(f"stats must be linreg.stats.SufficientStats, not {type(stats).__name__}")
        if not hasattr(self, "n_features_in_"):
            self.n_features_in_ = stats.n_features
        self._fit_problem(stats, StatsRows(stats, single_target))
        return self

    # ------------------------------------------------------------------ use
    def predict(self, X, interval=None, level=0.95):
        """``ŷ = X w + b``.  For a dask array or DataFrame: a lazy dask collection.

        With ``interval="confidence"`` (for the mean response) or ``"prediction"`` (for a new
        observation), returns ``(ŷ, lower, upper)`` at the given ``level``, from the training
        statistics (ordinary least squares, nonrobust; see
        :func:`linreg.inference.prediction_interval`).  For robust intervals use
        ``model.summary(cov_type=...).predict(X, interval, level)``.
        """
        from . import dask_support
        if interval is None and dask_support.is_dask_collection(X):
            return dask_support.predict(self, X)
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                          ensure_all_finite=False)
        check_finite(X, "X", getattr(self, "feature_names_in_", None))
        coef = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        if interval is None:
            return objective.predict(np.asarray(X, dtype=np.float64), coef, self.intercept_)
        from .inference import prediction_interval
        stats = getattr(self, "stats_", None)
        if not isinstance(stats, SufficientStats):
            raise ValueError("prediction intervals need the training statistics, which this "
                             "model does not have (it was loaded from a file or fitted "
                             "stochastically); use model.summary(X=X_train, y=y_train)"
                             ".predict(X, interval, level) instead")
        yhat, lower, upper = prediction_interval(self, stats, X, interval, level)
        if self.coef_.ndim == 1:
            return yhat[:, 0], lower[:, 0], upper[:, 0]
        return yhat, lower, upper

    def summary(self, cov_type="nonrobust", X=None, y=None, sample_weight=None,
                target_names=None):
        """Statistical inference for an unpenalized fit, like statsmodels' results.

        Computed from the training statistics plus one pass over the training rows (kept by
        reference after :meth:`fit`).  Pass ``X``, ``y`` (and ``sample_weight``) — numpy or
        pandas, dask collections, or a :mod:`linreg.sources` source as ``X`` — when the model
        does not hold its rows: after :func:`linreg.load`, or when it was fitted on dask
        collections, with ``partial_fit`` or ``merge``.  They must be the training data
        (checked: row count, total weight and means).

        Parameters
        ----------
        cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}, default="nonrobust"
        target_names : str or list of str, optional
            The target's name(s) in the tables.  Default: the name ``y`` carries (a pandas
            Series' name, a DataFrame's columns), a source's target columns, the target name a
            saved model records, else ``"y"``.

        Returns
        -------
        linreg.inference.RegressionResults
            ``print(result)`` shows the table; ``result.params`` (intercept first),
            ``bse``, ``pvalues``, ``conf_int()``, ``rsquared``, ``leverage``, … .
            With several targets, a :class:`~linreg.inference.MultiOutputResults` (one
            result, and one table, per target).

        Examples
        --------
        >>> import numpy as np
        >>> from linreg import LinearRegression
        >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]]); y = np.array([1.1, 2.9, 5.2, 6.8, 9.1])
        >>> result = LinearRegression().fit(X, y).summary()
        >>> [round(float(v), 4) for v in result.params], round(float(result.rsquared), 4)
        ([1.04, 1.99], 0.9973)
        """
        from .inference import COV_TYPES, check_inference_allowed, summarize
        check_is_fitted(self)
        check_choice("cov_type", cov_type, COV_TYPES)
        check_inference_allowed(self)
        stats = getattr(self, "stats_", None)
        stats = stats if isinstance(stats, SufficientStats) else None
        if X is not None or y is not None:
            if X is None or (y is None and not is_source(X) and not is_dask_collection(X)):
                raise ValueError("pass both X and y to summary() (or neither, to use the "
                                 "training data the model was fitted on)")
            rows = as_rows(X, y, sample_weight, validate=functools.partial(
                self._validate_training_data, reset=False))
        else:
            rows = getattr(self, "_training_rows", None)
            if rows is None or stats is None or isinstance(rows, StatsRows):
                raise ValueError(
                    "summary() needs the training rows for the residuals, and this model does "
                    "not hold them (it was loaded from a file, or fitted with partial_fit or "
                    "merge): pass them, as "
                    "model.summary(X=X_train, y=y_train, sample_weight=w_train)")
        if stats is None:
            stats = rows.stats()
        return summarize(self, rows, stats, cov_type,
                         target_names=rows.target_names if target_names is None else target_names)

    def plot_loss(self, X=None, y=None, ax=None):
        """Plot the loss curve (log scale) with the closed-form optimum as a reference line
        (from ``X``, ``y`` or the training statistics); needs matplotlib.  Returns the axes.
        See :func:`linreg.plotting.plot_loss`."""
        from .plotting import plot_loss
        return plot_loss(self, X, y, ax=ax)

    def plot_fit(self, X, y, axes=None):
        """Plot predicted vs actual (with the identity line) and residuals vs fitted for
        ``X``, ``y``; needs matplotlib.  Returns the two axes.
        See :func:`linreg.plotting.plot_fit`."""
        from .plotting import plot_fit
        return plot_fit(self, X, y, axes=axes)

    def save(self, path) -> None:
        """Write the fitted model to ``path`` (JSON, versioned; atomically replaced)."""
        from .persistence import save
        save(self, path)
