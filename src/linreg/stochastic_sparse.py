"""The compiled inner loop of stochastic training on CSR rows: one epoch of (mini-batch) SGD
that reads ``indptr``/``indices``/``data`` in place and never densifies a row.

The update is the dense kernel's (:mod:`linreg.stochastic`), in the same design coordinates
``x̃ = (x − shift)/scale``; what differs is how ``x̃`` is formed.  Centring would fill a
sparse row, so it stays implicit, through ``w = shift/scale``::

    x̃_iᵀθ = Σ_{j stored in row i} x_ij θ_j/scale_j − wᵀθ
    ∇_θ   = (1/|B|) Σ_{i∈B} s̄_i (x_i/scale) r_iᵀ − w ρᵀ + αθ,     ρ = (1/|B|) Σ_{i∈B} s̄_i r_i

(``s̄_i = s_i/s̄`` the relative weight).  The two dense terms, ``−wρᵀ`` and ``αθ``, would make
every step cost O(d); plain SGD avoids that by keeping ``θ`` as ``a·V + w γᵀ`` (a scalar ``a``,
a (d, k) ``V``, a (k,) ``γ``, and ``wᵀV`` kept up to date), so that a step is::

    a := (1 − ηα) a          γ := (1 − ηα) γ + η ρ          V_j := V_j − η/(|B| a) Σ s̄_i x_ij/scale_j r_i

touching only the stored entries of the batch's rows: an epoch costs O(nnz·k), plus O(d·k)
to form ``θ`` at its end.  (With centring, ``θ`` is also formed, and ``a``, ``γ`` reset, whenever
the work since the last time reaches ``8·d·k``, and whenever ``|a|`` falls below 1e-9: that
keeps the cost O(nnz·k) and the two sums from growing apart, so the trajectory is the dense
kernel's to rounding.)  The rows come in random order, so the kernel asks the CPU to start
loading each row a few rows ahead of its use.

Momentum, Nesterov and Adam change every coordinate at every step (their moments decay
everywhere, and Adam's step is not linear in the gradient), so their steps cost O(d·k) each:
an epoch is O(nnz·k + (n/B)·d·k) — the same steps as the dense kernel, through the same
compiled :func:`linreg.update_rules.apply_update`.

Both return the progressive loss: ``Σ s̄_i ‖r_i‖²`` over the epoch, each residual computed
before the step that uses its row (Vowpal Wabbit's progressive validation loss).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .update_rules import PLAIN, apply_update

__all__ = ["run_sparse_epoch", "max_sparse_curvature"]

EPOCH_OK, EPOCH_DIVERGED = 0, 1
FAST = {"reassoc", "contract"}
#: ``θ = a·V + wγᵀ`` is formed again when ``|a|`` falls below this
SMALLEST_SCALE = 1e-9
#: ... and, with centring, whenever the work since the last time reaches this many times d·k
#: (so forming it costs at most 1/FOLD_WORK of the epoch)
FOLD_WORK = 8
#: rows ahead whose loading is started while the current one is used
PREFETCH_AHEAD = 8


@njit(cache=True, nogil=True, fastmath=FAST)
def _form_theta(p, V, a, gamma, w, d, k):
    """``θ := a·V + w γᵀ`` into ``p``'s first ``d·k`` entries."""
    for j in range(d):
        for c in range(k):
            p[j * k + c] = a * V[j * k + c] + gamma[c] * w[j]


#: lines of a span prefetched without a loop (a loop whose count changes from row to row
#: costs a mispredicted branch a row, more than the hints themselves)
PREFETCH_LINES = 4


def _span_codegen(fixed_lines: int):
    """The code of a span prefetch (:func:`_prefetch_span`) whose first ``fixed_lines``
    hints are straight-line code."""
    def codegen(context, builder, signature, args):
        aty = signature.args[0]
        ary = context.make_array(aty)(context, builder, args[0])
        intp = context.get_value_type(types.intp)
        i8p = ir.IntType(8).as_pointer()
        first = builder.bitcast(cgutils.get_item_pointer(context, builder, aty, ary, [args[1]]),
                                i8p)
        item = context.get_constant(types.intp, context.get_abi_sizeof(
            context.get_data_type(aty.dtype)))
        n_bytes = builder.mul(builder.sub(args[2], args[1]), item)
        line = context.get_constant(types.intp, 64)
        # the lines from the first byte's to the last byte's: a span that does not start
        # on a line's boundary reaches one line further than its length alone says
        address = builder.ptrtoint(first, intp)
        shift = context.get_constant(types.intp, 6)
        last = builder.sub(builder.add(address, n_bytes), context.get_constant(types.intp, 1))
        last = builder.select(builder.icmp_signed("<", last, address), address, last)
        n_lines = builder.add(builder.sub(builder.ashr(last, shift), builder.ashr(address, shift)),
                              context.get_constant(types.intp, 1))
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        prefetch = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")

        def hint(at):       # read, keep in all cache levels, data cache
            builder.call(prefetch, [builder.inttoptr(at, i8p), i32(0), i32(3), i32(1)])

        for k in range(fixed_lines):
            at = builder.add(address, context.get_constant(types.intp, 64 * k))
            hint(builder.select(builder.icmp_signed("<=", at, last), at, last))
        extra = builder.sub(n_lines, context.get_constant(types.intp, fixed_lines))
        with cgutils.for_range(builder, extra) as loop:
            offset = builder.mul(builder.add(loop.index, context.get_constant(
                types.intp, fixed_lines)), line)
            hint(builder.add(address, offset))
        return context.get_dummy_value()
    return codegen


