"""Sufficient statistics: one blocked pass over the rows, and an exact merge.

Everything a batch method needs is a handful of weighted sums over the rows of
``z = [x, y]`` (features and targets side by side)::

    n_w  = Σ s_i                                  (total weight)
    μ    = Σ s_i z_i / n_w                        (weighted means)
    M    = Σ s_i (z_i − μ)(z_i − μ)ᵀ              (centred co-moments)

``M`` holds ``G = M[:d, :d]`` (features), ``c = M[:d, d:]`` (features × targets) and
``q = M[d:, d:]`` (targets).  They are accumulated in row blocks, each block centred on its
own mean, and blocks are combined with Chan, Golub & LeVeque's pairwise update, so no
catastrophic cancellation happens however large the means are.  Two ``SufficientStats``
computed on disjoint rows merge into exactly the statistics of their union: that is what
lets files, ``partial_fit`` and Dask partitions all feed the same solvers.

:class:`linreg.design.Design` then maps the statistics into the coordinates the solvers
work in (centred when there is an intercept, scaled when standardizing).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .parallel import map_row_pieces

__all__ = ["SufficientStats", "sufficient_stats", "shifted_stats", "unshift",
           "representative_point", "raw_moment_stats", "check_representable",
           "check_representable_columns", "BLOCK_ROWS"]

#: rows per block of the one pass: a few MB of float64 per block, so the extra memory is
#: bounded whatever n is, and BLAS still runs at full speed.
BLOCK_ROWS = 4096


@dataclass(frozen=True)
class SufficientStats:
    """Weighted count, means and centred co-moments of ``z = [x, y]``.

    Attributes
    ----------
    n_rows : int
        Rows seen (including rows of zero weight).
    weight_sum : float
        ``n_w = Σ s_i``.
    mean : ndarray of shape (d + k,)
        ``μ = Σ s_i z_i / n_w``.
    comoment : ndarray of shape (d + k, d + k)
        ``M = Σ s_i (z_i − μ)(z_i − μ)ᵀ``.
    n_features : int
        ``d``; the remaining ``k`` columns are targets.
    """

    n_rows: int
    weight_sum: float
    mean: np.ndarray
    comoment: np.ndarray
    n_features: int

    @property
    def n_targets(self) -> int:
        return self.mean.shape[0] - self.n_features

    @property
    def mean_x(self) -> np.ndarray:
        return self.mean[: self.n_features]

    @property
    def mean_y(self) -> np.ndarray:
        return self.mean[self.n_features :]

    @property
    def gram(self) -> np.ndarray:
        """``G = Σ s_i (x_i − x̄)(x_i − x̄)ᵀ``."""
        d = self.n_features
        return self.comoment[:d, :d]

    @property
    def cross(self) -> np.ndarray:
        """``c = Σ s_i (x_i − x̄)(y_i − ȳ)ᵀ``, shape (d, k)."""
        d = self.n_features
        return self.comoment[:d, d:]

    @property
    def target_comoment(self) -> np.ndarray:
        """``q = Σ s_i (y_i − ȳ)(y_i − ȳ)ᵀ``, shape (k, k)."""
        d = self.n_features
        return self.comoment[d:, d:]

    def is_finite(self) -> bool:
        return bool(np.isfinite(self.weight_sum) and np.isfinite(self.mean).all()
                    and np.isfinite(self.comoment).all())

    def merge(self, other: "SufficientStats") -> "SufficientStats":
        """Statistics of the union of two disjoint sets of rows (Chan et al.'s update).

        ``μ = μ_a + δ n_b/n``, ``M = M_a + M_b + δ δᵀ n_a n_b / n`` with ``δ = μ_b − μ_a``.
        """
        if other.n_features != self.n_features or other.mean.shape != self.mean.shape:
            raise ValueError(
                f"cannot merge statistics of {self.n_features} features and "
                f"{self.n_targets} targets with statistics of {other.n_features} features and "
                f"{other.n_targets} targets"
            )
        if other.weight_sum == 0:
            return SufficientStats(self.n_rows + other.n_rows, self.weight_sum, self.mean,
                                   self.comoment, self.n_features)
        if self.weight_sum == 0:
            return SufficientStats(self.n_rows + other.n_rows, other.weight_sum, other.mean,
                                   other.comoment, self.n_features)
        na, nb = self.weight_sum, other.weight_sum
        n = na + nb
        delta = other.mean - self.mean
        mean = self.mean + delta * (nb / n)
        comoment = self.comoment + other.comoment + np.outer(delta, delta) * (na * nb / n)
        return SufficientStats(self.n_rows + other.n_rows, n, mean, comoment, self.n_features)

    @classmethod
    def empty(cls, n_features: int, n_targets: int) -> "SufficientStats":
        p = n_features + n_targets
        return cls(0, 0.0, np.zeros(p), np.zeros((p, p)), n_features)


def _block_stats(Z: np.ndarray, w: np.ndarray | None, n_features: int) -> SufficientStats:
    """Statistics of one block ``Z`` (float64, C-ordered, modified in place)."""
    rows = Z.shape[0]
    if w is None:
        total = float(rows)
        mean = Z.mean(axis=0)
        Z -= mean
    else:
        total = float(w.sum())
        if total == 0.0:
            return SufficientStats(rows, 0.0, np.zeros(Z.shape[1]),
                                   np.zeros((Z.shape[1], Z.shape[1])), n_features)
        mean = (w @ Z) / total
        Z -= mean
        Z *= np.sqrt(w)[:, None]
    # Zᵀ Z: NumPy recognises the transposed pair and runs a symmetric rank-k update (half
    # the flops of a general product), reading the C-ordered Z without a copy
    return SufficientStats(rows, total, mean, Z.T @ Z, n_features)


#: the raw-moment fast path is taken only while every column's mean stays within this many
#: standard deviations of zero: centring raw sums then cancels at most log10(1 + 10²) ≈ 2
#: digits, and the result stays as accurate as the centred path's.
RAW_MOMENTS_MAX_OFFSET = 10.0
#: rows of the first look that decides whether to try the raw-moment path
RAW_MOMENTS_HEAD_ROWS = 256


def _raw_sums(X, Y, start: int, stop: int, block_rows: int):
    """``Σ x xᵀ``, ``Σ x bᵀ`` and ``Σ b bᵀ`` over rows ``start:stop``, ``b = [y, 1]``: BLAS
    on the rows of ``X`` in place, one block at a time."""
    d, k = X.shape[1], Y.shape[1]
    XtX = np.zeros((d, d))
    XtB = np.zeros((d, k + 1))
    BtB = np.zeros((k + 1, k + 1))
    B = np.empty((min(block_rows, stop - start), k + 1))
    B[:, k] = 1.0
    for lo in range(start, stop, block_rows):
        hi = min(lo + block_rows, stop)
        Xb = X[lo:hi]
        Bb = B[: hi - lo]
        Bb[:, :k] = Y[lo:hi]
        XtX += Xb.T @ Xb        # NumPy sees Xbᵀ Xb and runs a symmetric rank-k update
        XtB += Xb.T @ Bb
        BtB += Bb.T @ Bb
    return XtX, XtB, BtB


def raw_moment_stats(X, Y, block_rows: int = BLOCK_ROWS) -> SufficientStats | None:
    """The statistics from raw sums ``Σ x xᵀ``, ``Σ x [y, 1]ᵀ``, ``Σ [y, 1][y, 1]ᵀ``, read by
    BLAS straight from the rows of a float64 ``X`` (no copy, no per-block centring; the
    pieces of the rows on several threads, :mod:`linreg.parallel`), then centred once:
    ``M = Σ z zᵀ − n_w μ μᵀ``.

    That subtraction cancels digits when a mean is large compared with the spread, so this
    path is tried only when the first rows' means are within ``RAW_MOMENTS_MAX_OFFSET``
    standard deviations of zero, and its result is kept only if the whole data's are too;
    otherwise ``None`` (the caller takes the centred path).
    """
    n, d = X.shape
    k = Y.shape[1]
    # a cheap look at the first rows decides whether to try (the check after the pass decides
    # whether to keep): 256 rows say "within 10 spreads" as well as 4096, at 1/16 of the cost
    head = np.concatenate([X[:RAW_MOMENTS_HEAD_ROWS], Y[:RAW_MOMENTS_HEAD_ROWS]], axis=1)
    with np.errstate(all="ignore"):
        spread = head.std(axis=0)
        if not np.all(np.abs(head.mean(axis=0)) <= RAW_MOMENTS_MAX_OFFSET * spread):
            return None
    with np.errstate(over="ignore", invalid="ignore"):   # judged below: non-finite → None
        parts = map_row_pieces(lambda lo, hi: _raw_sums(X, Y, lo, hi, block_rows), n, block_rows)
    XtX, XtB, BtB = (functools.reduce(np.add, sums) for sums in zip(*parts))
    raw = np.empty((d + k, d + k))
    raw[:d, :d] = XtX
    raw[:d, d:] = XtB[:, :k]
    raw[d:, :d] = XtB[:, :k].T
    raw[d:, d:] = BtB[:k, :k]
    total = float(n)
    with np.errstate(all="ignore"):     # overflow here just means: take the centred path
        mean = np.concatenate([XtB[:, k], BtB[:k, k]]) / total
        comoment = raw - total * np.outer(mean, mean)
        centred = np.diag(comoment)
        if not (np.all(np.isfinite(raw)) and
                np.all(total * mean**2 <= RAW_MOMENTS_MAX_OFFSET**2 * np.maximum(centred, 0.0))):
            return None
    return SufficientStats(n, total, mean, comoment, d)


def sufficient_stats(X, Y, sample_weight=None, block_rows: int = BLOCK_ROWS) -> SufficientStats:
    """One blocked pass over ``X`` (n, d) and ``Y`` (n, k): the :class:`SufficientStats`.

    Unweighted float64 data whose means are within a few standard deviations of zero take a
    fast path (:func:`raw_moment_stats`: BLAS on the rows in place, checked afterwards).
    Otherwise each block is copied to float64 (so float32 or integer data is accumulated in
    double precision), shifted by one constant ``K`` for the whole pass (the first block's median:
    a representative value that one outlier cannot move, so differences are small), centred on its own weighted
    mean, and merged.  Merging in shifted coordinates keeps the mean differences ``δ`` of
    Chan's update accurate even when the means are huge compared with the spread.
    Extra memory: one block.

    Examples
    --------
    >>> import numpy as np
    >>> s = sufficient_stats(np.array([[1.0], [2.0], [3.0]]), np.array([[2.0], [4.0], [6.0]]))
    >>> float(s.gram[0, 0]), float(s.cross[0, 0]), s.mean.tolist()
    (2.0, 4.0, [2.0, 4.0])
    """
    if X.shape[0] == 0:
        return SufficientStats.empty(X.shape[1], Y.shape[1])
    fast = _fast_stats(X, Y, sample_weight, block_rows)
    if fast is not None:     # means in original units straight from the sums: no round trip via K
        return fast
    K = representative_point(X, Y, block_rows)
    return unshift(_centred_stats(X, Y, sample_weight, K, block_rows), K)


def _fast_stats(X, Y, sample_weight, block_rows: int) -> SufficientStats | None:
    """:func:`raw_moment_stats` where it applies (unweighted, C-ordered float64 rows), else None."""
    if (sample_weight is None and isinstance(X, np.ndarray) and X.dtype == np.float64
            and X.flags.c_contiguous and X.shape[0] > 0 and X.shape[1] > 0):
        return raw_moment_stats(X, np.asarray(Y, dtype=np.float64), block_rows)
    return None


def representative_point(X, Y, rows: int = BLOCK_ROWS) -> np.ndarray:
    """``K``: the median of the first ``rows`` rows of ``[X, Y]``, column by column — a
    typical value that one outlier cannot move, to accumulate the statistics around."""
    head = [np.median(np.asarray(A[:rows], dtype=np.float64), axis=0) for A in (X, Y)]
    K = np.concatenate(head)
    return np.where(np.isfinite(K), K, 0.0)


def shifted_stats(X, Y, sample_weight, K, block_rows: int = BLOCK_ROWS) -> SufficientStats:
    """The statistics of ``[X, Y] − K`` (their mean relative to ``K``), in one blocked pass.

    Blocks (and chunks of files, Dask partitions, ``partial_fit`` calls) accumulated around
    one common ``K`` merge without cancellation; :func:`unshift` adds ``K`` back.  Unweighted
    float64 rows near zero take :func:`raw_moment_stats` (BLAS on the rows in place);
    otherwise each block is copied to float64, shifted by ``K``, centred on its own mean and
    merged with Chan's update.
    """
    if X.shape[0] == 0:
        return SufficientStats.empty(X.shape[1], Y.shape[1])
    fast = _fast_stats(X, Y, sample_weight, block_rows)
    if fast is not None:
        return SufficientStats(fast.n_rows, fast.weight_sum, fast.mean - K, fast.comoment,
                               fast.n_features)
    return _centred_stats(X, Y, sample_weight, K, block_rows)


def _centred_stats(X, Y, sample_weight, K, block_rows: int) -> SufficientStats:
    """The centred path of :func:`shifted_stats` (no fast-path attempt): each block copied to
    float64, shifted by ``K``, centred on its own mean and merged with Chan's update, pieces of
    blocks on several threads."""
    n, d = X.shape
    k = Y.shape[1]

    def piece(start: int, stop: int) -> SufficientStats:
        part = SufficientStats.empty(d, k)
        Z = np.empty((min(block_rows, stop - start), d + k))
        for lo in range(start, stop, block_rows):
            hi = min(lo + block_rows, stop)
            Zb = Z[: hi - lo]
            Zb[:, :d] = X[lo:hi]
            Zb[:, d:] = Y[lo:hi]
            Zb -= K
            w = None if sample_weight is None else np.asarray(sample_weight[lo:hi], dtype=np.float64)
            part = part.merge(_block_stats(Zb, w, d))
        return part

    total = functools.reduce(SufficientStats.merge, map_row_pieces(piece, n, block_rows),
                             SufficientStats.empty(d, k))
    check_representable(total)
    return total


def unshift(stats: SufficientStats, K) -> SufficientStats:
    """Statistics of ``[X, Y]`` from those of ``[X, Y] − K``: ``μ + K``; checked for
    sums of squares that do not fit in float64."""
    if stats.weight_sum == 0:
        return stats
    total = SufficientStats(stats.n_rows, stats.weight_sum, stats.mean + K, stats.comoment,
                            stats.n_features)
    check_representable(total)
    return total


def check_representable(stats: SufficientStats) -> None:
    """Raise ``ValueError`` when the sums of squares of some column do not fit in float64.

    Values beyond about 1e154 in magnitude (relative to their column's median) have squares
    that overflow; values below about 1e-154 have squares that underflow to zero or to
    subnormal numbers with few significant digits.  Either way the statistics would be
    silently wrong, so the column is named and a rescaling suggested instead.
    """
    check_representable_columns(stats.mean, np.diag(stats.comoment), stats.n_features,
                                stats.weight_sum)


def check_representable_columns(mean: np.ndarray, m2: np.ndarray, n_features: int,
                                weight_sum: float) -> None:
    """:func:`check_representable` from the means and ``m2 = Σ s (z − z̄)²`` of the columns of
    ``[X, Y]`` alone (what a fit that forms no Gram matrix has)."""
    d = n_features
    n_targets = mean.shape[0] - d
    diag = m2
    tiny = np.finfo(np.float64).tiny
    with np.errstate(invalid="ignore"):
        suspect = (~(np.isfinite(diag) & np.isfinite(mean))
                   | ((0 < diag) & (diag < tiny))
                   | ((diag == 0) & (0 < np.abs(mean)) & (np.abs(mean) < np.sqrt(tiny))))
    for j in np.flatnonzero(suspect):       # (the columns that need a look, in order)
        what = f"X column {j}" if j < d else ("y" if n_targets == 1 else f"y column {j - d}")
        if not (np.isfinite(diag[j]) and np.isfinite(mean[j])):
            raise ValueError(
                f"{what} has values so large that their squares overflow float64 (the sum of "
                "squares is not finite); divide it by a constant (e.g. its largest magnitude) "
                "before fitting")
        if j < d and (0 < diag[j] < tiny or (diag[j] == 0 and 0 < abs(mean[j]) < np.sqrt(tiny))):
            raise ValueError(
                f"{what} has values so small (about {abs(mean[j]) + np.sqrt(diag[j] / weight_sum):.1e}) "
                "that their squares underflow float64 and lose their digits; multiply it by a "
                "constant (e.g. 1/its largest magnitude) before fitting")
