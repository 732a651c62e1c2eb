"""Rows of a ``scipy.sparse`` matrix (:class:`SparseRows`), never densified as a whole.

The statistics come from sparse products: the raw Gram ``XᵀSX`` (densified only as d × d),
``XᵀS(Y − ȳ)`` and the column sums, then centred once, ``G = XᵀSX − n_w x̄x̄ᵀ``.  That
subtraction cancels digits when a column's mean is large compared with its spread, so the
rule of the dense raw-moment path (:func:`linreg.stats.raw_moment_stats`) decides: a column
whose ``n_w x̄_j² > RAW_MOMENTS_MAX_OFFSET² · G_jj`` (mean more than 10 standard deviations
from zero) is *not* centred from raw sums.  Such a column is stored in more than about 99 %
of the rows (a sparse column with a fraction ``p`` of equal non-zeros has ``mean²/var =
p/(1 − p)``), so it is densified on its own, centred on its mean, and its row and column of
``G`` (and ``c``) are recomputed from the centred values — exact to the centred path's
accuracy, at the cost of its own ``n`` numbers.

``blocks``/``map_blocks`` hand out dense blocks of at most :func:`dense_block_rows` rows (a
few MB each: bounded memory), for what reads rows as dense arrays: the residual pass of
``summary()`` and the streamed QR.  The iterative solvers read the CSR arrays in place
(:meth:`matrix`: :mod:`linreg.stochastic_sparse`, :mod:`linreg.passes`), at O(nnz) a pass.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import scipy.sparse as sp

from ..stats import RAW_MOMENTS_MAX_OFFSET, SufficientStats, check_representable
from ..training_objective import column_moments
from ..validation import check_finite, column_label
from .base import Rows

__all__ = ["SparseRows", "sparse_stats", "column_moments", "check_sparse_finite",
           "check_finite_X", "as_csr", "dense_block_rows", "sparse_point", "shifted_sparse_stats",
           "SPARSE_FORMATS"]

#: the scipy.sparse formats fit and predict take (scikit-learn converts the others)
SPARSE_FORMATS = ("csr", "csc", "coo")

#: float64 numbers per dense block handed out by ``blocks``/``map_blocks`` (32 MB)
DENSE_BLOCK_VALUES = 1 << 22


def dense_block_rows(d: int) -> int:
    """Rows per dense block of ``d`` columns: at most 4096, at most 32 MB."""
    return int(max(1, min(4096, DENSE_BLOCK_VALUES // max(d, 1))))


def check_sparse_finite(X, name: str = "X", feature_names=None, first_row: int = 0) -> None:
    """Raise ``ValueError`` naming (row, column) of the first NaN/inf stored in sparse ``X``
    (rows numbered from ``first_row``: a block's first row in the whole data)."""
    data = X.data
    with np.errstate(over="ignore", invalid="ignore"):
        if data.size == 0 or np.isfinite(data.sum()):
            return
    bad = np.flatnonzero(~np.isfinite(data))
    if bad.size == 0:
        return
    coo = X.tocoo() if not sp.isspmatrix_coo(X) and X.format != "coo" else X
    rows, cols = np.asarray(coo.row), np.asarray(coo.col)
    bad = np.flatnonzero(~np.isfinite(coo.data))
    first = bad[np.lexsort((cols[bad], rows[bad]))[0]]
    value = coo.data[first]
    kind = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    raise ValueError(f"{name} (sparse) stores {kind} at row {first_row + int(rows[first])}, "
                     f"{column_label(int(cols[first]), feature_names)}; linreg needs finite "
                     "values (drop or impute missing values first).")


def check_finite_X(X, feature_names=None) -> None:
    """The NaN/inf check of a dense or sparse ``X``, naming row and column."""
    if hasattr(X, "tocsr"):
        check_sparse_finite(X, "X", feature_names)
    else:
        check_finite(X, "X", feature_names)


def as_csr(X):
    """``X`` as a CSR matrix in canonical form (sorted indices, duplicates summed — what
    scipy's products assume and ``sum_duplicates`` makes exact — and no stored zeros, so the
    matrix, not the way it is stored, decides every result to the bit: the stochastic
    kernels treat a stored zero as a row's entry), float64.  A copy only when the format,
    dtype or form needs one."""
    given = X
    X = sp.csr_matrix(X) if X.format != "csr" else X
    if X.dtype != np.float64:
        X = X.astype(np.float64)
    canonical, zeros = X.has_canonical_format, not X.data.all()
    if not canonical or zeros:
        X = X.copy() if X is given else X
        X.sum_duplicates()
        X.eliminate_zeros()
    return X


def _weights(n: int, w):
    return np.ones(n) if w is None else np.asarray(w, dtype=np.float64)


def sparse_point(X, Y: np.ndarray) -> np.ndarray:
    """The point ``K`` to accumulate statistics around (:func:`linreg.stats.representative_point`)
    for sparse ``X``: zero for its columns (mostly zeros), the targets' medians."""
    from ..stats import representative_point
    return np.concatenate([np.zeros(X.shape[1]),
                           representative_point(np.empty((Y.shape[0], 0)), Y)])


def sparse_stats(X, Y: np.ndarray, w=None) -> SufficientStats:
    """The :class:`~linreg.stats.SufficientStats` of canonical CSR ``X`` (n, d) and dense ``Y``
    (n, k), from sparse products (see the module docstring for the centring rule)."""
    n, d = X.shape
    k = Y.shape[1]
    if n == 0:
        return SufficientStats.empty(d, k)
    s = _weights(n, w)
    n_w = float(s.sum())
    mean_x = np.asarray(X.T @ s).ravel() / n_w
    mean_y = (s @ Y) / n_w
    Yc = Y - mean_y
    mean_y += (s @ Yc) / n_w      # one refinement step of the mean: two-pass accuracy
    Yc = Y - mean_y
    SYc = Yc * s[:, None]
    SX = X.multiply(s[:, None]).tocsr() if w is not None else X
    G = (X.T @ SX).toarray() if d else np.zeros((0, 0))
    G -= n_w * np.outer(mean_x, mean_x)
    C = np.asarray(X.T @ SYc) - np.outer(mean_x, s @ Yc)
    far = np.flatnonzero(n_w * mean_x**2 > RAW_MOMENTS_MAX_OFFSET**2 * np.maximum(np.diag(G), 0.0))
    if far.size:
        Z = X[:, far].toarray() - mean_x[far]
        shift = (s @ Z) / n_w
        mean_x[far] += shift
        Z -= shift
        SZ = Z * s[:, None]
        cols = np.asarray(X.T @ SZ) - np.outer(mean_x, s @ Z)
        G[:, far] = cols
        G[far, :] = cols.T
        G[np.ix_(far, far)] = Z.T @ SZ
        C[far] = SZ.T @ Yc
    G = (G + G.T) / 2
    M = np.empty((d + k, d + k))
    M[:d, :d] = G
    M[:d, d:] = C
    M[d:, :d] = C.T
    M[d:, d:] = Yc.T @ SYc
    stats = SufficientStats(n, n_w, np.concatenate([mean_x, mean_y]), M, d)
    check_representable(stats)
    return stats


def shifted_sparse_stats(X, Y: np.ndarray, w, K: np.ndarray) -> SufficientStats:
    """:func:`sparse_stats` with the mean relative to ``K`` (as
    :func:`linreg.stats.shifted_stats` gives them for dense rows): statistics of chunks or
    partitions, merged around one point.  Rows whose weights are all zero count, for
    nothing."""
    n, d = X.shape
    if n and w is not None and not np.any(w):
        p = len(K)
        return SufficientStats(n, 0.0, np.zeros(p), np.zeros((p, p)), d)
    s = sparse_stats(X, Y, w)
    if s.weight_sum == 0:
        return s
    return SufficientStats(s.n_rows, s.weight_sum, s.mean - K, s.comoment, d)


class SparseRows(Rows):
    """A canonical CSR ``X`` (n, d), dense ``Y`` (n, k) float64, ``w`` (n,) or None — checked
    by the estimator's validation (NaN/inf stored in ``X`` named by row and column)."""

    def __init__(self, X, Y, sample_weight=None, single_target: bool = True,
                 feature_names=None, target_names=None):
        self.X, self.Y, self.sample_weight = as_csr(X), Y, sample_weight
        self.n_features, self.n_targets = X.shape[1], Y.shape[1]
        self.single_target = single_target
        self.feature_names, self.target_names = feature_names, target_names
        self.block_rows = dense_block_rows(self.n_features)

    def stats(self) -> SufficientStats:
        check_sparse_finite(self.X, "X", self.feature_names)
        return sparse_stats(self.X, self.Y, self.sample_weight)

    def shifted_stats(self, K: np.ndarray) -> SufficientStats:
        """The statistics with their mean relative to ``K`` (:func:`shifted_sparse_stats`:
        a ``partial_fit`` chunk's, accumulated around the first chunk's point)."""
        check_sparse_finite(self.X, "X", self.feature_names)
        return shifted_sparse_stats(self.X, self.Y, self.sample_weight, K)

    def matrix(self) -> tuple:
        return self.X, self.Y, self.sample_weight

    def row_count(self) -> int:
        return self.X.shape[0]

    def moments(self):
        """Column means and variances in O(nnz) (:func:`column_moments`; the targets by the
        dense pass), NaN/inf stored in ``X`` named by row and column."""
        from ..stats import check_representable_columns
        from ..training_objective import ColumnMoments
        check_sparse_finite(self.X, "X", self.feature_names)
        s = _weights(self.X.shape[0], self.sample_weight)
        with np.errstate(over="ignore", invalid="ignore"):
            n_w = float(s.sum())
            mean_y = (s @ self.Y) / n_w
            mean_y += (s @ (self.Y - mean_y)) / n_w      # one refinement: two-pass accuracy
            Yc = self.Y - mean_y
            m2_y = s @ (Yc * Yc)
            # Σ s (x − x̄)(y − ȳ)ᵀ = Σ s x (y − ȳ)ᵀ, as Σ s (y − ȳ) = 0
            n_w, mean_x, m2_x, cross = column_moments(self.X, self.sample_weight, Yc)
        check_representable_columns(np.concatenate([mean_x, mean_y]),
                                    np.concatenate([m2_x, m2_y]), self.n_features, n_w)
        return ColumnMoments(self.X.shape[0], n_w, mean_x, m2_x, mean_y, m2_y, cross)

    def stats_of(self, rows) -> SufficientStats:
        w = self.sample_weight
        return sparse_stats(self.X[rows], self.Y[rows], None if w is None else w[rows])

    def blocks(self, shuffle: bool = False, rng=None) -> Iterator[tuple]:
        X, Y, w = self.X, self.Y, self.sample_weight
        n = X.shape[0]
        order = np.random.default_rng(rng).permutation(n) if shuffle else None
        for start in range(0, n, self.block_rows):
            stop = min(start + self.block_rows, n)
            idx = slice(start, stop) if order is None else order[start:stop]
            yield X[idx].toarray(), Y[idx], None if w is None else w[idx]

