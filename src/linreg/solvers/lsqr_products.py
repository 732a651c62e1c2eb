"""The products LSQR asks of the rows (:mod:`linreg.solvers.lsqr`), wherever they live.

LSQR needs three things of the weighted rows, for a vector ``v`` (d,) and ``t`` (n,)::

    times(v, c)        √s ⊙ (X v − c)                       (n,)
    transpose_times(t) (Xᵀ(√s ⊙ t), Σ √s ⊙ t)              (d,), a number
    target(j, ȳ_j)     √s ⊙ (y_j − ȳ_j)                     (n,)

:class:`MemoryProducts` computes them on arrays in memory: a CSR ``X`` is read in place by
compiled kernels on threads (:func:`linreg.csr_products.csr_times`,
:func:`~linreg.csr_products.csr_transpose_times`: no transpose and no CSC copy, the weights and
the centring's offset inside the same loop), a dense ``X`` by BLAS.

:class:`StreamedProducts` computes them block by block through the rows' interface
(:meth:`linreg.rows.Rows.map_blocks_with`): a file source reads its blocks again (one read
of every file per product), a Dask collection computes each partition's piece on the
workers — ``X_b v`` comes back as the block's slice of the n-vector, ``X_bᵀ t_b`` is added
up block by block (on Dask in a binary tree on the workers: one d-vector comes back), with
the slice ``t_b`` sent to the partition's task.  A block may be dense or
``scipy.sparse`` (``X_b @ v`` and ``X_b.T @ t`` serve both).

Both also give ``times_and_normal(v, offset)`` — ``t = times(v, offset)`` and
``transpose_times(t)`` from **one** read of the rows (a CSR by
:func:`~linreg.csr_products.csr_times_and_normal`, a streamed block for both products at once) —
from which LSQR's operator (:class:`linreg.solvers.lsqr_operator.OnePassOperator`) forms the next
``Aᵀu`` without reading the rows again.  So LSQR on streamed rows makes **one pass over the
rows per iteration** (a real ``transpose_times`` only to start each target and where the
combination would not be exact enough), plus one per target for ``target``, and holds
**O(n) numbers** — LSQR's own n-vectors for the target being solved and the operator's two
kept ones — never O(n·d).

:func:`streamed_moments` is the one pass before them: the weight, the column means and
``Σ s (x − x̄)²`` of the features and the targets' means, block by block merged exactly
(Chan et al.), each block's sums checked for NaN and infinity.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..parallel import one_blas_thread
from ..csr_products import csr_times, csr_times_and_normal, csr_transpose_times, product_workers
from ..passes import merge_moments
from ..rows.base import NonFiniteRows
from ..training_objective import block_moments

__all__ = ["MemoryProducts", "StreamedProducts", "streamed_moments"]


def _root_weights(w):
    return None if w is None else np.sqrt(np.asarray(w, dtype=np.float64))


class MemoryProducts:
    """The products on ``X`` (dense or canonical CSR), ``Y`` (n, k), ``w`` (n,) or None."""

    def __init__(self, X, Y, w):
        self.X, self.Y = X, Y
        self.n = X.shape[0]
        self.root_s = _root_weights(w)
        self.csr = hasattr(X, "tocsr")
        self.workers = product_workers()      # before BLAS is limited (blas_setting)

    def blas_setting(self):
        """Around LSQR: on a CSR ``X``, BLAS on one thread (:func:`linreg.parallel.one_blas_thread`)
        — what BLAS does there is LSQR's own O(n) vector work (norms, scalings), which gains
        nothing from threads, while BLAS threads left waiting (or spinning) between those calls
        take the cores from the kernels' threads; a dense ``X``'s product keeps BLAS as set."""
        return one_blas_thread() if self.csr else contextlib.nullcontext()

    def times(self, v, offset: float) -> np.ndarray:
        if self.csr:
            return csr_times(self.X, v, offset, self.root_s, self.workers)
        out = self.X @ v
        out -= offset
        return out if self.root_s is None else out * self.root_s

    @property
    def one_pass(self) -> bool:
        """Whether :meth:`times_and_normal` reads the rows once (a CSR): then LSQR's operator
        asks it for both products of an iteration (:class:`linreg.solvers.lsqr_operator.OnePassOperator`)."""
        return self.csr

    def times_and_normal(self, v, offset: float, kept=None,
                         out=None) -> tuple[np.ndarray, np.ndarray, float]:
        """``(t, *transpose_times(t))`` with ``t = times(v, offset)``: one read of a CSR;
        ``kept`` (n,), if given, also gets ``t``; ``out`` (n,): where a CSR's ``t`` is
        written (else a new array)."""
        if self.csr:
            return csr_times_and_normal(self.X, v, offset, self.root_s, self.workers, kept, out)
        t = self.times(v, offset)
        if kept is not None:
            kept[:] = t
        return (t, *self.transpose_times(t))

    def transpose_times(self, t) -> tuple[np.ndarray, float]:
        if self.csr:
            return csr_transpose_times(self.X, t, self.root_s, self.workers)
        if self.root_s is not None:
            t = self.root_s * t
        return self.X.T @ t, float(t.sum())

    def target(self, j: int, mean: float) -> np.ndarray:
        b = self.Y[:, j] - mean
        return b if self.root_s is None else b * self.root_s


# ----------------------------------------------------------------------------- streamed
def _block_times(block, _piece, v, offset):
    X, _, w = block
    out = np.asarray(X @ v, dtype=np.float64).ravel() - offset
    return out if w is None else out * np.sqrt(w)


def _block_transpose_times(block, t):
    X, _, w = block
    if w is not None:
        t = t * np.sqrt(w)
    return np.asarray(X.T @ t, dtype=np.float64).ravel(), float(t.sum())


def _add_sums(a: tuple, b: tuple) -> tuple:
    """Two blocks' ``(Xᵀt, Σ t)`` added (a new array: a Dask result may be shared)."""
    return a[0] + b[0], a[1] + b[1]


