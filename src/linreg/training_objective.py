"""The training objective as the iterative solvers see it, from either of two places:

* :class:`StatsObjective` — from the sufficient statistics (:class:`linreg.design.DesignStats`):
  ``J``, ``∇J`` in O(d²k) each and the curvature ``L = λ_max(H)`` from one eigenvalue problem
  of size d, once the O(n·d²) pass that builds them has been paid;
* :class:`RowObjective` — from the rows themselves: ``J`` and ``∇J`` together in one compiled
  pass of O(nnz·k) (:func:`linreg.passes.residual_pass`), the curvature ``L`` by Lanczos
  iterations on the Hessian applied matrix-free (each product one pass);
  :class:`BlockRowObjective` the same over rows that are not in memory (files, Dask), one
  pass over their blocks (:meth:`linreg.rows.Rows.reduce_blocks`) for each.

and what both take from the columns' means and variances alone (:class:`ColumnMoments`,
O(nnz) and mergeable): the design (centring and scaling), the Hessian's diagonal, the mean
one-sample curvature and the targets' spread — everything the stochastic solvers' automatic
step needs besides the largest row norm.  :mod:`linreg.descent` trains on either; which one a
fit uses is a matter of cost (:mod:`linreg.solvers.paths`), not of results: the two give the
same values to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import objective
from .design import Design, DesignStats
from .passes import csr_column_sums, dense_moments, merge_moments, residual_pass
from .penalty import l2_penalty
from .stats import RAW_MOMENTS_MAX_OFFSET

__all__ = ["ColumnMoments", "StatsObjective", "RowObjective", "BlockRowObjective", "LANCZOS_TOL",
           "column_moments", "block_moments", "moments_of_blocks",
           "DENSE_HESSIAN_MAX_SIZE"]

#: the relative accuracy asked of Lanczos (ARPACK) for ``λ_max(H)`` from the rows
LANCZOS_TOL = 1e-6
#: up to this many parameters per target the Hessian is formed from that many products
#: and its eigenvalues computed exactly, instead of Lanczos
DENSE_HESSIAN_MAX_SIZE = 24


@dataclass(frozen=True)
class ColumnMoments:
    """Row count, total weight, and per column the weighted mean and ``m2 = Σ s (x − x̄)²``
    of the features (``mean_x``, ``m2_x``, shape (d,)) and targets (``mean_y``, ``m2_y``,
    shape (k,)): the Gram matrix's diagonal without the Gram matrix."""

    n_rows: int
    weight_sum: float
    mean_x: np.ndarray
    m2_x: np.ndarray
    mean_y: np.ndarray
    m2_y: np.ndarray
    #: ``Σ s (x − x̄)(y − ȳ)ᵀ`` (d, k), or None: what gives ``J`` and ``∇J`` at zero
    cross: np.ndarray | None = None

    @property
    def n_targets(self) -> int:
        return self.mean_y.shape[0]

    @classmethod
    def from_stats(cls, stats) -> "ColumnMoments":
        """The moments the :class:`~linreg.stats.SufficientStats` hold (their diagonal)."""
        diag = np.diag(stats.comoment)
        d = stats.n_features
        return cls(int(stats.n_rows), float(stats.weight_sum), stats.mean_x.copy(),
                   diag[:d].copy(), stats.mean_y.copy(), diag[d:].copy(), stats.cross.copy())

    def design(self, fit_intercept: bool, standardize: bool) -> Design:
        """:meth:`linreg.design.Design.from_moments` of these moments."""
        return Design.from_moments(self.weight_sum, self.mean_x, self.m2_x, fit_intercept,
                                   standardize)

    def curvature_diagonal(self, design: Design, alpha: float) -> np.ndarray:
        """The Hessian's diagonal for ``θ``: ``(1/n_w) Σ s x̃_j² + α`` per column (``G_jj/n_w +
        x̃̄_j² + α``, as :func:`linreg.objective.hessian_from_stats` has it)."""
        centre = (self.mean_x - design.shift) / design.scale
        return self.m2_x / design.scale**2 / self.weight_sum + centre**2 + alpha

    def mean_curvature(self, design: Design) -> float:
        """``(1/n_w) Σ s_i (‖x̃_i‖² + 1)`` (``+1`` only with an intercept): the trace of the
        Hessian's data part, which bounds its largest eigenvalue."""
        return float(np.sum(self.curvature_diagonal(design, 0.0)) + design.fit_intercept)

    def target_spread(self) -> float:
        """``√(Σ_c m2_y,c / (n_w k))``: the targets' standard deviation (1 when it is 0)."""
        spread = float(np.sqrt(np.sum(self.m2_y) / self.weight_sum / max(self.n_targets, 1)))
        return spread if spread > 0 else 1.0

    def value_at_zero(self, design: Design) -> tuple[float, np.ndarray, np.ndarray]:
        """``(J, ∇_θ J, ∇_β J)`` at ``θ = 0``, ``β = 0`` (where every fit starts) from the
        moments alone: ``J = Σ s ‖y‖²/(2 n_w)``, ``∇_θ J = −Σ s x̃ yᵀ/n_w`` with
        ``Σ s (x − shift) yᵀ = c + n_w (x̄ − shift) ȳᵀ``, ``∇_β J = −ȳ`` — so a fit from the
        rows needs no pass for its starting point."""
        n_w = self.weight_sum
        J = float(np.sum(self.m2_y + n_w * self.mean_y**2) / (2.0 * n_w))
        centred = self.cross + n_w * np.outer(self.mean_x - design.shift, self.mean_y)
        return J, -centred / design.scale[:, None] / n_w, -self.mean_y.copy()

    def is_finite(self) -> bool:
        return bool(np.isfinite(self.weight_sum) and all(np.isfinite(a).all() for a in (
            self.mean_x, self.m2_x, self.mean_y, self.m2_y)))