@intrinsic
def _prefetch_span(typingctx, a, start, stop):
    """Ask the CPU to start loading ``a[start:stop]`` of a 1-D array into the cache
    (``llvm.prefetch``, one hint per 64-byte line the span touches, its last included; a
    hint never faults): a CSR row's values and column numbers, visited in random order,
    which the hardware cannot guess.  The first ``PREFETCH_LINES`` hints are straight-line
    code (past the span's end they repeat its last line); a longer span's other lines
    follow in a loop."""
    return types.void(a, types.intp, types.intp), _span_codegen(PREFETCH_LINES)


@intrinsic
def _prefetch_short(typingctx, a, start, stop):
    """:func:`_prefetch_span` of a span of one or two lines (two ``indptr`` entries, a
    row's targets): two hints."""
    return types.void(a, types.intp, types.intp), _span_codegen(2)


@njit(cache=True, nogil=True, inline="always")
def _prefetch_ahead(indptr, indices, data, Y, rows, t, n):
    """Start loading the row ``PREFETCH_AHEAD`` places ahead (its values, column numbers and
    target), and the ``indptr`` entries of the row twice as far (which the first needs)."""
    if t + 2 * PREFETCH_AHEAD < n:
        i = rows[t + 2 * PREFETCH_AHEAD]
        _prefetch_short(indptr, i, i + 2)
    if t + PREFETCH_AHEAD < n:
        i = rows[t + PREFETCH_AHEAD]
        _prefetch_span(data, indptr[i], indptr[i + 1])
        _prefetch_span(indices, indptr[i], indptr[i + 1])
        _prefetch_short(Y[i], 0, Y.shape[1])


