"""``solver="gd"``, ``"sgd"``, ``"minibatch"``: the training loops of :mod:`linreg.descent`.

The textbook's updates ``w := w − η ∇_w J``, ``b := b − η ∇_b J`` (:func:`linreg.textbook.gd_step`,
:func:`~linreg.textbook.sgd_epoch`, :func:`~linreg.textbook.minibatch_epoch`), with the
optimizers of :mod:`linreg.optimizers`; what the estimator's parameters mean for them is
:func:`training_settings`.
"""

from __future__ import annotations

import numpy as np

from ..checkpoint import fingerprint as checkpoint_fingerprint
from ..closed_form import Solution
from ..descent import fit_iterative
from ..training_state import TrainingSettings
from ..design import Design
from ..exceptions import bad_value
from ..optimizers import get_optimizer, scheduled_learning_rate
from ..stopping import divergence_warning, optimality_gap, stop_warning
from ..stopping import warn as warn_stopping
from .problem import Problem

__all__ = ["solve", "rows_problem", "defers_moments", "prepare", "training_settings", "report_function",
           "warm_start_params", "training_attributes", "partial_fit_chunk"]


def training_settings(params: dict, solver: str) -> TrainingSettings:
    """The estimator's parameters (``get_params()``) as the training loop's settings for
    ``solver``: ``schedule="auto"`` is ``"constant"`` for ``"gd"`` and ``"plateau"`` for the
    stochastic solvers; ``optimizer="auto"`` is Nesterov for ``"gd"`` with the automatic step,
    plain otherwise."""
    schedule = params["schedule"]
    if schedule == "auto":
        schedule = "constant" if solver == "gd" else "plateau"
    optimizer = params["optimizer"]
    if optimizer == "auto":
        automatic_step = isinstance(params["learning_rate"], str) and params["learning_rate"] == "auto"
        optimizer = "nesterov" if solver == "gd" and automatic_step else "plain"
    opt = get_optimizer(optimizer, momentum=params["momentum"], beta1=params["beta1"],
                        beta2=params["beta2"], epsilon=params["epsilon"])
    return TrainingSettings(
        solver=solver, optimizer=opt, learning_rate=params["learning_rate"], schedule=schedule,
        power_t=float(params["power_t"]), decay_rate=float(params["decay_rate"]),
        batch_size=int(params["batch_size"]), max_iter=int(params["max_iter"]),
        tol=float(params["tol"]), shuffle=bool(params["shuffle"]),
        early_stopping=bool(params["early_stopping"]),
        validation_fraction=float(params["validation_fraction"]),
        n_iter_no_change=int(params["n_iter_no_change"]), callback=params["callback"],
        fit_intercept=bool(params["fit_intercept"]), alpha=float(params["alpha"]),
        positive=bool(params.get("positive", False)))


def report_function(design: Design, n_targets: int, single: bool, fit_intercept: bool):
    """``params -> (coef, intercept)`` in original units, shaped as ``coef_``/``intercept_``
    (what the callback is shown)."""
    def report(params):
        theta = params[:-n_targets].reshape(-1, n_targets)
        coef, intercept = design.to_original(theta, params[-n_targets:])
        if not fit_intercept:
            intercept = np.zeros_like(intercept)
        if single:
            return coef[:, 0].copy(), float(intercept[0])
        return np.ascontiguousarray(coef.T), intercept.copy()
    return report


def warm_start_params(coef, intercept, design: Design, fit_intercept: bool):
    """``[θ.ravel(), β]`` in ``design``'s coordinates from fitted ``coef_``/``intercept_``,
    or None when their shape does not fit the design."""
    d = design.shift.shape[0]
    coef = np.asarray(coef, dtype=np.float64)
    coef = coef.reshape(-1, 1) if coef.ndim == 1 else coef.T
    if coef.shape[0] != d:
        return None
    k = coef.shape[1]
    theta, beta = design.from_original(coef, np.atleast_1d(np.asarray(intercept, dtype=np.float64)))
    return np.concatenate([theta.ravel(), beta if fit_intercept else np.zeros(k)])


def defers_moments(params: dict, rows, warm: bool, checkpoint) -> bool:
    """Whether an iterative fit from the rows in memory can start without a pass for the
    columns' means and variances: a stochastic solver on the raw design
    (``standardize=False``: ``x̃ = x``) with a given ``learning_rate``, from zeros, without
    early stopping or a checkpoint.  Nothing before its first epoch then reads ``X``: ``J``
    at zero is the targets' alone, and ``∇J`` at zero and the Hessian's diagonal (for the
    stopping rule) come from the raw columns' sums that the loss pass after the first epoch
    adds up in the same read (:class:`linreg.deferred_start.DeferredStart`).

    Rows not in memory (files) defer too when what the epoch needs of their weights is known
    without reading them (:meth:`linreg.rows.Rows.weight_total`: unit weights, or weights
    kept apart), and, for ``"minibatch"``, their count: the targets' sums and the columns'
    then come with the loss pass after the first epoch (:class:`linreg.deferred_start.BlockDeferredStart`)."""
    if not (params["solver"] in ("sgd", "minibatch") and not params["standardize"]
            and not isinstance(params["learning_rate"], str) and not params["early_stopping"]
            and not warm and checkpoint is None):
        return False
    if rows.matrix() is not None:
        return True
    if not rows.has_rows() or rows.n_targets < 1:
        return False
    totals = rows.weight_total()
    return totals is not None and (params["solver"] == "sgd" or totals[0] is not None)


