"""The :class:`Source` base class: rows read in checked blocks, one-pass statistics, whole reads.

A kind of file provides three methods: ``_files()`` (its paths, watched for changes),
``_n_chunks()`` and ``_chunks(order)`` (:class:`RawChunk` blocks, in file order or in a given
order of block indices); it may reword the messages that say where a bad value is
(``_where``, ``_bad_value``, ``_weight_label``, ``_all_zero_weights``).  Everything else is
here: the check of every value, the conversion to float64, shuffling, the statistics of one
pass, and reading everything into memory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..stats import SufficientStats, representative_point, shifted_stats, unshift
from ..validation import check_positive_int, column_label, first_nonfinite, most_columns

__all__ = ["DEFAULT_CHUNK_ROWS", "NEEDS_FINITE", "MalformedDataError", "RawChunk", "Source",
           "SourceChangedError", "Table", "check_width", "checked_chunk_rows", "describe_value",
           "is_source"]

#: rows per block unless told otherwise: ~50 MB of float64 at 100 columns.
DEFAULT_CHUNK_ROWS = 65_536

#: the end of every message about a NaN, an infinity or a missing value
NEEDS_FINITE = "linreg needs finite numbers (drop or impute missing values first)"


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


@dataclass(frozen=True)
class _FileState:
    size: int
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path) -> _FileState:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino)


@dataclass
class RawChunk:
    """One block as read from the file(s), before conversion to float64."""

    X: np.ndarray
    Y: np.ndarray           # (m, k)
    w: np.ndarray | None
    first_row: int          # global data-row index of the first row
    file: str               # where the rows came from (for messages)
    file_row: int           # data-row index of the first row within that file
    groups: tuple | None = None   # label columns read along (grouped_blocks), one array each


def describe_value(value) -> str:
    """A bad value for a message: "NaN or a missing value", "inf", "-inf", or its repr."""
    if isinstance(value, (float, np.floating)):
        return "NaN or a missing value" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return repr(value)


class Source:
    """Rows of ``X``, ``Y`` and weights, read from files in blocks.  See :mod:`linreg.sources`.

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

    def _chunks(self, order: np.ndarray | None) -> Iterator[RawChunk]:
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

    def _check_chunk(self, c: RawChunk) -> None:
        """Raise :class:`MalformedDataError` for the first non-finite value or negative weight."""
        for A, names, what in ((c.X, self.feature_names, "feature"),
                               (c.Y, self.target_names, "target")):
            where = first_nonfinite(A)
            if where is not None:
                r, j = where
                self._bad_value(c, r, j, names, what, A[r, j])
        self._check_weights(c)

    def check_chunk(self, c: RawChunk) -> None:
        """Raise :class:`MalformedDataError` naming the first non-finite value or negative
        weight of a chunk :meth:`unchecked_blocks` gave (where in which file)."""
        self._check_chunk(c)

    def _check_weights(self, c: RawChunk) -> None:
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

    def _where(self, c: RawChunk, r: int) -> str:
        """Where row ``r`` of chunk ``c`` is: the file and its row (and the source's row when
        the source has several files)."""
        text = f"{c.file}: row {c.file_row + r}"
        return text + (f" (row {c.first_row + r} of the source)" if len(self._files()) > 1 else "")

    def _bad_value(self, c: RawChunk, r: int, j: int, names, what: str, value):
        raise MalformedDataError(
            f"{self._where(c, r)}, {what} {column_label(j, names)} is {describe_value(value)}; "
            f"{NEEDS_FINITE}")

    def _file_names(self) -> str:
        return " and ".join(map(str, self._files()))

    def _no_rows(self) -> MalformedDataError:
        return MalformedDataError(f"{self._file_names()}: no data rows to read")

    def _all_zero_weights(self, n_rows: int) -> MalformedDataError:
        return MalformedDataError(
            f"{self._file_names()}: the sample weights "
            f"({self._weight_label()!r}) are zero in every row, rows 0–{n_rows - 1}: there is "
            "nothing to fit")

    def gather(self) -> tuple:
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
        are permuted (not a global shuffle: see :mod:`linreg.sources`).
        """
        for X, Y, w, _ in self.checked_blocks(shuffle, random_state):
            yield X, Y, w

    def grouped_blocks(self, names: list) -> Iterator[tuple]:
        """Blocks ``(X, Y, w, labels)`` in file order, with ``labels`` the columns ``names``
        (cluster labels: numbers or text, one array per column) of the same rows, read in
        the same pass.  Only sources whose columns have names can do this."""
        raise ValueError(f"{self!r} has no named columns to take groups={names!r} from: pass "
                         "the cluster labels as arrays aligned with the rows")

    def checked_blocks(self, shuffle: bool = False, random_state=None) -> Iterator[tuple]:
        """``(X, Y, w, chunk)`` of every block, checked and converted as :meth:`blocks`
        gives them, with the :class:`RawChunk` they came from (where they are in the files,
        and the label columns read along)."""
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
            yield X, Y, w, c
        self.check_unchanged()

    __iter__ = blocks

    def blocks_again(self) -> Iterator[tuple]:
        """``(X, Y, w)`` of every block in file order, for a pass after one that read and
        checked every value (:meth:`stats`, :meth:`blocks`): no value is checked again and
        memory-mapped rows are not copied (float32 and float64 ``X`` as stored, other types
        converted to float64).  The files are still checked for changes, as on every pass
        (:meth:`check_unchanged`, at the end and, where the reader does, before each
        block), so a block read here holds the values the first pass checked.
        """
        for c in self._chunks(None):
            X = c.X if c.X.dtype in (np.float32, np.float64) else np.asarray(c.X, np.float64)
            Y = c.Y if c.Y.dtype == np.float64 else np.asarray(c.Y, np.float64)
            yield X, Y, None if c.w is None else np.asarray(c.w, dtype=np.float64)
        self.check_unchanged()

    def count_rows(self) -> int:
        """The number of data rows: from the files' metadata (``.npy``, Parquet, Feather),
        or counted once (a CSV file's lines that are not empty, read without parsing) and
        remembered."""
        if getattr(self, "n_rows", None) is None:
            self._n_chunks()
        return int(self.n_rows)

    def unchecked_blocks(self) -> Iterator[tuple]:
        """``(X, Y, w, chunk)`` of every block in file order, for a pass that detects
        non-finite values itself (its sums are not finite) and then asks
        :meth:`check_chunk` to name the bad value: no value of ``X`` and ``Y`` is checked and
        memory-mapped rows are not copied (float32 and float64 as stored, other types
        converted to float64) — the caller must not keep them.  The weights are checked (a
        negative weight leaves the sums finite); the files are checked for changes, as on
        every pass."""
        for c in self._chunks(None):
            self._check_weights(c)
            X = c.X if c.X.dtype in (np.float32, np.float64) else np.asarray(c.X, np.float64)
            Y = c.Y if c.Y.dtype == np.float64 else np.asarray(c.Y, np.float64)
            yield X, Y, None if c.w is None else np.asarray(c.w, dtype=np.float64), c
        self.check_unchanged()

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
        X, Y, _ = self.gather()
        y = None if self.n_targets == 0 else (Y[:, 0] if self.single_target else Y)
        names = None if not self.target_names else (
            self.target_names[0] if self.single_target else list(self.target_names))
        return Table(X, y, None if self.feature_names is None else list(self.feature_names), names)


    def read_weights(self) -> np.ndarray | None:
        """All sample weights in memory, or ``None`` when the source has none."""
        if not self.has_weights:
            return None
        return np.concatenate([w for _, _, w in self.blocks()])


def check_width(n_columns: int, where: str, how: str, limit: int | None = None) -> None:
    """Refuse, before reading any row, more columns than ``limit`` (default: as many as the
    (d+k)×(d+k) statistics of a fit can hold in this machine's memory)."""
    limit = most_columns() if limit is None else limit
    if limit is not None and n_columns > limit:
        raise MalformedDataError(
            f"{where}: {n_columns} columns are chosen, more than the {limit} whose "
            f"{limit}×{limit} statistics fit in this machine's memory; choose fewer columns "
            f"({how})")


def checked_chunk_rows(chunk_rows) -> int | None:
    """``chunk_rows`` checked: a positive integer, or None for one block per file (per row
    group in Parquet)."""
    return None if chunk_rows is None else check_positive_int("chunk_rows", chunk_rows)


def is_source(obj) -> bool:
    """Whether ``obj`` is a linreg data source."""
    return isinstance(obj, Source)


