"""The bread: a factor of the weighted Gram matrix, from the sufficient statistics or the rows.

No system is solved with an explicit inverse: with an intercept the statistics give the
centred Gram matrix ``G = Σ s (x − x̄)(x − x̄)ᵀ``, which is equilibrated to unit diagonal and
Cholesky-factored, ``D⁻¹GD⁻¹ = CᵀC`` (:func:`linreg.linalg.factor_spd`, the step the normal
equations take too); the covariance matrix — an output — is made of the inverse of the
triangular factor, ``B = TTᵀ`` with ``T = D⁻¹C⁻¹``.  The rank decision is the fit's
(:mod:`linreg.rank`).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

from ..linalg import factor_spd
from ..rank import identify_stats
from ..stats import SufficientStats

__all__ = ["GramFactor"]


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
        from ..design import Design
        return Design(self.shift.copy(), self.col_scale.copy(), self.fit_intercept, True)

    def use_row_factor(self, R: np.ndarray) -> None:
        """Take ``T_φ = diag(1, D⁻¹) R₁₁⁻¹`` from the triangular factor ``R`` of the rows
        ``√s·[1, (x − shift)/D, y]`` (see :func:`linreg.tsqr.streamed_qr_factor`):
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

    def whiten_sparse(self, X) -> np.ndarray:
        """:meth:`whiten` of the rows of a sparse ``X`` (m, d), uncentred: ``X T − shift T``,
        one sparse product (O(entries × r')) and one row subtracted."""
        T = self.T_phi if not self.fit_intercept else self.T_phi[1:]
        U = np.asarray(X @ T)
        U -= self.shift @ T
        if self.fit_intercept:
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

