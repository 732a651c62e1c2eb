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
never beyond :data:`~linreg.solvers.lsqr.GRAM_MAX_FEATURES` features.  Rows that are not in
memory (files, Dask) are measured the same way from :meth:`linreg.rows.Rows.shape_hint`: the
row count where it is known without a pass, the stored values per row scaled from the first
block (an estimate: the first block stands for the file); and the rows path pays for the
extra read it needs each epoch — the statistics path reads the rows once per epoch (the
stochastic kernel's pass), the rows path twice (the kernel's and the loss pass), and one
value read from a file costs about :data:`READ_COST` more than one read in memory (parsing
text, copying out of a memory map).  The costs below are in units of one value read by a loss pass (about a nanosecond on the
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
#: one value read from a file (parsed, converted) beyond its cost in memory, per pass
READ_COST = 5.0


def _shape(X) -> tuple:
    """``(n, d, nnz, Σ_i nnz_i²)`` of ``X``, or the tuple itself."""
    if isinstance(X, tuple):
        return X
    from ..rows.base import shape_of
    return shape_of(X)


def _gram_cost(X) -> float:
    """The cost of the Gram matrix of ``X`` (dense or CSR, or its :func:`_shape`) and of the
    d × d work after it."""
    n, d, nnz, squares = _shape(X)
    if hasattr(X, "indptr") or (isinstance(X, tuple) and nnz < float(n) * d):
        products = SPARSE_GRAM_COST * squares + float(d) * d
    else:
        products = DENSE_GRAM_COST * float(n) * d * d + float(n) * d
    return products + CUBIC_COST * float(d) ** 3 + STATISTICS_OVERHEAD


def statistics_cost(X, k: int, epochs: int) -> float:
    """The statistics path over ``epochs`` epochs: the Gram matrix, its d × d work, and
    O(d²k) per epoch."""
    d = _shape(X)[1]
    return _gram_cost(X) + epochs * float(d) * d * k


def rows_cost(X, k: int, epochs: int, solver: str, read_cost: float = 0.0) -> float:
    """The rows path over ``epochs`` epochs: one loss pass per epoch and one at the start
    (``"gd"``: the pass is the step's gradient too; plus Lanczos for its curvature); with
    ``read_cost`` (rows not in memory), each of those passes' reading of the values too."""
    nnz = _shape(X)[2]
    passes = epochs + 1 + (LANCZOS_PRODUCTS if solver == "gd" else 0)
    return passes * (float(nnz) * (k + read_cost) + PASS_OVERHEAD)


def training_path(solver: str, max_iter: int, rows) -> str:
    """``"statistics"`` or ``"rows"`` for an iterative fit of ``solver`` on ``rows`` (see the
    module docstring)."""
    from .lsqr import GRAM_MAX_FEATURES
    if rows.n_features > GRAM_MAX_FEATURES:
        return "rows"
    matrix = rows.matrix()
    shape = rows.shape_hint()
    if shape is None:
        return "statistics"
    k = rows.n_targets
    epochs = max(int(max_iter), 1)
    read = 0.0 if matrix is not None else READ_COST
    if statistics_cost(shape, k, epochs) <= rows_cost(shape, k, epochs, solver, read):
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
