"""Nested model comparison (linreg.anova, RegressionResults.compare_f_test) against statsmodels'
compare_f_test and anova_lm."""

import numpy as np
import pytest
from penguins import load_penguins

sm = pytest.importorskip("statsmodels.api")
anova_lm = pytest.importorskip("statsmodels.stats.anova").anova_lm


def data(n=80, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    y = X @ [1.0, 0.3, 0.1, 0.0] + 0.5 + rng.standard_normal(n)
    w = rng.uniform(0.2, 3.0, n)
    return X, y, w


def fits(X, y, w, columns):
    from linreg import LinearRegression

    ours, theirs = [], []
    for cols in columns:
        ours.append(LinearRegression().fit(X[:, cols], y, sample_weight=w).summary())
        A = sm.add_constant(X[:, cols], has_constant="add")
        theirs.append((sm.OLS(y, A) if w is None else sm.WLS(y, A, weights=w)).fit())
    return ours, theirs


@pytest.mark.parametrize("weighted", [False, True])
def test_compare_f_test_equals_statsmodels(weighted):
    X, y, w = data()
    w = w if weighted else None
    (small, full), (sm_small, sm_full) = fits(X, y, w, [[0], [0, 1, 2, 3]])
    F, p, df = full.compare_f_test(small)
    F0, p0, df0 = sm_full.compare_f_test(sm_small)
    assert df == df0 == 3
    assert F == pytest.approx(F0, rel=1e-10)
    assert p == pytest.approx(p0, rel=1e-10, abs=1e-300)


@pytest.mark.parametrize("weighted", [False, True])
def test_anova_equals_statsmodels(weighted):
    import linreg

    X, y, w = data()
    w = w if weighted else None
    ours, theirs = fits(X, y, w, [[0], [0, 1]])
    table, want = linreg.anova(*ours), anova_lm(*theirs)
    for column in ("df_resid", "ssr", "df_diff", "ss_diff", "F", "Pr(>F)"):
        np.testing.assert_allclose(table[column], want[column].to_numpy(), rtol=1e-10)
    assert list(table.to_frame().columns) == list(want.columns)


def test_anova_three_models():
    """F and the sums of squares as statsmodels; the p-value with the largest model's residual
    degrees of freedom (R's anova), which statsmodels uses only in the last row."""
    import scipy.stats

    import linreg

    X, y, w = data(seed=5)
    ours, theirs = fits(X, y, None, [[0], [0, 1], [0, 1, 2, 3]])
    table, want = linreg.anova(*ours), anova_lm(*theirs)
    for column in ("df_resid", "ssr", "df_diff", "ss_diff", "F"):
        np.testing.assert_allclose(table[column], want[column].to_numpy(), rtol=1e-10)
    np.testing.assert_allclose(table["Pr(>F)"][2], want["Pr(>F)"][2], rtol=1e-10)
    np.testing.assert_allclose(table["Pr(>F)"][1:],
                               scipy.stats.f.sf(want["F"][1:], want["df_diff"][1:], 80 - 5), rtol=1e-10)
    assert "Pr(>F)" in str(table)


def test_compare_bad_input():
    import linreg

    X, y, w = data()
    (small, full), _ = fits(X, y, None, [[0], [0, 1, 2]])
    (other,), _ = fits(X[:60], y[:60], None, [[0]])
    with pytest.raises(ValueError, match="different numbers of observations"):
        full.compare_f_test(other)
    with pytest.raises(ValueError, match="must be nested"):
        small.compare_f_test(full)
    with pytest.raises(ValueError, match="from the most restricted to the fullest"):
        linreg.anova(full, small)
    with pytest.raises(ValueError, match="two or more"):
        linreg.anova(full)
    with pytest.raises(TypeError, match="not a regression result"):
        linreg.anova(small, object())
    with pytest.raises(KeyError, match="no column 'P'"):
        linreg.anova(small, full)["P"]
    robust = linreg.LinearRegression().fit(X, y).summary(cov_type="HC1")
    with pytest.warns(UserWarning, match="homoscedastic"):
        robust.compare_f_test(small)


@pytest.mark.parametrize("weighted", [False, True])
def test_several_targets_one_table_per_target_equal_statsmodels(weighted):
    """A multi-output fit's summaries: each target's table is statsmodels' anova_lm of that
    target's OLS/WLS fits, and compare_f_test gives statsmodels' per target."""
    import pandas as pd

    import linreg
    from linreg.selection.compare import compare_f_test

    X, y, w = data(n=90, seed=8)
    w = w if weighted else None
    rng = np.random.default_rng(1)
    Y = pd.DataFrame({"a": y, "b": X @ [0.0, 0.0, 0.8, 0.4] + rng.standard_normal(90),
                      "c": rng.standard_normal(90)})
    columns = [[0], [0, 1], [0, 1, 2, 3]]
    ours = [linreg.LinearRegression().fit(X[:, c], Y, sample_weight=w).summary() for c in columns]
    tables = linreg.anova(*ours)
    assert len(tables) == 3 and tables.target_names == ["a", "b", "c"]
    for j, name in enumerate(["a", "b", "c"]):
        theirs = []
        for c in columns:
            A = sm.add_constant(X[:, c], has_constant="add")
            theirs.append((sm.OLS(Y[name], A) if w is None else sm.WLS(Y[name], A, weights=w)).fit())
        want = anova_lm(theirs[0], theirs[2])
        pair = linreg.anova(ours[0], ours[2])[j]
        for column in ("df_resid", "ssr", "df_diff", "ss_diff", "F", "Pr(>F)"):
            np.testing.assert_allclose(pair[column], want[column].to_numpy(), rtol=1e-10)
        np.testing.assert_allclose(tables[j]["ssr"], [t.ssr for t in theirs], rtol=1e-10)
        F, p, df = compare_f_test(ours[2], ours[1])[j]
        F0, p0, df0 = theirs[2].compare_f_test(theirs[1])
        assert df == df0 and F == pytest.approx(F0, rel=1e-10) and p == pytest.approx(p0, rel=1e-10)
    frame = tables.to_frame()
    assert list(frame.index.get_level_values("target").unique()) == ["a", "b", "c"]
    assert "b:" in str(tables)


def test_several_targets_refusals():
    import pandas as pd

    import linreg

    X, y, _ = data()
    Y = np.column_stack([y, -y + X[:, 2]])
    two = linreg.LinearRegression().fit(X[:, [0]], Y).summary()
    two_full = linreg.LinearRegression().fit(X, Y).summary()
    one = linreg.LinearRegression().fit(X, y).summary()
    three = linreg.LinearRegression().fit(X, np.column_stack([Y, y])).summary()
    with pytest.raises(ValueError, match="model 1 has one target but model 0 has several"):
        linreg.anova(two, one)
    with pytest.raises(ValueError, match="different numbers of targets"):
        linreg.anova(two, three)
    named = linreg.LinearRegression().fit(X, pd.DataFrame(Y, columns=["p", "q"])).summary()
    other = linreg.LinearRegression().fit(X[:, [0]], pd.DataFrame(Y, columns=["p", "r"])).summary()
    with pytest.raises(ValueError, match="different targets"):
        linreg.anova(other, named)
    with pytest.raises(ValueError, match="must be nested"):
        linreg.anova(two_full, two)


# ------------------------------------------------------------------------- formula fits
PENGUIN_COLUMNS = ["body_mass_g", "flipper_length_mm", "species", "sex", "island"]


@pytest.fixture(scope="module")
def penguins():
    return load_penguins()


def assert_table(table, want, rtol=1e-9):
    for column in ("df_resid", "ssr", "df_diff", "ss_diff", "F", "Pr(>F)"):
        np.testing.assert_allclose(table[column], want[column].to_numpy(), rtol=rtol,
                                   atol=1e-300)


@pytest.mark.parametrize("small, big", [
    ("body_mass_g ~ flipper_length_mm", "body_mass_g ~ flipper_length_mm + species * sex"),
    ("body_mass_g ~ species + sex", "body_mass_g ~ species * sex"),
    ("body_mass_g ~ flipper_length_mm:species", "body_mass_g ~ flipper_length_mm * species"),
    # the larger design is rank-deficient (island × species has empty cells)
    ("body_mass_g ~ island + sex", "body_mass_g ~ island * species + sex"),
])
@pytest.mark.parametrize("weighted", [False, True])
def test_nested_formula_fits_equal_anova_lm(penguins, small, big, weighted):
    """anova(small, big) of formula fits (missing="drop", the rows neither keeps out the same
    here) equals statsmodels' anova_lm of smf.ols/wls on the rows both keep; the models
    themselves may be passed, and compare_f_test agrees."""
    import warnings

    import statsmodels.formula.api as smf

    from linreg import LinearRegression, anova
    from linreg.selection.compare import compare_f_test

    data = penguins.dropna(subset=PENGUIN_COLUMNS).reset_index(drop=True)
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(data)) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the rank-deficient fit says so
        ours = [LinearRegression(formula=f, missing="drop").fit(data, sample_weight=w)
                for f in (small, big)]
        theirs = [(smf.ols(f, data) if w is None else smf.wls(f, data, weights=w)).fit()
                  for f in (small, big)]
        want = anova_lm(*theirs)
        assert_table(anova(*ours), want)
        assert_table(anova(*(m.summary() for m in ours)), want)
        F, p, df = compare_f_test(ours[1], ours[0])
        F0, p0, df0 = theirs[1].compare_f_test(theirs[0])
    assert df == df0
    assert F == pytest.approx(F0, rel=1e-9) and p == pytest.approx(p0, rel=1e-9, abs=1e-300)


def test_formula_fits_on_different_rows_or_not_nested(penguins):
    from linreg import LinearRegression, anova

    # missing="drop": `sex` is missing in rows that `flipper_length_mm` alone keeps
    small = LinearRegression(formula="body_mass_g ~ flipper_length_mm", missing="drop")
    big = LinearRegression(formula="body_mass_g ~ flipper_length_mm + sex", missing="drop")
    with pytest.raises(ValueError, match="different numbers of observations"):
        anova(small.fit(penguins), big.fit(penguins))
    data = penguins.dropna(subset=PENGUIN_COLUMNS)
    a = LinearRegression(formula="body_mass_g ~ island").fit(data)
    b = LinearRegression(formula="body_mass_g ~ species + sex").fit(data)
    with pytest.warns(UserWarning, match="'island'.*lacks"):
        anova(a, b)
    with pytest.raises(TypeError, match="not a regression result"):
        anova(a, "model")