def rows_problem(rows, fit_intercept: bool, standardize: bool, alpha,
                 positive: bool = False, defer_moments: bool = False) -> Problem:
    """The :class:`Problem` of an iterative fit from the rows (no statistics; see
    :mod:`linreg.solvers.paths`): the column moments and the design from them — or, with
    ``defer_moments`` (:func:`defers_moments`; ``standardize=False``), the raw design and no
    moments."""
    from ..penalty import alpha_per_target
    if defer_moments and not standardize:
        d = rows.n_features
        design = Design(np.zeros(d), np.ones(d), bool(fit_intercept), False)
        return Problem(None, design, None, alpha_per_target(alpha, rows.n_targets), rows, None,
                       float("nan"), positive=bool(positive), moments_deferred=True)
    moments = rows.moments()
    design = moments.design(fit_intercept, standardize)
    return Problem(None, design, None, alpha_per_target(alpha, moments.n_targets), rows, None,
                   float("nan"), positive=bool(positive), moments=moments)


def prepare(problem: Problem, params: dict, solver: str, coef=None, intercept=None,
            checkpoint=None) -> Problem:
    """Make ``problem`` ready for ``solver``: the design from the columns' means and
    variances (:class:`~linreg.training_objective.ColumnMoments`, one O(nnz) pass for rows in
    memory, else the statistics' diagonal) — the same design whichever path the fit takes,
    so the same steps — the statistics in its coordinates, the training settings, the
    callback's report, and the warm start from ``coef``/``intercept`` (None: zeros)."""
    from ..training_objective import ColumnMoments
    fit_intercept = bool(params["fit_intercept"])
    if not problem.moments_deferred:
        if problem.moments is None:
            problem.moments = (problem.rows.moments() if problem.rows.matrix() is not None
                               else ColumnMoments.from_stats(problem.stats))
        problem.design = problem.moments.design(fit_intercept, bool(params["standardize"]))
    if problem.stats is not None:
        problem.ds = problem.design.apply(problem.stats)
    k = problem.rows.n_targets if problem.moments_deferred else problem.moments.n_targets
    problem.training = training_settings(params, solver)
    problem.seed, problem.checkpoint = params["random_state"], checkpoint
    problem.report = report_function(problem.design, k, k == 1, fit_intercept)
    if coef is not None:
        problem.init = warm_start_params(coef, intercept, problem.design, fit_intercept)
    return problem


def _gap(problem: Problem, theta, beta, outcome):
    """The optimality gap (:func:`linreg.stopping.optimality_gap`) of the fit: from the
    statistics, built now for a fit from the rows when they cost no more than its training
    did (:func:`linreg.solvers.paths.gap_affordable`), else None."""
    from .paths import gap_affordable
    ds, stats = problem.ds, problem.stats
    if ds is None:
        matrix = problem.rows.matrix()
        if matrix is None:         # rows not in memory: one more pass, and d² memory
            return None
        X, Y, _ = matrix
        if not gap_affordable(X, Y.shape[1], outcome.state.epoch, problem.training.solver):
            return None
        stats = problem.rows.stats()
        ds = problem.design.apply(stats)
    return optimality_gap(ds, problem.design, theta, beta, problem.alpha, int(stats.n_rows),
                          problem.training.positive)


def solve(problem: Problem) -> Solution:
    """Train from ``problem.init`` (zeros by default) with ``problem.training``; warn when
    the fit stopped short (with how far it is from the optimum of all the rows, as
    ``summary()`` measures it, where that is affordable) or diverged on the way."""
    settings: TrainingSettings = problem.training
    d = problem.design.shift.shape[0]
    if settings.solver == "minibatch":
        if not problem.moments_deferred:
            n = int(problem.moments.n_rows)
        elif problem.rows.matrix() is not None:
            n = problem.rows.matrix()[0].shape[0]
        else:       # rows not in memory: counted without a pass (defers_moments)
            n = int(problem.rows.weight_total()[0])
        n_train = n - int(np.ceil(settings.validation_fraction * n)) if settings.early_stopping else n
        if settings.batch_size > n_train:
            raise bad_value("batch_size", settings.batch_size, " is larger than the number of "
                            f"training rows: {n_train} sample{'' if n_train == 1 else 's'}; use "
                            f"a batch size between 1 and {n_train}")
    if problem.checkpoint is not None:
        problem.checkpoint.fingerprint = checkpoint_fingerprint(
            settings, problem.moments, problem.design, problem.seed)
    outcome = fit_iterative(problem, settings, problem.seed, problem.init, problem.report,
                            checkpoint=problem.checkpoint)
    warn_stopping(divergence_warning(settings, outcome.state))
    gap = _gap(problem, outcome.theta, outcome.beta, outcome)
    warn_stopping(stop_warning(outcome.stop_reason, settings, outcome.state, gap, problem.ds,
                               from_rows=problem.stats is None))
    return Solution(outcome.theta, outcome.beta, d, training=outcome, settings=settings)


