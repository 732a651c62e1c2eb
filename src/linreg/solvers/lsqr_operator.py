"""LSQR's one-pass operator (:class:`OnePassOperator`, used by :mod:`linreg.solvers.lsqr`):
``A v`` and ``AᵀA v`` from one read of the rows, and the ``Aᵀu'`` that follows formed from
known vectors when a running error bound allows, else a real pass."""

from __future__ import annotations

import sys

import numpy as np
from numba import njit
from scipy.sparse.linalg import LinearOperator

from ..passes import FAST

__all__ = ["OnePassOperator"]


@njit(cache=True, nogil=True, fastmath=FAST)
def _span_dots(t, u, w):
    """``(t·t, u·u, t·u, t·w, u·w, w·w)`` in one read of the three vectors."""
    tt = uu = tu = tw = uw = ww = 0.0
    for i in range(t.shape[0]):
        a, b, c = t[i], u[i], w[i]
        tt += a * a
        uu += b * b
        tu += a * b
        tw += a * c
        uw += b * c
        ww += c * c
    return tt, uu, tu, tw, uw, ww


@njit(cache=True, nogil=True, fastmath=FAST)
def _span_residual(t, u, w, c1, c2, copy):
    """``(ρ·ρ, ρ·t, ρ·u)`` for ``ρ = w − c₁t − c₂u``, and ``copy[:] = w`` in the same loop."""
    rr = rt = ru = 0.0
    for i in range(t.shape[0]):
        c = w[i]
        copy[i] = c
        r = c - c1 * t[i] - c2 * u[i]
        rr += r * r
        rt += r * t[i]
        ru += r * u[i]
    return rr, rt, ru


