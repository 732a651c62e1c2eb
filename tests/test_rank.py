"""One rank decision for the fit, the warning and summary(): dummy columns that repeat the
intercept, columns that add up to others, constant columns — against statsmodels (pinv),
R's published numbers for the penguins fit, and exact rational arithmetic."""

from __future__ import annotations

import itertools
import warnings
from fractions import Fraction
from importlib import resources

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from exact import exact_least_squares, solve_exact

from linreg import LinearRegression, RankDeficiencyWarning, sources
from linreg.rank import RANK_TOLERANCE, identify_stats
from linreg.stats import sufficient_stats


def penguins() -> pd.DataFrame:
    """The bundled Palmer penguins, rows with any missing value left out (n = 333)."""
    with resources.files("linreg").joinpath("data/penguins.csv").open("r") as f:
        return pd.read_csv(f).dropna().reset_index(drop=True)


def penguin_design(categoricals=("species",)):
    df = penguins()
    parts = [df[["flipper_length_mm"]]]
    parts += [pd.get_dummies(df[c], prefix=c, dtype=float) for c in categoricals]
    return pd.concat(parts, axis=1), df["body_mass_g"]


def fit_quietly(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankDeficiencyWarning)
        return model.fit(*args, **kwargs)


def statsmodels_fit(X, y, weights=None):
    exog = sm.add_constant(X.to_numpy(), has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if weights is None:
            return sm.OLS(y.to_numpy(), exog).fit()
        return sm.WLS(y.to_numpy(), exog, weights=weights).fit()


def check_estimable(r, model, X, y, ref, flipper_index):
    """Every estimable number equal to the reference (statsmodels pinv / R) to 1e-8."""
    j = flipper_index + 1                      # params: intercept first
    assert r.identified[j]
    assert r.params.iloc[j] == pytest.approx(ref.params[j], rel=1e-8)
    assert r.bse.iloc[j] == pytest.approx(ref.bse[j], rel=1e-8)
    assert r.tvalues.iloc[j] == pytest.approx(ref.tvalues[j], rel=1e-8)
    assert r.df_resid == ref.df_resid and r.df_model == ref.df_model
    assert r.rsquared == pytest.approx(ref.rsquared, rel=1e-10)
    assert r.rsquared_adj == pytest.approx(ref.rsquared_adj, rel=1e-10)
    assert r.fvalue == pytest.approx(ref.fvalue, rel=1e-8)
    assert r.ssr == pytest.approx(ref.ssr, rel=1e-10)
    np.testing.assert_allclose(model.predict(X), ref.fittedvalues, rtol=1e-10)


def test_penguins_dummies_with_intercept_equal_r_in_every_column_order():
    """R: lm(body_mass_g ~ flipper_length_mm + Adelie + Chinstrap + Gentoo) sets one dummy to
    NA; se(flipper) 3.0795528, df_resid 329, adjusted R² 0.7850913."""
    X, y = penguin_design()
    for order in itertools.permutations(range(4)):
        cols = [X.columns[i] for i in order]
        ref = statsmodels_fit(X[cols], y)
        for standardize in (True, False):
            with pytest.warns(RankDeficiencyWarning) as caught:
                model = LinearRegression(standardize=standardize).fit(X[cols], y)
            message = str(caught[0].message)
            assert "the intercept and" in message and "drop_first=True" in message
            for name in ("species_Adelie", "species_Chinstrap", "species_Gentoo"):
                assert name in message
            assert "flipper" not in message
            r = model.summary()
            check_estimable(r, model, X[cols], y, ref, cols.index("flipper_length_mm"))
            assert r.bse.iloc[1 + cols.index("flipper_length_mm")] == pytest.approx(3.0795528, abs=5e-8)
            assert r.df_resid == 329 and r.df_model == 3 and r.rank == 4
            assert r.rsquared_adj == pytest.approx(0.7850913, abs=5e-8)
            # the intercept and the three dummies are not identified (R: one NA; linreg
            # marks every coefficient the data cannot determine)
            assert r.identified.sum() == 1 and np.isnan(r.bse[~r.identified]).all()
            assert model.rank_ == 3


@pytest.mark.parametrize("solver", ["auto", "normal", "qr", "gd"])
def test_every_solver_shares_the_decision(solver):
    X, y = penguin_design()
    kwargs = {"optimizer": "nesterov", "max_iter": 20000, "tol": 1e-12} if solver == "gd" else {}
    with pytest.warns(RankDeficiencyWarning, match="the intercept and"):
        model = LinearRegression(solver=solver, **kwargs).fit(X, y)
    assert model.rank_ == 3
    ref = statsmodels_fit(X, y)
    np.testing.assert_allclose(model.predict(X), ref.fittedvalues, rtol=1e-8)
    r = model.summary()
    assert r.df_resid == 329 and r.identified.tolist() == [False, True, False, False, False]
    assert r.bse.iloc[1] == pytest.approx(ref.bse[1], rel=1e-8)


def test_two_categoricals_each_with_every_level():
    X, y = penguin_design(("species", "island"))
    ref = statsmodels_fit(X, y)
    with pytest.warns(RankDeficiencyWarning, match="the intercept and") as caught:
        model = LinearRegression().fit(X, y)
    assert "island_Biscoe" in str(caught[0].message)
    r = model.summary()
    assert model.rank_ == X.shape[1] - 2 and r.rank == X.shape[1] - 1
    assert r.identified.tolist() == [False, True] + [False] * 6
    check_estimable(r, model, X, y, ref, 0)


def test_weights():
    X, y = penguin_design()
    w = np.random.default_rng(4).uniform(0.2, 3.0, len(y))
    for order in ([0, 1, 2, 3], [3, 1, 0, 2]):
        cols = [X.columns[i] for i in order]
        model = fit_quietly(LinearRegression(), X[cols], y, sample_weight=w)
        check_estimable(model.summary(), model, X[cols], y, statsmodels_fit(X[cols], y, w),
                        cols.index("flipper_length_mm"))


def test_a_column_equal_to_a_sum_of_others_leaves_the_intercept_out():
    X, y = penguin_design()
    X = X.drop(columns="species_Gentoo")
    X["bill"] = penguins()["bill_length_mm"]
    X["sum"] = X["flipper_length_mm"] + 2 * X["bill"]
    with pytest.warns(RankDeficiencyWarning) as caught:
        model = LinearRegression().fit(X, y)
    message = str(caught[0].message)
    assert "linearly dependent on each other" in message and "intercept and" not in message
    r = model.summary()
    assert r.identified.tolist() == [True, False, True, True, False, False]
    ref = statsmodels_fit(X, y)
    assert r.df_resid == ref.df_resid and r.df_model == ref.df_model
    np.testing.assert_allclose(r.bse[r.identified], ref.bse[r.identified], rtol=1e-8)
    np.testing.assert_allclose(r.params[r.identified], ref.params[r.identified], rtol=1e-8)


def test_a_constant_column_next_to_the_intercept():
    X, y = penguin_design()
    X = X.drop(columns="species_Gentoo")
    X["seven"] = 7.0
    with pytest.warns(RankDeficiencyWarning, match=r"constant .*'seven'") as caught:
        model = LinearRegression().fit(X, y)
    assert "drop the constant column" in str(caught[0].message)
    r = model.summary()
    assert r.identified.tolist() == [False, True, True, True, False]
    assert model.coef_[-1] == 0.0
    ref = statsmodels_fit(X, y)
    assert r.df_resid == ref.df_resid
    np.testing.assert_allclose(r.bse[1:4], ref.bse[1:4], rtol=1e-8)


def test_estimable_numbers_equal_exact_rational_arithmetic():
    """The flipper coefficient and its standard error against the exact least squares of
    the identified model (one dummy dropped): statsmodels' pinv is only accurate to ~1e-12
    here, exact arithmetic to the last bit."""
    X, y = penguin_design()
    model = fit_quietly(LinearRegression(), X, y)
    r = model.summary()
    reduced = X.drop(columns="species_Gentoo").to_numpy()
    coef, intercept = exact_least_squares(reduced, y.to_numpy())
    assert float(r.params.iloc[1]) == pytest.approx(float(coef[0]), rel=1e-12)
    # se² = σ² [(AᵀA)⁻¹]₁₁ with A = [1, reduced], σ² = SSR/(n − p), all exact
    rows = [[Fraction(1)] + [Fraction(float(v)) for v in row] for row in reduced]
    ys = [Fraction(float(v)) for v in y]
    p = len(rows[0])
    AtA = [[sum(r_[a] * r_[b] for r_ in rows) for b in range(p)] for a in range(p)]
    column = solve_exact(AtA, [Fraction(int(i == 1)) for i in range(p)])
    params = [intercept] + list(coef)
    ssr = sum((yi - sum(c * v for c, v in zip(params, r_))) ** 2 for r_, yi in zip(rows, ys))
    se2 = ssr / (len(rows) - p) * column[1]
    assert float(r.bse.iloc[1]) ** 2 == pytest.approx(float(se2), rel=1e-12)
    assert float(r.ssr) == pytest.approx(float(ssr), rel=1e-12)


def test_streamed_from_a_csv_file(tmp_path):
    X, y = penguin_design()
    cols = ["species_Gentoo", "flipper_length_mm", "species_Adelie", "species_Chinstrap"]
    path = tmp_path / "penguins.csv"
    pd.concat([X[cols], y], axis=1).to_csv(path, index=False)
    with pytest.warns(RankDeficiencyWarning, match="the intercept and"):
        model = LinearRegression().fit(sources.csv(path, target="body_mass_g", chunk_rows=50))
    check_estimable(model.summary(), model, X[cols], y, statsmodels_fit(X[cols], y), 1)


def test_the_decision_sees_through_rounding_and_not_through_ill_conditioning():
    """Dummies of a dominant level (rounding of the centred sums is largest there) are
    always found dependent with the intercept, in any column order and with weights; designs
    that are only ill-conditioned (condition number up to ~1e5) never are."""
    rng = np.random.default_rng(7)
    for trial in range(60):
        n = int(rng.integers(40, 5000))
        levels = int(rng.integers(2, 6))
        share = rng.dirichlet(np.full(levels, rng.uniform(0.05, 3.0)))
        dummies = np.eye(levels)[rng.choice(levels, n, p=share)]
        dummies = dummies[:, dummies.any(axis=0)]
        X = np.column_stack([rng.normal(size=(n, 2)) * 10.0 ** rng.uniform(-3, 3, 2) + 1e3,
                             dummies])
        X = np.ascontiguousarray(X[:, rng.permutation(X.shape[1])])
        w = None if trial % 2 else rng.uniform(0.1, 3.0, n)
        ident = identify_stats(sufficient_stats(X, rng.normal(size=(n, 1)), w), True)
        # the intercept takes part (one level only: a constant column, which is the same)
        assert ident.n_null == 1 and ident.unidentified[0]
    for kappa in (1e2, 1e4, 1e5):
        U, _ = np.linalg.qr(rng.normal(size=(500, 4)))
        V, _ = np.linalg.qr(rng.normal(size=(4, 4)))
        X = (U * np.geomspace(1.0, 1.0 / kappa, 4)) @ V.T + 50.0
        ident = identify_stats(sufficient_stats(X, rng.normal(size=(500, 1))), True)
        assert ident.full_rank and ident.condition_number < 1.0 / RANK_TOLERANCE
