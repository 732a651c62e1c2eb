"""``.npy`` and ``.npz`` files, never unpickled.  Two readers:

* :class:`NpyXYSource` (:func:`linreg.sources.npy`): ``X``, ``y`` and optionally the sample
  weights, each in its own ``.npy`` file (``numpy.save``), columns unnamed, mapped block by
  block;
* :class:`NpyColumnsSource` (:func:`linreg.sources.arrays`): one file whose columns have names
  — a structured ``.npy`` array, a 2-D ``.npy`` array (columns ``"0"``, ``"1"``, …) or an
  ``.npz`` archive of 1-D arrays — with target, features and weight chosen by name.
"""

from __future__ import annotations

import math
import os
import zipfile

import numpy as np

from ..validation import check_positive_int
from .base import (
    DEFAULT_CHUNK_ROWS,
    NEEDS_FINITE,
    MalformedDataError,
    RawChunk,
    Source,
    check_width,
    checked_chunk_rows,
    describe_value,
)
from ..tables.blocks import TableBlock
from .columns import ColumnSource, expand_paths
from .table_kinds import numpy_codes, numpy_kind

__all__ = ["NpyColumnsSource", "NpyXYSource", "arrays", "npy"]


def _row_ranges(n_rows: int, step: int, order: np.ndarray | None = None) -> list:
    """``(start, stop)`` of the blocks of ``step`` rows (one empty block when there are no
    rows), in file order or in the given ``order`` of block indices."""
    starts = np.arange(0, max(n_rows, 1), step)
    if order is not None:
        starts = starts[order]
    return [(start, min(start + step, n_rows)) for start in starts.tolist()]


def _block_count(n_rows: int, step: int) -> int:
    """How many blocks :func:`_row_ranges` gives."""
    return max(1, math.ceil(n_rows / step))


def _load_npy(path):
    """A ``.npy`` file, memory-mapped; refuses pickled objects and unreadable files."""
    try:
        return np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError) as exc:
        pickled = "pickle" in str(exc) or "Python objects" in str(exc)
        hint = " (it holds Python objects; linreg never loads pickled objects)" if pickled else ""
        raise MalformedDataError(f"{path} is not a readable .npy file: {exc}{hint}") from None


# ----------------------------------------------------------------------------- X.npy, y.npy
def _npy_header(path, what: str):
    """(shape, dtype, fortran_order, data offset) of a .npy file; refuses object arrays."""
    arr = _load_npy(path)
    if not isinstance(arr, np.memmap):
        raise MalformedDataError(f"{path}: not a single .npy array (an .npz archive?)")
    info = (arr.shape, arr.dtype, bool(arr.flags.f_contiguous and not arr.flags.c_contiguous),
            int(arr.offset))
    del arr
    dtype = info[1]
    if dtype.kind not in "biuf" or dtype.fields is not None:
        raise MalformedDataError(f"{path}: {what} has dtype {dtype}, not a real number type")
    return info


