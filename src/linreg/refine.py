"""Iterative refinement of the streamed QR solution, for rows that can be read again (files,
Dask): corrected semi-normal equations (Björck, 1987), one pass over the rows per step.

The streamed QR (:func:`linreg.tsqr.streamed_qr_factor`, TSQR) keeps only the
triangular factor ``R`` of ``[A, b]`` (``A = √s·[1, X̃]``, ``b = √s·(y − y_shift)``).  Its
solution ``x₀ = R₁₁⁻¹z`` is backward stable, with a relative error of about

    ε·(κ + κ²·‖r‖/(‖A‖‖x‖))        (κ of the column-equilibrated design, ε = 2⁻⁵²),

a few digits short of what the in-memory QR reaches by refining from the rows
(:func:`linreg.closed_form.solve_qr`).  Each refinement step here is one more pass over the
rows, block by block where they live (:func:`normal_residual_pass`; rows in files
are not checked or copied again, as the first pass checked them):

    r = b − A x                       residuals, in double-double arithmetic (about 106
                                      bits, :mod:`linreg.doubledouble`), straight from the
                                      original rows
    g = Aᵀ r − n_w α [0; θ]           each block's sums sent back as double-double pairs of
                                      float64 arrays (hi + lo), added up as pairs
    R₁₁ᵀ R₁₁ δx = g                   two triangular solves with the factor already kept
    x ← x + δx                        x kept as a pair

A pass costs less than the plain statistics pass except on very narrow rows: each value of
``X`` is read once and takes two exact products and two error-free sums (about 40 float64
operations, compiled: :mod:`linreg.refine_kernel`), where the statistics take about ``d/2``
BLAS multiply-adds per value (measured: 0.4–0.8× the statistics pass at 10–100 columns,
1.1× at 5).

``R₁₁ᵀR₁₁`` equals ``AᵀA + n_w α [0, I]`` up to ``ε‖A‖²``, so each step shrinks the error
by a factor of about ``κ²ε`` (at most about 2e-4 for a design the rank decision calls full
rank, ``κ < 1e6``), and the fixed point ``g = 0`` is the exact normal equations of the
exact transformed problem: the rounding of ``A`` in the factor does not remain in the
answer.  The steps stop when the next correction would fall below the working precision
``ε`` (relative, in equilibrated units; the rate estimated as ``100·κ²ε`` after the first
step, from the last two corrections after that), so no pass is spent only to confirm
convergence, or when the corrections stop shrinking to half the previous one (the rounding
of the double-double residuals is reached); a correction that grows is not applied.
Measured: one pass on every design up to κ ≈ 6e4, two at κ = 3.4e5; a second pass after
the first changed the digits by less than the noise of the answer's last bits.

The weights enter as ``g = Ãᵀ diag(s) (b̃ − Ãx)`` with the unweighted rows ``Ã``, so no
square root of a weight is rounded.  Ridge adds ``−n_w α θ`` (the penalty rows' part).
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.linalg

from .closed_form import EPS, Solution, least_squares_triangle
from .design import Design
from .doubledouble import (
    dd_add,
    dd_divide,
    dd_from,
    dd_multiply,
    dd_negate,
    dd_sum,
    dd_to_float,
    two_product,
)
from .exceptions import IllConditionedWarning, warn_user
from .parallel import map_row_pieces

__all__ = [
    "MAX_REFINEMENT_PASSES",
    "PROMISED_DIGITS",
    "REFINE_MIN_CONDITION",
    "normal_equations_digits",
    "normal_residual_pass",
    "refine_qr_solution",
    "residual_sums_block",
    "unrefined_qr_digits",
    "warn_statistics_only",
]

#: the streamed QR solution is refined when the condition number of the design exceeds this:
#: below it the TSQR solution's error, about ``κε`` (≤ 2e-13), costs at most about three
#: digits, and ``solver="auto"`` solves the normal equations anyway (it turns to QR only
#: above ``κ² = 1e6``, :data:`linreg.closed_form.NORMAL_EQUATIONS_MAX_CONDITION`)
REFINE_MIN_CONDITION = 1e3
#: a fit that cannot be refined (only a factor or the statistics of its rows kept) warns
#: with its estimated loss when it may have fewer correct significant digits than this
PROMISED_DIGITS = 9
#: rows per piece of a block in a refinement pass (pieces run on threads, their sums added in
#: order: the same bits on any number of threads); each piece is one call of the compiled
#: loop, so pieces of this size keep the calls' cost out of sight
PIECE_ROWS = 16384
#: at most this many refinement passes (one or two suffice on every design tried)
MAX_REFINEMENT_PASSES = 10
#: a step multiplies the error by at most about ``CONTRACTION_FACTOR·κ²ε`` (Björck's bound
#: for the corrected semi-normal equations is ``c·κ²ε`` with a modest ``c``; measured on the
#: polynomial designs of degree 5–8, κ up to 3.4e5, the second correction was at most
#: 7e-4 of the first, i.e. ``c ≤ 30``)
CONTRACTION_FACTOR = 100.0


def normal_residual_pass(rows, design: Design, y_shift, x: tuple) -> tuple:
    """``Aᵀ(b − A x)`` over all ``rows`` in one pass (:meth:`linreg.rows.Rows.map_blocks_again`,
    block by block where the rows are), in double-double arithmetic
    (:mod:`linreg.doubledouble`), returned as a pair ``(hi, lo)`` of float64 arrays of shape
    (p, k) whose exact sum is the result.

    ``A = √s·[1, X̃]``, ``b = √s·(y − y_shift)``, ``X̃ = (X − shift)/scale`` of ``design``;
    ``x = (hi, lo)``, ``[β; θ]`` (or ``θ`` without an intercept) as a pair.  With
    ``u = θ/scale`` and ``c = y_shift + β − shiftᵀu`` (pairs, computed once per pass),

        r = y − c − X u,    Aᵀ(b − Ax) = [Σ s r;  (Xᵀ s r − shift·Σ s r)/scale],

    so the values of ``X`` are used as they are (no copy, no shifted copy), and no weight's
    square root is taken.  Each block returns its sums ``Xᵀ s r`` and ``Σ s r``
    (:func:`residual_sums_block`: exact up to about 2⁻¹⁰⁶ of the terms' magnitudes), which
    add up across blocks, files and Dask partitions; the shift and the scale are applied
    once, to the total.
    """
    icpt = 1 if design.fit_intercept else 0
    x_hi, x_lo = (np.asarray(part, dtype=np.float64) for part in x)
    k = x_hi.shape[1]
    scale, shift = design.scale[:, None], design.shift[:, None]
    u = dd_divide((x_hi[icpt:], x_lo[icpt:]), scale)
    c = dd_from(np.zeros(k) if y_shift is None else y_shift)
    if icpt:
        c = dd_add(c, (x_hi[0], x_lo[0]))
    c = dd_add(c, dd_negate(dd_sum(dd_multiply((shift, np.zeros_like(shift)), u))))
    parts = rows.map_blocks_again(functools.partial(residual_sums_block, u=u, c=c))
    d = shift.shape[0]
    sums = dd_sum((np.array([h for h, _ in parts]).reshape(-1, d + 1, k),
                   np.array([lo for _, lo in parts]).reshape(-1, d + 1, k)))
    total = (sums[0][d], sums[1][d])                                   # Σ s r
    moved = dd_multiply((shift, np.zeros_like(shift)), (total[0][None, :], total[1][None, :]))
    g = dd_divide(dd_add((sums[0][:d], sums[1][:d]), dd_negate(moved)), scale)
    if icpt:
        g = (np.vstack([total[0][None, :], g[0]]), np.vstack([total[1][None, :], g[1]]))
    return g


def residual_sums_block(block, index, u: tuple, c: tuple) -> tuple:
    """The sums ``[Xᵀ s r; Σ s r]`` of one block ``(X, Y, w)`` with ``r = y − c − X u``
    (:func:`normal_residual_pass`), as a pair of float64 arrays of shape (d + 1, k).

    The rows are taken in pieces of :data:`PIECE_ROWS` on threads (:mod:`linreg.parallel`),
    each by the compiled loop :func:`linreg.refine_kernel.normal_residual_sums`, and the
    pieces' pairs added in order.  ``index`` (the block's number) is unused: the signature
    is that of :meth:`linreg.rows.Rows.map_blocks`.
    """
    from .kernel_types import read_only
    from .refine_kernel import normal_residual_sums
    X, Y, w = block[:3]
    if X.dtype not in (np.float32, np.float64) or not X.flags.c_contiguous:
        # (rows of a Dask DataFrame's partition may come column by column)
        X = np.ascontiguousarray(X, dtype=np.float64 if X.dtype != np.float32 else np.float32)
    Y = np.asarray(Y, dtype=np.float64)
    Y = Y[:, None] if Y.ndim == 1 else Y
    weights = np.empty(0) if w is None else np.asarray(w, dtype=np.float64)
    d, k = X.shape[1], Y.shape[1]
    # one compiled version whatever the callers' flags (kernel_types)
    X, Y, weights = read_only(X), read_only(Y), read_only(weights)
    u0, u1, c0, c1 = (read_only(np.ascontiguousarray(a)) for a in (*u, *c))

    def piece(start: int, stop: int) -> tuple:
        return normal_residual_sums(X[start:stop], Y[start:stop],
                                    weights[start:stop] if w is not None else weights,
                                    u0, u1, c0, c1)

    parts = map_row_pieces(piece, X.shape[0], PIECE_ROWS)
    return dd_sum((np.array([h for h, _ in parts]).reshape(-1, d + 1, k),
                   np.array([lo for _, lo in parts]).reshape(-1, d + 1, k)))


def refine_qr_solution(rows, factor: np.ndarray, solution: Solution, design: Design,
                       alpha: float, weight_sum: float, y_shift, condition: float,
                       max_passes: int = MAX_REFINEMENT_PASSES) -> Solution:
    """The solution from the streamed factor (:func:`linreg.closed_form.solve_qr_factor`),
    refined by passes over ``rows`` (:class:`linreg.rows.Rows`) as the module docstring
    describes; ``solution.refinement_steps`` is set to the passes made.

    Returned unchanged (0 passes) when refinement does not matter or cannot be done: the
    condition number ``condition`` is at most :data:`REFINE_MIN_CONDITION`, the design is
    rank-deficient (a minimum-norm solution), or only statistics of the rows are kept
    (``partial_fit``, ``merge``).  ``factor`` is the factor of ``[A, b]`` the solution came
    from, ``y_shift`` the target shift it was built with (``None`` without an intercept).
    """
    d = design.shift.shape[0]
    icpt = 1 if design.fit_intercept else 0
    p = d + icpt
    if solution.rank != d or p == 0 or not np.isfinite(condition) or np.ndim(alpha) > 0:
        # (one alpha per target: each group of targets was solved from its own factor, so
        # the solution is left unrefined)
        return solution
    R11, _ = least_squares_triangle(factor, design, alpha, weight_sum)
    if not np.all(np.diag(R11) != 0):
        return solution
    if not rows.has_rows():
        digits = unrefined_qr_digits(factor, R11, solution, y_shift, condition)
        if digits - 1 < PROMISED_DIGITS:     # one digit of margin: the bound's constant
            warn_user(
                f"the design's condition number is {condition:.3g}, and the rows are not kept "
                "(partial_fit keeps one QR factor of them), so the QR solution cannot be "
                f"refined: it may have only about {max(digits, 0):.0f} correct significant "
                f"digits of 16 (lost about {16 - max(digits, 0):.0f}). A fit on rows that can "
                "be read again (arrays, a linreg.sources source, Dask) refines it.",
                IllConditionedWarning)
        return solution
    if not condition > REFINE_MIN_CONDITION:
        return solution
    k = solution.theta.shape[1]
    shift = np.zeros(k) if y_shift is None or not icpt else np.asarray(y_shift, dtype=np.float64)
    # x in the factor's coordinates (the intercept first, on the shifted target, then θ), kept
    # as a double-double pair: the corrections can then take it past float64's last bit
    x = dd_from(np.vstack([solution.beta[None, :] - shift, solution.theta]) if icpt
                else solution.theta)
    # sizes are measured in equilibrated units, where every column counts alike
    col = np.linalg.norm(R11, axis=0)[:, None]
    penalty = two_product(float(weight_sum), float(alpha)) if alpha > 0 else None
    a_priori_rate = min(0.5, CONTRACTION_FACTOR * condition ** 2 * EPS)
    passes, previous = 0, np.inf
    while passes < max_passes:
        g = normal_residual_pass(rows, design, shift if icpt else None, x)
        passes += 1
        if penalty is not None:
            ridge = dd_multiply(penalty, (x[0][icpt:], x[1][icpt:]))
            g_theta = dd_add((g[0][icpt:], g[1][icpt:]), dd_negate(ridge))
            g = (np.vstack([g[0][:icpt], g_theta[0]]), np.vstack([g[1][:icpt], g_theta[1]]))
        u = scipy.linalg.solve_triangular(R11, dd_to_float(g), trans="T", check_finite=False)
        dx = scipy.linalg.solve_triangular(R11, u, check_finite=False)
        size = (np.linalg.norm(dx * col)
                / max(np.linalg.norm(x[0] * col), np.finfo(float).tiny))
        if not size < previous:      # growing (or not finite): the iteration cannot help
            break
        x = dd_add(x, (dx, np.zeros_like(dx)))
        # the next correction would be about rate·size: stop when that is below ε (no pass
        # is spent only to confirm it), or when the corrections stop shrinking (rounding
        # noise of the residuals: the accuracy the double-double sums allow is reached)
        rate = a_priori_rate if passes == 1 else size / previous
        if size <= EPS or rate * size <= EPS or size >= 0.5 * previous:
            break
        previous = size
    if icpt:
        theta = dd_to_float((x[0][1:], x[1][1:]))
        beta = dd_to_float(dd_add((x[0][0], x[1][0]), dd_from(shift)))
    else:
        theta, beta = dd_to_float(x), np.zeros(k)
    return Solution(theta, beta, solution.rank, solution.dependent_columns, passes)


# ----------------------------------------------------------------------------- no rows to read
def unrefined_qr_digits(factor: np.ndarray, R11: np.ndarray, solution: Solution, y_shift,
                        condition: float) -> float:
    """Estimated correct significant digits of a solution taken from a QR factor without
    refinement: ``−log10(ε(κ + κ²η))`` with ``η = ‖r‖/(‖A‖‖x‖)``, the first-order
    perturbation bound of least squares (Wedin) for a backward-stable solution, measured in
    equilibrated units (columns of unit norm, where ``κ`` is measured).  ``‖r‖`` is read off
    the factor (its rows below ``R₁₁``).

    Measured on the polynomial designs of degree 5–8 and the collinear economic series
    (``partial_fit`` in three chunks, both orders, six noise draws each, κ 1.6e3–3.4e5):
    the digits reached were at least the estimate minus 0.45.
    """
    p = R11.shape[0]
    col = np.linalg.norm(R11, axis=0)
    col[~(col > 0)] = 1.0
    icpt = solution.theta.shape[0] < p
    x = np.vstack([solution.beta[None, :] - (0.0 if y_shift is None else y_shift),
                   solution.theta]) if icpt else solution.theta
    residual = np.linalg.norm(factor[p:, p:]) if factor.shape[0] > p else 0.0
    size = np.linalg.norm(R11 / col, 2) * np.linalg.norm(x * col[:, None])
    eta = residual / size if size > 0 else 0.0
    return float(-np.log10(EPS * (condition + condition ** 2 * eta)))


def normal_equations_digits(condition: float) -> float:
    """Estimated correct significant digits of the normal equations' solution,
    ``−log10(κ²ε)`` (their relative error is about ``κ(G)·ε = κ²ε``).

    Measured (``partial_fit`` with only the statistics, and the in-memory normal
    equations): 9.2–10.5 digits at κ = 1.6e3 (estimate 9.2), 8.0–8.9 at κ = 1.6e4 (7.2).
    """
    return float(-np.log10(condition ** 2 * EPS))


def warn_statistics_only(condition: float) -> None:
    """The :class:`~linreg.exceptions.IllConditionedWarning` of ``solver="auto"`` when only
    the sufficient statistics are kept (``partial_fit``, ``merge``): the normal equations
    are all it can solve, and the condition number says they lose digits.  Warns when the
    estimate (:func:`normal_equations_digits`), less one digit of margin, is below
    :data:`PROMISED_DIGITS` — for ``"auto"``, whenever it would have chosen QR."""
    if not np.isfinite(condition):       # rank-deficient: the RankDeficiencyWarning says it
        return
    digits = normal_equations_digits(condition)
    if digits - 1 < PROMISED_DIGITS:
        warn_user(
            f"the design's condition number is {condition:.3g} and only the sufficient "
            "statistics are kept here (partial_fit, merge), so the normal equations may have "
            f"only about {max(digits, 0):.0f} correct significant digits of 16 (lost about "
            f"{16 - max(digits, 0):.0f}); partial_fit with solver='qr' keeps a QR factor, which "
            "loses about half as many, and a fit on rows that can be read again refines the "
            "QR to full accuracy.", IllConditionedWarning)
