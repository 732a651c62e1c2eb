"""Which way an iterative fit (``"gd"``, ``"sgd"``, ``"minibatch"``) gets its loss, gradient
and curvature: from the sufficient statistics, or from the rows.  By cost.

* **From the statistics** (``training_path_ = "statistics"``): one pass builds the d × d Gram
  matrix — O(n·d²) for dense rows, O(Σ_i nnz_i²) for sparse ones — then the rank decision,
  the curvature and (when a fit stops short) the optimality gap cost O(d³) each, and every
  epoch's ``J`` and ``∇J`` O(d²k).  ``"gd"`` then steps at O(d²k) per iteration.
* **From the rows** (``training_path_ = "rows"``): no d × d matrix at all.  The design comes
  from the columns' means and variances (O(nnz)); each epoch's ``J`` and ``∇J`` from one
  compiled pass over the rows, O(nnz·k) (:mod:`linreg.passes`); ``"gd"`` steps at that cost
  per iteration and finds its curvature by Lanczos (a few dozen passes).

The stochastic epochs themselves, and the automatic stochastic step (from row norms), are the
same on both paths, so the coefficients are too (to rounding in the loss history, and, for
``"gd"`` with ``learning_rate="auto"``, to Lanczos's accuracy in ``1/L``).

:func:`training_path` takes the statistics when they cost less than the passes they replace
over ``max_iter`` epochs (the only count known before training), and only where they fit:
never beyond :data:`~linreg.solvers.lsqr.GRAM_MAX_FEATURES` features, and always for rows
that are not in memory (files, Dask: their statistics pass is the one read they get).  The
costs below are in units of one value read by a loss pass (about a nanosecond on the
project's 2-core machine, where they were measured); only their ratios matter.

What a fit from the rows does not have: ``stats_`` (``None``; ``summary()`` forms the
statistics from the rows the model holds when it is called, and keeps them), ``rank_``
(``None``: no rank decision and no :class:`~linreg.exceptions.RankDeficiencyWarning`),
``condition_number_`` (NaN); ``merge`` and prediction intervals, which need the statistics,
say so.  A :class:`~linreg.exceptions.ConvergenceWarning` states the distance from the exact
optimum only when the statistics for it cost no more than the training did (they are then
built, once, for the warning); otherwise it says the optimum was not computed and gives the
last epoch's relative improvement of ``J``.  A ``tol`` stop warns only when the gap is
known to be 1 % or more, so a loose ``tol`` on a fit from the rows passes without one.
"""

from __future__ import annotations

import numpy as np

__all__ = ["training_path", "partial_fit_path", "statistics_cost", "rows_cost", "gap_affordable",
           "PATHS", "PARTIAL_FIT_PASSES"]

#: the values of ``training_path_``
PATHS = ("statistics", "rows")
#: a dense Gram matrix, per multiply-add (n·d² of them: BLAS's rank-k update)
DENSE_GRAM_COST = 0.05
#: a sparse Gram matrix (scipy's ``XᵀX``), per product of two stored values in a row
SPARSE_GRAM_COST = 3.0
#: the statistics path's d × d work (rank decision, curvature, optimality gap), per d³
CUBIC_COST = 2.0
#: one loss pass's fixed cost (dispatch to threads, Python)
PASS_OVERHEAD = 50_000.0
#: the statistics path's fixed cost (the rank decision's and solvers' Python and LAPACK calls)
STATISTICS_OVERHEAD = 300_000.0
#: products with the Hessian that Lanczos takes for ``λ_max`` (20 to 200 on the data measured:
#: the more clustered the top of the spectrum, the more)
LANCZOS_PRODUCTS = 100


def _gram_cost(X) -> float:
    """The cost of the Gram matrix of ``X`` (dense or CSR) and of the d × d work after it."""
    n, d = X.shape
    if hasattr(X, "indptr"):
        per_row = np.diff(X.indptr).astype(np.float64)
        products = SPARSE_GRAM_COST * float(per_row @ per_row) + float(d) * d
    else:
        products = DENSE_GRAM_COST * float(n) * d * d + float(n) * d
    return products + CUBIC_COST * float(d) ** 3 + STATISTICS_OVERHEAD


def statistics_cost(X, k: int, epochs: int) -> float:
    """The statistics path over ``epochs`` epochs: the Gram matrix, its d × d work, and
    O(d²k) per epoch."""
    d = X.shape[1]
    return _gram_cost(X) + epochs * float(d) * d * k


def rows_cost(X, k: int, epochs: int, solver: str) -> float:
    """The rows path over ``epochs`` epochs: one loss pass per epoch and one at the start
    (``"gd"``: the pass is the step's gradient too; plus Lanczos for its curvature)."""
    nnz = X.nnz if hasattr(X, "indptr") else X.shape[0] * X.shape[1]
    passes = epochs + 1 + (LANCZOS_PRODUCTS if solver == "gd" else 0)
    return passes * (float(nnz) * k + PASS_OVERHEAD)


def training_path(solver: str, max_iter: int, rows) -> str:
    """``"statistics"`` or ``"rows"`` for an iterative fit of ``solver`` on ``rows`` (see the
    module docstring)."""
    from .lsqr import GRAM_MAX_FEATURES
    matrix = rows.matrix()
    if matrix is None:
        return "statistics"
    X, Y, _ = matrix
    if X.shape[1] > GRAM_MAX_FEATURES:
        return "rows"
    k = Y.shape[1]
    epochs = max(int(max_iter), 1)
    if statistics_cost(X, k, epochs) <= rows_cost(X, k, epochs, solver):
        return "statistics"
    return "rows"


def gap_affordable(X, k: int, epochs_run: int, solver: str) -> bool:
    """Whether the statistics for the optimality gap of a fit from the rows (the Gram matrix
    and one d × d solve) cost no more than its training did: ``epochs_run`` epochs (two
    passes each for the stochastic solvers, the kernel's and the loss's) and the passes
    before them (the moments, the largest row norm)."""
    n, d = X.shape
    per_epoch = 1 if solver == "gd" else 2
    budget = rows_cost(X, k, per_epoch * max(epochs_run, 1) + 1, "sgd")
    if float(d) ** 3 > budget:      # the d × d solve alone costs more (no need to count more)
        return False
    gram = _gram_cost(X) - STATISTICS_OVERHEAD - (CUBIC_COST - 1.0) * float(d) ** 3
    return gram <= budget


#: ``partial_fit`` keeps the statistics of all rows seen (its loss history is then theirs, and
#: ``summary()``, ``merge`` and prediction intervals have them) while one chunk's statistics
#: cost at most this many loss passes over the chunk
PARTIAL_FIT_PASSES = 10


def partial_fit_path(X, k: int) -> str:
    """The path of a stochastic ``partial_fit``, decided on its first chunk ``X`` (and kept):
    ``"statistics"`` while the chunk's Gram matrix and its d × d work cost at most
    :data:`PARTIAL_FIT_PASSES` passes over the chunk and it is at most
    :data:`~linreg.solvers.lsqr.GRAM_MAX_FEATURES` wide, else ``"rows"``."""
    from .lsqr import GRAM_MAX_FEATURES
    if X.shape[1] > GRAM_MAX_FEATURES:
        return "rows"
    affordable = _gram_cost(X) <= rows_cost(X, k, PARTIAL_FIT_PASSES - 1, "sgd")
    return "statistics" if affordable else "rows"
