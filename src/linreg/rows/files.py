"""Rows read from files by a :mod:`linreg.sources` source (:class:`SourceRows`)."""

from __future__ import annotations

from collections.abc import Iterator

from ..stats import SufficientStats
from .base import Rows

__all__ = ["SourceRows"]


class SourceRows(Rows):
    """Rows read from files by a :mod:`linreg.sources` source, a block at a time (a changed
    file is detected at the end of every pass)."""

    def __init__(self, source):
        self.source = source
        self.n_features, self.n_targets = source.n_features, source.n_targets
        self.single_target = source.single_target
        self.feature_names, self.target_names = source.feature_names, source.target_names

    def stats(self) -> SufficientStats:
        return self.source.stats()

    def row_count(self) -> int | None:
        n = getattr(self.source, "n_rows", None)
        return int(n) if isinstance(n, int) else None

    def blocks(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        return self.source.blocks(shuffle, rng)

    def map_blocks(self, fn, groups: tuple = ()) -> list:
        """As :meth:`Rows.map_blocks`; cluster labels named by column are read with each
        block, in the same pass (:meth:`linreg.sources.Source.grouped_blocks`)."""
        if groups and all(isinstance(g, str) for g in groups):
            return [fn(block, i)
                    for i, block in enumerate(self.source.grouped_blocks(list(groups)))]
        return super().map_blocks(fn, groups)

    def map_blocks_again(self, fn) -> list:
        """As :meth:`Rows.map_blocks`, the blocks read without checking their values again
        (:meth:`linreg.sources.Source.blocks_again`)."""
        return [fn(block, i) for i, block in enumerate(self.source.blocks_again())]
