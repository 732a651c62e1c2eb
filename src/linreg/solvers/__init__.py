"""The solvers, as a registry: each is one function ``solve(problem) -> Solution``.

========= ===================================================== ==========================
name      what it does                                          module
========= ===================================================== ==========================
normal    the normal equations from the statistics (Cholesky)   :mod:`.normal`
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
from ..exceptions import IllConditionedWarning, MessageBuilder, warn_user
from ..refine import warn_statistics_only
from . import iterative, normal, qr
from .problem import Problem, make_problem

__all__ = ["SOLVERS", "SOLVER_NAMES", "ITERATIVE_SOLVERS", "NORMAL_EQUATIONS_MAX_CONDITION",
           "Problem", "make_problem", "choose"]

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


def choose(requested: str, condition_number: float, can_factor: bool) -> str:
    """The solver to run: ``"auto"`` is ``"normal"``, or ``"qr"`` when the condition number
    says the normal equations would lose digits and a QR factor of the rows can be had
    (``can_factor``).  Warns when the normal equations run on a design where they may lose
    more than 10 of 16 digits."""
    digits = 2 * np.log10(condition_number) if np.isfinite(condition_number) else np.inf
    if requested == "auto":
        if condition_number**2 <= NORMAL_EQUATIONS_MAX_CONDITION:
            return "normal"
        if can_factor:
            return "qr"
        warn_statistics_only(condition_number)     # with the digits the statistics keep
        return "normal"
    if requested == "normal" and 1e10 < condition_number**2 < np.inf:
        m = MessageBuilder()
        warn_user(IllConditionedWarning(
            f"the design's condition number is {condition_number:.3g}, so the normal equations "
            f"may lose about {digits:.0f} of 16 digits; {m.setting('solver', 'qr')} (or "
            f"{m.setting('solver', 'auto')}) keeps about twice as many.",
            parameters=m.parameters), IllConditionedWarning)
    return requested
