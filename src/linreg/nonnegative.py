"""Non-negative least squares from the sufficient statistics (``positive=True``), by Lawson
and Hanson's active-set method on the Gram matrix.

The problem in design coordinates (``θ = w·scale``, so ``θ ≥ 0`` exactly when ``w ≥ 0``)::

    min_θ ½ θᵀAθ − bᵀθ   subject to θ ≥ 0,     A = G + n_w α I,  b = c

(``G``, ``c`` centred with an intercept, which stays free and is ``β = ȳ − x̄ᵀθ``; uncentred
without).  It is the least-squares problem ``min ‖X̃θ − y‖²`` on the constraint set, so its
solution is that of ``scipy.optimize.nnls`` on the (centred, weighted) rows — and of
scikit-learn's ``LinearRegression(positive=True)`` — found without any pass over the data per
iteration: each step of the active set is one Cholesky solve of a principal submatrix of
``A`` (O(d³) at most), and the answer is the *exact* solution of the normal equations on the
final passive set (the KKT conditions, checked: the gradient is ≤ 0 on every coefficient held
at zero).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from .linalg import equilibrate

__all__ = ["lawson_hanson", "nnls_from_stats"]

EPS = np.finfo(np.float64).eps


def _passive_solve(S: np.ndarray, b: np.ndarray, passive: np.ndarray) -> np.ndarray:
    """``z`` with ``S_PP z_P = b_P`` on the passive set ``P`` and ``z = 0`` elsewhere
    (Cholesky; the minimum-norm least-squares solution if ``S_PP`` is singular)."""
    z = np.zeros_like(b)
    idx = np.flatnonzero(passive)
    if idx.size:
        sub = S[np.ix_(idx, idx)]
        try:
            z[idx] = scipy.linalg.cho_solve(scipy.linalg.cho_factor(sub, check_finite=False),
                                            b[idx], check_finite=False)
        except np.linalg.LinAlgError:
            z[idx] = np.linalg.lstsq(sub, b[idx], rcond=None)[0]
    return z


def lawson_hanson(S: np.ndarray, b: np.ndarray, tol: float,
                  max_iter: int | None = None) -> tuple[np.ndarray, bool]:
    """``argmin ½xᵀSx − bᵀx`` over ``x ≥ 0`` (``S`` symmetric positive semi-definite), by
    Lawson and Hanson's active set (NNLS, 1974, ch. 23) in its Gram form.  Returns
    ``(x, converged)``; ``tol`` is the gradient below which a coefficient held at zero stays
    there, ``max_iter`` (default ``3d``, as scipy) bounds the outer iterations.

    >>> S = np.array([[4.0, 0.0], [0.0, 1.0]]); b = np.array([2.0, -1.0])
    >>> lawson_hanson(S, b, 1e-12)[0].tolist()
    [0.5, 0.0]
    """
    n = b.shape[0]
    max_iter = 3 * n if max_iter is None else max_iter
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    grad = b.copy()                       # −∇ = b − S x
    for _ in range(max_iter):
        candidates = ~passive & (grad > tol)
        if not candidates.any():
            return x, True
        passive[np.argmax(np.where(candidates, grad, -np.inf))] = True
        z = _passive_solve(S, b, passive)
        # the inner loop: step towards z until a passive coefficient would turn negative
        while np.any(z[passive] <= 0):
            blocking = np.flatnonzero(passive & (z <= 0))
            ratios = x[blocking] / (x[blocking] - z[blocking])
            first = int(np.argmin(ratios))
            x = x + ratios[first] * (z - x)
            x[blocking[first]] = 0.0          # the first to reach the bound leaves exactly
            passive &= x > 0
            x[~passive] = 0.0
            z = _passive_solve(S, b, passive)
        x = z
        grad = b - S @ x
    return x, not np.any(~passive & (grad > tol))


def nnls_from_stats(ds, alpha) -> tuple[np.ndarray, np.ndarray, bool]:
    """``(θ, β, converged)`` of the non-negative fit from the design statistics ``ds``
    (one problem per target), ``alpha`` a number or one per target."""
    d, k = ds.cross.shape
    alphas = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (k,))
    rhs = ds.normal_rhs()
    theta = np.zeros((d, k))
    converged = True
    q = (np.diag(ds.target_comoment) if ds.fit_intercept
         else np.diag(ds.target_comoment) + ds.weight_sum * ds.mean_y**2)
    for j in range(k):
        A = ds.normal_matrix(float(alphas[j]))
        free = np.diag(A) > 0            # a column with no spread takes no part (θ = 0)
        if free.any():
            S, D = equilibrate(A[np.ix_(free, free)])
            bs = rhs[free, j] / D
            scale = max(float(np.max(np.abs(bs))), float(np.sqrt(max(q[j], 0.0))), 1e-300)
            z, ok = lawson_hanson(S, bs, 10.0 * max(d, 1) * EPS * scale)
            theta[free, j] = z / D
            converged &= ok
    beta = ds.mean_y - ds.mean_x @ theta if ds.fit_intercept else np.zeros(k)
    return theta, beta, converged
