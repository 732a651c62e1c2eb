"""The compiled depth-first search of :mod:`linreg.selection.subsets` (numba, loaded on first
use): the lowest residual sum of squares of every subset size, over all ``2^d`` subsets.

The walk is the one :mod:`~linreg.selection.subsets` describes — a node ``S`` with largest
column ``j`` holds the Schur complement of the centred moment matrix on ``S``, restricted to
the columns after ``j`` and the target; its children's RSS are read off that block, and a
child's block is one rank-one update of it — done without Python in the loop: one
``(d+1) × (d+1)`` buffer per depth (at most ``d + 1`` of them), the subsets kept as bit masks.
Each node costs ``O(m)`` for its children's RSS and each child ``O(m²)`` for its block (``m``
the columns after ``j``), so the whole search is about ``2^d · 10`` multiply-adds at the sizes
it is meant for (``d ≤ 25``: a few seconds).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["search_subsets"]


@njit(cache=True)
def search_subsets(comoment, floor):
    """``(best, masks)``: ``best[s]`` the lowest RSS over subsets of size ``s`` (``inf`` when
    no subset of that size has full rank), ``masks[s]`` the subset attaining it (bit ``j`` set
    for column ``j``).  ``floor[j]``: below this remaining variance column ``j`` counts as a
    combination of the subset it would join, and it and its supersets there are skipped."""
    d = comoment.shape[0] - 1
    best = np.full(d + 1, np.inf)
    masks = np.zeros(d + 1, dtype=np.int64)
    best[0] = comoment[d, d]
    tiny = np.finfo(np.float64).tiny
    blocks = np.empty((d + 1, d + 1, d + 1))
    blocks[0] = comoment
    first = np.zeros(d + 1, dtype=np.int64)     # the first column of each depth's block
    mask = np.zeros(d + 1, dtype=np.int64)      # the subset of each depth
    cursor = np.zeros(d + 1, dtype=np.int64)    # the next child each depth tries
    ok = np.zeros((d + 1, d), dtype=np.bool_)   # columns of each depth's block that can enter
    t = 0
    entering = True
    while t >= 0:
        B = blocks[t]
        m = d - first[t]              # columns in the block; the target is at index m
        if entering:
            entering = False
            cursor[t] = 0
            size = t + 1
            low, arg = np.inf, -1
            for k in range(m):
                ok[t, k] = B[k, k] > floor[first[t] + k]
                if ok[t, k]:
                    rss = B[m, m] - B[k, m] * B[k, m] / B[k, k]
                    if rss < low:
                        low, arg = rss, k
            if arg >= 0 and low < best[size]:
                best[size] = max(low, tiny)
                masks[size] = mask[t] | (np.int64(1) << (first[t] + arg))
        # the next child that has children of its own (not the block's last column)
        k = cursor[t]
        while k < m - 1 and not ok[t, k]:
            k += 1
        if k >= m - 1:
            t -= 1
            continue
        cursor[t] = k + 1
        pivot = B[k, k]
        C = blocks[t + 1]
        for i in range(k + 1, m + 1):
            bik = B[i, k]
            for j in range(k + 1, m + 1):
                C[i - k - 1, j - k - 1] = B[i, j] - bik * B[k, j] / pivot
        first[t + 1] = first[t] + k + 1
        mask[t + 1] = mask[t] | (np.int64(1) << (first[t] + k))
        t += 1
        entering = True
    return best, masks
