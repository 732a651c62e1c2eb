"""The triangular factor of the rows in one pass (TSQR): ``R`` of ``√s·[1, X̃, y]`` block by
block (:func:`qr_factor`, :func:`streamed_qr_factor`), two factors merged into one
(:func:`merge_qr_factors`: exact and orthogonal, no squared condition number), and a factor
kept around a fixed point and re-framed to any design without a pass
(:func:`qr_factor_around`, :func:`reframe_qr_factor`: ``partial_fit``).  What
``solver="qr"`` reads for rows in files, on Dask and in ``partial_fit``; the solution from
a factor is :func:`linreg.closed_form.solve_qr_factor`."""

from __future__ import annotations

import functools

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

from .design import Design
from .parallel import map_row_pieces, one_blas_thread

__all__ = ["weighted_design_block", "qr_factor", "triangular_factor", "merge_qr_factors",
           "streamed_qr_factor", "qr_factor_around", "reframe_qr_factor", "QR_BLOCK_ROWS"]


def weighted_design_block(X, Y, sqrt_w, design: Design, start, stop, dtype, y_shift=None):
    """Rows ``start:stop`` of ``A = √s·[1, X̃]`` and ``b = √s·(y − y_shift)`` in the given
    precision (dense: a block of sparse rows, e.g. of an svmlight file, is made dense here,
    ``stop - start`` rows at a time)."""
    rows = X[start:stop]
    if hasattr(rows, "toarray"):
        rows = rows.toarray()
    Xb = (np.asarray(rows, dtype=dtype) - design.shift.astype(dtype)) / design.scale.astype(dtype)
    Yb = np.asarray(Y[start:stop], dtype=dtype)
    if y_shift is not None:
        Yb = Yb - y_shift.astype(dtype)
    if design.fit_intercept:
        Xb = np.hstack([np.ones((stop - start, 1), dtype=dtype), Xb])
    if sqrt_w is not None:
        w = np.asarray(sqrt_w[start:stop], dtype=dtype)[:, None]
        Xb, Yb = Xb * w, Yb * w
    return Xb, Yb


#: rows per step of the one-pass QR: small enough for the cache and for bounded memory
#: (measured at d = 100: 2048 rows per step factor 1e6 rows in 1.3 s, 8192 in 1.7 s)
QR_BLOCK_ROWS = 2048
#: LAPACK's block size for the triangular-pentagonal QR (16 beat 8, 32 and 64 at d = 100)
TPQRT_BLOCK = 16


def qr_factor(X, Y, design: Design, sample_weight=None, y_shift=None) -> np.ndarray:
    """Triangular factor ``R`` of ``[A, b] = √s·[1, X̃, y − y_shift]`` for one block of rows.

    ``[A, b] = Q R`` with ``R`` upper triangular of shape (min(m, p + k), p + k)
    (``p = d + 1`` with an intercept).  Only ``R`` is kept: ``RᵀR = [A, b]ᵀ[A, b]``.
    The rows are factored ``QR_BLOCK_ROWS`` at a time (each stacked under the factor so
    far, :func:`merge_qr_factors`), so the temporary copies stay a few MB whatever the block
    size; pieces of whole blocks run on several threads and their factors are stacked in
    order (:mod:`linreg.parallel`: the same bits on any number of threads).
    """
    n = X.shape[0]
    sqrt_w = None if sample_weight is None else np.sqrt(np.asarray(sample_weight, dtype=np.float64))

    k = 1 if np.ndim(Y) == 1 else Y.shape[1]
    no_rows = np.zeros((0, X.shape[1] + (1 if design.fit_intercept else 0) + k))

    def piece(start: int, stop: int) -> np.ndarray:
        R = no_rows
        for lo in range(start, stop, QR_BLOCK_ROWS):
            hi = min(lo + QR_BLOCK_ROWS, stop)
            A, b = weighted_design_block(X, Y, sqrt_w, design, lo, hi, np.float64, y_shift)
            R = merge_qr_factors(R, np.hstack([A, b]))
        return R

    # pieces of rows on several threads (linreg.parallel), their factors stacked in order
    return functools.reduce(merge_qr_factors, map_row_pieces(piece, n, QR_BLOCK_ROWS), no_rows)


