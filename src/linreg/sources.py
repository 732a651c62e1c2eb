"""Data sources bigger than memory: ``.npy``, Parquet and CSV files read in row blocks.

A source gives the rows of ``X`` (features), ``Y`` (targets) and, optionally, sample
weights ``s`` in blocks of about ``chunk_rows`` rows, so the memory a pass needs is bounded
by the block size whatever the file size::

    for X_block, Y_block, w_block in source.blocks():   # X (m, d), Y (m, k), w (m,) or None
        ...

Everything the batch solvers need is the :class:`~linreg.stats.SufficientStats` of the
rows, computed in **one pass** (:meth:`Source.stats`): each block's statistics are
computed on its own mean and merged exactly with Chan et al.'s update, so
``LinearRegression().fit(source)`` gives the coefficients of the in-memory fit.

Every block is checked as it is read.  A bad value (not a number, empty, NaN, ±inf), a
row with the wrong number of columns, or a weight below zero raises
:class:`MalformedDataError` naming the file, the row (0-based, counting data rows over all
the files of the source), the line of a CSV file (1-based, the header is line 1) and the
column.

:func:`from_file` opens any of the formats by its extension (CSV, Parquet, ``.npy``,
``.npz``), with or without a target column; ``chunk_rows=None`` reads the whole file as one
block, the fastest way when it fits in memory (what :func:`linreg.io.read_table` does).

Each file's size and modification time are recorded when the source is created and checked
before every block and at the end of every pass: a file that changes meanwhile raises
:class:`SourceChangedError` (create a new source to read the new contents).

Shuffled passes (``blocks(shuffle=True)``, used by the stochastic solvers) visit the
blocks in a random order and shuffle the rows *within* each block.  That is not a global
shuffle: rows of one block stay together in an epoch.  If the file is sorted (by time, by
target, ...), use blocks small compared with the file, or shuffle the file once first.

Examples
--------
>>> import numpy as np, tempfile, os
>>> from linreg import LinearRegression, sources
>>> folder = tempfile.mkdtemp()
>>> t = np.arange(10.0); X = np.column_stack([t, t**2]); y = X @ [1.0, -2.0] + 3.0
>>> np.save(os.path.join(folder, "X.npy"), X); np.save(os.path.join(folder, "y.npy"), y)
>>> src = sources.npy(os.path.join(folder, "X.npy"), os.path.join(folder, "y.npy"), chunk_rows=3)
>>> model = LinearRegression().fit(src)
>>> np.round(model.coef_, 10).tolist(), round(float(model.intercept_), 10)
([1.0, -2.0], 3.0)
"""

from __future__ import annotations

import csv as _csv
import glob as _glob
import io
import math
import os
import zipfile
from collections import Counter
from dataclasses import dataclass
from typing import Iterator, NamedTuple

import numpy as np

from .parallel import map_in_threads
from .stats import (SufficientStats, representative_point,
                    shifted_stats, unshift)
from .validation import check_positive_int, first_nonfinite, most_columns, name_list

__all__ = ["Source", "NpySource", "ParquetSource", "CsvSource", "ArraySource", "npy",
           "parquet", "csv", "arrays", "from_file", "is_source", "representative_point",
           "shifted_stats", "unshift", "Table", "MalformedDataError", "SourceChangedError",
           "DEFAULT_CHUNK_ROWS", "CSV_SUFFIXES", "PARQUET_SUFFIXES"]

#: rows per block unless told otherwise: ~50 MB of float64 at 100 columns.
DEFAULT_CHUNK_ROWS = 65_536

#: the file name extensions :func:`from_file` reads as CSV and as Parquet
CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


class MalformedDataError(ValueError):
    """A data file, a value or a row in it cannot be used: the message names the file, the
    column and (where it applies) the line and row.  (:class:`linreg.io.DataFileError` is the
    same class.)"""


class SourceChangedError(RuntimeError):
    """A file of a source changed (size or modification time) while it was being read."""


class Table(NamedTuple):
    """Everything a source holds, in memory: what :meth:`Source.read_all` returns."""

    X: np.ndarray                 # (n, d) float64 (float32 .npy files stay float32)
    y: np.ndarray                 # (n,) for one target, (n, k) for several
    feature_names: list | None    # None for .npy files
    target_name: object           # str, list of str (several targets) or None (.npy)


def _need_pyarrow(what: str):
    try:
        import pyarrow  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            f"reading {what} files needs pyarrow, which is not installed; install the 'files' "
            "extra: pip install 'linreg[files]'") from None
    import pyarrow
    return pyarrow


@dataclass(frozen=True)
class _FileState:
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path) -> "_FileState":
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class _RawChunk:
    """One block as read from the file(s), before conversion to float64."""

    X: np.ndarray
    Y: np.ndarray           # (m, k)
    w: np.ndarray | None
    first_row: int          # global data-row index of the first row
    file: str               # where the rows came from (for messages)
    file_row: int           # data-row index of the first row within that file


def _label(j: int, names) -> str:
    if names is not None and j < len(names):
        return f"column {j} ({names[j]!r})"
    return f"column {j}"


def _describe(value) -> str:
    if isinstance(value, (float, np.floating)):
        return "NaN or a missing value" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(value)


