"""Nested model comparison (linreg.anova, RegressionResults.compare_f_test) against statsmodels'
compare_f_test and anova_lm."""

import numpy as np
import pytest

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
