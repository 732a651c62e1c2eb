"""Optimizers as ``(init, update)`` pairs, after optax.

Parameters are one flat float64 vector ``p`` (the coefficients, then the intercepts);
``init(n_params)`` returns the optimizer's state as an explicit value and
``update(p, grad, state, learning_rate)`` applies one step to ``p`` and ``state`` in place
(in place so that the compiled stochastic loops can call the very same function).
Because the state is a value, warm starts, ``partial_fit`` and tests come for free.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Optimizer", "plain", "get_optimizer", "OPTIMIZERS"]


class Optimizer(NamedTuple):
    name: str
    init: Callable[[int], dict]
    update: Callable[[np.ndarray, np.ndarray, dict, float], None]


def plain_update(p: np.ndarray, grad: np.ndarray, lr: float) -> None:
    """The textbook step: ``p := p − η ∇J`` (``w := w − η ∇_w J``, ``b := b − η ∇_b J``)."""
    p -= lr * grad


def plain() -> Optimizer:
    """Plain gradient descent: no state."""
    return Optimizer("plain", lambda n_params: {}, lambda p, g, state, lr: plain_update(p, g, lr))


OPTIMIZERS = {"plain": plain}


def get_optimizer(name: str, **hyper) -> Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](**hyper)