class Source:
    """Rows of ``X``, ``Y`` and weights, read from files in blocks.  See the module docstring.

    Attributes
    ----------
    feature_names : list of str or None
    target_names : list of str or None
    n_features, n_targets : int
    single_target : bool
        The target was named by one string (or is a 1-D ``.npy``): ``y`` is 1-D.
    chunk_rows : int
    """

    feature_names: list | None
    target_names: list | None
    n_features: int
    n_targets: int
    single_target: bool
    chunk_rows: int
    has_weights: bool = False

    # -- to be provided by each kind of file
    def _files(self) -> list:
        raise NotImplementedError

    def _chunks(self, order: np.ndarray | None) -> Iterator[_RawChunk]:
        """Raw chunks, in file order (``order=None``) or in the given order of chunk indices."""
        raise NotImplementedError

    def _n_chunks(self) -> int:
        raise NotImplementedError

    # -- shared
    def _snapshot(self) -> None:
        self._states = {f: _FileState.of(f) for f in self._files()}

    def check_unchanged(self) -> None:
        """Raise :class:`SourceChangedError` if a file changed since the source was created."""
        for f, before in self._states.items():
            try:
                now = _FileState.of(f)
            except FileNotFoundError:
                raise SourceChangedError(f"{f} was removed after the source was opened") from None
            if now != before:
                mtime = "changed" if now.mtime_ns != before.mtime_ns else "same"
                raise SourceChangedError(
                    f"{f} changed after the source was opened (size {before.size} -> {now.size} "
                    f"bytes, modification time {mtime}); the rows read so far no longer "
                    "describe one data set. Create a new source to read the new contents.")

    def _check_chunk(self, c: _RawChunk) -> None:
        """Raise :class:`MalformedDataError` for the first non-finite value or negative weight."""
        for A, names, what in ((c.X, self.feature_names, "feature"),
                               (c.Y, self.target_names, "target")):
            where = first_nonfinite(A)
            if where is not None:
                r, j = where
                self._bad_value(c, r, j, names, what, A[r, j])
        if c.w is not None:
            where = first_nonfinite(c.w.reshape(-1, 1))
            if where is not None:
                self._bad_value(c, where[0], 0, [self._weight_label()], "sample weight",
                                c.w[where[0]])
            neg = np.flatnonzero(c.w < 0)
            if neg.size:
                r = int(neg[0])
                raise MalformedDataError(
                    f"{self._where(c, r)}, sample weight {self._weight_label()!r} is "
                    f"{float(c.w[r])!r}; weights must be >= 0")

    def _weight_label(self) -> str:
        return "sample weight"

    def _where(self, c: _RawChunk, r: int) -> str:
        """Where row ``r`` of chunk ``c`` is: the file and its row (and the source's row when
        the source has several files)."""
        text = f"{c.file}: row {c.file_row + r}"
        return text + (f" (row {c.first_row + r} of the source)" if len(self._files()) > 1 else "")

    def _bad_value(self, c: _RawChunk, r: int, j: int, names, what: str, value):
        raise MalformedDataError(
            f"{self._where(c, r)}, {what} {_label(j, names)} is {_describe(value)}; linreg "
            "needs finite numbers (drop or impute missing values first)")

    def _no_rows(self) -> MalformedDataError:
        return MalformedDataError(f"{' and '.join(map(str, self._files()))}: no data rows to "
                                  "read")

    def _all_zero_weights(self, n_rows: int) -> MalformedDataError:
        return MalformedDataError(
            f"{' and '.join(map(str, self._files()))}: the sample weights "
            f"({self._weight_label()!r}) are zero in every row, rows 0–{n_rows - 1}: there is "
            "nothing to fit")

    def _gather(self) -> tuple:
        """All rows in memory, in one pass: ``(X, Y, w)`` with ``Y`` (n, k) and ``w`` (n,) or
        None; refuses a source without rows, or whose weights are all zero."""
        Xs, Ys, ws = [], [], []
        for X, Y, w in self.blocks():
            Xs.append(X)
            Ys.append(Y)
            ws.append(w)
        if not Xs or sum(len(X) for X in Xs) == 0:
            raise self._no_rows()
        one = len(Xs) == 1
        X = Xs[0] if one else np.concatenate(Xs)
        Y = Ys[0] if one else np.concatenate(Ys)
        w = None if ws[0] is None else (ws[0] if one else np.concatenate(ws))
        if w is not None and not np.any(w > 0):
            raise self._all_zero_weights(len(w))
        return X, Y, w

    def _order(self, shuffle: bool, rng: np.random.Generator) -> np.ndarray | None:
        return rng.permutation(self._n_chunks()) if shuffle else None

    def blocks(self, shuffle: bool = False, random_state=None) -> Iterator[tuple]:
        """Yield ``(X_block, Y_block, w_block)``: float64 (float32 stays float32) ``(m, d)``,
        float64 ``(m, k)``, and float64 ``(m,)`` or ``None``; every value checked.

        With ``shuffle=True`` the blocks come in a random order and the rows of each block
        are permuted (not a global shuffle: see the module docstring).
        """
        rng = np.random.default_rng(random_state)
        for c in self._chunks(self._order(shuffle, rng)):
            self._check_chunk(c)
            # never hand out views of a memory map (np.array copies): the caller may keep them
            copy = isinstance(c.X, np.memmap) or isinstance(c.Y, np.memmap)
            conv = np.array if copy else np.asarray
            X = conv(c.X, dtype=np.float32 if c.X.dtype == np.float32 else np.float64)
            Y = conv(c.Y, dtype=np.float64)
            w = None if c.w is None else np.array(c.w, dtype=np.float64)
            if shuffle:
                perm = rng.permutation(X.shape[0])
                X, Y = X[perm], Y[perm]
                w = None if w is None else w[perm]
            yield X, Y, w
        self.check_unchanged()

    __iter__ = blocks

    def stats(self) -> SufficientStats:
        """The :class:`~linreg.stats.SufficientStats` of all rows, in one pass.

        Every block is accumulated around one point ``K`` (the median of the first rows), so
        the merges keep full accuracy even when the means are huge next to the spread.
        """
        if self.n_targets == 0:
            raise ValueError(f"{self!r} has no target column (target=None): its rows can be "
                             "read, not fitted")
        total = SufficientStats.empty(self.n_features, self.n_targets)
        K = None
        for c in self._chunks(None):
            if K is None:
                K = representative_point(c.X, c.Y)
            try:
                with np.errstate(invalid="ignore", over="ignore"):  # checked just below
                    s = shifted_stats(c.X, c.Y, c.w, K)
            except ValueError as e:      # values too large/small for float64 sums of squares
                self._check_chunk(c)     # names a NaN/inf, if that is the cause
                raise MalformedDataError(
                    f"{c.file}: rows {c.file_row}–{c.file_row + c.X.shape[0] - 1}: {e}") from None
            if not s.is_finite() or c.w is not None:
                self._check_chunk(c)  # names the bad value
                if not s.is_finite():
                    raise MalformedDataError(
                        f"{c.file}: rows {c.file_row}–{c.file_row + c.X.shape[0] - 1}: the sums "
                        "of squares overflow float64 (values too large); rescale the data")
            total = total.merge(s)
        self.check_unchanged()
        if total.n_rows == 0:
            raise self._no_rows()
        if total.weight_sum <= 0:
            raise self._all_zero_weights(total.n_rows)
        return unshift(total, K)

    def read_all(self) -> Table:
        """All rows in memory: ``(X, y, feature_names, target_name)`` (see :class:`Table`).

        ``y`` is 1-D for one target, None without a target.  Weights, if the source has
        them: :meth:`read_weights`.
        """
        X, Y, _ = self._gather()
        y = None if self.n_targets == 0 else (Y[:, 0] if self.single_target else Y)
        names = None if not self.target_names else (
            self.target_names[0] if self.single_target else list(self.target_names))
        return Table(X, y, None if self.feature_names is None else list(self.feature_names), names)

    to_arrays = read_all

    def read_weights(self) -> np.ndarray | None:
        """All sample weights in memory, or ``None`` when the source has none."""
        if not self.has_weights:
            return None
        return np.concatenate([w for _, _, w in self.blocks()])


