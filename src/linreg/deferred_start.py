"""The start of a fresh stochastic fit on the raw design without a pass before its first
epoch (:func:`linreg.solvers.iterative.defers_moments`): ``J(0)`` from the targets, ``∇J(0)``
and the Hessian's diagonal from sums the first passes add up anyway — in memory
(:class:`DeferredStart`) or block by block for rows not in memory (:class:`BlockDeferredStart`)."""

from __future__ import annotations

import numpy as np

from .design import Design
from .step_size import gradient_scale
from .training_objective import RowObjective

__all__ = ["DeferredStart", "BlockDeferredStart", "streamed_mean_weight"]


class DeferredStart:
    """The start of a fresh stochastic fit on the raw design (``x̃ = x``) from rows in memory,
    without a pass before the first epoch (:func:`linreg.solvers.iterative.defers_moments`):

    * ``loss``: ``J(0) = Σ s ‖y‖²/(2 n_w)``, from the targets alone (known at once);
    * :meth:`complete`, after the first epoch: ``∇J(0) = (−Σ s x yᵀ/n_w, −ȳ)`` and the
      Hessian's diagonal ``Σ s x²/n_w + α`` (for the stopping rule's units), from the raw
      columns' sums.  Dense rows: the loss pass after the epoch adds them up in the same
      read (:meth:`~linreg.training_objective.RowObjective.want_column_sums`; the epoch
      streams long rows and needs the memory bandwidth to itself).  CSR rows: a second
      thread adds them up while the epoch runs (:func:`linreg.passes.raw_column_sums`), as
      the epoch waits on memory latency and leaves the other core and the bandwidth free.

    A value that is not finite in ``X`` makes the epoch fail (or the sums); :meth:`complete`
    then takes the columns' moments from ``rows.moments()``, whose check names its row and
    column (as the pass before the epoch would have), and a column whose squares overflow
    is named the same way."""

    def __init__(self, rows, objective: RowObjective, design: Design, alpha, fit_intercept: bool):
        from .parallel import in_background
        from .passes import raw_column_sums
        self.rows, self.objective, self.design, self.alpha = rows, objective, design, alpha
        self.fit_intercept = fit_intercept
        Y, s = objective.Y, objective.s
        if objective.rows.shape[0] != Y.shape[0]:      # (a fit's training rows are all rows)
            Y = Y[objective.rows]
            s = s[objective.rows] if s.shape[0] else s
        s = None if s.shape[0] == 0 else s[:, None]
        n_w = objective.weight_sum
        with np.errstate(over="ignore", invalid="ignore"):
            self.mean_y = (Y.sum(axis=0) if s is None else (s * Y).sum(axis=0)) / n_w
            squares = Y * Y if s is None else s * (Y * Y)
            self.loss = float(squares.sum() / (2.0 * n_w))
        if not np.isfinite(self.loss):
            rows.moments()      # names the target whose squares overflow
        self._sums = None
        if hasattr(objective.X, "indptr"):
            self._sums = in_background(raw_column_sums, objective.X, objective.Y, objective.s,
                                       objective.rows)
        else:
            objective.want_column_sums()

    def complete(self) -> tuple[np.ndarray, np.ndarray]:
        """``(∇J(0) flat like the parameters, D^{-1/2})``; the intercept's component is 0
        without an intercept (as :func:`train` measures it)."""
        if self._sums is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                sums = self._sums.result()
        else:
            sums = self.objective.column_sums
            self.objective.want_column_sums(False)
        if sums is not None and all(np.isfinite(a).all() for a in sums):
            n_w = self.objective.weight_sum
            gw, gb = -sums[1] / n_w, -self.mean_y
            curvature = sums[0] / n_w + self.alpha
        else:       # checked: raises naming a value that is not finite, or an overflow
            moments = self.rows.moments()
            _, gw, gb = moments.value_at_zero(self.design)
            curvature = moments.curvature_diagonal(self.design, self.alpha)
        k = gb.shape[0]
        g = np.concatenate([np.ravel(gw), gb if self.fit_intercept else np.zeros(k)])
        return g, gradient_scale(curvature, k)


class BlockDeferredStart(DeferredStart):
    """:class:`DeferredStart` for rows not in memory (files: a
    :class:`~linreg.training_objective.BlockRowObjective`), which cost a read each pass: the
    loss pass after the first epoch adds up, block by block in the same read, the targets'
    ``n``, ``Σ s``, ``Σ s y`` and ``Σ s ‖y‖²`` and the raw columns' ``Σ s x²`` and
    ``Σ s x yᵀ``; :meth:`complete` makes ``J(0)`` (:attr:`loss`, None until then), ``∇J(0)``
    and the Hessian's diagonal of them.  Nothing reads the rows before the first epoch.

    A value that is not finite in a block is named by the epoch's checked read (file and
    line or row); when the epoch or the sums turn out not finite (values whose squares
    overflow), or no epoch ran, :meth:`complete` takes the moments from ``rows.moments()``
    (one checked pass, which names the column), as the fit that reads them first would."""

    def __init__(self, rows, objective, design: Design, alpha, fit_intercept: bool):
        self.rows, self.objective, self.design, self.alpha = rows, objective, design, alpha
        self.fit_intercept = fit_intercept
        self.loss = None
        objective.want_column_sums()

    def complete(self) -> tuple[np.ndarray, np.ndarray]:
        objective = self.objective
        objective.want_column_sums(False)
        sums, targets = objective.column_sums, objective.target_sums
        n_w = objective.weight_sum
        with np.errstate(over="ignore", invalid="ignore"):
            if sums is not None:
                loss = targets[3] / (2.0 * n_w)
                gw, gb = -sums[1] / n_w, -targets[2] / n_w
                curvature = sums[0] / n_w + self.alpha
        if sums is not None and np.isfinite(loss) and all(
                np.isfinite(a).all() for a in (gw, gb, curvature)):
            self.loss = float(loss)
        else:       # checked: raises naming a value that is not finite, or an overflow
            moments = self.rows.moments()
            if objective.weight_sum is None:
                objective.weight_sum = float(moments.weight_sum)
            self.loss, gw, gb = moments.value_at_zero(self.design)
            curvature = moments.curvature_diagonal(self.design, self.alpha)
        k = gb.shape[0]
        g = np.concatenate([np.ravel(gw), gb if self.fit_intercept else np.zeros(k)])
        return g, gradient_scale(curvature, k)


def streamed_mean_weight(rows, moments) -> float:
    """The mean weight the kernel's relative weights of streamed rows divide by: from the
    weights alone where the rows keep them apart (:meth:`linreg.rows.Rows.weight_total`; the
    same bits whether the fit reads the moments first or not), else from ``moments``
    (None: unit weights, 1)."""
    totals = rows.weight_total()
    if totals is not None and totals[1] is not None and totals[0]:
        return totals[1] / totals[0]
    if moments is None:
        return 1.0
    return moments.weight_sum / moments.n_rows


# ---------------------------------------------------------------------------- from the estimator
