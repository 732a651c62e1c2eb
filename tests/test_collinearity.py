"""Variance inflation factors and standardized coefficients (issue 20), against statsmodels."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from statsmodels.stats.outliers_influence import variance_inflation_factor

from linreg import LinearRegression


@pytest.fixture()
def frame():
    rng = np.random.default_rng(9)
    n = 120
    a = rng.normal(size=n)
    f = pd.DataFrame({"a": a, "b": 0.8 * a + 0.3 * rng.normal(size=n),
                      "c": rng.uniform(0, 10, n), "d": rng.exponential(size=n)})
    f["y"] = 2 * f.a - f.b + 0.5 * f.c + rng.normal(size=n)
    return f


def test_vif_matches_statsmodels(frame):
    model = LinearRegression().fit(frame, "y")
    exog = sm.add_constant(frame[["a", "b", "c", "d"]]).to_numpy()
    expected = [variance_inflation_factor(exog, i) for i in range(1, exog.shape[1])]
    got = model.vif()
    assert list(got.index) == ["a", "b", "c", "d"]
    np.testing.assert_allclose(got.to_numpy(), expected, rtol=1e-10)
    plain = LinearRegression().fit(frame[["a", "b", "c", "d"]].to_numpy(), frame.y.to_numpy())
    np.testing.assert_allclose(plain.vif(), expected, rtol=1e-10)


def test_weighted_vif_is_one_over_one_minus_wls_r2(frame):
    w = np.linspace(0.2, 3.0, len(frame))
    model = LinearRegression().fit(frame, "y", sample_weight=w)
    for name in ("a", "b", "c"):
        others = sm.add_constant(frame[[c for c in "abcd" if c != name]])
        r2 = sm.WLS(frame[name], others, weights=w).fit().rsquared
        assert model.vif()[name] == pytest.approx(1 / (1 - r2), rel=1e-9)


def test_vif_of_collinear_columns_is_infinite(frame):
    frame = frame.assign(e=frame.a + frame.c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression().fit(frame, "y")
    got = model.vif()
    assert np.isinf(got[["a", "c", "e"]]).all()
    exog = sm.add_constant(frame[["a", "b", "c", "d", "e"]]).to_numpy()
    # d is not involved in the dependence: its VIF is finite and statsmodels'
    assert got["d"] == pytest.approx(variance_inflation_factor(exog, 4), rel=1e-8)


def test_standardized_coefficients_equal_a_fit_on_z_scores(frame):
    model = LinearRegression().fit(frame, "y")
    z = (frame - frame.mean()) / frame.std()
    expected = sm.OLS(z.y, z[["a", "b", "c", "d"]]).fit().params
    got = model.standardized_coef()
    np.testing.assert_allclose(got[expected.index].to_numpy(), expected.to_numpy(), rtol=1e-10)
    two = LinearRegression().fit(frame, ["y", "d"])
    assert two.standardized_coef().shape == (2, 3)
