"""Rows read from files by a :mod:`linreg.sources` source (:class:`SourceRows`)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

import numpy as np

from ..stats import SufficientStats
from .base import NonFiniteRows, Rows, fold_results, sliced_blocks

__all__ = ["SourceRows", "read_ahead"]

#: how long the reading thread waits to hand over a block before it looks whether the pass
#: was abandoned (seconds)
POLL = 0.05


def read_ahead(blocks: Iterator, depth: int = 1) -> Iterator:
    """The items of ``blocks``, each read on a thread of its own while the caller works on
    the one before: reading a file (decoding, copying out of the memory map, checking the
    values) overlaps with the arithmetic on the block before it.  At most ``depth`` blocks
    wait, read, besides the one being read and the one being used.  An exception while
    reading is raised here, as the caller reaches it; a caller that stops early (or raises)
    stops the reading thread and closes ``blocks``."""
    waiting: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def offer(item) -> bool:
        while not stop.is_set():
            try:
                waiting.put(item, timeout=POLL)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for block in blocks:
                if not offer((block, None)):
                    return
            offer((end, None))
        except BaseException as exc:     # handed to the caller, raised there
            offer((None, exc))
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="linreg-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            block, exc = waiting.get()
            if exc is not None:
                raise exc
            if block is end:
                return
            yield block
    finally:
        stop.set()
        reader.join()


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

    def weight_total(self) -> tuple | None:
        """As :meth:`Rows.weight_total`: unit weights when the source has none, else the
        source's ``weight_total()`` where it can read the weights alone (read once)."""
        if not getattr(self.source, "has_weights", False):
            return self.row_count(), None
        if not hasattr(self, "_weight_total"):
            read = getattr(self.source, "weight_total", None)
            self._weight_total = None if read is None else read()
        return self._weight_total

    def blocks(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        return self.source.blocks(shuffle, rng)

    def keeping_blocks(self):
        """The source's (an svmlight file keeps parsed blocks for the fit's later passes),
        else nothing."""
        keeping = getattr(self.source, "keeping_blocks", None)
        return contextlib.nullcontext() if keeping is None else keeping()

    def blocks_ahead(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        """:meth:`blocks`, each read on a thread while the caller works on the one before
        (:func:`read_ahead`)."""
        return read_ahead(self.source.blocks(shuffle, rng))

    def ordered_blocks_ahead(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        """``(X, Y, w, order)``: :meth:`blocks_ahead` with the order to visit each block's
        rows in — where the source can (an svmlight file), shuffled rows are left in place
        and ``order`` is their permutation (``X[order]`` the block :meth:`blocks` gives,
        without its copy); else ``order`` is ``arange``."""
        ordered = getattr(self.source, "ordered_blocks", None)
        if ordered is not None:
            return read_ahead(ordered(shuffle, rng))
        return ((X, Y, w, np.arange(X.shape[0], dtype=np.int64))
                for X, Y, w in self.blocks_ahead(shuffle, rng))

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

    def map_blocks_with(self, fn, vector=None, combine=None):
        """As :meth:`Rows.map_blocks_with`: the blocks read without checking their values again
        (:meth:`linreg.sources.Source.blocks_again`), the next read ahead on a thread."""
        return fold_results((fn(block, piece) for block, piece in
                             sliced_blocks(read_ahead(self.source.blocks_again()), vector)),
                            combine)

    def map_blocks_at(self, fn) -> list:
        """As :meth:`Rows.map_blocks_at`, with the next block read ahead on a thread while
        ``fn`` works on this one (:func:`read_ahead`: about three blocks in memory at once)."""
        results, start = [], 0
        for block in read_ahead(self.source.blocks()):
            results.append(fn(block, start))
            start += block[0].shape[0]
        return results

    def map_blocks_checking(self, fn, combine=None):
        """As :meth:`Rows.map_blocks_checking`: the blocks as stored
        (:meth:`linreg.sources.Source.unchecked_blocks`: no copy out of a memory map, no
        check of every value), the next read ahead on a thread; a block ``fn`` refuses as
        not finite is checked to name the bad value, its file and its row.  With
        ``combine``, the results are combined as they come (one kept at a time)."""
        return fold_results(self._checked_results(fn), combine)

    def _checked_results(self, fn):
        start = 0
        for X, Y, w, chunk in read_ahead(self.source.unchecked_blocks()):
            try:
                result = fn((X, Y, w), start)
            except NonFiniteRows as exc:
                self.source.check_chunk(chunk)       # names a NaN or an infinity, if any
                from ..sources import MalformedDataError
                raise MalformedDataError(f"{chunk.file}: {exc}") from None
            start += X.shape[0]
            yield result