#: a dense block's rows are taken this many bytes at a time for both of its products, so
#: the second reads them from the cache
_CACHED_BYTES = 1 << 20


def _block_times_and_normal(block, _piece, v, offset):
    """``((t_b,), X_bᵀ(√w t_b), Σ √w t_b)`` with ``t_b = _block_times(...)``, the block read
    once from memory: a CSR block by :func:`linreg.csr_products.csr_times_and_normal` (on the
    calling thread), a dense one in pieces of rows small enough to stay in the cache."""
    X, _, w = block
    root_w = None if w is None else np.sqrt(np.asarray(w, dtype=np.float64))
    if hasattr(X, "tocsr"):
        from ..rows.sparse import as_csr
        t, g, total = csr_times_and_normal(as_csr(X), v, offset, root_w, workers=1)
        return (t,), g, total
    m, d = X.shape
    step = max(1, _CACHED_BYTES // (8 * max(d, 1)))
    t, g, total = np.empty(m), np.zeros(d), 0.0
    for lo in range(0, m, step):
        part = (X[lo:lo + step], None, None if w is None else w[lo:lo + step])
        t[lo:lo + step] = _block_times(part, None, v, offset)
        g_part, total_part = _block_transpose_times(part, t[lo:lo + step])
        g += g_part
        total += total_part
    return (t,), g, total


def _add_pieces_and_sums(a: tuple, b: tuple) -> tuple:
    """Two runs of blocks' ``((t pieces…), Xᵀt, Σ t)``: the pieces in row order, sums added."""
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def _block_target(block, _piece, j, mean):
    _, Y, w = block
    b = np.asarray(Y[:, j], dtype=np.float64) - mean
    return b if w is None else b * np.sqrt(w)


class StreamedProducts:
    """The products on rows read block by block (a :class:`linreg.rows.Rows` that is not in
    memory: a file source, a Dask collection), after a pass that read and checked every value
    (:func:`streamed_moments`, or the statistics' pass): each product is a pass that checks
    nothing again."""

    def __init__(self, rows, n: int):
        self.rows, self.n = rows, n

    def blas_setting(self):
        """BLAS as set (the blocks may be dense: their products use it)."""
        return contextlib.nullcontext()

    #: :meth:`times_and_normal` reads the rows once (each block for both products)
    one_pass = True

    def times_and_normal(self, v, offset: float, kept=None,
                         out=None) -> tuple[np.ndarray, np.ndarray, float]:
        """``(t, *transpose_times(t))`` with ``t = times(v, offset)`` in one pass: each block's
        slice of ``t`` and its share of the sums from one read of the block (on Dask the
        slices come back through the sums' binary tree, in row order).  ``kept`` (n,), if
        given, also gets ``t``; ``out`` is not used (``t`` is gathered from the blocks)."""
        v = np.asarray(v, dtype=np.float64)
        out = self.rows.map_blocks_with(
            lambda block, piece: _block_times_and_normal(block, piece, v, offset),
            combine=_add_pieces_and_sums)
        pieces, g, total = ((), np.zeros(self.rows.n_features), 0.0) if out is None else out
        t = self._gather(list(pieces))
        if kept is not None:
            kept[:] = t
        return t, g, total

    def _gather(self, parts) -> np.ndarray:
        out = np.concatenate(parts) if parts else np.zeros(0)
        if out.shape[0] != self.n:
            raise ValueError(f"the rows changed between passes: a pass read {out.shape[0]} rows, "
                             f"the first {self.n}")
        return out

    def times(self, v, offset: float) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64)
        return self._gather(self.rows.map_blocks_with(
            lambda block, piece: _block_times(block, piece, v, offset)))

    def transpose_times(self, t) -> tuple[np.ndarray, float]:
        summed = self.rows.map_blocks_with(_block_transpose_times, np.asarray(t, np.float64),
                                           combine=_add_sums)
        return (np.zeros(self.rows.n_features), 0.0) if summed is None else summed

    def target(self, j: int, mean: float) -> np.ndarray:
        return self._gather(self.rows.map_blocks_with(
            lambda block, piece: _block_target(block, piece, j, mean)))


