"""What the report's plots draw and its data table says, from one pass over the rows in
bounded memory: a sample of the rows with their diagnostic values, and each column's range.

The pass reads the rows block by block (:meth:`linreg.rows.Rows.blocks`, wherever they live)
after the summary, whose fit statistics (``σ²`` per target, the rank) it uses.  For every row
it computes ŷ, ``r = y − ŷ``, and — for a fit with OLS inference — the leverage
``h = s‖T_φᵀ[1, x − x̄]‖²`` (:class:`~linreg.inference.factor.GramFactor`), the internally
studentized residual ``t = √s r/(σ√(1 − h))`` and Cook's distance ``D = t²h/(p(1 − h))``.
It keeps, out of all rows:

* for each target, the 20 rows with the largest Cook's distance (without inference: the
  largest ``|√s r|``), which a plot must not miss;
* the rows with the ``limit`` smallest keys ``splitmix64(splitmix64(seed) ^ i)`` of their
  row number ``i`` — a uniform random sample that does not depend on how the rows are cut
  into blocks (memory, file blocks of any size).

So at most ``limit + 20·k`` rows plus one block are held at any time.  A target's plots then
draw its top 20 and the first of the random rows, ``limit`` in all; when there are no more
than ``limit`` rows, every row.  Rows of weight zero are left out of the plots, as R's
``plot.lm`` does (their residuals do not enter the fit).

The same pass gives each column's minimum and maximum, and its unweighted mean and
standard deviation (merged block by block, Chan, Golub & LeVeque's update).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .diagnostics import MAX_POINTS, Diagnostics

__all__ = ["TOP_ROWS", "ColumnRanges", "RowSample", "sample_pass"]

#: rows kept per target for their influence (largest Cook's distance), however many rows
TOP_ROWS = 20


class ColumnRanges:
    """Minimum, maximum, mean and standard deviation (population, unweighted) of columns,
    accumulated block by block."""

    def __init__(self, width: int):
        self.n = 0
        self.min = np.full(width, np.inf)
        self.max = np.full(width, -np.inf)
        self.mean = np.zeros(width)
        self.m2 = np.zeros(width)

    def add(self, block: np.ndarray) -> None:
        m = block.shape[0]
        if m == 0:
            return
        self.min = np.minimum(self.min, block.min(axis=0))
        self.max = np.maximum(self.max, block.max(axis=0))
        mean = block.mean(axis=0)
        m2 = ((block - mean) ** 2).sum(axis=0)
        total = self.n + m
        delta = mean - self.mean
        self.mean = self.mean + delta * (m / total)
        self.m2 = self.m2 + m2 + delta**2 * (self.n * m / total)
        self.n = total

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / self.n) if self.n else np.full_like(self.m2, np.nan)


@dataclass
class RowSample:
    """The rows the pass kept (see the module docstring) and what it counted.

    ``index`` (m,) their row numbers; ``fitted``, ``resid`` (m, k); ``weight`` (m,) or None;
    ``leverage`` (m,) or None (no inference); ``score`` (m, k) what ranks their influence;
    ``key`` (m,) their random keys; ``n_rows`` every row read, ``n_zero_weight`` those of
    weight zero; ``ranges`` the columns of X then of Y.
    """

    index: np.ndarray
    fitted: np.ndarray
    resid: np.ndarray
    weight: np.ndarray | None
    leverage: np.ndarray | None
    score: np.ndarray
    key: np.ndarray
    n_rows: int
    n_zero_weight: int
    ranges: ColumnRanges
    limit: int

    def rows_for(self, j: int) -> np.ndarray:
        """Positions (into the kept rows, in row order) that target ``j``'s plots draw."""
        return self._chosen(j)[0]

    def _chosen(self, j: int) -> tuple:
        """``(positions, random)``: the rows target ``j``'s plots draw, and which of them are
        the uniform random sample (not picked for their influence)."""
        m = self.index.shape[0]
        if m <= self.limit:
            return np.arange(m), np.ones(m, bool)
        score = np.nan_to_num(self.score[:, j], nan=-np.inf)
        top = np.argsort(score, kind="stable")[-TOP_ROWS:]
        rest = np.setdiff1d(np.arange(m), top)
        rest = rest[np.argsort(self.key[rest], kind="stable")][: self.limit - top.size]
        chosen = np.concatenate([top, rest])
        random = np.r_[np.zeros(top.size, bool), np.ones(rest.size, bool)]
        order = np.argsort(self.index[chosen], kind="stable")
        return chosen[order], random[order]

    def diagnostics(self, j: int, scale: float, rank: int) -> Diagnostics:
        """Target ``j``'s plot data (every row :meth:`rows_for` draws), with its ``σ² =
        scale`` and ``p = rank``."""
        at, random = self._chosen(j)
        r = self.resid[at, j]
        h = self.leverage[at]
        u = r if self.weight is None else r * np.sqrt(self.weight[at])
        with np.errstate(divide="ignore", invalid="ignore"):
            t = u / np.sqrt(scale * (1.0 - h))
            cooks = t * t * h / (rank * (1.0 - h))
        return Diagnostics(self.fitted[at, j], r, t, h, cooks, int(rank), self.index[at],
                           None if random.all() else random)


    def residuals(self, j: int, rmse: float) -> tuple:
        """``(fitted, y − ŷ, √s r / rmse)`` of the rows target ``j``'s plots draw (a fit
        without OLS inference); the last of the random sample's rows only (the Q–Q plot's)."""
        at, random = self._chosen(j)
        r = self.resid[at, j]
        u = r if self.weight is None else r * np.sqrt(self.weight[at])
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.fitted[at, j], r, (u / rmse)[random]


