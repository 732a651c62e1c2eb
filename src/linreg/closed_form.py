"""Closed-form solutions: the normal equations (Cholesky) and QR with iterative refinement.

Both minimise the objective of :mod:`linreg.objective` exactly, in design coordinates
``x̃ = (x − shift)/scale`` (see :class:`linreg.design.Design`).  Neither ever forms an inverse.

* :func:`solve_normal_equations` solves ``(G + n_w α I) θ = c`` from the sufficient
  statistics: fast (one pass over the data, then O(d³)), and accurate to about
  ``κ(G)·ε`` relative — where ``κ(G) = κ(X̃)²``.
* :func:`streamed_qr_factor` and :func:`solve_qr_factor` are the QR for rows that do not fit
  in memory (TSQR): the triangular factor of ``[A, b]`` is built block by block in one pass
  (or tree-reduced across a cluster), and the solution taken from it.
* :func:`solve_qr` factors the weighted design ``A = √s·[1, X̃]`` (with ``√(n_w α)·I`` rows
  appended for ridge) by Householder QR, then refines the solution of the augmented system
  ``[[I, A], [Aᵀ, 0]] [r; x] = [b; 0]`` (Björck) with residuals computed in extended
  precision, so its accuracy is about ``κ(X̃)·ε`` or better even when the residual is large.

Rank deficiency is detected in both and answered with the minimum-norm solution, with the
columns that take part in the dependency named.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

from .design import Design, DesignStats
from .linalg import equilibrate, factor_spd
from .penalty import alpha_groups, l2_rows, smallest_alpha
from .stats import BLOCK_ROWS
from .tsqr import merge_qr_factors, triangular_factor, weighted_design_block

__all__ = ["Solution", "solve_normal_equations", "solve_qr", "condition_number",
           "NORMAL_EQUATIONS_MAX_CONDITION", "solve_qr_factor", "least_squares_triangle"]

EPS = np.finfo(np.float64).eps

#: ``"auto"`` uses the normal equations while ``κ(G) = κ(X̃)²`` stays below this: their
#: relative error, about ``κ(G)·ε``, then stays below ~1e-10.
NORMAL_EQUATIONS_MAX_CONDITION = 1e6


@dataclass
class Solution:
    """Parameters in design coordinates and how they were obtained."""

    theta: np.ndarray                 # (d, k)
    beta: np.ndarray                  # (k,)
    rank: int
    dependent_columns: list[int] = field(default_factory=list)  # columns in a dependency
    refinement_steps: int = 0
    #: the iterative solvers' linreg.training_state.TrainingOutcome (state, why it stopped), and the
    #: TrainingSettings it ran with
    training: object = None
    settings: object = None
    #: a closed form's stop: "exact", or for LSQR "max_iter" when it did not converge
    stop_reason: str = "exact"
    n_iter: int = 1


def condition_number(ds: DesignStats, alpha=0.0) -> float:
    """2-norm condition number of the (column-equilibrated) design, ``√κ(G + n_w α I)``
    (with one ``α`` per target, the worst: the smallest ``α``).

    The normal equations lose about ``log10(κ²)`` digits; QR about ``log10(κ)``.
    Returns ``inf`` for a rank-deficient design.
    """
    if ds.gram.shape[0] == 0:
        return 1.0
    S, _ = equilibrate(ds.normal_matrix(smallest_alpha(alpha)))
    ev = np.linalg.eigvalsh(S)
    if ev[-1] <= 0:
        return float("inf")
    if ev[0] <= ev[-1] * S.shape[0] * EPS:
        return float("inf")
    return float(np.sqrt(ev[-1] / ev[0]))


def _dependent(null_vectors: np.ndarray, tol: float = 1e-6) -> list[int]:
    if null_vectors.size == 0:
        return []
    weight = np.max(np.abs(null_vectors), axis=1)
    return [int(j) for j in np.flatnonzero(weight > tol)]


def _by_alpha(alpha, k: int, solve_one) -> Solution:
    """One solution for one ``α`` per target: ``solve_one(α, targets)`` for each group of
    targets sharing a value (:func:`linreg.penalty.alpha_groups`), put together."""
    parts = [(idx, solve_one(a, idx)) for a, idx in alpha_groups(alpha, k)]
    d = parts[0][1].theta.shape[0]
    theta, beta = np.zeros((d, k)), np.zeros(k)
    for idx, sol in parts:
        theta[:, idx], beta[idx] = sol.theta, sol.beta
    dependent = sorted({j for _, sol in parts for j in sol.dependent_columns})
    return Solution(theta, beta, min(sol.rank for _, sol in parts), dependent,
                    max(sol.refinement_steps for _, sol in parts))


def _targets(ds: DesignStats, idx: np.ndarray) -> DesignStats:
    """The design statistics of the targets ``idx`` only."""
    return dataclasses.replace(ds, cross=ds.cross[:, idx],
                               target_comoment=ds.target_comoment[np.ix_(idx, idx)],
                               mean_y=ds.mean_y[idx])


def solve_normal_equations(ds: DesignStats, alpha=0.0, identification=None,
                           design_scale=None) -> Solution:
    """Solve ``(G + n_w x̄x̄ᵀ + n_w α I) θ = c + n_w x̄ȳᵀ`` by Cholesky; ``β = ȳ − x̄ᵀθ``.

    (With an intercept the design is centred, ``x̄ = 0``, and this is ``(G + n_w α I) θ = c``.)
    The matrix is equilibrated to unit diagonal first.  When ``identification`` (the rank
    decision of :func:`linreg.rank.identify`) says the unpenalized design is rank-deficient,
    the minimum-norm solution is taken from its eigendecomposition instead
    (``design_scale``: the design's column scales, ``θ = scale·w``).

    Equals :func:`linreg.textbook.normal_equation` on the design's rows (tested in
    tests/test_textbook.py).  ``alpha`` may hold one value per target (one solve per value).
    """
    d, k = ds.cross.shape
    if np.ndim(alpha) > 0:
        return _by_alpha(alpha, k, lambda a, idx: solve_normal_equations(
            _targets(ds, idx), a, identification, design_scale))
    rhs = ds.normal_rhs()
    if d == 0:
        theta = np.zeros((0, k))
        return Solution(theta, _intercept(ds, theta), 0)
    if alpha == 0 and identification is not None and not identification.full_rank:
        theta = identification.minimum_norm(rhs, design_scale)
        return Solution(theta, _intercept(ds, theta), identification.rank_x,
                        identification.dependent_features)
    try:
        C, scale, rcond = factor_spd(ds.normal_matrix(alpha))
    except np.linalg.LinAlgError:
        rcond = 0.0
    if rcond > d * EPS:
        rhs_s = rhs / scale[:, None]
        theta = scipy.linalg.cho_solve((C, False), rhs_s, check_finite=False) / scale[:, None]
        return Solution(theta, _intercept(ds, theta), d)
    # Singular to working precision although no rank decision says so (a penalty too small
    # to matter, or no decision given): the minimum-norm solution of the unequilibrated system.
    A = ds.normal_matrix(alpha)
    ev, V = np.linalg.eigh(A)
    tol = ev[-1] * d * EPS * 10
    keep = ev > tol
    theta = V[:, keep] @ ((V[:, keep].T @ rhs) / ev[keep][:, None])
    return Solution(theta, _intercept(ds, theta), int(keep.sum()), _dependent(V[:, ~keep]))


def _intercept(ds: DesignStats, theta: np.ndarray) -> np.ndarray:
    if not ds.fit_intercept:
        return np.zeros(theta.shape[1])
    return ds.mean_y - ds.mean_x @ theta


def solve_qr(X, Y, design: Design, alpha: float = 0.0, sample_weight=None,
             weight_sum: float | None = None, max_refinements: int = 10,
             n_null: int | None = None) -> Solution:
    """Least squares by Householder QR of ``A = √s·[1, X̃]`` with iterative refinement.
    Equals :func:`linreg.textbook.normal_equation` on the design's rows (tested in
    tests/test_textbook.py).

    Ridge is the same least-squares problem with rows ``√(n_w α)·[0, I]`` appended.
    The refinement solves the augmented system ``r + A x = b``, ``Aᵀ r = 0`` for corrections
    with the QR factors, computing the residuals ``f = b − r − A x`` and ``g = −Aᵀ r`` in
    extended precision (``numpy.longdouble``) straight from the original ``X``, so the answer
    is that of the exact transformed problem, not of its rounded copy.

    With an intercept, ``y`` is shifted by its (weighted) mean first, so a large offset in
    ``y`` does not eat the digits of the residuals.  The columns of ``A`` are equilibrated
    (scaled to unit norm) before factoring, so the numerical rank does not depend on the
    units of the columns: a column of values near 1e-150 next to the intercept column is not
    mistaken for zero.  When ``A`` is rank-deficient, the minimum-norm solution is that of the
    unequilibrated design (as :func:`solve_normal_equations` gives).  ``n_null``, the number of
    null directions the rank decision (:func:`linreg.rank.identify`) found, decides the rank
    of an unpenalized fit; without it the pivoted factor's diagonal does.
    """
    n, d = X.shape
    k = Y.shape[1]
    if np.ndim(alpha) > 0:            # one α per target: one factorization per value
        return _by_alpha(alpha, k, lambda a, idx: solve_qr(
            X, Y[:, idx], design, a, sample_weight, weight_sum, max_refinements, n_null))
    sqrt_w = None if sample_weight is None else np.sqrt(np.asarray(sample_weight, dtype=np.float64))
    n_w = float(n if sample_weight is None else np.sum(sample_weight)) if weight_sum is None else weight_sum
    icpt = 1 if design.fit_intercept else 0
    p = d + icpt
    ridge = alpha > 0 and d > 0
    ridge_scale = np.sqrt(n_w * alpha) if ridge else 0.0

    y_shift = None
    if design.fit_intercept and n > 0:
        y_shift = (np.mean(np.asarray(Y, dtype=np.float64), axis=0) if sample_weight is None
                   else np.asarray(sample_weight, dtype=np.float64) @ np.asarray(Y, dtype=np.float64) / n_w)
    A, b = weighted_design_block(X, Y, sqrt_w, design, 0, n, np.float64, y_shift)
    if ridge:
        A = np.vstack([A, l2_rows(d, p, icpt, n_w, alpha)])
        b = np.vstack([b, np.zeros((d, k))])
    m = A.shape[0]
    if p == 0:
        return Solution(np.zeros((0, k)), np.zeros(k), 0)
    col_scale = _equilibrate_columns(A)
    Q, R, perm = scipy.linalg.qr(A, mode="economic", pivoting=True, check_finite=False)
    del A
    diag = np.abs(np.diag(R))
    tol = max(m, p) * EPS * (diag[0] if diag.size else 0.0)
    rank = int(np.sum(diag > tol))
    decided = n_null is not None and not ridge
    if decided:
        rank = p - n_null
    if rank < min(m, p) or m < p:
        # Rank-deficient: the minimum-norm solution via the SVD of R, in the units of the
        # design (A P = Q R diag(col_scale[perm]) for the unequilibrated A).
        R = R * col_scale[perm][None, :]
        U, sv, Vt = np.linalg.svd(R, full_matrices=True)
        rtol = max(m, p) * EPS * (sv[0] if sv.size else 0.0)
        r_keep = rank if decided else int(np.sum(sv > rtol))
        coeffs = Q.T @ b
        Uk = U[:, :r_keep]
        xp = Vt[:r_keep].T @ ((Uk.T @ coeffs[: U.shape[0]]) / sv[:r_keep][:, None])
        x = np.empty_like(xp)
        x[perm] = xp
        null = np.zeros((p, p - r_keep))
        null[perm] = Vt[r_keep:].T
        dependent = [j - icpt for j in _dependent(null) if j >= icpt]
        if y_shift is not None:
            x[0] += y_shift
        return Solution(*_split(x, icpt, k), r_keep - icpt, dependent, 0)

    def solve_augmented(f, g):
        """Corrections (δr, δx) of ``δr + A δx = f``, ``Aᵀ δr = g``, with ``A P = Q R C``
        (``C = diag(col_scale)``): solved for ``C δx``, with ``(AC⁻¹)ᵀ δr = C⁻¹ g``."""
        u = scipy.linalg.solve_triangular(R, (g / col_scale[:, None])[perm], trans="T",
                                          check_finite=False)
        Qf = Q.T @ f
        dxp = scipy.linalg.solve_triangular(R, Qf - u, check_finite=False)
        dx = np.empty_like(dxp)
        dx[perm] = dxp
        return Q @ (u - Qf) + f, dx / col_scale[:, None]

    r, x = solve_augmented(b, np.zeros((p, k)))
    steps = 0
    prev = np.inf
    for steps in range(1, max_refinements + 1):  # noqa: B007 (the count is returned)
        f, g = _augmented_residuals(X, Y, sqrt_w, design, ridge_scale if ridge else None, x, r,
                                    y_shift)
        dr, dx = solve_augmented(f, g)
        r = r + dr
        x = x + dx
        # the size of the correction in equilibrated units, where every column counts alike
        size = (np.linalg.norm(dx * col_scale[:, None])
                / max(np.linalg.norm(x * col_scale[:, None]), np.finfo(float).tiny))
        if size <= EPS or size >= 0.5 * prev:
            break
        prev = size
    if y_shift is not None:
        x[0] += y_shift
    return Solution(*_split(x, icpt, k), rank - icpt, [], steps)


def _equilibrate_columns(A: np.ndarray) -> np.ndarray:
    """Scale the columns of ``A`` to unit 2-norm in place; return the scales (1 for a zero
    column).  The norm is taken after dividing by the column's largest entry, so it neither
    overflows nor underflows whatever the magnitudes."""
    peak = np.max(np.abs(A), axis=0) if A.shape[0] else np.ones(A.shape[1])
    peak[~(peak > 0)] = 1.0
    A /= peak
    norm = np.linalg.norm(A, axis=0)
    norm[~(norm > 0)] = 1.0
    A /= norm
    return peak * norm


def _split(x, icpt, k):
    beta = x[0] if icpt else np.zeros(k)
    return (x[icpt:], beta)


def _augmented_residuals(X, Y, sqrt_w, design, ridge_scale, x, r, y_shift=None):
    """``f = b − r − A x`` and ``g = −Aᵀ r`` in extended precision, in row blocks."""
    n = X.shape[0]
    ld = np.longdouble
    x_ld = x.astype(ld)
    f = np.empty_like(r)
    g = np.zeros(x.shape, dtype=ld)
    for start in range(0, n, BLOCK_ROWS):
        stop = min(start + BLOCK_ROWS, n)
        Ab, bb = weighted_design_block(X, Y, sqrt_w, design, start, stop, ld, y_shift)
        rb = r[start:stop].astype(ld)
        f[start:stop] = (bb - rb - Ab @ x_ld).astype(np.float64)
        g -= Ab.T @ rb
    if ridge_scale is not None:
        d = X.shape[1]
        icpt = x.shape[0] - d
        rb = r[n:].astype(ld)
        theta = x_ld[icpt:]
        f[n:] = (-rb - ld(ridge_scale) * theta).astype(np.float64)
        g[icpt:] -= ld(ridge_scale) * rb
    return f, g.astype(np.float64)


# ----------------------------------------------------------------------------- TSQR
def least_squares_triangle(R: np.ndarray, design: Design, alpha: float,
                           weight_sum: float) -> tuple[np.ndarray, np.ndarray]:
    """``(R₁₁, z)`` of the factor ``R = [[R₁₁, z], [0, ·]]`` of ``[A, b]``, ``R₁₁`` (p, p):
    ``min ‖A x − b‖² = min ‖R₁₁ x − z‖² + const``.  Ridge first appends the rows
    ``√(n_w α)·[0, I | 0]`` and factors once more, so ``R₁₁ᵀR₁₁ = AᵀA + n_w α [0, I]``."""
    d = design.shift.shape[0]
    icpt = 1 if design.fit_intercept else 0
    p = d + icpt
    k = R.shape[1] - p
    if alpha > 0 and d > 0:
        R = merge_qr_factors(R, l2_rows(d, p + k, icpt, weight_sum, alpha))
    if p == 0:
        return Solution(np.zeros((0, k)), np.zeros(k), 0)
    R11 = np.zeros((p, p))
    z = np.zeros((p, k))
    m = min(R.shape[0], p)
    R11[:m] = R[:m, :p]
    z[:m] = R[:m, p:]
    return R11, z


def solve_qr_factor(R: np.ndarray, design: Design, alpha: float, weight_sum: float,
                    n_rows: int, y_shift=None, n_null: int | None = None) -> Solution:
    """Least squares from the factor ``R = [[R₁₁, z], [0, ·]]`` of ``[A, b]``:
    ``min ‖A x − b‖² = min ‖R₁₁ x − z‖² + const``, so ``x = R₁₁⁺ z``
    (:func:`least_squares_triangle`; ridge appends its rows to ``R`` first).

    Full rank: ``x = R₁₁⁻¹ z`` by back substitution, which is backward stable and, unlike an
    SVD of ``R₁₁``, indifferent to the units of the columns.  Rank-deficient: the minimum-norm
    solution from the SVD of ``R₁₁``.  Accuracy is about ``κ(A)·ε`` (plus ``κ²ε`` times the
    relative residual); :func:`linreg.refine.refine_qr_solution` refines it with more passes
    over the rows when they can be read again.  The rank is decided on the column-equilibrated
    ``R₁₁`` (the units of the columns do not matter), or by ``n_null`` (from
    :func:`linreg.rank.identify`) for an unpenalized fit, as in :func:`solve_qr`.
    ``y_shift`` (the target mean, with an intercept) is the shift the factor was built with:
    it is added back to the intercept.
    """
    d = design.shift.shape[0]
    icpt = 1 if design.fit_intercept else 0
    p = d + icpt
    if p == 0:
        return Solution(np.zeros((0, R.shape[1])), np.zeros(R.shape[1]), 0)
    k = R.shape[1] - p
    if np.ndim(alpha) > 0:
        # one α per target: the factor of [A, b_j] (the targets' columns chosen, made
        # triangular again) for each group of targets sharing a value
        def one(a, idx):
            cols = np.r_[np.arange(p), p + idx]
            return solve_qr_factor(triangular_factor(R[:, cols]), design, a, weight_sum, n_rows,
                                   None if y_shift is None else y_shift[idx], n_null)
        return _by_alpha(alpha, k, one)
    R11, z = least_squares_triangle(R, design, alpha, weight_sum)
    if n_null is not None and alpha == 0:
        keep = p - n_null
    else:
        col = np.linalg.norm(R11, axis=0)
        col[~(col > 0)] = 1.0
        sv = np.linalg.svd(R11 / col, compute_uv=False)
        keep = int(np.sum(sv > max(n_rows, p) * EPS * (sv[0] if sv.size else 0.0)))
    if keep == p and np.all(np.diag(R11) != 0):
        x = scipy.linalg.solve_triangular(R11, z, check_finite=False)
        dependent = []
    else:
        U, sv, Vt = np.linalg.svd(R11)
        x = Vt[:keep].T @ ((U[:, :keep].T @ z) / sv[:keep][:, None])
        dependent = [j - icpt for j in _dependent(Vt[keep:].T) if j >= icpt]
    if y_shift is not None and icpt:
        x[0] += y_shift
    return Solution(*_split(x, icpt, z.shape[1]), keep - icpt, dependent, 0)