def column_moments(X, w=None, Yc=None) -> tuple:
    """``(n_w, x̄, Σ s (x − x̄)²)`` per column of canonical CSR ``X`` in one O(nnz) compiled
    read (:func:`linreg.passes.csr_column_sums`), with the same cancellation rule as
    :func:`sparse_stats` (columns far from zero are centred on their own dense values).
    With ``Yc`` (n, k) (targets centred on their weighted means), also
    ``Σ s (x − x̄)(y − ȳ)ᵀ`` (d, k), from the same read."""
    s = None if w is None else np.asarray(w, dtype=np.float64)
    n_w = float(X.shape[0]) if s is None else float(s.sum())
    total, raw, cross = csr_column_sums(X, w, Yc)
    mean = total / n_w
    var = raw - n_w * mean**2
    far = np.flatnonzero(n_w * mean**2 > RAW_MOMENTS_MAX_OFFSET**2 * np.maximum(var, 0.0))
    if far.size and s is None:
        s = np.ones(X.shape[0])
    for j in far:
        z = X[:, [j]].toarray().ravel() - mean[j]
        shift = (s @ z) / n_w
        mean[j] += shift
        z -= shift
        var[j] = s @ z**2
        if Yc is not None:
            cross[j] = (z * s) @ Yc
    if Yc is not None:
        return n_w, mean, np.maximum(var, 0.0), cross
    return n_w, mean, np.maximum(var, 0.0)


def block_moments(X, Y, w) -> tuple:
    """``(n_w, x̄, m2_x, ȳ, m2_y, c)`` (as :func:`linreg.passes.dense_moments`) of one block:
    dense ``X`` by the compiled dense pass, CSR ``X`` (canonical) in O(nnz)
    (:func:`column_moments`)."""
    Y = np.ascontiguousarray(Y, dtype=np.float64)
    if not hasattr(X, "indptr"):
        return dense_moments(X, Y, w)
    s = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
    n_w = float(s.sum())
    if n_w == 0:
        d, k = X.shape[1], Y.shape[1]
        return 0.0, np.zeros(d), np.zeros(d), np.zeros(k), np.zeros(k), np.zeros((d, k))
    # sums, not BLAS: a small BLAS call can wait milliseconds for its threads, every block
    S = s[:, None]
    mean_y = (S * Y).sum(axis=0) / n_w
    mean_y += (S * (Y - mean_y)).sum(axis=0) / n_w      # one refinement: two-pass accuracy
    Yc = Y - mean_y
    m2_y = (S * (Yc * Yc)).sum(axis=0)
    _, mean_x, m2_x, cross = column_moments(X, w, Yc)
    return n_w, mean_x, m2_x, mean_y, m2_y, cross


