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
from ..descent import TrainingSettings, fit_iterative
from ..design import Design
from ..optimizers import get_optimizer, scheduled_learning_rate
from ..stopping import divergence_warning, optimality_gap, stop_warning
from ..stopping import warn as warn_stopping
from .problem import Problem

__all__ = ["solve", "training_settings", "report_function", "warm_start_params",
           "training_attributes", "partial_fit_chunk"]


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


def solve(problem: Problem) -> Solution:
    """Train from ``problem.init`` (zeros by default) with ``problem.training``; warn when
    the fit stopped short (with how far it is from the optimum of all the rows, as
    ``summary()`` measures it) or diverged on the way."""
    settings: TrainingSettings = problem.training
    d, _ = problem.ds.cross.shape
    if settings.solver == "minibatch":
        n = int(problem.stats.n_rows)
        n_train = n - int(np.ceil(settings.validation_fraction * n)) if settings.early_stopping else n
        if settings.batch_size > n_train:
            raise ValueError(f"batch_size={settings.batch_size} is larger than the number of "
                             f"training rows (n_samples={n_train}); use a batch_size between 1 "
                             f"and {n_train}")
    if problem.checkpoint is not None:
        problem.checkpoint.fingerprint = checkpoint_fingerprint(
            settings, problem.stats, problem.design, problem.seed)
    outcome = fit_iterative(problem, settings, problem.seed, problem.init, problem.report,
                            checkpoint=problem.checkpoint)
    warn_stopping(divergence_warning(settings, outcome.state))
    gap = optimality_gap(problem.ds, problem.design, outcome.theta, outcome.beta,
                         problem.alpha, int(problem.stats.n_rows), settings.positive)
    warn_stopping(stop_warning(outcome.stop_reason, settings, outcome.state, gap, problem.ds))
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
        # η₀ after the halvings that undid divergences (each exact: a power of two), but not
        # those of the plateau schedule, which belong to the final rate
        "learning_rate_": float(np.ldexp(state.first_learning_rate, -state.divergences)),
        "final_learning_rate_": scheduled_learning_rate(
            settings.schedule, state.learning_rate, state.epoch + 1, settings.power_t,
            settings.decay_rate),
    }


def partial_fit_chunk(state, stats, params: dict, X, Y, sample_weight, single: bool) -> dict:
    """One stochastic epoch over a chunk of rows (``partial_fit``), continuing ``state``
    (None: the first chunk, which fixes the design from its rows); ``stats`` are those of
    the rows before (None for the first chunk).  Returns the model's new attributes
    (``coef``/``intercept`` in original units, ``stats_``, ``rank_``, ``condition_number_``,
    the training attributes).  Warns once, on the call that exhausts the learning rate."""
    from ..closed_form import condition_number
    from ..descent import learning_rate_exhausted, new_state, partial_fit_epoch
    from ..rank import identify_stats
    from ..stats import sufficient_stats
    chunk = sufficient_stats(X, Y, sample_weight)
    d, k = chunk.n_features, chunk.n_targets
    if state is None:
        stats = chunk
        design = Design.from_stats(chunk, params["fit_intercept"], params["standardize"])
        state = new_state(design, d, k, params["random_state"])
    else:
        if k != state.n_targets:
            raise ValueError(f"y has {k} target(s); the model was fitted with {state.n_targets}")
        stats = stats.merge(chunk)
    settings = training_settings(params, params["solver"])
    report = report_function(state.design, k, single, params["fit_intercept"])
    exhausted_before = learning_rate_exhausted(settings, state)
    stop_reason, _ = partial_fit_epoch(state, settings, stats, X, Y, sample_weight, report)
    alpha = float(params["alpha"])
    ds = state.design.apply(stats)
    identification = identify_stats(stats, params["fit_intercept"])
    theta, beta = state.theta_beta()
    coef, intercept = state.design.to_original(theta, beta)
    warn_stopping(divergence_warning(settings, state))
    if stop_reason == "learning_rate_exhausted" and not exhausted_before:
        # said once, on the call that exhausted the rate (later calls take tiny steps)
        gap = optimality_gap(ds, state.design, theta, beta, alpha, int(stats.n_rows))
        warn_stopping(stop_warning(stop_reason, settings, state, gap))
    return {"coef": coef, "intercept": intercept, "stats_": stats,
            "rank_": identification.rank_x,
            "condition_number_": (identification.condition_number if alpha == 0
                                  else condition_number(ds, alpha)),
            **training_attributes(state, settings, stop_reason)}
