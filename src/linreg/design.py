"""The coordinates the solvers work in: centring and standardization, and the map back to
the original units (:class:`Design`), and the statistics in those coordinates
(:class:`DesignStats`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .penalty import l2_curvature
from .stats import SufficientStats

__all__ = ["Design", "DesignStats", "constant_columns", "CONSTANT_TOLERANCE"]

#: a column counts as constant when its spread is below this fraction of its magnitude
CONSTANT_TOLERANCE = 1e-13


def constant_columns(mean_x: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Mask of the columns with no spread: standard deviation (or root mean square) at most
    ``1e-13`` of the column's magnitude ``|mean| + spread``, so rounding in the centred sums
    of a constant column never passes for variation.  The one rule for "constant": the
    design leaves such a column unscaled, and the rank decision (:mod:`linreg.rank`) counts
    it as a null direction next to the intercept."""
    spread = np.asarray(spread, dtype=np.float64)
    return (spread <= CONSTANT_TOLERANCE * (np.abs(mean_x) + spread)) | (spread == 0)


@dataclass(frozen=True)
class DesignStats:
    """The statistics in design coordinates ``x̃ = (x − shift)/scale``.

    ``gram``, ``cross`` and ``target_comoment`` stay centred on the data means; ``mean_x`` is
    the mean of ``x̃`` (zero when the design is centred, i.e. with an intercept).
    """

    weight_sum: float
    gram: np.ndarray          # (d, d)   Σ s (x̃ − x̃̄)(x̃ − x̃̄)ᵀ
    cross: np.ndarray         # (d, k)   Σ s (x̃ − x̃̄)(y − ȳ)ᵀ
    target_comoment: np.ndarray  # (k, k)
    mean_x: np.ndarray        # (d,)     x̃̄
    mean_y: np.ndarray        # (k,)     ȳ
    fit_intercept: bool

    def uncentred_gram(self) -> np.ndarray:
        """``Σ s x̃ x̃ᵀ = G + n_w x̃̄ x̃̄ᵀ`` (the Gram matrix the no-intercept model sees)."""
        return self.gram + self.weight_sum * np.outer(self.mean_x, self.mean_x)

    def normal_matrix(self, alpha: float) -> np.ndarray:
        """Left side of the normal equations for θ: ``G + n_w x̃̄x̃̄ᵀ + n_w α I``.

        (With an intercept, ``x̃̄ = 0`` and the intercept is eliminated exactly.)
        """
        A = self.uncentred_gram() if not self.fit_intercept else self.gram.copy()
        A[np.diag_indices_from(A)] += l2_curvature(self.weight_sum, alpha)
        return A

    def normal_rhs(self) -> np.ndarray:
        """Right side for θ: ``c + n_w x̃̄ ȳᵀ``."""
        if self.fit_intercept:
            return self.cross.copy()
        return self.cross + self.weight_sum * np.outer(self.mean_x, self.mean_y)


@dataclass(frozen=True)
class Design:
    """The affine change of coordinates the solvers work in: ``x̃ = (x − shift) / scale``.

    With ``standardize=True`` and an intercept, ``shift`` is the (weighted) feature mean, so
    the intercept decouples from the coefficients, and ``scale`` the (weighted) standard
    deviation; without an intercept, ``shift = 0`` and ``scale`` is the root mean square.
    A column with no spread keeps scale 1, so a constant column never divides by zero.
    With ``standardize=False`` the design is the raw data (``shift = 0``, ``scale = 1``), so
    gradient descent runs the textbook updates on ``X`` itself.  (The closed forms do not
    depend on the shift: with an intercept they eliminate it through the centred moments.)

    A model ``ŷ = x̃ᵀθ + β`` in design coordinates is ``ŷ = xᵀw + b`` in original units with
    ``w = θ / scale`` and ``b = β − shiftᵀ w``.

    With ``standardize=True`` and an intercept, ``shift`` and ``scale`` equal
    :func:`linreg.textbook.standardize` (tested in tests/test_textbook.py).
    """

    shift: np.ndarray
    scale: np.ndarray
    fit_intercept: bool
    standardize: bool

    @classmethod
    def from_stats(cls, stats: SufficientStats, fit_intercept: bool, standardize: bool) -> "Design":
        return cls.from_moments(stats.weight_sum, stats.mean_x, np.diag(stats.gram),
                                fit_intercept, standardize)

    @classmethod
    def from_moments(cls, weight_sum: float, mean_x: np.ndarray, m2: np.ndarray,
                     fit_intercept: bool, standardize: bool) -> "Design":
        """The design from the columns' weighted means and ``m2 = Σ s (x − x̄)²`` alone (the
        Gram matrix's diagonal): what the stochastic solvers need, in O(nnz)."""
        d = mean_x.shape[0]
        n_w = weight_sum
        if fit_intercept and standardize:
            shift = np.array(mean_x, dtype=np.float64)
            spread = m2 / n_w
        else:
            shift = np.zeros(d)
            spread = (m2 + n_w * mean_x**2) / n_w
        if standardize:
            scale = np.sqrt(np.maximum(spread, 0.0))
            # a column with no spread (relative to its magnitude) is constant: leave it unscaled
            scale[constant_columns(mean_x, scale)] = 1.0
        else:
            scale = np.ones(d)
        return cls(shift, scale, fit_intercept, standardize)

    def transform(self, X: np.ndarray) -> np.ndarray:
        """``x̃ = (x − shift)/scale`` (a new float64 array)."""
        return (np.asarray(X, dtype=np.float64) - self.shift) / self.scale

    def apply(self, stats: SufficientStats) -> DesignStats:
        """The statistics in design coordinates."""
        s = self.scale
        return DesignStats(
            weight_sum=stats.weight_sum,
            gram=stats.gram / np.outer(s, s),
            cross=stats.cross / s[:, None],
            target_comoment=stats.target_comoment.copy(),
            mean_x=(stats.mean_x - self.shift) / s,
            mean_y=stats.mean_y.copy(),
            fit_intercept=self.fit_intercept,
        )

    def to_original(self, theta: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``w = θ/scale``, ``b = β − shiftᵀ w`` (θ of shape (d, k), β of shape (k,))."""
        coef = theta / self.scale[:, None]
        intercept = beta - self.shift @ coef
        return coef, intercept

    def from_original(self, coef: np.ndarray, intercept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`to_original`: ``θ = w·scale``, ``β = b + shiftᵀ w``."""
        theta = coef * self.scale[:, None]
        beta = intercept + self.shift @ coef
        return theta, beta
