"""``solver="normal"``: the normal equations from the sufficient statistics."""

from __future__ import annotations

from ..closed_form import Solution, solve_normal_equations
from . import nnls
from .problem import Problem

__all__ = ["solve"]


def solve(problem: Problem) -> Solution:
    """``(G + n_w α I) θ = c`` by Cholesky (:func:`linreg.closed_form.solve_normal_equations`),
    the minimum-norm solution when the rank decision says the design is rank-deficient.

    Equals :func:`linreg.textbook.normal_equation` (tested in tests/test_textbook.py).
    With ``positive=True``: the non-negative solution from the same statistics
    (:func:`linreg.solvers.nnls.solve`)."""
    if problem.positive:
        return nnls.solve(problem)
    return solve_normal_equations(problem.ds, problem.alpha, problem.identification,
                                  problem.design.scale)
