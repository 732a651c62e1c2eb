"""The blocked passes over rows in memory, run on several threads.

A pass over ``X`` splits its rows into contiguous *pieces* whose results combine exactly —
raw sums add, :class:`~linreg.stats.SufficientStats` merge — so the pieces can run side by
side.  Each worker calls BLAS on one thread: a block is a few MB, and splitting one small
BLAS call over threads costs more in synchronisation than it gains (the README's benchmark
section has the figures).  NumPy releases the GIL inside BLAS, so Python threads suffice.

How many workers: as many threads as BLAS may use (``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, or ``threadpoolctl.threadpool_limits`` around the fit), so limiting
BLAS limits linreg too.  The pieces depend only on ``n`` and the block size — never on the
number of workers — and are combined in order, so a fit gives the same bits on one thread or
on sixteen.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterator, TypeVar

__all__ = ["row_pieces", "map_row_pieces", "map_in_threads", "blas_controller", "blas_threads",
           "one_blas_thread", "pass_pieces", "map_pieces", "in_background", "PASS_BLOCK_ROWS",
           "PIECE_MEMORY", "PARALLEL_MIN_VALUES"]

T = TypeVar("T")
R = TypeVar("R")

#: at most this many pieces per pass: enough to keep many cores busy and balanced, few
#: enough that combining them costs nothing next to the pass
MAX_PIECES = 64


@functools.cache
def blas_controller():
    """The process's ``threadpoolctl`` controller (created once NumPy and SciPy are loaded)."""
    from threadpoolctl import ThreadpoolController
    return ThreadpoolController()


def blas_threads() -> int:
    """How many threads BLAS may use now (1 when no BLAS is found)."""
    libs = blas_controller().select(user_api="blas").lib_controllers
    return max((lib.num_threads for lib in libs), default=1)


_limit_lock = threading.Lock()
_limit_depth = 0
_limiter = None


def _release_openblas_control() -> None:
    """threadpoolctl (≥ 3.8) lets one Python thread at a time change OpenBLAS's setting (the
    first to limit it); free that role so whichever thread ends the last pass can restore."""
    from threadpoolctl import OpenBLASController
    OpenBLASController.clear_controlling_thread(force=True)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread inside the block; the setting from before back when the last of
    any overlapping blocks ends.

    Several threads may be inside at once (Dask tasks, a user's threads, nested passes), and
    leave in any order: the first to enter limits BLAS, the last to leave restores it — from
    whichever thread that is — so no thread leaves BLAS at the "1" another thread set.
    """
    global _limit_depth, _limiter
    with _limit_lock:
        if _limit_depth == 0:
            _limiter = blas_controller().limit(limits=1, user_api="blas")
        _limit_depth += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_depth -= 1
            if _limit_depth == 0:
                _release_openblas_control()
                _limiter.restore_original_limits()
                _release_openblas_control()
                _limiter = None


def row_pieces(n: int, block_rows: int) -> list[tuple[int, int]]:
    """Contiguous ``(start, stop)`` row ranges made of whole blocks, at most
    :data:`MAX_PIECES` of them, as even as whole blocks allow.

    >>> row_pieces(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    >>> row_pieces(0, 4)
    []
    """
    n_blocks = -(-n // block_rows)
    count = min(n_blocks, MAX_PIECES)
    if count == 0:
        return []
    edges = [min(n, (i * n_blocks // count) * block_rows) for i in range(count + 1)]
    return list(zip(edges[:-1], edges[1:]))


def map_in_threads(fn: Callable[[T], R], items: list[T], workers: int) -> list[R]:
    """``[fn(item) for item in items]`` in order, on up to ``workers`` threads (in the caller's
    thread when one suffices).  Each call runs in a copy of the caller's context, so
    ``numpy.errstate`` around the call holds inside the workers; an exception in any call is
    raised here."""
    workers = min(len(items), workers)
    if workers <= 1:
        return [fn(item) for item in items]
    context = contextvars.copy_context()
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda item: context.copy().run(fn, item), items))


def map_row_pieces(fn: Callable[[int, int], T], n: int, block_rows: int) -> list[T]:
    """``[fn(start, stop) for each piece]`` in piece order, the pieces run on up to
    :func:`blas_threads` threads with BLAS on one thread each.

    A single piece (small data) or a single allowed thread runs in the caller's thread with
    BLAS left as it is.  An exception in any piece is raised here, and ``numpy.errstate``
    around the call holds inside the workers (:func:`map_in_threads`).
    """
    pieces = row_pieces(n, block_rows)
    workers = min(len(pieces), blas_threads(), os.cpu_count() or 1)
    if workers <= 1:
        return [fn(start, stop) for start, stop in pieces]
    with one_blas_thread():
        return map_in_threads(lambda piece: fn(*piece), pieces, workers)


#: rows per block of a compiled pass (:mod:`linreg.passes`; pieces are made of whole blocks)
PASS_BLOCK_ROWS = 4096
#: the pieces' partial sums of a pass together take at most this many bytes
PIECE_MEMORY = 64 << 20
#: passes over fewer values than this run in the caller's thread
PARALLEL_MIN_VALUES = 1 << 20


def pass_pieces(n: int, block_rows: int, per_piece_values: int) -> list[tuple[int, int]]:
    """Row ranges of whole blocks (:func:`linreg.parallel.row_pieces`), and no more of them
    than keep their partial sums (``per_piece_values`` floats each: a d-long gradient, d·k
    cross moments) within ``PIECE_MEMORY`` bytes together — a hashed design of 2²⁰ columns
    gets a few large pieces, not 64 copies of its gradient.  The count depends only on
    ``n`` and the width, never on the number of threads."""
    most = max(1, PIECE_MEMORY // (8 * max(per_piece_values, 1)))
    return row_pieces(n, max(block_rows, -(-n // most)))


def _workers(n_pieces: int) -> int:
    return min(n_pieces, blas_threads(), os.cpu_count() or 1)


_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def map_pieces(fn, pieces: list, values: int, workers: int | None = None) -> list:
    """``[fn(piece) for piece in pieces]`` in order, on up to :func:`_workers` threads of a
    pool kept for these passes (starting threads for every pass costs more than a small pass;
    the pieces' functions never call map_pieces, so a kept pool cannot deadlock), or in the
    caller's thread when the pass reads fewer than ``PARALLEL_MIN_VALUES`` values (waking
    threads would cost more).  Each call runs in a copy of the caller's context, as
    :func:`linreg.parallel.map_in_threads` does.  ``workers``: at most that many threads
    (default: as many as BLAS may use now)."""
    if values < PARALLEL_MIN_VALUES:
        workers = 1
    else:
        workers = _workers(len(pieces)) if workers is None else min(workers, len(pieces))
    if workers <= 1:
        return [fn(piece) for piece in pieces]
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = _pools[workers] = ThreadPoolExecutor(workers, "linreg-pass")
    context = contextvars.copy_context()
    return list(pool.map(lambda piece: context.copy().run(fn, piece), pieces))


_background: list[ThreadPoolExecutor] = []


def in_background(fn, *args):
    """``fn(*args)`` on a thread kept for work that runs beside a compiled kernel in the
    caller's thread (the kernels release the GIL): a ``Future``."""
    with _pools_lock:
        if not _background:
            _background.append(ThreadPoolExecutor(1, "linreg-beside"))
    return _background[0].submit(contextvars.copy_context().run, fn, *args)
