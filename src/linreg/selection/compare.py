"""Nested model comparison by the F-test: :func:`compare_f_test` and :func:`anova`.

For a restricted model (residual sum of squares ``SSR_r``, ``df_r`` residual degrees of
freedom) nested in a fuller one (``SSR_f``, ``df_f < df_r``) fitted on the same rows::

    F = ((SSR_r − SSR_f) / (df_r − df_f)) / (SSR_f / df_f),    p = P(F_{df_r − df_f, df_f} > F)

statsmodels' ``compare_f_test`` and ``anova_lm(m1, m2)``.  With more than two models,
:func:`anova` compares each with the one before it and divides by the *largest* model's
``σ² = SSR/df_resid`` (as statsmodels and R's ``anova`` do); the p-value uses that largest
model's residual degrees of freedom, the degrees of freedom of the ``σ²`` it divides by
(R's ``anova``).  statsmodels uses each row's own ``df_resid`` there instead, which agrees
for two models and differs from the third model on.

Several targets (``model.summary()`` of a multi-output fit is one result per target): each
target is tested on its own — :func:`anova` gives one table per target
(:class:`MultiOutputAnova`), :func:`compare_f_test` one ``(F, p, df_diff)`` per target, as
fitting and comparing each target's models separately would.  These are separate univariate
tests (no multivariate test such as Wilks' lambda, no correction for testing several targets).
Single- and multi-target results cannot be mixed, and the targets must be the same ones in
every model (the same number, the same names).

Only what the results carry is checked — the same number of observations, residual degrees
of freedom that fall — not that one set of columns contains the other: a restricted model
may use combinations of the fuller model's columns.  Formula fits carry their terms: a
restricted model with a term the fuller one lacks gets a warning (``y ~ C(a)`` and ``y ~ a``
are nested without sharing a term, so it is not an error).  The residual degrees of freedom
are ``n − rank`` (an aliased column — an empty cell of an interaction — is not a parameter),
as statsmodels counts them.  Both models must be fitted on the same rows (and weights): with
``missing="drop"`` two formulas that use different columns may keep different rows, which
the number of observations catches only when the counts differ — fit both on the rows
neither leaves out.  The test assumes the homoscedastic errors of ``cov_type="nonrobust"``.

Fitted models (:class:`~linreg.LinearRegression`) may be passed in place of their
``summary()``.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["anova", "compare_f_test", "AnovaTable", "MultiOutputAnova"]

COLUMNS = ("df_resid", "ssr", "df_diff", "ss_diff", "F", "Pr(>F)")


def _check_result(result, position: str) -> None:
    for name in ("ssr", "df_resid", "nobs"):
        if not hasattr(result, name):
            raise TypeError(f"{position} is not a regression result (it has no {name!r}): got "
                            f"{type(result).__name__}; use model.summary() for a fitted model's")
    if not np.isfinite(result.ssr) or result.ssr < 0:
        raise ValueError(f"{position} has a residual sum of squares of {result.ssr}")
    if result.df_resid <= 0:
        raise ValueError(f"{position} has {result.df_resid} residual degrees of freedom: no "
                         "estimate of the error variance to test against")
    if getattr(result, "cov_type", "nonrobust") != "nonrobust":
        warnings.warn(f"{position} has cov_type={result.cov_type!r}: the F-test for comparing "
                      "models assumes homoscedastic errors whatever the covariance", UserWarning,
                      stacklevel=3)


def _as_result(item):
    """A fitted model's ``summary()``; a result as it is."""
    if hasattr(item, "coef_") and callable(getattr(item, "summary", None)) \
            and not hasattr(item, "ssr"):
        return item.summary()
    return item


def _check_terms(restricted, full, first: str, second: str) -> None:
    """Warn when formula fits look not nested: a term of the restricted model that the
    fuller one lacks."""
    small, big = getattr(restricted, "term_slices", None), getattr(full, "term_slices", None)
    if not small or not big:
        return
    extra = [t for t in small if t not in big]
    if extra:
        warnings.warn(f"{first} has the term(s) {', '.join(map(repr, extra))}, which {second} "
                      "lacks: the F-test compares nested models (the restricted model's "
                      "columns combinations of the fuller one's); check that it is nested",
                      UserWarning, stacklevel=4)


def _check_pair(restricted, full, first: str, second: str) -> None:
    _check_terms(restricted, full, first, second)
    if restricted.nobs != full.nobs:
        raise ValueError(f"{first} and {second} are fitted on different numbers of observations "
                         f"({restricted.nobs} and {full.nobs}): nested models share their rows")
    if restricted.df_resid <= full.df_resid:
        raise ValueError(
            f"{first} must be nested in {second}, so have more residual degrees of freedom, "
            f"but has {restricted.df_resid} against {full.df_resid}; pass the models from the "
            "most restricted to the fullest")


def _targets(results, names: list) -> int | None:
    """None when every result is one target's; else the number of targets every result has
    (each a tuple of per-target results), refusing mixtures and different targets."""
    multi = [isinstance(r, tuple) and not hasattr(r, "ssr") for r in results]
    if not any(multi):
        return None
    if not all(multi):
        one = names[multi.index(False)]
        raise ValueError(f"{one} has one target but {names[multi.index(True)]} has several: "
                         "compare models of the same targets")
    counts = {len(r) for r in results}
    if len(counts) > 1:
        raise ValueError(f"the models have different numbers of targets ({sorted(counts)}): "
                         "compare models of the same targets")
    labels = [[getattr(t, "target_name", None) for t in r] for r in results]
    for name, other in zip(names[1:], labels[1:]):
        for a, b in zip(labels[0], other):
            if a is not None and b is not None and a != b:
                raise ValueError(f"{names[0]} and {name} have different targets ({labels[0]} "
                                 f"and {other}): compare models of the same targets")
    return counts.pop()