def triangular_factor(M: np.ndarray) -> np.ndarray:
    """``R`` of ``M = Q R``, shape (min(m, n), n), by LAPACK's Householder ``geqrf``.

    Run on one BLAS thread: the QR of a tall, narrow block is a long chain of small
    matrix-vector steps, and handing each to several threads costs more than it saves
    (blocks of different partitions run in parallel anyway).
    """
    m, n = M.shape
    geqrf, = scipy.linalg.get_lapack_funcs(("geqrf",), (M,))
    with one_blas_thread():
        qr, _, _, info = geqrf(np.asfortranarray(M, dtype=np.float64), overwrite_a=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"QR factorisation failed (LAPACK info={info})")
    return np.triu(qr[: min(m, n)])


def merge_qr_factors(R1: np.ndarray, R2: np.ndarray) -> np.ndarray:
    """The factor of the rows of two blocks from their factors: ``R`` of ``[R1; R2]``.

    (``[R1; R2]ᵀ[R1; R2] = A1ᵀA1 + A2ᵀA2``, so this is exact, and orthogonal: no squaring
    of the condition number, unlike adding Gram matrices.)  ``R2`` may be any rows, a factor
    or a block of the design itself: this is also the step of the one-pass QR.

    LAPACK's ``tpqrt`` (QR of a triangle stacked on a rectangle) does it with Householder
    reflections that leave the zeros of ``R1`` alone: faster than ``geqrf`` of the
    stacked rows on tall blocks.  Shape (c, c) for ``c`` columns, or fewer rows when
    ``[R1; R2]`` has fewer.
    """
    c = R1.shape[1]
    m = R1.shape[0] + R2.shape[0]
    if R2.shape[0] == 0:
        return R1
    if m < c:                   # fewer rows than columns: a small trapezoid, factored whole
        return triangular_factor(np.vstack([R1, R2]))
    A = np.zeros((c, c), order="F")
    A[: R1.shape[0]] = R1       # zero rows below keep the triangle: RᵀR unchanged
    B = np.asfortranarray(R2, dtype=np.float64)
    with one_blas_thread():
        A, _, _, info = scipy.linalg.lapack.dtpqrt(0, min(TPQRT_BLOCK, c), A, B,
                                                   overwrite_a=True, overwrite_b=True)
    if info != 0:
        raise np.linalg.LinAlgError(f"QR factorisation failed (LAPACK info={info})")
    return np.triu(A)


def streamed_qr_factor(blocks, design: Design, y_shift=None) -> np.ndarray:
    """One pass of TSQR over ``blocks`` of ``(X, Y, w)``: the factor ``R`` of all rows."""
    R = None
    for X, Y, w in blocks:
        if X.shape[0] == 0:
            continue
        Rb = qr_factor(X, Y, design, w, y_shift)
        R = Rb if R is None else merge_qr_factors(R, Rb)
    if R is None:
        raise ValueError("there are no rows to factor")
    return R


def qr_factor_around(X, Y, origin: np.ndarray, sample_weight=None) -> np.ndarray:
    """The factor of ``√s·[1, X − K_x, y − K_y]`` (``origin = K = [K_x, K_y]``): rows kept
    around one fixed point, which :func:`reframe_qr_factor` maps to any design later."""
    d = X.shape[1]
    return qr_factor(X, Y, Design(origin[:d], np.ones(d), True, False), sample_weight, origin[d:])


def reframe_qr_factor(R: np.ndarray, origin: np.ndarray, design: Design, y_shift=None) -> np.ndarray:
    """The factor of ``√s·[1, X̃, y − y_shift]`` from the factor ``R`` of
    ``√s·[1, X − K_x, y − K_y]`` (``origin = K = [K_x, K_y]``), with no pass over the rows.

    Every column of the new matrix is a combination of the old column and the column of
    ones, which comes first: ``[1, X̃, y − t] = [1, X − K_x, y − K_y]·T`` with ``T`` upper
    triangular (``x̃_j = ((x_j − K_j) − (shift_j − K_j))/scale_j``).  So ``R·T`` is the new
    factor.  Without an intercept the column of ones is dropped and the rest re-triangularised.
    This is what lets ``partial_fit`` keep one factor while the means (and so the design's
    centring and scaling) change with every chunk.
    """
    d = design.shift.shape[0]
    p0 = R.shape[1]
    k = p0 - 1 - d
    Kx, Ky = origin[:d], origin[d:]
    t = np.zeros(k) if y_shift is None else np.asarray(y_shift, dtype=np.float64)
    T = np.eye(p0)
    T[0, 1:1 + d] = -(design.shift - Kx) / design.scale
    T[1:1 + d, 1:1 + d] = np.diag(1.0 / design.scale)
    T[0, 1 + d:] = -(t - Ky)
    RT = R @ T
    if design.fit_intercept:
        return RT
    return triangular_factor(RT[:, 1:])
