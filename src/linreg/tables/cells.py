"""Sufficient statistics of a table without dummy columns.

A term with categorical factors puts each row in one *cell* (the combination of its levels)
and gives it the product ``v`` of its numeric factors there (1 when it has none).  In the
space of all cells seen, the term's columns ``s_(c,j) = v_j·[cell = c]`` have::

    Σ w s_(c,j)                = group sums                           (a bincount)
    Σ w x̃ s_(c,j)              = group sums of the centred numbers    (one sparse product)
    within one term            = block diagonal by cell − S Sᵀ/W      (no cell overlaps another)
    between two terms          = a contingency table − S_g S_hᵀ/W

so a block costs O(n·(p + terms)) plus the tables, never O(n·levels²), and memory grows with
the cells, not with the rows.  Unweighted indicator blocks are computed in exact integer
arithmetic before the one division by ``W``.

A block's statistics are kept with a key per column — ``(term, cell, j)`` with the cell as
the tuple of its levels (the values) — so blocks that saw different levels merge exactly: a
column a block never saw is zero in every one of its rows (mean 0, co-moments 0).  At the end,
:func:`design_stats` maps the statistics of the cells onto the design's columns (treatment
contrasts, full coding, subterms) by one sparse 0/1 matrix ``T``: ``mean = Tᵀμ``,
``G = Tᵀ M T`` — exact, since every design column is a sum of cell columns.
"""

from __future__ import annotations

import itertools

import numpy as np
import scipy.sparse as sp

from ..stats import SufficientStats

__all__ = ["CellStats", "cell_stats", "design_stats"]


class CellStats:
    """Statistics of ``[cell columns…, targets]`` with a key per feature column."""

    def __init__(self, keys: list, stats: SufficientStats):
        self.keys, self.stats = list(keys), stats

    def merge(self, other: "CellStats") -> "CellStats":
        if self.keys == other.keys:
            return CellStats(self.keys, self.stats.merge(other.stats))
        keys = list(self.keys)
        index = {k: i for i, k in enumerate(keys)}
        for k in other.keys:
            if k not in index:
                index[k] = len(keys)
                keys.append(k)
        return CellStats(keys, _pad(self, index, len(keys)).merge(_pad(other, index, len(keys))))


def _pad(cs: CellStats, index: dict, d: int) -> SufficientStats:
    """``cs``'s statistics in the column order ``index`` (zero where it saw no such column)."""
    s = cs.stats
    k = s.n_targets
    pos = np.array([index[key] for key in cs.keys] + list(range(d, d + k)), dtype=np.intp)
    mean = np.zeros(d + k)
    mean[pos] = s.mean
    M = np.zeros((d + k, d + k))
    M[np.ix_(pos, pos)] = s.comoment
    return SufficientStats(s.n_rows, s.weight_sum, mean, M, d)


def _term_columns(enc, encoding):
    """Per term of the formula: ``("dense", keys, values)`` for numeric-only terms, or
    ``("cells", keys, cell_per_row, values_or_None)``."""
    out = []
    for t, term in enumerate(encoding.formula.terms):
        nums = [f for f in term.factors if encoding.kinds[f] == "numeric"]
        cats = [f for f in term.factors if encoding.kinds[f] == "categorical"]
        V, widths = None, []
        if nums:
            widths = [enc.numeric[f].shape[1] for f in nums]
            cols = []
            for combo in itertools.product(*[range(m) for m in reversed(widths)]):
                combo = combo[::-1]
                v = np.ones(enc.n_rows)
                for f, j in zip(nums, combo):
                    v = v * enc.numeric[f][:, j]
                cols.append(v)
            V = np.column_stack(cols) if cols else np.ones((enc.n_rows, 1))
        m = 1 if V is None else V.shape[1]
        if not cats:
            out.append(("dense", [(t, (), j) for j in range(m)], V))
            continue
        key = np.zeros(enc.n_rows, dtype=np.int64)
        radix = []
        for f in cats:
            size = max(len(encoding.levels[f]), 1)
            key = key * size + enc.codes[f]
            radix.append(size)
        cells, cell_of_row = np.unique(key, return_inverse=True)
        tuples = []
        for c in cells.tolist():
            parts = []
            for size in reversed(radix):
                parts.append(c % size)
                c //= size
            # keyed by the levels themselves: blocks and partitions that learned their levels
            # in different orders (or apart, on a cluster) merge by value
            tuples.append(tuple(encoding.levels[f][i] for f, i in zip(cats, reversed(parts))))
        keys = [(t, cell, j) for cell in tuples for j in range(m)]
        out.append(("cells", keys, cell_of_row.reshape(-1).astype(np.int64), V, len(cells)))
    return out


