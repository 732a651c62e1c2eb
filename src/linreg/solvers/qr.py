"""``solver="qr"``: least squares from a QR factor of the rows."""

from __future__ import annotations

from ..closed_form import Solution, solve_qr, solve_qr_factor
from ..design import Design
from ..refine import refine_qr_solution
from .problem import Problem

__all__ = ["solve"]


def solve(problem: Problem) -> Solution:
    """Householder QR of the weighted, centred design: in memory with iterative refinement
    from the rows themselves (:func:`linreg.closed_form.solve_qr`); otherwise from the
    triangular factor the rows give in one more pass where they live
    (:meth:`linreg.rows.Rows.qr_factor`, TSQR; :func:`linreg.closed_form.solve_qr_factor`).
    Rows that can be read again get passes of iterative refinement when the condition
    number calls for them (:mod:`linreg.refine`).  The rank is the rank decision's.

    Equals :func:`linreg.textbook.normal_equation` (tested in tests/test_textbook.py)."""
    design = problem.design
    if design.fit_intercept:
        # QR always works on centred columns (far better conditioned); the explicit
        # intercept column absorbs any rounding of the means exactly.
        centred = Design(problem.stats.mean_x.copy(), design.scale, True, design.standardize)
    else:
        centred = design
    arrays = problem.rows.arrays()
    if arrays is None:
        # y is centred too (on its mean from the statistics), as solve_qr does
        y_shift = problem.stats.mean_y.copy() if centred.fit_intercept else None
        factor = problem.rows.qr_factor(centred, y_shift)
        solution = solve_qr_factor(factor, centred, problem.alpha, problem.ds.weight_sum,
                                   problem.stats.n_rows, y_shift,
                                   n_null=problem.identification.n_null)
        # more passes over re-readable rows when the condition number calls for them
        solution = refine_qr_solution(problem.rows, factor, solution, centred, problem.alpha,
                                      problem.ds.weight_sum, y_shift, problem.condition_number)
    else:
        X, Y, sw = arrays
        solution = solve_qr(X, Y, centred, problem.alpha, sw, problem.ds.weight_sum,
                            n_null=problem.identification.n_null)
    if centred is not design:
        coef, intercept = centred.to_original(solution.theta, solution.beta)
        solution.theta, solution.beta = design.from_original(coef, intercept)
    return solution
