"""A fit that records named columns and terms, as a fit from a formula does: the design built by
patsy (the reference statsmodels' formulas use), fitted by linreg on the design without its
Intercept column, with ``coef_names_`` and ``terms_`` set from patsy's design info."""

from __future__ import annotations

import warnings

import numpy as np  # noqa: F401  (formulas may call np.log …: patsy evaluates them here)

import pytest

from linreg import LinearRegression

patsy = pytest.importorskip("patsy")


def formula_design(formula, data):
    """``(y, X, design_info)``: the target Series and the design DataFrame (patsy's names)."""
    y, X = patsy.dmatrices(formula, data, return_type="dataframe")
    return y.iloc[:, 0] if y.shape[1] == 1 else y, X, X.design_info


def fit_formula(formula, data, sample_weight=None, quiet=False, **params):
    """A fitted :class:`LinearRegression` of ``formula`` on ``data`` carrying ``coef_names_``
    and ``terms_`` (what the formula interface records)."""
    y, X, info = formula_design(formula, data)
    intercept = "Intercept" in X.columns
    features = X.drop(columns="Intercept") if intercept else X
    model = LinearRegression(fit_intercept=intercept, **params)
    with warnings.catch_warnings():
        if quiet:
            warnings.simplefilter("ignore")
        model.fit(features, y, sample_weight=sample_weight)
    k = int(intercept)
    model.coef_names_ = list(features.columns)
    model.terms_ = {name: slice(s.start - k, s.stop - k)
                    for name, s in info.term_name_slices.items() if name != "Intercept"}
    return model


def patsy_design(formula, df):
    """``(X without the intercept, y, table positions of the rows kept)``: patsy drops the
    rows with a missing value, as ``missing="drop"`` does."""
    y, X, _ = formula_design(formula, df.reset_index(drop=True))
    return (X.drop(columns="Intercept").to_numpy(), np.asarray(y, dtype=float),
            np.asarray(X.index))


def explicit_cv_scores(formula, df, test_sets, alphas, weights=None, scoring="mse", **params):
    """Per alpha and fold: LinearRegression(alpha) refitted on the training rows of patsy's
    design of all rows, scored on the held-out rows (``test_sets``: table positions)."""
    X, y, kept = patsy_design(formula, df)
    w = None if weights is None else np.asarray(weights, dtype=float)[kept]
    out = np.empty((len(alphas), len(test_sets)))
    for f, test in enumerate(test_sets):
        te = np.isin(kept, test)
        tr = ~te
        s = np.ones(te.sum()) if w is None else w[te]
        for i, a in enumerate(alphas):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")      # a training fold may lack a level
                fit = LinearRegression(alpha=a, solver="normal", **params).fit(
                    X[tr], y[tr], sample_weight=None if w is None else w[tr])
            e = fit.predict(X[te]) - y[te]
            if scoring == "mse":
                out[i, f] = s @ e**2 / s.sum()
            elif scoring == "mae":
                out[i, f] = s @ np.abs(e) / s.sum()
            else:
                yc = y[te] - s @ y[te] / s.sum()
                out[i, f] = 1 - (s @ e**2) / (s @ yc**2)
    return out
