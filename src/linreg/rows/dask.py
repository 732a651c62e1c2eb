"""Rows of dask arrays and dask DataFrames (:class:`DaskRows`): every pass runs on the
workers, partition by partition, and only small results travel (see
:mod:`linreg.dask_support` for the whole story).

A dask array whose chunks are ``scipy.sparse`` matrices (``da.from_array(X_csr,
chunks=(m, d), asarray=False)``, or ``map_blocks`` returning CSR) is read as
:class:`~linreg.rows.SparseRows` reads one matrix in memory, one partition at a time on its
worker, and never densified whole: each partition's statistics come from sparse products
(:func:`~linreg.rows.sparse.sparse_stats`), its QR factor from dense blocks of bounded size
(:meth:`SparseRows.qr_factor`), the stochastic solvers get each partition as a canonical CSR
matrix (the compiled CSR kernels read it in place), the residual pass of ``summary()`` reads
it as CSR, and other passes over the rows get it in dense blocks of at most
:func:`~linreg.rows.sparse.dense_block_rows` rows.  Chunks split along the columns are
rechunked to whole rows (Dask concatenates sparse chunks as sparse matrices), as dense ones
are.  A NaN or infinity stored in a chunk is named by its row in the whole array and its
column."""

from __future__ import annotations

import numpy as np

from ..tsqr import merge_qr_factors, qr_factor
from ..dask_support import is_dask_frame, is_dask_series
from ..stats import SufficientStats, representative_point, shifted_stats, unshift
from ..validation import name_list
from .base import Rows
from .sparse import (SparseRows, as_csr, check_sparse_finite, dense_block_rows,
                     shifted_sparse_stats, sparse_point)

__all__ = ["DaskRows"]


# ----------------------------------------------------------------------------- partitions
def _bad(where: str, A, names, what, first):
    """Raise naming the first non-finite value of ``A`` (rows labelled by ``first(r)``)."""
    from ..validation import first_nonfinite
    hit = first_nonfinite(A)
    if hit is None:
        return
    r, j = hit
    v = A[r, j]
    kind = "NaN or a missing value" if np.isnan(v) else ("inf" if v > 0 else "-inf")
    col = f"column {j}" + (f" ({names[j]!r})" if names is not None else "")
    raise ValueError(f"{where}, {first(r)}: {what} {col} is {kind}; linreg needs finite numbers "
                     "(drop or impute missing values first)")


def _check_weights(where: str, w, first) -> None:
    """Raise naming the first sample weight that is not a finite number >= 0."""
    _bad(where, w.reshape(-1, 1), ["sample_weight"], "sample weight", first)
    if np.any(w < 0):
        r = int(np.flatnonzero(w < 0)[0])
        raise ValueError(f"{where}, {first(r)}: sample_weight is {float(w[r])!r}; it must be >= 0")


def _checked_stats(X, Y, w, K, where: str, first, feature_names, target_names) -> SufficientStats:
    """Statistics of one partition around the common point ``K`` (checked)."""
    try:
        with np.errstate(invalid="ignore", over="ignore"):  # checked just below
            s = shifted_stats(X, Y, w, K)
    except ValueError as e:      # values too large/small for float64 sums of squares
        _bad(where, X, feature_names, "feature", first)
        _bad(where, Y, target_names, "target", first)
        raise ValueError(f"{where}: {e}") from None
    if not s.is_finite() or w is not None:
        _bad(where, X, feature_names, "feature", first)
        _bad(where, Y, target_names, "target", first)
        if w is not None:
            _check_weights(where, w, first)
        if not s.is_finite():
            raise ValueError(f"{where}: the sums of squares overflow float64; rescale the data")
    return s


def _aligned(A):
    """``A`` with every value at an address that is a multiple of its size (a copy when not).

    A partition that arrives over the network may sit at any byte offset of the message it
    came in; NumPy's reductions and BLAS take other code paths on such arrays and round
    differently, so the same partition would give other bits from one run to the next.
    A sparse matrix: its three arrays."""
    if _is_sparse(A):
        parts = (A.data, A.indices, A.indptr)
        if all(a.flags.aligned for a in parts):
            return A
        return type(A)(tuple(_aligned(a) for a in parts), shape=A.shape)
    return A if A is None or A.flags.aligned else A.copy(order="K")


def _is_sparse(A) -> bool:
    """Whether ``A`` (a block, or a dask array's ``_meta``) is a ``scipy.sparse`` matrix."""
    return A is not None and hasattr(A, "tocsr") and not isinstance(A, np.ndarray)


