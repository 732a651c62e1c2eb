"""The compiled reader of the svmlight / libsvm text format (:mod:`linreg.sources.svmlight`).

One call parses a buffer of whole lines (it ends at a newline, or at the end of the file)
into CSR arrays: ``label [qid:q] idx:val idx:val ... [# comment]``.  A number is read here
when it is read exactly: a decimal mantissa of at most 2⁵³ with a power of ten of at most
22 either way (Clinger's fast path: one correctly rounded multiplication or division of two
exact doubles — the value ``strtod`` and Python's ``float`` give).  Any other label or value
(more digits, ``nan``, ``inf``, a typo) is left to Python: its token is listed as a *fixup*
and :mod:`linreg.sources.svmlight` reads it with ``float`` (and says why a bad one is bad).
Everything else that is wrong stops the parse with an error code and where it happened.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["ARRAYS_FULL", "parse_block", "last_indices", "permute_rows", "OK", "ERRORS",
           "FIXUPS_FULL"]

OK = 0
BLANK_LINE, BAD_PAIR, ZERO_INDEX, OUT_OF_RANGE, NOT_INCREASING, BAD_QID = 1, 2, 3, 4, 5, 6
FIXUPS_FULL = 7
#: the output arrays are too small for the block
ARRAYS_FULL = 8
#: what each error code means, for the message
ERRORS = {
    BLANK_LINE: "a blank line (every row starts with its label; remove empty lines)",
    BAD_PAIR: "a malformed pair (features are written index:value, e.g. 3:0.5)",
    ZERO_INDEX: "feature index 0, but the indices are one-based (pass zero_based=True for a "
                "file whose indices start at 0)",
    OUT_OF_RANGE: "a feature index beyond n_features",
    NOT_INCREASING: "feature indices not in increasing order (unsorted or repeated) in a line; "
                    "svmlight files list each feature once, sorted",
    BAD_QID: "a malformed qid (written qid:N with N an integer, right after the label)",
}

_POW10 = np.array([10.0 ** i for i in range(23)])
_MAX_EXACT = 1 << 53


# The helpers below read the buffer through its address (``buf.ctypes.data``, the array
# kept alive by parse_block): an array passed to a helper inlined in a loop costs an atomic
# reference count increment and decrement per call, which numba's pruning does not remove —
# a third of the parse time when each number was read that way.
@intrinsic
def _at(typingctx, addr, i):
    """The byte at address ``addr + i``."""
    def codegen(context, builder, signature, args):
        a, at = args
        ptr = builder.inttoptr(builder.add(a, at), ir.IntType(8).as_pointer())
        return builder.load(ptr)
    return types.uint8(addr, i), codegen


@njit(cache=True, nogil=True, inline="always")
def _digit_run(b, i, n, mant):
    """``(mant, end)``: the run of ASCII digits at ``b[i:n]`` (``b`` the buffer's address)
    appended to ``mant`` (``mant·10^k + digits``, wrapping past 18 digits: the caller counts
    them) and the index after it.  (Eight bytes at a time, by nibble tests and three
    multiplications, measured slower on short runs: a byte at a time it is.)"""
    while i < n and 48 <= _at(b, i) <= 57:
        mant = mant * 10 + (_at(b, i) - 48)
        i += 1
    return mant, i


#: 1 for a blank (space, tab, CR, VT, FF), 2 for what else ends a token (newline, "#")
_KIND = np.zeros(256, dtype=np.uint8)
_KIND[[32, 9, 13, 11, 12]] = 1
_KIND[[10, 35]] = 2


@njit(cache=True, nogil=True, inline="always")
def _space(c):
    return _KIND[c] == 1


@njit(cache=True, nogil=True, inline="always")
def _end(c):
    return _KIND[c] != 0


@njit(cache=True, nogil=True, inline="always")
def _number(b, i, n):
    """``(value, end, exact)``: the number at ``b[i:]`` read by the fast path, the index
    after its token (the next blank, newline, ``#`` or the end), and whether the value is
    exact (else the token is for Python to read)."""
    c = _at(b, i) if i < n else np.uint8(0)
    neg = c == 45
    i += np.int64((c == 45) | (c == 43))       # (no branch: signs come at random)
    # every digit goes into mant (more than 18 of them, leading zeros included, leave the
    # token to Python: mant would overflow)
    start = i
    mant, i = _digit_run(b, i, n, np.int64(0))
    digits = i - start
    exp10 = 0
    if i < n and _at(b, i) == 46:
        i += 1
        frac = i
        mant, i = _digit_run(b, i, n, mant)
        exp10 = frac - i
        digits += i - frac
    seen = digits > 0
    exact = digits <= 18
    if seen and i < n and (_at(b, i) == 101 or _at(b, i) == 69):
        i += 1
        eneg = False
        if i < n and (_at(b, i) == 45 or _at(b, i) == 43):
            eneg = _at(b, i) == 45
            i += 1
        e = 0
        edigits = 0
        while i < n and 48 <= _at(b, i) <= 57:
            if e < 100000:
                e = e * 10 + (_at(b, i) - 48)
            edigits += 1
            i += 1
        if edigits == 0:
            exact = False
        exp10 += -e if eneg else e
    if not seen or (i < n and not _end(_at(b, i))):
        exact = False
        while i < n and not _end(_at(b, i)):
            i += 1
        return 0.0, i, False
    if not exact or mant > _MAX_EXACT:
        return 0.0, i, False
    if mant == 0:
        return (-0.0 if neg else 0.0), i, True
    if exp10 > 22 or exp10 < -22:
        return 0.0, i, False
    v = float(mant)
    v = v * _POW10[exp10] if exp10 >= 0 else v / _POW10[-exp10]
    return (-v if neg else v), i, True


@njit(cache=True, nogil=True)
def parse_block(buf, n, zero_based, limit, indptr, indices, data, y, qid, fix):
    """Parse ``buf[:n]`` (whole lines) into ``indptr``, ``indices``, ``data``, ``y`` and
    ``qid`` (``y`` of at least one more than the rows, ``indptr`` of ``len(y) + 1``; ``qid`` −1 where a row has none).  ``limit``: the
    number of features (an index at or beyond it is an error), or −1 (none: the largest
    index is returned).  ``fix`` (m, 5) receives the tokens left to Python:
    ``(kind 0 label / 1 value, row or value position, token start, token end, line)``.

    Returns ``(code, rows, nnz, n_fix, max_index, line, pos)``: ``code`` OK or an error of
    :data:`ERRORS` (or :data:`FIXUPS_FULL`, :data:`ARRAYS_FULL`: ``fix`` or the output arrays
    too small), with the line (0-based,
    within the buffer) and byte position where it happened."""
    rows = 0
    nnz = 0
    nfix = 0
    line = 0
    top = -1
    i = 0
    indptr[0] = 0
    cap = fix.shape[0]
    offset = 0 if zero_based else 1
    if n > buf.shape[0] or (buf.shape[0] > 1 and buf.strides[0] != 1):
        raise ValueError("parse_block reads n bytes of a contiguous buffer")
    b = buf.ctypes.data
    while i < n:
        # the start of a line
        while i < n and _space(_at(b, i)):
            i += 1
        if i >= n:
            break
        c = _at(b, i)
        if c == 10:
            return BLANK_LINE, rows, nnz, nfix, top, line, i
        if c == 35:       # a line that is only a comment
            while i < n and _at(b, i) != 10:
                i += 1
            i += 1
            line += 1
            continue
        if rows + 1 >= y.shape[0]:
            return ARRAYS_FULL, rows, nnz, nfix, top, line, i
        # the label
        v, j, exact = _number(b, i, n)
        if not exact:
            if nfix >= cap:
                return FIXUPS_FULL, rows, nnz, nfix, top, line, i
            fix[nfix, 0] = 0
            fix[nfix, 1] = rows
            fix[nfix, 2] = i
            fix[nfix, 3] = j
            fix[nfix, 4] = line
            nfix += 1
        y[rows] = v
        qid[rows] = -1
        i = j
        prev = -1
        first = True
        while True:
            while i < n and _space(_at(b, i)):
                i += 1
            if i >= n or _at(b, i) == 10 or _at(b, i) == 35:
                break
            if first and i + 3 < n and _at(b, i) == 113 and _at(b, i + 1) == 105 and \
                    _at(b, i + 2) == 100 and _at(b, i + 3) == 58:
                first = False
                k = i + 4
                neg = False
                if k < n and _at(b, k) == 45:
                    neg = True
                    k += 1
                q = np.int64(0)
                nd = 0
                while k < n and 48 <= _at(b, k) <= 57 and nd < 18:
                    q = q * 10 + (_at(b, k) - 48)
                    nd += 1
                    k += 1
                if nd == 0 or (k < n and not _end(_at(b, k))):
                    return BAD_QID, rows, nnz, nfix, top, line, i
                qid[rows] = -q if neg else q
                i = k
                continue
            first = False
            idx, k = _digit_run(b, i, n, np.int64(0))
            nd = k - i
            # (more than 18 digits: refused as a malformed pair, as the index overflows)
            if nd == 0 or nd > 18 or k >= n or _at(b, k) != 58:
                return BAD_PAIR, rows, nnz, nfix, top, line, i
            if idx == 0 and offset == 1:
                return ZERO_INDEX, rows, nnz, nfix, top, line, i
            col = idx - offset
            if limit >= 0 and col >= limit:
                return OUT_OF_RANGE, rows, nnz, nfix, top, line, i
            if col <= prev:
                return NOT_INCREASING, rows, nnz, nfix, top, line, i
            prev = col
            if nnz >= data.shape[0]:
                return ARRAYS_FULL, rows, nnz, nfix, top, line, i
            v, j, exact = _number(b, k + 1, n)
            if not exact:
                if nfix >= cap:
                    return FIXUPS_FULL, rows, nnz, nfix, top, line, i
                fix[nfix, 0] = 1
                fix[nfix, 1] = nnz
                fix[nfix, 2] = k + 1
                fix[nfix, 3] = j
                fix[nfix, 4] = line
                nfix += 1
                indices[nnz] = col
                data[nnz] = 0.0
                nnz += 1
            elif v != 0.0:
                indices[nnz] = col
                data[nnz] = v
                nnz += 1
            i = j
        if prev > top:
            top = prev
        # the rest of the line (a comment) and its newline
        while i < n and _at(b, i) != 10:
            i += 1
        i += 1
        line += 1
        rows += 1
        indptr[rows] = nnz
    return OK, rows, nnz, nfix, top, line, i


@njit(cache=True, nogil=True)
def last_indices(buf, ends):
    """The largest index written in the lines ending at ``ends`` (newline positions; the
    buffer's length for a last line without one), read from each line's last pair (the
    indices of a line increase, so its last is its largest), or −2 when a line's end is not
    a plain ``index:value`` (a qid alone, a comment, anything unusual: the caller then
    parses the block).  −1: no pairs at all."""
    top = -1
    start = 0
    for e in ends:
        i = e - 1
        while i >= start and _space(buf[i]):
            i -= 1
        j = i
        while j >= start and not _space(buf[j]) and buf[j] != 58:
            j -= 1
        if j < start or _space(buf[j]):        # no pair: a label alone
            start = e + 1
            continue
        k = j - 1
        idx = np.int64(0)
        p = np.int64(1)
        nd = 0
        while k >= start and 48 <= buf[k] <= 57 and nd < 18:
            idx += (buf[k] - 48) * p
            p *= 10
            nd += 1
            k -= 1
        if nd == 0 or k < start or not _space(buf[k]):
            return -2
        if idx > top:
            top = idx
        start = e + 1
    return top


@njit(cache=True, nogil=True)
def permute_rows(indptr, indices, data, y, perm, out_indptr, out_indices, out_data, out_y):
    """Rows ``perm`` of a CSR block and its labels, in that order, written into the ``out_``
    arrays (as ``X[perm]``, ``y[perm]``: each row's entries in their order)."""
    at = 0
    out_indptr[0] = 0
    for r in range(perm.shape[0]):
        i = perm[r]
        for k in range(indptr[i], indptr[i + 1]):
            out_indices[at] = indices[k]
            out_data[at] = data[k]
            at += 1
        out_indptr[r + 1] = at
        out_y[r] = y[i]
