"""Rows in memory (:class:`MemoryRows`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from ..stats import BLOCK_ROWS, SufficientStats
from .base import Rows, array_groups

__all__ = ["MemoryRows"]


class MemoryRows(Rows):
    """Arrays in memory: ``X`` (n, d), ``Y`` (n, k) float64, ``w`` (n,) or None — checked by
    the estimator's validation before they get here.  Passes run on pieces of whole blocks
    on several threads (:mod:`linreg.parallel`), with the same bits on any thread count."""

    def __init__(self, X, Y, sample_weight=None, single_target: bool = True,
                 feature_names=None, target_names=None, block_rows: int = BLOCK_ROWS):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.n_features, self.n_targets = X.shape[1], Y.shape[1]
        self.single_target = single_target
        self.feature_names, self.target_names = feature_names, target_names
        self.block_rows = block_rows

    def stats(self) -> SufficientStats:
        """The statistics pass, which also serves as the check for NaN/inf in ``X``: a
        non-finite value makes the sums non-finite, and only then are the rows scanned to
        say where it is (so clean data is read once, not twice)."""
        from ..stats import sufficient_stats
        from ..validation import check_finite
        try:
            stats = sufficient_stats(self.X, self.Y, self.sample_weight)
        except ValueError:
            check_finite(self.X, "X", self.feature_names)
            raise
        if not stats.is_finite():
            check_finite(self.X, "X", self.feature_names)
        return stats

    def moments(self):
        """Column means and variances in one compiled read of ``X`` (:mod:`linreg.passes`);
        a non-finite value is named by row and column, a column whose squares overflow
        is named too (as :meth:`stats` does)."""
        from ..passes import dense_moments
        from ..stats import check_representable_columns
        from ..training_objective import ColumnMoments
        from ..validation import check_finite
        with np.errstate(over="ignore", invalid="ignore"):
            n_w, mean_x, m2_x, mean_y, m2_y, cross = dense_moments(self.X, self.Y,
                                                                   self.sample_weight)
        moments = ColumnMoments(self.X.shape[0], n_w, mean_x, m2_x, mean_y, m2_y, cross)
        if not moments.is_finite():
            check_finite(self.X, "X", self.feature_names)
        check_representable_columns(np.concatenate([mean_x, mean_y]),
                                    np.concatenate([m2_x, m2_y]), self.n_features, n_w)
        return moments

    def stats_of(self, rows) -> SufficientStats:
        from ..stats import sufficient_stats
        w = self.sample_weight
        return sufficient_stats(self.X[rows], self.Y[rows], None if w is None else w[rows])

    def row_count(self) -> int:
        return self.X.shape[0]

    def arrays(self) -> tuple:
        return self.X, self.Y, self.sample_weight

    def blocks(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        X, Y, w = self.X, self.Y, self.sample_weight
        n = X.shape[0]
        if shuffle:
            order = np.random.default_rng(rng).permutation(n)
            X, Y, w = X[order], Y[order], None if w is None else w[order]
        for start in range(0, n, self.block_rows):
            stop = min(start + self.block_rows, n)
            yield X[start:stop], Y[start:stop], None if w is None else w[start:stop]

    def map_blocks(self, fn: Callable, groups: tuple = ()) -> list:
        from ..parallel import map_row_pieces, row_pieces
        index = {start: i for i, (start, _) in enumerate(row_pieces(self.X.shape[0],
                                                                    self.block_rows))}
        w = self.sample_weight
        groups = array_groups(groups, "rows in memory")

        def piece(start: int, stop: int):
            block = (self.X[start:stop], self.Y[start:stop], None if w is None else w[start:stop])
            if groups:
                block += (tuple(g[start:stop] for g in groups),)
            return fn(block, index[start])

        return map_row_pieces(piece, self.X.shape[0], self.block_rows)

    def map_blocks_at(self, fn: Callable) -> list:
        from ..parallel import map_row_pieces
        w = self.sample_weight

        def piece(start: int, stop: int):
            return fn((self.X[start:stop], self.Y[start:stop],
                       None if w is None else w[start:stop]), start)

        return map_row_pieces(piece, self.X.shape[0], self.block_rows)

    def qr_factor(self, design, y_shift=None) -> np.ndarray:
        from ..tsqr import qr_factor
        return qr_factor(self.X, self.Y, design, self.sample_weight, y_shift)
