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
========= ===================================================== ==========================

``"auto"`` is resolved by :func:`choose`.  A new solver is one function and one line in
:data:`SOLVERS`.
"""

from __future__ import annotations

import numpy as np

from ..closed_form import NORMAL_EQUATIONS_MAX_CONDITION
from ..exceptions import IllConditionedWarning, warn_user
from . import iterative, normal, qr
from .problem import Problem, make_problem

__all__ = ["SOLVERS", "SOLVER_NAMES", "ITERATIVE_SOLVERS", "POSITIVE_SOLVERS",
           "NORMAL_EQUATIONS_MAX_CONDITION", "Problem", "make_problem", "choose"]

SOLVERS = {
    "normal": normal.solve,
    "qr": qr.solve,
    "gd": iterative.solve,
    "sgd": iterative.solve,
    "minibatch": iterative.solve,
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
        if condition_number**2 > 1e10 and not (positive and np.isinf(condition_number)):
            # (a rank-deficient design with positive=True: its RankDeficiencyWarning says it)
            why = ("positive=True works on the Gram matrix" if positive else
                   "only the sufficient statistics are available here")
            warn_user(
                f"the design's condition number is {condition_number:.3g} and {why}, so the "
                f"normal equations may lose about {digits:.0f} of 16 digits"
                + ("." if positive else "; solver='qr' keeps about twice as many."),
                IllConditionedWarning)
        return "normal"
    if requested == "normal" and 1e10 < condition_number**2 < np.inf:
        warn_user(
            f"the design's condition number is {condition_number:.3g}, so the normal equations "
            f"may lose about {digits:.0f} of 16 digits"
            + ("." if positive else "; solver='qr' (or 'auto') keeps about twice as many."),
            IllConditionedWarning)
    return requested