class OnePassOperator(LinearOperator):
    """``A`` for scipy's LSQR, one read of the rows per iteration instead of two.

    LSQR's iteration is ``t = A v``, ``u' = (t − α u)/β``, then ``Aᵀu'``.  :meth:`_matvec`
    computes ``t`` and ``s = Aᵀt`` in one read of the rows (``normal``) and keeps both;
    :meth:`_rmatvec` keeps its last ``u`` and ``Aᵀu``.  Given ``u'``, it fits
    ``u' ≈ c₁ t + c₂ u`` (least squares over the two vectors: Gram–Schmidt on ``u``, ``t``),
    computes the fit's residual ``ρ = u' − c₁t − c₂u`` directly, and returns
    ``c₁ s + c₂ Aᵀu`` without reading the rows when that is as good as a real product:
    its error is at most about ``‖A‖ (‖ρ‖ + ε (|c₁| ‖t‖ + |c₂| ‖u‖) + |c₂| err(Aᵀu))`` —
    the part of ``u'`` outside the span, the combination's rounding (large when ``u'`` is
    a small difference of large terms) and the error ``Aᵀu`` already had, which the
    recurrence carries on.  The operator follows that bound in units of ``ε ‖A‖ ‖u'‖``
    (a real product: 1) and combines only while it stays within :attr:`ERR_MAX`.
    Anything else (the first ``Aᵀu``, products asked in another order, a vector outside the
    span, a fit that does not close, an error grown too large) is a real ``Aᵀu'`` pass: each
    kept pair is a product of copies the operator owns, so the answer is right whatever the
    caller's sequence.  Held: two pairs (O(m + d)).  The check costs two reads of three
    m-vectors — little beside a read of the rows.  ``passes`` / ``reused`` count the reads
    of the rows and the products that needed none.
    """

    #: the largest error bound accepted for a combined ``Aᵀu'``, in units of ``ε ‖A‖ ‖u'‖``
    #: (about 2e-13 relative): LSQR's iterations on well-conditioned rows stay within a few
    #: tens of it (the fit's residual ≈ 1e-14, ``|c₂| = |α|/β`` below 1 once it settles);
    #: steps where ``|α|/β`` is large (a nearly exhausted Krylov space, an ill-conditioned
    #: design) make it grow, and a real pass resets it to 1
    ERR_MAX = 1000.0

    def __init__(self, shape, matvec, rmatvec, normal):
        super().__init__(np.float64, shape)
        self._plain_matvec, self._plain_rmatvec, self._normal = matvec, rmatvec, normal
        self._t = self._s = self._g = None
        self._u = self._spare = None
        self._start = self._out = None
        self._err = self._new_err = 1.0
        self.passes = self.reused = 0

    def start(self, b, g) -> None:
        """``g = Aᵀb`` known already (from the pass of the column moments): the first
        ``Aᵀu`` LSQR asks for, ``u = b/‖b‖``, is then ``g/‖b‖`` without reading the rows
        (checked as :meth:`_combined` checks a combination: ``u`` a multiple of ``b`` to
        rounding)."""
        self._start = (np.ascontiguousarray(b, dtype=np.float64), np.asarray(g, dtype=np.float64))

    def _matvec(self, z):
        if self._t is None:
            self._t = np.empty(self.shape[0])
        # the array the last A v was returned in, written again when nobody else holds it
        # (LSQR drops it at once): no fresh m-vector — and its page faults — per iteration
        out = self._out if self._out is not None and sys.getrefcount(self._out) <= 2 else None
        self._out = None
        self._s = None                              # no pair until both are written
        t, self._s = self._normal(z, self._t, out)  # self._t gets a copy of t
        self._out = t
        self.passes += 1
        return t

    def _rmatvec(self, r):
        w = np.ascontiguousarray(np.ravel(r), dtype=np.float64)
        if self._spare is None:
            self._spare = np.empty(self.shape[0])
        g = self._from_start(w) if self._start is not None else self._combined(w)
        #   (both fill self._spare with w when they check)
        if g is None:
            g = self._plain_rmatvec(w)
            self.passes += 1
            np.copyto(self._spare, w)
            self._err = 1.0
        else:
            self.reused += 1
            self._err = self._new_err
        self._u, self._spare = self._spare, self._u
        self._g = g.copy()
        return g

    def _from_start(self, w):
        """``c Aᵀb`` when ``w`` is ``c b`` to rounding (:meth:`start`), else None; the start
        is used once."""
        b, g = self._start
        self._start = None
        if w.shape != b.shape:
            return None
        bb, _, _, bw, _, ww = _span_dots(b, b, w)
        if not (bb > 0 and ww > 0):
            return None
        c = bw / bb
        rr = _span_residual(b, b, w, c, 0.0, self._spare)[0]
        eps = np.finfo(np.float64).eps
        err = (np.sqrt(rr) / eps + 2.0 * abs(c) * np.sqrt(bb)) / np.sqrt(ww)
        if not err <= self.ERR_MAX:
            return None
        self._new_err = err
        return c * g

    def _combined(self, w):
        """``c₁ s + c₂ Aᵀu`` when ``w`` is ``c₁ t + c₂ u`` to rounding, else None."""
        t, u = self._t, self._u
        if self._s is None or u is None or w.shape != t.shape:
            return None
        tt, uu, tu, tw, uw, ww = _span_dots(t, u, w)
        if not (tt > 0 and uu > 0 and ww > 0):
            return None
        mu = tu / uu                # p = t − μu ⟂ u: w ≈ c₁ p + (uw/uu) u
        pp = tt - mu * tu
        if not pp > 1e-20 * tt:     # t and u (nearly) parallel: no reliable fit
            return None
        c1 = (tw - mu * uw) / pp
        c2 = uw / uu - c1 * mu
        rr, rt, ru = _span_residual(t, u, w, c1, c2, self._spare)
        # one refinement: c₁, c₂ from the dot products carry their 2 × 2 solve's rounding
        # (large when t and u are close to parallel: the first steps); the residual's own
        # fit on the span corrects them, and ‖ρ‖² drops by what that fit explains
        d1 = (rt - mu * ru) / pp
        d2 = ru / uu - d1 * mu
        explained = d1 * rt + d2 * ru
        if 0.0 <= explained <= rr:
            c1, c2, rr = c1 + d1, c2 + d2, rr - explained
        eps = np.finfo(np.float64).eps
        err = (np.sqrt(rr) / eps + abs(c1) * np.sqrt(tt)
               + abs(c2) * np.sqrt(uu) * (1.0 + self._err)) / np.sqrt(ww)
        if not err <= self.ERR_MAX:
            return None
        self._new_err = err
        return c1 * self._s + c2 * self._g
