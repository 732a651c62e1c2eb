"""Double-double arithmetic: a number kept as an unevaluated sum ``hi + lo`` of two float64
values, about 106 significant bits, from error-free transformations of float64 operations.

Each transformation returns the rounded result and its rounding error *exactly* (IEEE 754
binary64, round to nearest, no fused multiply-add needed):

* :func:`two_sum` (Knuth): ``a + b = s + e``;
* :func:`split` (Dekker/Veltkamp): ``a = hi + lo`` with ``hi`` and ``lo`` of at most 26 and
  27 significant bits, so products of halves are exact;
* :func:`two_product` (Dekker): ``a·b = p + e``.

The functions use only ``+``, ``−`` and ``*``, so they work alike on float64 scalars, on
NumPy arrays (elementwise) and inside numba-compiled loops (:mod:`linreg.refine_kernel`
compiles these very functions; numba keeps IEEE semantics unless told otherwise, and its
code never fuses a product into a sum here).  Pairs ``(hi, lo)`` are normalized:
``|lo| ≤ ulp(hi)/2``.

References: T. J. Dekker, *A floating-point technique for extending the available
precision* (1971); T. Ogita, S. M. Rump, S. Oishi, *Accurate sum and dot product* (2005).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SPLITTER", "dd_add", "dd_divide", "dd_from", "dd_multiply", "dd_negate", "dd_sum",
           "dd_to_float", "fast_two_sum", "product_error", "split", "two_product", "two_sum"]

#: ``2²⁷ + 1``: multiplying by it and subtracting splits a float64 into two halves
#: (:func:`split`); values above about 1e300 would overflow (sums of squares of such values
#: are refused long before, :func:`linreg.stats.check_representable`)
SPLITTER = 134217729.0


def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``a + b = s + e`` exactly (Knuth's TwoSum: no
    assumption on the magnitudes).

    >>> two_sum(1.0, 1e-17)
    (1.0, 1e-17)
    """
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


def fast_two_sum(a, b):
    """``(s, e)`` with ``a + b = s + e`` exactly, when ``|a| ≥ |b|`` (or ``a = 0``)
    (Dekker's FastTwoSum: renormalizes a pair)."""
    s = a + b
    return s, b - (s - a)


def split(a):
    """``(hi, lo)`` with ``a = hi + lo`` exactly, ``hi`` of at most 26 significant bits and
    ``lo`` of at most 27 (Veltkamp's splitting)."""
    c = SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def product_error(a, a_hi, a_lo, b_hi, b_lo, p):
    """``a·b − p`` exactly, for ``p = fl(a·b)`` and the halves of ``a`` and ``b``
    (:func:`split`): every partial product of halves is exact (Dekker)."""
    return a_lo * b_lo - (((p - a_hi * b_hi) - a_lo * b_hi) - a_hi * b_lo)


def two_product(a, b):
    """``(p, e)`` with ``p = fl(a·b)`` and ``a·b = p + e`` exactly (Dekker's TwoProduct,
    without a fused multiply-add).

    >>> two_product(1.0 + 2.0**-30, 1.0 + 2.0**-30) == (1.0 + 2.0**-29, 2.0**-60)
    True
    """
    p = a * b
    a_hi, a_lo = split(a)
    b_hi, b_lo = split(b)
    return p, product_error(a, a_hi, a_lo, b_hi, b_lo, p)


# ----------------------------------------------------------------------------- pairs
def dd_from(hi, lo=None) -> tuple:
    """A pair of float64 arrays (copies), ``lo`` zero when not given."""
    hi = np.array(hi, dtype=np.float64)
    return hi, (np.zeros_like(hi) if lo is None else np.array(lo, dtype=np.float64))


def dd_to_float(x: tuple) -> np.ndarray:
    """The float64 nearest a normalized pair (its ``hi``, up to a tie: ``fl(hi + lo)``)."""
    return x[0] + x[1]


def dd_add(x: tuple, y: tuple) -> tuple:
    """``x + y`` of two pairs, with a relative error below ``3·2⁻¹⁰⁶`` even when they cancel
    (the accurate double-word sum, Algorithm 6 of Joldes, Muller and Popescu, *Tight and
    rigorous error bounds for basic building blocks of double-word arithmetic*, 2017)."""
    s_hi, s_lo = two_sum(x[0], y[0])
    t_hi, t_lo = two_sum(x[1], y[1])
    v_hi, v_lo = fast_two_sum(s_hi, s_lo + t_hi)
    return fast_two_sum(v_hi, t_lo + v_lo)


def dd_multiply(x: tuple, y: tuple) -> tuple:
    """``x·y`` of two pairs (a float64 ``y[1] = 0`` makes it a pair times a float64)."""
    p, e = two_product(x[0], y[0])
    return fast_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))


def dd_divide(x: tuple, b) -> tuple:
    """``x / b`` of a pair by a float64 (one correction of the float64 quotient by its exact
    remainder)."""
    q = x[0] / b
    p, e = two_product(q, b)
    remainder = ((x[0] - p) - e) + x[1]       # x[0] − p is exact (Sterbenz)
    return fast_two_sum(q, remainder / b)


def dd_negate(x: tuple) -> tuple:
    """``−x`` of a pair."""
    return -x[0], -x[1]


def dd_sum(x: tuple) -> tuple:
    """The sum of a pair of arrays over their first axis, added pairwise (a tree of
    :func:`dd_add`: error about ``2·log₂(n)·2⁻¹⁰⁶`` of the sum of magnitudes)."""
    hi, lo = x
    if hi.shape[0] == 0:
        return np.zeros(hi.shape[1:]), np.zeros(hi.shape[1:])
    while hi.shape[0] > 1:
        if hi.shape[0] % 2:
            pad = np.zeros((1,) + hi.shape[1:])
            hi, lo = np.concatenate([hi, pad]), np.concatenate([lo, pad])
        hi, lo = dd_add((hi[0::2], lo[0::2]), (hi[1::2], lo[1::2]))
    return hi[0], lo[0]