def _row_keys(start: int, m: int, seed: int) -> np.ndarray:
    from ..selection.folds import splitmix64
    base = splitmix64(np.array([seed], dtype=np.uint64))[0]   # (arrays: wrapping, no warning)
    return splitmix64(np.arange(start, start + m, dtype=np.uint64) ^ base)


def _keep(key: np.ndarray, score: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the rows to keep: the ``limit`` smallest keys and each target's top."""
    m = key.shape[0]
    if m <= limit + TOP_ROWS * score.shape[1]:
        return np.arange(m)
    keep = [np.argpartition(key, limit - 1)[:limit]]
    for j in range(score.shape[1]):
        s = np.nan_to_num(score[:, j], nan=-np.inf)
        keep.append(np.argpartition(s, m - TOP_ROWS)[m - TOP_ROWS:])
    return np.unique(np.concatenate(keep))


def sample_pass(rows, coef, intercept, factor=None, scales=None, rank: int | None = None,
                limit: int = MAX_POINTS, seed: int = 0) -> RowSample:
    """One pass over ``rows`` (:class:`linreg.rows.Rows`) at the coefficients ``coef`` (d, k)
    and ``intercept`` (k,): the :class:`RowSample`.  With ``factor`` (the summary's
    :class:`~linreg.inference.factor.GramFactor`), ``scales`` (σ² per target) and ``rank``,
    the leverage, studentized residuals and Cook's distance rank the rows' influence."""
    if limit < TOP_ROWS + 1:
        raise ValueError(f"max_points={limit!r}: the plots draw at least {TOP_ROWS + 1} rows")
    coef = np.asarray(coef, dtype=np.float64)
    intercept = np.asarray(intercept, dtype=np.float64)
    d, k = coef.shape
    ranges = ColumnRanges(d + k)
    kept = None
    start = zero = 0
    for block in rows.blocks():
        X, Y, w = block[:3]
        X = X.toarray() if hasattr(X, "toarray") else np.asarray(X, dtype=np.float64)
        Y = np.asarray(Y, dtype=np.float64).reshape(X.shape[0], k)
        m = X.shape[0]
        ranges.add(np.hstack([X, Y]))
        F = X @ coef + intercept
        R = Y - F
        s = None if w is None else np.asarray(w, dtype=np.float64).reshape(-1)
        U = R if s is None else R * np.sqrt(s)[:, None]
        h = None
        if factor is not None:
            W = factor.whiten(X - factor.shift)
            h = np.einsum("ij,ij->i", W, W)
            if s is not None:
                h *= s
            with np.errstate(divide="ignore", invalid="ignore"):
                t = U / np.sqrt(np.asarray(scales)[None, :] * (1.0 - h)[:, None])
                score = t * t * (h / (rank * (1.0 - h)))[:, None]
        else:
            score = np.abs(U)
        index = np.arange(start, start + m)
        key = _row_keys(start, m, seed)
        start += m
        use = np.ones(m, bool) if s is None else s > 0
        zero += int(m - use.sum())
        part = [index[use], F[use], R[use], None if s is None else s[use],
                None if h is None else h[use], score[use], key[use]]
        if kept is not None:
            part = [None if a is None else np.concatenate([a, b]) for a, b in zip(kept, part)]
        at = _keep(part[6], part[5], limit)
        kept = [None if a is None else a[at] for a in part]
    if kept is None:
        raise ValueError("no rows to report on")
    order = np.argsort(kept[0], kind="stable")
    kept = [None if a is None else a[order] for a in kept]
    return RowSample(*kept, n_rows=start, n_zero_weight=zero, ranges=ranges, limit=limit)