def _aligned_block(block: tuple) -> tuple:
    return tuple(_aligned(A) if isinstance(A, np.ndarray) or _is_sparse(A) else A
                 for A in block)


def _run_aligned(func, block, at, numbered: bool = False) -> list:
    """``[func(block, at)]`` on the block's arrays aligned (:func:`_aligned`): a block of rows
    computed on one worker may be used on another, or on the client.

    A partition of sparse rows goes to a ``func`` not marked ``accepts_sparse`` as dense
    pieces of at most :func:`~linreg.rows.sparse.dense_block_rows` rows, in order:
    ``[func(piece, at + the piece's first row)]`` when ``numbered`` (``at`` is a row
    number), else ``[func(piece, at)]``."""
    block = _aligned_block(block)
    X = block[0]
    if not _is_sparse(X) or getattr(func, "accepts_sparse", False):
        return [func(block, at)]
    m = X.shape[0]
    size = dense_block_rows(X.shape[1])
    out = []
    for lo in range(0, m, size) if m else [0]:      # an empty partition: one empty block
        hi = min(lo + size, m)
        piece = (X[lo:hi].toarray(), block[1][lo:hi], None if block[2] is None else block[2][lo:hi])
        if len(block) > 3:
            piece += (tuple(g[lo:hi] for g in block[3]),)
        out.append(func(piece, at + lo if numbered else at))
    return out


def _run_whole(func, block, at):
    """``func(block, at)`` on the block's arrays aligned, a sparse partition as one CSR ``X``
    (for the passes of :meth:`DaskRows.map_blocks_with` and ``map_blocks_checking``, whose
    functions read both layouts)."""
    return func(_aligned_block(block), at)


def _array_block(X, Y, w):
    X = _aligned(as_csr(X) if _is_sparse(X) else np.asarray(X))     # sparse: canonical CSR
    Y = _aligned(np.asarray(Y, dtype=np.float64))
    Y = Y.reshape(X.shape[0], 1 if Y.ndim == 1 else Y.shape[1])   # an empty partition too
    w = None if w is None else _aligned(np.asarray(w, dtype=np.float64).reshape(-1))
    return X, Y, w


def _array_point(X, Y):
    X, Y, _ = _array_block(X, Y, None)
    return sparse_point(X, Y) if _is_sparse(X) else representative_point(X, Y)


def _array_partition_stats(X, Y, w, K, index, first_row):
    X, Y, w = _array_block(X, Y, w)
    where, first = f"dask partition {index}", (lambda r: f"row {first_row + r}")
    if _is_sparse(X):
        return _sparse_checked_stats(X, Y, w, K, where, first, first_row)
    return _checked_stats(X, Y, w, K, where, first, None, None)


def _sparse_checked_stats(X, Y, w, K, where: str, first, first_row: int) -> SufficientStats:
    """Statistics of one partition of sparse rows (as :class:`~linreg.rows.SparseRows`
    forms them in memory), relative to ``K``; non-finite values named by their row in the
    whole array."""
    check_sparse_finite(X, f"{where} of X", None, first_row)
    _bad(where, Y, None, "target", first)
    if w is not None:
        _check_weights(where, w, first)
    try:
        return shifted_sparse_stats(X, Y, w, K)
    except ValueError as e:      # values too large/small for float64 sums of squares
        raise ValueError(f"{where}: {e}") from None


def _frame_block(df, features, targets, weight):
    X = df[features].to_numpy(dtype=np.float64, na_value=np.nan)
    Y = df[targets].to_numpy(dtype=np.float64, na_value=np.nan)
    w = None if weight is None else df[weight].to_numpy(dtype=np.float64, na_value=np.nan)
    # C order whatever the frame's blocks are (a view of one is in Fortran order): the same
    # arithmetic for every partition
    return _aligned_block((np.ascontiguousarray(X), np.ascontiguousarray(Y), w))


def _frame_grouped_block(df, features, targets, weight, names):
    return _frame_block(df, features, targets, weight) + (
        tuple(df[name].to_numpy() for name in names),)


def _array_grouped_block(X, Y, w, labels):
    return _array_block(X, Y, w) + (labels,)


def _label(value):
    return value.item() if isinstance(value, np.generic) else value


def _frame_point(df, features, targets):
    X, Y, _ = _frame_block(df, features, targets, None)
    return representative_point(X, Y)


def _frame_partition_stats(df, features, targets, weight, K, index):
    X, Y, w = _frame_block(df, features, targets, weight)
    return _checked_stats(X, Y, w, K, f"dask DataFrame partition {index}",
                          lambda r: f"row {r} (index {_label(df.index[r])!r})", features, targets)