def moments_of_blocks(rows):
    """The :class:`~linreg.training_objective.ColumnMoments` of ``rows`` in one pass over its
    blocks (:meth:`linreg.rows.Rows.reduce_blocks`: files read ahead on a thread), each block's moments
    (:func:`block_moments`) merged exactly in row order as it comes (Chan et al.); refused when not
    finite or too large for float64 sums of squares."""
    from .stats import check_representable_columns
    d, k = rows.n_features, rows.n_targets

    def one(block):
        X, Y, w = block[:3]
        return X.shape[0], block_moments(X, Y, w)

    def merge(a, b):
        return a[0] + b[0], merge_moments(a[1], b[1])

    zero = (0.0, np.zeros(d), np.zeros(d), np.zeros(k), np.zeros(k), np.zeros((d, k)))
    with np.errstate(over="ignore", invalid="ignore"):
        n, total = rows.reduce_blocks(one, merge, (0, zero))
    if n == 0 or total[0] == 0:
        raise ValueError("there are no rows (or every weight is zero): there is nothing to fit")
    n_w, mean_x, m2_x, mean_y, m2_y, cross = total
    check_representable_columns(np.concatenate([mean_x, mean_y]),
                                np.concatenate([m2_x, m2_y]), d, n_w)
    moments = ColumnMoments(n, float(n_w), mean_x, np.maximum(m2_x, 0.0), mean_y,
                            np.maximum(m2_y, 0.0), cross)
    if not moments.is_finite():
        raise ValueError("the rows' column sums of squares overflow float64 (values too "
                         "large); rescale the data")
    return moments


class StatsObjective:
    """``J``, ``∇J`` and ``L`` from the statistics in design coordinates ``ds``."""

    def __init__(self, ds: DesignStats, alpha: float):
        self.ds, self.alpha = ds, alpha

    def loss(self, theta, beta) -> float:
        return objective.loss_from_stats(self.ds, theta, beta, self.alpha)

    def gradient(self, theta, beta):
        return objective.gradient_from_stats(self.ds, theta, beta, self.alpha)

    def lipschitz(self) -> float:
        return objective.lipschitz_constant(self.ds, self.alpha)


