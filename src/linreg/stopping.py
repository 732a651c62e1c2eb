"""Why an iterative fit stopped, how far from the optimum, and what to tell the user.

Every fit records ``stop_reason_``, one of :data:`STOP_REASONS`.  An iterative fit that stops
for any reason but the gradient tolerance gets one :class:`~linreg.exceptions.ConvergenceWarning`
saying why, how far it is from the exact optimum and what would get closer.  The distance is
exact and cheap: the sufficient statistics the fit already holds give the optimum ``θ*`` in
one O(d³) solve (the fit has already paid as much for its condition number), and since ``J``
is quadratic with ``∇J(θ*) = 0``::

    J(θ) − J(θ*) = ½ δᵀHδ = ½ Σ_k [δθ_kᵀ(G/n_w + αI)δθ_k + (x̄ᵀδθ_k + δβ_k)²],   δ = θ − θ*

(``H`` the Hessian of :func:`linreg.objective.hessian_from_stats`; computed from ``δ``, so a
gap of 1e-12 is not lost to cancellation).  The warning reports ``(J − J*)/J*`` and, for an
unpenalized fit, the largest distance of a coefficient from ``θ*`` in its standard errors
(``σ² = 2 n_w J/(n − p)`` at the fit, as ``summary()`` takes it, ``Cov θ = σ² A⁻¹`` with
``A`` the normal matrix).  Only if the
optimum cannot be computed does it fall back to the last epoch's relative improvement of ``J``.

The policy (documented in the estimator's ``stop_reason_``):

* ``"tolerance"``: no warning — unless the loss is still ``GAP_WORTH_A_WARNING`` (1 %) or
  more above the optimum (a loose ``tol``);
* ``"max_iter"``, ``"validation_plateau"``, ``"learning_rate_exhausted"``: a warning, with
  advice that fits the situation; with ``tol=0`` (run exactly ``max_iter`` epochs, as
  asked) only when the loss is 1 % or more above the optimum;
* ``"callback"``: one warning that states the stop and the gap, without advice (the stop
  was asked for);
* ``"partial_fit"``: none (one epoch per call is what was asked), except once, on the call
  whose epoch exhausts the learning rate.

So no fit ends 1 % or more above the optimum without a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from . import objective
from .closed_form import solve_normal_equations
from .exceptions import ConvergenceWarning, MessageBuilder, warn_user
from .design import Design, DesignStats
from .nonnegative import nnls_from_stats

__all__ = [
    "GAP_WORTH_A_WARNING",
    "STOP_REASONS",
    "OptimalityGap",
    "describe_stop",
    "divergence_warning",
    "optimality_gap",
    "stop_warning",
    "warn",
]

#: every value ``stop_reason_`` takes, and what it means in words
STOP_REASONS = {
    "tolerance": "converged: the gradient reached the tolerance",
    "max_iter": "reached the iteration limit before converging",
    "validation_plateau": "early stopping: the validation loss stopped improving",
    "learning_rate_exhausted": ("learning rate exhausted: halved until its steps were too small "
                                "to make progress, not converged"),
    "callback": "stopped by the callback",
    "partial_fit": "one epoch of partial_fit, as asked",
    "exact": "exact solution (closed form)",
}
#: a fit that ends this far above the optimum (relative loss) always gets a warning
GAP_WORTH_A_WARNING = 0.01
#: J* below this fraction of the constant model's loss counts as an exact fit: the gap is
#: then measured against the constant model's loss (as the summary table does)
EXACT_FIT = 1e-10


def describe_stop(reason: str | None) -> str | None:
    """``stop_reason_`` in words (None for None: a model file that did not record it)."""
    return None if reason is None else STOP_REASONS.get(reason, reason)


# ---------------------------------------------------------------------------- the distance
@dataclass(frozen=True)
class OptimalityGap:
    """How far a fit is from the exact optimum of its objective.

    ``relative_loss``: ``(J − J*)/J*`` — or, when the optimum fits exactly (``J* ≈ 0``),
    ``(J − J*)/J₀`` with ``J₀`` the loss of the constant model (``versus_constant_model``).
    ``distance_in_se``: ``max_j |θ_j − θ*_j| / se_j`` over the coefficients and the intercept
    (NaN for a penalized or rank-deficient fit, or without residual degrees of freedom).
    """

    relative_loss: float
    distance_in_se: float
    versus_constant_model: bool = False


def optimality_gap(ds: DesignStats, design: Design, theta: np.ndarray, beta: np.ndarray,
                   alpha: float, n_rows: int, positive: bool = False) -> OptimalityGap | None:
    """The gap of the fit ``(θ, β)`` (design coordinates, shapes (d, k) and (k,)) on the data
    whose design statistics are ``ds``; None when the optimum cannot be computed.  With
    ``positive`` the optimum is the non-negative one (:mod:`linreg.solvers.nnls`), and the
    distance in standard errors (which assumes no constraint) is not given."""
    try:
        with np.errstate(all="ignore"):
            if positive:
                best_theta, best_beta, _ = nnls_from_stats(ds, alpha)
                J = objective.loss_from_stats(ds, theta, beta, alpha)
                J_star = objective.loss_from_stats(ds, best_theta, best_beta, alpha)
                excess = max(J - J_star, 0.0)
            else:
                best = solve_normal_equations(ds, alpha)
                best_theta, best_beta = best.theta, best.beta
            k = ds.cross.shape[1]
            d_theta = theta - best_theta
            d_beta = beta - best_beta if ds.fit_intercept else np.zeros(k)
            if not positive:
                at_mean = ds.mean_x @ d_theta + d_beta
                excess = (0.5 * (np.sum(d_theta * (ds.gram @ d_theta)) / ds.weight_sum
                                 + at_mean @ at_mean) + objective.l2_penalty(d_theta, alpha))
                J_star = objective.loss_from_stats(ds, best_theta, best_beta, alpha)
            constant = ds.mean_y if ds.fit_intercept else np.zeros(k)
            J_constant = objective.loss_from_stats(ds, np.zeros_like(theta), constant, alpha)
    except (np.linalg.LinAlgError, ValueError):
        return None
    exact_fit = not J_star > EXACT_FIT * J_constant
    reference = J_constant if exact_fit else J_star
    if reference > 0:
        relative = float(excess / reference)
    else:
        relative = 0.0 if excess == 0 else math.inf
    if not math.isfinite(relative):
        return None
    distance = math.nan
    if (alpha == 0 and not positive and not exact_fit
            and best.rank == ds.gram.shape[0]):
        distance = _distance_in_se(ds, design, theta, beta, d_theta, d_beta, n_rows)
    return OptimalityGap(relative, distance, exact_fit)


def _distance_in_se(ds: DesignStats, design: Design, theta, beta, d_theta, d_beta,
                    n_rows: int) -> float:
    """``max |δ|/se`` over the coefficients and (with one) the intercept in original units.

    ``se(θ_j)² = σ²[A⁻¹]_jj`` (``A = G``, centred, with an intercept; ``G + n_w x̄x̄ᵀ``
    without), ``σ²_k = Σ s r²/(n − p)`` at the fitted ``(θ, β)`` — the standard errors
    ``summary()`` prints for this fit, so the two report the same distance.  The ratio ``δ_j/se_j`` does not
    depend on the column's scale, so the design coordinates serve.  The original intercept
    is ``b = a − uᵀθ`` with ``a = β + x̄ᵀθ`` (independent of θ, variance ``σ²/n_w``) and
    ``u = mean/scale``, so ``se(b)² = σ²(1/n_w + uᵀA⁻¹u)`` and ``δb = δβ − (shift/scale)ᵀδθ``.
    """
    d = d_theta.shape[0]
    p = d + int(ds.fit_intercept)
    if n_rows <= p or d == 0:
        return math.nan
    A = ds.normal_matrix(0.0)
    equilibrate = np.sqrt(np.diag(A))
    if not np.all(equilibrate > 0):
        return math.nan
    try:
        R = scipy.linalg.cholesky(A / np.outer(equilibrate, equilibrate), lower=False)
    except np.linalg.LinAlgError:
        return math.nan
    R_inv = scipy.linalg.solve_triangular(R, np.eye(d), lower=False)
    # A⁻¹ = E⁻¹ R⁻¹ R⁻ᵀ E⁻¹ (E the equilibration): its diagonal and quadratic forms
    diag_inv = np.sum(R_inv * R_inv, axis=1) / equilibrate**2
    # Σ s r² per target: θᵀGθ − 2cᵀθ + q (centred) + n_w e², e the error at the mean
    centred = (np.sum(theta * (ds.gram @ theta), axis=0) - 2.0 * np.sum(ds.cross * theta, axis=0)
               + np.diag(ds.target_comoment))
    at_mean = ds.mean_x @ theta + beta - ds.mean_y
    sigma2 = (np.maximum(centred, 0.0) + ds.weight_sum * at_mean**2) / (n_rows - p)   # (k,)
    distances = np.abs(d_theta) / np.sqrt(np.outer(diag_inv, sigma2))
    if ds.fit_intercept:
        u = (ds.mean_x + design.shift / design.scale) / equilibrate
        quad = float(np.sum((R_inv.T @ u) ** 2))
        d_b = d_beta - (design.shift / design.scale) @ d_theta
        se_b = np.sqrt(sigma2 * (1.0 / ds.weight_sum + quad))
        distances = np.vstack([distances, np.abs(d_b) / se_b])
    distances = distances[np.isfinite(distances)]
    return float(np.max(distances)) if distances.size else math.nan


# ---------------------------------------------------------------------------- the words
def _above(gap: float, reference: str) -> str:
    """A relative gap for people: ``10.5 % above …``, ``9.5e-07 (relative) above …``,
    ``468 times …``."""
    if gap >= 1:
        return f"{1 + gap:.3g} times {reference}"
    if gap >= 1e-4:
        return f"{100 * gap:.3g} % above {reference}"
    return f"{gap:.2g} (relative) above {reference}"


def _gap_text(gap: OptimalityGap | None, loss_history, from_rows: bool = False) -> str:
    if gap is None:
        why = ("was not computed (it needs the d × d statistics, which this fit from the rows "
               "did not form: they would have cost more than the training)" if from_rows
               else "could not be computed")
        if len(loss_history) >= 2 and loss_history[-1] > 0:
            step = (loss_history[-2] - loss_history[-1]) / loss_history[-1]
            return (f"the exact optimum {why}; the last epoch improved the "
                    f"loss by {step:.3g} (relative)")
        return f"the exact optimum {why}"
    if gap.versus_constant_model:
        text = (f"the optimum fits the data exactly, and the loss is above it by "
                f"{gap.relative_loss:.3g} of the constant model's loss")
    else:
        text = f"the loss is {_above(gap.relative_loss, 'the exact optimum')}"
    if math.isfinite(gap.distance_in_se):
        text += f", the coefficients up to {gap.distance_in_se:.3g} standard errors from it"
    return text


def _more_iterations(settings, state, ds: DesignStats | None) -> int:
    """A ``max_iter`` worth suggesting after stopping at ``max_iter`` (with a 10 % margin,
    rounded up to two significant digits; never less than twice ``max_iter``).

    Plain full-batch descent with a constant step ``η`` shrinks every eigen-component of the
    gradient by at least ``1 − ηλ_min`` per iteration (``λ_min`` of the Hessian, from the
    statistics), so the factor ``ρ = ‖g‖/(tol·‖g₀‖)`` still to go takes at most
    ``ln ρ / −ln(1 − ηλ_min)`` more iterations — a bound, and a close one, because late in a
    run the slowest component is what is left (the real diamonds table: 1,000 iterations, then
    this says 3,200; it needs 2,832).  Other optimizers: the rate of the last half of the
    run, extrapolated.  The stochastic solvers: twice ``max_iter``.
    """
    twice = 2 * settings.max_iter
    h = state.scaled_grad_norm_history or state.grad_norm_history
    t = len(h) - 1
    if settings.solver != "gd" or settings.tol <= 0 or t < 2 or not h[0] > 0 or not h[-1] > 0:
        return twice
    to_go = h[-1] / (settings.tol * h[0])
    remaining = math.nan
    if settings.optimizer.name == "plain" and settings.schedule == "constant" and ds is not None:
        with np.errstate(all="ignore"):
            smallest = float(np.linalg.eigvalsh(objective.hessian_from_stats(ds, settings.alpha))[0])
        shrink = 1.0 - state.learning_rate * smallest
        if 0.0 < shrink < 1.0:
            remaining = math.log(to_go) / -math.log(shrink)
    else:
        half = t // 2
        ratio = h[-1] / h[-1 - half]
        if 0.0 < ratio < 1.0:
            remaining = math.log(to_go) / -math.log(ratio) * half
    if not (math.isfinite(remaining) and remaining > 0):
        return twice
    total = 1.1 * (t + remaining)
    digits = 10 ** max(int(math.log10(total)) - 1, 0)        # two significant digits, up
    return max(twice, int(math.ceil(total / digits) * digits))


def stop_warning(reason: str, settings, state, gap: OptimalityGap | None,
                 ds: DesignStats | None = None,
                 from_rows: bool = False) -> ConvergenceWarning | None:
    """The warning an iterative fit that stopped for ``reason`` deserves (None: none), by the
    policy of this module's docstring.  ``settings`` are the run's
    :class:`~linreg.training_state.TrainingSettings`, ``state`` its final
    :class:`~linreg.training_state.TrainingState`, ``ds`` the statistics it trained on (for the
    iterations to suggest); ``from_rows``: the fit formed no statistics
    (:mod:`linreg.solvers.paths`), which is why a missing gap is missing."""
    far = gap is not None and gap.relative_loss >= GAP_WORTH_A_WARNING
    if reason in ("partial_fit", "exact") or (reason == "tolerance" and not far):
        return None
    if reason == "max_iter" and settings.tol == 0 and not far:
        return None
    m = MessageBuilder()
    what = "gradient descent" if settings.solver == "gd" else settings.solver
    n = state.epoch

    def units(count: int) -> str:
        word = "iteration" if settings.solver == "gd" else "epoch"
        return f"{word}{'s' if count != 1 else ''}"

    h = state.scaled_grad_norm_history or state.grad_norm_history
    ratio = h[-1] / h[0] if len(h) and h[0] > 0 else 0.0
    at = (f" (it is at {ratio:.3g} of its start, in units of each parameter's curvature)"
          if ratio > 0 else "")
    tol = m.setting("tol", settings.tol)
    if reason == "tolerance":
        head = f"{what} reached {tol} after {n} {units(n)}, but"
    elif reason == "max_iter" and settings.tol == 0:
        head = (f"{what} ran {m.setting('max_iter', settings.max_iter)} {units(settings.max_iter)} "
                f"({tol}: no stopping rule), and")
    elif reason == "max_iter":
        head = (f"{what} stopped at {m.setting('max_iter', settings.max_iter)} "
                f"{units(settings.max_iter)} before the gradient reached {tol}{at}:")
    elif reason == "learning_rate_exhausted":
        head = (f"{what} stopped after {n} {units(n)} with its learning rate exhausted, not "
                f"converged: the plateau schedule halved it {state.plateau_halvings} times "
                f"(to {state.learning_rate:.3g}), too small to make progress, before the "
                f"gradient reached {tol}{at};")
    elif reason == "validation_plateau":
        head = (f"{what} stopped early after {n} {units(n)}: the validation loss did not "
                f"improve by {tol} (relative) for {settings.n_iter_no_change} "
                f"{units(settings.n_iter_no_change)} in a row, and the "
                "parameters of its best epoch were kept;")
    else:  # "callback"
        head = f"{what} was stopped by the callback after {n} {units(n)}, as it asked;"
    # (head holds the parameter fields; the gap's words are literal text)
    text = f"{head} {m.text(_gap_text(gap, state.loss_history, from_rows))}."
    advice = [] if reason == "callback" else _advice(m, reason, settings, state, ds)
    if advice:
        text += " To get closer: " + ", ".join(advice[:-1]) + (" or " if len(advice) > 1 else "") \
            + advice[-1] + "."
    return ConvergenceWarning(text, parameters=m.parameters, stop_reason=reason,
                              relative_loss_gap=None if gap is None else gap.relative_loss,
                              distance_in_se=None if gap is None or math.isnan(gap.distance_in_se)
                              else gap.distance_in_se)


def _advice(m: MessageBuilder, reason: str, settings, state, ds) -> list[str]:
    """Only what fits: ``standardize=True`` only when it is off, Nesterov only for plain
    full-batch descent, more ``max_iter`` only when it was the limit."""
    advice = []
    if not state.design.standardize:
        advice.append(f"{m.setting('standardize', True)} (every feature on one scale, so "
                      "far larger steps are safe)")
    if reason == "tolerance":
        advice.append(f"a smaller tolerance, e.g. {m.setting('tol', settings.tol / 100)}")
    if settings.solver == "gd" and settings.optimizer.name == "plain":
        # Nesterov is stable at the automatic step 1/L, not at every step plain descent takes
        automatic = isinstance(settings.learning_rate, str)
        step = "" if automatic else f" with {m.setting('learning_rate', 'auto')}"
        advice.append(f"{m.setting('optimizer', 'nesterov')}{step} (far fewer iterations when "
                      "the features are correlated)")
    if reason == "max_iter":
        advice.append(m.setting("max_iter", _more_iterations(settings, state, ds)))
    if reason == "validation_plateau":
        advice.append(f"{m.setting('early_stopping', False)} (train until the gradient "
                      "tolerance)")
    advice.append(f"{m.setting('solver', 'auto')} (the exact solution, from the same "
                  "statistics)")
    return advice


def divergence_warning(settings, state) -> ConvergenceWarning | None:
    """Divergences are handled, not hidden: how many epochs were undone, and the rate."""
    if not state.divergences:
        return None
    m = MessageBuilder()
    after = math.ldexp(state.first_learning_rate, -state.divergences)
    text = (f"{settings.solver} diverged {state.divergences} time(s) (the loss became "
            "non-finite or exploded); each time the best parameters so far were restored, the "
            "optimizer state reset and the learning rate halved: "
            f"{state.first_learning_rate:.4g} -> {after:.4g}. Consider ")
    text = m.text(text) + f"{m.setting('learning_rate', 'auto')} or a smaller learning rate."
    return ConvergenceWarning(text, parameters=m.parameters)


def warn(warning: ConvergenceWarning | None) -> None:
    if warning is not None:
        warn_user(warning, ConvergenceWarning)
