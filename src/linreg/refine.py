"""Iterative refinement of the streamed QR solution, for rows that can be read again (files,
Dask): corrected semi-normal equations (Björck, 1987), one pass over the rows per step.

The streamed QR (:func:`linreg.closed_form.streamed_qr_factor`, TSQR) keeps only the
triangular factor ``R`` of ``[A, b]`` (``A = √s·[1, X̃]``, ``b = √s·(y − y_shift)``).  Its
solution ``x₀ = R₁₁⁻¹z`` is backward stable, with a relative error of about

    ε·(κ + κ²·‖r‖/(‖A‖‖x‖))        (κ of the column-equilibrated design, ε = 2⁻⁵²),

a few digits short of what the in-memory QR reaches by refining from the rows
(:func:`linreg.closed_form.solve_qr`).  Each refinement step here is one more pass over the
rows, block by block where they live (:meth:`linreg.rows.Rows.map_blocks`):

    r = b − A x                       residuals, in extended precision (numpy.longdouble),
                                      straight from the original rows
    g = Aᵀ r − n_w α [0; θ]           each block's partial sum sent back as two float64
                                      arrays (hi + lo), added up in extended precision
    R₁₁ᵀ R₁₁ δx = g                   two triangular solves with the factor already kept
    x ← x + δx

``R₁₁ᵀR₁₁`` equals ``AᵀA + n_w α [0, I]`` up to ``ε‖A‖²``, so each step shrinks the error
by a factor of about ``κ²ε`` (at most about 2e-4 for a design the rank decision calls full
rank, ``κ < 1e6``), and the fixed point ``g = 0`` is the exact normal equations of the
exact transformed problem: the rounding of ``A`` in the factor does not remain in the
answer.  The steps stop when the next correction would fall below the working precision
``ε`` (relative, in equilibrated units; the rate estimated as ``100·κ²ε`` after the first
step, from the last two corrections after that), so no pass is spent only to confirm
convergence, or when the corrections stop shrinking to half the previous one (the rounding
of the extended-precision residuals is reached); a correction that grows is not applied.
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
from .exceptions import IllConditionedWarning, warn_user
from .parallel import map_row_pieces
from .stats import BLOCK_ROWS

__all__ = [
    "MAX_REFINEMENT_PASSES",
    "PROMISED_DIGITS",
    "REFINE_MIN_CONDITION",
    "normal_equations_digits",
    "normal_residual_block",
    "refine_qr_solution",
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
#: at most this many refinement passes (one or two suffice on every design tried)
MAX_REFINEMENT_PASSES = 10
#: a step multiplies the error by at most about ``CONTRACTION_FACTOR·κ²ε`` (Björck's bound
#: for the corrected semi-normal equations is ``c·κ²ε`` with a modest ``c``; measured on the
#: polynomial designs of degree 5–8, κ up to 3.4e5, the second correction was at most
#: 7e-4 of the first, i.e. ``c ≤ 30``)
CONTRACTION_FACTOR = 100.0


def normal_residual_block(block, index, design: Design, y_shift, x: tuple):
    """``Aᵀ(b − A x)`` for the rows of one block ``(X, Y, w)``, in extended precision,
    returned as ``(hi, lo)``: two float64 arrays of shape (p, k) whose exact sum is the
    extended-precision result (portable between machines, unlike a pickled longdouble).

    ``A = √s·[1, X̃]``, ``b = √s·(y − y_shift)``, ``X̃ = (X − shift)/scale`` of ``design``;
    ``x = (hi, lo)``, ``[β; θ]`` (or ``θ`` without an intercept) as two float64 arrays.
    Computed in ``numpy.longdouble`` from the block's own values, as
    ``r = (y − y_shift − β) − (X − shift)·u`` with ``u = θ/scale`` and
    ``Aᵀ(b − Ax) = [Σ s r; ((X − shift)ᵀ s r)/scale]``: the one operation on every value of
    ``X`` is the exact ``X − shift``, and no weight's square root is taken.  ``index`` (the
    block's number) is unused: the signature is that of :meth:`linreg.rows.Rows.map_blocks`.
    The rows are taken ``BLOCK_ROWS`` at a time, in pieces on threads
    (:mod:`linreg.parallel`), summed in order.
    """
    X, Y, w = block
    ld = np.longdouble
    Y = np.asarray(Y)
    Y = Y[:, None] if Y.ndim == 1 else Y
    icpt = 1 if design.fit_intercept else 0
    x_ld = x[0].astype(ld) + x[1].astype(ld)
    u = x_ld[icpt:] / design.scale.astype(ld)[:, None]
    offset = (np.zeros(Y.shape[1], dtype=ld) if y_shift is None
              else np.asarray(y_shift, dtype=np.float64).astype(ld))
    if icpt:
        offset = offset + x_ld[0]
    shift = design.shift.astype(ld) if np.any(design.shift != 0) else None
    single = Y.shape[1] == 1

    def piece(start: int, stop: int) -> np.ndarray:
        g = np.zeros(x_ld.shape, dtype=ld)
        for lo in range(start, stop, BLOCK_ROWS):
            hi = min(lo + BLOCK_ROWS, stop)
            D = (np.subtract(X[lo:hi], shift, dtype=ld) if shift is not None
                 else np.asarray(X[lo:hi], dtype=ld))
            r = np.subtract(Y[lo:hi], offset, dtype=ld)
            if single:       # a matrix-vector product: numpy's fastest loop for longdouble
                r[:, 0] -= np.dot(D, u[:, 0])
            else:
                r -= D @ u
            if w is not None:
                r *= np.asarray(w[lo:hi], dtype=np.float64).astype(ld)[:, None]
            if icpt:
                g[0] += r.sum(axis=0)
            g[icpt:] += np.dot(r[:, 0], D)[:, None] if single else np.einsum("ij,ik->jk", D, r)
        return g

    g = functools.reduce(np.add, map_row_pieces(piece, X.shape[0], BLOCK_ROWS),
                         np.zeros(x_ld.shape, dtype=ld))
    g[icpt:] /= design.scale.astype(ld)[:, None]
    hi = g.astype(np.float64)
    return hi, (g - hi).astype(np.float64)


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
    ld = np.longdouble
    shift = np.zeros(k) if y_shift is None or not icpt else np.asarray(y_shift, dtype=np.float64)
    # x in the factor's coordinates (the intercept first, on the shifted target, then θ), kept
    # in extended precision: the corrections can then take it past float64's last bit
    x = (np.vstack([solution.beta[None, :] - shift, solution.theta]) if icpt
         else solution.theta).astype(ld)
    # sizes are measured in equilibrated units, where every column counts alike
    col = np.linalg.norm(R11, axis=0)[:, None]
    penalty = ld(weight_sum) * ld(alpha) if alpha > 0 else None
    a_priori_rate = min(0.5, CONTRACTION_FACTOR * condition ** 2 * EPS)
    passes, previous = 0, np.inf
    while passes < max_passes:
        hi = x.astype(np.float64)
        parts = rows.map_blocks(functools.partial(
            normal_residual_block, design=design, y_shift=shift if icpt else None,
            x=(hi, (x - hi).astype(np.float64))))
        passes += 1
        g = np.zeros(x.shape, dtype=ld)
        for g_hi, g_lo in parts:
            g += g_hi.astype(ld)
            g += g_lo.astype(ld)
        if penalty is not None:
            g[icpt:] -= penalty * x[icpt:]
        u = scipy.linalg.solve_triangular(R11, g.astype(np.float64), trans="T",
                                          check_finite=False)
        dx = scipy.linalg.solve_triangular(R11, u, check_finite=False)
        size = (np.linalg.norm(dx * col)
                / max(np.linalg.norm(x.astype(np.float64) * col), np.finfo(float).tiny))
        if not size < previous:      # growing (or not finite): the iteration cannot help
            break
        x = x + dx.astype(ld)
        # the next correction would be about rate·size: stop when that is below ε (no pass
        # is spent only to confirm it), or when the corrections stop shrinking (rounding
        # noise of the residuals: the accuracy the extended precision allows is reached)
        rate = a_priori_rate if passes == 1 else size / previous
        if size <= EPS or rate * size <= EPS or size >= 0.5 * previous:
            break
        previous = size
    if icpt:
        theta, beta = x[1:].astype(np.float64), (x[0] + shift.astype(ld)).astype(np.float64)
    else:
        theta, beta = x.astype(np.float64), np.zeros(k)
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
