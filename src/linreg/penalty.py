"""The L2 penalty ``(α/2)‖w‖²``, in one place: its value, and what it adds to the gradient,
to the normal equations and to the least-squares rows.  The intercept is never penalised.
(:mod:`linreg.objective` re-exports these; the compiled stochastic kernels of
:mod:`linreg.stochastic` add the gradient ``αw`` inline, as compiled code must.)"""

from __future__ import annotations

import numpy as np

__all__ = ["l2_penalty", "l2_gradient", "l2_curvature", "l2_rows"]


def l2_penalty(w, alpha: float) -> float:
    """``(α/2)‖w‖²`` (summed over the targets)."""
    return 0.5 * alpha * float(np.sum(w * w))


def l2_gradient(w, alpha: float):
    """``∇_w (α/2)‖w‖² = α w``."""
    return alpha * w


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


