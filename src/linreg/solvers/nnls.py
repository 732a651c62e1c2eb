"""``positive=True`` with ``solver="normal"``/``"auto"``: the exact non-negative solution from
the statistics (:mod:`linreg.nonnegative`: Lawson–Hanson on the Gram matrix, no pass over the
rows per iteration)."""

from __future__ import annotations

from ..closed_form import Solution
from ..exceptions import ConvergenceWarning, warn_user
from ..nonnegative import nnls_from_stats
from .problem import Problem

__all__ = ["solve"]


def solve(problem: Problem) -> Solution:
    """The non-negative least-squares solution (see the module docstring)."""
    theta, beta, converged = nnls_from_stats(problem.ds, problem.alpha)
    if not converged:
        warn_user(f"the non-negative least-squares active set did not settle in "
                  f"{3 * theta.shape[0]} steps (a degenerate design: columns that are "
                  "nearly dependent); the coefficients may be slightly off the optimum",
                  ConvergenceWarning)
    return Solution(theta, beta, int(problem.identification.rank_x))
