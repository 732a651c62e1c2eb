"""Fitting on Dask: dask arrays (row-chunked) and dask DataFrames, on any Dask cluster.

``LinearRegression().fit(X, y)`` with dask inputs never gathers the rows.  Each partition
(a block of rows) is turned into its :class:`~linreg.stats.SufficientStats` — the count,
the means and the ``(d+k)×(d+k)`` co-moment matrix of ``[x, y]`` — where it lives, and the
statistics are merged pairwise in a binary tree (Chan et al.'s exact update) on the
cluster.  Only those small matrices travel over the network, and only the final one comes
back to the client; the solvers then run on it locally (``"normal"``, ``"gd"``, and
``"auto"``).  The QR solver (``"qr"``, or ``"auto"`` on an ill-conditioned design) works
the same way with a second pass: each partition sends the ``(p+k)×(p+k)`` triangular
factor of its rows, and the factors are merged by QR in the same kind of tree (TSQR).
``LinearRegression.summary`` on dask inputs makes its residual pass the same way: each
partition computes its partial totals where it lives (sums, moments, HC meat, its first and
last weighted residual for the Durbin–Watson terms across partition edges) and only those,
with the per-row leverage and residuals the influence measures need, come back to be merged
in partition order.  The stochastic solvers (``"sgd"``, ``"minibatch"``) need the rows
themselves: they visit the partitions in turn, each brought to the client once per epoch
(in a random order, its rows shuffled: not a global shuffle), so they move all the data
over the network every epoch — use them on Dask only when that is what you want.

``predict`` on dask input returns a lazy dask array (or dask Series/DataFrame for a dask
DataFrame), computed partition by partition on the cluster when asked for.

A dask array whose chunks are ``scipy.sparse`` matrices fits the same way (the statistics of
each partition from sparse products on its worker, as for an in-memory sparse matrix; see
:mod:`linreg.rows.dask`), and ``predict`` multiplies each sparse chunk as it is.

Cost, with ``n`` rows in ``P`` partitions on ``W`` workers and ``p = d + k`` columns: the
work is ``O(n p²)`` flops spread over the workers (``O(n p² / W)`` wall time each), plus
``P − 1`` merges of ``O(p²)``.  The network carries ``P`` messages of ``8 p²`` bytes
(plus the task descriptions), independent of ``n``; the tree has depth ``⌈log₂ P⌉``.

Dask is an optional extra: ``pip install 'linreg[dask]'``.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["is_dask_collection", "is_dask_frame", "is_dask_series", "require_dask", "predict",
           "sparse_chunk"]


def is_dask_collection(obj) -> bool:
    """Whether ``obj`` is a dask collection (without importing dask if it is not loaded)."""
    dask = sys.modules.get("dask")
    if dask is None or obj is None or isinstance(obj, (str, list, tuple)):
        return False
    return dask.is_dask_collection(obj)


def require_dask():
    try:
        import dask  # noqa: F401
        import dask.array  # noqa: F401
    except ImportError:  # pragma: no cover - only without the extra
        raise ImportError("fitting dask collections needs dask; install the 'dask' extra: "
                          "pip install 'linreg[dask]'") from None


def sparse_chunk(X):
    """``partial_fit``'s chunk ``X``: a dask array of ``scipy.sparse`` chunks as one sparse
    matrix in memory (as a dense dask array becomes one NumPy array there); anything else as
    it is."""
    if is_dask_collection(X) and hasattr(getattr(X, "_meta", None), "tocsr"):
        return X.compute()
    return X


def is_dask_frame(obj) -> bool:
    import dask.dataframe as dd
    return isinstance(obj, dd.DataFrame)


def is_dask_series(obj) -> bool:
    import dask.dataframe as dd
    return isinstance(obj, dd.Series)


# ----------------------------------------------------------------------------- predict
def _predict_array(X, coef, intercept, single):
    from .objective import predict as _predict
    if hasattr(X, "tocsr") and not isinstance(X, np.ndarray):     # a sparse chunk, as is
        from .rows.sparse import as_csr
        out = np.asarray(_predict(as_csr(X), coef, intercept))
    else:
        out = _predict(np.asarray(X, dtype=np.float64), coef, intercept)
    return out[:, 0] if single else out


def _predict_frame(df, features, coef, intercept, single, names):
    import pandas as pd
    from .objective import predict as _predict
    out = _predict(df[features].to_numpy(dtype=np.float64), coef, intercept)
    if single:
        return pd.Series(out[:, 0], index=df.index, name=names)
    return pd.DataFrame(out, index=df.index, columns=names)


def predict(model, X):
    """Lazy predictions ``ŷ = X w + b`` for a dask array or DataFrame."""
    require_dask()
    import dask.array as da
    from sklearn.utils.validation import check_is_fitted
    check_is_fitted(model)
    single = model.coef_.ndim == 1
    coef = (model.coef_[:, None] if single else model.coef_.T).astype(np.float64)
    intercept = np.atleast_1d(np.asarray(model.intercept_, dtype=np.float64))
    d = coef.shape[0]
    if is_dask_frame(X):
        names = getattr(model, "feature_names_in_", None)
        features = list(names) if names is not None else list(X.columns)
        missing = [c for c in features if c not in X.columns]
        if missing:
            raise ValueError(f"the DataFrame lacks the feature column(s) {missing} the model "
                             "was fitted with")
        if len(features) != d:
            raise ValueError(f"X has {len(features)} feature columns, the model expects {d}")
        if single:
            meta = ("prediction", "f8")
            label = "prediction"
        else:
            import pandas as pd
            label = [f"prediction_{j}" for j in range(coef.shape[1])]
            meta = pd.DataFrame({c: np.array([], dtype="f8") for c in label})
        return X.map_partitions(_predict_frame, features, coef, intercept, single, label,
                                meta=meta)
    if not isinstance(X, da.Array) or X.ndim != 2:
        raise ValueError("predict on dask input needs a 2-D dask array or a dask DataFrame")
    if X.shape[1] != d:
        raise ValueError(f"X has {X.shape[1]} features, the model expects {d}")
    X = X.rechunk({1: -1})
    if single:
        return X.map_blocks(_predict_array, coef, intercept, True, drop_axis=1, dtype=np.float64,
                            meta=np.empty((0,)))
    return X.map_blocks(_predict_array, coef, intercept, False,
                        chunks=(X.chunks[0], (coef.shape[1],)), dtype=np.float64,
                        meta=np.empty((0, 0)))
