"""LSQR's products with a CSR ``X`` read in place (:mod:`linreg.solvers.lsqr_products`):
``X v``, ``Xᵀt`` and both in one read, compiled, on threads, with the weights and the centring
inside the loop — no transpose, no CSC copy, the same bits on any number of threads."""

from __future__ import annotations

import os

import numpy as np
from numba import njit

from .parallel import blas_threads, row_pieces
from .parallel import PASS_BLOCK_ROWS, PIECE_MEMORY, map_pieces

__all__ = ["csr_times", "csr_transpose_times", "csr_times_and_normal", "product_workers",
           "PRODUCT_PIECES"]

#: at most this many pieces for the products of :func:`csr_times` and
#: :func:`csr_transpose_times` (each piece of ``Xᵀt`` keeps a d-long sum of its own)
PRODUCT_PIECES = 16


# (no fastmath: reassociating the row's sum makes numba gather in vectors, slower here)
@njit(cache=True, nogil=True, inline="always")
def _row_dot(indices, data, v, start, stop):
    """``Σ_q data[q] v[indices[q]]`` over ``start:stop`` in four running sums (every fourth
    entry each, added ``(s₀ + s₁) + (s₂ + s₃)``, the rest into ``s₀``): four chains of
    additions instead of one, so a row's products overlap.  Unsigned positions (CSR's are
    never negative): no wraparound test per read."""
    one, two, three, four = np.uint64(1), np.uint64(2), np.uint64(3), np.uint64(4)
    s0 = s1 = s2 = s3 = 0.0
    q = start
    while q + four <= stop:
        s0 += data[q] * v[np.uint64(indices[q])]
        s1 += data[q + one] * v[np.uint64(indices[q + one])]
        s2 += data[q + two] * v[np.uint64(indices[q + two])]
        s3 += data[q + three] * v[np.uint64(indices[q + three])]
        q += four
    while q < stop:
        s0 += data[q] * v[np.uint64(indices[q])]
        q += one
    return (s0 + s1) + (s2 + s3)


@njit(cache=True, nogil=True)
def _csr_times(indptr, indices, data, v, offset, root_s, lo, hi, out):
    """``out[i] = root_s[i] (x_i·v − offset)`` for rows ``lo:hi`` (no ``root_s``: 1)."""
    weighted = root_s.shape[0] > 0
    for i in range(lo, hi):
        acc = _row_dot(indices, data, v, np.uint64(indptr[i]), np.uint64(indptr[i + 1]))
        acc -= offset
        out[i] = root_s[i] * acc if weighted else acc


@njit(cache=True, nogil=True)
def _csr_transpose_times(indptr, indices, data, t, root_s, lo, hi, acc):
    """``acc += Σ_i root_s[i] t[i] x_i`` over rows ``lo:hi``; returns ``Σ root_s[i] t[i]``."""
    weighted = root_s.shape[0] > 0
    total = 0.0
    for i in range(lo, hi):
        ti = root_s[i] * t[i] if weighted else t[i]
        total += ti
        for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
            acc[np.uint64(indices[q])] += data[q] * ti
    return total


@njit(cache=True, nogil=True)
def _csr_times_and_normal(indptr, indices, data, v, offset, root_s, lo, hi, out, kept, acc):
    """Rows ``lo:hi`` of :func:`_csr_times` and then :func:`_csr_transpose_times` of that
    ``out``, each row read once: ``out[i] = root_s[i] (x_i·v − offset)`` (and in ``kept``),
    ``acc += root_s[i] out[i] x_i``; returns ``Σ root_s[i] out[i]`` — the same operations in
    the same order as the two kernels, so the same bits."""
    weighted = root_s.shape[0] > 0
    total = 0.0
    for i in range(lo, hi):
        start, stop = np.uint64(indptr[i]), np.uint64(indptr[i + 1])
        a = _row_dot(indices, data, v, start, stop)
        a -= offset
        oi = root_s[i] * a if weighted else a
        out[i] = oi
        kept[i] = oi
        ti = root_s[i] * oi if weighted else oi
        total += ti
        for q in range(start, stop):
            acc[np.uint64(indices[q])] += data[q] * ti
    return total


