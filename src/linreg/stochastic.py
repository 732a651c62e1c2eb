"""The compiled inner loop of stochastic training: one epoch of (mini-batch) SGD.

The kernel reads rows of the *original* ``X`` (float64 or float32, in any row order given by
``rows``) and applies the design change ``x̃ = (x − shift)/scale`` on the fly, so training
never copies ``X``.  For a batch ``B`` of rows it takes one optimizer step with the average of
the per-sample gradients of :mod:`linreg.objective`'s ``J``::

    r_i   = x̃_iᵀθ + β − y_i                         (residual, one per target)
    ∇_θ   = (1/|B|) Σ_{i∈B} x̃_i r_iᵀ · s_i/s̄ + α θ
    ∇_β   = (1/|B|) Σ_{i∈B} r_i · s_i/s̄             (0 without an intercept)

with ``s̄`` the mean sample weight, so each is an unbiased estimate of the full gradient
``∇J``.  ``batch_size = 1`` is plain SGD (one sample per update).  The step itself is
:func:`linreg.optimizers.apply_update` — the same compiled function the full-batch loop uses.

Parameters travel as one flat vector ``p = [θ.ravel(), β]`` (θ of shape (d, k), row-major;
``β`` always has ``k`` slots and stays 0 without an intercept).

Compiled with ``cache=True``: the machine code is stored next to this file, so only the first
process on a machine pays the compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .optimizers import apply_update

__all__ = ["run_epoch", "max_sample_curvature", "EPOCH_OK", "EPOCH_DIVERGED"]

EPOCH_OK, EPOCH_DIVERGED = 0, 1

#: sums may be reassociated (so they vectorize); no other unsafe math: NaN and inf still
#: behave as IEEE says, which the divergence check needs.
FAST = {"reassoc", "contract"}


@njit(cache=True, fastmath=FAST)
def _residual(X, Y, i, shift, inv_scale, p, d, k, xt, r):
    """``x̃_i = (x_i − shift)/scale`` into ``xt`` and ``r = x̃_iᵀθ + β − y_i`` into ``r``."""
    for j in range(d):
        xt[j] = (X[i, j] - shift[j]) * inv_scale[j]
    if k == 1:
        acc = p[d] - Y[i, 0]
        for j in range(d):
            acc += xt[j] * p[j]
        r[0] = acc
    else:
        for c in range(k):
            r[c] = p[d * k + c] - Y[i, c]
        for j in range(d):
            for c in range(k):
                r[c] += xt[j] * p[j * k + c]


@njit(cache=True, fastmath=FAST)
def run_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, moments, step, batch_size,
              alpha, fit_intercept, rule):
    """One pass over ``X[rows]`` in batches of ``batch_size`` rows, updating ``p`` and the
    optimizer ``moments`` in place.

    ``relative_weight`` holds ``s_i/s̄`` (empty for unit weights); ``rule`` is the tuple
    ``(code, learning_rate, momentum, beta1, beta2, epsilon)`` of :func:`apply_update`.
    Returns ``(step, status)``: the optimizer's step count and ``EPOCH_OK``, or
    ``EPOCH_DIVERGED`` as soon as a residual is not finite (``p`` is then left as it was
    before that batch's step, still finite).
    """
    code, lr, mu, beta1, beta2, eps = rule
    d = X.shape[1]
    k = Y.shape[1]
    n_params = p.shape[0]
    weighted = relative_weight.shape[0] > 0
    grad = np.empty(n_params)
    xt = np.empty(d)
    r = np.empty(k)
    n = rows.shape[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        grad[:] = 0.0
        for t in range(start, stop):
            i = rows[t]
            _residual(X, Y, i, shift, inv_scale, p, d, k, xt, r)
            if weighted:
                for c in range(k):
                    r[c] *= relative_weight[i]
            for c in range(k):
                if not np.isfinite(r[c]):
                    return step, EPOCH_DIVERGED
            if k == 1:
                r0 = r[0]
                for j in range(d):
                    grad[j] += xt[j] * r0
            else:
                for j in range(d):
                    for c in range(k):
                        grad[j * k + c] += xt[j] * r[c]
            if fit_intercept:
                for c in range(k):
                    grad[d * k + c] += r[c]
        inv_b = 1.0 / (stop - start)
        for j in range(d * k):
            grad[j] = grad[j] * inv_b + alpha * p[j]
        for c in range(k):
            grad[d * k + c] *= inv_b
        step = apply_update(code, p, grad, moments, step, lr, mu, beta1, beta2, eps)
    return step, EPOCH_OK


@njit(cache=True)
def max_sample_curvature(X, relative_weight, rows, shift, inv_scale, fit_intercept):
    """``max_i (s_i/s̄)(‖x̃_i‖² + 1)`` over ``i ∈ rows`` (``+1`` only with an intercept): the
    largest curvature of a one-sample loss, which bounds a safe SGD step."""
    d = X.shape[1]
    weighted = relative_weight.shape[0] > 0
    best = 0.0
    for t in range(rows.shape[0]):
        i = rows[t]
        s = 1.0 if fit_intercept else 0.0
        for j in range(d):
            v = (X[i, j] - shift[j]) * inv_scale[j]
            s += v * v
        if weighted:
            s *= relative_weight[i]
        if s > best:
            best = s
    return best
