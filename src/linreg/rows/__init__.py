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

from .base import AccumulatedRows, NonFiniteRows, NoRowsError, Rows, StatsRows
from .files import SourceRows
from .memory import MemoryRows
from .sparse import SparseRows

__all__ = ["Rows", "MemoryRows", "SparseRows", "SourceRows", "StatsRows", "AccumulatedRows", "as_rows",
           "NoRowsError", "NonFiniteRows", "target_from_frame"]


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
    from ..tables.frames import check_polars_X
    check_polars_X(X)
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


def target_from_frame(X, y):
    """``fit(df, "price")``: a pandas or polars DataFrame and the name(s) of its target
    column(s) become the other columns and the target, as for a Dask DataFrame (which
    :func:`as_rows` splits where it lives)."""
    from ..dask_support import is_dask_collection
    from ..sources import is_source
    names = [y] if isinstance(y, str) else y
    if (not isinstance(names, (list, tuple)) or not names
            or not all(isinstance(n, str) for n in names) or is_dask_collection(X)
            or is_source(X) or not hasattr(X, "columns")):
        return X, y
    columns = [str(c) for c in X.columns]
    missing = [n for n in names if n not in columns]
    if missing:
        raise ValueError(f"the target column {', '.join(map(repr, missing))} is not a column "
                         f"of X (its columns: {', '.join(columns)})")
    if len(set(names)) != len(names):
        raise ValueError(f"the target columns {names!r} name a column more than once")
    target = X[names[0]] if isinstance(y, str) else X[list(names)]
    features = (X.drop(columns=list(names)) if type(X).__module__.startswith("pandas")
                else X.drop(list(names)))
    return features, target
