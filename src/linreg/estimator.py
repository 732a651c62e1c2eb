"""The scikit-learn compatible estimator: :class:`LinearRegression`."""

from __future__ import annotations

import functools

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import objective
from .checkpoint import Checkpoint
from .exceptions import RankDeficiencyWarning, warn_user
from .incremental import IncrementalMixin
from .params import check_params
from .penalty import is_penalized
from .rank import rank_deficiency_message
from .results_api import ResultsMixin
from .rows import (MemoryRows, Rows, SparseRows, as_rows,
                   target_from_frame)
from .rows.dask import DaskRows
from .solvers import (ITERATIVE_SOLVERS, SOLVERS, choose, coefficient_attributes,
                      fitted_attributes, make_problem)
from .solvers.iterative import defers_moments, prepare, rows_problem
from .solvers import paths as training_paths
from .rows.sparse import SPARSE_FORMATS, as_csr, check_finite_X
from .rows.table import predict_table, table_rows
from .solvers import lsqr
from .stats import SufficientStats
from .tables.frames import check_polars_X, polars_values
from .validation import check_finite, check_sample_weight, coefficient_names

__all__ = ["LinearRegression", "load"]



class LinearRegression(IncrementalMixin, ResultsMixin, RegressorMixin, BaseEstimator):
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
        gradient descent.  ``"sgd"``: stochastic gradient descent, one sample per update;
        ``"minibatch"``: one update per ``batch_size`` rows (both compiled, reading the rows
        of ``X`` — dense, or CSR in place — in a fresh random order each epoch without
        copying ``X``).  The iterative solvers take their loss history, gradient and
        curvature from the sufficient statistics or from passes over the rows, whichever
        costs less for ``max_iter`` (``training_path_``; :mod:`linreg.solvers.paths`).
    alpha : float or array of shape (n_targets,), default=0.0
        L2 penalty ``(alpha/2)‖w‖²``.  With ``standardize=True`` it applies to the
        coefficients of the standardized features (as glmnet does), so it penalises every
        feature on the same scale; ``coef_`` is still reported in original units.  One value
        per target (``(alpha_j/2)‖w_j‖²``, as scikit-learn's ``Ridge(alpha=array)``; with
        ``standardize=False`` ``Ridge(alpha=Σs_i·alpha)``) with the closed-form solvers.
    formula : str or None, default=None
        ``"y ~ x1 + species * sex + np.log(x2)"``: the model as R's ``lm`` and statsmodels
        write it (parsed by formulaic; ``.`` is every other column, ``- 1`` drops the
        intercept — pass ``fit_intercept=False`` with it).  ``fit(table)`` then takes ``y``
        from the table (a pandas or polars DataFrame, a pyarrow Table, a :mod:`linreg.sources`
        file, a Dask DataFrame).  Each factor is evaluated by linreg from an allowed set of
        operations (:mod:`linreg.tables.expressions`), never by Python's ``eval``.  Without a
        formula, a table's text, boolean and categorical columns are encoded the same way
        (treatment coding against the first level: sorted, or the declared order of a pandas
        ``category``, an Arrow dictionary or a polars ``Enum``).
    missing : {"error", "drop"}, default="error"
        Tables: a missing value in a column the model uses is an error naming the column,
        the count and the first row; ``"drop"`` leaves those rows out (``n_dropped_``), and
        ``predict`` gives NaN for such rows.
    positive : bool, default=False
        Keep every coefficient ``≥ 0`` (non-negative least squares, as scikit-learn's
        ``LinearRegression(positive=True)``; the intercept stays free).  ``"auto"`` and
        ``"normal"`` solve it exactly from the statistics by an active set on the Gram matrix
        (Lawson–Hanson: :mod:`linreg.solvers.nnls`); ``"gd"`` projects each step onto
        ``w ≥ 0`` and measures convergence by the projected gradient.
    fit_intercept : bool, default=True
    standardize : bool, default=True
        Centre (with an intercept) and scale each feature to unit standard deviation inside
        the fit.  A constant column is left unscaled.  Coefficients are reported in the
        original units; without a penalty the solution does not depend on this choice.
    learning_rate : "auto" or float, default="auto"
        Step size ``η₀`` of the iterative solvers.  ``"auto"`` is a step that is safe for the
        method: ``1/L`` for ``"gd"`` (``L`` the largest eigenvalue of the loss's Hessian, the
        standardized Gram matrix / n_w + alpha); for ``"sgd"``/``"minibatch"`` ``1/L_B`` from
        the largest and the mean row norm (see :func:`linreg.step_size.auto_learning_rate`), times
        ``1 − momentum`` with momentum; for Adam 0.01 × (stochastic) or 0.1 × (``"gd"``)
        the spread of ``y``: Adam moves each coefficient by about ``η`` per step.
    max_iter : int, default=1000
        Iterations of ``"gd"``; epochs (passes over the data) of ``"sgd"``/``"minibatch"``.
    tol : float, default=1e-6
        The iterative solvers stop when ``‖∇J‖ ≤ tol·‖∇J(start)‖`` (the full-data gradient,
        from the statistics); ``tol=0`` disables stopping on tolerance.  With
        ``early_stopping``, also the improvement the validation loss must make.
    optimizer : {"auto", "plain", "momentum", "nesterov", "adam"}, default="auto"
        The update rule of :mod:`linreg.optimizers` (as ``torch.optim.SGD`` and
        ``torch.optim.Adam`` define them), for every iterative solver.  ``"auto"``:
        ``"nesterov"`` for ``"gd"`` with ``learning_rate="auto"`` (its step ``1/L`` is stable
        for Nesterov, which needs about ``√κ`` times fewer iterations than plain descent on a
        Hessian of condition number ``κ``: 179 instead of 2,832 on the diamonds table), else
        ``"plain"`` (the textbook rule, whose stable range ``η < 2/L`` a chosen learning rate
        is checked against; and the stochastic solvers, whose plateau schedule handles noise).
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
        epochs, and after 20 halvings (``η₀·2⁻²⁰ ≈ 1e-6 η₀``) stops: the learning rate is
        exhausted, which is not convergence (``stop_reason_ = "learning_rate_exhausted"``,
        with a :class:`ConvergenceWarning`).  ``"auto"``: ``"constant"`` for ``"gd"``,
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
    progressive_loss_history_ : ndarray
        ``"sgd"``/``"minibatch"``: each epoch's progressive loss, ``1/(2 n_w) Σ s_i r_i²`` with
        each residual taken before the step that uses its row (Vowpal Wabbit's progressive
        validation loss; the data term only).
    training_path_ : {"statistics", "rows"}
        Iterative solvers: where the loss, gradient and curvature came from.  ``"rows"``
        forms no d × d matrix: ``stats_`` and ``rank_`` are then None and
        ``condition_number_`` NaN (:mod:`linreg.solvers.paths`).
    validation_loss_history_ : ndarray
        Iterative solvers with ``early_stopping``: validation ``J`` at the start and after each
        epoch (empty otherwise).
    learning_rate_ : float
        Iterative solvers: the initial rate ``η₀`` used — ``learning_rate``, or the step
        ``"auto"`` chose — halved once for each divergence that was undone (``"sgd"``,
        ``"minibatch"``), never by the schedule.
    final_learning_rate_ : float
        Iterative solvers: the rate the next epoch would use (what ``partial_fit`` continues
        with): ``η₀`` after every halving, of the plateau schedule too, with the schedule
        applied.  After ``"learning_rate_exhausted"`` it is ``η₀·2⁻²⁰`` (plateau).
    stop_reason_ : str or None
        Why the fit stopped: ``"tolerance"`` (the gradient reached ``tol``: converged),
        ``"max_iter"``, ``"validation_plateau"`` (early stopping),
        ``"learning_rate_exhausted"`` (the plateau schedule halved the rate 20 times),
        ``"callback"`` (it returned True), ``"partial_fit"`` (a stochastic ``partial_fit``
        call's one epoch) or ``"exact"`` (a closed form); None for a model file that did not
        record it.  Every stop but the tolerance gives one :class:`ConvergenceWarning` with the
        distance from the exact optimum and advice; the policy, and its exceptions (``tol=0``,
        a callback, ``partial_fit``), is in :mod:`linreg.stopping`.  No ``fit`` ends 1 % or
        more above the optimum without a warning.
    training_state_ : linreg.training_state.TrainingState
        Iterative solvers: parameters, optimizer state, random generator and counters, from
        which ``partial_fit`` continues.
    solver_ : str
        The solver that produced the coefficients (``"auto"`` resolves to ``"normal"`` or ``"qr"``).
    condition_number_ : float
        2-norm condition number of the column-equilibrated design, centred when there is an
        intercept (``inf`` if rank-deficient).
    n_refinement_passes_ : int or None
        Passes of iterative refinement over the rows after the QR solve: in memory, those
        of :func:`linreg.closed_form.solve_qr`; for rows read from files or on Dask, one
        pass each, made when ``condition_number_`` > 1e3 (:mod:`linreg.refine`; one pass for
        κ up to about 1e5, two beyond).  0 for the other solvers and for ``partial_fit``,
        which keeps no rows to re-read (it warns instead when its solution may have fewer
        than 9 correct digits); None for a QR model file that did not record it.
    rank_ : int
        Numerical rank of the design (features only; centred when there is an intercept).
        Every solver, the :class:`~linreg.exceptions.RankDeficiencyWarning` and
        :meth:`summary` share one decision (:func:`linreg.rank.identify`): a singular value
        of the centred, equilibrated design below ``1e-6`` of the largest counts as zero.
    n_features_in_, feature_names_in_ : as in scikit-learn (for a table: the columns it read).
    coef_names_ : list of str
        Tables and formulas: the name of each column of ``coef_``, as statsmodels writes them
        (``species[T.Gentoo]``, ``species[T.Gentoo]:sex[T.male]``, ``np.log(x)``).
    terms_ : dict of str → slice
        Tables and formulas: each term's columns of ``coef_`` (``terms_["species"]``), in
        the model's order — what ``summary().anova()`` and ``wald_test_terms()`` test.
    n_dropped_ : int
        Tables with ``missing="drop"``: rows left out for a missing value.

    Examples
    --------
    >>> import numpy as np
    >>> from linreg import LinearRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]); y = 2 * X[:, 0] + 1
    >>> m = LinearRegression().fit(X, y)
    >>> round(float(m.coef_[0]), 12), round(float(m.intercept_), 12)
    (2.0, 1.0)
    """

    def __init__(self, *, solver="auto", alpha=0.0, fit_intercept=True, standardize=True,
                 learning_rate="auto", max_iter=1000, tol=1e-6, optimizer="auto",
                 momentum=0.9, beta1=0.9, beta2=0.999, epsilon=1e-8, schedule="auto",
                 power_t=0.25, decay_rate=0.99, batch_size=32, shuffle=True, random_state=0,
                 early_stopping=False, validation_fraction=0.1, n_iter_no_change=5,
                 callback=None, warm_start=False, positive=False, formula=None,
                 missing="error"):
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
        self.positive = positive
        self.formula = formula
        self.missing = missing

    def __getstate__(self):
        # the training rows are only referenced for summary(); copying or serializing the
        # estimator must not carry the caller's whole data set along
        # (a copy: object.__getstate__ hands out the instance's own __dict__, and popping from
        # it would take the rows from the original model too)
        state = dict(super().__getstate__())
        state.pop("_training_rows", None)
        return state

    # ------------------------------------------------------------------ checks
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = True
        tags.input_tags.sparse = True
        return tags

    def check_params(self) -> None:
        """Raise ``ValueError`` naming the first parameter with a value it cannot take
        (:func:`linreg.params.check_params`; the iterative solvers' parameters are checked
        whatever the solver, so a bad value is reported where it is set)."""
        check_params(self.get_params())

    def _validate_training_data(self, X, y, sample_weight, reset=True, finite_X=True):
        if hasattr(y, "tocsr"):
            raise ValueError(f"y is a scipy.sparse {type(y).__name__} of shape {y.shape}; linreg "
                             "needs a dense y (y.toarray(), ravelled for one target)")
        y = polars_values(y)       # a polars Series: its numbers, no copy without nulls
        y_array = np.asarray(y) if not hasattr(y, "dtype") else y
        if getattr(y_array, "dtype", None) is not None and y_array.dtype.kind == "f" and len(y_array):
            check_finite(np.asarray(y_array).reshape(len(y_array), -1), "y")
        X, y = validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True,
                             dtype=[np.float64, np.float32], ensure_all_finite=False,
                             accept_sparse=SPARSE_FORMATS)
        if finite_X:
            check_finite_X(X, getattr(self, "feature_names_in_", None))
        Y = y.reshape(-1, 1) if y.ndim == 1 else y
        Y = np.asarray(Y, dtype=np.float64)
        check_finite(Y, "y")
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
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

        ``X`` may be a pandas or polars DataFrame, with ``y`` the target column's name (or
        names) or values (a Series); text, boolean and categorical columns are encoded
        (:mod:`linreg.tables`).
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
        rows = table_rows(X, y, sample_weight, self.formula, self.missing, self.fit_intercept)
        if rows is not None:
            return self.fit_encoded(rows)
        X, y = target_from_frame(X, y)
        rows = as_rows(X, y, sample_weight, validate=functools.partial(
            self._validate_training_data, finite_X=False))
        if ckpt is not None and isinstance(rows, DaskRows):
            raise ValueError("checkpoint is not supported for dask collections")
        if lsqr.matrix_free(self.solver, rows):     # too wide for a d × d Gram
            with rows.keeping_blocks():       # (a file's blocks kept for the later passes)
                solution = lsqr.fit_matrix_free(rows, self.fit_intercept, self.standardize,
                                                self.alpha)
            self._set_attributes(solution, "lsqr", rows)
            if not isinstance(rows, (MemoryRows, SparseRows)):   # validate_data recorded them
                self._set_input_names(rows.feature_names, rows.n_features)
            return self
        if (self.solver in ITERATIVE_SOLVERS
                and training_paths.training_path(self.solver, self.max_iter, rows) == "rows"):
            if not isinstance(rows, (MemoryRows, SparseRows)):   # validate_data recorded them
                self._set_input_names(rows.feature_names, rows.n_features)
            with rows.keeping_blocks():       # (a file's blocks kept for the later passes)
                self._fit_problem(None, rows, checkpoint=ckpt)      # no d × d statistics
            return self
        stats = rows.stats()
        if not isinstance(rows, (MemoryRows, SparseRows)):   # validate_data recorded them
            self._set_input_names(rows.feature_names, stats.n_features)
        self._fit_problem(stats, rows, checkpoint=ckpt)
        return self

    def fit_encoded(self, rows) -> "LinearRegression":
        """Fit the rows of a table read through its encoding (categorical columns, a
        formula, missing values): ``rows`` a :class:`linreg.rows.table.TableRows` (or the
        Dask one), whose statistics of the cells give the same problem as any other rows.
        When its statistics pass has run already (cross-validation's, which also gave every
        fold's), nothing is read again.  ``fit(table)`` comes here; returns ``self``."""
        self.check_params()
        stats = rows.stats()
        encoding = rows.encoding
        inputs = [c for c in encoding.columns_used if c not in encoding.formula.targets]
        self._set_input_names(inputs, len(inputs))
        self.encoding_ = encoding
        self.coef_names_ = list(encoding.names)
        self.terms_ = dict(encoding.term_slices)
        self.n_dropped_ = int(rows.n_dropped)
        self._fit_problem(stats, rows)
        return self

    def _set_input_names(self, names, n_features: int) -> None:
        """``n_features_in_`` and ``feature_names_in_`` for data that did not pass through
        ``validate_data`` (sources, Dask)."""
        self.n_features_in_ = int(n_features)
        if names is not None:
            self.feature_names_in_ = np.asarray(list(names), dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    def _fit_problem(self, stats: SufficientStats | None, rows: Rows, checkpoint=None) -> None:
        """Solve from ``stats`` (and ``rows``, where the solver needs them) and set the fitted
        attributes: the problem, the rank decision, the solver from the registry.  ``stats``
        None: an iterative fit from the rows alone (:mod:`linreg.solvers.paths`)."""
        warm = self.warm_start and hasattr(self, "coef_")
        if stats is None:
            params = self.get_params()
            problem = rows_problem(rows, self.fit_intercept, self.standardize, self.alpha,
                                   self.positive, defers_moments(params, rows, warm, checkpoint))
            solver = self.solver
        else:
            problem = make_problem(stats, rows, self.fit_intercept, self.standardize,
                                   self.alpha, self.positive)
            solver = choose(self.solver, problem.condition_number, rows.has_factor(),
                            self.positive)
        if solver in ITERATIVE_SOLVERS:
            prepare(problem, self.get_params(), solver, self.coef_ if warm else None,
                    self.intercept_ if warm else None, checkpoint)
        solution = SOLVERS[solver](problem)
        identification = problem.identification
        if (identification is not None and not is_penalized(problem.alpha)
                and not identification.full_rank):
            warn_user(rank_deficiency_message(identification, stats,
                                              coefficient_names(self),
                                              self.fit_intercept, self.positive),
                      RankDeficiencyWarning)
        self._set_attributes(fitted_attributes(problem, solution, rows.single_target), solver,
                             rows)

    def _set_attributes(self, fitted: dict, solver: str, rows: Rows) -> None:
        for name, value in fitted.items():
            setattr(self, name, value)
        self.solver_ = solver
        # the training rows, by reference (not a copy, never saved), for summary()'s residual
        # pass (statistics only after partial_fit and merge)
        self._training_rows = rows

    def _set_coefficients(self, coef, intercept, single: bool) -> None:
        for name, value in coefficient_attributes(coef, intercept, single,
                                                  self.fit_intercept).items():
            setattr(self, name, value)

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
        if getattr(self, "encoding_", None) is not None:
            return predict_table(self, X, interval, level)
        if interval is None and dask_support.is_dask_collection(X):
            return dask_support.predict(self, X)
        check_is_fitted(self)
        check_polars_X(X)
        try:
            X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                              ensure_all_finite=False, accept_sparse=SPARSE_FORMATS)
        except ValueError as exc:
            if not str(exc).startswith("The feature names should match"):
                raise
            # scikit-learn's message names the columns missing, extra or out of order; say
            # how to pass the right ones
            raise ValueError(f"{exc}Select the training columns, in their order, with "
                             "X[model.feature_names_in_]") from None
        check_finite_X(X, getattr(self, "feature_names_in_", None))
        coef = self.coef_.T if self.coef_.ndim == 2 else self.coef_
        if interval is None:
            X = as_csr(X) if hasattr(X, "tocsr") else np.asarray(X, dtype=np.float64)
            return np.asarray(objective.predict(X, coef, self.intercept_))
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


def load(path) -> LinearRegression:
    """Load a model saved by :meth:`LinearRegression.save`.  Raises
    :class:`~linreg.persistence.ModelFileError` on a corrupt, truncated, foreign or newer
    file; nothing in the file is ever executed (:mod:`linreg.persistence`)."""
    from .persistence import read_model
    return read_model(path, LinearRegression)