def cell_stats(enc, encoding) -> CellStats:
    """The :class:`CellStats` of one evaluated block (see the module docstring)."""
    n = enc.n_rows
    w = enc.w
    W = float(n) if w is None else float(w.sum())
    wv = np.ones(n) if w is None else w
    parts = _term_columns(enc, encoding)
    dense_keys, dense_cols = [], []
    groups = []
    for part in parts:
        if part[0] == "dense":
            dense_keys += part[1]
            dense_cols.append(part[2])
        else:
            groups.append(part)
    Y = enc.Y
    k = Y.shape[1]
    D = np.column_stack(dense_cols + [Y]) if dense_cols else Y
    p = D.shape[1] - k
    if n == 0 or W == 0:
        keys = dense_keys + [key for g in groups for key in g[1]]
        d = len(keys)
        return CellStats(keys, SufficientStats(n, 0.0, np.zeros(d + k), np.zeros((d + k, d + k)), d))
    muD = (wv @ D) / W
    Dc = D - muD
    sizes = [len(g[1]) for g in groups]
    d = p + sum(sizes)
    mean = np.zeros(d + k)
    M = np.zeros((d + k, d + k))
    dpos = np.r_[np.arange(p), np.arange(d, d + k)]
    mean[dpos] = muD
    M[np.ix_(dpos, dpos)] = Dc.T @ (Dc * wv[:, None])
    starts = np.cumsum([p] + sizes)[:-1]
    sums, exact = [], []
    for (_, _, cell, V, K), s0 in zip(groups, starts):
        m = 1 if V is None else V.shape[1]
        cols = np.arange(s0, s0 + K * m)
        WV = wv[:, None] if V is None else wv[:, None] * V          # (n, m)
        S = np.column_stack([np.bincount(cell, WV[:, j], minlength=K) for j in range(m)])  # K × m
        mean[cols] = S.reshape(-1) / W
        sums.append(S)
        exact.append(w is None and V is None)
        # with the dense columns: Σ w v_j x̃ over each cell (Σ w x̃ = 0, so no correction)
        for j in range(m):
            P = sp.csr_matrix((WV[:, j], (cell, np.arange(n))), shape=(K, n))
            block = np.asarray(P @ Dc)                              # K × (p + k)
            M[np.ix_(cols[j::m], dpos)] = block
            M[np.ix_(dpos, cols[j::m])] = block.T
        # within the term: cells never overlap
        Wc = np.bincount(cell, wv, minlength=K)
        inner = np.zeros((K, m, m))
        if V is None:
            inner[:, 0, 0] = Wc * ((W - Wc) / W)
            M[np.ix_(cols, cols)] = -np.outer(S[:, 0], S[:, 0]) / W
            M[cols, cols] = inner[:, 0, 0]
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                cm = np.where(Wc[:, None] > 0, S / Wc[:, None], 0.0)   # cell means of v
            U = V - cm[cell]
            for a in range(m):
                for b in range(a, m):
                    within = np.bincount(cell, wv * U[:, a] * U[:, b], minlength=K)
                    inner[:, a, b] = inner[:, b, a] = within + Wc * cm[:, a] * cm[:, b] * ((W - Wc) / W)
            Sf = S.reshape(-1)
            full = -np.outer(Sf, Sf) / W
            for c in range(K):
                full[c * m:(c + 1) * m, c * m:(c + 1) * m] = inner[c]
            M[np.ix_(cols, cols)] = full
    # between terms: contingency tables
    for a, b in itertools.combinations(range(len(groups)), 2):
        _, _, cell_a, Va, Ka = groups[a]
        _, _, cell_b, Vb, Kb = groups[b]
        ma = 1 if Va is None else Va.shape[1]
        mb = 1 if Vb is None else Vb.shape[1]
        cols_a = np.arange(starts[a], starts[a] + Ka * ma)
        cols_b = np.arange(starts[b], starts[b] + Kb * mb)
        raw = np.zeros((Ka * ma, Kb * mb))
        for i in range(ma):
            for j in range(mb):
                weight = wv.copy() if w is not None else None
                if Va is not None:
                    weight = (wv if weight is None else weight) * Va[:, i]
                if Vb is not None:
                    weight = (wv if weight is None else weight) * Vb[:, j]
                raw[i::ma, j::mb] = _table(cell_a, cell_b, Ka, Kb, weight)
        if exact[a] and exact[b]:
            # integer counts: (N_ab·W − N_a·N_b) exactly, then one division
            Sa = np.rint(sums[a][:, 0]).astype(np.int64)
            Sb = np.rint(sums[b][:, 0]).astype(np.int64)
            block = (np.rint(raw).astype(np.int64) * int(W) - np.outer(Sa, Sb)) / W
        else:
            block = raw - np.outer(sums[a].reshape(-1), sums[b].reshape(-1)) / W
        M[np.ix_(cols_a, cols_b)] = block
        M[np.ix_(cols_b, cols_a)] = block.T
    keys = dense_keys + [key for g in groups for key in g[1]]
    return CellStats(keys, SufficientStats(n, W, mean, M, d))


