"""The math of the model, stated once: prediction, loss, gradients and step-size bound.

Every solver minimises the same objective::

    J(w, b) = 1/(2 n_w) Σ s_i (x_iᵀw + b − y_i)² + (α/2) ‖w‖²,      n_w = Σ s_i

(``s`` the sample weights, 1 by default; the intercept ``b`` is never penalised; with several
targets the squares and ``‖w‖²`` are summed over them).  The functions here take the
parameters in the coordinates the solver works in: ``w`` of shape (d, k), ``b`` of shape (k,).

Two ways to evaluate the same quantities are given: from the rows (what the textbook writes),
and from the sufficient statistics (:class:`linreg.design.DesignStats`), which costs O(d²k)
instead of a pass over the data.
"""

from __future__ import annotations

import numpy as np

from .design import DesignStats
from .penalty import l2_curvature, l2_gradient, l2_penalty, l2_rows

__all__ = [
    "l2_penalty",
    "l2_gradient",
    "l2_curvature",
    "l2_rows",
    "predict",
    "loss",
    "gradient",
    "loss_from_stats",
    "gradient_from_stats",
    "hessian_from_stats",
    "lipschitz_constant",
]


def predict(X: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The model: ``ŷ = X w + b``.

    Equals :func:`linreg.textbook.predict` (tested in tests/test_textbook.py)."""
    return X @ w + b


def _weights(n: int, sample_weight) -> tuple[np.ndarray, float]:
    if sample_weight is None:
        return np.ones(n), float(n)
    s = np.asarray(sample_weight, dtype=np.float64)
    return s, float(s.sum())


def loss(X, Y, w, b, alpha: float = 0.0, sample_weight=None) -> float:
    """``J(w, b) = 1/(2 n_w) Σ s_i (ŷ_i − y_i)² + (α/2)‖w‖²``.

    Equals :func:`linreg.textbook.loss`, summed over the targets (tested in
    tests/test_textbook.py)."""
    s, n_w = _weights(X.shape[0], sample_weight)
    r = predict(X, w, b) - Y
    return float(s @ np.sum(r * r, axis=1) / (2.0 * n_w) + l2_penalty(w, alpha))


def gradient(X, Y, w, b, alpha: float = 0.0, sample_weight=None) -> tuple[np.ndarray, np.ndarray]:
    """``∇_w J = Xᵀ S (Xw + b − y)/n_w + α w``, ``∇_b J = Σ s_i (ŷ_i − y_i)/n_w``.

    (With unit weights: ``∇_w J = Xᵀ(Xw + b − y)/n + αw`` and ``∇_b J = mean(ŷ − y)``.)

    Equals :func:`linreg.textbook.gradients`, one column per target (tested in
    tests/test_textbook.py).
    """
    s, n_w = _weights(X.shape[0], sample_weight)
    r = (predict(X, w, b) - Y) * s[:, None]
    return X.T @ r / n_w + l2_gradient(w, alpha), r.sum(axis=0) / n_w


def loss_from_stats(ds: DesignStats, w, b, alpha: float = 0.0) -> float:
    """``J`` from the statistics, with ``e = x̄ᵀw + b − ȳ`` the error at the mean::

        J = [tr(wᵀG w) − 2 tr(cᵀw) + tr(q)] / (2 n_w) + ‖e‖²/2 + (α/2)‖w‖²

    (``G``, ``c``, ``q`` centred on the means, so nothing large cancels.)

    Equals :func:`linreg.textbook.loss` on the design's rows (tested in tests/test_textbook.py).
    """
    Gw = ds.gram @ w
    quad = np.sum(w * Gw) - 2.0 * np.sum(ds.cross * w) + np.trace(ds.target_comoment)
    e = ds.mean_x @ w + b - ds.mean_y
    return float(max(quad, 0.0) / (2.0 * ds.weight_sum) + 0.5 * e @ e + l2_penalty(w, alpha))


def gradient_from_stats(ds: DesignStats, w, b, alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """The same gradient as :func:`gradient`, from the statistics::

        ∇_w J = (G w − c)/n_w + x̄ eᵀ + α w,     ∇_b J = e,     e = x̄ᵀw + b − ȳ

    Equals :func:`linreg.textbook.gradients` on the design's rows (tested in
    tests/test_textbook.py).
    """
    e = ds.mean_x @ w + b - ds.mean_y
    return (ds.gram @ w - ds.cross) / ds.weight_sum + np.outer(ds.mean_x, e) + l2_gradient(w, alpha), e


def hessian_from_stats(ds: DesignStats, alpha: float = 0.0) -> np.ndarray:
    """Hessian of ``J`` in ``(w, b)`` for one target, shape (d+1, d+1) (d×d without intercept)::

        H = [[G/n_w + x̄x̄ᵀ + αI, x̄], [x̄ᵀ, 1]]
    """
    d = ds.gram.shape[0]
    Hw = ds.normal_matrix(alpha) / ds.weight_sum
    if ds.fit_intercept:
        Hw = Hw + np.outer(ds.mean_x, ds.mean_x)  # x̄ = 0 for a centred design; kept general
    if not ds.fit_intercept:
        return Hw
    H = np.empty((d + 1, d + 1))
    H[:d, :d] = Hw
    H[:d, d] = H[d, :d] = ds.mean_x
    H[d, d] = 1.0
    return H


def lipschitz_constant(ds: DesignStats, alpha: float = 0.0) -> float:
    """``L = λ_max(H)``: the gradient is L-Lipschitz, so ``η = 1/L`` is a safe step and
    plain gradient descent diverges for ``η > 2/L``.  With a centred design
    ``L = max(λ_max(G)/n_w + α, 1)``.

    ``L`` is never below the smallest normal float: when ``H = 0`` (all-zero features, no
    intercept, no penalty) the gradient is constant and any step is safe, and a subnormal
    ``L`` would make ``1/L`` overflow."""
    H = hessian_from_stats(ds, alpha)
    if H.size == 0:
        return 1.0
    return float(max(np.linalg.eigvalsh(H)[-1], np.finfo(np.float64).tiny))
