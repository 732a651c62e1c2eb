"""Analysis of variance by model term, from the sufficient statistics: statsmodels'
``anova_lm(result, typ=1 | 2 | 3)`` for one fit.

The sums of squares are reductions of the residual sum of squares, computed from the moment
matrix the fit kept — no pass over the rows.  With an intercept (which every model compared
here keeps) that is the centred ``[[G, c], [cᵀ, q]]`` of the statistics; without one, the
uncentred ``G + n_w x̄x̄ᵀ`` and its like.  It is equilibrated to unit diagonal, and columns
enter one at a time, Cholesky-style: column ``j``, after the set ``S`` already in, has the
pivot ``π_j = S_jj − l_jᵀl_j`` (``l_j = L_S⁻¹ S_Sj``, the fraction of its variance the set
leaves unexplained) and reduces the RSS by ``z_j² = ((c_j − l_jᵀz_S)/√π_j)²`` — the squared
"effect" a QR factorization of the design in that column order would give, summed as
positive numbers with no subtraction of large RSS values.  A column whose pivot is below
``RANK_TOLERANCE²`` (:mod:`linreg.rank`) is a combination of those before it: it adds nothing
and no degree of freedom.

* type I (sequential): the terms in model order, each given the ones before it;
  ``SS(T) = Σ_{j∈T} z_j²``, df = the columns of ``T`` that enter;
* type II: each term given every term that does not contain it (:func:`.terms.contains`:
  ``species:sex`` contains ``species``), i.e. ``SS(T | terms not containing T)``;
* type III: each term given all the others, the intercept included, as a Wald statistic
  ``θ_Tᵀ B_TT⁻¹ θ_T`` (``B = (XᵀSX)⁻¹`` from the statistics' factor, ``θ`` the least-squares
  solution) — what it is for a full-rank design; it tests what is usually meant only with
  sum-to-zero contrasts (``C(x, Sum)``).

``F = (SS/df) / σ²`` with ``σ² = SSR/df_resid`` of the full model (its Residual row is the
summary's ``ssr`` and ``df_resid``) and ``P(F_{df, df_resid} > F)``.  Weighted fits use the
weighted statistics: statsmodels' ``WLS``.

statsmodels computes type I from a QR factorization without pivoting and counts each term's
columns as its degrees of freedom: on a rank-deficient design its dependent columns add
rounding noise to the sums and a degree of freedom each.  Here they add neither (as R's
``anova``), so the degrees of freedom and sums of squares still add up to ``n − 1`` and the
total sum of squares.  Type III refuses a rank-deficient design (its terms' coefficients
are not all identified).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.stats

from ..exceptions import warn_user
from ..rank import RANK_TOLERANCE
from .factor import GramFactor
from .terms import INTERCEPT_TERM, contains

__all__ = ["anova_table", "sequential_reductions", "ANOVA_TYPES"]

#: the types and statsmodels' other spellings of them
ANOVA_TYPES = {1: 1, "I": 1, 2: 2, "II": 2, 3: 3, "III": 3}


def sequential_reductions(S: np.ndarray, c: np.ndarray, order,
                          block: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``(reduction, entered)`` per column of ``order``: the drop in RSS as each column
    joins those before it, and whether it entered (its pivot above the rank tolerance).

    ``S`` is the moment matrix of the columns equilibrated to unit diagonal (zero for an
    all-zero column) and ``c`` their moments with the target, in the same scaling.

    A Cholesky factor of the columns entered so far grows by ``block`` columns at a time: the
    block's Schur complement with the columns before it comes from one triangular solve with
    many right-hand sides (BLAS), and only inside a block are columns entered one by one
    (the same pivots, in the same order, as entering every column alone).
    """
    order = list(order)
    m = len(order)
    reduction = np.zeros(m)
    entered = np.zeros(m, dtype=bool)
    L = np.zeros((m, m))           # the factor of the columns entered, in entry order
    z = np.zeros(m)
    inside: list[int] = []         # their columns (indices into S)
    for start in range(0, m, block):
        positions = list(range(start, min(start + block, m)))
        J = [order[p] for p in positions]
        k = len(inside)
        if k:
            R = scipy.linalg.solve_triangular(L[:k, :k], S[np.ix_(inside, J)], lower=True,
                                              check_finite=False)
            C = S[np.ix_(J, J)] - R.T @ R
            cz = c[J] - R.T @ z[:k]
        else:
            R = np.zeros((0, len(J)))
            C = S[np.ix_(J, J)].copy()
            cz = c[J].copy()
        local: list[int] = []
        Ll = np.zeros((len(J), len(J)))
        zl = np.zeros(len(J))
        for t, (p, j) in enumerate(zip(positions, J)):
            s_jj = S[j, j]
            if not s_jj > 0:
                continue
            q = len(local)
            if q:
                row = scipy.linalg.solve_triangular(Ll[:q, :q], C[local, t], lower=True,
                                                    check_finite=False)
                pivot = C[t, t] - row @ row
            else:
                row, pivot = np.zeros(0), C[t, t]
            if not pivot > RANK_TOLERANCE**2 * s_jj:
                continue
            root = np.sqrt(pivot)
            Ll[q, :q] = row
            Ll[q, q] = root
            zl[q] = (cz[t] - row @ zl[:q]) / root
            reduction[p] = zl[q] ** 2
            entered[p] = True
            local.append(t)
        q = len(local)
        if q:
            L[k:k + q, :k] = R[:, local].T
            L[k:k + q, k:k + q] = Ll[:q, :q]
            z[k:k + q] = zl[:q]
            inside += [J[t] for t in local]
    return reduction, entered


