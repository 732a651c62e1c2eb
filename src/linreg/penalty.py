"""The L2 penalty ``(α/2)‖w‖²``, in one place: its value, and what it adds to the gradient,
to the normal equations and to the least-squares rows.  The intercept is never penalised.
(:mod:`linreg.objective` re-exports these; the compiled stochastic kernels of
:mod:`linreg.stochastic` add the gradient ``αw`` inline, as compiled code must.)

``α`` is a number, or one number per target (as scikit-learn's ``Ridge(alpha=array)``):
target ``j`` then has the penalty ``(α_j/2)‖w_j‖²``, and the value, the gradient and the
curvature below take ``α`` of shape (k,) against ``w`` of shape (d, k).  A closed form that
needs one ``α`` at a time (the normal equations, the ridge rows of QR) solves the targets in
groups of equal ``α`` (:func:`alpha_groups`).
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["l2_penalty", "l2_gradient", "l2_curvature", "l2_rows", "check_alpha",
           "alpha_per_target", "alpha_groups", "is_penalized", "largest_alpha",
           "smallest_alpha"]


def check_alpha(alpha):
    """``alpha`` checked: a finite number ≥ 0 (returned as a float), or a non-empty 1-D
    array-like of them, one per target (returned as a float array)."""
    if np.ndim(alpha) == 0:
        if (isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real)
                or not np.isfinite(alpha) or alpha < 0):
            raise ValueError(f"alpha={alpha!r} must be a finite number >= 0, or one such "
                             "number per target")
        return float(alpha)
    try:
        a = np.asarray(alpha, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"alpha={alpha!r} must be a finite number >= 0, or one such number "
                         "per target") from None
    if a.ndim != 1 or a.size == 0 or np.asarray(alpha).dtype.kind not in "iuf":
        raise ValueError(f"alpha={alpha!r} must be a number, or a 1-D array of numbers with "
                         "one per target")
    bad = np.flatnonzero(~np.isfinite(a) | (a < 0))
    if bad.size:
        raise ValueError(f"alpha[{bad[0]}]={float(a[bad[0]])!r}: every alpha must be a "
                         "finite number >= 0")
    return a


def alpha_per_target(alpha, n_targets: int):
    """The penalty of a fit with ``n_targets`` targets: a float when it is one number (or
    the same for every target), else an array of shape (k,) — checked against k."""
    a = check_alpha(alpha)
    if isinstance(a, float):
        return a
    if a.shape[0] != n_targets:
        raise ValueError(f"alpha has {a.shape[0]} values, one per target, but y has "
                         f"{n_targets} target(s)")
    return float(a[0]) if np.all(a == a[0]) else a


def alpha_groups(alpha, n_targets: int) -> list:
    """``[(α, targets), …]``: the targets (an index array) that share each value of ``α``."""
    if np.ndim(alpha) == 0:
        return [(float(alpha), np.arange(n_targets))]
    a = np.asarray(alpha, dtype=np.float64)
    return [(float(v), np.flatnonzero(a == v)) for v in np.unique(a)]


def is_penalized(alpha) -> bool:
    """Whether any target has ``α > 0``."""
    return bool(np.any(np.asarray(alpha, dtype=np.float64) > 0))


def largest_alpha(alpha) -> float:
    return float(np.max(alpha))


def smallest_alpha(alpha) -> float:
    return float(np.min(alpha))


def l2_penalty(w, alpha) -> float:
    """``Σ_j (α_j/2)‖w_j‖²`` (``(α/2)‖w‖²`` summed over the targets for one ``α``)."""
    if np.ndim(alpha) == 0:
        return 0.5 * alpha * float(np.sum(w * w))
    return 0.5 * float(np.sum(np.asarray(alpha) * (w * w)))


def l2_gradient(w, alpha):
    """``∇_w (α/2)‖w‖² = α w`` (column ``j`` times ``α_j`` for one ``α`` per target)."""
    return alpha * w if np.ndim(alpha) == 0 else np.asarray(alpha) * w


def l2_curvature(weight_sum: float, alpha: float) -> float:
    """What the penalty adds to each diagonal entry of the normal equations' matrix
    ``Σ s x̃x̃ᵀ``: ``n_w α`` (the Hessian of ``n_w J``)."""
    return weight_sum * alpha


def l2_rows(d: int, n_columns: int, first: int, weight_sum: float, alpha: float) -> np.ndarray:
    """Ridge as least squares: the rows ``√(n_w α)·[0, I, 0]`` (``I`` over the ``d``
    coefficient columns starting at column ``first``, of ``n_columns``) appended to the
    weighted design, since ``‖A x − b‖² + n_w α‖w‖²`` is the residual of the stacked system."""
    rows = np.zeros((d, n_columns))
    rows[:, first:first + d] = np.sqrt(weight_sum * alpha) * np.eye(d)
    return rows