def _check_width(n_columns: int, where: str, how: str, limit: int | None = None) -> None:
    """Refuse, before reading any row, more columns than ``limit`` (default: as many as the
    (d+k)×(d+k) statistics of a fit can hold in this machine's memory)."""
    limit = most_columns() if limit is None else limit
    if limit is not None and n_columns > limit:
        raise MalformedDataError(
            f"{where}: {n_columns} columns are chosen, more than the {limit} whose "
            f"{limit}×{limit} statistics fit in this machine's memory; choose fewer columns "
            f"({how})")


def _chunk_rows(chunk_rows) -> int | None:
    """``chunk_rows`` checked: a positive integer, or None for one block per file (per row
    group in Parquet)."""
    return None if chunk_rows is None else check_positive_int("chunk_rows", chunk_rows)


def is_source(obj) -> bool:
    """Whether ``obj`` is a linreg data source."""
    return isinstance(obj, Source)


# ----------------------------------------------------------------------------- .npy
def _npy_header(path, what: str):
    """(shape, dtype, fortran_order, data offset) of a .npy file; refuses object arrays."""
    arr = _load_npy(path)
    if not isinstance(arr, np.memmap):
        raise MalformedDataError(f"{path}: not a single .npy array (an .npz archive?)")
    info = (arr.shape, arr.dtype, bool(arr.flags.f_contiguous and not arr.flags.c_contiguous),
            int(arr.offset))
    del arr
    shape, dtype = info[0], info[1]
    if dtype.kind not in "biuf" or dtype.fields is not None:
        raise MalformedDataError(f"{path}: {what} has dtype {dtype}, not a real number type")
    return info


class NpySource(Source):
    """``.npy`` files read through per-block memory maps (never unpickled).

    Each block maps only its own rows and is unmapped before the next, so the resident
    memory stays about one block whatever the file size.
    """

    def __init__(self, X_path, y_path, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                 sample_weight_path=None):
        self.chunk_rows = check_positive_int("chunk_rows", chunk_rows)
        self.X_path, self.y_path = os.fspath(X_path), os.fspath(y_path)
        self.w_path = None if sample_weight_path is None else os.fspath(sample_weight_path)
        self._x = _npy_header(self.X_path, "X")
        self._y = _npy_header(self.y_path, "y")
        if len(self._x[0]) != 2:
            raise MalformedDataError(f"{self.X_path}: X must be 2-D (rows, features), got shape "
                                     f"{self._x[0]}")
        if len(self._y[0]) not in (1, 2):
            raise MalformedDataError(f"{self.y_path}: y must be 1-D or 2-D, got shape {self._y[0]}")
        n = self._x[0][0]
        if self._y[0][0] != n:
            raise MalformedDataError(f"{self.y_path} has {self._y[0][0]} rows but {self.X_path} "
                                     f"has {n}")
        self._w = None
        if self.w_path is not None:
            self._w = _npy_header(self.w_path, "sample_weight")
            if self._w[0] != (n,):
                raise MalformedDataError(f"{self.w_path}: sample weights must have shape ({n},), "
                                         f"got {self._w[0]}")
        self.has_weights = self._w is not None
        self.n_rows = n
        self.n_features = self._x[0][1]
        self.single_target = len(self._y[0]) == 1
        self.n_targets = 1 if self.single_target else self._y[0][1]
        _check_width(self.n_features + self.n_targets, self.X_path,
                     "a .npy file of fewer columns")
        self.feature_names = None
        self.target_names = None
        self._snapshot()

    def __repr__(self):
        return f"sources.npy({self.X_path!r}, {self.y_path!r}, chunk_rows={self.chunk_rows})"

    def _files(self):
        return [p for p in (self.X_path, self.y_path, self.w_path) if p is not None]

    def _n_chunks(self):
        return max(1, math.ceil(self.n_rows / self.chunk_rows))

    @staticmethod
    def _map(path, header, start, stop):
        shape, dtype, fortran, offset = header
        m = stop - start
        if len(shape) == 1 or not fortran:
            tail = tuple(shape[1:])
            row_bytes = dtype.itemsize * int(np.prod(tail, dtype=np.int64))
            if m == 0 or row_bytes == 0:
                return np.empty((m,) + tail, dtype=dtype)
            return np.memmap(path, dtype=dtype, mode="r", offset=offset + start * row_bytes,
                             shape=(m,) + tail)
        # Fortran order: each column's rows start:stop are contiguous
        n, cols = shape
        out = np.empty((m, cols), dtype=dtype)
        for j in range(cols):
            out[:, j] = np.memmap(path, dtype=dtype, mode="r",
                                  offset=offset + (j * n + start) * dtype.itemsize, shape=(m,))
        return out

    def _chunks(self, order):
        n, step = self.n_rows, self.chunk_rows
        starts = np.arange(0, max(n, 1), step)
        if order is not None:
            starts = starts[order]
        for start in starts.tolist():
            stop = min(start + step, n)
            self.check_unchanged()
            X = self._map(self.X_path, self._x, start, stop)
            Y = self._map(self.y_path, self._y, start, stop)
            if Y.ndim == 1:
                Y = Y.reshape(-1, 1)
            w = None if self._w is None else self._map(self.w_path, self._w, start, stop)
            yield _RawChunk(X, Y, w, start, self.X_path, start)

    def _bad_value(self, c, r, j, names, what, value):
        path = {"feature": self.X_path, "target": self.y_path}.get(what, self.w_path)
        col = f", column {j}" if what != "sample weight" and (what == "feature" or
                                                             self.n_targets > 1) else ""
        raise MalformedDataError(
            f"{path}: row {c.first_row + r}{col} is {_describe(value)}; linreg needs finite "
            "numbers (drop or impute missing values first)")

    def _weight_label(self):
        return str(self.w_path)