def _moments(stats, target: int, fit_intercept: bool):
    """The equilibrated moment matrix of the columns and their moments with the target."""
    G = np.asarray(stats.gram, dtype=np.float64)
    c = np.asarray(stats.cross, dtype=np.float64)[:, target]
    if not fit_intercept:
        n_w, mx = float(stats.weight_sum), np.asarray(stats.mean_x, dtype=np.float64)
        G = G + n_w * np.outer(mx, mx)
        c = c + n_w * mx * float(stats.mean_y[target])
    diag = np.diag(G)
    scale = np.sqrt(np.where(diag > 0, diag, 1.0))
    S = G / np.outer(scale, scale)
    S[diag <= 0, :] = 0.0
    S[:, diag <= 0] = 0.0
    return S, c / scale


def _type3(result, stats, target: int, terms: dict) -> dict:
    """``{term: (SS, df)}`` with each term last: ``θ_Tᵀ B_TT⁻¹ θ_T``."""
    if not np.asarray(result.identified).all():
        raise ValueError("type III sums of squares need every coefficient identified, and "
                         "this design is rank-deficient (see the summary's unidentified "
                         "coefficients): use typ=1 or typ=2, or drop the dependent columns")
    fit_intercept = bool(result.k_intercept)
    factor = GramFactor(stats, fit_intercept)
    if fit_intercept:
        w = factor.solve(np.asarray(stats.cross)[:, [target]])[:, 0]
        theta = np.concatenate([[stats.mean_y[target] - stats.mean_x @ w], w])
    else:
        rhs = (np.asarray(stats.cross)[:, target]
               + stats.weight_sum * np.asarray(stats.mean_x) * stats.mean_y[target])
        theta = factor.solve(rhs[:, None])[:, 0]
    B = factor.bread()
    out = {}
    for name, cols in terms.items():
        t = theta[cols]
        out[name] = (float(t @ scipy.linalg.solve(B[cols, cols], t, assume_a="pos")),
                     cols.stop - cols.start)
    return out


