"""The compiled inner loop of a refinement pass (:mod:`linreg.refine`): the residuals of a
block of rows and their products with the rows, in double-double arithmetic.

For rows ``x_i`` of ``X`` (float64 or float32, read in place), targets ``y_i``, weights
``s_i`` and ``u``, ``c`` given as pairs ``hi + lo`` (:mod:`linreg.doubledouble`)::

    r_i = y_i − c − x_iᵀu               (one per target)
    S   = Σ_i x_i s_i r_iᵀ,   G = Σ_i s_i r_i

Every product is made exact (:func:`~linreg.doubledouble.two_product`), the leading parts
are added with :func:`~linreg.doubledouble.two_sum` and all the rounding errors summed in
float64 (Sum2 and Dot2 of Ogita, Rump and Oishi, *Accurate sum and dot product*, 2005): over
``n`` terms the error is at most about ``(n·2⁻⁵³)²`` of the sum of their magnitudes, as if
computed in twice the working precision.  Each row is read once from memory: its residual
first, then its products, while it is in the cache.

Where the CPU has a fused multiply-add (and numba compiles for this CPU), the exact error
of a product is taken from it, ``fma(a, b, −a·b)``, which is faster than Dekker's splitting
and gives the very same bits (both are exact).

Compiled with ``cache=True`` and ``nogil=True`` (pieces of a block run on threads); only a
refinement pass loads this module (and numba).
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import binding, ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import doubledouble

__all__ = ["HARDWARE_FMA", "normal_residual_sums"]

_inline = njit(cache=True, inline="always")
two_sum = _inline(doubledouble.two_sum)
fast_two_sum = _inline(doubledouble.fast_two_sum)
split = _inline(doubledouble.split)
product_error = _inline(doubledouble.product_error)

#: the products' errors come from the CPU's fused multiply-add (else from Dekker's splitting):
#: numba compiles for this CPU (no ``NUMBA_CPU_NAME``/``NUMBA_CPU_FEATURES``) and it has one
HARDWARE_FMA = (numba.config.CPU_NAME is None and numba.config.CPU_FEATURES is None
                and bool(binding.get_host_cpu_features().get("fma", False)))


@intrinsic
def _fma(typingctx, a, b, c):
    """``a·b + c`` rounded once (``llvm.fma.f64``: a single instruction where the CPU has
    one, never an unfused multiply and add)."""
    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        fnty = ir.FunctionType(double, [double, double, double])
        return builder.call(cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.f64"),
                            args)
    return types.float64(types.float64, types.float64, types.float64), codegen


@njit(cache=True, inline="always")
def exact_product_error(a, b, b_hi, b_lo, p):
    """``a·b − p`` exactly, for ``p = fl(a·b)`` and the halves ``b_hi + b_lo = b``
    (:func:`~linreg.doubledouble.split`, used without a fused multiply-add)."""
    if HARDWARE_FMA:
        return _fma(a, b, -p)
    a_hi, a_lo = split(a)
    return product_error(a, a_hi, a_lo, b_hi, b_lo, p)


@njit(cache=True, nogil=True)
def normal_residual_sums(X, Y, w, u_hi, u_lo, c_hi, c_lo):
    """``(S, G)`` of the module docstring as pairs: ``(hi, lo)`` arrays of shape (d + 1, k),
    rows 0…d−1 holding ``S`` and row d holding ``G``.

    ``X`` (m, d), ``Y`` (m, k), ``w`` (m,) or empty (no weights), ``u_hi``/``u_lo`` (d, k),
    ``c_hi``/``c_lo`` (k,).
    """
    m, d = X.shape
    k = Y.shape[1]
    weighted = w.shape[0] > 0
    u_1 = np.empty((d, k))
    u_2 = np.empty((d, k))
    for j in range(d):
        for t in range(k):
            u_1[j, t], u_2[j, t] = split(u_hi[j, t])
    g_hi = np.zeros((d + 1, k))
    g_lo = np.zeros((d + 1, k))
    r_hi = np.empty(k)
    r_lo = np.empty(k)
    for i in range(m):
        for t in range(k):
            # x_iᵀu: exact products, leading parts by TwoSum, every error in float64
            s_hi = 0.0
            s_lo = 0.0
            for j in range(d):
                a = np.float64(X[i, j])
                p = a * u_hi[j, t]
                e = exact_product_error(a, u_hi[j, t], u_1[j, t], u_2[j, t], p)
                s_hi, s = two_sum(s_hi, p)
                s_lo += s + e + a * u_lo[j, t]
            # r = (y − c) − x_iᵀu: the leading parts cancel exactly (TwoSum), the small ones
            # in float64, and TwoSum adds the two (either may be the larger)
            a, b = two_sum(np.float64(Y[i, t]), -c_hi[t])
            h, e = two_sum(a, -s_hi)
            h, low = two_sum(h, e + ((b - c_lo[t]) - s_lo))
            if weighted:
                p = h * w[i]
                w_1, w_2 = split(w[i])
                e = exact_product_error(h, w[i], w_1, w_2, p)
                h, low = fast_two_sum(p, e + low * w[i])
            r_hi[t] = h
            r_lo[t] = low
        for t in range(k):
            g_hi[d, t], s = two_sum(g_hi[d, t], r_hi[t])
            g_lo[d, t] += s + r_lo[t]
            r_1, r_2 = split(r_hi[t])
            for j in range(d):
                a = np.float64(X[i, j])
                p = a * r_hi[t]
                e = exact_product_error(a, r_hi[t], r_1, r_2, p)
                g_hi[j, t], s = two_sum(g_hi[j, t], p)
                g_lo[j, t] += s + e + a * r_lo[t]
    return g_hi, g_lo