def npy(X_path, y_path, chunk_rows: int = DEFAULT_CHUNK_ROWS, sample_weight_path=None) -> NpySource:
    """Rows of ``X`` and ``y`` from two ``.npy`` files (``numpy.save``), ``chunk_rows`` at a time.

    ``X`` must be 2-D, ``y`` 1-D (one target) or 2-D; any real dtype (float32 is read as
    float32, integers are converted).  Files are memory-mapped block by block with
    ``allow_pickle=False``.
    """
    return NpySource(X_path, y_path, chunk_rows, sample_weight_path)


# ----------------------------------------------------------------------------- tables
class _TableSource(Source):
    """Shared column logic of the files with named columns (Parquet, CSV, ``.npy``/``.npz``):
    target, features, drop, weight, and building a block from named columns."""

    def _select(self, columns: list, target, features, drop, weight, where: str,
                features_role: str = "a feature") -> None:
        """Which columns are features, targets and weights; every name checked against the
        file's ``columns``.  ``features_role`` is how a message calls a listed feature."""
        dup = sorted(c for c, times in Counter(columns).items() if times > 1)
        if dup:
            raise MalformedDataError(f"{where}: duplicate column names {dup[:30]} in the header")
        if target is None:
            targets, self.single_target = [], False
        elif isinstance(target, str):
            targets, self.single_target = [target], True
        elif (isinstance(target, (list, tuple)) and target
              and all(isinstance(t, str) for t in target)):
            targets, self.single_target = list(target), False
        else:
            raise ValueError(f"target={target!r} must be a column name, a list of column names "
                             "or None")
        drop = name_list(drop) or []
        features = name_list(features)
        known = set(columns)
        for group, role in ((targets, "the target"), ([] if weight is None else [weight],
                            "the sample weights"), (features or [], features_role),
                            (drop, "to drop")):
            for name in group:
                if name not in known:
                    raise MalformedDataError(f"{where} has no column {name!r} ({role}); its "
                                             f"columns are {_shown(columns)}")
        if features is not None and drop:
            raise ValueError("give features or drop, not both")
        if features is None:
            exclude = set(targets) | set(drop) | {weight}
            features = [c for c in columns if c not in exclude]
        for name in features:
            if name in targets or name == weight:
                role = "the target" if name in targets else "the sample weights"
                raise MalformedDataError(f"column {name!r} is both {role} and a feature")
        if weight is not None and weight in targets:
            raise MalformedDataError(f"column {weight!r} is both the target and the sample "
                                     "weights")
        if not features:
            raise MalformedDataError(f"{where}: no feature columns are left once the target, "
                                     f"weight and dropped columns are removed (target={target!r}"
                                     f", drop={drop})")
        _check_width(len(features) + len(targets), where, "features=[...] or drop=[...]")
        self.feature_names = features
        self.target_names = targets
        self.weight_name = weight
        self.has_weights = weight is not None
        self.n_features = len(features)
        self.n_targets = len(targets)

    def _weight_label(self):
        return str(self.weight_name)

    @property
    def _used(self) -> list:
        """The columns read: features, targets, then the weights."""
        return self.feature_names + self.target_names + (
            [self.weight_name] if self.weight_name is not None else [])

    def _columns_to_chunk(self, getcol, rows, first_row, file, file_row) -> _RawChunk:
        X = np.empty((rows, self.n_features))
        for j, name in enumerate(self.feature_names):
            X[:, j] = getcol(name)
        Y = np.empty((rows, self.n_targets))
        for j, name in enumerate(self.target_names):
            Y[:, j] = getcol(name)
        w = (None if self.weight_name is None
             else np.asarray(getcol(self.weight_name), dtype=np.float64))
        return _RawChunk(X, Y, w, first_row, file, file_row)

    def _arrow_to_chunk(self, data, first_row, file, file_row) -> _RawChunk:
        """A block from a pyarrow Table or RecordBatch (missing values become NaN)."""
        rows = data.num_rows
        w = None
        if self.weight_name is not None:
            w = _arrow_rows(data, [self.weight_name], rows)[:, 0]
        return _RawChunk(_arrow_rows(data, self.feature_names, rows),
                         _arrow_rows(data, self.target_names, rows), w, first_row, file, file_row)


