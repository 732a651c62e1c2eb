"""The update rules of :mod:`linreg.optimizers`, compiled with numba.

Each rule is one function whose docstring shows its equations; :func:`apply_update` picks
one by its code.  The full-batch loop (through :mod:`linreg.optimizers`) and the compiled
stochastic loops of :mod:`linreg.stochastic` call the very same functions, so Python and
compiled training take identical steps.  This module is imported on first use, so
``import linreg`` and the closed-form solvers never load numba.
"""

from __future__ import annotations

import math

from numba import njit

#: the compiled loops name a rule by a number (numba cannot pass the functions cheaply)
PLAIN, MOMENTUM, NESTEROV, ADAM = 0, 1, 2, 3
RULE_CODES = {"plain": PLAIN, "momentum": MOMENTUM, "nesterov": NESTEROV, "adam": ADAM}

__all__ = ["RULE_CODES", "plain_step", "plain_update", "momentum_update", "nesterov_update", "adam_update",
           "apply_update"]


@njit(cache=True, inline="always")
def plain_step(value, gradient, lr):
    """The textbook step for one parameter: ``p := p − η ∂J/∂p``."""
    return value - lr * gradient


@njit(cache=True)
def plain_update(p, grad, lr):
    """The textbook step: ``p := p − η ∇J`` (``w := w − η ∇_w J``, ``b := b − η ∇_b J``),
    one :func:`plain_step` per parameter.

    Equals the update of :func:`linreg.textbook.gd_step` (tested in tests/test_textbook.py)."""
    for j in range(p.shape[0]):
        p[j] = plain_step(p[j], grad[j], lr)


@njit(cache=True)
def momentum_update(p, grad, velocity, lr, mu):
    """Heavy-ball momentum, as ``torch.optim.SGD(momentum=μ)``::

        v := μ v + ∇J          (v starts at 0, so the first v is ∇J)
        p := p − η v

    Equals :func:`linreg.textbook.momentum_step` (tested in tests/test_textbook.py).
    """
    for j in range(p.shape[0]):
        velocity[j] = mu * velocity[j] + grad[j]
        p[j] -= lr * velocity[j]


@njit(cache=True)
def nesterov_update(p, grad, velocity, lr, mu):
    """Nesterov momentum, as ``torch.optim.SGD(momentum=μ, nesterov=True)``::

        v := μ v + ∇J
        p := p − η (∇J + μ v)

    Equals :func:`linreg.textbook.nesterov_step` (tested in tests/test_textbook.py).
    """
    for j in range(p.shape[0]):
        velocity[j] = mu * velocity[j] + grad[j]
        p[j] -= lr * (grad[j] + mu * velocity[j])


@njit(cache=True)
def adam_update(p, grad, m, v, step, lr, beta1, beta2, eps):
    """Adam (Kingma & Ba), as ``torch.optim.Adam``; ``step = t`` counts from 1::

        m := β₁ m + (1 − β₁) ∇J
        v := β₂ v + (1 − β₂) ∇J²
        p := p − η/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)

    Equals :func:`linreg.textbook.adam_step` (tested in tests/test_textbook.py).
    """
    step_size = lr / (1.0 - beta1 ** step)
    root_correction = math.sqrt(1.0 - beta2 ** step)
    for j in range(p.shape[0]):
        g = grad[j]
        m[j] = beta1 * m[j] + (1.0 - beta1) * g
        v[j] = beta2 * v[j] + (1.0 - beta2) * g * g
        p[j] -= step_size * m[j] / (math.sqrt(v[j]) / root_correction + eps)




@njit(cache=True)
def apply_update(code, p, grad, moments, step, lr, mu, beta1, beta2, eps):
    """One step of rule ``code`` (``PLAIN``, ``MOMENTUM``, ``NESTEROV`` or ``ADAM``) on ``p``
    and ``moments`` in place; ``step`` is the number of steps taken before this one.
    Returns the new step count."""
    step += 1
    if code == MOMENTUM:
        momentum_update(p, grad, moments[0], lr, mu)
    elif code == NESTEROV:
        nesterov_update(p, grad, moments[0], lr, mu)
    elif code == ADAM:
        adam_update(p, grad, moments[0], moments[1], step, lr, beta1, beta2, eps)
    else:
        plain_update(p, grad, lr)
    return step
