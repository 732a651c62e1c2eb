"""The compiled inner loop of stochastic training: one epoch of (mini-batch) SGD.

The kernel reads rows of the *original* ``X`` (float64 or float32, in any row order given by
``rows``) and applies the design change ``x̃ = (x − shift)/scale`` on the fly, so training
never copies ``X``.  For a batch ``B`` of rows it takes one optimizer step with the average of
the per-sample gradients of :mod:`linreg.objective`'s ``J``::

    r_i   = x̃_iᵀθ + β − y_i                         (residual, one per target)
    ∇_θ   = (1/|B|) Σ_{i∈B} x̃_i r_iᵀ · s_i/s̄ + α θ
    ∇_β   = (1/|B|) Σ_{i∈B} r_i · s_i/s̄             (0 without an intercept)

with ``s̄`` the mean sample weight, so each is an unbiased estimate of the full gradient
``∇J``.  ``batch_size = 1`` is plain SGD (one sample per update).  The step itself is
:func:`linreg.update_rules.apply_update` — the same compiled function the full-batch loop uses.

Parameters travel as one flat vector ``p = [θ.ravel(), β]`` (θ of shape (d, k), row-major;
``β`` always has ``k`` slots and stays 0 without an intercept).

Compiled with ``cache=True``: the machine code is stored next to this file, so only the first
process on a machine pays the compilation.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .kernel_types import read_only
from .update_rules import PLAIN
from .update_rules import apply_update, plain_step

__all__ = ["run_epoch", "max_sample_curvature", "EPOCH_OK", "EPOCH_DIVERGED"]

EPOCH_OK, EPOCH_DIVERGED = 0, 1

#: sums may be reassociated (so they vectorize); no other unsafe math: NaN and inf still
#: behave as IEEE says, which the divergence check needs.
FAST = {"reassoc", "contract"}
#: rows ahead whose loading is started while the current one is used
PREFETCH_AHEAD = 12


@intrinsic
def _prefetch_row(typingctx, X, i):
    """Ask the CPU to start loading row ``i`` of the C-contiguous 2-D array ``X`` into the
    cache (``llvm.prefetch``, one hint per 64-byte line; a hint never faults).  The rows come
    in random order, which the hardware prefetcher cannot guess: this hides most of the
    memory latency (figures in the README's benchmark section)."""
    def codegen(context, builder, signature, args):
        xty = signature.args[0]
        ary = context.make_array(xty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        i8p = ir.IntType(8).as_pointer()
        start = builder.bitcast(cgutils.get_item_pointer(context, builder, xty, ary, [args[1], zero]), i8p)
        line = context.get_constant(types.intp, 64)
        row_bytes = cgutils.unpack_tuple(builder, ary.strides, 2)[0]
        n_lines = builder.add(builder.udiv(row_bytes, line), context.get_constant(types.intp, 1))
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        prefetch = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        with cgutils.for_range(builder, n_lines) as loop:
            address = builder.gep(start, [builder.mul(loop.index, line)])
            # read, keep in all cache levels, data cache
            builder.call(prefetch, [address, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(X, types.intp), codegen


@njit(cache=True, nogil=True, fastmath=FAST)
def _sample_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, moments, step, alpha,
                  fit_intercept, rule):
    """``batch_size = 1``: per row, ``r = x̃ᵀθ + β − y`` (x̃ formed on the fly), then
    ``∇_θ = x̃ r s_i/s̄ + αθ``, ``∇_β = r s_i/s̄``, then one optimizer step (for plain SGD
    with one target, fused with the gradient: one pass over the row instead of two).

    Unweighted and plain, equals :func:`linreg.textbook.sgd_epoch` on the design's rows
    (tested in tests/test_textbook.py)."""
    code, lr, mu, beta1, beta2, eps = rule
    d = X.shape[1]
    k = Y.shape[1]
    dk = d * k
    weighted = relative_weight.shape[0] > 0
    grad = np.zeros(p.shape[0])
    r = np.empty(k)
    progressive = 0.0
    n = rows.shape[0]
    # the identity design (standardize=False): x̃ = x, skip the transform
    raw = True
    for j in range(d):
        if shift[j] != 0.0 or inv_scale[j] != 1.0:
            raw = False
    for t in range(n):
        if t + PREFETCH_AHEAD < n:
            _prefetch_row(X, rows[t + PREFETCH_AHEAD])
            _prefetch_row(Y, rows[t + PREFETCH_AHEAD])
        i = rows[t]
        if k == 1 and raw:
            acc = p[d] - Y[i, 0]
            for j in range(d):
                acc += X[i, j] * p[j]
            r[0] = acc
        elif k == 1:
            acc = p[d] - Y[i, 0]
            for j in range(d):
                acc += (X[i, j] - shift[j]) * inv_scale[j] * p[j]
            r[0] = acc
        else:
            for c in range(k):
                r[c] = p[dk + c] - Y[i, c]
            for j in range(d):
                xt = (X[i, j] - shift[j]) * inv_scale[j]
                for c in range(k):
                    r[c] += xt * p[j * k + c]
        wi = relative_weight[i] if weighted else 1.0
        for c in range(k):
            if not np.isfinite(r[c]):
                return step, EPOCH_DIVERGED, progressive
            progressive += wi * r[c] * r[c]
            r[c] *= wi
        if k == 1 and code == PLAIN:
            # plain SGD, one target: each parameter's step straight from its gradient
            # component, so the gradient is never stored and re-read
            r0 = r[0]
            if raw:
                for j in range(d):
                    p[j] = plain_step(p[j], X[i, j] * r0 + alpha * p[j], lr)
            else:
                for j in range(d):
                    p[j] = plain_step(p[j], (X[i, j] - shift[j]) * inv_scale[j] * r0 + alpha * p[j], lr)
            if fit_intercept:
                p[d] = plain_step(p[d], r0, lr)
            step += 1
            continue
        if k == 1 and raw:
            r0 = r[0]
            for j in range(d):
                grad[j] = X[i, j] * r0 + alpha * p[j]
        elif k == 1:
            r0 = r[0]
            for j in range(d):
                grad[j] = (X[i, j] - shift[j]) * inv_scale[j] * r0 + alpha * p[j]
        else:
            for j in range(d):
                xt = (X[i, j] - shift[j]) * inv_scale[j]
                for c in range(k):
                    grad[j * k + c] = xt * r[c] + alpha * p[j * k + c]
        if fit_intercept:
            for c in range(k):
                grad[dk + c] = r[c]
        step = apply_update(code, p, grad, moments, step, lr, mu, beta1, beta2, eps)
    return step, EPOCH_OK, progressive


@njit(cache=True, nogil=True, fastmath=FAST)
def _plain_sample_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, step, alpha,
                        fit_intercept, lr):
    """Plain SGD with one target (``batch_size = 1``): the steps of :func:`_sample_epoch`,
    with each step's loop over the row also forming the next row's residual from the
    parameters it has just written — one pass over ``θ`` per row instead of two (the next
    row's values come from memory, prefetched, while the current row's are in cache)."""
    d = X.shape[1]
    n = rows.shape[0]
    weighted = relative_weight.shape[0] > 0
    progressive = 0.0
    raw = True
    for j in range(d):
        if shift[j] != 0.0 or inv_scale[j] != 1.0:
            raw = False
    if n == 0:
        return step, EPOCH_OK, progressive
    i = rows[0]
    acc = p[d] - Y[i, 0]
    if raw:
        for j in range(d):
            acc += X[i, j] * p[j]
    else:
        for j in range(d):
            acc += (X[i, j] - shift[j]) * inv_scale[j] * p[j]
    for t in range(n):
        if t + PREFETCH_AHEAD < n:
            _prefetch_row(X, rows[t + PREFETCH_AHEAD])
            _prefetch_row(Y, rows[t + PREFETCH_AHEAD])
        i = rows[t]
        wi = relative_weight[i] if weighted else 1.0
        if not np.isfinite(acc):
            return step, EPOCH_DIVERGED, progressive
        progressive += wi * acc * acc
        r0 = acc * wi
        if fit_intercept:
            p[d] = plain_step(p[d], r0, lr)
        step += 1
        if t + 1 == n:
            if raw:
                for j in range(d):
                    p[j] = plain_step(p[j], X[i, j] * r0 + alpha * p[j], lr)
            else:
                for j in range(d):
                    p[j] = plain_step(p[j], (X[i, j] - shift[j]) * inv_scale[j] * r0
                                      + alpha * p[j], lr)
            break
        nxt = rows[t + 1]
        acc = p[d] - Y[nxt, 0]
        if raw:
            for j in range(d):
                pj = plain_step(p[j], X[i, j] * r0 + alpha * p[j], lr)
                p[j] = pj
                acc += X[nxt, j] * pj
        else:
            for j in range(d):
                pj = plain_step(p[j], (X[i, j] - shift[j]) * inv_scale[j] * r0 + alpha * p[j],
                                lr)
                p[j] = pj
                acc += (X[nxt, j] - shift[j]) * inv_scale[j] * pj
    return step, EPOCH_OK, progressive


#: rows of a mini-batch whose gradient terms are added in one sweep over the gradient
GROUP = 4
#: ... when the rows have at least this many columns (narrower rows and the gradient stay
#: in the first-level cache: grouping only costs there — measured 7 % slower at d = 200,
#: 10 % faster at 400)
GROUP_MIN_WIDTH = 384


@njit(cache=True, nogil=True, fastmath={"contract"})
def _add_row_terms(X, group_rows, group_r, m, grad):
    """``grad += x_i r_i`` for the ``m`` rows ``group_rows[:m]`` (one target): four rows in
    one sweep over ``grad`` (which a long row does not leave in the first-level cache), each
    component still added to row by row in order — no reassociation, so the same bits as
    one sweep a row."""
    d = X.shape[1]
    if m < GROUP:
        for b in range(m):
            i, r = group_rows[b], group_r[b]
            for j in range(d):
                grad[j] += X[i, j] * r
        return
    i0, i1, i2, i3 = group_rows[0], group_rows[1], group_rows[2], group_rows[3]
    r0, r1, r2, r3 = group_r[0], group_r[1], group_r[2], group_r[3]
    for j in range(d):
        grad[j] = (((grad[j] + X[i0, j] * r0) + X[i1, j] * r1) + X[i2, j] * r2) + X[i3, j] * r3


@njit(cache=True, nogil=True, fastmath=FAST)
def _batch_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, moments, step, batch_size,
                 alpha, fit_intercept, rule):
    """``batch_size > 1``.  θ is fixed within a batch, so with ``u = θ/scale`` and
    ``c = β − shiftᵀu`` the residual is ``r = xᵀu + c − y`` on the raw row, and
    ``Σ x̃ r = (Σ x r − shift Σ r)/scale``: each row is read twice (residual, gradient),
    with no transformed copy.

    Unweighted and plain, equals :func:`linreg.textbook.minibatch_epoch` on the design's rows
    (tested in tests/test_textbook.py)."""
    code, lr, mu, beta1, beta2, eps = rule
    d = X.shape[1]
    k = Y.shape[1]
    dk = d * k
    weighted = relative_weight.shape[0] > 0
    grad = np.zeros(p.shape[0])
    u = np.empty(dk)
    r = np.empty(k)
    c0 = np.empty(k)
    rsum = np.empty(k)
    group_rows, group_r = np.empty(GROUP, np.int64), np.empty(GROUP)
    held = 0
    progressive = 0.0
    n = rows.shape[0]
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        for j in range(d):
            for c in range(k):
                u[j * k + c] = p[j * k + c] * inv_scale[j]
        for c in range(k):
            acc = p[dk + c]
            for j in range(d):
                acc -= shift[j] * u[j * k + c]
            c0[c] = acc
            rsum[c] = 0.0
        for q in range(dk):
            grad[q] = 0.0
        for t in range(start, stop):
            if t + PREFETCH_AHEAD < n:
                _prefetch_row(X, rows[t + PREFETCH_AHEAD])
                _prefetch_row(Y, rows[t + PREFETCH_AHEAD])
            i = rows[t]
            if k == 1:
                acc = c0[0] - Y[i, 0]
                for j in range(d):
                    acc += X[i, j] * u[j]
                r[0] = acc
            else:
                for c in range(k):
                    r[c] = c0[c] - Y[i, c]
                for j in range(d):
                    for c in range(k):
                        r[c] += X[i, j] * u[j * k + c]
            wi = relative_weight[i] if weighted else 1.0
            for c in range(k):
                if not np.isfinite(r[c]):
                    return step, EPOCH_DIVERGED, progressive
                progressive += wi * r[c] * r[c]
                r[c] *= wi
                rsum[c] += r[c]
            if k == 1 and d < GROUP_MIN_WIDTH:
                r0 = r[0]
                for j in range(d):
                    grad[j] += X[i, j] * r0
            elif k == 1:    # the gradient's terms four rows at a time (_add_row_terms)
                group_rows[held], group_r[held] = i, r[0]
                held += 1
                if held == GROUP or t + 1 == stop:
                    _add_row_terms(X, group_rows, group_r, held, grad)
                    held = 0
            else:
                for j in range(d):
                    for c in range(k):
                        grad[j * k + c] += X[i, j] * r[c]
        inv_b = 1.0 / (stop - start)
        for j in range(d):
            for c in range(k):
                q = j * k + c
                grad[q] = (grad[q] - shift[j] * rsum[c]) * inv_scale[j] * inv_b + alpha * p[q]
        for c in range(k):
            grad[dk + c] = rsum[c] * inv_b if fit_intercept else 0.0
        step = apply_update(code, p, grad, moments, step, lr, mu, beta1, beta2, eps)
    return step, EPOCH_OK, progressive


def run_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, moments, step, batch_size,
              alpha, fit_intercept, rule):
    """One pass over ``X[rows]`` in batches of ``batch_size`` rows, updating ``p`` and the
    optimizer ``moments`` in place.

    ``relative_weight`` holds ``s_i/s̄`` indexed by row of ``X`` (empty for unit weights);
    ``rule`` is the tuple ``(code, learning_rate, momentum, beta1, beta2, epsilon)`` of
    :func:`apply_update`.  Returns ``(step, status, progressive)``: the optimizer's step
    count; ``EPOCH_OK``, or ``EPOCH_DIVERGED`` as soon as a residual is not finite (``p`` is
    then left as it was before that batch's step, still finite); and the progressive loss
    ``Σ (s_i/s̄) ‖r_i‖²`` over the rows passed, each residual computed before the step that
    uses its row (Vowpal Wabbit's progressive validation loss).
    """
    # the inputs read-only: one compiled version for writable and read-only rows (kernel_types)
    X, Y, relative_weight, rows = map(read_only, (X, Y, relative_weight, rows))
    shift, inv_scale = read_only(shift), read_only(inv_scale)
    if batch_size == 1 and Y.shape[1] == 1 and rule[0] == PLAIN:
        return _plain_sample_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, step,
                                   alpha, fit_intercept, rule[1])
    if batch_size == 1:
        return _sample_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, moments, step,
                             alpha, fit_intercept, rule)
    return _batch_epoch(X, Y, relative_weight, rows, shift, inv_scale, p, moments, step,
                        batch_size, alpha, fit_intercept, rule)


@njit(cache=True)
def max_sample_curvature(X, relative_weight, rows, shift, inv_scale, fit_intercept):
    """``max_i (s_i/s̄)(‖x̃_i‖² + 1)`` over ``i ∈ rows`` (``+1`` only with an intercept): the
    largest curvature of a one-sample loss, which bounds a safe SGD step."""
    d = X.shape[1]
    weighted = relative_weight.shape[0] > 0
    best = 0.0
    for t in range(rows.shape[0]):
        i = rows[t]
        s = 1.0 if fit_intercept else 0.0
        for j in range(d):
            v = (X[i, j] - shift[j]) * inv_scale[j]
            s += v * v
        if weighted:
            s *= relative_weight[i]
        if s > best:
            best = s
    return best