class NpyXYSource(Source):
    """``X``, ``y`` (and sample weights) in separate ``.npy`` files, columns unnamed, read
    through per-block memory maps (never unpickled).

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
        check_width(self.n_features + self.n_targets, self.X_path,
                     "a .npy file of fewer columns")
        self.feature_names = None
        self.target_names = None
        self._snapshot()

    def __repr__(self):
        return f"sources.npy({self.X_path!r}, {self.y_path!r}, chunk_rows={self.chunk_rows})"

    def _files(self):
        return [p for p in (self.X_path, self.y_path, self.w_path) if p is not None]

    def _n_chunks(self):
        return _block_count(self.n_rows, self.chunk_rows)

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
        for start, stop in _row_ranges(self.n_rows, self.chunk_rows, order):
            self.check_unchanged()
            X = self._map(self.X_path, self._x, start, stop)
            Y = self._map(self.y_path, self._y, start, stop)
            if Y.ndim == 1:
                Y = Y.reshape(-1, 1)
            w = None if self._w is None else self._map(self.w_path, self._w, start, stop)
            yield RawChunk(X, Y, w, start, self.X_path, start)

    def weight_total(self) -> tuple | None:
        """``(n, Σ s)`` from the weights' file alone (block by block, in file order), or None
        when the file is not given or a weight is not finite or negative (a pass over the
        rows then names it)."""
        if self._w is None:
            return None
        total = 0.0
        for start, stop in _row_ranges(self.n_rows, self.chunk_rows, None):
            w = np.asarray(self._map(self.w_path, self._w, start, stop), dtype=np.float64)
            if w.shape[0] and not (np.isfinite(w).all() and (w >= 0).all()):
                return None
            total += float(w.sum())
        self.check_unchanged()
        return self.n_rows, total

    def _bad_value(self, c, r, j, names, what, value):
        path = {"feature": self.X_path, "target": self.y_path}.get(what, self.w_path)
        col = f", column {j}" if what != "sample weight" and (what == "feature" or
                                                             self.n_targets > 1) else ""
        raise MalformedDataError(
            f"{path}: row {c.first_row + r}{col} is {describe_value(value)}; {NEEDS_FINITE}")

    def _weight_label(self):
        return str(self.w_path)


def npy(X_path, y_path, chunk_rows: int = DEFAULT_CHUNK_ROWS, sample_weight_path=None) -> NpyXYSource:
    """Rows of ``X`` and ``y`` from two ``.npy`` files (``numpy.save``), ``chunk_rows`` at a time.

    ``X`` must be 2-D, ``y`` 1-D (one target) or 2-D; any real dtype (float32 is read as
    float32, integers are converted).  Files are memory-mapped block by block with
    ``allow_pickle=False``.
    """
    return NpyXYSource(X_path, y_path, chunk_rows, sample_weight_path)


# ----------------------------------------------------------------------------- named columns
class NpyColumnsSource(ColumnSource):
    """One ``.npy`` or ``.npz`` file whose columns have names, read ``chunk_rows`` rows at a time.

    A structured ``.npy`` array names its columns by field, a 2-D ``.npy`` array by index
    (``"0"``, ``"1"``, …), an ``.npz`` archive by array (one 1-D array per column).  ``.npy``
    files are memory-mapped; the chosen arrays of an ``.npz`` archive are loaded whole (its
    members are compressed or stored, never mapped).  Nothing is ever unpickled.
    """

    def __init__(self, path, target, features=None, drop=None, weight=None,
                 chunk_rows: int | None = DEFAULT_CHUNK_ROWS, features_role: str = "a feature"):
        self.chunk_rows = checked_chunk_rows(chunk_rows)
        self.path = expand_paths(path)[0]
        self._snapshot()
        self._matrix = None       # a plain 2-D .npy: the memory-mapped array
        if self.path.lower().endswith(".npz"):
            columns, getter = self._open_npz()
        else:
            columns, getter = self._open_npy()
        self._select(columns, target, features, drop, weight, self.path, features_role)
        self._getter = getter
        self._arrays = getter(self._used)
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

    def prepare_groups(self) -> None:
        # a structured .npy or an .npz archive: the label arrays join the columns read
        if self._matrix is None:
            missing = [n for n in self.group_names if n not in self._arrays]
            self._arrays = {**self._arrays, **self._getter(missing)}

    def _files(self):
        return [self.path]

    def _step(self) -> int:
        return self.chunk_rows or max(self.n_rows, 1)

    def _n_chunks(self):
        return _block_count(self.n_rows, self._step())

    def _columns(self, names: list) -> dict:
        """The arrays of the columns ``names`` (a structured ``.npy`` or an ``.npz``)."""
        missing = [n for n in names if n not in self._arrays]
        if missing:
            self._arrays = {**self._arrays, **self._getter(missing)}
            if {len(self._arrays[n]) for n in missing} - {self.n_rows}:
                raise MalformedDataError(f"{self.path}: the columns have different lengths "
                                         f"{sorted({len(a) for a in self._arrays.values()})} "
                                         "(a ragged table)")
        return {n: self._arrays[n] for n in names}

    def _dtypes(self, names: list) -> dict:
        if self._matrix is not None:
            return dict.fromkeys(names, self._matrix.dtype)
        return {n: a.dtype for n, a in self._columns(names).items()}

    def _kinds(self, names):
        return {n: numpy_kind(t) for n, t in self._dtypes(names).items()}

    def _type_names(self, names):
        return {n: f"{t} values" for n, t in self._dtypes(names).items()}

    def _table_chunks(self, order, names, kinds):
        arrays = {} if self._matrix is not None else self._columns(names)
        for start, stop in _row_ranges(self.n_rows, self._step(), order):
            self.check_unchanged()
            columns = {}
            for name in names:
                values = (self._matrix[start:stop, int(name)] if self._matrix is not None
                          else arrays[name][start:stop])
                columns[name] = (np.array(values, dtype=np.float64) if kinds[name] == "number"
                                 else numpy_codes(np.asarray(values)))
            yield TableBlock(columns, stop - start, start,
                             self._rows_where(self.path, start, start))

    def _chunks(self, order):
        # a column of text may be chosen (a table reads it): the numbers read here refuse it
        used = set(self._used)
        for name, a in self._arrays.items():
            if name in used and a.dtype.kind not in "fiub":
                raise MalformedDataError(f"{self.path}: column {name!r} holds {a.dtype} values, "
                                         "not numbers (it is not numeric)")
        for start, stop in _row_ranges(self.n_rows, self._step(), order):
            self.check_unchanged()
            if self._matrix is not None:
                # whole rows at a time (one sequential read), the chosen columns copied out
                # into memory (so no view of the memory map is handed out)
                rows = self._matrix[start:stop]
                w = None if self.weight_name is None else _pick(rows, [self.weight_name])[:, 0]
                groups = tuple(_pick(rows, [g])[:, 0] for g in self.group_names) or None
                yield RawChunk(_pick(rows, self.feature_names), _pick(rows, self.target_names), w,
                               start, self.path, start, groups)
                continue
            block = {name: a[start:stop] for name, a in self._arrays.items()}
            yield self._columns_to_chunk(block.__getitem__, stop - start, start, self.path, start)


def _pick(rows: np.ndarray, names: list) -> np.ndarray:
    """The columns ``names`` (``"0"``, ``"1"``, …) of some rows of a 2-D array, copied out."""
    return rows[:, [int(n) for n in names]].view(np.ndarray)


def arrays(path, target, features=None, drop=None, weight=None,
           chunk_rows: int | None = DEFAULT_CHUNK_ROWS) -> NpyColumnsSource:
    """Rows from one ``.npy`` file (a structured array, or a 2-D array whose columns are named
    ``"0"``, ``"1"``, …) or ``.npz`` archive (one 1-D array per column), ``chunk_rows`` at a
    time.  ``target``, ``features``, ``drop``, ``weight`` name columns as in :func:`linreg.sources.parquet`.
    """
    return NpyColumnsSource(path, target, features, drop, weight, chunk_rows)
