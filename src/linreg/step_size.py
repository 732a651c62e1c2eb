"""Step sizes: the step ``learning_rate="auto"`` chooses, and the curvature scale the stopping
rule measures the gradient in.

Full-batch ``"gd"`` needs the loss's curvature ``L = λ_max(H)`` (from the statistics or, without
them, from the rows by Lanczos: :mod:`linreg.training_objective`).  The stochastic solvers need
only what the rows give in O(nnz): the largest and the mean one-sample curvature (row norms in
the design's coordinates), and the targets' spread for Adam — never the Gram matrix, so the
step does not depend on whether a fit formed it.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .optimizers import Optimizer

__all__ = ["auto_learning_rate", "gradient_scale", "ADAM_FULL_BATCH_STEP",
           "ADAM_STOCHASTIC_STEP"]

#: Adam's automatic step, as a fraction of the targets' spread: full batch, stochastic
ADAM_FULL_BATCH_STEP, ADAM_STOCHASTIC_STEP = 0.1, 0.01


def auto_learning_rate(solver: str, optimizer: Optimizer, alpha: float, batch_size: int,
                       n_rows: int, target_spread: float, lipschitz: float | None = None,
                       max_curvature: Callable[[], float] | None = None,
                       mean_curvature: float | None = None) -> float:
    """The step ``learning_rate="auto"`` chooses.

    * ``"gd"``: ``1/L``, ``L = λ_max`` of the Hessian (``lipschitz``).
    * ``"sgd"``/``"minibatch"`` with batch ``B`` of ``n`` rows: ``1/L_B`` with the expected
      smoothness of B-row sampling (Gower et al., 2019)::

          L_B = (n − B)/(B(n − 1)) · L_max + n(B − 1)/(B(n − 1)) · L̄

      where ``L_max = max_i (s_i/s̄)(‖x̃_i‖² + 1) + α`` is the largest one-sample curvature
      (``max_curvature()``, one pass over the rows) and ``L̄ = (1/n_w) Σ s_i (‖x̃_i‖² + 1) + α``
      the mean one (``mean_curvature``, from the columns' means and variances), which bounds
      the full-batch ``L`` (the trace of a positive semidefinite matrix bounds its largest
      eigenvalue): ``L_1 = L_max`` (SGD); a large batch gets ``L̄``.  (The ``+ 1`` is there
      only with an intercept.)
    * momentum and Nesterov multiply the stochastic step by ``1 − μ`` (their effective step
      is ``η/(1 − μ)``); for ``"gd"`` they keep ``1/L``, which is stable for them.
    * Adam moves each coordinate by about ``η`` per step whatever the gradient's size, so
      its step is a length: a fraction of the targets' spread ``target_spread`` (the scale of
      the solution in standardized units) — ``0.1×`` for ``"gd"``, ``0.01×`` for the
      stochastic solvers (whose noise the plateau schedule then damps).  Kingma & Ba's usual
      ``1e-3`` needs far more than 200 epochs on small data.
    """
    if optimizer.name == "adam":
        return (ADAM_FULL_BATCH_STEP if solver == "gd" else ADAM_STOCHASTIC_STEP) * target_spread
    if solver == "gd":
        return 1.0 / lipschitz
    B, n = min(batch_size, n_rows), n_rows
    L_max = max_curvature() + alpha
    if n > 1 and B > 1:
        L_mean = mean_curvature + alpha
        L_B = (n - B) / (B * (n - 1)) * L_max + n * (B - 1) / (B * (n - 1)) * L_mean
    else:
        L_B = L_max
    lr = 1.0 / max(L_B, np.finfo(float).tiny)
    if optimizer.name in ("momentum", "nesterov"):
        lr *= 1.0 - optimizer.momentum
    return lr


def gradient_scale(curvature: np.ndarray, k: int) -> np.ndarray:
    """``D^{-1/2}``, flat like ``[θ.ravel(), β]``, from the Hessian's diagonal for ``θ``
    (``curvature``, (d,): ``G_jj/n_w + x̄_j² + α``; 1 for ``β``); 1 where it is 0."""
    with np.errstate(divide="ignore", over="ignore"):
        inv = np.where(curvature > 0, 1.0 / np.sqrt(curvature), 1.0)
    inv = np.where(np.isfinite(inv), inv, 1.0)
    return np.concatenate([np.repeat(inv, k), np.ones(k)])
