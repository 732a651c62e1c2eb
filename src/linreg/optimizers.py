"""Optimizers as ``(init, update)`` pairs, after optax; and learning-rate schedules.

Parameters are one flat float64 vector ``p`` (the coefficients, then the intercepts);
``init(n_params)`` returns the optimizer's state as an explicit value
(:class:`OptimizerState`: two arrays of moments and a step counter), and
``update(p, grad, state, learning_rate)`` applies one step to ``p`` and ``state`` in place.
Because the state is a value, warm starts, ``partial_fit``, checkpoints and tests come for free.

Each rule is one compiled function whose docstring shows its equations, in
:mod:`linreg.update_rules` (loaded with numba on first use; its names are also reachable
here); the compiled stochastic loops of :mod:`linreg.stochastic` call the very same
functions (through ``apply_update``), so Python and compiled training take identical steps.  The rules are
the published ones, exactly as ``torch.optim.SGD(momentum, nesterov)`` and
``torch.optim.Adam`` define them (no dampening, no weight decay: the L2 penalty is part of
the gradient).

Read top to bottom in increasing complexity: plain, momentum, Nesterov, Adam, then the
schedules.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable, NamedTuple

import numpy as np

__all__ = ["Optimizer", "OptimizerState", "plain", "momentum", "nesterov", "adam",
           "get_optimizer", "OPTIMIZERS", "HYPERPARAMETERS", "SCHEDULES",
           "scheduled_learning_rate"]
# (the compiled rules — plain_update, momentum_update, nesterov_update, adam_update,
# apply_update — are reachable here too, loaded from linreg.update_rules on first use)


@dataclass
class OptimizerState:
    """What an optimizer remembers between steps.

    ``moments[0]`` is the velocity (momentum, Nesterov) or the first moment ``m`` (Adam);
    ``moments[1]`` is Adam's second moment ``v``; ``step`` counts the updates taken (Adam's
    bias correction needs it).  Plain gradient descent uses none of it.
    """

    moments: np.ndarray   # (2, n_params) float64
    step: int = 0

    @classmethod
    def zeros(cls, n_params: int) -> "OptimizerState":
        return cls(np.zeros((2, n_params)), 0)


class Optimizer(NamedTuple):
    """An update rule and its hyperparameters: ``init(n_params) -> state``,
    ``update(p, grad, state, learning_rate)`` (in place)."""

    name: str
    init: Callable[[int], OptimizerState]
    update: Callable[[np.ndarray, np.ndarray, OptimizerState, float], None]
    momentum: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8


# ---------------------------------------------------------------------------- the rules
#: the compiled rules, loaded with numba on first use (:mod:`linreg.update_rules`)
RULES = ("plain_step", "plain_update", "momentum_update", "nesterov_update", "adam_update",
         "apply_update")


def __getattr__(name: str):
    if name in RULES:
        from . import update_rules
        return getattr(update_rules, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------------------- the pairs
def _make(name: str, momentum: float = 0.0, beta1: float = 0.9, beta2: float = 0.999,
          epsilon: float = 1e-8) -> Optimizer:
    def update(p: np.ndarray, grad: np.ndarray, state: OptimizerState, lr: float) -> None:
        from .update_rules import RULE_CODES, apply_update
        state.step = int(apply_update(RULE_CODES[name], p,
                                      np.ascontiguousarray(grad, dtype=np.float64),
                                      state.moments, state.step, float(lr), float(momentum),
                                      float(beta1), float(beta2), float(epsilon)))

    return Optimizer(name, OptimizerState.zeros, update, float(momentum), float(beta1),
                     float(beta2), float(epsilon))


def plain() -> Optimizer:
    """Plain gradient descent (:func:`plain_update`): no state.

    Equals the update of :func:`linreg.textbook.gd_step` (tested in tests/test_textbook.py)."""
    return _make("plain")


def momentum(momentum: float = 0.9) -> Optimizer:
    """Heavy-ball momentum (:func:`momentum_update`).

    Equals :func:`linreg.textbook.momentum_step` (tested in tests/test_textbook.py)."""
    return _make("momentum", momentum=momentum)


def nesterov(momentum: float = 0.9) -> Optimizer:
    """Nesterov momentum (:func:`nesterov_update`).

    Equals :func:`linreg.textbook.nesterov_step` (tested in tests/test_textbook.py)."""
    return _make("nesterov", momentum=momentum)


def adam(beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8) -> Optimizer:
    """Adam (:func:`adam_update`).

    Equals :func:`linreg.textbook.adam_step` (tested in tests/test_textbook.py)."""
    return _make("adam", beta1=beta1, beta2=beta2, epsilon=epsilon)


OPTIMIZERS = {"plain": plain, "momentum": momentum, "nesterov": nesterov, "adam": adam}


#: every hyperparameter some rule takes
HYPERPARAMETERS = ("momentum", "beta1", "beta2", "epsilon")


def get_optimizer(name: str, **hyper) -> Optimizer:
    """The optimizer called ``name`` with hyperparameters ``momentum``, ``beta1``, ``beta2``,
    ``epsilon``: each rule takes the ones it uses, and a name that no rule takes (a
    misspelling) is an error, not silently dropped."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is not one of {sorted(OPTIMIZERS)}")
    unknown = sorted(set(hyper) - set(HYPERPARAMETERS))
    if unknown:
        raise TypeError(f"unknown optimizer hyperparameter(s) {unknown}; the rules take "
                        f"{list(HYPERPARAMETERS)}")
    factory = OPTIMIZERS[name]
    taken = inspect.signature(factory).parameters
    return factory(**{key: value for key, value in hyper.items() if key in taken})


# ---------------------------------------------------------------------------- schedules
SCHEDULES = ("constant", "invscaling", "exponential", "plateau")


def scheduled_learning_rate(schedule: str, base: float, t: int, power_t: float = 0.25,
                            decay_rate: float = 0.99) -> float:
    """The learning rate of epoch (or ``"gd"`` iteration) ``t = 1, 2, …`` from ``η₀ = base``::

        constant      η_t = η₀
        invscaling    η_t = η₀ / t^power_t
        exponential   η_t = η₀ · decay_rateᵗ⁻¹
        plateau       η_t = η₀, halved by the training loop each time the training loss has
                      not improved for ``n_iter_no_change`` epochs (it depends on the losses,
                      not on t alone)
    """
    if schedule == "invscaling":
        return base / float(t) ** power_t
    if schedule == "exponential":
        return base * decay_rate ** (t - 1)
    if schedule in ("constant", "plateau"):
        return base
    raise ValueError(f"schedule={schedule!r} is not one of {', '.join(map(repr, SCHEDULES))}")
