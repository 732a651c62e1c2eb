"""The :class:`Rows` interface, and the rows that are only statistics (``merge``) or an
accumulation of them (``partial_fit``).  See :mod:`linreg.rows`."""

from __future__ import annotations

import contextlib
import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator

import numpy as np

from ..stats import SufficientStats

__all__ = ["Rows", "NoRowsError", "NonFiniteRows", "StatsRows", "AccumulatedRows",
           "sliced_blocks", "fold_results", "shape_of"]


class NonFiniteRows(ValueError):
    """A pass that reads rows unchecked (:meth:`Rows.map_blocks_checking`) found sums that
    are not finite: a NaN or an infinity in its block, or values whose squares overflow."""


class NoRowsError(ValueError):
    """The rows were asked for, but only statistics (or a factor) of them are kept."""


class Rows(ABC):
    """The training rows, wherever they live (see the module docstring)."""

    feature_names: list[str] | None = None
    target_names: list[str] | None = None
    n_features: int
    n_targets: int
    #: the target was one column (a 1-D ``y``, one target name): coefficients are 1-D
    single_target: bool = True

    @abstractmethod
    def stats(self) -> SufficientStats:
        """The checked sufficient statistics of all rows."""

    def arrays(self) -> tuple | None:
        """``(X, Y, w)`` when the rows are in memory, else ``None``."""
        return None

    def matrix(self) -> tuple | None:
        """``(X, Y, w)`` in memory for the matrix-free solver (``X`` dense or a canonical
        ``scipy.sparse`` CSR matrix), else ``None``."""
        return self.arrays()

    @abstractmethod
    def blocks(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        """Blocks ``(X, Y, w)`` of the rows, in order (or shuffled: blocks in a random order,
        the rows of each permuted)."""

    def blocks_ahead(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        """:meth:`blocks`, the next read while the caller works on this one where reading
        costs time (files: :func:`linreg.rows.files.read_ahead`)."""
        return self.blocks(shuffle, rng)

    def keeping_blocks(self):
        """A context within which passes over rows read from a file may keep blocks in
        memory (within a bound) and use them again in the next passes instead of reading
        them anew (:meth:`linreg.sources.svmlight.SvmlightSource.keeping_blocks`); one fit
        runs in it.  Nothing for rows in memory."""
        return contextlib.nullcontext()

    def reduce_blocks(self, fn: Callable, merge: Callable, initial):
        """``merge(…merge(merge(initial, fn(block_0)), fn(block_1))…)`` in row order: a pass
        whose per-block results are merged as they come, so only one is held at a time
        (the blocks read ahead where reading costs time: :meth:`blocks_ahead`)."""
        return fold_results(itertools.chain([initial], map(fn, self.blocks_ahead())), merge)

    def map_blocks(self, fn: Callable, groups: tuple = ()) -> list:
        """``[fn((X, Y, w), index) for each block]``, in row order, run where the rows are.

        With ``groups`` (a tuple of label arrays aligned with the rows, or of column names
        where the rows have named columns: a file source, a Dask DataFrame), each block comes
        with its rows' labels: ``fn((X, Y, w, (labels, …)), index)``."""
        if not groups:
            return [fn(block, i) for i, block in enumerate(self.blocks())]
        arrays = array_groups(groups, "these rows")
        out, start = [], 0
        for i, block in enumerate(self.blocks()):
            stop = start + len(block[0])
            out.append(fn(tuple(block) + (tuple(g[start:stop] for g in arrays),), i))
            start = stop
        return out

    def map_blocks_again(self, fn: Callable) -> list:
        """As :meth:`map_blocks`, for a pass over rows an earlier pass of the same fit read
        whole (and checked): where checking or copying them again costs time (rows in
        files), it is skipped."""
        return self.map_blocks(fn)

    def map_blocks_at(self, fn: Callable) -> list:
        """``[fn((X, Y, w), start) for each block]``, in row order, run where the rows are;
        ``start`` is the global row number of the block's first row (what makes row-numbered
        assignments, such as cross-validation folds, the same wherever the rows live)."""
        results, start = [], 0
        for block in self.blocks():
            results.append(fn(block, start))
            start += block[0].shape[0]
        return results

    def map_blocks_with(self, fn: Callable, vector=None, combine: Callable | None = None):
        """``[fn((X, Y, w), piece) for each block]``, in row order, run where the rows are, with
        ``piece = vector[start:stop]`` the block's rows of ``vector`` (an array whose first
        axis runs over all rows; None: ``piece`` is None).  For a pass after one that read
        and checked every value (as :meth:`map_blocks_again`); ``X`` may be dense or
        ``scipy.sparse``.  Where the rows live elsewhere, each block is sent only its piece.

        With ``combine`` (two results → one), the results are combined as they come — one
        kept at a time, not one per block — and the one result is returned (None when there
        are no blocks)."""
        return fold_results((fn(block, piece) for block, piece in
                             sliced_blocks(self.blocks(), vector)), combine)

    def map_blocks_checking(self, fn: Callable, combine: Callable | None = None):
        """As :meth:`map_blocks_at`, for a ``fn`` that detects non-finite values itself
        (raising :class:`NonFiniteRows` when its sums are not finite): rows in files are then
        read without checking every value or copying them out of a memory map, and a block
        ``fn`` refuses is checked to name the bad value and where it is.  With ``combine``,
        the results combined in order, as :meth:`map_blocks_with` does."""
        return fold_results(self.map_blocks_at(fn), combine)

    def moments(self):
        """The :class:`~linreg.training_objective.ColumnMoments` of all rows (count, weight,
        per-column means and ``Σ s (z − z̄)²`` of features and targets), checked like the
        statistics: O(nnz), one pass over the blocks
        (:func:`linreg.training_objective.moments_of_blocks`); from
        :meth:`stats` where there are no rows to read."""
        from ..training_objective import ColumnMoments, moments_of_blocks
        if not self.has_rows():
            return ColumnMoments.from_stats(self.stats())
        return moments_of_blocks(self)

    def shape_hint(self) -> tuple | None:
        """``(n, d, nnz, Σ_i nnz_i²)`` of the rows, for the choice of an iterative fit's path
        (:mod:`linreg.solvers.paths`): exact where the rows are in memory; otherwise ``n``
        from :meth:`row_count` and the rest scaled from the first block (an estimate); None
        when there are no rows to read."""
        matrix = self.matrix()
        if matrix is not None:
            return shape_of(matrix[0])
        if not self.has_rows():
            return None
        first = next(iter(self.blocks()), None)
        if first is None:
            return None
        m, d, nnz, squares = shape_of(first[0])
        n = self.row_count()
        if n is None or m == 0:
            return m, d, nnz, squares
        return n, d, nnz * n / m, squares * n / m

    def stats_of(self, rows) -> SufficientStats:
        """The statistics of the rows numbered ``rows`` (an index array; rows in memory)."""
        raise NoRowsError("these rows cannot be selected by number; they must be in memory")

    def row_count(self) -> int | None:
        """The number of rows, when it is known without a pass over them (else None)."""
        return None

    def weight_total(self) -> tuple | None:
        """What a fit streaming these rows can know of their weights before its first pass:
        ``(n, None)`` for unit weights (``n`` None when not known), ``(n, Σ s)`` read from the
        weights alone where they are kept apart from ``X`` (an ``.npy`` file of their own),
        None when only a pass over the rows tells."""
        return None

    def has_factor(self) -> bool:
        """Whether :meth:`qr_factor` can be had (rows to read, or a factor kept)."""
        return True

    def has_rows(self) -> bool:
        """Whether the rows themselves can be read (again): :meth:`blocks` and
        :meth:`map_blocks` work (not after ``merge`` or ``partial_fit``)."""
        return True

    def qr_factor(self, design, y_shift=None) -> np.ndarray:
        """The triangular factor of ``√s·[1, X̃, y − y_shift]`` over all rows (one pass)."""
        from ..tsqr import streamed_qr_factor
        return streamed_qr_factor(self.blocks(), design, y_shift)


def sliced_blocks(blocks, vector):
    """``(block, vector[start:stop])`` for each block (``None`` for the slice without
    ``vector``), in row order."""
    start = 0
    for block in blocks:
        stop = start + block[0].shape[0]
        yield block, None if vector is None else vector[start:stop]
        start = stop


def fold_results(results, combine):
    """``list(results)``, or with ``combine`` the results combined in order (None if none)."""
    if combine is None:
        return list(results)
    total = None
    for i, result in enumerate(results):
        total = result if i == 0 else combine(total, result)
    return total


def shape_of(X) -> tuple:
    """``(n, d, nnz, Σ_i nnz_i²)`` of a dense or CSR ``X`` (dense: every value stored)."""
    n, d = X.shape
    if hasattr(X, "indptr"):
        per_row = np.diff(X.indptr).astype(np.float64)
        return n, d, float(X.nnz), float(per_row @ per_row)
    return n, d, float(n) * d, float(n) * d * d


def array_groups(groups: tuple, where: str) -> tuple:
    """``groups`` when they are arrays; column names are refused (``where`` names the rows)."""
    if any(isinstance(g, str) for g in groups):
        raise ValueError(f"groups={list(groups)!r} names columns, but {where} have no named "
                         "columns to take them from: pass the cluster labels as arrays aligned "
                         "with the rows (e.g. df['firm'].to_numpy())")
    return groups


class StatsRows(Rows):
    """No rows at all: only their statistics (after ``merge``)."""

    def __init__(self, stats: SufficientStats, single_target: bool = True):
        self._stats = stats
        self.n_features, self.n_targets = stats.n_features, stats.n_targets
        self.single_target = single_target

    def stats(self) -> SufficientStats:
        return self._stats

    def blocks(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        raise NoRowsError("this needs the rows of X, and only their sufficient statistics are "
                          "available here (after merge or partial_fit); pass the rows")

    def map_blocks(self, fn: Callable, groups: tuple = ()) -> list:
        return list(self.blocks())

    def map_blocks_at(self, fn: Callable) -> list:
        return list(self.blocks())

    def has_factor(self) -> bool:
        return False

    def has_rows(self) -> bool:
        return False

    def qr_factor(self, design, y_shift=None) -> np.ndarray:
        raise NoRowsError("solver='qr' needs the rows of X; only their sufficient statistics "
                          "are available here — use solver='normal' or 'auto'")


class AccumulatedRows(StatsRows):
    """What ``partial_fit`` keeps of the chunks so far: their statistics relative to one
    fixed point ``K`` (so merging chunks keeps full accuracy however large the means), and,
    for ``solver="qr"``, one triangular factor of them around ``K``, re-framed to any design
    without a pass (:func:`linreg.tsqr.reframe_qr_factor`)."""

    def __init__(self, origin: np.ndarray, relative: SufficientStats, factor=None,
                 single_target: bool = True):
        from ..stats import unshift
        super().__init__(unshift(relative, origin), single_target)
        self.origin, self.relative, self.factor = origin, relative, factor

    @classmethod
    def continuing(cls, stats: SufficientStats, rows, with_factor: bool,
                   single_target: bool) -> "AccumulatedRows":
        """``partial_fit`` after ``fit``, ``merge`` or loading: the accumulation starts from
        the model's statistics, around their means (and, for ``"qr"``, from a factor of the
        model's ``rows``, which must still be there)."""
        from ..design import Design
        K = stats.mean.copy()
        relative = SufficientStats(stats.n_rows, stats.weight_sum, np.zeros_like(K),
                                   stats.comoment, stats.n_features)
        factor = None
        if with_factor:
            if rows is None or not rows.has_factor():
                raise NoRowsError("partial_fit with solver='qr' can continue only a model whose "
                                  "rows it has seen (a fit on in-memory arrays or a data source, "
                                  "or earlier partial_fit calls with solver='qr'); refit, or use "
                                  "solver='normal' or 'auto'")
            d = stats.n_features
            factor = rows.qr_factor(Design(K[:d], np.ones(d), True, False), K[d:])
        return cls(K, relative, factor, single_target)

    def add(self, X, Y, sample_weight, with_factor: bool, sparse=None) -> "AccumulatedRows":
        """The accumulation with one more chunk (a new object).  ``sparse``: the chunk as
        :class:`~linreg.rows.SparseRows` (a ``scipy.sparse`` ``X``), read as it reads rows:
        statistics from sparse products, the factor from dense blocks of bounded size."""
        from ..tsqr import merge_qr_factors, qr_factor_around
        from ..design import Design
        from ..stats import shifted_stats
        K, factor = self.origin, None
        if with_factor:
            if self.factor is None and self.relative.n_rows > 0:
                raise NoRowsError(
                    "partial_fit with solver='qr' can continue only a model whose rows it has "
                    "seen (a fit on in-memory arrays or a data source, or earlier partial_fit "
                    "calls with solver='qr'); refit, or use solver='normal' or 'auto'")
            d = X.shape[1]
            chunk = (qr_factor_around(X, Y, K, sample_weight) if sparse is None else
                     sparse.qr_factor(Design(K[:d], np.ones(d), True, False), K[d:]))
            factor = chunk if self.factor is None else merge_qr_factors(self.factor, chunk)
        shifted = (shifted_stats(X, Y, sample_weight, K) if sparse is None else
                   sparse.shifted_stats(K))
        return AccumulatedRows(K, self.relative.merge(shifted), factor, self.single_target)

    def has_factor(self) -> bool:
        return self.factor is not None

    def qr_factor(self, design, y_shift=None) -> np.ndarray:
        from ..tsqr import reframe_qr_factor
        if self.factor is None:
            return super().qr_factor(design, y_shift)
        return reframe_qr_factor(self.factor, self.origin, design, y_shift)