@njit(cache=True, nogil=True, fastmath=FAST)
def _lazy_plain_epoch(indptr, indices, data, Y, relative_weight, rows, shift, inv_scale, p,
                      step, batch_size, alpha, fit_intercept, lr):
    """Plain (mini-batch) SGD in O(nnz·k) per epoch (see the module docstring)."""
    d = inv_scale.shape[0]
    k = Y.shape[1]
    dk = d * k
    weighted = relative_weight.shape[0] > 0
    w = shift * inv_scale
    ww = 0.0
    for j in range(d):
        ww += w[j] * w[j]
    centred = ww > 0.0
    scaled = False
    for j in range(d):
        scaled = scaled or inv_scale[j] != 1.0
    V = p[:dk].copy()
    a = 1.0
    gamma = np.zeros(k)
    wv = np.zeros(k)
    for j in range(d):
        for c in range(k):
            wv[c] += w[j] * V[j * k + c]
    decay = 1.0 - lr * alpha
    r = np.empty((batch_size, k))
    rsum = np.empty(k)
    progressive = 0.0
    work = 0
    n = rows.shape[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        b = stop - start
        for c in range(k):
            rsum[c] = 0.0
        # the residuals, all with θ before this step
        for t in range(start, stop):
            _prefetch_ahead(indptr, indices, data, Y, rows, t, n)
            i = rows[t]
            lo, hi = indptr[i], indptr[i + 1]
            work += hi - lo + 1
            wi = relative_weight[i] if weighted else 1.0
            if k == 1:      # one target: scalar sums, which stay in registers
                on_v, on_w = 0.0, 0.0
                if centred:
                    for q in range(lo, hi):
                        j = indices[q]
                        xs = data[q] * inv_scale[j]
                        on_v += xs * V[j]
                        on_w += xs * w[j]
                elif scaled:
                    for q in range(lo, hi):
                        j = indices[q]
                        on_v += data[q] * inv_scale[j] * V[j]
                else:           # the raw design: no scale to read (unsigned positions
                    # and columns: no wraparound test per read)
                    for q in range(np.uint64(lo), np.uint64(hi)):
                        on_v += data[q] * V[np.uint64(indices[q])]
                res = (a * on_v + gamma[0] * on_w + p[d] - Y[i, 0] - a * wv[0]
                       - gamma[0] * ww)
                if not np.isfinite(res):
                    _form_theta(p, V, a, gamma, w, d, k)
                    return step, EPOCH_DIVERGED, progressive
                progressive += wi * res * res
                r[t - start, 0] = res * wi
                rsum[0] += res * wi
                continue
            for c in range(k):
                r[t - start, c] = p[dk + c] - Y[i, c] - a * wv[c] - gamma[c] * ww
            for q in range(lo, hi):
                j = indices[q]
                xs = data[q] * inv_scale[j]
                for c in range(k):
                    r[t - start, c] += xs * (a * V[j * k + c] + gamma[c] * w[j])
            for c in range(k):
                res = r[t - start, c]
                if not np.isfinite(res):
                    _form_theta(p, V, a, gamma, w, d, k)
                    return step, EPOCH_DIVERGED, progressive
                progressive += wi * res * res
                r[t - start, c] = res * wi
                rsum[c] += res * wi
        # the step: a := (1 − ηα)a, then the stored entries of V, γ, β
        a *= decay
        if not abs(a) >= SMALLEST_SCALE:
            for q in range(dk):
                V[q] *= a
            for c in range(k):
                wv[c] *= a
            a = 1.0
        coef = lr / (b * a)
        for t in range(start, stop):
            i = rows[t]
            if k == 1:
                rt = r[t - start, 0] * coef
                if not centred and not scaled:
                    for q in range(np.uint64(indptr[i]), np.uint64(indptr[i + 1])):
                        V[np.uint64(indices[q])] -= data[q] * rt
                    continue
                moved = 0.0
                for q in range(indptr[i], indptr[i + 1]):
                    j = indices[q]
                    dv = data[q] * inv_scale[j] * rt
                    V[j] -= dv
                    moved += w[j] * dv
                wv[0] -= moved
                continue
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                xs = data[q] * inv_scale[j] * coef
                for c in range(k):
                    dv = xs * r[t - start, c]
                    V[j * k + c] -= dv
                    wv[c] -= w[j] * dv
        for c in range(k):
            gamma[c] = decay * gamma[c] + lr * rsum[c] / b
            if fit_intercept:
                p[dk + c] -= lr * rsum[c] / b
        step += 1
        if centred and work >= FOLD_WORK * dk:
            # θ formed again: V := θ, a := 1, γ := 0 (O(d·k), once per FOLD_WORK·d·k of work)
            _form_theta(p, V, a, gamma, w, d, k)
            for q in range(dk):
                V[q] = p[q]
            a = 1.0
            for c in range(k):
                gamma[c] = 0.0
                wv[c] = 0.0
            for j in range(d):
                for c in range(k):
                    wv[c] += w[j] * V[j * k + c]
            work = 0
    _form_theta(p, V, a, gamma, w, d, k)
    return step, EPOCH_OK, progressive


@njit(cache=True, nogil=True, fastmath=FAST)
def _raw_sample_epoch(indptr, indices, data, Y, relative_weight, rows, p, step, alpha,
                      fit_intercept, lr):
    """Plain one-sample SGD, one target, on the raw design (no shift, no scale): the steps of
    :func:`_lazy_plain_epoch` with ``w = 0`` — ``θ = a·V``, so the centring's sums and the
    batch's bookkeeping drop out and a row costs its stored entries twice (the residual, the
    step) and nothing else."""
    d = p.shape[0] - 1
    weighted = relative_weight.shape[0] > 0
    V = p[:d].copy()
    a = 1.0
    decay = 1.0 - lr * alpha
    progressive = 0.0
    n = rows.shape[0]
    for t in range(n):
        _prefetch_ahead(indptr, indices, data, Y, rows, t, n)
        i = rows[t]
        lo, hi = np.uint64(indptr[i]), np.uint64(indptr[i + 1])     # (unsigned: no wraparound test)
        on_v = 0.0
        for q in range(lo, hi):
            on_v += data[q] * V[np.uint64(indices[q])]
        res = a * on_v + p[d] - Y[i, 0]
        if not np.isfinite(res):
            for j in range(d):
                p[j] = a * V[j]
            return step, EPOCH_DIVERGED, progressive
        wi = relative_weight[i] if weighted else 1.0
        progressive += wi * res * res
        r = res * wi
        a *= decay
        if not abs(a) >= SMALLEST_SCALE:
            for j in range(d):
                V[j] *= a
            a = 1.0
        rt = r * (lr / a)
        for q in range(lo, hi):
            V[np.uint64(indices[q])] -= data[q] * rt
        if fit_intercept:
            p[d] -= lr * r
        step += 1
    for j in range(d):
        p[j] = a * V[j]
    return step, EPOCH_OK, progressive


@njit(cache=True, nogil=True, fastmath=FAST)
def _general_epoch(indptr, indices, data, Y, relative_weight, rows, shift, inv_scale, p,
                   moments, step, batch_size, alpha, fit_intercept, rule):
    """Any update rule: the batch gradient formed densely (O(d·k) a step), then
    :func:`linreg.update_rules.apply_update`."""
    code, lr, mu, beta1, beta2, eps = rule
    d = inv_scale.shape[0]
    k = Y.shape[1]
    dk = d * k
    weighted = relative_weight.shape[0] > 0
    w = shift * inv_scale
    grad = np.zeros(p.shape[0])
    r = np.empty((batch_size, k))
    rsum = np.empty(k)
    wth = np.empty(k)
    progressive = 0.0
    n = rows.shape[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        b = stop - start
        for c in range(k):
            wth[c] = 0.0
            rsum[c] = 0.0
        for j in range(d):
            for c in range(k):
                wth[c] += w[j] * p[j * k + c]
        for t in range(start, stop):
            i = rows[t]
            for c in range(k):
                r[t - start, c] = p[dk + c] - Y[i, c] - wth[c]
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                xs = data[q] * inv_scale[j]
                for c in range(k):
                    r[t - start, c] += xs * p[j * k + c]
            wi = relative_weight[i] if weighted else 1.0
            for c in range(k):
                res = r[t - start, c]
                if not np.isfinite(res):
                    return step, EPOCH_DIVERGED, progressive
                progressive += wi * res * res
                r[t - start, c] = res * wi
                rsum[c] += res * wi
        inv_b = 1.0 / b
        for j in range(d):
            for c in range(k):
                grad[j * k + c] = alpha * p[j * k + c] - w[j] * rsum[c] * inv_b
        for t in range(start, stop):
            i = rows[t]
            for q in range(indptr[i], indptr[i + 1]):
                j = indices[q]
                xs = data[q] * inv_scale[j] * inv_b
                for c in range(k):
                    grad[j * k + c] += xs * r[t - start, c]
        for c in range(k):
            grad[dk + c] = rsum[c] * inv_b if fit_intercept else 0.0
        step = apply_update(code, p, grad, moments, step, lr, mu, beta1, beta2, eps)
    return step, EPOCH_OK, progressive


def run_sparse_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, moments, step,
                     batch_size, alpha, fit_intercept, rule):
    """One pass over the CSR rows ``X[rows]`` in batches of ``batch_size``, updating ``p`` and
    the optimizer ``moments`` in place; arguments and result as
    :func:`linreg.stochastic.run_epoch` (``(step, status, progressive)``)."""
    code, lr = rule[0], rule[1]
    shift = np.ascontiguousarray(shift, dtype=np.float64)
    if (code == PLAIN and batch_size == 1 and Y.shape[1] == 1 and not shift.any()
            and (inv_scale == 1.0).all()):
        return _raw_sample_epoch(X.indptr, X.indices, X.data, Y, relative_weight, rows, p,
                                 step, alpha, fit_intercept, lr)
    if code == PLAIN:
        return _lazy_plain_epoch(X.indptr, X.indices, X.data, Y, relative_weight, rows, shift,
                                 inv_scale, p, step, batch_size, alpha, fit_intercept, lr)
    return _general_epoch(X.indptr, X.indices, X.data, Y, relative_weight, rows, shift,
                          inv_scale, p, moments, step, batch_size, alpha, fit_intercept, rule)


@njit(cache=True, nogil=True)
def _max_sparse_curvature(indptr, indices, data, relative_weight, rows, shift, inv_scale,
                          fit_intercept):
    d = inv_scale.shape[0]
    weighted = relative_weight.shape[0] > 0
    ww = 0.0
    for j in range(d):
        v = shift[j] * inv_scale[j]
        ww += v * v
    best = 0.0
    for t in range(rows.shape[0]):
        i = rows[t]
        # ‖x̃_i‖² = Σ_stored ((x − shift)/scale)² + Σ_unstored (shift/scale)²
        stored, stored_w = 0.0, 0.0
        for q in range(indptr[i], indptr[i + 1]):
            j = indices[q]
            v = (data[q] - shift[j]) * inv_scale[j]
            u = shift[j] * inv_scale[j]
            stored += v * v
            stored_w += u * u
        s = stored + max(ww - stored_w, 0.0) + (1.0 if fit_intercept else 0.0)
        if weighted:
            s *= relative_weight[i]
        if s > best:
            best = s
    return best


def max_sparse_curvature(X, relative_weight, rows, shift, inv_scale, fit_intercept):
    """``max_i s̄_i (‖x̃_i‖² + 1)`` over the CSR rows ``X[rows]`` (``+1`` with an intercept),
    in O(nnz): the largest one-sample curvature (:func:`linreg.stochastic.max_sample_curvature`)."""
    return _max_sparse_curvature(X.indptr, X.indices, X.data, relative_weight, rows,
                                 np.ascontiguousarray(shift, dtype=np.float64), inv_scale,
                                 fit_intercept)