class RowObjective:
    """``J`` and ``∇J`` over the rows ``X[rows]`` (dense, or CSR read in place) in the
    coordinates of ``design``, one pass for both (the last parameters' values are kept, so
    the loss and then the gradient at the same point cost one pass).

    ``sample_weight`` is indexed by row of ``X`` (None: unit weights); ``alpha`` a float."""

    def __init__(self, X, Y, sample_weight, rows, design: Design, alpha: float):
        self.X, self.Y = X, np.ascontiguousarray(Y, dtype=np.float64)
        self.rows = np.ascontiguousarray(rows, dtype=np.int64)
        if sample_weight is None:
            self.s = np.empty(0)
            self.weight_sum = float(self.rows.shape[0])
        else:
            self.s = np.ascontiguousarray(sample_weight, dtype=np.float64)
            self.weight_sum = float(self.s[self.rows].sum())
        self._start(design, alpha)

    def _start(self, design: Design, alpha: float) -> None:
        """The design's coordinates and the pass bookkeeping, as every rows objective keeps."""
        self.design, self.alpha = design, float(alpha)
        self.shift = np.ascontiguousarray(design.shift, dtype=np.float64)
        self.inv_scale = np.ascontiguousarray(1.0 / design.scale, dtype=np.float64)
        self._point = None
        self._value = None
        #: passes over the rows made so far (for the cost model's tests and the benchmarks)
        self.passes = 0
        #: the next loss pass also sums the raw columns (:meth:`want_column_sums`)
        self._want_sums = False
        #: ``(Σ s x², Σ s x yᵀ)`` over the rows, once a pass has summed them
        self.column_sums = None

    def want_column_sums(self, wanted: bool = True) -> None:
        """Have the next pass for ``J`` also sum the raw columns over the rows — ``Σ s x²``
        and ``Σ s x yᵀ`` (:attr:`column_sums`), what the start of a fit on the raw design
        needs — in the same read (:func:`linreg.passes.residual_pass`)."""
        self._want_sums = bool(wanted)

    def _pass(self, theta, beta, targets: bool = True):
        self.passes += 1
        if targets and self._want_sums:
            self._want_sums = False
            total, g, rsum, self.column_sums = residual_pass(
                self.X, self.Y, self.s, self.rows, self.shift, self.inv_scale, theta, beta,
                targets, column_sums=True)
            return total, g, rsum
        return residual_pass(self.X, self.Y, self.s, self.rows, self.shift, self.inv_scale,
                             theta, beta, targets)

    def _evaluate(self, theta, beta):
        point = self._point
        if point is None or not (np.array_equal(point[0], theta) and np.array_equal(point[1], beta)):
            with np.errstate(over="ignore", invalid="ignore"):
                total, g, rsum = self._pass(theta, beta)
                n_w = self.weight_sum
                J = total / (2.0 * n_w) + l2_penalty(theta, self.alpha)
                gw = g / n_w + self.alpha * theta
                gb = rsum / n_w
            self._point = (np.array(theta, copy=True), np.array(beta, copy=True))
            self._value = (float(J), gw, gb)
        return self._value

    def remember(self, theta, beta, value: tuple) -> None:
        """Take ``value = (J, ∇_θ J, ∇_β J)`` at ``(θ, β)`` as known (no pass for that point)."""
        self._point = (np.array(theta, copy=True), np.array(beta, copy=True))
        self._value = (float(value[0]), np.asarray(value[1], dtype=np.float64),
                       np.asarray(value[2], dtype=np.float64))

    def loss(self, theta, beta) -> float:
        """``J = 1/(2 n_w) Σ s ‖x̃ᵀθ + β − y‖² + (α/2)‖θ‖²``."""
        return self._evaluate(theta, beta)[0]

    def gradient(self, theta, beta):
        """``(∇_θ J, ∇_β J)`` as :func:`linreg.objective.gradient` on the design's rows."""
        _, gw, gb = self._evaluate(theta, beta)
        return gw.copy(), gb.copy()

    def hessian_product(self, v: np.ndarray) -> np.ndarray:
        """``H v`` for one target: ``v = [v_θ (d,), v_β]`` (``v_β`` only with an intercept),
        from one pass with the targets taken as zero (``∇J(v) = H v`` then)."""
        d = self.shift.shape[0]
        fi = self.design.fit_intercept
        theta = np.ascontiguousarray(v[:d], dtype=np.float64).reshape(d, 1)
        beta = np.array([v[d] if fi else 0.0])
        _, g, rsum = self._pass(theta, beta, targets=False)
        out = g[:, 0] / self.weight_sum + self.alpha * theta[:, 0]
        return np.concatenate([out, rsum / self.weight_sum]) if fi else out

    def lipschitz(self) -> float:
        """``L = λ_max(H)`` from the rows: the Hessian formed from ``m`` products when it has
        ``m ≤ DENSE_HESSIAN_MAX_SIZE`` rows, else Lanczos (``scipy.sparse.linalg.eigsh``,
        relative accuracy ``LANCZOS_TOL``); each product one pass.  Never below the smallest
        normal float (as :func:`linreg.objective.lipschitz_constant`)."""
        from scipy.sparse.linalg import LinearOperator, eigsh
        m = self.shift.shape[0] + int(self.design.fit_intercept)
        tiny = np.finfo(np.float64).tiny
        if m == 0:
            return 1.0
        if m <= DENSE_HESSIAN_MAX_SIZE:
            H = np.column_stack([self.hessian_product(e) for e in np.eye(m)])
            return float(max(np.linalg.eigvalsh((H + H.T) / 2)[-1], tiny))
        op = LinearOperator((m, m), matvec=self.hessian_product, dtype=np.float64)
        start = np.full(m, 1.0 / np.sqrt(m))     # a fixed start: the same L on every run
        value = eigsh(op, k=1, which="LA", tol=LANCZOS_TOL, v0=start,
                      return_eigenvectors=False)[0]
        return float(max(value, tiny))