def _arrow_rows(data, names: list, rows: int) -> np.ndarray:
    """The columns ``names`` of a pyarrow Table or RecordBatch as one row-major float64 array,
    a record batch at a time through Arrow's own row-major conversion (``to_tensor``: 3× faster
    than stacking the columns from Python), batches side by side on Arrow's number of
    threads.  Missing values become NaN."""
    import pyarrow as pa

    out = np.empty((rows, len(names)))
    if not names or not rows:
        return out
    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    table = table.select(names)
    if any(t != pa.float64() for t in table.schema.types):     # ints, bools, float32, …
        table = table.cast(pa.schema([pa.field(n, pa.float64()) for n in names]))
    batches = table.to_batches()
    starts = np.cumsum([0] + [b.num_rows for b in batches])

    def convert(i: int) -> None:
        if batches[i].num_rows:
            out[starts[i]:starts[i + 1]] = batches[i].to_tensor(
                null_to_nan=True, row_major=True).to_numpy()

    # batches on Arrow's threads (0.45 s → 0.26 s for 1e6 × 100 on two cores)
    map_in_threads(convert, list(range(len(batches))), pa.cpu_count())
    return out


def _shown(columns: list) -> str:
    """The column names for a message: all of them, or the first 30 of a wide file."""
    if len(columns) <= 30:
        return repr(list(columns))
    return repr(list(columns[:30]))[:-1] + f", … ({len(columns)} columns)]"


def _expand(pattern) -> list:
    if isinstance(pattern, (list, tuple)):
        files = [os.fspath(p) for p in pattern]
    else:
        pattern = os.fspath(pattern)
        files = sorted(_glob.glob(pattern)) if _glob.has_magic(pattern) else [pattern]
    if not files:
        raise FileNotFoundError(f"no file matches {pattern!r}")
    for f in files:
        if not os.path.isfile(f):
            raise FileNotFoundError(f"{f} does not exist")
    return files


class ParquetSource(_TableSource):
    """Parquet file(s) read row group by row group, ``chunk_rows`` rows at a time."""

    def __init__(self, pattern, target, features=None, drop=None, weight=None,
                 chunk_rows: int | None = DEFAULT_CHUNK_ROWS, features_role: str = "a feature"):
        pa = _need_pyarrow("Parquet")
        import pyarrow.parquet as pq
        self.chunk_rows = _chunk_rows(chunk_rows)
        self.pattern = pattern
        self.paths = _expand(pattern)
        self._snapshot()
        units, total, columns = [], 0, None
        for f in self.paths:
            try:
                with pq.ParquetFile(f) as pf:
                    meta = pf.metadata
                    schema = meta.schema.to_arrow_schema()
            except (pa.ArrowException, OSError) as exc:
                raise _not_parquet(f, exc) from None
            names = schema.names            # a new list at every access: read it once
            if columns is None:
                columns = list(names)
                self._select(columns, target, features, drop, weight, f, features_role)
            position = {name: i for i, name in enumerate(names)}
            for name in self._used:
                if name not in position:
                    raise MalformedDataError(f"{f}: column {name!r} is missing (it is in "
                                             f"{self.paths[0]})")
                t = schema.field(position[name]).type
                if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                        or pa.types.is_decimal(t)):
                    raise MalformedDataError(f"{f}: column {name!r} holds {t}, not numbers "
                                             "(it is not numeric)")
            file_row = 0
            for g in range(meta.num_row_groups):
                rows = meta.row_group(g).num_rows
                units.append((f, g, total, file_row))
                total += rows
                file_row += rows
        self._units = units
        self.n_rows = total

    def __repr__(self):
        return f"sources.parquet({self.pattern!r}, target={self.target_names!r})"

    def _files(self):
        return self.paths

    def _n_chunks(self):
        return len(self._units)

    def _chunks(self, order):
        # A shuffled pass visits the row groups (of all files) in random order; each group is
        # streamed in batches of chunk_rows, so memory stays bounded by the batch size.
        import pyarrow as pa
        import pyarrow.parquet as pq
        idx = range(len(self._units)) if order is None else order.tolist()
        open_file, pf = None, None
        try:
            for i in idx:
                f, g, first, file_row = self._units[i]
                self.check_unchanged()
                if f != open_file:
                    if pf is not None:
                        pf.close()
                    pf, open_file = None, f
                    try:
                        pf = pq.ParquetFile(f)
                    except (pa.ArrowException, OSError) as exc:
                        raise _not_parquet(f, exc) from None
                size = self.chunk_rows or max(1, pf.metadata.row_group(g).num_rows)
                batches = pf.iter_batches(batch_size=size, row_groups=[g],
                                          columns=self._used, use_threads=True)
                while True:
                    try:
                        batch = next(batches, None)
                    except (pa.ArrowException, OSError) as exc:
                        raise _not_parquet(f, exc, f" (row group {g}, from row {file_row})"
                                           ) from None
                    if batch is None:
                        break
                    rows = batch.num_rows
                    yield self._arrow_to_chunk(batch, first, f, file_row)
                    first += rows
                    file_row += rows
        finally:
            if pf is not None:
                pf.close()


def _not_parquet(path, exc, where: str = "") -> MalformedDataError:
    """A file pyarrow cannot read as Parquet: the error names the file (and where in it)."""
    reason = " ".join(str(exc).split())      # pyarrow's messages span lines: keep one
    return MalformedDataError(f"{path} is not a readable Parquet file{where}: {reason}")


