"""Which parameters the data identify: one rank-revealing decision, made from the statistics.

The fit (every solver), its :class:`~linreg.exceptions.RankDeficiencyWarning`, ``rank_`` and
every number of ``summary()`` take the rank and the identified set from :func:`identify`, so
they cannot disagree — and the decision does not depend on the column order, on whether the
rows were in memory, in a file or on a cluster, or on the solver.

The decision is made on the design *including the intercept*.  With an intercept the
statistics hold the centred Gram matrix ``G = Σ s (x − x̄)(x − x̄)ᵀ``; a null vector ``v`` of
``G`` is the null vector ``[−x̄ᵀv, v]`` of the weighted design ``[1, X]``.  So a set of columns
that adds up to a constant — every dummy column of a categorical next to the intercept —
is exactly a null vector whose intercept entry is not zero, and the intercept is named with
those columns.  A column with no spread (:func:`constant_columns`) is the null vector
``[−x̄_j, e_j]`` exactly.  Without an intercept the uncentred ``G + n_w x̄x̄ᵀ`` is used.

The matrix is equilibrated, ``S = D⁻¹GD⁻¹`` (``D = √diag G``), so units do not matter, and
a direction counts as null when its eigenvalue is at most ``RANK_TOLERANCE² · λ_max(S)``:
a singular value of the centred, equilibrated design below ``RANK_TOLERANCE`` times the
largest.  The Gram matrix carries rounding errors of a few ε (at most about 100 ε on the
raw-moment path) relative to its largest entries, so an exactly dependent design shows
eigenvalues of about 1e-15 to 1e-14 — far below the tolerance's 1e-12 — while a design
that is merely ill-conditioned (condition number below 1e6 once centred and equilibrated)
stays far above it.  (R's ``lm`` uses 1e-7 on its QR factor; a Gram matrix, which squares
the condition number, cannot resolve that finely.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import constant_columns
from .validation import column_label, listed

__all__ = ["RANK_TOLERANCE", "Identification", "constant_columns", "identify", "identify_stats"]

#: a singular value of the centred, column-equilibrated design below this fraction of the
#: largest counts as zero (eigenvalues of the equilibrated Gram below its square)
RANK_TOLERANCE = 1e-6
#: a parameter takes part in a dependency when the orthonormal null basis (in units where
#: every column of ``[1, X]`` has norm 1) has an entry of at least this size in its row
INVOLVED_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Identification:
    """The rank decision for the weighted design ``[1, X]`` (``X`` without an intercept).

    Attributes
    ----------
    fit_intercept : bool
    col_scale : ndarray of shape (d,)
        ``D``, the square roots of the Gram matrix's diagonal (1 where it is zero).
    eigenvalues : ndarray
        Of the equilibrated Gram matrix ``S`` over the non-constant columns, ascending.
    eigenvectors : ndarray or None
        Their eigenvectors (columns), computed only when some direction is null.
    constant : ndarray of bool, shape (d,)
        Columns with no spread (with an intercept) or all zero (without).
    null_vectors : ndarray of shape (d, q)
        A basis of the null space of ``G`` in the units of ``X`` (``q`` null directions).
    unidentified : ndarray of bool, shape (p,)
        Parameters ``[b, w]`` (intercept first, when there is one) that take part in a
        dependency, so the data cannot determine them.
    """

    fit_intercept: bool
    col_scale: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray | None
    constant: np.ndarray
    null_vectors: np.ndarray
    unidentified: np.ndarray

    @property
    def n_features(self) -> int:
        return self.col_scale.shape[0]

    @property
    def n_null(self) -> int:
        return self.null_vectors.shape[1]

    @property
    def full_rank(self) -> bool:
        return self.n_null == 0

    @property
    def rank_x(self) -> int:
        """Rank of the (centred, with an intercept) features: ``d − q``."""
        return self.n_features - self.n_null

    @property
    def rank(self) -> int:
        """Parameters the data determine, the intercept included."""
        return self.rank_x + int(self.fit_intercept)

    @property
    def free(self) -> np.ndarray:
        """Columns that are not constant (the ones ``S`` is made of)."""
        return ~self.constant

    @property
    def condition_number(self) -> float:
        """``√(λ_max/λ_min)`` of ``S``: the 2-norm condition number of the centred (with an
        intercept), equilibrated design; ``inf`` when a direction is null."""
        if self.n_null:
            return float("inf")
        ev = self.eigenvalues
        return float(np.sqrt(ev[-1] / ev[0])) if ev.size else 1.0

    @property
    def dependent_features(self) -> list[int]:
        """The features that take part in a dependency."""
        return [int(j) for j in np.flatnonzero(self.unidentified[int(self.fit_intercept):])]

    @property
    def intercept_involved(self) -> bool:
        """Whether the intercept takes part (columns that add up to a constant)."""
        return bool(self.fit_intercept and self.unidentified[0])

    @property
    def n_constant(self) -> int:
        return int(self.constant.sum())

    def intercept_with_columns(self, mean_x: np.ndarray, gram_diag: np.ndarray,
                               weight_sum: float) -> bool:
        """Whether the intercept takes part in a dependency with non-constant columns
        (columns that add up to a constant), apart from the constant columns themselves."""
        if not self.fit_intercept or self.n_null == self.n_constant:
            return False
        rest = self.null_vectors[:, self.n_constant:]
        return bool(_involved(rest, mean_x, gram_diag, weight_sum, True)[0])

    def range_basis(self) -> tuple[np.ndarray, np.ndarray]:
        """``(V_r, λ_r)``: eigenvectors (over the free columns) and eigenvalues of ``S`` for
        the identified directions (all of them when full rank: then from a fresh ``eigh``)."""
        if self.eigenvectors is None:
            raise ValueError("the eigenvectors are kept only for a rank-deficient design")
        keep = self.eigenvalues > self._tolerance()
        return self.eigenvectors[:, keep], self.eigenvalues[keep]

    def _tolerance(self) -> float:
        ev = self.eigenvalues
        return RANK_TOLERANCE**2 * max(float(ev[-1]), 0.0) if ev.size else 0.0

    def minimum_norm(self, normal_rhs: np.ndarray, scale: np.ndarray) -> np.ndarray:
        """The minimum-norm ``θ`` (in design coordinates ``θ = scale·w``) of the normal
        equations ``A θ = normal_rhs`` of an unpenalized, rank-deficient design.

        A particular solution comes from ``S``'s identified eigenpairs; the null space
        (``scale·null_vectors``) is then projected out in the θ metric, so ``θ`` is the
        shortest of all the solutions (``numpy.linalg.lstsq``'s, in those coordinates).
        """
        d, k = normal_rhs.shape
        free = self.free
        D = self.col_scale[free] / scale[free]          # D in design coordinates
        V, lam = self.range_basis()
        theta = np.zeros((d, k))
        theta[free] = (V @ ((V.T @ (normal_rhs[free] / D[:, None])) / lam[:, None])) / D[:, None]
        Q, _ = np.linalg.qr(self.null_vectors * scale[:, None])
        return theta - Q @ (Q.T @ theta)


def rank_deficiency_message(identification: Identification, stats, feature_names,
                            fit_intercept: bool, positive: bool = False) -> str:
    """The :class:`~linreg.exceptions.RankDeficiencyWarning`'s text, worded from the rank
    decision: the constant columns, the columns that repeat the intercept (add up to a
    constant), the others, and the usual fix."""
    names = feature_names
    d = stats.n_features
    constant = ([int(j) for j in np.flatnonzero(identification.constant)]
                if fit_intercept else [])
    dependent = [j for j in identification.dependent_features if j not in constant]
    with_intercept = identification.intercept_with_columns(
        stats.mean_x, np.diag(stats.gram), stats.weight_sum)
    parts, fixes = [], []
    if constant:
        parts.append("constant (so indistinguishable from the intercept): "
                     + listed([column_label(j, names) for j in constant]))
        fixes.append("drop the constant column" + ("s" if len(constant) > 1 else ""))
    if dependent and with_intercept:
        parts.append("the intercept and " + listed([column_label(j, names) for j in dependent])
                     + " are linearly dependent: some of these columns add up to a constant "
                     "(the intercept's column of ones), as dummy columns for every level of "
                     "a categorical do")
        fixes.append("drop one column of each such set — for dummy columns, one level of "
                     "each categorical, e.g. pd.get_dummies(..., drop_first=True) — or fit "
                     "without the intercept")
    elif dependent:
        parts.append(listed([column_label(j, names) for j in dependent])
                     + " are linearly dependent on each other")
        fixes.append("drop one column of each dependent set")
    if not parts:
        parts.append("the dependent columns could not be isolated")
    n_params = d + bool(fit_intercept)
    why = (f"{stats.n_rows} rows cannot determine {n_params} parameters. "
           if stats.n_rows < n_params else "")
    fix = f" To identify every coefficient, {'; '.join(fixes)}." if fixes and not why else ""
    return (f"X is rank-deficient (rank {identification.rank_x} < {d} features): "
            f"{'; '.join(parts)}. {why}Their individual coefficients "
            f"are not identifiable; returning "
            f"{'one of the non-negative solutions' if positive else 'the minimum-norm solution'}"
            f".{fix}")


def identify_stats(stats, fit_intercept: bool) -> Identification:
    """:func:`identify` from a :class:`~linreg.stats.SufficientStats` (in the data's units)."""
    return identify(stats.gram, stats.mean_x, stats.weight_sum, fit_intercept)


def identify(gram: np.ndarray, mean_x: np.ndarray, weight_sum: float,
             fit_intercept: bool) -> Identification:
    """The rank decision from the centred Gram matrix ``G`` (d × d), the feature means and
    the total weight (see the module docstring).  Columns may be in any coordinates that
    only scale them (the design's or the data's): the decision is the same."""
    gram = np.asarray(gram, dtype=np.float64)
    mean_x = np.asarray(mean_x, dtype=np.float64)
    d = gram.shape[0]
    n_w = float(weight_sum)
    A = gram if fit_intercept else gram + n_w * np.outer(mean_x, mean_x)
    diag = np.diag(A).copy()
    if fit_intercept:
        spread = np.sqrt(np.maximum(np.diag(gram), 0.0) / n_w) if n_w > 0 else np.zeros(d)
        constant = constant_columns(mean_x, spread)
    else:
        constant = ~(diag > 0)
    col_scale = np.sqrt(np.where(diag > 0, diag, 1.0))
    free = np.flatnonzero(~constant)
    S = A[np.ix_(free, free)] / np.outer(col_scale[free], col_scale[free])
    ev = np.linalg.eigvalsh(S) if free.size else np.zeros(0)
    tol = RANK_TOLERANCE**2 * max(float(ev[-1]), 0.0) if ev.size else 0.0
    vectors = None
    null = np.zeros((d, 0))
    if constant.any() or (ev.size and ev[0] <= tol):
        if free.size:
            ev, vectors = np.linalg.eigh(S)
        else:
            vectors = np.zeros((0, 0))
        null_free = vectors[:, ev <= tol] / col_scale[free][:, None]
        null = np.zeros((d, int(constant.sum()) + null_free.shape[1]))
        null[np.flatnonzero(constant), np.arange(int(constant.sum()))] = 1.0
        null[free, int(constant.sum()):] = null_free
    unidentified = _involved(null, mean_x, np.diag(gram), n_w, fit_intercept)
    return Identification(bool(fit_intercept), col_scale, ev, vectors, constant, null,
                          unidentified)


def _involved(null: np.ndarray, mean_x, gram_diag, n_w: float, fit_intercept: bool) -> np.ndarray:
    """Mask over ``[b, w]`` of the parameters with a non-zero entry in the null space of
    ``[1, X]``: ``θ_j`` is identified iff ``e_j`` is orthogonal to it.  The null vectors
    ``[−x̄ᵀv, v]`` are measured in units where every column of ``[1, X]`` has norm 1, and
    orthonormalised, so the test does not depend on the columns' units."""
    d = null.shape[0]
    p = d + int(fit_intercept)
    if null.shape[1] == 0:
        return np.zeros(p, dtype=bool)
    N = null
    norms = np.sqrt(np.maximum(gram_diag, 0.0) + n_w * mean_x**2)      # ‖x_j‖ (weighted)
    if fit_intercept:
        N = np.vstack([-(mean_x @ N)[None, :], N])
        norms = np.concatenate([[np.sqrt(n_w)], norms])
    norms = np.where(norms > 0, norms, 1.0)
    Q, _ = np.linalg.qr(N * norms[:, None])
    return np.linalg.norm(Q, axis=1) > INVOLVED_TOLERANCE
