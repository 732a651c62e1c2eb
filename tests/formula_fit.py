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