def _array_partition_factor(X, Y, w, design, y_shift):
    X, Y, w = _array_block(X, Y, w)
    if _is_sparse(X) and X.shape[0]:     # from dense blocks of bounded size, as in memory
        return SparseRows(X, Y, w).qr_factor(design, y_shift)
    if _is_sparse(X):
        X = np.zeros(X.shape)
    return qr_factor(X, Y, design, w, y_shift)


def _frame_partition_factor(df, features, targets, weight, design, y_shift):
    X, Y, w = _frame_block(df, features, targets, weight)
    return qr_factor(X, Y, design, w, y_shift)


def _merge_stats(a: SufficientStats, b: SufficientStats) -> SufficientStats:
    return a.merge(b)


def tree_reduce(items: list, merge):
    """Pairwise (binary-tree) reduction of delayed values: depth ⌈log₂ len(items)⌉."""
    from dask import delayed
    merge = delayed(merge, pure=True)
    while len(items) > 1:
        items = [merge(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
                 for i in range(0, len(items), 2)]
    return items[0]


def _shown_groups(groups) -> str:
    return ", ".join(repr(g) if isinstance(g, str) else f"an array of {len(g)} labels"
                     for g in groups)


# ----------------------------------------------------------------------------- inputs
class DaskRows(Rows):
    """The rows of dask arrays or a dask DataFrame (:class:`linreg.rows.Rows`): partitions as
    delayed objects, each turned into what is asked of it where it lives.  ``exclude``: columns
    of a DataFrame that are not features (the cluster labels a summary reads along)."""

    def __init__(self, X, y, sample_weight, exclude=()):
        import dask.array as da
        from dask import delayed
        self.delayed = delayed
        self.feature_names = None
        if is_dask_frame(X):
            if y is None:
                raise ValueError("fitting a dask DataFrame needs the target: fit(df, 'y') with "
                                 "the target column's name (or a list of names), or a dask Series")
            if sample_weight is not None and not isinstance(sample_weight, str):
                raise ValueError("with a dask DataFrame, give sample_weight as a column name")
            frame = X
            if is_dask_series(y):
                name = y.name if y.name is not None else "__target__"
                if name in frame.columns:
                    name = "__target__"
                frame = frame.assign(**{name: y})
                targets, self.single_target = [name], True
                features = [c for c in X.columns if c != sample_weight and c not in exclude]
            else:
                targets = name_list(y)
                self.single_target = isinstance(y, str)
                for t in targets + ([sample_weight] if sample_weight else []):
                    if t not in frame.columns:
                        raise ValueError(f"column {t!r} is not in the DataFrame; its columns are "
                                         f"{list(frame.columns)}")
                features = [c for c in frame.columns
                            if c not in targets and c != sample_weight and c not in exclude]
            for c in features + targets + ([sample_weight] if sample_weight else []):
                if frame.dtypes[c].kind not in "biuf":
                    raise ValueError(f"column {c!r} has dtype {frame.dtypes[c]}, not numbers; "
                                     "drop or encode it first")
            if not features:
                raise ValueError("the DataFrame has no feature columns besides the target")
            self.feature_names = [str(c) for c in features]
            self.target_names = ([str(t) for t in targets]
                                 if all(isinstance(t, str) for t in targets) else None)
            if is_dask_series(y) and not isinstance(y.name, str):
                self.target_names = None
            self.n_features, self.n_targets = len(features), len(targets)
            parts = frame.to_delayed()
            # every partition's statistics are accumulated around one point K (from the first
            # partition), so the merges keep full accuracy; K is d + k numbers
            self._point = delayed(_frame_point, pure=True)(parts[0], features, targets)
            self._stats = [delayed(_frame_partition_stats, pure=True)(p, features, targets,
                                                                      sample_weight, self._point, i)
                           for i, p in enumerate(parts)]
            self._factor = lambda design, y_shift: [
                delayed(_frame_partition_factor, pure=True)(p, features, targets, sample_weight,
                                                            design, y_shift) for p in parts]
            self._rows = [delayed(_frame_block, pure=True)(p, features, targets, sample_weight)
                          for p in parts]
            self._lengths = [delayed(len, pure=True)(p) for p in parts]
            self._starts = None       # found on demand (a count of each partition's rows)
            self._columns = list(frame.columns)

            def grouped(groups):
                bad = [g for g in groups if not isinstance(g, str) or g not in self._columns]
                if bad:
                    raise ValueError(
                        "with a dask DataFrame, give groups as column names of it "
                        f"({self._columns}); got {_shown_groups(bad)}")
                return [delayed(_frame_grouped_block, pure=True)(p, features, targets,
                                                                 sample_weight, list(groups))
                        for p in parts]
            self._grouped = grouped
            return
        if not isinstance(X, da.Array):
            raise ValueError(f"X is a {type(X).__name__}; linreg fits dask arrays and dask "
                             "DataFrames (or numpy arrays, or linreg.sources)")
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (rows, features), got {X.ndim}-D")
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X has dtype {X.dtype}, not numbers")
        if y is None:
            raise ValueError("fitting a dask array needs y")
        for name, a in (("y", y), ("sample_weight", sample_weight)):
            if _is_sparse(a) or _is_sparse(getattr(a, "_meta", None)):
                raise ValueError(f"{name} is sparse ({type(getattr(a, '_meta', a)).__name__} "
                                 f"{'chunks' if hasattr(a, '_meta') else 'matrix'}); linreg "
                                 f"needs a dense {name} (X may be sparse)")
        y = y if isinstance(y, da.Array) else da.asarray(np.asarray(y))
        if y.ndim not in (1, 2) or y.dtype.kind not in "biuf":
            raise ValueError(f"y must be a 1-D or 2-D array of numbers, got {y.ndim}-D {y.dtype}")
        # unknown chunk sizes (e.g. from a DataFrame's to_dask_array()): find them first
        if any(np.isnan(c) for c in X.chunks[0]):
            X = X.compute_chunk_sizes()
        if any(np.isnan(c) for c in y.chunks[0]):
            y = y.compute_chunk_sizes()
        n = X.shape[0]
        if y.shape[0] != n:
            raise ValueError(f"X has {n} rows but y has {y.shape[0]}")
        # whole rows in each block (sparse chunks are concatenated as sparse matrices)
        X = X.rechunk({1: -1})
        rows = X.chunks[0]
        y = y.rechunk((rows,) + ((-1,) if y.ndim == 2 else ()))
        if sample_weight is not None:
            sample_weight = (sample_weight if isinstance(sample_weight, da.Array)
                             else da.asarray(np.asarray(sample_weight, dtype=np.float64)))
            if any(np.isnan(c) for c in sample_weight.chunks[0]):
                sample_weight = sample_weight.compute_chunk_sizes()
            if sample_weight.shape != (n,):
                raise ValueError(f"sample_weight must have shape ({n},), got {sample_weight.shape}")
            sample_weight = sample_weight.rechunk((rows,))
        self.single_target = y.ndim == 1
        self.n_features = X.shape[1]
        self.n_targets = 1 if y.ndim == 1 else y.shape[1]
        xs = X.to_delayed().ravel()
        ys = y.to_delayed().ravel()
        ws = [None] * len(xs) if sample_weight is None else sample_weight.to_delayed().ravel()
        starts = np.concatenate([[0], np.cumsum(rows)[:-1]]).astype(int).tolist()
        self._point = delayed(_array_point, pure=True)(xs[0], ys[0])
        self._stats = [delayed(_array_partition_stats, pure=True)(a, b, c, self._point, i, s)
                       for i, (a, b, c, s) in enumerate(zip(xs, ys, ws, starts))]
        self._factor = lambda design, y_shift: [
            delayed(_array_partition_factor, pure=True)(a, b, c, design, y_shift)
            for a, b, c in zip(xs, ys, ws)]
        self._rows = [delayed(_array_block, pure=True)(a, b, c) for a, b, c in zip(xs, ys, ws)]
        self._starts, self._n_rows = starts, int(n)
        bounds = list(zip(starts, np.cumsum(rows).astype(int).tolist(), strict=True))

        def grouped(groups):
            from .base import array_groups
            array_groups(groups, "dask arrays")
            return [delayed(_array_grouped_block, pure=True)(
                        a, b, c, tuple(np.asarray(g[lo:hi]) for g in groups))
                    for (a, b, c), (lo, hi) in zip(zip(xs, ys, ws, strict=True), bounds,
                                                   strict=True)]
        self._grouped = grouped

    def stats(self) -> SufficientStats:
        import dask
        total, K = dask.compute(tree_reduce(self._stats, _merge_stats), self._point)
        if total.n_rows == 0:
            raise ValueError("the dask collection holds no rows")
        if total.weight_sum <= 0:
            raise ValueError("sample_weight is zero for every row: there is nothing to fit")
        return unshift(total, K)

    def blocks(self, shuffle: bool = False, rng=None):
        """The partitions' rows brought to the client one at a time, for the stochastic
        solvers: in a random order with the rows of each shuffled (not a global shuffle).
        A partition of sparse rows comes as one canonical CSR matrix (the compiled CSR
        kernels read it in place)."""
        rng = np.random.default_rng(rng)
        order = rng.permutation(len(self._rows)) if shuffle else range(len(self._rows))
        for i in order:
            X, Y, w = _aligned_block(self._rows[i].compute())
            if shuffle:
                perm = rng.permutation(X.shape[0])
                X, Y, w = X[perm], Y[perm], None if w is None else w[perm]
                if _is_sparse(X):
                    X = as_csr(X)
            yield X, Y, w

    def qr_factor(self, design, y_shift=None) -> np.ndarray:
        """The TSQR factor of all rows: each partition's factor computed where it lives,
        merged in a binary tree on the cluster; only the final factor comes back."""
        return tree_reduce(self._factor(design, y_shift), merge_qr_factors).compute()

    def map_blocks(self, func, groups: tuple = ()) -> list:
        """``[func((X, Y, w), index) for each partition]``, in partition order (with
        ``groups``, ``(X, Y, w, labels)``: column names of a DataFrame, read where the
        partition is; or label arrays aligned with the rows of dask arrays, each partition's
        slice sent with its task).

        Each call runs on the cluster, where the partition's rows are (``X`` (m, d) and
        ``Y`` (m, k) float arrays, ``w`` (m,) or None; a partition of sparse rows as a CSR
        ``X`` for a ``func`` marked ``accepts_sparse``, else as dense pieces of bounded size,
        a call each: :func:`_run_aligned`); only the results come back to the
        client, so ``func`` should return something small (the summary's residual pass
        returns its partial totals).  ``func`` travels with every task: keep its bound
        arguments small too.
        """
        import dask
        parts = self._grouped(groups) if groups else self._rows
        tasks = [self.delayed(_run_aligned, pure=False)(func, rows, i)
                 for i, rows in enumerate(parts)]
        return [out for part in dask.compute(*tasks) for out in part]

    def row_count(self) -> int:
        """Known for dask arrays (their chunk sizes); a DataFrame's partitions are counted
        (once: a pass that reads them and returns only their lengths)."""
        self._count_rows()
        return self._n_rows

    def _count_rows(self) -> None:
        if self._starts is None:
            import dask
            lengths = dask.compute(*self._lengths)
            self._starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
            self._n_rows = int(sum(lengths))

    def map_blocks_with(self, func, vector=None, combine=None):
        """``[func((X, Y, w), piece) for each partition]``, run on the cluster, each task sent
        only its partition's rows of ``vector`` (``piece``; None without ``vector``): a
        product with an n-vector travels as n numbers in all, not n per partition.  With
        ``combine``, the results are combined on the cluster in a binary tree
        (:func:`tree_reduce`) and only the one result comes back.  For a DataFrame the
        partitions' row counts are found first (once)."""
        import dask
        self._count_rows()
        ends = self._starts[1:] + [self._n_rows]
        tasks = [self.delayed(_run_whole, pure=False)(
                     func, rows, None if vector is None else np.ascontiguousarray(vector[s:e]))
                 for rows, s, e in zip(self._rows, self._starts, ends, strict=True)]
        if combine is not None:
            return tree_reduce(tasks, combine).compute() if tasks else None
        return list(dask.compute(*tasks))

    def map_blocks_checking(self, func, combine=None):
        """As :meth:`map_blocks_at` (``func`` checks its own sums); with ``combine``, the
        results combined in a binary tree on the cluster, only the one result back."""
        if combine is None:
            return self.map_blocks_at(func)
        self._count_rows()
        tasks = [self.delayed(_run_whole, pure=False)(func, rows, s)
                 for rows, s in zip(self._rows, self._starts)]
        return tree_reduce(tasks, combine).compute() if tasks else None

    def map_blocks_at(self, func) -> list:
        """``[func((X, Y, w), start) for each partition]``, in partition order, run on the
        cluster; ``start`` is the global row number of the partition's first row (of each
        dense piece of a sparse partition: :func:`_run_aligned`).  For a
        DataFrame the partitions' row counts are found first (a pass that counts rows)."""
        import dask
        self._count_rows()
        tasks = [self.delayed(_run_aligned, pure=False)(func, rows, s, True)
                 for rows, s in zip(self._rows, self._starts)]
        return [out for part in dask.compute(*tasks) for out in part]