def _product_pieces(n: int, d: int) -> list[tuple[int, int]]:
    """Row ranges for the products: whole blocks, at most :data:`PRODUCT_PIECES` of them and
    no more than keep their d-long sums within ``PIECE_MEMORY`` — fixed by ``n`` and ``d``."""
    most = max(1, min(PRODUCT_PIECES, PIECE_MEMORY // (8 * max(d, 1))))
    return row_pieces(n, max(PASS_BLOCK_ROWS, -(-n // most)))


def product_workers() -> int:
    """The threads :func:`csr_times` and :func:`csr_transpose_times` may use: as many as
    BLAS may use now (read before BLAS is limited to one thread around a solver)."""
    return min(blas_threads(), os.cpu_count() or 1)


def csr_times(X, v, offset: float = 0.0, root_s=None, workers: int | None = None) -> np.ndarray:
    """``root_s ⊙ (X v − offset)`` (n,) for a CSR ``X`` read in place, on up to ``workers``
    threads (default :func:`product_workers`; rows are independent: the same bits on any
    number of threads).  ``root_s`` (n,) or None (ones)."""
    n = X.shape[0]
    v = np.ascontiguousarray(v, dtype=np.float64)
    root_s = np.empty(0) if root_s is None else root_s
    out = np.empty(n)
    map_pieces(lambda b: _csr_times(X.indptr, X.indices, X.data, v, offset, root_s, b[0], b[1], out),
         _product_pieces(n, 1), X.nnz, workers)
    return out


def csr_transpose_times(X, t, root_s=None, workers: int | None = None) -> tuple[np.ndarray, float]:
    """``(Xᵀ (root_s ⊙ t), Σ root_s ⊙ t)`` for a CSR ``X`` read in place (no transpose, no
    CSC copy): each piece of rows adds into a d-long sum of its own, and the pieces' sums
    are added in order — fixed by ``n`` and ``d``, so the same bits on any number of
    threads."""
    n, d = X.shape
    t = np.ascontiguousarray(t, dtype=np.float64)
    root_s = np.empty(0) if root_s is None else root_s

    def piece(bounds):
        acc = np.zeros(d)
        total = _csr_transpose_times(X.indptr, X.indices, X.data, t, root_s, bounds[0],
                                     bounds[1], acc)
        return acc, total

    parts = map_pieces(piece, _product_pieces(n, d), X.nnz, workers)
    if not parts:
        return np.zeros(d), 0.0
    acc, total = parts[0]
    for a, s in parts[1:]:
        acc += a
        total += s
    return acc, float(total)


def csr_times_and_normal(X, v, offset: float = 0.0, root_s=None, workers: int | None = None,
                         kept=None, out=None) -> tuple[np.ndarray, np.ndarray, float]:
    """``(t, g, Σ root_s ⊙ t)`` with ``t = csr_times(X, v, offset, root_s)`` and
    ``g = Xᵀ (root_s ⊙ t)`` in **one** read of the CSR (each row's values are used for
    ``t_i`` and at once for its share of ``g``): the bits of :func:`csr_times` followed by
    :func:`csr_transpose_times`, on any number of threads.  ``kept`` (n,): also gets ``t``
    (a copy written in the same loop); ``out`` (n,): where ``t`` is written (else a new
    array)."""
    n, d = X.shape
    v = np.ascontiguousarray(v, dtype=np.float64)
    root_s = np.empty(0) if root_s is None else root_s
    out = np.empty(n) if out is None else out
    kept = out if kept is None else kept

    def piece(bounds):
        acc = np.zeros(d)
        total = _csr_times_and_normal(X.indptr, X.indices, X.data, v, offset, root_s,
                                      bounds[0], bounds[1], out, kept, acc)
        return acc, total

    parts = map_pieces(piece, _product_pieces(n, d), X.nnz, workers)
    if not parts:
        return out, np.zeros(d), 0.0
    acc, total = parts[0]
    for a, s in parts[1:]:
        acc += a
        total += s
    return out, acc, float(total)