def _csv_reason(exc: Exception) -> str:
    """The csv module's complaint, without its hint about opening files (a stray carriage
    return inside a line is what it means for a file read line by line)."""
    text = str(exc).split(" - do you need")[0]
    if "unexpected end of data" in text:
        return text + " (a quote that is never closed)"
    return text + " (a stray carriage return, \\r?)" if "new-line character" in text else text


def parquet(pattern, target, features=None, drop=None, weight=None,
            chunk_rows: int | None = DEFAULT_CHUNK_ROWS) -> ParquetSource:
    """Rows from Parquet file(s): ``pattern`` is a path, a glob (``"data/*.parquet"``, files
    in sorted order) or a list of paths.

    ``target``: the target column (or a list of them for several targets); ``features``: the
    feature columns (default: every other column), ``drop``: columns to leave out,
    ``weight``: a column of sample weights.  Needs pyarrow (``pip install 'linreg[files]'``).
    A shuffled pass (stochastic solvers) visits the row groups of all files in a random order
    and shuffles the rows of each block of ``chunk_rows`` (``None``: whole row groups).
    """
    return ParquetSource(pattern, target, features, drop, weight, chunk_rows)


# ----------------------------------------------------------------------------- CSV
class CsvSource(_TableSource):
    """A CSV file with a header line, cut into blocks of whole lines and parsed by pyarrow.

    The blocks are byte ranges ending at a line break, found on the first pass, so later
    passes can visit them in any order.  (So a quoted field must not contain a line break.)
    With ``chunk_rows=None`` the whole file is one block, read and parsed by pyarrow's threads.
    """

    def __init__(self, path, target, features=None, drop=None, weight=None, delimiter=",",
                 chunk_rows: int | None = DEFAULT_CHUNK_ROWS, features_role: str = "a feature"):
        _need_pyarrow("CSV")
        self.chunk_rows = _chunk_rows(chunk_rows)
        self.path = _expand(path)[0]
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise ValueError(f"delimiter={delimiter!r} must be one character")
        self.delimiter = delimiter
        self._snapshot()
        with open(self.path, "rb") as f:
            header = f.readline()
            self._data_start = f.tell()
            sample = f.read(1 << 16)
        try:
            text = header.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError:
            raise MalformedDataError(
                f"{self.path}: line 1 (the header) is not UTF-8 text; save the file as "
                "UTF-8") from None
        try:
            # strict: a quote never closed on the header line is an error, not a name
            self.columns = (next(_csv.reader([text], delimiter=delimiter, strict=True))
                            if text else [])
        except _csv.Error as exc:
            raise MalformedDataError(
                f"{self.path}: line 1 (the header) cannot be read as CSV: "
                f"{_csv_reason(exc)}") from None
        if not self.columns:
            raise MalformedDataError(f"{self.path}: empty file, expected a header line with "
                                     "column names")
        self._select(self.columns, target, features, drop, weight, self.path, features_role)
        self._position = {c: j for j, c in enumerate(self.columns)}
        # a parse block must hold whole rows: widen it for very wide files (pyarrow's
        # default, 1 MB, is less than one row of a file with a few hundred thousand columns)
        self._block_size = int(min(max(1 << 20, 16 * len(header)), 1 << 30))
        lines = sample.count(b"\n")
        bytes_per_line = len(sample) / lines if lines else max(len(sample), 64)
        self._chunk_bytes = (None if self.chunk_rows is None
                             else max(256, int(bytes_per_line * self.chunk_rows)))
        self._ranges: list | None = None   # (offset, length, first_row, rows), after a pass
        self.n_rows = None

    def __repr__(self):
        return f"sources.csv({self.path!r}, target={self.target_names!r})"

    def _files(self):
        return [self.path]

    def _n_chunks(self):
        self._index()
        return len(self._ranges)

    def _index(self):
        if self._ranges is None:
            for _ in self._scan(parse=False):
                pass

    def _scan(self, parse: bool):
        """Read the file front to back in blocks of whole lines; record their ranges."""
        if self._chunk_bytes is None:
            yield from self._scan_whole(parse)
            return
        ranges, first_row = [], 0
        with open(self.path, "rb") as f:
            f.seek(self._data_start)
            offset = self._data_start
            while True:
                self.check_unchanged()
                buf = f.read(self._chunk_bytes)
                if not buf:
                    break
                if not buf.endswith(b"\n"):
                    buf += f.readline()
                rows = buf.count(b"\n") + (0 if buf.endswith(b"\n") else 1)
                ranges.append((offset, len(buf), first_row, rows))
                if parse:
                    yield self._parse(buf, first_row)
                offset += len(buf)
                first_row += rows
        self._ranges = ranges
        self.n_rows = first_row
        if not parse:
            yield None

    def _scan_whole(self, parse: bool):
        """The whole file as one block, read and parsed by pyarrow's threads."""
        self.check_unchanged()
        length = self._states[self.path].size - self._data_start
        self._ranges, self.n_rows = [], 0
        if length <= 0:
            if not parse:
                yield None
            return
        if not parse:
            with open(self.path, "rb") as f:
                f.seek(self._data_start)
                rows = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 24), b""))
            self._ranges, self.n_rows = [(self._data_start, length, 0, rows)], rows
            yield None
            return
        chunk = self._parse(None, 0)
        self.n_rows = chunk.X.shape[0]
        self._ranges = [(self._data_start, length, 0, self.n_rows)]
        yield chunk

    def _chunks(self, order):
        if order is None:
            yield from self._scan(parse=True)
            return
        self._index()
        with open(self.path, "rb") as f:
            for i in order.tolist():
                offset, length, first_row, _ = self._ranges[i]
                self.check_unchanged()
                f.seek(offset)
                yield self._parse(f.read(length), first_row)

    def _parse(self, buf: bytes | None, first_row: int) -> _RawChunk:
        """Parse ``buf`` (whole lines, ``first_row`` the data row of the first; None: all the
        lines below the header, read from the file) into a block; a block the parser refuses
        is diagnosed line by line."""
        import pyarrow as pa
        import pyarrow.csv as pcsv
        if buf is None:
            data = pa.OSFile(self.path)
            data.seek(self._data_start)
        else:
            data = pa.BufferReader(buf)
        try:
            table = pcsv.read_csv(
                data,
                read_options=pcsv.ReadOptions(column_names=self.columns,
                                              block_size=self._block_size),
                parse_options=pcsv.ParseOptions(delimiter=self.delimiter),
                convert_options=pcsv.ConvertOptions(
                    column_types={c: pa.float64() for c in self._used},
                    include_columns=self._used))
        except pa.ArrowInvalid:
            self._diagnose(buf, first_row)
            raise  # pragma: no cover - _diagnose always finds the culprit
        finally:
            data.close()
        if any(table.column(c).null_count for c in self._used):
            self._diagnose(buf, first_row)
        return self._arrow_to_chunk(table, first_row, self.path, first_row)

    def _diagnose(self, buf: bytes | None, first_row: int):
        """Find the first bad line of a block the fast parser refused, and say what is wrong
        (``buf`` None: all the lines below the header)."""
        if buf is None:
            with open(self.path, "rb") as f:
                f.seek(self._data_start)
                buf = f.read()
        where = {c: self._position[c] for c in self._used}
        text = io.StringIO(buf.decode("utf-8", errors="replace"), newline="")
        for i, line in enumerate(text):
            row, lineno = first_row + i, first_row + i + 2
            if not line.strip("\r\n"):
                continue
            try:
                fields = next(_csv.reader([line.rstrip("\r\n")], delimiter=self.delimiter))
            except _csv.Error as exc:
                raise MalformedDataError(
                    f"{self.path}: line {lineno} (row {row}) is not valid CSV "
                    f"({_csv_reason(exc)})") from None
            if len(fields) != len(self.columns):
                raise MalformedDataError(
                    f"{self.path}: line {lineno} (row {row}) has {len(fields)} fields, expected "
                    f"{len(self.columns)} (the header's columns)")
            for name, j in where.items():
                value = fields[j].strip()
                try:
                    x = float(value)
                except ValueError:
                    raise MalformedDataError(
                        f"{self.path}: line {lineno} (row {row}), column {j} ({name!r}): "
                        f"{'an empty value' if not value else repr(value) + ' is not a number'}"
                        "; linreg needs finite numbers") from None
                if not math.isfinite(x):
                    raise MalformedDataError(
                        f"{self.path}: line {lineno} (row {row}), column {j} ({name!r}) is "
                        f"{value!r}; linreg needs finite numbers (drop or impute missing values "
                        "first)")
        raise MalformedDataError(f"{self.path}: rows {first_row}–: the CSV parser refused this "
                                 "block (a quoted field with a line break?)")

    def _where(self, c, r):
        return f"{self.path}: line {c.first_row + r + 2} (row {c.first_row + r})"

    def _bad_value(self, c, r, j, names, what, value):
        col = self._position[names[j]] if names else j
        raise MalformedDataError(
            f"{self._where(c, r)}, column {col} ({names[j]!r}) is {_describe(value)}; linreg "
            "needs finite numbers")

    def _all_zero_weights(self, n_rows: int) -> MalformedDataError:
        return MalformedDataError(
            f"{self.path}: the sample weights ({self.weight_name!r}) are zero in every row, "
            f"lines 2–{n_rows + 1} (rows 0–{n_rows - 1}): there is nothing to fit")