def training_attributes(state, settings: TrainingSettings, stop_reason: str) -> dict:
    """The fitted attributes a training run leaves (``n_iter_``, the histories, the rates)."""
    return {
        "training_state_": state,
        "n_iter_": state.epoch,
        "stop_reason_": stop_reason,
        "loss_history_": np.asarray(state.loss_history, dtype=np.float64),
        "grad_norm_history_": np.asarray(state.grad_norm_history, dtype=np.float64),
        "learning_rate_history_": np.asarray(state.learning_rate_history, dtype=np.float64),
        "validation_loss_history_": np.asarray(state.validation_loss_history, dtype=np.float64),
        "progressive_loss_history_": np.asarray(state.progressive_loss_history,
                                                dtype=np.float64),
        # η₀ after the halvings that undid divergences (each exact: a power of two), but not
        # those of the plateau schedule, which belong to the final rate
        "learning_rate_": float(np.ldexp(state.first_learning_rate, -state.divergences)),
        "final_learning_rate_": scheduled_learning_rate(
            settings.schedule, state.learning_rate, state.epoch + 1, settings.power_t,
            settings.decay_rate),
    }


def partial_fit_chunk(state, stats, params: dict, X, Y, sample_weight, single: bool) -> dict:
    """One stochastic epoch over a chunk of rows (``partial_fit``; ``X`` dense or a canonical
    CSR matrix), continuing ``state`` (None: the first chunk, which fixes the design from
    its columns' means and variances, and the path: :func:`linreg.solvers.paths.partial_fit_path`).

    On the statistics path ``stats`` are those of the rows before (None for the first chunk):
    the chunk's are merged in, and ``loss_history_`` gets ``J`` of all rows seen so far.  On
    the rows path (a continued model whose ``stats`` are None, or a first chunk too wide for
    them) no d × d matrix is formed: ``loss_history_`` gets ``J`` of this chunk, after its
    epoch, from one pass over it.  Returns the model's new attributes (``coef``/``intercept``
    in original units, ``stats_``, ``rank_``, ``condition_number_``, ``training_path_``, the
    training attributes).  Warns once, on the call that exhausts the learning rate."""
    from ..closed_form import condition_number
    from ..descent import learning_rate_exhausted, new_state, partial_fit_epoch
    from ..rank import identify_stats
    from ..rows import MemoryRows, SparseRows
    from ..training_objective import RowObjective, StatsObjective
    from .paths import partial_fit_path
    rows = (SparseRows if hasattr(X, "indptr") else MemoryRows)(X, Y, sample_weight)
    chunk_moments = rows.moments()
    k = Y.shape[1]
    if state is None:
        path = partial_fit_path(rows.matrix()[0], k)
        design = chunk_moments.design(params["fit_intercept"], params["standardize"])
        state = new_state(design, X.shape[1], k, params["random_state"])
    else:
        if k != state.n_targets:
            raise ValueError(f"y has {k} target(s); the model was fitted with {state.n_targets}")
        path = "rows" if stats is None else "statistics"
    alpha = float(params["alpha"])
    if path == "statistics":
        chunk = rows.stats()
        stats = chunk if stats is None else stats.merge(chunk)
        loss_objective = StatsObjective(state.design.apply(stats), alpha)
    else:
        loss_objective = RowObjective(rows.X, Y, sample_weight, np.arange(X.shape[0]),
                                      state.design, alpha)
    settings = training_settings(params, params["solver"])
    report = report_function(state.design, k, single, params["fit_intercept"])
    exhausted_before = learning_rate_exhausted(settings, state)
    stop_reason, _ = partial_fit_epoch(state, settings, loss_objective, chunk_moments, rows.X,
                                       Y, sample_weight, report)
    theta, beta = state.theta_beta()
    coef, intercept = state.design.to_original(theta, beta)
    warn_stopping(divergence_warning(settings, state))
    attributes = {"coef": coef, "intercept": intercept, "stats_": stats, "rank_": None,
                  "condition_number_": float("nan"), "training_path_": path}
    ds = None
    if stats is not None:
        ds = state.design.apply(stats)
        identification = identify_stats(stats, params["fit_intercept"])
        attributes["rank_"] = identification.rank_x
        attributes["condition_number_"] = (identification.condition_number if alpha == 0
                                           else condition_number(ds, alpha))
    if stop_reason == "learning_rate_exhausted" and not exhausted_before:
        # said once, on the call that exhausted the rate (later calls take tiny steps)
        gap = (None if ds is None else
               optimality_gap(ds, state.design, theta, beta, alpha, int(stats.n_rows)))
        warn_stopping(stop_warning(stop_reason, settings, state, gap, from_rows=ds is None))
    return {**attributes, **training_attributes(state, settings, stop_reason)}
