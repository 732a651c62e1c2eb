"""Cluster-robust and HAC (Newey–West) covariances: their options, and the mergeable totals the
residual pass accumulates for them.

The scores are ``g_i = s_i r_i u_i`` (``u_i`` the whitened row of :mod:`.residual_pass`; in
θ coordinates ``s_i r_i x_i``, statsmodels' ``wexog · wresid``), and ``Cov θ = M Ω Mᵀ`` with
the meat ``Ω``::

    cluster   Ω = c Σ_g G_g G_gᵀ,   G_g = Σ_{i∈g} g_i,   c = G/(G − 1) · (n − 1)/(n − p)
    two-way   Ω = Ω_A + Ω_B − Ω_{A∩B}   (each with its own c: Cameron, Gelbach & Miller 2011)
    HAC       Ω = c [Σ_t g_t g_tᵀ + Σ_{l=1}^{L} w_l Σ_t (g_t g_{t−l}ᵀ + g_{t−l} g_tᵀ)],
              c = n/(n − p),   w_l = 1 − l/(L + 1) (Bartlett) or 1 (uniform)

with ``c = 1`` when ``use_correction`` is False (statsmodels' defaults: on for "cluster", off
for "HAC"; ``p`` counts every column of the design, as statsmodels' ``k_params``).

Both are sums that merge exactly across blocks, files and Dask partitions:

* :class:`ClusterSums` — the score sums ``G_g`` of the clusters a run of rows has seen, by
  label; two runs merge by adding the sums of the labels they share (a cluster may span
  blocks and partitions).  Memory: ``(number of clusters) × k × r`` floats (``r`` = number
  of parameters, ``k`` targets), and as much again for the intersection of two-way clusters.
* :class:`HacTotals` — the lag sums within a run, plus its first and last ``L`` scores, so
  that merging two consecutive runs adds exactly the lagged products across their boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse

__all__ = ["ROBUST_COV_TYPES", "KERNELS", "CovOptions", "check_cov_options", "ClusterSums",
           "HacTotals", "canonical_labels", "pair_labels", "robust_meats"]

ROBUST_COV_TYPES = ("cluster", "HAC")
KERNELS = ("bartlett", "uniform")


def lag_weights(maxlags: int, kernel: str) -> np.ndarray:
    """``w_0 … w_L``: Bartlett ``1 − l/(L + 1)``, uniform 1 (statsmodels' ``weights_*``)."""
    if kernel == "uniform":
        return np.ones(maxlags + 1)
    return 1.0 - np.arange(maxlags + 1) / (maxlags + 1.0)


# ----------------------------------------------------------------------------- options
@dataclass(frozen=True)
class CovOptions:
    """The covariance asked of :func:`~linreg.inference.summarize`, checked.

    ``groups``: one or two grouping variables, each a column name (a file source, a Dask
    DataFrame) or an array aligned with the rows.  ``use_correction``: the small-sample factor
    ``c`` above; ``df_correction``: cluster inference (t and F) on ``G − 1`` degrees of freedom
    (``G`` the smaller number of clusters), as statsmodels' ``df_resid_inference``."""

    cov_type: str = "nonrobust"
    groups: tuple = ()
    maxlags: int | None = None
    kernel: str = "bartlett"
    use_correction: bool = False
    df_correction: bool = False

    @property
    def group_names(self) -> list:
        """How the table calls the grouping variables."""
        return [g if isinstance(g, str) else f"groups[{i}]" if len(self.groups) > 1 else "groups"
                for i, g in enumerate(self.groups)]

    def weights(self) -> np.ndarray | None:
        return None if self.cov_type != "HAC" else lag_weights(self.maxlags, self.kernel)


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _group_arrays(groups) -> tuple:
    """One or two grouping variables: column names (str) or 1-D arrays."""
    from ..dask_support import is_dask_collection
    if isinstance(groups, str):
        return (groups,)
    if is_dask_collection(groups):
        groups = groups.compute()
    if hasattr(groups, "columns") and hasattr(groups, "to_numpy"):        # a DataFrame
        groups = tuple(groups[c].to_numpy() for c in groups.columns)
    elif hasattr(groups, "to_numpy"):                                       # a Series
        groups = (groups.to_numpy(),)
    elif isinstance(groups, (list, tuple)):
        if groups and all(isinstance(g, str) for g in groups):
            groups = tuple(groups)
        elif groups and all(np.ndim(g) >= 1 and not isinstance(g, str) for g in groups):
            groups = tuple(_group_arrays(g)[0] if not isinstance(g, np.ndarray) else g
                           for g in groups)
        else:
            groups = (np.asarray(groups),)
    else:
        a = np.asarray(groups)
        if a.ndim == 2:
            groups = tuple(a[:, j] for j in range(a.shape[1]))
        else:
            groups = (a,)
    out = []
    for g in groups:
        if isinstance(g, str):
            out.append(g)
            continue
        a = np.asarray(g)
        if a.ndim != 1:
            raise ValueError(f"groups must be one or two label arrays (one label a row) or "
                             f"column names; got an array of shape {a.shape}")
        out.append(a)
    if not 1 <= len(out) <= 2:
        raise ValueError(f"groups holds {len(out)} grouping variables; cluster-robust errors "
                         "take one (one-way) or two (two-way clustering)")
    if len({isinstance(g, str) for g in out}) > 1:
        raise ValueError("groups mixes column names and arrays: give both as names or both as "
                         "arrays")
    return tuple(out)


def check_cov_options(cov_type: str, groups=None, maxlags=None, kernel=None,
                      use_correction=None, df_correction=None) -> CovOptions:
    """The options of a covariance type, checked: each bad value is an error that names it."""
    if groups is not None and cov_type != "cluster":
        raise ValueError(f"groups is used only with cov_type='cluster', not {cov_type!r}")
    if cov_type != "HAC":
        for name, value in (("maxlags", maxlags), ("kernel", kernel)):
            if value is not None:
                raise ValueError(f"{name} is used only with cov_type='HAC', not {cov_type!r}")
    if cov_type not in ROBUST_COV_TYPES and use_correction is not None:
        raise ValueError(f"use_correction is used only with cov_type='cluster' or 'HAC', not "
                         f"{cov_type!r} (HC1 is HC0 with the correction n/(n − p))")
    if cov_type != "cluster" and df_correction is not None:
        raise ValueError(f"df_correction is used only with cov_type='cluster', not {cov_type!r}")
    for name, value in (("use_correction", use_correction), ("df_correction", df_correction)):
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise ValueError(f"{name}={value!r} must be True or False")
    if cov_type == "cluster":
        if groups is None:
            raise ValueError("cov_type='cluster' needs groups: the cluster of each row (an "
                             "array aligned with the rows, or two of them for two-way "
                             "clustering; for a file source or a Dask DataFrame, column names)")
        return CovOptions("cluster", _group_arrays(groups),
                          use_correction=True if use_correction is None else bool(use_correction),
                          df_correction=True if df_correction is None else bool(df_correction))
    if cov_type == "HAC":
        if maxlags is None:
            raise ValueError("cov_type='HAC' needs maxlags, the number of lags the errors may be "
                             "correlated over (Newey and West's rule of thumb: "
                             "floor(4·(n/100)^(2/9)), 4 for n = 100)")
        if not _is_int(maxlags) or maxlags < 0:
            raise ValueError(f"maxlags={maxlags!r} must be an integer >= 0")
        kernel = "bartlett" if kernel is None else kernel
        if kernel not in KERNELS:
            raise ValueError(f"kernel={kernel!r} is not one of {list(KERNELS)}")
        return CovOptions("HAC", maxlags=int(maxlags), kernel=kernel,
                          use_correction=bool(use_correction))
    return CovOptions(cov_type)


# ----------------------------------------------------------------------------- labels
def _missing(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "f":
        return np.isnan(a)
    if a.dtype.kind == "O":
        return np.fromiter((v is None or (isinstance(v, float) and v != v) for v in a),
                           dtype=bool, count=a.shape[0])
    return np.zeros(a.shape[0], dtype=bool)


def canonical_labels(a, what: str) -> np.ndarray:
    """Cluster labels in one form whatever block they come from: integers (also integral
    floats) as int64, other floats as float64, anything else (text) as objects.  A missing
    label (NaN, None) is an error naming the row (``what`` says where the block is)."""
    a = np.asarray(a)
    if a.ndim != 1:
        raise ValueError(f"{what}: cluster labels must be one label a row, got shape {a.shape}")
    bad = _missing(a)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{what}, row {r}: the cluster id is missing ({a[r]!r}); every row "
                         "needs a cluster (drop those rows, or give them their own ids)")
    kind = a.dtype.kind
    if kind in "biu":
        return a.astype(np.int64)
    if kind == "f":
        if a.size and np.all(a == np.round(a)) and np.all(np.abs(a) < 2.0**53):
            return a.astype(np.int64)
        return a.astype(np.float64)
    if kind in "US":
        return a.astype(object)
    if kind != "O":
        raise ValueError(f"{what}: cluster labels of dtype {a.dtype} are not supported (use "
                         "integers or text)")
    return a


def pair_labels(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The label of each row's intersection cluster ``(a_i, b_i)`` (two-way clustering)."""
    if a.dtype != object and b.dtype != object:
        pairs = np.empty(a.shape[0], dtype=[("a", a.dtype), ("b", b.dtype)])
        pairs["a"], pairs["b"] = a, b
        return pairs
    pairs = np.empty(a.shape[0], dtype=object)
    pairs[:] = list(zip(a.tolist(), b.tolist(), strict=True))
    return pairs


def _unique(labels: np.ndarray):
    try:
        return np.unique(labels, return_inverse=True)
    except TypeError:
        raise ValueError("the cluster labels mix types that cannot be ordered (e.g. numbers "
                         "and text): give every row a label of the same type") from None


# ----------------------------------------------------------------------------- clusters
class ClusterSums:
    """The score sums per cluster of a run of rows: ``labels`` (sorted, unique) and
    ``sums`` of shape (clusters, k, r).  Blocks append their parts; :meth:`compact` adds the
    parts of equal labels (done when the parts grow, so memory stays about the number of
    clusters × k × r)."""

    def __init__(self, parts=None):
        self.parts = [] if parts is None else list(parts)      # [(labels, sums)]
        self._compact_size = 0

    @classmethod
    def of_block(cls, labels: np.ndarray, A: np.ndarray, W: np.ndarray) -> ClusterSums:
        """The sums ``Σ_{i∈g} a_ij u_i`` of one block: ``labels`` (m,), the score factors
        ``A = s·r`` (m, k) and the whitened rows ``W`` (m, r)."""
        uniq, inv = _unique(labels)
        m = labels.shape[0]
        k, r = A.shape[1], W.shape[1]
        sums = np.empty((uniq.shape[0], k, r))
        for j in range(k):
            P = scipy.sparse.csr_matrix((A[:, j], (inv, np.arange(m))), shape=(uniq.shape[0], m))
            sums[:, j, :] = P @ W
        return cls([(uniq, sums)])

    @property
    def size(self) -> int:
        return sum(labels.shape[0] for labels, _ in self.parts)

    def merge(self, later: ClusterSums) -> ClusterSums:
        self.parts.extend(later.parts)
        if self.size > max(4 * self._compact_size, 1 << 14):
            self.compact()
        return self

    def compact(self) -> ClusterSums:
        """One part: the sums of equal labels added."""
        if len(self.parts) > 1:
            try:
                labels = np.concatenate([p[0] for p in self.parts])
            except (TypeError, ValueError):
                raise ValueError("the cluster labels have different types in different parts of "
                                 "the data (e.g. numbers in one, text in another): give every "
                                 "row a label of the same type") from None
            sums = np.concatenate([p[1] for p in self.parts])
            uniq, inv = _unique(labels)
            order = np.argsort(inv, kind="stable")
            starts = np.flatnonzero(np.r_[True, np.diff(inv[order]) != 0])
            self.parts = [(uniq, np.add.reduceat(sums[order], starts, axis=0))]
        self._compact_size = self.size
        return self

    def n_clusters(self) -> int:
        return self.compact().size

    def meat(self, j: int) -> np.ndarray:
        """``Σ_g G_g G_gᵀ`` for target ``j`` (r × r)."""
        self.compact()
        if not self.parts:
            return None
        S = self.parts[0][1][:, j, :]
        return S.T @ S


# ----------------------------------------------------------------------------- HAC
@dataclass
class HacTotals:
    """Lagged score products of a run of consecutive rows, per target: ``meat`` (k, r, r) the
    sum within the run (lag 0 and the weighted lags 1…L), ``head`` and ``tail`` (k, ≤L, r) its
    first and last ``L`` scores, for the products across the boundary with the runs before
    and after."""

    meat: np.ndarray
    head: np.ndarray
    tail: np.ndarray

    @classmethod
    def of_block(cls, A: np.ndarray, W: np.ndarray, weights: np.ndarray) -> HacTotals:
        """``Σ_t g_t g_tᵀ + Σ_l w_l Σ_t (g_t g_{t−l}ᵀ + transpose) = sym(Gᵀ(G + 2V))`` with
        ``V_t = Σ_{l≥1} w_l g_{t−l}`` (one product per target instead of one per lag)."""
        m, k = A.shape
        r = W.shape[1]
        L = weights.shape[0] - 1
        meat = np.empty((k, r, r))
        edge = min(L, m)
        head, tail = np.empty((k, edge, r)), np.empty((k, edge, r))
        for j in range(k):
            G = W * A[:, j][:, None]
            V = np.zeros_like(G)
            for lag in range(1, min(L, m - 1) + 1):
                V[lag:] += weights[lag] * G[:-lag]
            P = G.T @ (G + 2.0 * V)
            meat[j] = 0.5 * (P + P.T)
            head[j], tail[j] = G[:edge], G[m - edge:]
        return cls(meat, head, tail)

    def merge(self, later: HacTotals, weights: np.ndarray) -> HacTotals:
        """Add the run right after this one: its sums and the products across the boundary,
        ``Σ w_{lag} (h_i t_jᵀ + t_j h_iᵀ)`` over this run's last rows ``t_j`` and the next
        run's first rows ``h_i`` at lag ``i + (len(tail) − j) ≤ L``."""
        L = weights.shape[0] - 1
        nt, nh = self.tail.shape[1], later.head.shape[1]
        cross = np.zeros_like(self.meat)
        if L > 0 and nt and nh:
            lag = np.arange(nh)[:, None] + (nt - np.arange(nt))[None, :]
            Wm = np.where(lag <= L, weights[np.minimum(lag, L)], 0.0)
            for j in range(self.meat.shape[0]):
                C = later.head[j].T @ Wm @ self.tail[j]
                cross[j] = C + C.T
        self.meat = self.meat + later.meat + cross
        self.head = np.concatenate([self.head, later.head], axis=1)[:, :L]
        tail = np.concatenate([self.tail, later.tail], axis=1)
        self.tail = tail[:, max(0, tail.shape[1] - L):]
        return self


# ----------------------------------------------------------------------------- the meats
def robust_meats(options: CovOptions, totals, nobs: int, n_params: int):
    """The meats ``Ω_j`` (one per target) of a cluster or HAC covariance from the merged pass
    totals, with the small-sample factors; and the number of clusters per grouping variable
    (an empty tuple for HAC)."""
    k = totals.ssr.shape[0]
    if options.cov_type == "HAC":
        c = nobs / (nobs - n_params) if options.use_correction else 1.0
        return [c * totals.hac.meat[j] for j in range(k)], ()
    sums = totals.clusters
    counts = tuple(s.n_clusters() for s in sums)
    for name, G in zip(options.group_names, counts[:len(options.groups)], strict=True):
        if G < 2:
            raise ValueError(f"cluster-robust errors need at least 2 clusters, but {name} puts "
                             f"all {nobs} rows in {G} cluster: with one cluster the within-cluster "
                             "correlation cannot be estimated (use cov_type='HC1', or other groups)")

    def factor(G):
        if not options.use_correction:
            return 1.0
        return G / (G - 1.0) * (nobs - 1.0) / (nobs - n_params) if G > 1 else 0.0

    signs = [1.0, 1.0, -1.0]
    meats = []
    for j in range(k):
        omega = 0.0
        for sign, s, G in zip(signs, sums, counts, strict=False):
            omega = omega + sign * factor(G) * s.meat(j)
        meats.append(omega)
    return meats, counts[:len(options.groups)]