def _block_moments(block, start: int) -> tuple:
    """``(n_w, x̄, m2_x, ȳ, m2_y, c)`` of one block (dense or sparse ``X``), and its row
    count; :class:`NonFiniteRows` when its sums are not finite."""
    X, Y, w = block
    Y = np.asarray(Y, dtype=np.float64)
    m, d = X.shape
    k = Y.shape[1]
    if w is not None and not np.all(np.isfinite(w)):
        raise NonFiniteRows(f"the sample weights of the rows from row {start} are not all finite")
    if w is not None and np.any(np.asarray(w) < 0):
        r = int(np.flatnonzero(np.asarray(w) < 0)[0])
        raise ValueError(f"row {start + r}: sample_weight is {w[r]!r}; it must be >= 0")
    n_w = float(m if w is None else np.sum(w))
    if m == 0 or n_w == 0:
        moments = (0.0, np.zeros(d), np.zeros(d), np.zeros(k), np.zeros(k), np.zeros((d, k)))
    else:
        from ..rows.sparse import as_csr
        with np.errstate(invalid="ignore", over="ignore"):
            moments = block_moments(as_csr(X) if hasattr(X, "tocsr") else X, Y, w)
    finite = all(np.all(np.isfinite(a)) for a in moments[1:])
    if not finite:
        raise NonFiniteRows(f"the rows from row {start} hold a NaN or an infinity (or values "
                            "whose squares overflow float64)")
    return moments, m


def _merge_block_moments(a: tuple, b: tuple) -> tuple:
    """Two blocks' ``(moments, rows)`` of :func:`_block_moments` merged (Chan et al.)."""
    return merge_moments(a[0], b[0]), a[1] + b[1]


def streamed_moments(rows) -> tuple:
    """``(n, n_w, x̄, m2_x, ȳ)`` of all rows in one checked pass
    (:meth:`linreg.rows.Rows.map_blocks_checking`), the blocks' moments merged as they come
    (on Dask in a binary tree on the workers): a few d-vectors held, not a few per block."""
    merged = rows.map_blocks_checking(_block_moments, combine=_merge_block_moments)
    if merged is None:
        raise ValueError("there are no rows to fit")
    total, n = merged
    if n == 0:
        raise ValueError("there are no rows to fit")
    if total[0] <= 0:
        raise ValueError("sample_weight is zero for every row: there is nothing to fit")
    return n, float(total[0]), total[1], np.maximum(total[2], 0.0), total[3]
