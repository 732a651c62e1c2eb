"""Coefficient names and model terms: what a fit's ``coef_names_`` and ``terms_`` say, checked,
and the joint Wald test of each term (:func:`wald_test_terms`).

A fit from a formula or a table with categorical columns names each column of ``coef_``
(``coef_names_``, e.g. ``species[T.Gentoo]``, ``species[T.Gentoo]:sex[T.male]``) and groups
the columns into *terms* (``terms_``: ``{"species": slice(0, 2), "species:sex": …}``, in model
order, contiguous, every column in exactly one term, the intercept in none).  The results
then name the intercept ``Intercept`` (as statsmodels and patsy do) and treat it as a term of
its own, first.

A term's *factors* are its name split at the top-level ``:`` (``species:sex`` has ``species``
and ``sex``; the ``:`` inside ``C(x, levels=['a:b'])`` or ``x[T.a:b]`` does not split); a term
*contains* another when its factors are a strict superset of the other's (``species:sex``
contains ``species`` and ``sex``) — what type II sums of squares leave out
(:mod:`.anova`).

The joint Wald test of a term ``T`` (all its columns at once, ``R`` the rows of the identity
for them) is :func:`~.restrictions.f_test`'s ``F = θ_Tᵀ V_TT⁻¹ θ_T / q`` on ``(q, df)``
degrees of freedom with the results' covariance — or, when the results use the normal
(``use_t`` False, the default for robust covariances), ``χ² = q F`` on ``q`` degrees of
freedom — as statsmodels' ``wald_test_terms(skip_single=False, scalar=True)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import scipy.stats

from . import restrictions

__all__ = ["INTERCEPT_TERM", "check_coef_names", "check_terms", "term_factors", "contains",
           "parameter_names", "TermTests", "wald_test_terms"]

#: the intercept's name (and its term's) when the fit has terms, as statsmodels names it
INTERCEPT_TERM = "Intercept"
#: the intercept's name in a fit without terms
PLAIN_INTERCEPT = "intercept"


def check_coef_names(names, d: int) -> list[str]:
    """``coef_names_`` as a list of ``d`` strings, or a ValueError that says what is wrong."""
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ValueError(f"coef_names_ must be a list of {d} strings (one name per column of "
                         f"coef_), got {names!r}")
    names = list(names)
    if len(names) != d:
        raise ValueError(f"coef_names_ has {len(names)} names, but coef_ has {d} columns: "
                         "one name per column (the intercept not included)")
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise ValueError(f"coef_names_ must hold strings; {bad[0]!r} is a "
                         f"{type(bad[0]).__name__}")
    return names


def check_terms(terms, d: int) -> dict[str, slice]:
    """``terms_`` as ``{name: slice}`` over the ``d`` columns of ``coef_``, checked: string
    names, slices with unit step, contiguous and in order from column 0 to ``d``."""
    if not isinstance(terms, dict):
        raise ValueError(f"terms_ must be a dict {{term name: slice of coef_ columns}}, got "
                         f"{type(terms).__name__}")
    checked, stop = {}, 0
    for name, cols in terms.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"terms_ names must be non-empty strings, got {name!r}")
        if name == INTERCEPT_TERM:
            raise ValueError(f"terms_ must not hold the intercept ({name!r}): it is "
                             "intercept_, not a column of coef_")
        if not isinstance(cols, slice) or cols.step not in (None, 1) or cols.start is None \
                or cols.stop is None:
            raise ValueError(f"terms_[{name!r}] must be a slice of coef_ columns like "
                             f"slice(0, 2), got {cols!r}")
        if cols.start != stop or cols.stop <= cols.start:
            raise ValueError(f"terms_[{name!r}] = {cols!r}: the terms' slices must be "
                             f"non-empty, contiguous and in order (this one should start at "
                             f"column {stop})")
        checked[name] = slice(int(cols.start), int(cols.stop))
        stop = cols.stop
    if stop != d:
        raise ValueError(f"terms_ covers columns 0 to {stop}, but coef_ has {d}: every column "
                         "must belong to exactly one term")
    return checked


def parameter_names(model, d: int, fit_intercept: bool):
    """``(param_names, labelled, term_slices)`` of a fitted ``model`` with ``d`` columns:
    the names (intercept first), whether they come from the data (``coef_names_`` or
    ``feature_names_in_``; else ``x0``, ``x1``, …), and ``{term: slice of params}`` (the
    intercept a term of its own, first) when the model has ``terms_``, else None."""
    coef_names = getattr(model, "coef_names_", None)
    terms = getattr(model, "terms_", None)
    if coef_names is not None:
        names, labelled = check_coef_names(coef_names, d), True
    else:
        seen = getattr(model, "feature_names_in_", None)
        labelled = seen is not None
        names = [str(n) for n in seen] if labelled else [f"x{j}" for j in range(d)]
        if labelled and len(names) != d:
            raise ValueError(f"feature_names_in_ has {len(names)} names, but coef_ has {d} "
                             "columns")
    slices = None
    if terms is not None:
        k = int(fit_intercept)
        slices = {INTERCEPT_TERM: slice(0, 1)} if fit_intercept else {}
        slices.update({name: slice(s.start + k, s.stop + k)
                       for name, s in check_terms(terms, d).items()})
    intercept = INTERCEPT_TERM if terms is not None else PLAIN_INTERCEPT
    return (tuple(([intercept] if fit_intercept else []) + names), labelled,
            None if slices is None else MappingProxyType(slices))


def term_factors(name: str) -> frozenset:
    """The factors of a term: its name split at the ``:`` outside brackets, parentheses and
    quotes (``"species:sex"`` → ``{"species", "sex"}``; the intercept has none)."""
    if name == INTERCEPT_TERM:
        return frozenset()
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(name):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == ":" and depth == 0:
            parts.append(name[start:i].strip())
            start = i + 1
    parts.append(name[start:].strip())
    return frozenset(parts)


def contains(outer: str, inner: str) -> bool:
    """Whether term ``outer`` contains term ``inner``: its factors are a strict superset."""
    return term_factors(inner) < term_factors(outer)


@dataclass(frozen=True)
class TermTests:
    """The joint Wald test of each term, as statsmodels' ``WaldTestResults``.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per term (index: the term names, the intercept first when there is one),
        columns ``statistic`` (F, or χ² when ``distribution`` is ``"chi2"``), ``pvalue``,
        ``df_constraint`` (the columns tested: the rank of their covariance) and, for F,
        ``df_denom`` — statsmodels' ``wald_test_terms(...).table``.  NaN for a term with a
        coefficient the data cannot identify.
    distribution : {"F", "chi2"}
        F when the results use Student's t (``use_t``), χ² when they use the normal.
    """

    table: object
    distribution: str

    @property
    def statistic(self) -> np.ndarray:
        return self.table["statistic"].to_numpy()

    @property
    def pvalues(self) -> np.ndarray:
        return self.table["pvalue"].to_numpy()

    @property
    def df_constraints(self) -> np.ndarray:
        return self.table["df_constraint"].to_numpy()

    def summary_frame(self):
        """The table with statsmodels' printed column names (``F``, ``P>F``, ``df
        constraint``, ``df denom``; ``chi2``, ``P>chi2``, ``df constraint``)."""
        stat = self.distribution
        names = [stat, f"P>{stat}", "df constraint"] + (["df denom"] if stat == "F" else [])
        frame = self.table.copy()
        frame.columns = names
        return frame

    def __str__(self) -> str:
        return f"Joint Wald tests of the terms ({self.distribution})\n{self.summary_frame()}"

    def __repr__(self) -> str:
        return f"<TermTests ({self.distribution}): {len(self.table)} terms>"


def term_slices_of(result) -> dict[str, slice]:
    """The results' terms, or, for a fit without ``terms_``, every parameter a term of its
    own (as statsmodels does for a model without a formula)."""
    slices = getattr(result, "term_slices", None)
    if slices is not None:
        return slices
    return {name: slice(i, i + 1) for i, name in enumerate(result.param_names)}


def wald_test_terms(result) -> TermTests:
    """The joint Wald test of every term of ``result`` (see the module docstring)."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("wald_test_terms() returns a pandas DataFrame, and pandas is not "
                          "installed (pip install pandas)") from None
    p = len(result.param_names)
    identified = np.asarray(result.identified)
    use_f = bool(result.use_t)
    rows, index = [], []
    for name, cols in term_slices_of(result).items():
        index.append(name)
        if not identified[cols].all():
            rows.append([np.nan, np.nan, cols.stop - cols.start]
                        + ([float(result.df_resid_inference)] if use_f else []))
            continue
        R = np.eye(p)[cols]
        test = restrictions.f_test(result, R)
        if use_f:
            rows.append([test.fvalue, test.pvalue, test.df_num, float(test.df_denom)])
        else:
            chi2 = test.fvalue * test.df_num
            rows.append([chi2, float(scipy.stats.chi2.sf(chi2, test.df_num)), test.df_num])
    columns = ["statistic", "pvalue", "df_constraint"] + (["df_denom"] if use_f else [])
    table = pd.DataFrame(rows, index=index, columns=columns)
    table["df_constraint"] = table["df_constraint"].astype(np.int64)
    return TermTests(table, "F" if use_f else "chi2")
