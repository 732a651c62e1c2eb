"""Factoring a symmetric positive (semi-)definite matrix: equilibrate, Cholesky, condition.

One home for the step the normal equations (:func:`linreg.closed_form.solve_normal_equations`)
and the inference's bread (:class:`linreg.inference.GramFactor`) both take::

    D = √diag A   (1 where the diagonal is not positive),   S = D⁻¹AD⁻¹,   S = CᵀC

and LAPACK's estimate of ``1/κ₁(S)`` from the factor (``dpocon``), with which the caller
decides whether the factor can be trusted.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.linalg.lapack

__all__ = ["equilibrate", "factor_spd"]


def equilibrate(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(S, D)``: ``S = D⁻¹AD⁻¹`` with unit diagonal, ``D = √diag A`` (1 where it is ≤ 0).

    >>> S, D = equilibrate(np.array([[4.0, 2.0], [2.0, 9.0]]))
    >>> D.tolist(), S[0, 1].item()
    ([2.0, 3.0], 0.3333333333333333)
    """
    diag = np.diag(A).copy()
    scale = np.sqrt(np.where(diag > 0, diag, 1.0))
    return A / np.outer(scale, scale), scale


def factor_spd(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(C, D, rcond)``: the upper Cholesky factor of the equilibrated ``S = D⁻¹AD⁻¹ = CᵀC``
    (zeros below the diagonal), the scales ``D`` and ``rcond``, LAPACK's estimate of
    ``1/κ₁(S)``.

    Raises :class:`numpy.linalg.LinAlgError` when ``S`` is not positive definite.  Then
    ``A⁻¹b = D⁻¹ cho_solve((C, False), D⁻¹b)``.

    >>> C, D, rcond = factor_spd(np.array([[4.0, 2.0], [2.0, 9.0]]))
    >>> np.allclose(C.T @ C * np.outer(D, D), [[4.0, 2.0], [2.0, 9.0]]), rcond > 0.1
    (True, True)
    """
    S, scale = equilibrate(A)
    C = scipy.linalg.cholesky(S, lower=False, check_finite=False)
    rcond = float(scipy.linalg.lapack.dpocon(C, np.linalg.norm(S, 1))[0])
    return C, scale, rcond
