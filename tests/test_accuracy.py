"""Every coefficient to at least 9 significant digits against the exact rational answer,
on designs where the normal equations (and scikit-learn) lose most digits."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from exact import correct_digits, exact_least_squares
from linreg import LinearRegression

DIGITS = 9


def polynomial(noise: float, seed: int = 0, degree: int = 5):
    x = np.arange(21.0)
    X = np.vander(x, degree + 1, increasing=True)[:, 1:]
    rng = np.random.default_rng(seed)
    y = 1 + 2 * x - 0.5 * x**2 + 0.1 * x**3 - 0.003 * x**4 + 1e-5 * x**5 + noise * rng.standard_normal(21)
    return X, y


def longley():
    """Longley (1967): 16 years of US macro data, the classic collinear regression test."""
    sm = pytest.importorskip("statsmodels.api")
    data = sm.datasets.longley.load_pandas().data
    return data.iloc[:, 1:].to_numpy(), data.iloc[:, 0].to_numpy()


def economic(seed: int = 1):
    """Strongly collinear 'economic' series: a trend, GDP ≈ trend, consumption ≈ 0.7 GDP,
    and a lagged copy — condition number ~1e6 after standardization."""
    rng = np.random.default_rng(seed)
    t = np.arange(40.0)
    gdp = 1000 + 25 * t + 0.5 * rng.standard_normal(40)
    consumption = 0.7 * gdp + 0.05 * rng.standard_normal(40)
    lagged = np.r_[gdp[0], gdp[:-1]] + 0.01 * rng.standard_normal(40)
    X = np.column_stack([t + 1990, gdp, consumption, lagged])
    y = 3 + 0.2 * gdp - 0.1 * consumption + 0.05 * lagged + rng.standard_normal(40)
    return X, y


CASES = {
    "poly5-small-noise": lambda: polynomial(0.01),
    "poly5-large-noise": lambda: polynomial(1000.0),
    "longley": longley,
    "economic": economic,
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("solver", ["auto", "qr"])
@pytest.mark.parametrize("standardize", [True, False])
def test_nine_digits_against_exact_arithmetic(case, solver, standardize):
    X, y = CASES[case]()
    coef, intercept = exact_least_squares(X, y)
    m = LinearRegression(solver=solver, standardize=standardize).fit(X, y)
    assert correct_digits(m.coef_, coef) >= DIGITS
    assert correct_digits([m.intercept_], [intercept]) >= DIGITS


@pytest.mark.parametrize("case", ["poly5-large-noise", "economic"])
def test_weighted_and_no_intercept_nine_digits(case):
    X, y = CASES[case]()
    s = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    coef, intercept = exact_least_squares(X, y, sample_weight=s)
    m = LinearRegression().fit(X, y, sample_weight=s)
    assert correct_digits(m.coef_, coef) >= DIGITS
    assert correct_digits([m.intercept_], [intercept]) >= DIGITS
    coef0, _ = exact_least_squares(X, y, fit_intercept=False)
    m0 = LinearRegression(fit_intercept=False).fit(X, y)
    assert correct_digits(m0.coef_, coef0) >= DIGITS


def test_ridge_nine_digits():
    X, y = polynomial(1.0)
    alpha = Fraction(1, 1000)
    coef, intercept = exact_least_squares(X, y, alpha=alpha)
    for solver in ("qr", "auto"):
        m = LinearRegression(solver=solver, alpha=float(alpha), standardize=False).fit(X, y)
        assert correct_digits(m.coef_, coef) >= DIGITS
        assert correct_digits([m.intercept_], [intercept]) >= DIGITS


def test_auto_switches_to_qr_when_the_normal_equations_would_lose_digits():
    X, y = polynomial(0.01)
    m = LinearRegression().fit(X, y)
    assert m.solver_ == "qr" and m.condition_number_ > 1e3
    rng = np.random.default_rng(0)
    Xw = rng.standard_normal((100, 3))
    assert LinearRegression().fit(Xw, Xw @ [1.0, 2.0, 3.0]).solver_ == "normal"


def test_normal_equations_lose_digits_as_predicted():
    """The fast path is honest: its error is about κ²·ε, as the condition number says."""
    X, y = polynomial(0.01)
    coef, _ = exact_least_squares(X, y)
    m = LinearRegression(solver="normal").fit(X, y)
    predicted_loss = np.log10(m.condition_number_**2 * np.finfo(float).eps)
    assert correct_digits(m.coef_, coef) >= -predicted_loss - 2
