"""The residual pass: one blocked pass over the training rows for what needs the residuals.

It runs over the rows wherever they live (:class:`linreg.rows.Rows`: in memory, files,
Dask): each block, where it lives (threads in memory, workers on Dask), yields mergeable
totals (sums, moments, HC meat, and its first and last weighted residual, so that
Durbin–Watson's terms across block edges can be added), merged in row order; only the
totals (and per-row leverage and residuals, for the influence measures) travel.  The rows
are whitened by the bread's factor, ``u = T_φᵀ[1, x − x̄]`` (one matrix product per block):
then ``h = s‖u‖²`` and the HC "meat" is accumulated in whitened coordinates, where it is
well scaled.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from ..exceptions import MessageBuilder, TrainingDataMismatchError
from ..stats import BLOCK_ROWS, SufficientStats
from .factor import GramFactor

__all__ = ["iter_blocks", "PassTotals", "residual_pass", "partition_leverage",
           "check_same_data"]


def iter_blocks(X, Y, sample_weight=None, block_rows: int = BLOCK_ROWS):
    """Yield ``(X_block, Y_block, w_block)`` views of in-memory arrays, ``block_rows`` at a time.

    ``Y`` is (n, k); ``w_block`` is ``None`` without sample weights.  No copies are made.
    """
    n = X.shape[0]
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        yield (X[start:stop], Y[start:stop],
               None if sample_weight is None else sample_weight[start:stop])


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

    @property
    def robust(self) -> bool:
        return self.cov_type != "nonrobust"

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
    meat: list | None          # Σ s² r² ω u uᵀ (whitened)  per target
    leverage: list | np.ndarray | None   # per-row h: the blocks' parts until finished
    wresid: list | np.ndarray | None     # per-row √s r: the blocks' parts until finished

    @classmethod
    def empty(cls, spec: _PassSpec) -> PassTotals:
        d, k = spec.coef.shape
        r_dim = spec.factor.rank
        return cls(0, 0.0, np.zeros(d), np.zeros(k), np.zeros(k), 0.0,
                   (0, np.zeros(k), np.zeros(k), np.zeros(k), np.zeros(k)), np.zeros(k),
                   None, None,
                   [np.zeros((r_dim, r_dim)) for _ in range(k)] if spec.robust else None,
                   [] if spec.keep_rows and spec.whitens else None,
                   [] if spec.keep_rows else None)

    def merge(self, later: PassTotals) -> PassTotals:
        """Add the totals of the rows that come right after these (in place; returns self)."""
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
        return self


def _checked_block(block, index: int, d: int, k: int):
    """``(X, Y, s)`` of one block as float arrays (``Y`` (m, k), ``s`` None or (m,)), checked."""
    try:
        Xb, Yb, wb = block
    except (TypeError, ValueError):
        raise ValueError(f"block {index} of the row source is not a tuple "
                         "(X_block, Y_block, w_block)") from None
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
    return Xb, Yb, s


def _whitened(Xc: np.ndarray, s, factor: GramFactor):
    """``(W, h)``: the whitened rows ``u_i = T_φᵀ x̃_i`` and the leverage ``h_i = s_i ‖u_i‖²``."""
    W = factor.whiten(Xc)
    h = np.einsum("ij,ij->i", W, W)
    if s is not None:
        h *= s
    return W, h


def _block_totals(Xb: np.ndarray, Yb: np.ndarray, s, spec: _PassSpec) -> PassTotals:
    """The totals of one checked block of rows (see :func:`_checked_block`)."""
    totals = PassTotals.empty(spec)
    m, k = Yb.shape
    if m == 0:
        return totals
    factor = spec.factor
    R = Yb - (Xb @ spec.coef + spec.intercept)                 # residuals r = y − ŷ
    Xc = Xb - factor.shift
    if s is None:
        totals.weight_sum = float(m)
        totals.sum_x = Xc.sum(axis=0)
        totals.sum_y = Yb.sum(axis=0)
        U = R
    else:
        totals.weight_sum = float(s.sum())
        with np.errstate(divide="ignore"):
            totals.log_weight_sum = float(np.log(s).sum())
        totals.sum_x = s @ Xc
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
        W, h = _whitened(Xc, s, factor)
    if spec.robust:
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
        totals.merge(_block_totals(*_checked_block(block, index, d, k), spec))
    return totals


def _partition_totals(block, index: int, spec: _PassSpec) -> PassTotals:
    """The totals of one partition ``(X, Y, w)``, computed where it lives (a Dask task), a
    few thousand rows at a time; partition ``index`` names it in error messages."""
    d, k = spec.coef.shape
    X, Y, s = _checked_block(block, index, d, k)
    return _accumulate(iter_blocks(X, Y, s), spec)


def _finish(totals: PassTotals) -> PassTotals:
    """Per-row arrays from the merged totals."""
    if isinstance(totals.leverage, list):
        totals.leverage = np.concatenate(totals.leverage) if totals.leverage else np.zeros(0)
    if isinstance(totals.wresid, list):
        k = totals.ssr.shape[0]
        totals.wresid = np.concatenate(totals.wresid) if totals.wresid else np.zeros((0, k))
    return totals


def residual_pass(rows, coef, intercept, factor: GramFactor, cov_type: str,
                   keep_rows: bool, need_leverage: bool = True) -> PassTotals:
    """One pass over ``rows``: residuals at the fitted coefficients and everything made of
    them (SSR, HC meat, leverage, Durbin–Watson sums, moments of the weighted residuals).

    Each block's totals come from :func:`_block_totals`, computed where the block lives
    (:meth:`linreg.rows.Rows.map_blocks`), and are merged in row order
    (:meth:`PassTotals.merge`); only the totals travel.  The rows are whitened (the costly
    part: O(d²) a row) only for the HC meat or when ``need_leverage``.
    """
    spec = _PassSpec(coef, intercept, factor, cov_type, keep_rows, need_leverage)
    totals = PassTotals.empty(spec)
    for part in rows.map_blocks(functools.partial(_partition_totals, spec=spec)):
        totals.merge(part)
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

