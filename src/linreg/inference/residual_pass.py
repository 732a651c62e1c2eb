"""The residual pass: one blocked pass over the training rows for what needs the residuals.

It runs over the rows wherever they live (:class:`linreg.rows.Rows`: in memory, files,
Dask): each block, where it lives (threads in memory, workers on Dask), yields mergeable
totals (sums, moments, HC meat, and its first and last weighted residual, so that
Durbin–Watson's terms across block edges can be added), merged in row order; only the
totals (and per-row leverage and residuals, for the influence measures) travel.  The rows
are whitened by the bread's factor, ``u = T_φᵀ[1, x − x̄]`` (one matrix product per block):
then ``h = s‖u‖²`` and the HC "meat" is accumulated in whitened coordinates, where it is
well scaled.  So are the score sums of cluster-robust and HAC covariances
(:mod:`.robust`): per cluster, by label (a cluster may span blocks and partitions), and the
lagged products of consecutive rows (each run's first and last ``maxlags`` scores carried to
its merge with the next, as the Durbin–Watson terms are).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..exceptions import MessageBuilder, TrainingDataMismatchError
from ..stats import BLOCK_ROWS, SufficientStats
from .factor import GramFactor
from .robust import ClusterSums, HacTotals, canonical_labels, pair_labels

__all__ = ["iter_blocks", "PassTotals", "residual_pass", "partition_leverage",
           "partition_fitted", "check_same_data"]


def iter_blocks(X, Y, sample_weight=None, block_rows: int = BLOCK_ROWS, groups=None):
    """Yield ``(X_block, Y_block, w_block)`` views of in-memory arrays, ``block_rows`` at a time
    (with ``groups``, a tuple of label arrays aligned with the rows, ``(X, Y, w, groups)``).

    ``Y`` is (n, k); ``w_block`` is ``None`` without sample weights.  No copies are made.
    """
    n = X.shape[0]
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        block = (X[start:stop], Y[start:stop],
                 None if sample_weight is None else sample_weight[start:stop])
        yield block if groups is None else block + (tuple(g[start:stop] for g in groups),)


def _merge_moments(a, b):
    """Merge (count, mean, M2, M3, M4) of two sets of values (Pébay's pairwise formulas)."""
    na, ma, a2, a3, a4 = a
    nb, mb, b2, b3, b4 = b
    if na == 0:
        return b
    n = na + nb
    delta = mb - ma
    d_n = delta / n
    mean = ma + nb * d_n
    m2 = a2 + b2 + delta * d_n * na * nb
    m3 = (a3 + b3 + delta * d_n * d_n * na * nb * (na - nb)
          + 3.0 * d_n * (na * b2 - nb * a2))
    m4 = (a4 + b4 + delta * d_n**3 * na * nb * (na * na - na * nb + nb * nb)
          + 6.0 * d_n * d_n * (na * na * b2 + nb * nb * a2) + 4.0 * d_n * (na * b3 - nb * a3))
    return n, mean, m2, m3, m4


def _block_moments(U):
    m = U.shape[0]
    mean = U.mean(axis=0)
    C = U - mean
    C2 = C * C
    return m, mean, C2.sum(axis=0), (C2 * C).sum(axis=0), (C2 * C2).sum(axis=0)


@dataclass
class _PassSpec:
    """What every block of the residual pass needs: the fitted coefficients, the factor that
    whitens the rows, and what to compute.  Small (``O(d² + dk)``): it is sent to the Dask
    workers with each partition's task."""

    coef: np.ndarray           # (d, k)
    intercept: np.ndarray      # (k,)
    factor: GramFactor
    cov_type: str
    keep_rows: bool
    need_leverage: bool
    n_groups: int = 0                       # grouping variables (cluster): 0, 1 or 2
    lag_weights: np.ndarray | None = None   # HAC: w_0 … w_L

    @property
    def robust(self) -> bool:
        return self.cov_type != "nonrobust"

    @property
    def heteroscedastic(self) -> bool:
        """An HC covariance (its meat is accumulated row by row)."""
        return self.cov_type in ("HC0", "HC1", "HC2", "HC3")

    @property
    def whitens(self) -> bool:
        """Whether the rows are whitened (the costly part: ``O(d²)`` a row)."""
        return self.robust or self.need_leverage


@dataclass
class PassTotals:
    """What the residual pass accumulates over a run of consecutive rows.

    Totals of two runs merge exactly (:meth:`merge`, the later run second): the sums add, the
    moments merge by Pébay's formulas, and the Durbin–Watson sum gains the one term across
    the boundary, ``(u_first(later) − u_last(earlier))²``.  A block of rows (or a Dask
    partition, where it lives) makes its own totals; only these travel.  :func:`_finish`
    turns the merged totals into the final ones.
    """

    n_rows: int
    weight_sum: float
    sum_x: np.ndarray          # Σ s (x − shift)
    sum_y: np.ndarray          # Σ s y
    ssr: np.ndarray            # Σ s r²                    per target
    log_weight_sum: float      # Σ log s
    moments: tuple             # of u = √s r                per target
    dw_num: np.ndarray         # Σ (u_i − u_{i−1})²         per target, within the run
    first_u: np.ndarray | None     # u of the run's first row (None for no rows)
    last_u: np.ndarray | None      # u of the run's last row
    meat: list | None          # Σ s² r² ω u uᵀ (whitened)  per target (HC)
    leverage: list | np.ndarray | None   # per-row h: the blocks' parts until finished
    wresid: list | np.ndarray | None     # per-row √s r: the blocks' parts until finished
    clusters: list | None = None   # ClusterSums per grouping variable (two-way: A, B, A∩B)
    hac: HacTotals | None = None   # HAC: the lag sums, first and last scores

    @classmethod
    def empty(cls, spec: _PassSpec) -> PassTotals:
        d, k = spec.coef.shape
        r_dim = spec.factor.rank
        clusters = None
        if spec.n_groups:
            clusters = [ClusterSums() for _ in range(1 if spec.n_groups == 1 else 3)]
        hac = None
        if spec.lag_weights is not None:
            hac = HacTotals(np.zeros((k, r_dim, r_dim)), np.zeros((k, 0, r_dim)),
                            np.zeros((k, 0, r_dim)))
        rows = spec.keep_rows
        return cls(0, 0.0, np.zeros(d), np.zeros(k), np.zeros(k), 0.0,
                   (0, np.zeros(k), np.zeros(k), np.zeros(k), np.zeros(k)), np.zeros(k),
                   None, None,
                   [np.zeros((r_dim, r_dim)) for _ in range(k)] if spec.heteroscedastic else None,
                   [] if rows and spec.whitens else None, [] if rows else None,
                   clusters, hac)

    def merge(self, later: PassTotals, lag_weights=None) -> PassTotals:
        """Add the totals of the rows that come right after these (in place; returns self);
        ``lag_weights`` the HAC kernel's, when there are lag sums."""
        if later.n_rows == 0:
            return self
        if self.n_rows == 0:
            self.dw_num = self.dw_num + later.dw_num
            self.first_u = later.first_u
        else:
            self.dw_num = self.dw_num + later.dw_num + (later.first_u - self.last_u) ** 2
        self.last_u = later.last_u
        self.n_rows += later.n_rows
        self.weight_sum += later.weight_sum
        self.log_weight_sum += later.log_weight_sum
        self.sum_x = self.sum_x + later.sum_x
        self.sum_y = self.sum_y + later.sum_y
        self.ssr = self.ssr + later.ssr
        self.moments = _merge_moments(self.moments, later.moments)
        if self.meat is not None:
            self.meat = [a + b for a, b in zip(self.meat, later.meat, strict=True)]
        if self.leverage is not None:
            self.leverage.extend(later.leverage)
        if self.wresid is not None:
            self.wresid.extend(later.wresid)
        if self.clusters is not None:
            self.clusters = [a.merge(b) for a, b in zip(self.clusters, later.clusters,
                                                          strict=True)]
        if self.hac is not None:
            self.hac = self.hac.merge(later.hac, lag_weights)
        return self


def _checked_block(block, index: int, d: int, k: int, n_groups: int = 0,
                   labels_checked: bool = False):
    """``(X, Y, s, groups)`` of one block as float arrays (``Y`` (m, k), ``s`` None or (m,)),
    checked; ``groups`` the block's cluster labels (a tuple of ``n_groups`` arrays, checked
    unless ``labels_checked``: a block of a partition whose labels were) or None."""
    groups = None
    try:
        if n_groups:
            Xb, Yb, wb, groups = block
        else:
            Xb, Yb, wb = block[:3]
    except (TypeError, ValueError):
        raise ValueError(f"block {index} of the row source is not a tuple "
                         "(X_block, Y_block, w_block)") from None
    if hasattr(Xb, "tocsr"):         # a CSR design block (rows that store it sparse)
        Xb = Xb.tocsr().astype(np.float64)
    else:
        Xb = np.asarray(Xb, dtype=np.float64)
    Yb = np.asarray(Yb, dtype=np.float64)
    m = Xb.shape[0] if Xb.ndim else 0
    if Yb.ndim == 1:
        Yb = Yb.reshape(-1, 1)
    if Xb.ndim != 2 or Xb.shape[1] != d or Yb.shape != (m, k):
        raise ValueError(
            f"block {index} of the row source has X of shape {Xb.shape} and y of shape "
            f"{Yb.shape}; the model expects {d} feature(s) and {k} target(s) per row")
    s = None
    if wb is not None:
        s = np.asarray(wb, dtype=np.float64).reshape(-1)
        if s.shape[0] != m:
            raise ValueError(f"block {index} has {s.shape[0]} weights for {m} rows")
    if groups is not None:
        if len(groups) != n_groups or any(np.shape(g) != (m,) for g in groups):
            raise ValueError(f"block {index} has {[np.shape(g) for g in groups]} cluster labels "
                             f"for {m} rows and {n_groups} grouping variable(s)")
        if not labels_checked:
            groups = tuple(canonical_labels(g, f"the cluster labels of block {index} of the "
                                               "rows") for g in groups)
    return Xb, Yb, s, groups


def _whitened(Xc, s, factor: GramFactor, X=None):
    """``(W, h)``: the whitened rows ``u_i = T_φᵀ x̃_i`` and the leverage ``h_i = s_i ‖u_i‖²``
    (``Xc`` None: from the sparse rows ``X`` and the shift, never centring ``X`` itself)."""
    W = factor.whiten(Xc) if Xc is not None else factor.whiten_sparse(X)
    h = np.einsum("ij,ij->i", W, W)
    if s is not None:
        h *= s
    return W, h


def _block_totals(Xb: np.ndarray, Yb: np.ndarray, s, groups, spec: _PassSpec) -> PassTotals:
    """The totals of one checked block of rows (see :func:`_checked_block`)."""
    totals = PassTotals.empty(spec)
    m, k = Yb.shape
    if m == 0:
        return totals
    factor = spec.factor
    R = Yb - (Xb @ spec.coef + spec.intercept)                 # residuals r = y − ŷ
    sparse = hasattr(Xb, "tocsr")
    Xc = None if sparse else Xb - factor.shift
    if s is None:
        totals.weight_sum = float(m)
        totals.sum_x = (Xc.sum(axis=0) if not sparse
                        else np.asarray(Xb.sum(axis=0)).ravel() - m * factor.shift)
        totals.sum_y = Yb.sum(axis=0)
        U = R
    else:
        totals.weight_sum = float(s.sum())
        with np.errstate(divide="ignore"):
            totals.log_weight_sum = float(np.log(s).sum())
        totals.sum_x = (s @ Xc if not sparse
                        else np.asarray(Xb.T @ s).ravel() - totals.weight_sum * factor.shift)
        totals.sum_y = s @ Yb
        U = R * np.sqrt(s)[:, None]                            # weighted residuals √s r
    totals.n_rows = m
    totals.ssr = np.einsum("ij,ij->j", U, U)
    totals.moments = _block_moments(U)
    if m > 1:
        D = np.diff(U, axis=0)
        totals.dw_num = np.einsum("ij,ij->j", D, D)
    totals.first_u, totals.last_u = U[0].copy(), U[-1].copy()
    if spec.whitens:
        W, h = _whitened(Xc, s, factor, Xb)
    if spec.n_groups or spec.lag_weights is not None:
        A = R if s is None else R * s[:, None]                 # scores g_i = s_i r_i u_i
        if spec.n_groups:
            labels = list(groups) + ([pair_labels(*groups)] if spec.n_groups == 2 else [])
            totals.clusters = [ClusterSums.of_block(g, A, W) for g in labels]
        else:
            totals.hac = HacTotals.of_block(A, W, spec.lag_weights)
    if spec.heteroscedastic:
        # a row with leverage 1 (it alone determines a coefficient) makes HC2/HC3
        # infinite, as in statsmodels
        with np.errstate(divide="ignore", invalid="ignore"):
            if spec.cov_type in ("HC0", "HC1"):
                root_omega = None
            elif spec.cov_type == "HC2":
                root_omega = 1.0 / np.sqrt(1.0 - h)
            else:
                root_omega = 1.0 / (1.0 - h)
        for j in range(k):
            a = R[:, j] if s is None else s * R[:, j]          # s_i r_i
            if root_omega is not None:
                with np.errstate(invalid="ignore"):
                    a = a * root_omega
            Wa = W * a[:, None]
            if Wa.shape[1]:
                # NumPy runs Waᵀ Wa as a symmetric rank-k update and, unlike SciPy's
                # dsyrk wrapper, releases the GIL: pieces of rows run side by side
                totals.meat[j] = Wa.T @ Wa
    if spec.keep_rows:
        if spec.whitens:
            totals.leverage.append(h)
        totals.wresid.append(U)
    return totals


def _accumulate(blocks, spec: _PassSpec) -> PassTotals:
    """The merged totals of ``blocks`` (an iterable of ``(X, Y, w)``, in row order)."""
    d, k = spec.coef.shape
    totals = PassTotals.empty(spec)
    for index, block in enumerate(blocks):
        part = _block_totals(*_checked_block(block, index, d, k, spec.n_groups, True), spec)
        totals.merge(part, spec.lag_weights)
    return totals


def _partition_totals(block, index: int, spec: _PassSpec) -> PassTotals:
    """The totals of one partition ``(X, Y, w)`` (``(X, Y, w, groups)`` with cluster labels),
    computed where it lives (a Dask task), a few thousand rows at a time; partition
    ``index`` names it in error messages."""
    d, k = spec.coef.shape
    X, Y, s, groups = _checked_block(block, index, d, k, spec.n_groups)
    totals = _accumulate(iter_blocks(X, Y, s, groups=groups), spec)
    if totals.clusters is not None:
        for sums in totals.clusters:
            sums.compact()              # what travels: one sum per cluster
    return totals


def _finish(totals: PassTotals) -> PassTotals:
    """Per-row arrays from the merged totals."""
    if isinstance(totals.leverage, list):
        totals.leverage = np.concatenate(totals.leverage) if totals.leverage else np.zeros(0)
    if isinstance(totals.wresid, list):
        k = totals.ssr.shape[0]
        totals.wresid = np.concatenate(totals.wresid) if totals.wresid else np.zeros((0, k))
    return totals


def residual_pass(rows, coef, intercept, factor: GramFactor, cov_type: str,
                   keep_rows: bool, need_leverage: bool = True, options=None) -> PassTotals:
    """One pass over ``rows``: residuals at the fitted coefficients and everything made of
    them (SSR, HC meat, cluster score sums, HAC lag sums, leverage, Durbin–Watson sums,
    moments of the weighted residuals).

    Each block's totals come from :func:`_block_totals`, computed where the block lives
    (:meth:`linreg.rows.Rows.map_blocks`), and are merged in row order
    (:meth:`PassTotals.merge`); only the totals travel.  The rows are whitened (the costly
    part: O(d²) a row) only for a robust covariance or when ``need_leverage``.
    ``options`` (:class:`~.robust.CovOptions`) carries the groups and lags of "cluster" and
    "HAC"; the rows deliver the cluster labels with each block.
    """
    groups = tuple(options.groups) if options is not None and options.groups else ()
    weights = options.weights() if options is not None else None
    spec = _PassSpec(coef, intercept, factor, cov_type, keep_rows, need_leverage,
                     len(groups), weights)
    totals = PassTotals.empty(spec)
    fn = functools.partial(_partition_totals, spec=spec)
    fn.accepts_sparse = True         # rows that can (a table's) hand over CSR design blocks
    parts = rows.map_blocks(fn, groups=groups) if groups else rows.map_blocks(fn)
    for part in parts:
        totals.merge(part, weights)
    return _finish(totals)


def _leverage_pass(blocks, factor: GramFactor) -> np.ndarray:
    """``h_i = s_i ‖T_φᵀ[1, x_i − shift]‖²`` for every row of ``blocks``."""
    parts = []
    for Xb, _, wb in blocks:
        s = None if wb is None else np.asarray(wb, dtype=np.float64).reshape(-1)
        parts.append(_whitened(np.asarray(Xb, dtype=np.float64) - factor.shift, s, factor)[1])
    return np.concatenate(parts) if parts else np.zeros(0)


def partition_leverage(block, index: int, factor: GramFactor) -> np.ndarray:
    """The leverage of one partition's rows, computed where it lives (a Dask task)."""
    X, Y, w = block
    return _leverage_pass(iter_blocks(np.asarray(X), np.asarray(Y), w), factor)


def partition_fitted(block, index: int, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """``[y − ŷ, ŷ]`` (m, 2k) of one partition's rows, computed where it lives."""
    X, Y, _ = block
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(X.shape[0], coef.shape[1])
    fitted = X @ coef + intercept
    return np.hstack([Y - fitted, fitted])


def check_same_data(totals: PassTotals, stats: SufficientStats, factor: GramFactor) -> None:
    """The rows of the pass must be the rows the statistics (and the fit) came from."""
    problem = None
    if totals.n_rows != stats.n_rows:
        problem = f"{totals.n_rows} rows, but the model was fitted on {stats.n_rows}"
    elif not math.isclose(totals.weight_sum, stats.weight_sum, rel_tol=1e-9, abs_tol=0.0):
        problem = (f"a total sample weight of {totals.weight_sum:.10g}, but the model was "
                   f"fitted with {stats.weight_sum:.10g}")
    else:
        spread = np.sqrt(np.maximum(np.diag(stats.comoment), 0.0) / stats.weight_sum)
        mean_pass = np.concatenate([totals.sum_x / totals.weight_sum + factor.shift,
                                    totals.sum_y / totals.weight_sum])
        tol = 1e-7 * (np.abs(stats.mean) + spread) + 1e-300
        bad = np.flatnonzero(np.abs(mean_pass - stats.mean) > tol)
        if bad.size:
            j = int(bad[0])
            what = f"column {j} of X" if j < stats.n_features else \
                f"target {j - stats.n_features} of y"
            problem = (f"{what} has mean {mean_pass[j]:.10g}, but the model was fitted on data "
                       f"where it is {stats.mean[j]:.10g}")
    if problem:
        m = MessageBuilder()
        raise TrainingDataMismatchError(
            MessageBuilder.text(f"the rows given for the summary are not the rows the model "
                                f"was fitted on: they have {problem}. Pass ")
            + m.setting("training_data", None) + " unchanged, or refit the model on the data "
            "you want to summarize.", parameters=m.parameters)

