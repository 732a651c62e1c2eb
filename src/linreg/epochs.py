"""One epoch of each iterative solver: the function :func:`linreg.descent.train` calls to move
the parameters.

* ``"gd"``: one optimizer step on the exact full-batch gradient (:func:`gd_epoch`);
* ``"sgd"`` / ``"minibatch"``: one pass of the compiled kernel
  (:func:`linreg.stochastic.run_epoch`) over the rows, one optimizer step per batch
  (:func:`stochastic_epoch`), wherever the rows are: the kernel reads *kernel rows* —
  blocks ``(X, Y, relative weights, order)`` — from memory (:func:`memory_kernel_rows`: the
  training rows, in a fresh random order each epoch) or from a :class:`linreg.rows.Rows`
  block by block (:func:`streamed_kernel_rows`: blocks in a random order, the rows of each
  permuted — not a global shuffle; a mini-batch never spans two blocks).
"""

from __future__ import annotations

import numpy as np

from .design import Design
from .optimizers import Optimizer

__all__ = ["gd_epoch", "stochastic_epoch", "memory_kernel_rows", "streamed_kernel_rows",
           "relative_weights"]


def relative_weights(sample_weight: np.ndarray | None) -> np.ndarray:
    """``s_i/s̄`` (empty for unit weights: the kernels then skip the multiplication)."""
    if sample_weight is None:
        return np.empty(0)
    s = np.asarray(sample_weight, dtype=np.float64)
    return s / s.mean()


def _kernel_arrays(X, Y):
    """``X`` (float64 or float32) and ``Y`` (float64), C-contiguous, as the kernel reads them."""
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    return np.ascontiguousarray(X), np.ascontiguousarray(Y, dtype=np.float64)


def memory_kernel_rows(X, Y, sample_weight, train_rows: np.ndarray):
    """Kernel rows of arrays in memory: ``blocks(shuffle, rng)`` yields one block, the
    training rows ``train_rows`` (in a fresh ``rng`` order when shuffling), read in place."""
    Xk, Yk = _kernel_arrays(X, Y)
    rows = np.asarray(train_rows, dtype=np.int64)
    if sample_weight is None:
        rel = np.empty(0)
    else:  # indexed by row of X; normalised over the training rows
        rel = np.zeros(Xk.shape[0])
        rel[rows] = relative_weights(np.asarray(sample_weight)[rows])

    def blocks(shuffle: bool, rng):
        yield Xk, Yk, rel, (rng.permutation(rows) if shuffle else rows)
    return blocks


def streamed_kernel_rows(rows, mean_weight: float):
    """Kernel rows of a :class:`linreg.rows.Rows` that is not in memory, block by block;
    weights relative to ``mean_weight``, the mean over all rows (as in memory)."""
    def blocks(shuffle: bool, rng):
        for X, Y, w in rows.blocks(shuffle, rng):
            Xk, Yk = _kernel_arrays(X, Y)
            rel = np.empty(0) if w is None else np.asarray(w, dtype=np.float64) / mean_weight
            yield Xk, Yk, rel, np.arange(Xk.shape[0], dtype=np.int64)
    return blocks


def gd_epoch(optimizer: Optimizer, positive: bool = False):
    """One full-batch step: ``p := update(p, ∇J(p))`` (with ``positive``, then projected
    onto ``θ ≥ 0``: ``θ := max(θ, 0)``, the intercept free).

    Equals :func:`linreg.textbook.gd_step` (plain; momentum, Nesterov, Adam: the textbook's
    ``momentum_step``, ``nesterov_step``, ``adam_step`` on ``textbook.gradients``), tested
    in tests/test_textbook.py."""
    def epoch(state, lr: float, grad: np.ndarray) -> bool:
        optimizer.update(state.params, grad, state.optimizer, lr)
        if positive:
            theta = state.params[:-state.n_targets]
            np.maximum(theta, 0.0, out=theta)
        return True
    return epoch


def stochastic_epoch(kernel_rows, design: Design, settings):
    """``(epoch, max_curvature)``: one pass of the compiled kernel over ``kernel_rows`` (see
    the module docstring), and the largest one-sample curvature ``(s_i/s̄)(‖x̃_i‖² + 1)``
    over them (for the automatic step).

    Unweighted and plain, one epoch equals :func:`linreg.textbook.sgd_epoch` (``"sgd"``) or
    :func:`linreg.textbook.minibatch_epoch` (``"minibatch"``) on the design's rows, in the
    same order (tested in tests/test_textbook.py)."""
    from .stochastic import EPOCH_OK, max_sample_curvature, run_epoch
    from .update_rules import RULE_CODES
    opt = settings.optimizer
    code = RULE_CODES[opt.name]
    batch = 1 if settings.solver == "sgd" else settings.batch_size
    inv_scale = 1.0 / design.scale
    shift = np.ascontiguousarray(design.shift, dtype=np.float64)

    def epoch(state, lr: float, grad: np.ndarray) -> bool:
        rule = (code, float(lr), opt.momentum, opt.beta1, opt.beta2, opt.epsilon)
        for Xk, Yk, rel, order in kernel_rows(settings.shuffle, state.rng):
            step, status = run_epoch(Xk, Yk, rel, order, shift, inv_scale, state.params,
                                     state.optimizer.moments, state.optimizer.step, batch,
                                     settings.alpha, settings.fit_intercept, rule)
            state.optimizer.step = int(step)
            if status != EPOCH_OK:
                return False
        return True

    def max_curvature() -> float:
        return max((max_sample_curvature(Xk, rel, order, shift, inv_scale, settings.fit_intercept)
                    for Xk, _, rel, order in kernel_rows(False, None)), default=0.0)

    return epoch, max_curvature