def _sums_of_squares(result, stats, target: int, typ: int) -> dict:
    """``{term: (SS, df)}`` of the ANOVA table (the intercept's row only for type III)."""
    terms = dict(result.term_slices)
    k = int(result.k_intercept)
    if typ == 3:
        return _type3(result, stats, target, terms)
    terms.pop(INTERCEPT_TERM, None)
    # the columns of coef_ (the intercept is implicit in the centred moments)
    columns = {name: list(range(s.start - k, s.stop - k)) for name, s in terms.items()}
    S, c = _moments(stats, target, bool(k))
    out = {}
    if typ == 1:
        order = [j for cols in columns.values() for j in cols]
        reduction, entered = sequential_reductions(S, c, order)
        at = 0
        for name, cols in columns.items():
            part = slice(at, at + len(cols))
            out[name] = (float(reduction[part].sum()), int(entered[part].sum()))
            at += len(cols)
        return out
    for name, cols in columns.items():
        base = [j for other, oc in columns.items()
                if other != name and not contains(other, name) for j in oc]
        reduction, entered = sequential_reductions(S, c, base + cols)
        out[name] = (float(reduction[len(base):].sum()), int(entered[len(base):].sum()))
    return out


def anova_table(result, typ=1):
    """The ANOVA table of one target's results, as statsmodels' ``anova_lm(result, typ=typ)``
    (a pandas DataFrame indexed by the terms and ``Residual``).

    Type 1: columns ``df``, ``sum_sq``, ``mean_sq``, ``F``, ``PR(>F)``; types 2 and 3:
    ``sum_sq``, ``df``, ``F``, ``PR(>F)``.  See the module docstring for what each type is.
    """
    try:
        known = not isinstance(typ, (bool, np.bool_)) and typ in ANOVA_TYPES
    except TypeError:                       # unhashable
        known = False
    if not known:
        raise ValueError(f"typ={typ!r} is not an ANOVA type: use 1 (sequential), 2 (each term "
                         "given the terms that do not contain it) or 3 (each term given all "
                         "the others), or statsmodels' 'I', 'II', 'III'")
    typ = ANOVA_TYPES[typ]
    if result.term_slices is None:
        raise ValueError(
            "anova() needs the model's terms (which columns make up each variable or "
            "interaction), and this model has none: fit it from a formula, or from a table "
            "whose categorical columns make named terms, so that it records terms_ (a plain "
            "array's columns are not grouped; for one column at a time see "
            "wald_test_terms())")
    stats = result.sufficient_stats
    if stats is None:
        raise ValueError("anova() needs the training statistics the summary was made from")
    if not result.df_resid > 0:
        raise ValueError(f"anova() needs residual degrees of freedom, and this fit has "
                         f"{result.df_resid} (observations ≤ parameters)")
    if result.cov_type != "nonrobust":
        warn_user(f"the ANOVA table's F tests assume homoscedastic errors, whatever the "
                  f"summary's cov_type ({result.cov_type!r}); for robust joint tests of the "
                  "terms use wald_test_terms()", UserWarning)
    import pandas as pd
    sums = _sums_of_squares(result, stats, result.target_index, typ)
    ssr, df_resid = float(result.ssr), float(result.df_resid)
    sigma2 = ssr / df_resid
    index = list(sums) + ["Residual"]
    sum_sq = np.array([s for s, _ in sums.values()] + [ssr])
    df = np.array([float(d) for _, d in sums.values()] + [df_resid])
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_sq = np.where(df > 0, sum_sq / df, np.nan)
        F = mean_sq / sigma2
    F[-1] = np.nan
    pvalue = scipy.stats.f.sf(F, df, df_resid)
    pvalue[-1] = np.nan
    if typ == 1:
        columns = {"df": df, "sum_sq": sum_sq, "mean_sq": mean_sq, "F": F, "PR(>F)": pvalue}
    else:
        columns = {"sum_sq": sum_sq, "df": df, "F": F, "PR(>F)": pvalue}
    return pd.DataFrame(columns, index=index)
