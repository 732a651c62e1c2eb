"""The solvers, as a registry: each is one function ``solve(problem) -> Solution``.

========= ===================================================== ==========================
name      what it does                                          module
========= ===================================================== ==========================
normal    the normal equations from the statistics (Cholesky)   :mod:`.normal`
          (positive=True: Lawson–Hanson on the Gram matrix)     :mod:`.nnls`
qr        QR of the rows (refined in memory; TSQR elsewhere)    :mod:`.qr`
gd        full-batch gradient descent                           :mod:`.iterative`
sgd       one sample per update                                 :mod:`.iterative`
minibatch ``batch_size`` samples per update                     :mod:`.iterative`
lsqr      matrix-free least squares (LSQR; sparse or wide X)    :mod:`.lsqr`
========= ===================================================== ==========================

``"auto"`` is resolved by :func:`choose`.  A new solver is one function and one line in
:data:`SOLVERS`.
"""

from __future__ import annotations

import numpy as np

from ..closed_form import NORMAL_EQUATIONS_MAX_CONDITION
from ..exceptions import IllConditionedWarning, MessageBuilder, warn_user
from ..refine import warn_statistics_only
from . import iterative, lsqr, normal, qr
from .problem import Problem, make_problem

__all__ = ["SOLVERS", "SOLVER_NAMES", "ITERATIVE_SOLVERS", "POSITIVE_SOLVERS",
           "NORMAL_EQUATIONS_MAX_CONDITION", "Problem", "make_problem", "choose",
           "fitted_attributes", "coefficient_attributes"]

SOLVERS = {
    "normal": normal.solve,
    "qr": qr.solve,
    "gd": iterative.solve,
    "sgd": iterative.solve,
    "minibatch": iterative.solve,
    "lsqr": lsqr.solve,
}
#: every value of ``solver=``
SOLVER_NAMES = ("auto",) + tuple(SOLVERS)
#: the solvers that take steps (the others solve exactly)
ITERATIVE_SOLVERS = ("gd", "sgd", "minibatch")


#: the solvers that can keep the coefficients non-negative (positive=True)
POSITIVE_SOLVERS = ("auto", "normal", "gd")


def choose(requested: str, condition_number: float, can_factor: bool,
           positive: bool = False) -> str:
    """The solver to run: ``"auto"`` is ``"normal"``, or ``"qr"`` when the condition number
    says the normal equations would lose digits and a QR factor of the rows can be had
    (``can_factor``; never with ``positive``, whose active set works on the Gram matrix).
    Warns when the normal equations run on a design where they may lose more than 10 of 16
    digits."""
    digits = 2 * np.log10(condition_number) if np.isfinite(condition_number) else np.inf
    if requested == "auto":
        if condition_number**2 <= NORMAL_EQUATIONS_MAX_CONDITION:
            return "normal"
        if can_factor and not positive:
            return "qr"
        if positive:
            if condition_number**2 > 1e10 and not np.isinf(condition_number):
                # (a rank-deficient design with positive=True: its RankDeficiencyWarning says it)
                warn_user(
                    f"the design's condition number is {condition_number:.3g} and "
                    "positive=True works on the Gram matrix, so the normal equations may lose "
                    f"about {digits:.0f} of 16 digits.", IllConditionedWarning)
        else:
            warn_statistics_only(condition_number)     # with the digits the statistics keep
        return "normal"
    if requested == "normal" and 1e10 < condition_number**2 < np.inf:
        m = MessageBuilder()
        warn_user(IllConditionedWarning(
            f"the design's condition number is {condition_number:.3g}, so the normal equations "
            f"may lose about {digits:.0f} of 16 digits"
            + ("." if positive else f"; {m.setting('solver', 'qr')} (or "
               f"{m.setting('solver', 'auto')}) keeps about twice as many."),
            parameters=m.parameters), IllConditionedWarning)
    return requested


def coefficient_attributes(coef, intercept, single: bool, fit_intercept: bool) -> dict:
    """``coef_`` and ``intercept_`` from ``coef`` (d, k) and ``intercept`` (k,) in original
    units: 1-D and a float for one target (``single``), else (k, d) and (k,)."""
    if not fit_intercept:
        intercept = np.zeros_like(intercept)
    if single:
        return {"coef_": coef[:, 0].copy(), "intercept_": float(intercept[0])}
    return {"coef_": np.ascontiguousarray(coef.T), "intercept_": intercept.copy()}


def fitted_attributes(problem: Problem, solution, single: bool) -> dict:
    """The attributes a fit leaves: coefficients in original units, ``stats_``, ``rank_``,
    ``condition_number_``, ``n_refinement_passes_``, and the history — a training run's
    (:func:`linreg.solvers.iterative.training_attributes`), or for a closed form the loss
    and gradient norm at its solution (one "iteration", stopped: "exact")."""
    from .. import objective
    coef, intercept = problem.design.to_original(solution.theta, solution.beta)
    identification = problem.identification
    fitted = {**coefficient_attributes(coef, intercept, single, problem.design.fit_intercept),
              "stats_": problem.stats,
              "rank_": None if identification is None else identification.rank_x,
              "condition_number_": problem.condition_number,
              "n_refinement_passes_": solution.refinement_steps}
    if solution.training is not None:
        outcome = solution.training
        return {**fitted, **iterative.training_attributes(outcome.state, solution.settings,
                                                          outcome.stop_reason),
                "training_path_": "rows" if problem.stats is None else "statistics"}
    ds, alpha = problem.ds, problem.alpha
    J = objective.loss_from_stats(ds, solution.theta, solution.beta, alpha)
    gw, gb = objective.gradient_from_stats(ds, solution.theta, solution.beta, alpha)
    return {**fitted, "stop_reason_": solution.stop_reason, "loss_history_": np.array([J]),
            "grad_norm_history_": np.array([np.sqrt(np.sum(gw**2)
                                                    + np.sum(gb**2) * ds.fit_intercept)]),
            "n_iter_": solution.n_iter}
