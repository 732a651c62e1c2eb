"""Where the training rows live, behind one interface: :class:`Rows`.

Rows live in memory, in files (:mod:`linreg.sources`), on a Dask cluster, or nowhere (a model
that holds only its statistics after ``merge``/``partial_fit``, or only a QR factor of them).
:func:`as_rows` is called once, at the estimator's boundary; the solvers and the inference code
then ask the rows for what they need and never ask what kind of rows they are:

* :meth:`Rows.stats` — the checked :class:`~linreg.stats.SufficientStats` (one pass;
  tree-reduced on the cluster);
* :meth:`Rows.blocks` — blocks ``(X, Y, w)`` in order, or shuffled (blocks in a random order,
  the rows of each permuted), for the stochastic solvers;
* :meth:`Rows.map_blocks` — ``fn((X, Y, w), index)`` for every block, run where the rows are
  (threads in memory, workers on Dask), results in row order;
* :meth:`Rows.qr_factor` — the triangular factor of ``√s·[1, X̃, y − shift]`` (TSQR);
* :meth:`Rows.arrays` — the arrays themselves when the rows are in memory (the compiled
  stochastic kernels and the refined QR read them in place), else ``None``.

A new kind of data (tables with categorical columns) is one more class here, as
``scipy.sparse`` matrices are (:class:`SparseRows`).
"""

from __future__ import annotations

from collections.abc import Callable

from .base import AccumulatedRows, NoRowsError, Rows, StatsRows
from .files import SourceRows
from .memory import MemoryRows
from .sparse import SparseRows

__all__ = ["Rows", "MemoryRows", "SparseRows", "SourceRows", "StatsRows", "AccumulatedRows", "as_rows",
           "NoRowsError"]


def as_rows(X, y=None, sample_weight=None, validate: Callable | None = None,
            exclude=()) -> Rows:
    """The :class:`Rows` for what a user passed to ``fit`` or ``summary``.

    ``X`` may be a :mod:`linreg.sources` source (``y`` and ``sample_weight`` then come from
    it), a dask array or DataFrame (:mod:`linreg.dask_support`), or in-memory data, which
    ``validate(X, y, sample_weight) -> (X, Y, single, w)`` checks (the estimator's
    validation, which also records scikit-learn's ``n_features_in_``/``feature_names_in_``).
    ``exclude``: columns of a Dask DataFrame that are not features (cluster labels).
    """
    from ..dask_support import is_dask_collection, require_dask
    from ..sources import is_source
    if is_source(X):
        if y is not None or sample_weight is not None:
            raise ValueError("when X is a data source, the targets and sample weights come "
                             "from it: pass y=None and sample_weight=None")
        return SourceRows(X)
    if is_dask_collection(X) or is_dask_collection(y):
        require_dask()
        from .dask import DaskRows
        return DaskRows(X, y, sample_weight, exclude)
    if validate is None:
        raise ValueError("in-memory rows need the estimator's validation")
    from ..inference import target_names_of
    names = getattr(X, "columns", None)
    Xv, Y, single, w = validate(X, y, sample_weight)
    feature_names = ([str(c) for c in names] if names is not None
                     and all(isinstance(c, str) for c in names) else None)
    if hasattr(Xv, "tocsr"):     # scipy.sparse, accepted by the validation
        return SparseRows(Xv, Y, w, single, feature_names, target_names_of(y))
    return MemoryRows(Xv, Y, w, single, feature_names, target_names_of(y))