def compare_f_test(full, restricted):
    """F-test that ``restricted`` (nested in ``full``) fits as well: ``(F, p, df_diff)``
    (a tuple of them, one per target, for results of several targets).

    Equal to statsmodels' ``full.compare_f_test(restricted)``.

    Examples
    --------
    >>> import numpy as np
    >>> from linreg import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3)); y = X @ [1.0, 1.0, 0.0] + rng.standard_normal(50)
    >>> full = LinearRegression().fit(X, y).summary()
    >>> small = LinearRegression().fit(X[:, :1], y).summary()
    >>> F, p, df = compare_f_test(full, small)
    >>> df, bool(p < 0.01)
    (2, True)
    """
    import scipy.stats

    full, restricted = _as_result(full), _as_result(restricted)
    k = _targets([full, restricted], ["the full model", "the restricted model"])
    if k is not None:
        return tuple(compare_f_test(full[j], restricted[j]) for j in range(k))
    _check_result(full, "the full model")
    _check_result(restricted, "the restricted model")
    _check_pair(restricted, full, "the restricted model", "the full model")
    df_diff = restricted.df_resid - full.df_resid
    f_value = (restricted.ssr - full.ssr) / df_diff / full.ssr * full.df_resid
    return float(f_value), float(scipy.stats.f.sf(f_value, df_diff, full.df_resid)), df_diff


class AnovaTable:
    """The table :func:`anova` returns: one row per model, statsmodels' ``anova_lm`` columns
    ``df_resid, ssr, df_diff, ss_diff, F, Pr(>F)`` (as there: 0 and NaNs in the first row).

    ``table["F"]`` is a column (an array); ``table.to_frame()`` a pandas DataFrame (needs
    pandas); ``print(table)`` shows it.
    """

    def __init__(self, columns: dict):
        self.columns = {name: np.asarray(columns[name], dtype=float) for name in COLUMNS}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; the columns are {', '.join(COLUMNS)}")
        return self.columns[name].copy()

    def __len__(self) -> int:
        return len(self.columns["ssr"])

    def to_frame(self):
        import pandas as pd

        return pd.DataFrame({name: self.columns[name] for name in COLUMNS})

    def __str__(self) -> str:
        rows = [[""] + list(COLUMNS)]
        for i in range(len(self)):
            rows.append([str(i)] + ["" if np.isnan(self.columns[c][i]) else f"{self.columns[c][i]:.6g}"
                                    for c in COLUMNS])
        widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
        return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(r, widths)) for r in rows)

    __repr__ = __str__


class MultiOutputAnova(tuple):
    """What :func:`anova` returns for models of several targets: one :class:`AnovaTable` per
    target (``tables[j]``), ``target_names`` (None where unnamed); ``to_frame()`` stacks them
    (indexed by target and model); ``print`` shows each under its target's name."""

    def __new__(cls, tables, target_names):
        self = super().__new__(cls, tables)
        self.target_names = list(target_names)
        return self

    def _label(self, j: int) -> str:
        name = self.target_names[j]
        return f"target {j}" if name is None else str(name)

    def to_frame(self):
        import pandas as pd

        return pd.concat([t.to_frame() for t in self], keys=[self._label(j) for j in range(len(self))],
                         names=["target", "model"])

    def __str__(self) -> str:
        return "\n\n".join(f"{self._label(j)}:\n{t}" for j, t in enumerate(self))

    __repr__ = __str__


def anova(*results):
    """Compare nested models, from the most restricted to the fullest: statsmodels'
    ``anova_lm(m1, m2, ...)`` for :class:`~linreg.inference.RegressionResults` (what
    ``model.summary()`` returns) or fitted models.  Results of several targets give one table per target
    (:class:`MultiOutputAnova`): each target's models compared on their own.

    Row ``i > 0`` tests model ``i − 1`` against model ``i``:
    ``F_i = (ss_diff_i / df_diff_i) / σ²`` with ``σ² = SSR/df_resid`` of the last model.

    Examples
    --------
    >>> import numpy as np
    >>> from linreg import LinearRegression, anova
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((50, 3)); y = X @ [1.0, 0.5, 0.0] + rng.standard_normal(50)
    >>> table = anova(*(LinearRegression().fit(X[:, :k], y).summary() for k in (1, 2, 3)))
    >>> table["df_resid"]
    array([48., 47., 46.])
    """
    import scipy.stats

    if len(results) < 2:
        raise ValueError(f"anova compares two or more nested models, got {len(results)}")
    results = [_as_result(r) for r in results]
    k = _targets(results, [f"model {i}" for i in range(len(results))])
    if k is not None:
        return MultiOutputAnova([anova(*(r[j] for r in results)) for j in range(k)],
                                [getattr(results[0][j], "target_name", None) for j in range(k)])
    for i, r in enumerate(results):
        _check_result(r, f"model {i}")
    for i in range(1, len(results)):
        _check_pair(results[i - 1], results[i], f"model {i - 1}", f"model {i}")
    ssr = np.array([r.ssr for r in results], dtype=float)
    df_resid = np.array([r.df_resid for r in results], dtype=float)
    scale = ssr[-1] / df_resid[-1]
    df_diff = np.concatenate([[0.0], -np.diff(df_resid)])
    ss_diff = np.concatenate([[np.nan], -np.diff(ssr)])
    f_value = ss_diff / df_diff / scale
    pvalue = np.full(len(results), np.nan)
    pvalue[1:] = scipy.stats.f.sf(f_value[1:], df_diff[1:], df_resid[-1])
    return AnovaTable({"df_resid": df_resid, "ssr": ssr, "df_diff": df_diff, "ss_diff": ss_diff,
                       "F": f_value, "Pr(>F)": pvalue})
