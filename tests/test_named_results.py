"""Results named like statsmodels': pandas Series and DataFrames indexed by coefficient name when
the fit saw names (a DataFrame, a named source, a fit recording ``coef_names_``), numpy arrays
otherwise; every number against statsmodels with the same index."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from formula_fit import fit_formula
from linreg import LinearRegression, sources
from test_rank import penguins

RTOL = 1e-8
PENGUINS = "body_mass_g ~ flipper_length_mm + species * sex + island"


@pytest.fixture(scope="module")
def data():
    return penguins()


def assert_series(actual, expected, rtol=RTOL):
    assert isinstance(actual, pd.Series)
    pd.testing.assert_index_equal(actual.index, expected.index, exact=False)
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=rtol, atol=0)


def assert_frame(actual, expected, rtol=RTOL):
    assert isinstance(actual, pd.DataFrame)
    pd.testing.assert_index_equal(actual.index, expected.index, exact=False)
    assert list(actual.columns) == list(expected.columns)
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC1", "HC3"])
def test_a_formula_fit_is_indexed_as_statsmodels(data, cov_type):
    r = fit_formula(PENGUINS, data).summary(cov_type)
    s = smf.ols(PENGUINS, data).fit(cov_type=cov_type)
    assert r.labelled and r.param_names[0] == "Intercept"
    for name in ("params", "bse", "tvalues", "pvalues"):
        assert_series(getattr(r, name), getattr(s, name))
        assert getattr(r, name).name is None
    assert_frame(r.conf_int(), s.conf_int())
    assert list(r.conf_int().columns) == [0, 1]
    assert_frame(r.conf_int(alpha=0.1), s.conf_int(alpha=0.1))
    cov = r.cov_params()
    assert list(cov.columns) == list(s.cov_params().columns)
    np.testing.assert_allclose(cov.to_numpy(), s.cov_params().to_numpy(), rtol=1e-7,
                               atol=1e-10 * np.abs(s.cov_params().to_numpy()).max())
    # by name, as with statsmodels
    assert r.params["species[T.Gentoo]:sex[T.male]"] == pytest.approx(
        s.params["species[T.Gentoo]:sex[T.male]"], rel=RTOL)


def test_a_dataframe_fit_names_its_columns_and_the_intercept(data):
    X = data[["flipper_length_mm", "bill_length_mm", "bill_depth_mm"]]
    y = data["body_mass_g"]
    r = LinearRegression().fit(X, y).summary()
    s = sm.OLS(y, sm.add_constant(X)).fit()
    expected = s.params.rename(index={"const": "intercept"})
    assert_series(r.params, expected)
    assert_series(r.bse, s.bse.rename(index={"const": "intercept"}))
    assert_frame(r.conf_int(), s.conf_int().rename(index={"const": "intercept"}))
    assert list(r.params.index) == ["intercept", *X.columns]


def test_without_names_the_values_stay_read_only_arrays(data):
    X = data[["flipper_length_mm", "bill_length_mm"]].to_numpy()
    y = data["body_mass_g"].to_numpy()
    r = LinearRegression().fit(X, y).summary()
    s = sm.OLS(y, sm.add_constant(X)).fit()
    assert not r.labelled
    for name in ("params", "bse", "tvalues", "pvalues"):
        value = getattr(r, name)
        assert type(value) is np.ndarray and not value.flags.writeable
        np.testing.assert_allclose(value, getattr(s, name), rtol=RTOL)
    assert type(r.conf_int()) is np.ndarray and type(r.cov_params()) is np.ndarray
    np.testing.assert_allclose(r.conf_int(), s.conf_int(), rtol=RTOL)


def test_the_named_and_unnamed_tables_are_the_same_text(data):
    X = data[["flipper_length_mm", "bill_length_mm"]]
    y = data["body_mass_g"].to_numpy()
    named = LinearRegression().fit(X.set_axis(["x0", "x1"], axis=1), y).summary("HC2")
    plain = LinearRegression().fit(X.to_numpy(), y).summary("HC2")
    assert named.labelled and not plain.labelled
    assert str(named) == str(plain)
    assert named._repr_html_() == plain._repr_html_()
    pd.testing.assert_frame_equal(named.to_frame(), plain.to_frame())


def test_a_series_is_a_fresh_copy_each_time(data):
    r = fit_formula(PENGUINS, data).summary()
    params = r.params
    params.iloc[0] = 1e9
    assert r.params.iloc[0] != 1e9


def test_restrictions_by_formula_names(data):
    r = fit_formula(PENGUINS, data).summary()
    s = smf.ols(PENGUINS, data).fit()
    text = "species[T.Gentoo] = species[T.Chinstrap], species[T.Gentoo]:sex[T.male] = 0"
    t, ts = r.t_test(text), s.t_test(text)
    np.testing.assert_allclose(t.tvalue, np.ravel(ts.tvalue), rtol=RTOL)
    np.testing.assert_allclose(t.pvalue, np.ravel(ts.pvalue), rtol=1e-7)
    f, fs = r.f_test(text), s.f_test(text)
    assert f.fvalue == pytest.approx(float(fs.fvalue), rel=RTOL)
    assert f.pvalue == pytest.approx(float(fs.pvalue), rel=1e-7)


def test_prediction_intervals_of_named_results(data):
    X = data[["flipper_length_mm", "bill_length_mm"]]
    y = data["body_mass_g"]
    r = LinearRegression().fit(X, y).summary()
    s = sm.OLS(y, sm.add_constant(X)).fit()
    new = X.to_numpy()[:5] + 1.0
    yhat, lo, hi = r.predict(new, interval="prediction")
    frame = s.get_prediction(sm.add_constant(new, has_constant="add")).summary_frame()
    np.testing.assert_allclose(yhat, frame["mean"], rtol=1e-10)
    np.testing.assert_allclose(lo, frame["obs_ci_lower"], rtol=1e-9)
    np.testing.assert_allclose(hi, frame["obs_ci_upper"], rtol=1e-9)


def test_several_targets_each_named(data):
    X = data[["flipper_length_mm", "bill_length_mm"]]
    Y = data[["body_mass_g", "bill_depth_mm"]]
    results = LinearRegression().fit(X, Y).summary()
    assert len(results) == 2
    for j, target in enumerate(Y.columns):
        s = sm.OLS(Y[target], sm.add_constant(X)).fit()
        assert results[j].target_name == target
        assert_series(results[j].params, s.params.rename(index={"const": "intercept"}))
        assert_series(results[j].pvalues, s.pvalues.rename(index={"const": "intercept"}),
                      rtol=1e-7)
    frame = results.to_frame()
    assert frame.index.names == ["target", "term"] and len(frame) == 6


def test_a_named_source_gives_named_results(tmp_path, data):
    frame = data[["flipper_length_mm", "bill_length_mm", "body_mass_g"]]
    path = tmp_path / "penguins.csv"
    frame.to_csv(path, index=False)
    model = LinearRegression().fit(sources.csv(path, target="body_mass_g", chunk_rows=50))
    r = model.summary()
    s = sm.OLS(frame["body_mass_g"], sm.add_constant(frame.iloc[:, :2])).fit()
    assert_series(r.params, s.params.rename(index={"const": "intercept"}))


def test_a_rank_deficient_named_fit_marks_what_it_cannot_identify(data):
    r = fit_formula("body_mass_g ~ species * island + sex", data, quiet=True).summary()
    assert r.bse[~r.identified].isna().all() and r.bse[r.identified].notna().all()
    assert r.bse.index.equals(r.params.index)


def test_without_pandas_the_values_are_arrays(data, monkeypatch):
    model = fit_formula(PENGUINS, data)
    monkeypatch.setitem(sys.modules, "pandas", None)
    r = model.summary()
    assert not r.labelled and r.param_names[0] == "Intercept"
    assert type(r.params) is np.ndarray and type(r.conf_int()) is np.ndarray


@pytest.mark.parametrize("names, match", [
    (["a"], "coef_names_ has 1 names, but coef_ has 8 columns"),
    ("abc", "must be a list of 8 strings"),
    ([1, 2, 3, 4, 5, 6, 7, 8], "must hold strings"),
])
def test_bad_coef_names_are_refused(data, names, match):
    model = fit_formula(PENGUINS, data)
    model.coef_names_ = names
    with pytest.raises(ValueError, match=match):
        model.summary()


@pytest.mark.parametrize("terms, match", [
    ([("species", slice(0, 2))], "must be a dict"),
    ({"species": slice(0, 2)}, "covers columns 0 to 2, but coef_ has 8"),
    ({"species": slice(1, 8)}, "should start at column 0"),
    ({"species": slice(0, 4), "sex": slice(3, 8)}, "should start at column 4"),
    ({"species": slice(0, 8, 2)}, "must be a slice of coef_ columns"),
    ({"species": [0, 1]}, "must be a slice of coef_ columns"),
    ({"Intercept": slice(0, 8)}, "must not hold the intercept"),
    ({3: slice(0, 8)}, "names must be non-empty strings"),
])
def test_bad_terms_are_refused(data, terms, match):
    model = fit_formula(PENGUINS, data)
    model.terms_ = terms
    with pytest.raises(ValueError, match=match):
        model.summary()