def csv(path, target, features=None, drop=None, weight=None, delimiter=",",
        chunk_rows: int | None = DEFAULT_CHUNK_ROWS) -> CsvSource:
    """Rows from a CSV file with a header line (parsed by pyarrow, ``chunk_rows`` at a time).

    ``target``, ``features``, ``drop``, ``weight`` name columns as in :func:`parquet`.
    Errors name the line (1-based, the header is line 1), the data row (0-based) and the
    column.  ``chunk_rows=None`` parses the whole file as one block.  Needs pyarrow
    (``pip install 'linreg[files]'``).
    """
    return CsvSource(path, target, features, drop, weight, delimiter, chunk_rows)


# ----------------------------------------------------------------------------- .npy / .npz tables
class ArraySource(_TableSource):
    """One ``.npy`` or ``.npz`` file whose columns have names, read ``chunk_rows`` rows at a time.

    A structured ``.npy`` array names its columns by field, a 2-D ``.npy`` array by index
    (``"0"``, ``"1"``, …), an ``.npz`` archive by array (one 1-D array per column).  ``.npy``
    files are memory-mapped; the chosen arrays of an ``.npz`` archive are loaded whole (its
    members are compressed or stored, never mapped).  Nothing is ever unpickled.
    """

    def __init__(self, path, target, features=None, drop=None, weight=None,
                 chunk_rows: int | None = DEFAULT_CHUNK_ROWS, features_role: str = "a feature"):
        self.chunk_rows = _chunk_rows(chunk_rows)
        self.path = _expand(path)[0]
        self._snapshot()
        self._matrix = None       # a plain 2-D .npy: the memory-mapped array
        if self.path.lower().endswith(".npz"):
            columns, getter = self._open_npz()
        else:
            columns, getter = self._open_npy()
        self._select(columns, target, features, drop, weight, self.path, features_role)
        self._arrays = getter(self._used)
        for name, a in self._arrays.items():
            if a.dtype.kind not in "fiub":
                raise MalformedDataError(f"{self.path}: column {name!r} holds {a.dtype} values, "
                                         "not numbers (it is not numeric)")
        lengths = {len(a) for a in self._arrays.values()} if self._matrix is None \
            else {self._matrix.shape[0]}
        if len(lengths) > 1:
            raise MalformedDataError(f"{self.path}: the columns have different lengths "
                                     f"{sorted(lengths)} (a ragged table)")
        self.n_rows = lengths.pop() if lengths else 0

    def _open_npy(self):
        a = _load_npy(self.path)
        if a.dtype.names:
            return list(a.dtype.names), lambda used: {name: a[name] for name in used}
        if a.ndim != 2:
            raise MalformedDataError(
                f"{self.path} holds an array of shape {a.shape}; linreg reads a 2-D array "
                "(rows × columns, named 0, 1, …) or a structured array with named fields")
        if a.dtype.kind not in "fiub":
            raise MalformedDataError(f"{self.path} holds {a.dtype} values, not numbers")
        self._matrix = a
        return [str(j) for j in range(a.shape[1])], lambda used: {}

    def _open_npz(self):
        try:
            archive = np.load(self.path, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise MalformedDataError(f"{self.path} is not a readable .npz archive: "
                                     f"{exc}") from None

        def get(used):
            arrays = {}
            for name in used:
                try:
                    a = archive[name]
                except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                    hint = " (linreg never loads pickled objects)" if "pickle" in str(exc) else ""
                    raise MalformedDataError(f"{self.path}: array {name!r} cannot be read "
                                             f"safely: {exc}{hint}") from None
                if a.ndim != 1:
                    raise MalformedDataError(f"{self.path}: array {name!r} has shape {a.shape}; "
                                             "a .npz data file holds one 1-D array per column")
                arrays[name] = a
            return arrays

        return list(archive.files), get

    def __repr__(self):
        return f"sources.arrays({self.path!r}, target={self.target_names!r})"

    def _files(self):
        return [self.path]

    def _n_chunks(self):
        return max(1, math.ceil(self.n_rows / (self.chunk_rows or max(self.n_rows, 1))))

    def _chunks(self, order):
        step = self.chunk_rows or max(self.n_rows, 1)
        starts = np.arange(0, max(self.n_rows, 1), step)
        if order is not None:
            starts = starts[order]
        for start in starts.tolist():
            stop = min(start + step, self.n_rows)
            self.check_unchanged()
            if self._matrix is not None:
                # whole rows at a time (one sequential read), the chosen columns copied out
                # into memory (so no view of the memory map is handed out)
                rows = self._matrix[start:stop]
                pick = lambda names: rows[:, [int(n) for n in names]].view(np.ndarray)  # noqa: E731
                w = None if self.weight_name is None else pick([self.weight_name])[:, 0]
                yield _RawChunk(pick(self.feature_names), pick(self.target_names), w, start,
                                self.path, start)
                continue
            block = {name: a[start:stop] for name, a in self._arrays.items()}
            yield self._columns_to_chunk(block.__getitem__, stop - start, start, self.path, start)


def _load_npy(path):
    """A ``.npy`` file, memory-mapped; refuses pickled objects and unreadable files."""
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError) as exc:
        pickled = "pickle" in str(exc) or "Python objects" in str(exc)
        hint = " (it holds Python objects; linreg never loads pickled objects)" if pickled else ""
        raise MalformedDataError(f"{path} is not a readable .npy file: {exc}{hint}") from None


