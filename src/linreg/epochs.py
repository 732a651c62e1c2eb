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

__all__ = ["gd_epoch", "stochastic_epoch", "StochasticEpoch", "memory_kernel_rows",
           "streamed_kernel_rows", "relative_weights"]


def relative_weights(sample_weight: np.ndarray | None) -> np.ndarray:
    """``s_i/s̄`` (empty for unit weights: the kernels then skip the multiplication)."""
    if sample_weight is None:
        return np.empty(0)
    s = np.asarray(sample_weight, dtype=np.float64)
    return s / s.mean()


def _kernel_arrays(X, Y):
    """``X`` (float64 or float32, C-contiguous; or a canonical float64 CSR matrix, read in
    place) and ``Y`` (float64, C-contiguous), as the kernels read them."""
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    if hasattr(X, "indptr"):
        return X, Y
    if X.dtype not in (np.float64, np.float32):
        X = X.astype(np.float64)
    return np.ascontiguousarray(X), Y


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
    """Kernel rows of a :class:`linreg.rows.Rows` that is not in memory, block by block (the
    next read while the kernel runs on this one: :meth:`~linreg.rows.Rows.blocks_ahead`;
    rows from files through ``ordered_blocks_ahead``, which leaves a shuffled block's rows
    in place and hands their order to the kernel instead of a permuted copy);
    weights relative to ``mean_weight``, the mean over all rows (as in memory)."""
    ordered = getattr(rows, "ordered_blocks_ahead", None)

    def blocks(shuffle: bool, rng):
        if ordered is not None:      # rows left in place, visited in a shuffled order
            for X, Y, w, order in ordered(shuffle, rng):
                Xk, Yk = _kernel_arrays(X, Y)
                rel = np.empty(0) if w is None else np.asarray(w, dtype=np.float64) / mean_weight
                yield Xk, Yk, rel, np.asarray(order, dtype=np.int64)
            return
        for X, Y, w in rows.blocks_ahead(shuffle, rng):
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


class StochasticEpoch:
    """One pass of the compiled kernel over ``kernel_rows`` (see the module docstring), as
    :func:`linreg.descent.train` calls it: ``epoch(state, learning_rate, grad) -> ok``.

    ``progressive`` holds the last completed pass's progressive loss
    ``1/(2 n_w) Σ s_i ‖r_i‖²``, each residual computed before the step that uses its row
    (the data term only; Vowpal Wabbit's progressive validation loss)."""

    def __init__(self, kernel_rows, design: Design, settings):
        from .update_rules import RULE_CODES
        self.kernel_rows, self.settings = kernel_rows, settings
        self.code = RULE_CODES[settings.optimizer.name]
        self.batch = 1 if settings.solver == "sgd" else settings.batch_size
        self.inv_scale = np.ascontiguousarray(1.0 / design.scale, dtype=np.float64)
        self.shift = np.ascontiguousarray(design.shift, dtype=np.float64)
        self.progressive = None

    def __call__(self, state, lr: float, grad: np.ndarray) -> bool:
        from .stochastic import EPOCH_OK, run_epoch
        from .stochastic_sparse import run_sparse_epoch
        opt, settings = self.settings.optimizer, self.settings
        rule = (self.code, float(lr), opt.momentum, opt.beta1, opt.beta2, opt.epsilon)
        total, rows = 0.0, 0
        for Xk, Yk, rel, order in self.kernel_rows(settings.shuffle, state.rng):
            kernel = run_sparse_epoch if hasattr(Xk, "indptr") else run_epoch
            step, status, progressive = kernel(
                Xk, Yk, rel, order, self.shift, self.inv_scale, state.params,
                state.optimizer.moments, state.optimizer.step, self.batch, settings.alpha,
                settings.fit_intercept, rule)
            state.optimizer.step = int(step)
            if status != EPOCH_OK:
                return False
            total += progressive
            rows += order.shape[0]
        self.progressive = total / (2.0 * max(rows, 1))
        return True

    def max_curvature(self) -> float:
        """The largest one-sample curvature ``(s_i/s̄)(‖x̃_i‖² + 1)`` over the rows (one pass)."""
        from .kernel_types import read_only
        from .stochastic import max_sample_curvature
        from .stochastic_sparse import max_sparse_curvature
        fi = self.settings.fit_intercept
        shift, inv_scale = read_only(self.shift), read_only(self.inv_scale)
        return max((max_sparse_curvature(Xk, rel, order, shift, inv_scale, fi)
                    if hasattr(Xk, "indptr") else
                    max_sample_curvature(read_only(Xk), read_only(rel), read_only(order),
                                         shift, inv_scale, fi)
                    for Xk, _, rel, order in self.kernel_rows(False, None)), default=0.0)


def stochastic_epoch(kernel_rows, design: Design, settings):
    """``(epoch, max_curvature)``: one pass of the compiled kernel over ``kernel_rows`` (a
    :class:`StochasticEpoch`: dense rows by :func:`linreg.stochastic.run_epoch`, CSR rows by
    :func:`linreg.stochastic_sparse.run_sparse_epoch`), and the largest one-sample curvature
    ``(s_i/s̄)(‖x̃_i‖² + 1)`` over them (for the automatic step).

    Unweighted and plain, one epoch equals :func:`linreg.textbook.sgd_epoch` (``"sgd"``) or
    :func:`linreg.textbook.minibatch_epoch` (``"minibatch"``) on the design's rows, in the
    same order (tested in tests/test_textbook.py; CSR rows against dense ones in
    tests/test_sparse_training.py)."""
    epoch = StochasticEpoch(kernel_rows, design, settings)
    return epoch, epoch.max_curvature
