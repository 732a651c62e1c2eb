"""Training loops: full-batch gradient descent and stochastic (mini-batch) gradient descent.

One loop, :func:`train`, serves every iterative solver.  What differs between them is one
*epoch* — a function that moves the parameters:

* ``"gd"``: one step of the optimizer on the exact full-batch gradient;
* ``"sgd"`` / ``"minibatch"``: one pass over the rows in a fresh random order, one optimizer
  step per batch (the compiled kernels :func:`linreg.stochastic.run_epoch` for dense rows,
  :func:`linreg.stochastic_sparse.run_sparse_epoch` for CSR rows).

Around it the loop keeps the histories (training ``J`` and ``‖∇J‖`` of the full data; the
stochastic solvers' progressive loss; the validation loss; the learning rate), the
learning-rate schedule, early stopping, divergence handling and the callback.  ``J`` and
``∇J`` come from the sufficient statistics (O(d²k) per epoch, once their O(n·d²) pass is
paid) or from one pass over the rows (O(nnz·k) per epoch): see
:mod:`linreg.training_objective`, and :mod:`linreg.solvers.paths` for which a fit takes.
Everything the loop needs to continue — parameters, optimizer state, random generator,
epoch counter, best parameters — is one explicit value, :class:`TrainingState`, so
``partial_fit``, warm starts and checkpoints only have to keep it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from . import objective
from .exceptions import DivergenceError, MessageBuilder, bad_value
from .optimizers import OptimizerState, scheduled_learning_rate
from .deferred_start import BlockDeferredStart, DeferredStart, streamed_mean_weight
from .design import Design
from .epochs import gd_epoch, memory_kernel_rows, stochastic_epoch, streamed_kernel_rows
from .step_size import auto_learning_rate, gradient_scale
from .training_objective import BlockRowObjective, RowObjective, StatsObjective
from .training_state import TrainingOutcome, TrainingSettings, TrainingState

__all__ = ["train", "fit_iterative", "partial_fit_epoch", "divergence_message", "new_state", "learning_rate_exhausted",
           "DIVERGENCE_FACTOR", "EXPLOSION_FACTOR", "MAX_PLATEAU_HALVINGS"]

#: full-batch gradient descent counts as diverged (and raises) when the loss grows by this
#: factor over its starting value
DIVERGENCE_FACTOR = 1e10
#: stochastic training counts an epoch as exploded (and recovers) when the loss grows by this
#: factor over the loss at the start of training
EXPLOSION_FACTOR = 1e4
#: after this many divergences in a row without an epoch that completes, give up
MAX_DIVERGENCE_HALVINGS = 60
#: the plateau schedule counts an epoch as an improvement when J falls by this fraction
PLATEAU_THRESHOLD = 1e-4
#: ... and ends training after halving the rate this many times (2⁻²⁰ ≈ 1e-6 of η₀): the
#: steps are then too small to make progress — "learning_rate_exhausted", not convergence
MAX_PLATEAU_HALVINGS = 20


def divergence_message(method: str, iteration: int, start: float, now: float, lr: float,
                       lipschitz: float | None) -> DivergenceError:
    """The error for a diverging descent, its settings worded by the interface that shows it."""
    m = MessageBuilder()
    bound = (f" For this data the loss's curvature is L = {lipschitz:.4g}, so plain gradient "
             f"descent is stable only for learning_rate < 2/L = {2 / lipschitz:.4g}."
             if lipschitz else "")
    return DivergenceError(
        f"{method} diverged at iteration {iteration}: the loss went from {start:.4g} to "
        f"{now:.4g} with {m.setting('learning_rate', float(lr))}.{bound} Use "
        f"{m.setting('learning_rate', 'auto')} (a step that is safe for this data), a smaller "
        f"learning rate, or {m.setting('standardize', True)}.", parameters=m.parameters)


def _norm(g: np.ndarray) -> float:
    """``‖g‖₂`` without overflow: gradients of data near 1e150 have squares beyond float64,
    so the vector is scaled by its largest entry first (an infinite norm would otherwise
    compare as "converged" against an infinite starting norm)."""
    top = float(np.max(np.abs(g))) if g.size else 0.0
    if top == 0.0 or not np.isfinite(top):
        return top
    scaled = g / top
    # a sum of squares, not BLAS's dot: a BLAS call on a busy machine can wait milliseconds
    # for its threads, every epoch
    return top * float(np.sqrt(np.sum(scaled * scaled)))

# ---------------------------------------------------------------------------- the loop
def train(state: TrainingState, settings: TrainingSettings, epoch_fn, loss_fn, grad_fn,
          val_loss_fn=None, report=None, max_epochs: int | None = None,
          lipschitz: float | None = None, on_epoch=None,
          resumed: bool = False, gradient_scale=None, start=None) -> tuple[bool, bool, int]:
    """Run epochs until ``‖D^{-1/2}∇J‖ ≤ tol·‖D^{-1/2}∇J(start)‖``, ``max_epochs``, early
    stopping, the plateau schedule running out, or the callback returning ``True``.

    ``D`` is the diagonal of the Hessian (``gradient_scale = D^{-1/2}``, flat like the
    parameters; ``None`` means ``D = I``).  Measuring the gradient in units of each
    parameter's curvature makes the rule independent of the columns' units: on a raw design
    whose columns are ~1e150 the coefficients' gradients dwarf the intercept's, and a plain
    norm would call an untouched intercept converged.  (For a standardized design ``D`` is
    ``(1 + α)·I`` and this is the plain relative gradient norm.)

    ``epoch_fn(state, learning_rate, grad)`` moves ``state.params`` (``grad`` is the full
    gradient at the current parameters, which full-batch descent uses) and returns ``False``
    if a non-finite value appeared.  ``loss_fn(θ, β)`` and ``grad_fn(θ, β)`` evaluate the
    training objective.  Returns ``(stop_reason, epochs_run)``, the reason one of
    ``"tolerance"``, ``"max_iter"``, ``"validation_plateau"``, ``"learning_rate_exhausted"``
    or ``"callback"`` (:data:`linreg.stopping.STOP_REASONS`; when several hold at the same
    epoch, the first of these).

    A divergent epoch (non-finite values, or the loss growing ``EXPLOSION_FACTOR``-fold) is
    undone for the stochastic solvers — best parameters restored, optimizer state reset,
    learning rate halved — and raises :class:`DivergenceError` for full-batch ``"gd"``.

    ``start`` (a :class:`~linreg.deferred_start.DeferredStart`, for a fresh stochastic fit): ``J`` at the start is
    ``start.loss``, and its gradient and ``D`` come from ``start.complete()`` after the first
    epoch (from column sums gathered beside or after it), so that no pass precedes it; for
    rows not in memory (:class:`~linreg.deferred_start.BlockDeferredStart`) ``start.loss`` too is known only then,
    and ``loss_history[0]`` and the best loss are filled in from it.  If
    the start then turns out to be the optimum (``∇J = 0``), the epoch is undone and the fit
    ends there, as it would have without a first epoch.
    """
    max_epochs = settings.max_iter if max_epochs is None else max_epochs
    recover = settings.solver != "gd"

    def flat_grad(theta, beta):
        gw, gb = grad_fn(theta, beta)
        g = np.concatenate([gw.ravel(), gb if settings.fit_intercept else np.zeros_like(gb)])
        return g

    def measured(g):
        """The gradient the stopping rule and the histories measure: with ``positive``, the
        projected gradient (a coefficient held at 0 whose gradient pushes it below 0 is at
        its optimum: that component counts as 0)."""
        if not settings.positive:
            return g
        k = state.n_targets
        held = np.concatenate([(state.params[:-k] <= 0.0) & (g[:-k] > 0.0), np.zeros(k, bool)])
        return np.where(held, 0.0, g)

    theta, beta = state.theta_beta()
    pending = start is not None and not state.loss_history
    if pending:     # the start's gradient (rows not in memory: J too) comes with the first
        # epoch's loss pass
        J_start, g, scale = start.loss, None, None
        before = (state.params.copy(), state.rng.bit_generator.state, state.optimizer.step)
    else:
        J_start = loss_fn(theta, beta)
        g = flat_grad(theta, beta)
        scale = np.ones_like(g) if gradient_scale is None else gradient_scale

    def record_start(g_start):
        state.grad_norm_history.append(_norm(measured(g_start)))
        state.scaled_grad_norm_history.append(_norm(measured(g_start) * scale))
        if state.loss_history[0] is None:       # J at the start, known only now
            state.loss_history[0] = state.best_loss = start.loss
        return state.loss_history[0]

    if not state.loss_history:
        state.loss_history.append(J_start)
        if not pending:
            record_start(g)
        if val_loss_fn is not None:
            val = val_loss_fn(theta, beta)
            state.validation_loss_history.append(val)
            state.best_validation_loss = state.lowest_validation_loss = val
            state.lowest_validation_params = state.params.copy()
        state.best_loss, state.best_params = (np.inf if J_start is None else J_start,
                                              state.params.copy())
    scaled = state.scaled_grad_norm_history or state.grad_norm_history
    g_ref = None if pending else scaled[0]
    converged = g_ref == 0.0
    exhausted = stopped_early = stopped_by_callback = False
    if resumed:
        # restored from a checkpoint: stop where the uninterrupted run stopped
        converged = converged or (settings.tol > 0 and scaled[-1] <= settings.tol * g_ref)
        exhausted = learning_rate_exhausted(settings, state)
        stopped_early = (val_loss_fn is not None and state.validation_epochs_without_improvement
                         >= settings.n_iter_no_change)
    failures = 0
    epochs = 0
    tiny = np.finfo(float).tiny
    while not (converged or exhausted or stopped_early) and epochs < max_epochs:
        lr = scheduled_learning_rate(settings.schedule, state.learning_rate, state.epoch + 1,
                                     settings.power_t, settings.decay_rate)
        ok = epoch_fn(state, lr, g)
        theta, beta = state.theta_beta()
        with np.errstate(over="ignore", invalid="ignore"):  # an exploding J is handled below
            J = loss_fn(theta, beta) if ok and np.isfinite(state.params).all() else np.nan
        if pending:
            # the start's gradient, from this pass's sums (or, when the epoch or the pass met
            # a value that is not finite, from a checked pass that names it first)
            g, scale = start.complete()
            J_start = record_start(g)
            g_ref, pending = state.scaled_grad_norm_history[0], False
            if g_ref == 0.0:        # the start is the optimum: no epoch, as without deferral
                state.params[:] = before[0]
                state.rng.bit_generator.state = before[1]
                state.optimizer = OptimizerState.zeros(state.params.size)
                state.optimizer.step = before[2]
                converged = True
                break
        limit = (DIVERGENCE_FACTOR if not recover else EXPLOSION_FACTOR) * max(J_start, tiny)
        if not np.isfinite(J) or J > limit:
            if not recover:
                raise divergence_message(
                    "gradient descent", state.epoch + 1, J_start, J, lr,
                    lipschitz if settings.optimizer.name == "plain" else None)
            failures += 1
            state.divergences += 1
            if failures > MAX_DIVERGENCE_HALVINGS:
                m = MessageBuilder()
                raise DivergenceError(
                    f"{settings.solver} diverged {failures} times in a row at epoch "
                    f"{state.epoch + 1} although the learning rate was halved each time, down "
                    f"to {state.learning_rate:.4g}: it cannot make progress on this data. "
                    f"Check the data for extreme values, use {m.setting('standardize', True)}, "
                    "or a smaller learning rate.", parameters=m.parameters)
            state.params[:] = state.best_params
            state.optimizer = OptimizerState.zeros(state.params.size)
            state.learning_rate *= 0.5
            continue
        failures = 0
        state.epoch += 1
        epochs += 1
        g = flat_grad(theta, beta)
        gn = _norm(measured(g))
        gs = _norm(measured(g) * scale)
        state.loss_history.append(J)
        state.grad_norm_history.append(gn)
        state.scaled_grad_norm_history.append(gs)
        state.learning_rate_history.append(lr)
        progressive = getattr(epoch_fn, "progressive", None)
        if progressive is not None:
            state.progressive_loss_history.append(progressive)
        # the plateau schedule: halve when J has not improved for n_iter_no_change epochs
        if J < state.best_loss * (1.0 - PLATEAU_THRESHOLD):
            state.epochs_without_improvement = 0
        else:
            state.epochs_without_improvement += 1
        if J < state.best_loss:
            state.best_loss, state.best_params = J, state.params.copy()
        if settings.schedule == "plateau" and state.epochs_without_improvement >= settings.n_iter_no_change:
            state.learning_rate *= 0.5
            state.plateau_halvings += 1
            state.epochs_without_improvement = 0
            exhausted = state.plateau_halvings >= MAX_PLATEAU_HALVINGS
        val = None
        if val_loss_fn is not None:
            val = val_loss_fn(theta, beta)
            state.validation_loss_history.append(val)
            if val < state.lowest_validation_loss:
                state.lowest_validation_loss = val
                state.lowest_validation_params = state.params.copy()
            if val < state.best_validation_loss * (1.0 - settings.tol):
                state.best_validation_loss = val
                state.validation_epochs_without_improvement = 0
            else:
                state.validation_epochs_without_improvement += 1
                if state.validation_epochs_without_improvement >= settings.n_iter_no_change:
                    stopped_early = True
        converged = converged or (settings.tol > 0 and gs <= settings.tol * g_ref)
        if on_epoch is not None:   # e.g. Checkpoint.after_epoch: the state is complete here
            on_epoch(state)
        if settings.callback is not None:
            coef, intercept = report(state.params) if report else (None, None)
            info = {"epoch": state.epoch, "loss": J, "grad_norm": gn, "learning_rate": lr,
                    "coef": coef, "intercept": intercept, "validation_loss": val}
            if settings.callback(info) is True:
                stopped_by_callback = True
                break
    if pending:     # no epoch ran: the start's gradient from a pass of its own
        g, scale = start.complete()
        record_start(g)
    if val_loss_fn is not None:
        # early stopping keeps the parameters with the lowest validation loss
        state.params[:] = state.lowest_validation_params
    for reason, happened in (("tolerance", converged), ("validation_plateau", stopped_early),
                             ("learning_rate_exhausted", exhausted),
                             ("callback", stopped_by_callback)):
        if happened:
            return reason, epochs
    return "max_iter", epochs


def learning_rate_exhausted(settings: TrainingSettings, state: TrainingState) -> bool:
    """The plateau schedule has halved the rate ``MAX_PLATEAU_HALVINGS`` times: its steps are
    now too small (≈ 1e-6 η₀) to make progress, whatever the gradient says."""
    return settings.schedule == "plateau" and state.plateau_halvings >= MAX_PLATEAU_HALVINGS


def new_state(design: Design, n_features: int, n_targets: int, seed, init=None) -> TrainingState:
    n_params = n_features * n_targets + n_targets
    params = np.zeros(n_params) if init is None else np.asarray(init, dtype=np.float64).copy()
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    return TrainingState(params, OptimizerState.zeros(n_params), rng, design, n_targets, 0.0)


def fit_iterative(problem, settings: TrainingSettings, seed, init_params=None,
                  report=None, checkpoint=None) -> TrainingOutcome:
    """Train on ``problem`` (a :class:`linreg.solvers.Problem`) from ``init_params``
    (``[θ.ravel(), β]`` in its design coordinates; zeros by default).

    The loss, its gradient and (``"gd"``) the curvature come from the statistics
    (``problem.ds``) or, when the fit did not form them (``problem.ds is None``), from passes
    over the rows (:class:`linreg.training_objective.RowObjective`); the steps are the same
    either way.  With ``early_stopping``, a random ``validation_fraction`` of the rows is held
    out: the training loss and gradient are then those of the other rows, and the validation
    loss is that of the held-out rows (from their statistics, or from a pass over them).
    """
    design, alpha, moments, ds = problem.design, problem.alpha, problem.moments, problem.ds
    deferred = problem.moments_deferred
    d = design.shift.shape[0]
    k = problem.rows.n_targets if deferred else moments.n_targets
    stochastic = settings.solver != "gd"
    state = new_state(design, d, k, seed, init_params)
    matrix = problem.rows.matrix()
    X, Y, sw = matrix if matrix is not None else (None, None, None)
    totals = None if X is not None else problem.rows.weight_total()
    if X is not None:
        n = X.shape[0]
    elif deferred:
        n = int(totals[0] or 0)     # (the automatic step, which needs it, does not defer)
    else:
        n = int(moments.n_rows)
    # the training rows by index, for rows in memory (rows not in memory are read whole,
    # block by block: an index of every row would be n integers held through the fit)
    train_rows = np.arange(n) if X is not None else None
    val, train_ds = None, ds
    if settings.early_stopping:
        if X is None:
            raise bad_value("early_stopping", True, " needs the rows in memory to hold some "
                            "out (a file or a Dask collection is read in blocks)")
        n_val = int(np.ceil(settings.validation_fraction * n))
        if n_val < 1 or n - n_val < 1:
            raise ValueError(f"validation_fraction={settings.validation_fraction} of n={n} rows "
                             f"leaves {n_val} validation and {n - n_val} training rows; both "
                             "need at least one")
        perm = state.rng.permutation(n)
        val_rows, train_rows = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        if sw is not None and (not sw[val_rows].any() or not sw[train_rows].any()):
            raise ValueError("early_stopping: the validation or training rows all have zero "
                             "sample_weight; use a larger validation_fraction or no early stopping")
        if ds is None:
            val = RowObjective(X, Y, sw, val_rows, design, alpha)
            train_objective = RowObjective(X, Y, sw, train_rows, design, alpha)
        else:
            val = StatsObjective(design.apply(problem.rows.stats_of(val_rows)), alpha)
            train_ds = design.apply(problem.rows.stats_of(train_rows))
            train_objective = StatsObjective(train_ds, alpha)
    elif ds is None or (X is not None and n < d):
        # no statistics, or more features than rows: J from the rows keeps its digits (rows
        # not in memory: one pass over their blocks)
        if X is not None:
            train_objective = RowObjective(X, Y, sw, train_rows, design, alpha)
        elif deferred:      # unit weights: counted by the first loss pass
            train_objective = BlockRowObjective(problem.rows, design, alpha, totals[1])
        else:
            train_objective = BlockRowObjective(problem.rows, design, alpha, moments.weight_sum)
        if deferred:
            pass                            # the starting point with the first loss pass
        elif moments.cross is not None:     # the starting point from the moments: no pass
            zero = np.zeros((d, k)), np.zeros(k)
            train_objective.remember(*zero, moments.value_at_zero(design))
    else:
        train_objective = StatsObjective(ds, alpha)

    # the curvature (an eigenvalue problem of size d, or Lanczos on the rows) is for "gd"
    L = None
    if settings.solver == "gd":
        L = (objective.lipschitz_constant(train_ds, alpha) if train_ds is not None
             else train_objective.lipschitz())
    curvature = None
    if stochastic:
        # the rows as the compiled kernel reads them: in memory (the training rows, in a fresh
        # order each epoch; dense or CSR), or block by block where they live (files, a cluster)
        kernel_rows = (memory_kernel_rows(X, Y, sw, train_rows) if X is not None else
                       streamed_kernel_rows(problem.rows, streamed_mean_weight(
                           problem.rows, None if deferred else moments)))
        epoch_fn, curvature = stochastic_epoch(kernel_rows, design, settings)
    else:
        epoch_fn = gd_epoch(settings.optimizer, settings.positive)
    if settings.learning_rate == "auto":
        lr = auto_learning_rate(settings.solver, settings.optimizer, alpha,
                                settings.batch_size if settings.solver == "minibatch" else 1,
                                n if train_rows is None else train_rows.size,
                                moments.target_spread(), L, curvature,
                                moments.mean_curvature(design))
    else:
        lr = float(settings.learning_rate)
    if settings.solver == "gd" and settings.optimizer.name == "plain" and lr >= 2.0 / L:
        m = MessageBuilder()
        raise DivergenceError(
            f"{m.setting('learning_rate', float(lr))} makes gradient descent diverge on this "
            f"data: the loss's curvature is L = {L:.4g}, and plain gradient descent is stable "
            f"only for a learning rate < 2/L = {2 / L:.4g}. Use "
            f"{m.setting('learning_rate', 'auto')} (1/L), a smaller learning rate, or "
            f"{m.setting('standardize', True)}.", parameters=m.parameters)
    state.learning_rate = state.first_learning_rate = lr
    # a checkpoint (linreg.checkpoint.Checkpoint) replaces the fresh state by the saved one
    resumed = checkpoint is not None and checkpoint.restore(state)
    start, scale = None, None
    if deferred:
        start = (DeferredStart if X is not None else BlockDeferredStart)(
            problem.rows, train_objective, design, alpha, settings.fit_intercept)
    else:
        curvature_diagonal = (np.diag(objective.hessian_from_stats(train_ds, alpha))[:d]
                              if train_ds is not None
                              else moments.curvature_diagonal(design, alpha))
        scale = gradient_scale(curvature_diagonal, state.n_targets)
    stop_reason, epochs = train(
        state, settings, epoch_fn, train_objective.loss, train_objective.gradient,
        None if val is None else val.loss, report, lipschitz=L,
        max_epochs=max(settings.max_iter - state.epoch, 0) if resumed else None,
        on_epoch=None if checkpoint is None else checkpoint.after_epoch, resumed=resumed,
        gradient_scale=scale, start=start)
    if checkpoint is not None:
        checkpoint.save(state)
        epochs = state.epoch if resumed else epochs
    theta, beta = state.theta_beta()
    return TrainingOutcome(state, theta.copy(), beta.copy(), stop_reason, epochs)


def partial_fit_epoch(state: TrainingState, settings: TrainingSettings, loss_objective,
                      moments, X, Y, sample_weight, report=None) -> tuple[str, int]:
    """One epoch of the stochastic solver over the rows given, continuing ``state`` (its
    design, optimizer moments, step and epoch counters and random generator).
    ``loss_objective`` gives the loss history's ``J`` and ``∇J`` (a
    :class:`~linreg.training_objective.StatsObjective` of all rows seen so far, or a
    :class:`~linreg.training_objective.RowObjective` of this chunk); ``moments`` are this
    chunk's :class:`~linreg.training_objective.ColumnMoments` (for the automatic step,
    chosen on the first chunk).

    Returns ``(stop_reason, epochs_run)``: ``"partial_fit"`` (the one epoch was run, as
    asked), ``"callback"``, or ``"learning_rate_exhausted"`` once the plateau schedule has
    halved the rate ``MAX_PLATEAU_HALVINGS`` times (later calls still take their tiny steps)."""
    kernel_rows = memory_kernel_rows(X, Y, sample_weight, np.arange(X.shape[0]))
    epoch_fn, curvature = stochastic_epoch(kernel_rows, state.design, settings)
    if state.learning_rate == 0.0:
        if settings.learning_rate == "auto":
            lr = auto_learning_rate(settings.solver, settings.optimizer, settings.alpha,
                                    settings.batch_size if settings.solver == "minibatch" else 1,
                                    X.shape[0], moments.target_spread(), None, curvature,
                                    moments.mean_curvature(state.design))
        else:
            lr = float(settings.learning_rate)
        state.learning_rate = state.first_learning_rate = lr
    no_stop = dataclasses.replace(settings, tol=0.0, early_stopping=False)
    reason, epochs = train(state, no_stop, epoch_fn, loss_objective.loss,
                           loss_objective.gradient, None, report, max_epochs=1)
    if learning_rate_exhausted(settings, state):
        return "learning_rate_exhausted", epochs
    return ("partial_fit" if reason == "max_iter" else reason), epochs
