"""What a gradient-based fit carries from epoch to epoch (:class:`TrainingState`: the
parameters, the optimizer's moments, the row-order generator, the histories — everything a
checkpoint saves), its validated settings (:class:`TrainingSettings`) and what it ends with
(:class:`TrainingOutcome`).  The loop itself is :func:`linreg.descent.train`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .design import Design
from .optimizers import Optimizer, OptimizerState

__all__ = ["TrainingState", "TrainingSettings", "TrainingOutcome"]


@dataclass
class TrainingState:
    """Everything training needs to continue where it stopped (arrays, numbers, a generator).

    ``params`` is ``[θ.ravel(), β]`` in the design coordinates of ``design`` (θ of shape
    (d, k); β has k slots and stays 0 without an intercept).  ``rng`` draws the row orders
    (its ``bit_generator.state`` is a plain dict of integers, for saving).  The histories hold
    one entry per completed epoch (``loss_history`` and ``grad_norm_history`` also the start).
    """

    params: np.ndarray
    optimizer: OptimizerState
    rng: np.random.Generator
    design: Design
    n_targets: int
    learning_rate: float                  # the schedule's base rate: η₀, halved by plateau / divergence
    epoch: int = 0                        # epochs (``"gd"``: iterations) completed
    best_params: np.ndarray | None = None  # lowest training loss so far
    best_loss: float = np.inf
    epochs_without_improvement: int = 0   # for the plateau schedule
    plateau_halvings: int = 0
    divergences: int = 0                  # epochs that exploded and were undone
    # early stopping: the lowest validation loss and its parameters (restored at the end),
    # and the epochs since the validation loss last improved by more than tol
    lowest_validation_loss: float = np.inf
    lowest_validation_params: np.ndarray | None = None
    best_validation_loss: float = np.inf
    validation_epochs_without_improvement: int = 0
    first_learning_rate: float = 0.0      # η₀ before any halving for divergence
    loss_history: list = field(default_factory=list)
    grad_norm_history: list = field(default_factory=list)
    # ‖∇J‖ in units of each parameter's curvature: what the stopping rule compares
    scaled_grad_norm_history: list = field(default_factory=list)
    learning_rate_history: list = field(default_factory=list)
    validation_loss_history: list = field(default_factory=list)
    # the stochastic solvers' progressive loss of each epoch: the data term with each
    # residual taken before the step that uses its row
    progressive_loss_history: list = field(default_factory=list)

    @property
    def n_features(self) -> int:
        return (self.params.size - self.n_targets) // self.n_targets

    def theta_beta(self, params: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Views ``θ`` (d, k) and ``β`` (k,) into ``params`` (default: the current ones)."""
        p = self.params if params is None else params
        k = self.n_targets
        return p[:-k].reshape(-1, k), p[-k:]


@dataclass(frozen=True)
class TrainingSettings:
    """The estimator's training parameters, validated."""

    solver: str                 # "gd", "sgd" or "minibatch"
    optimizer: Optimizer
    learning_rate: object       # "auto" or float
    schedule: str
    power_t: float
    decay_rate: float
    batch_size: int
    max_iter: int
    tol: float
    shuffle: bool
    early_stopping: bool
    validation_fraction: float
    n_iter_no_change: int
    callback: Callable | None
    fit_intercept: bool
    alpha: float
    positive: bool = False      # θ ≥ 0: projected steps ("gd")


@dataclass
class TrainingOutcome:
    state: TrainingState
    theta: np.ndarray
    beta: np.ndarray
    stop_reason: str            # one of linreg.stopping.STOP_REASONS
    epochs_run: int