def _table(cell_a, cell_b, Ka: int, Kb: int, weight) -> np.ndarray:
    """``Σ weight`` over the rows of each pair of cells (a Ka × Kb contingency table)."""
    if Ka * Kb <= max(4 * len(cell_a), 1 << 20):
        return np.bincount(cell_a * Kb + cell_b, weight, minlength=Ka * Kb).reshape(Ka, Kb).astype(float)
    pairs, inverse = np.unique(cell_a * Kb + cell_b, return_inverse=True)
    out = np.zeros((Ka, Kb))
    out[pairs // Kb, pairs % Kb] = np.bincount(inverse.reshape(-1), weight, minlength=len(pairs))
    return out


def design_stats(cs: CellStats, encoding) -> SufficientStats:
    """The statistics of the design's columns (``encoding`` finalized) from those of the
    cells: ``mean = Tᵀμ``, ``M = Tᵀ M T`` with ``T`` the 0/1 map of cells to columns.  A
    level the encoding does not know (a model's levels fixed before these rows) is an
    error."""
    d_cells, k = len(cs.keys), cs.stats.n_targets
    rows, cols = [], []
    by_term = {}
    for i, key in enumerate(cs.keys):
        by_term.setdefault(key[0], []).append(i)
    piece_of_term = _pieces_by_term(encoding)
    for t, idx in by_term.items():
        term = encoding.formula.terms[t]
        cats = [f for f in term.factors if encoding.kinds[f] == "categorical"]
        for base, dims in piece_of_term[term.name]:
            for i in idx:
                _, cell, j = cs.keys[i]
                levels = {f: encoding.level_position(f, v) for f, v in zip(cats, cell)}
                col, ok, rest = base, True, j
                for expr, kind, _, stride, _ in dims:
                    if kind == "numeric":
                        continue
                    pos = levels[expr]
                    if kind == "treatment":
                        ref = encoding.ref_index[expr]
                        if pos == ref:
                            ok = False
                            break
                        pos -= pos > ref
                    col += pos * stride
                if not ok:
                    continue
                # the numeric combination j (first numeric factor fastest) in the piece
                for _, kind, size, stride, _ in dims:
                    if kind == "numeric":
                        col += (rest % size) * stride
                        rest //= size
                rows.append(i)
                cols.append(col)
    d = encoding.n_columns
    T = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(d_cells, d))
    T = sp.block_diag([T, sp.identity(k)], format="csr")
    s = cs.stats
    mean = T.T @ s.mean
    M = np.asarray((T.T @ (T.T @ s.comoment).T).T)
    M = (M + M.T) / 2
    return SufficientStats(s.n_rows, s.weight_sum, np.asarray(mean).reshape(-1), M, d)


def _pieces_by_term(encoding) -> dict:
    out, it = {}, iter(encoding.pieces)
    for tl in encoding.layout:
        out[tl.term.name] = [next(it) for _ in tl.subterms]
    return out
