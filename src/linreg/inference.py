"""Statistical inference for (weighted) least squares: covariance, tests, intervals, diagnostics.

The model is ``y_i = x_iᵀθ + ε_i`` with ``x_i = [1, x_i]`` when there is an intercept (the
intercept first, as statsmodels orders parameters after ``add_constant``), sample weights
``s_i`` (``Var ε_i = σ²/s_i``), and ``X_w = S^½ X`` the weighted design.  Everything here is
computed from the sufficient statistics (:class:`linreg.stats.SufficientStats`) plus **one**
blocked pass over the rows for what needs the residuals (leverage, when the chosen
covariance does not need it, is computed on first use by one more pass)::

    bread        B = (XᵀSX)⁻¹                       from the statistics (a factor of it)
    scale        σ² = Σ s_i r_i² / (n − p)          r = y − Xθ at the fitted θ (the pass)
    nonrobust    Cov θ = σ² B
    HC0..HC3     Cov θ = B [Σ s_i² r_i² ω_i x_i x_iᵀ] B,   ω = 1, n/(n−p), 1/(1−h), 1/(1−h)²
    leverage     h_i = s_i x_iᵀ B x_i

No system is solved with an explicit inverse: with an intercept the statistics give the
centred Gram matrix ``G = Σ s (x − x̄)(x − x̄)ᵀ``, which is equilibrated to unit diagonal and
Cholesky-factored, ``D⁻¹GD⁻¹ = CᵀC``; the exact optimum (to say how far an iterative fit is
from it) comes from Cholesky solves.  The covariance matrix — an output — is made of the
inverse of the triangular factor, ``B = TTᵀ`` with ``T = D⁻¹C⁻¹``, and that same factor
*whitens* the rows in the pass, ``u = Tᵀ(x − x̄)`` (one matrix product per block): then
``h = s(1/n_w + ‖u‖²)`` and the HC "meat" is accumulated in whitened coordinates, where it
is well scaled.  When the design is ill-conditioned (``κ(D⁻¹GD⁻¹) > 1e6``) and the rows can
be read again, ``T`` comes from a TSQR factor of the rows instead of ``G`` (which squares
the condition number).  A rank-deficient design is handled by an eigendecomposition;
coefficients that the data cannot identify are marked (``identified`` is False, their
standard errors NaN) rather than printed as numbers.

The pass runs over the training rows wherever they live (:class:`linreg.rows.Rows`: in
memory, files, Dask): each block, where it lives (threads in memory, workers on Dask), yields
mergeable totals (sums, moments, HC meat, and its first and last weighted residual, so that
Durbin–Watson's terms across block edges can be added), merged in row order; only the
totals (and per-row leverage and residuals, for the influence measures) travel.

Numbers match statsmodels' ``OLS``/``WLS`` results (``cov_type`` "nonrobust", "HC0"–"HC3"):
R² is uncentred without a constant, AIC/BIC count ``df_model + k_constant`` parameters, and
the robust F statistic is the Wald test of all slopes with the robust covariance.  One
deliberate difference: with weights, the log-likelihood always includes ``½ Σ log s_i``
(statsmodels adds it only when no weight equals exactly 1).
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.stats

from .linalg import factor_spd
from .rank import identify_stats
from .exceptions import MessageBuilder, PenalizedInferenceError
from .stats import BLOCK_ROWS, SufficientStats
from .stopping import describe_stop

__all__ = [
    "COV_TYPES",
    "INTERVALS",
    "RegressionResults",
    "MultiOutputResults",
    "GramFactor",
    "iter_blocks",
    "summarize",
    "target_names_of",
    "prediction_interval",
    "ssr_from_stats",
    "omnibus_test",
    "jarque_bera_test",
    "durbin_watson_statistic",
]

COV_TYPES = ("nonrobust", "HC0", "HC1", "HC2", "HC3")
INTERVALS = ("confidence", "prediction")
EPS = np.finfo(np.float64).eps

#: statsmodels prints its collinearity warning above this condition number
CONDITION_WARNING = 1000.0

_COV_DESCRIPTIONS = {
    "nonrobust": "Standard errors assume that the errors are independent with constant "
                 "variance (covariance type nonrobust).",
    "HC0": "Standard errors are heteroscedasticity robust (HC0, White's estimator).",
    "HC1": "Standard errors are heteroscedasticity robust (HC1: HC0 scaled by n/(n − p)).",
    "HC2": "Standard errors are heteroscedasticity robust (HC2: squared residuals divided "
           "by 1 − leverage).",
    "HC3": "Standard errors are heteroscedasticity robust (HC3: squared residuals divided "
           "by (1 − leverage)²).",
}


# ---------------------------------------------------------------------------------- rows
def iter_blocks(X, Y, sample_weight=None, block_rows: int = BLOCK_ROWS):
    """Yield ``(X_block, Y_block, w_block)`` views of in-memory arrays, ``block_rows`` at a time.

    ``Y`` is (n, k); ``w_block`` is ``None`` without sample weights.  No copies are made.
    """
    n = X.shape[0]
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        yield (X[start:stop], Y[start:stop],
               None if sample_weight is None else sample_weight[start:stop])


# ---------------------------------------------------------------------------------- bread
class GramFactor:
    """A factor of the weighted Gram matrix: from the sufficient statistics, or the rows.

    In centred coordinates ``φ`` — ``φ = [b + x̄ᵀw, w]`` with an intercept, ``φ = w``
    without — the Gram matrix of the weighted design is ``A_φ = diag(n_w, G)`` (intercept)
    or ``A = G + n_w x̄x̄ᵀ`` (no intercept; ``G`` then stands for this uncentred matrix).
    It is equilibrated, ``S = D⁻¹GD⁻¹`` with ``D = √diag(G)``, and factored:

    * full rank: ``S = CᵀC`` (Cholesky), so ``G⁻¹ = TTᵀ`` with ``T = D⁻¹C⁻¹``;
    * rank-deficient: ``S = VΛVᵀ``, keeping the ``r`` directions the rank decision
      (:func:`linreg.rank.identify`, shared with the fit) identifies, so ``G⁺ = TTᵀ`` with
      ``T = D⁻¹V_rΛ_r^{-½}``.

    ``whiten(x − shift) = T_φᵀ[1, x − shift]`` with ``T_φ = diag(1/√n_w, T)`` (just ``T``
    without an intercept): then ``h_i = s_i ‖u_i‖²`` and ``Cov φ = T_φ Ω T_φᵀ`` for a meat
    ``Ω`` accumulated in whitened coordinates.

    The statistics carry ``G``, whose condition number is the square of the design's, so
    this factor is accurate to about ``κ(S)·ε``.  For an ill-conditioned design,
    :meth:`use_row_factor` replaces it by the triangular factor ``R`` of the (centred,
    scaled) rows themselves — a TSQR pass — accurate to about ``√κ(S)·ε``.
    """

    def __init__(self, stats: SufficientStats, fit_intercept: bool):
        d = stats.n_features
        n_w = float(stats.weight_sum)
        self.fit_intercept = bool(fit_intercept)
        self.n_features = d
        self.weight_sum = n_w
        self.mean_x = np.asarray(stats.mean_x, dtype=np.float64).copy()
        if self.fit_intercept:
            self.shift = self.mean_x.copy()
            A = np.array(stats.gram, dtype=np.float64)
        else:
            self.shift = np.zeros(d)
            A = stats.gram + n_w * np.outer(self.mean_x, self.mean_x)
        self.gram = A
        # the rank decision the fit made too (linreg.rank): the same identified set, rank
        # and degrees of freedom whatever the solver, the column order or where the rows are
        self.identification = identify_stats(stats, self.fit_intercept)
        self.col_scale = self.identification.col_scale
        self.cholesky = None
        self._rcond = 0.0
        self.null_vectors = self.identification.null_vectors   # null space of G, x coordinates
        self.rank_x = self.identification.rank_x
        self._S_eigenvalues = self.identification.eigenvalues
        if d == 0:
            self.T = np.zeros((0, 0))
        elif self.identification.full_rank:
            # D⁻¹AD⁻¹ = CᵀC, D = col_scale (the same scales the rank decision took)
            C, _, self._rcond = factor_spd(A)
            self.cholesky = C
            # T = D⁻¹ C⁻¹: the inverse of the triangular factor, used only to form the
            # covariance matrix (an output), never to solve a system.
            Cinv = scipy.linalg.solve_triangular(C, np.eye(d), lower=False, check_finite=False)
            self.T = Cinv / self.col_scale[:, None]
            self._S_eigenvalues = None
        else:
            # G⁺ = TTᵀ over the identified directions: T = D⁻¹ V_r Λ_r^{-½} (constant columns:
            # zero rows)
            V, lam = self.identification.range_basis()
            free = self.identification.free
            self.T = np.zeros((d, lam.shape[0]))
            self.T[free] = (V / np.sqrt(lam)) / self.col_scale[free][:, None]
        self.rank = self.rank_x + self.fit_intercept
        self.row_factor = None
        self.T_phi = self._phi_from_T()

    def _phi_from_T(self) -> np.ndarray:
        if not self.fit_intercept:
            return self.T
        d, r = self.T.shape
        Tphi = np.zeros((d + 1, r + 1))
        Tphi[0, 0] = 1.0 / math.sqrt(self.weight_sum)
        Tphi[1:, 1:] = self.T
        return Tphi

    def is_full_rank(self) -> bool:
        return self.rank_x == self.n_features

    def ill_conditioned(self) -> bool:
        """Whether ``κ₁(S) > 1e6`` (LAPACK's estimate; where ``"auto"`` fits by QR): the
        statistics alone then leave standard errors with relative errors above ~1e-10."""
        return self.is_full_rank() and self.n_features > 0 and self._rcond < 1e-6

    def design(self):
        """The centred and equilibrated coordinates ``x̃ = (x − shift)/D`` of this factor."""
        from .design import Design
        return Design(self.shift.copy(), self.col_scale.copy(), self.fit_intercept, True)

    def use_row_factor(self, R: np.ndarray) -> None:
        """Take ``T_φ = diag(1, D⁻¹) R₁₁⁻¹`` from the triangular factor ``R`` of the rows
        ``√s·[1, (x − shift)/D, y]`` (see :func:`linreg.closed_form.streamed_qr_factor`):
        ``R₁₁ᵀR₁₁`` is the Gram matrix in those coordinates, computed without squaring
        the condition number.  (Full-rank designs only.)"""
        p = self.n_features + self.fit_intercept
        R11 = np.zeros((p, p))
        m = min(R.shape[0], p)
        R11[:m] = R[:m, :p]
        signs = np.where(np.diag(R11) < 0, -1.0, 1.0)
        R11 = R11 * signs[:, None]                  # positive diagonal, as a Cholesky factor
        unscale = np.concatenate([[1.0] if self.fit_intercept else [], 1.0 / self.col_scale])
        # the inverse of the triangular factor: what the covariance matrix is made of
        Rinv = scipy.linalg.solve_triangular(R11, np.eye(p), lower=False, check_finite=False)
        self.row_factor = R11
        self.T_phi = Rinv * unscale[:, None]

    def unwhiten_slopes(self, w: np.ndarray) -> np.ndarray | None:
        """``z = T_s⁻¹ w`` for the slopes' block ``T_s`` of ``T_φ`` — a product with the
        triangular factor itself (``C D`` or ``R₁₁ D``), no inverse; None if rank-deficient.

        Then the Wald statistic ``wᵀ V_s⁻¹ w = zᵀ Ω_s⁻¹ z`` with ``Ω_s`` the slopes' block of
        the whitened meat, which is well conditioned however collinear the features are.
        """
        if not self.is_full_rank():
            return None
        Dw = self.col_scale * w
        if self.row_factor is not None:
            icpt = int(self.fit_intercept)
            return self.row_factor[icpt:, icpt:] @ Dw
        return self.cholesky @ Dw

    # --------------------------------------------------------------- whitening and solves
    def whiten(self, Xc: np.ndarray) -> np.ndarray:
        """``u = T_φᵀ[1, x̃]`` for each row ``x̃ = x − shift`` of ``Xc`` (m, d): shape (m, r')."""
        # T_φᵀ[1, x̃] for all rows at once.  T_φ (= diag(1/√n_w, D⁻¹C⁻¹) from the statistics)
        # is the factor the covariance matrix is made of (Cov φ = σ²T_φT_φᵀ), applied to the
        # rows: one matrix product, BLAS-3 at full speed.
        if not self.fit_intercept:
            return Xc @ self.T_phi
        U = Xc @ self.T_phi[1:]
        U += self.T_phi[0]
        return U

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """``G⁻¹ rhs`` by Cholesky solves (``G⁺ rhs``, the minimum-norm solution, if singular)."""
        if self.cholesky is not None:
            z = scipy.linalg.cho_solve((self.cholesky, False), rhs / self.col_scale[:, None],
                                       check_finite=False)
            return z / self.col_scale[:, None]
        return self.T @ (self.T.T @ rhs)

    def phi_transform(self) -> np.ndarray:
        """``T_φ`` (p × r'): ``Cov φ = T_φ Ω T_φᵀ``; from the statistics ``diag(1/√n_w, T)``."""
        return self.T_phi

    def theta_from_phi(self) -> np.ndarray:
        """``J⁻¹`` with ``θ = J⁻¹φ``: ``b = φ₀ − x̄ᵀφ_w`` (identity without an intercept)."""
        d = self.n_features
        if not self.fit_intercept:
            return np.eye(d)
        Jinv = np.eye(d + 1)
        Jinv[0, 1:] = -self.mean_x
        return Jinv

    def covariance(self, omega: np.ndarray) -> np.ndarray:
        """``Cov θ = J⁻¹ T_φ Ω T_φᵀ J⁻ᵀ`` for a meat ``Ω`` in whitened coordinates."""
        M = self.theta_from_phi() @ self.phi_transform()
        return M @ omega @ M.T

    def bread(self) -> np.ndarray:
        """``B = (XᵀSX)⁻¹`` (``(XᵀSX)⁺`` if singular) in θ coordinates."""
        return self.covariance(np.eye(self.rank))

    def spans_constant(self) -> bool:
        """Without an intercept: whether the constant column lies in the span of ``X``
        (e.g. one-hot columns that sum to 1), as statsmodels' implicit constant.

        The share of ``1`` left unexplained by a regression on ``X`` is
        ``1 − n_w x̄ᵀ A⁺ x̄`` (``A`` the uncentred Gram matrix); it is ~0 then.
        """
        if self.fit_intercept or self.n_features == 0:
            return False
        unexplained = 1.0 - self.weight_sum * float(self.mean_x @ self.solve(self.mean_x[:, None])[:, 0])
        return unexplained <= 1e-10

    # --------------------------------------------------------------- identification
    def unidentified(self) -> np.ndarray:
        """Boolean mask over θ of the coefficients the data cannot identify (the rank
        decision's, :attr:`linreg.rank.Identification.unidentified`)."""
        return self.identification.unidentified.copy()

    # --------------------------------------------------------------- conditioning
    def singular_values(self) -> np.ndarray:
        """Singular values of ``S^½[1, X]`` (statsmodels' ``wexog``), decreasing.

        From a square root ``F`` of ``G`` (``FᵀF = G``): the upper-triangular
        ``M = [[√n_w, √n_w x̄ᵀ], [0, F]]`` has ``MᵀM = XᵀSX``; its SVD loses only about
        ``κ·ε`` relative, not ``κ²·ε`` as the eigenvalues of ``XᵀSX`` would.
        """
        d = self.n_features
        if d == 0:
            return np.array([math.sqrt(self.weight_sum)]) if self.fit_intercept else np.zeros(0)
        if self.row_factor is not None:
            # [1, X] = [1, x̃] K with K = [[1, shiftᵀ], [0, D]]: the singular values of R₁₁K
            K = np.diag(np.concatenate([[1.0] if self.fit_intercept else [], self.col_scale]))
            if self.fit_intercept:
                K[0, 1:] = self.shift
            return np.linalg.svd(self.row_factor @ K, compute_uv=False)
        if self.cholesky is not None:
            F = self.cholesky * self.col_scale[None, :]
        else:
            # FᵀF = G over the identified directions; the null ones are zero rows
            V, lam = self.identification.range_basis()
            free = self.identification.free
            F = np.zeros((d, d))
            F[: lam.shape[0], free] = (np.sqrt(lam)[:, None] * V.T) * self.col_scale[free][None, :]
        if self.fit_intercept:
            M = np.zeros((d + 1, d + 1))
            M[0, 0] = math.sqrt(self.weight_sum)
            M[0, 1:] = math.sqrt(self.weight_sum) * self.mean_x
            M[1:, 1:] = F
        else:
            M = F
        return np.linalg.svd(M, compute_uv=False)

    def scaled_condition_number(self) -> float:
        """``√κ(S)``: the condition number once features are centred (with an intercept) and
        scaled to unit norm — what remains of it is collinearity, not units."""
        if self.n_features == 0:
            return 1.0
        if self._S_eigenvalues is None:
            sv = np.linalg.svd(self.cholesky, compute_uv=False)
            return float(sv[0] / sv[-1])
        ev = self._S_eigenvalues
        return float(math.sqrt(ev[-1] / ev[0])) if ev[0] > 0 else float("inf")


# ---------------------------------------------------------------------------------- formulas
def ssr_from_stats(stats: SufficientStats, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
    """``SSR = Σ s_i (y_i − x_iᵀw − b)²`` per target, from the statistics alone::

        SSR = wᵀGw − 2 wᵀc + q + n_w e²,   e = x̄ᵀw + b − ȳ

    (``G``, ``c``, ``q`` centred on the means; ``coef`` (d, k), ``intercept`` (k,)).
    """
    Gw = stats.gram @ coef
    quad = np.sum(coef * Gw, axis=0) - 2.0 * np.sum(stats.cross * coef, axis=0)
    quad = quad + np.diag(stats.target_comoment)
    e = stats.mean_x @ coef + intercept - stats.mean_y
    return np.maximum(quad, 0.0) + stats.weight_sum * e * e


def durbin_watson_statistic(diff_sq_sum, sq_sum):
    """``DW = Σ_{i≥2} (u_i − u_{i−1})² / Σ u_i²`` (``u`` the weighted residuals, in row order)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(diff_sq_sum) / np.asarray(sq_sum)


def jarque_bera_test(n: int, skew, kurtosis):
    """``JB = n/6 · (S² + (K − 3)²/4)`` with p-value ``P(χ²₂ > JB)``."""
    skew, kurtosis = np.asarray(skew, dtype=float), np.asarray(kurtosis, dtype=float)
    jb = n / 6.0 * (skew**2 + 0.25 * (kurtosis - 3.0) ** 2)
    return jb, scipy.stats.chi2.sf(jb, 2)


def omnibus_test(n: int, skew, kurtosis):
    """D'Agostino–Pearson omnibus test ``K² = Z_s² + Z_k²``, p-value ``P(χ²₂ > K²)``.

    ``Z_s`` is D'Agostino's transform of the skewness ``√b₁``::

        y = √b₁ √((n+1)(n+3) / (6(n−2))),   β₂ = 3(n²+27n−70)(n+1)(n+3) / ((n−2)(n+5)(n+7)(n+9))
        W² = √(2(β₂−1)) − 1,   δ = 1/√(½ ln W²),   a = √(2/(W²−1)),   Z_s = δ asinh(y/a)

    and ``Z_k`` Anscombe & Glynn's transform of the kurtosis ``b₂``::

        E = 3(n−1)/(n+1),   V = 24n(n−2)(n−3) / ((n+1)²(n+3)(n+5)),   x = (b₂ − E)/√V
        √β₁ = 6(n²−5n+2)/((n+7)(n+9)) · √(6(n+3)(n+5) / (n(n−2)(n−3)))
        A = 6 + 8/√β₁ (2/√β₁ + √(1 + 4/β₁)),
        Z_k = [1 − 2/(9A) − ∛((1 − 2/A) / (1 + x√(2/(A−4))))] / √(2/(9A))

    (the same as ``scipy.stats.normaltest``).  NaN for fewer than 8 observations.
    """
    skew, b2 = np.asarray(skew, dtype=float), np.asarray(kurtosis, dtype=float)
    if n < 8:
        nan = np.full(skew.shape, np.nan)
        return nan, nan
    n = float(n)
    y = skew * math.sqrt((n + 1) * (n + 3) / (6.0 * (n - 2)))
    beta2 = 3.0 * (n**2 + 27 * n - 70) * (n + 1) * (n + 3) / ((n - 2) * (n + 5) * (n + 7) * (n + 9))
    W2 = -1.0 + math.sqrt(2.0 * (beta2 - 1.0))
    delta = 1.0 / math.sqrt(0.5 * math.log(W2))
    a = math.sqrt(2.0 / (W2 - 1.0))
    y = np.where(y == 0, 1.0, y)
    z_skew = delta * np.log(y / a + np.sqrt((y / a) ** 2 + 1.0))

    E = 3.0 * (n - 1) / (n + 1)
    var_b2 = 24.0 * n * (n - 2) * (n - 3) / ((n + 1) ** 2 * (n + 3) * (n + 5))
    x = (b2 - E) / math.sqrt(var_b2)
    sqrt_beta1 = (6.0 * (n * n - 5 * n + 2) / ((n + 7) * (n + 9))
                  * math.sqrt(6.0 * (n + 3) * (n + 5) / (n * (n - 2) * (n - 3))))
    A = 6.0 + 8.0 / sqrt_beta1 * (2.0 / sqrt_beta1 + math.sqrt(1.0 + 4.0 / sqrt_beta1**2))
    term1 = 1.0 - 2.0 / (9.0 * A)
    denom = 1.0 + x * math.sqrt(2.0 / (A - 4.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        term2 = np.sign(denom) * np.where(denom == 0, np.nan,
                                          np.abs((1.0 - 2.0 / A) / denom) ** (1.0 / 3.0))
    z_kurt = (term1 - term2) / math.sqrt(2.0 / (9.0 * A))
    k2 = z_skew**2 + z_kurt**2
    return k2, scipy.stats.chi2.sf(k2, 2)


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


# ---------------------------------------------------------------------------------- the pass
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
class _PassTotals:
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
    def empty(cls, spec: _PassSpec) -> "_PassTotals":
        d, k = spec.coef.shape
        r_dim = spec.factor.rank
        return cls(0, 0.0, np.zeros(d), np.zeros(k), np.zeros(k), 0.0,
                   (0, np.zeros(k), np.zeros(k), np.zeros(k), np.zeros(k)), np.zeros(k),
                   None, None,
                   [np.zeros((r_dim, r_dim)) for _ in range(k)] if spec.robust else None,
                   [] if spec.keep_rows and spec.whitens else None,
                   [] if spec.keep_rows else None)

    def merge(self, later: "_PassTotals") -> "_PassTotals":
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
            self.meat = [a + b for a, b in zip(self.meat, later.meat)]
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


def _block_totals(Xb: np.ndarray, Yb: np.ndarray, s, spec: _PassSpec) -> _PassTotals:
    """The totals of one checked block of rows (see :func:`_checked_block`)."""
    totals = _PassTotals.empty(spec)
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


def _accumulate(blocks, spec: _PassSpec) -> _PassTotals:
    """The merged totals of ``blocks`` (an iterable of ``(X, Y, w)``, in row order)."""
    d, k = spec.coef.shape
    totals = _PassTotals.empty(spec)
    for index, block in enumerate(blocks):
        totals.merge(_block_totals(*_checked_block(block, index, d, k), spec))
    return totals


def _partition_totals(block, index: int, spec: _PassSpec) -> _PassTotals:
    """The totals of one partition ``(X, Y, w)``, computed where it lives (a Dask task), a
    few thousand rows at a time; partition ``index`` names it in error messages."""
    d, k = spec.coef.shape
    X, Y, s = _checked_block(block, index, d, k)
    return _accumulate(iter_blocks(X, Y, s), spec)


def _finish(totals: _PassTotals) -> _PassTotals:
    """Per-row arrays from the merged totals."""
    if isinstance(totals.leverage, list):
        totals.leverage = np.concatenate(totals.leverage) if totals.leverage else np.zeros(0)
    if isinstance(totals.wresid, list):
        k = totals.ssr.shape[0]
        totals.wresid = np.concatenate(totals.wresid) if totals.wresid else np.zeros((0, k))
    return totals


def _residual_pass(rows, coef, intercept, factor: GramFactor, cov_type: str,
                   keep_rows: bool, need_leverage: bool = True) -> _PassTotals:
    """One pass over ``rows``: residuals at the fitted coefficients and everything made of
    them (SSR, HC meat, leverage, Durbin–Watson sums, moments of the weighted residuals).

    Each block's totals come from :func:`_block_totals`, computed where the block lives
    (:meth:`linreg.rows.Rows.map_blocks`), and are merged in row order
    (:meth:`_PassTotals.merge`); only the totals travel.  The rows are whitened (the costly
    part: O(d²) a row) only for the HC meat or when ``need_leverage``.
    """
    spec = _PassSpec(coef, intercept, factor, cov_type, keep_rows, need_leverage)
    totals = _PassTotals.empty(spec)
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


def _partition_leverage(block, index: int, factor: GramFactor) -> np.ndarray:
    """The leverage of one partition's rows, computed where it lives (a Dask task)."""
    X, Y, w = block
    return _leverage_pass(iter_blocks(np.asarray(X), np.asarray(Y), w), factor)


class _LazyLeverage:
    """Leverage computed on first use by one more pass over the rows (on the workers, for
    partitioned rows), shared by the results of all targets (the summary itself does not
    need it for these covariance types)."""

    def __init__(self, compute, n_rows: int):
        self._compute, self._n_rows = compute, n_rows
        self._value = None

    def get(self) -> np.ndarray:
        if self._value is None:
            h = self._compute()
            if h.shape[0] != self._n_rows:
                raise ValueError(f"the training rows changed since the summary was computed "
                                 f"({h.shape[0]} rows now, {self._n_rows} then)")
            h.flags.writeable = False
            self._value = h
        return self._value


def _check_same_data(totals: _PassTotals, stats: SufficientStats, factor: GramFactor) -> None:
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
        raise ValueError(
            f"the rows given for the summary are not the rows the model was fitted on: they "
            f"have {problem}. Pass the training data (X, y and sample_weight) unchanged, or "
            "refit the model on the data you want to summarize.")


# ---------------------------------------------------------------------------------- helpers
def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ValueError(f"level={level!r} must be a number strictly between 0 and 1 "
                         "(e.g. 0.95 for 95% intervals)")
    return float(level)


def _check_alpha(alpha) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < alpha < 1:
        raise ValueError(f"alpha={alpha!r} must be a number strictly between 0 and 1 "
                         "(e.g. 0.05 for 95% confidence intervals)")
    return float(alpha)


def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view (no copy: per-row arrays can be large; the results own their data)."""
    a = a.view()
    a.flags.writeable = False
    return a


def _explicit_constant(stats: SufficientStats) -> int | None:
    """Index of a column of X that is constant and non-zero (a user-added constant), or None."""
    var = np.diag(stats.gram) / stats.weight_sum
    mean = stats.mean_x
    const = np.flatnonzero((var <= (1e-13 * mean) ** 2) & (mean != 0))
    return int(const[0]) if const.size else None


def _fmt(x: float, width: int = 10) -> str:
    """Like statsmodels' forg: 4 decimals for moderate numbers, else 4 significant digits."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return f"{'nan':>{width}}"
    ax = abs(x)
    s = f"{x:.4f}" if (1e-4 <= ax < 1e4 or ax == 0) else f"{x:.4g}"
    return f"{s:>{width}}"


# ---------------------------------------------------------------------------------- results
class RegressionResults:
    """Inference for one target of a least-squares fit: read-only, like statsmodels' results.

    Per-coefficient arrays are ordered as statsmodels orders them after ``add_constant``:
    the intercept first (when the model has one), then the features.

    Attributes
    ----------
    params, bse, tvalues, pvalues : ndarray of shape (p,)
        Coefficients, standard errors, ``t = θ/se`` and two-sided p-values
        ``2 P(T_{n−p} > |t|)`` (``2 P(Z > |t|)`` when ``use_t`` is False, the default for
        robust covariances, as in statsmodels).  NaN (except ``params``) for unidentified
        coefficients.
    param_names : tuple of str
    identified : ndarray of bool, shape (p,)
        False for the coefficients a rank-deficient design cannot determine.
    rsquared, rsquared_adj : float
        ``1 − SSR/TSS`` (TSS centred with a constant, uncentred without) and
        ``1 − (n − k_constant)/(n − p) · (1 − R²)``.
    fvalue, f_pvalue : float
        Test that all slopes are zero: ``(ESS/df_model)/(SSR/df_resid)``, or with a robust
        covariance the Wald statistic ``θ_sᵀ V_s⁻¹ θ_s / q``.
    llf, aic, bic : float
        ``llf = −n/2 (1 + ln(2π SSR/n)) + ½ Σ ln s_i``; ``aic = −2 llf + 2k``,
        ``bic = −2 llf + k ln n`` with ``k = df_model + k_constant``.
    ssr, ess, tss, scale : float
        Residual, explained and total sums of squares; ``σ² = SSR/df_resid``.
    nobs, df_resid, df_model, rank, k_constant
    condition_number : float
        statsmodels' ``Cond. No.``: ratio of the extreme singular values of ``S^½[1, X]``.
    durbin_watson, jarque_bera, jarque_bera_pvalue, omnibus, omnibus_pvalue, skew, kurtosis
        Residual diagnostics of the weighted residuals ``√s r``, as statsmodels prints them.
    cov_type : str
    """

    def __init__(self, **values):
        for key, value in values.items():
            if isinstance(value, np.ndarray):
                value = _readonly(value)
            object.__setattr__(self, key, value)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only: {name!r} cannot be set")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is read-only: {name!r} cannot be deleted")

    # ------------------------------------------------------------------ per coefficient
    def cov_params(self) -> np.ndarray:
        """The covariance matrix of ``params`` (a copy; NaN rows/columns where unidentified)."""
        return np.array(self._cov)

    def conf_int(self, alpha: float = 0.05) -> np.ndarray:
        """``θ ± t_{1−α/2, n−p} · se``: array (p, 2) of lower and upper bounds."""
        alpha = _check_alpha(alpha)
        q = _quantile(1.0 - alpha / 2.0, self.df_resid, self.use_t)
        return np.column_stack([self.params - q * self.bse, self.params + q * self.bse])

    # ------------------------------------------------------------------ influence
    def _rows(self, what: str):
        if self._wresid is None:
            raise ValueError(f"{what} needs per-row results, which this summary did not keep "
                             "(it was computed with keep_rows=False, e.g. for streamed data)")
        leverage = self._leverage
        if isinstance(leverage, _LazyLeverage):
            leverage = leverage.get()
        return leverage, self._wresid

    @property
    def leverage(self) -> np.ndarray:
        """``h_i = s_i x_iᵀ (XᵀSX)⁻¹ x_i``, the diagonal of the hat matrix, per row."""
        return self._rows("leverage")[0]

    @property
    def resid(self) -> np.ndarray:
        """Weighted residuals ``√s_i (y_i − ŷ_i)`` (plain residuals without weights)."""
        return self._rows("resid")[1]

    @property
    def resid_studentized(self) -> np.ndarray:
        """Internally studentized residuals ``√s_i r_i / (σ √(1 − h_i))``."""
        h, u = self._rows("resid_studentized")
        with np.errstate(divide="ignore", invalid="ignore"):
            return u / np.sqrt(self.scale * (1.0 - h))

    @property
    def resid_studentized_external(self) -> np.ndarray:
        """Externally studentized residuals ``√s_i r_i / (σ_(i) √(1 − h_i))`` with the
        leave-one-out variance ``σ_(i)² = (SSR − s_i r_i²/(1 − h_i)) / (n − p − 1)``."""
        h, u = self._rows("resid_studentized_external")
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma2_i = (self.ssr - u * u / (1.0 - h)) / (self.df_resid - 1)
            return u / np.sqrt(sigma2_i * (1.0 - h))

    @property
    def cooks_distance(self) -> np.ndarray:
        """Cook's distance ``D_i = t_i² h_i / (p (1 − h_i))`` (``t_i`` internally studentized)."""
        h, _ = self._rows("cooks_distance")
        t = self.resid_studentized
        with np.errstate(divide="ignore", invalid="ignore"):
            return t * t * h / (self.rank * (1.0 - h))

    # ------------------------------------------------------------------ prediction
    def predict(self, X, interval: str | None = None, level: float = 0.95):
        """``ŷ = Xw + b``; with ``interval``, also the lower and upper bounds.

        ``"confidence"``: for the mean, ``ŷ ± t·√(xᵀVx)``; ``"prediction"``: for a new
        observation (weight 1), ``ŷ ± t·√(xᵀVx + σ²)``; ``V`` this result's covariance,
        ``t = t_{(1+level)/2, n−p}`` — as statsmodels' ``get_prediction().summary_frame()``.
        """
        X = np.asarray(X, dtype=np.float64)
        d = self.params.shape[0] - self.k_intercept
        if X.ndim != 2 or X.shape[1] != d:
            raise ValueError(f"X has shape {X.shape}; expected (n, {d})")
        w = self.params[self.k_intercept:]
        b = self.params[0] if self.k_intercept else 0.0
        yhat = X @ w + b
        if interval is None:
            return yhat
        if interval not in INTERVALS:
            raise ValueError(f"interval={interval!r} is not one of None, 'confidence', 'prediction'")
        level = _check_level(level)
        if not self.identified.all():
            raise ValueError("intervals need every coefficient identified; this design is "
                             "rank-deficient (see the summary's unidentified coefficients)")
        V = self._cov
        # xᵀVx for each row, centred on the mean (well conditioned) when there is an intercept
        if self.k_intercept:
            var = _quadratic_rows(X, V[1:, 1:], V[0, 1:], V[0, 0])
        else:
            var = np.einsum("ij,ij->i", X @ V, X)
        var = np.maximum(var, 0.0)
        if interval == "prediction":
            var = var + self.scale
        half = _quantile(0.5 + level / 2.0, self.df_resid, self.use_t) * np.sqrt(var)
        return yhat, yhat - half, yhat + half

    # ------------------------------------------------------------------ output
    def to_frame(self, alpha: float = 0.05):
        """The coefficient table as a pandas DataFrame, one row per coefficient."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_frame() needs pandas, which is not installed; install it "
                              "(pip install pandas) or use the arrays params, bse, tvalues, "
                              "pvalues and conf_int() directly") from None
        ci = self.conf_int(alpha)
        lo, hi = f"[{alpha / 2:g}", f"{1 - alpha / 2:g}]"
        stat = "t" if self.use_t else "z"
        return pd.DataFrame({"coef": self.params, "std err": self.bse, stat: self.tvalues,
                             f"P>|{stat}|": self.pvalues, lo: ci[:, 0], hi: ci[:, 1],
                             "identified": self.identified},
                            index=pd.Index(list(self.param_names), name="term"))

    def __repr__(self) -> str:
        return (f"<RegressionResults {self.target_name!r}: {self.nobs} observations, "
                f"{len(self.params)} parameters, R²={self.rsquared:.4g}, cov_type={self.cov_type}>")

    def __str__(self) -> str:
        return format_table(self)

    def summary(self) -> str:
        """The text table (the same as ``str(result)``)."""
        return format_table(self)


def _quantile(prob: float, df_resid: int, use_t: bool) -> float:
    """Quantile of Student's t with ``df_resid`` degrees of freedom, or of N(0, 1)."""
    return float(scipy.stats.t.ppf(prob, df_resid) if use_t else scipy.stats.norm.ppf(prob))


def _two_sided_pvalues(stat, df_resid: int, use_t: bool):
    """``2 P(T_{n−p} > |t|)``, or ``2 P(Z > |z|)`` for large-sample (robust) inference."""
    stat = np.abs(stat)
    return 2.0 * (scipy.stats.t.sf(stat, df_resid) if use_t else scipy.stats.norm.sf(stat))


def _quadratic_rows(X, Vww, Vbw, Vbb):
    """``x̃ᵀVx̃`` for ``x̃ = [1, x]``: ``V_bb + 2 xᵀV_wb + xᵀV_ww x`` for every row of X."""
    XV = X @ Vww
    return Vbb + 2.0 * (X @ Vbw) + np.einsum("ij,ij->i", XV, X)


class MultiOutputResults(tuple):
    """One :class:`RegressionResults` per target (``results[j]``), printed one table each."""

    def __str__(self) -> str:
        return "\n\n".join(format_table(r) for r in self)

    def summary(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"<MultiOutputResults: {len(self)} targets>"

    def to_frame(self, alpha: float = 0.05):
        """The coefficient tables of all targets, indexed by (target, term)."""
        frames = [r.to_frame(alpha) for r in self]
        import pandas as pd
        return pd.concat(frames, keys=[r.target_name for r in self], names=["target", "term"])

    def predict(self, X, interval: str | None = None, level: float = 0.95):
        """Column-stacked :meth:`RegressionResults.predict` over the targets."""
        parts = [r.predict(X, interval, level) for r in self]
        if interval is None:
            return np.column_stack(parts)
        return tuple(np.column_stack([p[i] for p in parts]) for i in range(3))


# ---------------------------------------------------------------------------------- assembly
def _coefficients(model):
    coef = np.asarray(model.coef_, dtype=np.float64)
    coef = coef.reshape(-1, 1) if coef.ndim == 1 else coef.T          # (d, k)
    k = coef.shape[1]
    intercept = np.asarray(model.intercept_, dtype=np.float64).reshape(-1)
    if intercept.size == 1 and k > 1:
        intercept = np.repeat(intercept, k)
    if not model.fit_intercept:
        intercept = np.zeros(k)
    return coef, intercept


def target_names_of(y) -> list[str] | None:
    """The names a target carries: a pandas (or dask) Series' ``name``, a DataFrame's columns;
    None for arrays and for names that are not all strings (as scikit-learn treats
    ``feature_names_in_``)."""
    columns = getattr(y, "columns", None)
    if columns is not None:
        names = list(columns)
    elif getattr(y, "ndim", None) == 1 and hasattr(y, "name"):
        names = [y.name]
    else:
        return None
    return names if names and all(isinstance(n, str) for n in names) else None


def _recorded_target_names(model, k: int) -> list[str] | None:
    """The target name(s) a model records in its ``metadata_`` (a saved model's file), if
    there are ``k`` of them."""
    recorded = (getattr(model, "metadata_", None) or {}).get("target_name")
    if recorded is None:
        return None
    names = [recorded] if isinstance(recorded, str) else list(recorded)
    return names if len(names) == k else None


def check_inference_allowed(model) -> None:
    """Refuse OLS inference for a penalized fit."""
    alpha = float(getattr(model, "alpha", 0.0) or 0.0)
    if alpha > 0:
        m = MessageBuilder()
        raise PenalizedInferenceError(
            f"this model was fitted with {m.setting('alpha', alpha)} (an L2 penalty). Standard "
            "errors, t-values and p-values of ordinary least squares do not hold for a "
            f"penalized fit, so linreg does not print them. Refit with {m.setting('alpha', 0)} "
            "to get a summary.", parameters=m.parameters)


def summarize(model, rows, stats: SufficientStats, cov_type: str = "nonrobust",
              keep_rows: bool = True, target_names=None, use_t: bool | None = None):
    """Inference for a fitted least-squares ``model`` from ``stats`` plus one pass over ``blocks``.

    Parameters
    ----------
    model : fitted estimator
        Needs ``coef_``, ``intercept_``, ``fit_intercept`` (and ``alpha``, which must be 0);
        optionally ``feature_names_in_``, ``solver_``, ``n_iter_``, ``grad_norm_history_``.
    rows : linreg.rows.Rows
        The training rows, wherever they live.  The pass asks them to run each block's part
        where the block is (:meth:`~linreg.rows.Rows.map_blocks`: threads in memory, workers
        on Dask) and merges the blocks' totals in row order (sums, moments, HC meat, each
        block's first and last weighted residual for Durbin–Watson; ``O(d² k)`` numbers), with
        ``keep_rows`` its per-row leverage and weighted residuals.  For an ill-conditioned
        design (``κ(S) > 1e6``) the bread is taken from their TSQR factor
        (:meth:`~linreg.rows.Rows.qr_factor`, one more pass) instead of the statistics, which
        keeps standard errors accurate to about ``√κ(S)·ε`` instead of ``κ(S)·ε``.
    stats : SufficientStats
        The statistics of the same rows (checked during the pass).
    cov_type : {"nonrobust", "HC0", "HC1", "HC2", "HC3"}
    keep_rows : bool
        Keep leverage and residuals per row (needed for influence measures; 16 bytes a row).
    target_names : list of str, optional
        The targets' names, for the tables.  Default: the ``target_name`` recorded in the
        model's ``metadata_`` (as a model fitted by ``linreg fit`` has), else ``"y"`` (one
        target) or ``"y0"``, ``"y1"``, … .
    use_t : bool, optional
        Student's t (True) or normal (False) reference distribution for the coefficient tests
        and intervals.  Default as statsmodels: t for "nonrobust", normal for the
        heteroscedasticity-robust (large-sample) covariances.
    Returns
    -------
    RegressionResults, or MultiOutputResults when the model has several targets.
    """
    if not isinstance(cov_type, str) or cov_type not in COV_TYPES:
        raise ValueError(f"cov_type={cov_type!r} is not one of {', '.join(map(repr, COV_TYPES))}")
    check_inference_allowed(model)
    use_t = (cov_type == "nonrobust") if use_t is None else bool(use_t)
    coef, intercept = _coefficients(model)
    d, k = coef.shape
    if stats.n_features != d or stats.n_targets != k:
        raise ValueError(f"the statistics describe {stats.n_features} features and "
                         f"{stats.n_targets} targets, but the model has {d} and {k}")
    fit_intercept = bool(model.fit_intercept)
    factor = GramFactor(stats, fit_intercept)
    if factor.ill_conditioned():
        # each block's factor computed where it lives, merged in order (TSQR)
        factor.use_row_factor(rows.qr_factor(factor.design()))
    # leverage is needed by HC2/HC3; otherwise it is left to a pass on first use (it costs
    # as much as the rest of the summary)
    lazy = keep_rows and cov_type in ("nonrobust", "HC0", "HC1")
    totals = _residual_pass(rows, coef, intercept, factor, cov_type, keep_rows,
                            need_leverage=keep_rows and not lazy)
    if lazy and totals.leverage is None:
        def again():
            parts = rows.map_blocks(functools.partial(_partition_leverage, factor=factor))
            return np.concatenate(parts) if parts else np.zeros(0)
        totals.leverage = _LazyLeverage(again, totals.n_rows)
    _check_same_data(totals, stats, factor)

    names = getattr(model, "feature_names_in_", None)
    feature_names = [str(n) for n in names] if names is not None else [f"x{j}" for j in range(d)]
    param_names = tuple((["intercept"] if fit_intercept else []) + feature_names)
    if target_names is None:
        target_names = _recorded_target_names(model, k)
    if target_names is None:
        target_names = ["y"] if k == 1 else [f"y{j}" for j in range(k)]
    target_names = [target_names] if isinstance(target_names, str) else list(target_names)
    if len(target_names) != k:
        raise ValueError(f"target_names={target_names!r} names {len(target_names)} target(s), "
                         f"but the model has {k}")

    nobs = totals.n_rows
    rank = factor.rank
    unidentified = factor.unidentified()
    const_idx = None
    implicit_constant = False
    if fit_intercept:
        k_constant = 1
    else:
        # statsmodels' k_constant: a constant column, or columns that add up to one
        const_idx = _explicit_constant(stats)
        implicit_constant = const_idx is None and factor.spans_constant()
        k_constant = 0 if const_idx is None and not implicit_constant else 1
    df_resid = nobs - rank
    df_model = rank - k_constant
    sv = factor.singular_values()
    cond = float(sv[0] / sv[-1]) if sv.size and sv[-1] > 0 else float("inf")
    min_eig = float(sv[-1] ** 2) if sv.size else float("nan")
    # needed only to word the collinearity note
    scaled_cond = (factor.scaled_condition_number()
                   if cond > CONDITION_WARNING or min_eig < 1e-10 else float("nan"))
    M = factor.theta_from_phi() @ factor.phi_transform()     # Cov θ = M Ω Mᵀ

    # the exact least-squares solution from the same statistics, to say how far the fit is
    if fit_intercept:
        w_star = factor.solve(np.asarray(stats.cross))
        b_star = stats.mean_y - stats.mean_x @ w_star
    else:
        w_star = factor.solve(stats.cross + stats.weight_sum * np.outer(stats.mean_x, stats.mean_y))
        b_star = np.zeros(k)

    n_mom, _, m2, m3, m4 = totals.moments
    with np.errstate(divide="ignore", invalid="ignore"):
        skew = (m3 / n_mom) / (m2 / n_mom) ** 1.5
        kurt = (m4 / n_mom) / (m2 / n_mom) ** 2
    jb, jb_p = jarque_bera_test(nobs, skew, kurt)
    omni, omni_p = omnibus_test(nobs, skew, kurt)
    dw = durbin_watson_statistic(totals.dw_num, totals.ssr)
    fit_info = _fit_info(model)

    results = []
    for j in range(k):
        params = np.concatenate([[intercept[j]] if fit_intercept else [], coef[:, j]])
        # numpy scalars: a zero denominator (no residual degrees of freedom, a constant
        # target) gives inf/nan, which the table reports, instead of raising
        ssr = np.float64(totals.ssr[j])
        dfr = np.float64(df_resid)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = ssr / dfr if df_resid > 0 else np.float64("nan")
            if cov_type == "nonrobust":
                cov = scale * (M @ M.T)
            else:
                cov = M @ totals.meat[j] @ M.T
                if cov_type == "HC1":
                    cov = cov * (nobs / dfr)
        cov[unidentified, :] = np.nan
        cov[:, unidentified] = np.nan
        if df_resid <= 0:
            cov[:] = np.nan           # no residual degrees of freedom: nothing is estimable
        with np.errstate(invalid="ignore", divide="ignore"):
            bse = np.sqrt(np.diag(cov))
            tvalues = params / bse
        pvalues = _two_sided_pvalues(tvalues, df_resid, use_t)
        # sums of squares: centred TSS from the centred statistics, exact
        q = np.float64(stats.target_comoment[j, j])
        tss = q if k_constant else q + stats.weight_sum * float(stats.mean_y[j]) ** 2
        ess = tss - ssr
        with np.errstate(divide="ignore", invalid="ignore"):
            rsquared = 1.0 - ssr / tss
            rsquared_adj = 1.0 - (nobs - k_constant) / dfr * (1.0 - rsquared)
        omega = None
        if cov_type != "nonrobust":
            with np.errstate(divide="ignore"):
                omega = totals.meat[j] * (nobs / dfr if cov_type == "HC1" else 1.0)
        if implicit_constant and cov_type != "nonrobust":
            # no coefficient is "the constant" to leave out of the Wald test (statsmodels: nan)
            fvalue, f_pvalue, f_df = float("nan"), float("nan"), (df_model, df_resid)
        else:
            fvalue, f_pvalue, f_df = _f_test(cov_type, params, cov, ess, ssr, df_model,
                                             df_resid, fit_intercept, const_idx, unidentified,
                                             factor, omega)
        llf = (-0.5 * nobs * (1.0 + math.log(2.0 * math.pi * ssr / nobs))
               + 0.5 * totals.log_weight_sum) if ssr > 0 and nobs > 0 else float("inf")
        n_par = df_model + k_constant
        aic = -2.0 * llf + 2.0 * n_par
        bic = -2.0 * llf + math.log(nobs) * n_par

        # distance from the exact optimum: J(θ) − J(θ*) = ½ δᵀ(XᵀSX)δ / n_w, exactly
        delta_w = coef[:, j] - w_star[:, j]
        delta_b = intercept[j] - b_star[j]
        if fit_intercept:
            at_mean = delta_b + stats.mean_x @ delta_w
            excess = float(stats.weight_sum * at_mean**2 + delta_w @ stats.gram @ delta_w)
        else:
            excess = float(delta_w @ factor.gram @ delta_w)
        ssr_star = ssr - excess
        delta = np.concatenate([[delta_b] if fit_intercept else [], delta_w])
        with np.errstate(divide="ignore", invalid="ignore"):
            in_se = np.abs(delta[~unidentified]) / bse[~unidentified]
            in_se = in_se[~np.isnan(in_se)]
            distance_se = float(np.max(in_se)) if in_se.size else float("nan")
            # relative to the optimal loss; to the total sum of squares for a (near) exact fit
            denom = ssr_star if ssr_star > 1e-10 * tss else tss
            loss_gap = float(excess / denom) if denom > 0 else (0.0 if excess == 0 else float("inf"))

        leverage = totals.leverage
        wresid = None if totals.wresid is None else totals.wresid[:, j]
        results.append(RegressionResults(
            target_name=target_names[j], param_names=param_names, feature_names=tuple(feature_names),
            params=params, bse=bse, tvalues=tvalues, pvalues=pvalues, _cov=cov,
            identified=~unidentified, cov_type=cov_type, use_t=use_t, nobs=nobs, rank=rank,
            df_resid=df_resid, df_model=df_model, k_constant=k_constant,
            k_intercept=int(fit_intercept), const_idx=const_idx,
            weighted=stats.weight_sum != stats.n_rows or totals.log_weight_sum != 0.0,
            ssr=ssr, ess=ess, tss=tss, scale=scale, mse_resid=scale,
            rsquared=float(rsquared), rsquared_adj=float(rsquared_adj),
            fvalue=fvalue, f_pvalue=f_pvalue, f_df=f_df, llf=llf, aic=aic, bic=bic,
            condition_number=cond, min_eigenvalue=min_eig, scaled_condition_number=scaled_cond,
            durbin_watson=float(dw[j]), jarque_bera=float(jb[j]), jarque_bera_pvalue=float(jb_p[j]),
            omnibus=float(omni[j]), omnibus_pvalue=float(omni_p[j]), skew=float(skew[j]),
            kurtosis=float(kurt[j]), distance_in_se=distance_se, relative_loss_gap=loss_gap,
            fit_info=fit_info, _leverage=leverage, _wresid=wresid,
        ))
    return results[0] if k == 1 else MultiOutputResults(results)


def _f_test(cov_type, params, cov, ess, ssr, df_model, df_resid, fit_intercept, const_idx,
            unidentified, factor=None, omega=None):
    """The F test that every slope is zero: nonrobust ``(ESS/df_model)/(SSR/df_resid)``,
    robust the Wald form ``F = θ_sᵀ V_s⁻¹ θ_s / q`` (``θ_s`` the q slopes, ``V_s`` their
    covariance), computed as ``zᵀ Ω_s⁻¹ z / q`` in whitened coordinates
    (:meth:`GramFactor.unwhiten_slopes`) when the design has full rank."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if cov_type == "nonrobust":
            if df_model <= 0:
                return float("nan"), float("nan"), (df_model, df_resid)
            F = (ess / df_model) / (ssr / df_resid)
            return float(F), float(scipy.stats.f.sf(F, df_model, df_resid)), (df_model, df_resid)
    p = params.shape[0]
    slopes = np.ones(p, dtype=bool)
    if fit_intercept:
        slopes[0] = False
    elif const_idx is not None:
        slopes[const_idx] = False
    slopes &= ~unidentified
    q = int(slopes.sum())
    if q == 0:
        return float("nan"), float("nan"), (0, df_resid)
    icpt = int(fit_intercept)
    z = None
    if factor is not None and omega is not None and const_idx is None:
        z = factor.unwhiten_slopes(params[icpt:])
    if z is not None:
        try:
            cho = scipy.linalg.cho_factor(omega[icpt:, icpt:], lower=False, check_finite=False)
            F = float(z @ scipy.linalg.cho_solve(cho, z, check_finite=False)) / q
            return F, float(scipy.stats.f.sf(F, q, df_resid)), (q, df_resid)
        except (np.linalg.LinAlgError, ValueError):
            pass
    Vs = cov[np.ix_(slopes, slopes)]
    theta = params[slopes]
    try:
        cho = scipy.linalg.cho_factor(Vs, lower=False, check_finite=False)
        F = float(theta @ scipy.linalg.cho_solve(cho, theta, check_finite=False)) / q
    except (np.linalg.LinAlgError, ValueError):
        return float("nan"), float("nan"), (q, df_resid)
    return F, float(scipy.stats.f.sf(F, q, df_resid)), (q, df_resid)


def _fit_info(model) -> dict:
    solver = getattr(model, "solver_", None)
    n_iter = getattr(model, "n_iter_", None)
    norms = getattr(model, "grad_norm_history_", None)
    grad = rel = None
    if norms is not None and len(norms):
        grad = float(norms[-1])
        if len(norms) > 1 and norms[0] > 0:
            rel = float(norms[-1] / norms[0])
    return {"solver": solver, "n_iter": None if n_iter is None else int(n_iter),
            "grad_norm": grad, "relative_grad_norm": rel,
            "stop_reason": getattr(model, "stop_reason_", None)}


def prediction_interval(model, stats: SufficientStats, X, interval: str, level: float = 0.95):
    """``(ŷ, lower, upper)`` for a fitted model from its statistics alone (nonrobust).

    ``σ² = SSR/(n − p)`` with SSR at the fitted coefficients from :func:`ssr_from_stats`,
    ``V = σ²(XᵀSX)⁻¹``; confidence: ``ŷ ± t√(xᵀVx)``, prediction: ``ŷ ± t√(xᵀVx + σ²)``,
    ``t = t_{(1+level)/2, n−p}``.  ``X`` is a validated float array (n, d).
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval={interval!r} is not one of None, 'confidence', 'prediction'")
    level = _check_level(level)
    check_inference_allowed(model)
    coef, intercept = _coefficients(model)
    factor = GramFactor(stats, bool(model.fit_intercept))
    if factor.rank < factor.n_features + factor.fit_intercept:
        raise ValueError("intervals need every coefficient identified, but the training design "
                         f"is rank-deficient (rank {factor.rank} < "
                         f"{factor.n_features + factor.fit_intercept} parameters)")
    df_resid = stats.n_rows - factor.rank
    if df_resid <= 0:
        raise ValueError(f"intervals need more observations ({stats.n_rows}) than "
                         f"parameters ({factor.rank})")
    scale = ssr_from_stats(stats, coef, intercept) / df_resid          # (k,)
    X = np.asarray(X, dtype=np.float64)
    yhat = X @ coef + intercept
    # xᵀBx = ‖T_φᵀ J x‖²: centre the rows (J x = [1, x − x̄]) and whiten them
    W = factor.whiten(X - factor.shift)
    base = np.einsum("ij,ij->i", W, W)[:, None]
    var = base * scale
    if interval == "prediction":
        var = var + scale
    half = scipy.stats.t.ppf(0.5 + level / 2.0, df_resid) * np.sqrt(var)
    return yhat, yhat - half, yhat + half


# ---------------------------------------------------------------------------------- the table
WIDTH = 78


def _two_columns(left, right) -> list[str]:
    lines = []
    half = WIDTH // 2
    for i in range(max(len(left), len(right))):
        lk, lv = left[i] if i < len(left) else ("", "")
        rk, rv = right[i] if i < len(right) else ("", "")
        lcol = f"{lk:<{half - 2 - len(lv)}}{lv}" if lk else ""
        rcol = f"{rk:<{half - len(rv)}}{rv}" if rk else ""
        lines.append(f"{lcol:<{half}}{rcol}".rstrip())
    return lines


def _g(x, spec=".4g") -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return format(x, spec)


def format_table(r: RegressionResults) -> str:
    """The text table of a :class:`RegressionResults` (statsmodels' layout, plus how the fit
    was obtained and plain-language notes)."""
    rsq = "" if r.k_constant else " (uncentered)"
    weights = "sample weights" if r.weighted else "none"
    left = [("Dep. variable:", r.target_name), ("Model:", "WLS" if r.weighted else "OLS"),
            ("Method:", "least squares"), ("Observations:", str(r.nobs)),
            ("Df residuals:", str(r.df_resid)), ("Df model:", str(r.df_model)),
            ("Covariance type:", r.cov_type), ("Weights:", weights)]
    right = [(f"R-squared{rsq}:", _g(r.rsquared, ".4f")),
             (f"Adj. R-squared{rsq}:", _g(r.rsquared_adj, ".4f")),
             ("F-statistic:", _g(r.fvalue)), ("Prob (F-statistic):", _g(r.f_pvalue, ".3g")),
             ("Log-likelihood:", _g(r.llf, ".5g")), ("AIC:", _g(r.aic)), ("BIC:", _g(r.bic))]
    lines = [f"Linear regression results: {r.target_name}".center(WIDTH), "=" * WIDTH]
    lines += _two_columns(left, right)
    lines.append("=" * WIDTH)
    name_w = max(12, min(30, max(len(n) for n in r.param_names) + 2)) if r.param_names else 12
    rule = max(WIDTH, name_w + 63)          # long feature names widen the coefficient rows
    ci = r.conf_int(0.05)
    stat = "t" if r.use_t else "z"
    head = (f"{'':<{name_w}}{'coef':>11}{'std err':>11}{stat:>10}{f'P>|{stat}|':>9}"
            f"{'[0.025':>11}{'0.975]':>11}")
    lines += [head, "-" * rule]
    for i, name in enumerate(r.param_names):
        label = name if len(name) <= name_w - 1 else name[: name_w - 2] + "…"
        if not r.identified[i]:
            lines.append(f"{label:<{name_w}}{'not identified (collinear; see notes)':>40}")
            continue
        lines.append(f"{label:<{name_w}}{_fmt(r.params[i], 11)}{_fmt(r.bse[i], 11)}"
                     f"{r.tvalues[i]:>10.3f}{r.pvalues[i]:>9.3f}"
                     f"{_fmt(ci[i, 0], 11)}{_fmt(ci[i, 1], 11)}")
    lines.append("=" * rule)
    left = [("Omnibus:", _g(r.omnibus, ".3f")), ("Prob(Omnibus):", _g(r.omnibus_pvalue, ".3f")),
            ("Skew:", _g(r.skew, ".3f")), ("Kurtosis:", _g(r.kurtosis, ".3f"))]
    right = [("Durbin-Watson:", _g(r.durbin_watson, ".3f")),
             ("Jarque-Bera (JB):", _g(r.jarque_bera, ".3f")),
             ("Prob(JB):", _g(r.jarque_bera_pvalue, ".3g")), ("Cond. No.", _g(r.condition_number, ".3g"))]
    lines += _two_columns(left, right)
    lines.append("=" * WIDTH)

    info = r.fit_info
    fit = f"Fit: solver {info['solver']!r}" if info["solver"] else "Fit: solver unknown"
    if info["n_iter"] is not None:
        fit += f", {info['n_iter']} iteration{'s' if info['n_iter'] != 1 else ''}"
    if info["grad_norm"] is not None:
        fit += f", final gradient norm {info['grad_norm']:.3g}"
        if info["relative_grad_norm"] is not None:
            fit += f" ({info['relative_grad_norm']:.3g} of its start)"
    if info.get("stop_reason") is not None:
        fit += f"; {describe_stop(info['stop_reason'])}"
    lines += _wrap(fit + ".")
    if not math.isnan(r.distance_in_se):
        lines += _wrap(f"Distance from the exact least-squares solution: at most "
                       f"{r.distance_in_se:.3g} standard errors per coefficient; loss above "
                       f"the optimum by {r.relative_loss_gap:.3g} (relative).")
    else:
        lines += _wrap(f"Distance from the exact least-squares solution: loss above the "
                       f"optimum by {r.relative_loss_gap:.3g} (relative).")

    notes = []
    if r.k_constant == 0:
        notes.append("R² is computed without centering (uncentered) since the model does not "
                     "contain a constant.")
    notes.append(_COV_DESCRIPTIONS[r.cov_type])
    if r.distance_in_se > 0.01:
        notes.append(f"The coefficients are {r.distance_in_se:.3g} standard errors away from the "
                     "exact least-squares solution: the iterative solver has not converged far "
                     "enough for these standard errors and p-values to be trusted. Fit with more "
                     "iterations, a smaller tol, or solver='auto'.")
    if not r.identified.all():
        bad = [n for n, ok in zip(r.param_names, r.identified) if not ok]
        notes.append(f"The design is rank-deficient (rank {r.rank} < {len(r.params)} "
                     f"parameters): {', '.join(bad)} cannot be told apart from combinations of "
                     "the other columns (or of the intercept), so their individual coefficients "
                     "are not determined by the data; the values in params are one arbitrary "
                     "(minimum-norm) choice. Drop or combine these columns.")
    elif r.min_eigenvalue < 1e-10 or r.condition_number > CONDITION_WARNING:
        text = (f"The condition number is large ({r.condition_number:.3g}): small changes in the "
                "data can move the coefficients a lot.")
        if r.scaled_condition_number > CONDITION_WARNING:
            text += (f" Even with the features centred and scaled it is "
                     f"{r.scaled_condition_number:.3g}, so some features are nearly linear "
                     "combinations of others (strong collinearity): their individual "
                     "coefficients are poorly determined, even if the predictions are fine.")
        else:
            text += (f" With the features centred and scaled it is only "
                     f"{r.scaled_condition_number:.3g}, so this comes from the features' units "
                     "or offsets, not from collinearity; rescaling them would not change the fit.")
        notes.append(text)
    if r.df_resid <= 0:
        notes.append("There are no residual degrees of freedom (observations ≤ parameters): "
                     "standard errors, tests and intervals are undefined.")
    if notes:
        lines.append("Notes:")
        for i, text in enumerate(notes, 1):
            lines += _wrap(f"[{i}] {text}")
    return "\n".join(lines)


def _wrap(text: str) -> list[str]:
    import textwrap
    return textwrap.wrap(text, WIDTH, subsequent_indent="    ")