def arrays(path, target, features=None, drop=None, weight=None,
           chunk_rows: int | None = DEFAULT_CHUNK_ROWS) -> ArraySource:
    """Rows from one ``.npy`` file (a structured array, or a 2-D array whose columns are named
    ``"0"``, ``"1"``, …) or ``.npz`` archive (one 1-D array per column), ``chunk_rows`` at a
    time.  ``target``, ``features``, ``drop``, ``weight`` name columns as in :func:`parquet`.
    """
    return ArraySource(path, target, features, drop, weight, chunk_rows)


def from_file(path, target=None, features=None, drop=None, weight=None,
              chunk_rows: int | None = DEFAULT_CHUNK_ROWS,
              features_role: str = "a feature") -> Source:
    """A source for one file of any format linreg reads, chosen by its extension: CSV
    (``.csv``, ``.txt``), Parquet (``.parquet``, ``.pq``), ``.npy`` or ``.npz``.

    Parameters
    ----------
    path : str or path-like
    target : str, list of str or None
        The target column(s); None for a file read for prediction (no target).
    features, drop : list of str, optional
        The feature columns, or the columns to leave out (default: every column that is not
        the target or the weight).
    weight : str, optional
        A column of sample weights (>= 0, never a feature).
    chunk_rows : int or None
        Rows per block; None reads the whole file as one block.
    features_role : str
        How an error message calls a listed feature (e.g. "a feature the model needs").

    Raises
    ------
    MalformedDataError
        Naming the file (and the column): no such file, an unknown extension, an unreadable
        file, a column that is missing or not numeric.
    """
    p = os.fspath(path)
    if not os.path.exists(p):
        raise MalformedDataError(f"{p}: no such file")
    if os.path.isdir(p):
        raise MalformedDataError(f"{p} is a folder, not a data file")
    suffix = os.path.splitext(p)[1].lower()
    if suffix in CSV_SUFFIXES:
        make = CsvSource
    elif suffix in PARQUET_SUFFIXES:
        make = ParquetSource
    elif suffix in (".npy", ".npz"):
        make = ArraySource
    else:
        raise MalformedDataError(f"{p}: cannot tell the format from the extension "
                                 f"{suffix or '(none)'!r}; use .csv, .parquet, .npy or .npz")
    return make(p, target, features, drop, weight, chunk_rows=chunk_rows,
                features_role=features_role)
