"""The Python API as a new user meets it (issue 20): ``fit(df, "target")``, ``cov_type`` in
any case, ``predict`` on a frame with other columns, the summary of a ridge fit."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score, root_mean_squared_error

from linreg import LinearRegression
from linreg.cli import main
from linreg.exceptions import PenalizedInferenceError


@pytest.fixture(scope="module")
def cars():
    rng = np.random.default_rng(11)
    n = 60
    frame = pd.DataFrame({"wt": rng.uniform(1.5, 5.5, n), "hp": rng.uniform(50, 330, n),
                          "qsec": rng.uniform(14, 23, n)})
    frame["mpg"] = 37 - 3.9 * frame.wt - 0.03 * frame.hp + 0.2 * frame.qsec + rng.normal(0, 2, n)
    return frame


def test_fit_dataframe_and_target_name(cars):
    model = LinearRegression().fit(cars, "mpg")
    ols = sm.OLS(cars.mpg, sm.add_constant(cars[["wt", "hp", "qsec"]])).fit()
    assert list(model.feature_names_in_) == ["wt", "hp", "qsec"]
    np.testing.assert_allclose(model.coef_, ols.params[["wt", "hp", "qsec"]], rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, ols.params["const"], rtol=1e-9)
    assert model.summary().target_name == "mpg"
    two = LinearRegression().fit(cars, ["mpg", "qsec"])
    assert list(two.feature_names_in_) == ["wt", "hp"] and two.coef_.shape == (2, 2)
    with pytest.raises(ValueError, match=r"'price' is not a column of X \(its columns: wt, hp"):
        LinearRegression().fit(cars, "price")


def test_cov_type_in_any_case(cars):
    model = LinearRegression().fit(cars, "mpg")
    ols = sm.OLS(cars.mpg, sm.add_constant(cars[["wt", "hp", "qsec"]])).fit(cov_type="HC3")
    lower = model.summary(cov_type="hc3")
    assert lower.cov_type == "HC3"
    np.testing.assert_allclose(lower.bse, ols.bse.to_numpy(), rtol=1e-8)
    with pytest.raises(ValueError, match="cov_type"):
        model.summary(cov_type="hc9")


def test_predict_on_other_columns_says_what_and_how(cars):
    model = LinearRegression().fit(cars, "mpg")
    with pytest.raises(ValueError, match=r"(?s)must be in the same order.*"
                                         r"X\[model.feature_names_in_\]"):
        model.predict(cars[["qsec", "hp", "wt"]])
    with pytest.raises(ValueError, match=r"(?s)unseen at fit time:\n- mpg\n.*"
                                         r"X\[model.feature_names_in_\]"):
        model.predict(cars)
    np.testing.assert_array_equal(model.predict(cars[list(model.feature_names_in_)]),
                                  model.predict(cars.drop(columns="mpg")))


@pytest.mark.parametrize("weighted", [False, True])
def test_ridge_summary_shows_what_is_valid(cars, weighted):
    X, y = cars[["wt", "hp", "qsec"]], cars.mpg
    w = np.linspace(0.5, 2.0, len(y)) if weighted else None
    model = LinearRegression(alpha=0.3, standardize=False).fit(X, y, sample_weight=w)
    # our alpha is scikit-learn's Ridge alpha divided by Σ s_i (README: the model)
    ridge = Ridge(alpha=0.3 * (len(y) if w is None else w.sum())).fit(X, y, sample_weight=w)
    result = model.summary()
    np.testing.assert_allclose(result.params[0][1:], ridge.coef_, rtol=1e-8)
    assert result.params[0][0] == pytest.approx(ridge.intercept_, rel=1e-8)
    assert result.param_names == ["intercept", "wt", "hp", "qsec"]
    fitted = ridge.predict(X)
    assert result.rsquared[0] == pytest.approx(r2_score(y, fitted, sample_weight=w), rel=1e-9)
    assert result.rmse[0] == pytest.approx(
        root_mean_squared_error(y, fitted, sample_weight=w), rel=1e-8)
    text = str(result)
    assert "mpg" in text and "std err" not in text and "alpha=0.3" in text
    for name in ("bse", "pvalues", "tvalues", "conf_int"):
        with pytest.raises(PenalizedInferenceError, match="Refit with alpha=0 to get them"):
            getattr(result, name)


def test_ridge_summary_on_the_command_line(cars, tmp_path):
    cars.to_csv(tmp_path / "cars.csv", index=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["fit", str(tmp_path / "cars.csv"), "--target", "mpg", "--alpha", "0.3",
                 "-o", str(tmp_path / "m.json"), "-q"], stdout=out, stderr=err) == 0, err.getvalue()
    out, err = io.StringIO(), io.StringIO()
    code = main(["summary", str(tmp_path / "m.json"), str(tmp_path / "cars.csv")],
                stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    text = out.getvalue()
    python = LinearRegression(alpha=0.3).fit(cars, "mpg")
    assert f"R-squared: {python.score(cars.drop(columns='mpg'), cars.mpg):.4f}" in text
    words = " ".join(text.split())
    assert "--alpha 0.3" in words and "--alpha 0 to get them" in words and "alpha=" not in words