class BlockRowObjective(RowObjective):
    """:class:`RowObjective` over the blocks of a :class:`linreg.rows.Rows` that is not in
    memory (dense or CSR blocks, each read once per pass: :meth:`~linreg.rows.Rows.reduce_blocks`
    reads a file's next block on a thread while this one is summed), the blocks' sums added
    in row order as they come.  ``weight_sum``: the total weight of all rows (from their
    moments; None: unit weights, counted by the first pass).

    :meth:`want_column_sums` has the next loss pass also add up, block by block in the same
    read, what the start of a fit on the raw design needs (:class:`linreg.deferred_start.BlockDeferredStart`):
    the raw columns' ``Σ s x²`` and ``Σ s x yᵀ`` (:attr:`column_sums`) and the targets'
    ``(n, Σ s, Σ s y, Σ s ‖y‖²)`` (:attr:`target_sums`)."""

    def __init__(self, rows, design: Design, alpha: float, weight_sum: float | None):
        self.block_rows = rows
        self.X = self.Y = self.rows = None
        self.s = np.empty(0)
        self.weight_sum = None if weight_sum is None else float(weight_sum)
        self._start(design, alpha)
        self.target_sums = None

    def _pass(self, theta, beta, targets: bool = True):
        self.passes += 1
        shift, inv_scale = self.shift, self.inv_scale
        sums = targets and self._want_sums
        self._want_sums = False

        def one(block):
            X, Y, w = block[:3]
            if not hasattr(X, "indptr") and X.dtype not in (np.float64, np.float32):
                X = X.astype(np.float64)
            X = X if hasattr(X, "indptr") else np.ascontiguousarray(X)
            s = np.empty(0) if w is None else np.ascontiguousarray(w, dtype=np.float64)
            Y = np.ascontiguousarray(Y, dtype=np.float64)
            rows = np.arange(X.shape[0], dtype=np.int64)
            out = residual_pass(X, Y, s, rows, shift, inv_scale, theta, beta, targets,
                                column_sums=sums)
            if not sums:
                return out
            # the targets' sums (sums, not BLAS: a small call can wait for its threads)
            sY = Y if w is None else s[:, None] * Y
            n_w = float(X.shape[0]) if w is None else float(s.sum())
            return out[:3] + (out[3], (X.shape[0], n_w, sY.sum(axis=0), float((sY * Y).sum())))

        def merge(a, b):
            out = a[0] + b[0], a[1] + b[1], a[2] + b[2]
            if not sums:
                return out
            (axx, axy), (bxx, bxy) = a[3], b[3]
            ta, tb = a[4], b[4]
            return out + ((axx + bxx, axy + bxy),
                          (ta[0] + tb[0], ta[1] + tb[1], ta[2] + tb[2], ta[3] + tb[3]))

        d, k = theta.shape
        zero = (0.0, np.zeros((d, k)), np.zeros(k))
        if sums:
            zero += ((np.zeros(d), np.zeros((d, k))), (0, 0.0, np.zeros(k), 0.0))
        with np.errstate(over="ignore", invalid="ignore"):
            result = self.block_rows.reduce_blocks(one, merge, zero)
        if not sums:
            return result
        self.column_sums, self.target_sums = result[3], result[4]
        if self.weight_sum is None:     # unit weights: the rows counted by this pass
            self.weight_sum = float(result[4][1])
        return result[:3]

