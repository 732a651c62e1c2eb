"""Training loops.

:func:`full_batch_descent` runs any optimizer of :mod:`linreg.optimizers` on the exact
full-batch gradient — from the sufficient statistics (O(d²k) per iteration) or from the
rows (O(ndk)); the loop does not know which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .exceptions import DivergenceError
from .optimizers import Optimizer

__all__ = ["DescentResult", "full_batch_descent", "divergence_message"]

#: the loss may grow by this factor over its starting value before training counts as diverged
DIVERGENCE_FACTOR = 1e10


@dataclass
class DescentResult:
    theta: np.ndarray
    beta: np.ndarray
    n_iter: int
    converged: bool
    loss_history: list[float] = field(default_factory=list)
    grad_norm_history: list[float] = field(default_factory=list)
    learning_rate: float = 0.0


def divergence_message(method: str, iteration: int, start: float, now: float, lr: float,
                       lipschitz: float | None) -> str:
    bound = (f" For this data the loss's curvature is L = {lipschitz:.4g}, so plain gradient "
             f"descent is stable only for learning_rate < 2/L = {2 / lipschitz:.4g}."
             if lipschitz else "")
    return (f"{method} diverged at iteration {iteration}: the loss went from {start:.4g} to "
            f"{now:.4g} with learning_rate={lr:.4g}.{bound} Use learning_rate='auto' (a step "
            "that is safe for this data), a smaller learning rate, or standardize=True.")


def full_batch_descent(
    loss_fn: Callable[[np.ndarray, np.ndarray], float],
    grad_fn: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    theta0: np.ndarray,
    beta0: np.ndarray,
    fit_intercept: bool,
    learning_rate: float,
    max_iter: int,
    tol: float,
    optimizer: Optimizer,
    lipschitz: float | None = None,
    state: dict | None = None,
) -> DescentResult:
    """Minimise ``J`` with full-batch steps until ``‖∇J‖ ≤ tol·‖∇J(start)‖`` or ``max_iter``.

    ``tol = 0`` runs exactly ``max_iter`` iterations.  ``loss_history[t]`` is ``J`` after
    ``t`` iterations (so it starts with the loss at the starting point).
    """
    d, k = theta0.shape
    n_theta = d * k
    p = np.concatenate([theta0.ravel(), beta0 if fit_intercept else np.zeros(0)]).astype(np.float64)
    theta = p[:n_theta].reshape(d, k)
    beta = p[n_theta:] if fit_intercept else np.zeros(k)
    state = optimizer.init(p.size) if state is None else state

    if optimizer.name == "plain" and lipschitz and learning_rate >= 2.0 / lipschitz:
        raise DivergenceError(
            f"learning_rate={learning_rate:.4g} makes gradient descent diverge on this data: the "
            f"loss's curvature is L = {lipschitz:.4g}, and plain gradient descent is stable only "
            f"for learning_rate < 2/L = {2 / lipschitz:.4g}. Use learning_rate='auto' (1/L), a "
            "smaller learning rate, or standardize=True.")

    def flat_grad():
        gw, gb = grad_fn(theta, beta)
        return np.concatenate([gw.ravel(), gb if fit_intercept else np.zeros(0)])

    J0 = loss_fn(theta, beta)
    g = flat_grad()
    g0 = float(np.linalg.norm(g))
    losses, norms = [J0], [g0]
    converged = g0 == 0.0
    t = 0
    while not converged and t < max_iter:
        t += 1
        optimizer.update(p, g, state, learning_rate)
        J = loss_fn(theta, beta)
        if not np.isfinite(J) or J > DIVERGENCE_FACTOR * max(J0, np.finfo(float).tiny):
            raise DivergenceError(divergence_message("gradient descent", t, J0, J, learning_rate,
                                                     lipschitz if optimizer.name == "plain" else None))
        g = flat_grad()
        gn = float(np.linalg.norm(g))
        losses.append(J)
        norms.append(gn)
        converged = tol > 0 and gn <= tol * g0
    return DescentResult(theta.copy(), beta.copy(), t, converged, losses, norms, learning_rate)
