"""Extreme data: magnitudes near 1e±150, columns on wildly different scales, float32 with
n > 500,000, duplicate and constant columns, a single row, a single feature — each against an
exact rational answer (``tests/exact.py``) or numpy.linalg.lstsq in float64."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest

from linreg import ConvergenceWarning, LinearRegression, RankDeficiencyWarning

from exact import correct_digits, exact_least_squares

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

CLOSED_FORMS = ["normal", "qr", "auto"]


def small_problem(n=40, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1) + 1.0 + 0.1 * rng.standard_normal(n)
    return X, y


def fit_quietly(X, y, sample_weight=None, **params):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LinearRegression(**params).fit(X, y, sample_weight=sample_weight)
    return model, [w.category for w in caught]


def digits(model, X, y, fit_intercept=True, sample_weight=None):
    coef, intercept = exact_least_squares(X, y, sample_weight, fit_intercept)
    got = list(np.ravel(model.coef_)) + ([model.intercept_] if fit_intercept else [])
    return correct_digits(got, list(coef) + ([intercept] if fit_intercept else []))


# ------------------------------------------------------------------ magnitudes near 1e±150
@pytest.mark.parametrize("exponent", [150, -150])
@pytest.mark.parametrize("solver", CLOSED_FORMS)
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_magnitudes_near_1e150_closed_forms(exponent, solver, standardize, fit_intercept):
    X, y = small_problem()
    X, y = X * 10.0**exponent, y * 10.0**exponent
    model, caught = fit_quietly(X, y, solver=solver, standardize=standardize,
                                fit_intercept=fit_intercept)
    assert RankDeficiencyWarning not in caught
    assert digits(model, X, y, fit_intercept) >= 10


@pytest.mark.parametrize("exponent", [150, -150])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_magnitudes_near_1e150_gradient_descent_standardized(exponent, fit_intercept):
    X, y = small_problem()
    X, y = X * 10.0**exponent, y * 10.0**exponent
    model, caught = fit_quietly(X, y, solver="gd", tol=1e-12, max_iter=5000,
                                fit_intercept=fit_intercept)
    assert ConvergenceWarning not in caught
    assert digits(model, X, y, fit_intercept) >= 8


@pytest.mark.parametrize("exponent", [150, -150])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_magnitudes_near_1e150_gradient_descent_raw_is_right_or_says_so(exponent, fit_intercept):
    """Without standardizing, gd runs on the raw design: it must either reach the answer or
    say that it did not (a warning or an error) — never return a wrong answer silently."""
    X, y = small_problem()
    X, y = X * 10.0**exponent, y * 10.0**exponent
    try:
        model, caught = fit_quietly(X, y, solver="gd", standardize=False,
                                    fit_intercept=fit_intercept)
    except (ValueError, ArithmeticError) as exc:
        assert str(exc)
        return
    assert np.isfinite(model.coef_).all()
    if ConvergenceWarning not in caught:
        assert digits(model, X, y, fit_intercept) >= 4


@pytest.mark.parametrize("value", [1e300, -1e300, 1e200])
@pytest.mark.parametrize("solver", CLOSED_FORMS + ["gd"])
def test_values_whose_squares_overflow_are_a_clear_error(value, solver):
    X, y = small_problem()
    X = X.copy()
    X[:, 1] *= value
    with pytest.raises(ValueError, match="overflow"):
        LinearRegression(solver=solver).fit(X, y)


@pytest.mark.parametrize("value", [1e-170, 1e-300])
@pytest.mark.parametrize("solver", CLOSED_FORMS)
def test_values_whose_squares_underflow_are_a_clear_error(value, solver):
    X, y = small_problem()
    X = X.copy()
    X[:, 2] *= value
    with pytest.raises(ValueError, match="underflow"):
        LinearRegression(solver=solver).fit(X, y)


# ------------------------------------------------------------------ wildly different scales
@pytest.mark.parametrize("scales", [(1e-8, 1.0, 1e8), (1e-100, 1.0, 1e100), (1e140, 1e-140, 1.0)])
@pytest.mark.parametrize("solver", CLOSED_FORMS)
@pytest.mark.parametrize("standardize", [True, False])
def test_columns_on_wildly_different_scales(scales, solver, standardize):
    X, y = small_problem()
    X = X * np.array(scales)
    model, caught = fit_quietly(X, y, solver=solver, standardize=standardize)
    assert RankDeficiencyWarning not in caught
    assert digits(model, X, y) >= 10


@pytest.mark.parametrize("solver", CLOSED_FORMS)
def test_huge_ridge_penalty_keeps_the_intercept(solver):
    """alpha so large the coefficients vanish: the intercept must still be the mean of y."""
    X, y = small_problem()
    model, _ = fit_quietly(X, y, solver=solver, alpha=1e300)
    assert np.all(np.abs(model.coef_) < 1e-290)
    assert model.intercept_ == pytest.approx(np.mean(y), rel=1e-12)


@pytest.mark.parametrize("solver", CLOSED_FORMS)
def test_target_with_a_huge_offset(solver):
    """y = signal + 1e15: the offset must not eat the digits of the coefficients."""
    X, y = small_problem()
    y = y + 1e15
    model, _ = fit_quietly(X, y, solver=solver)
    assert digits(model, X, y) >= 12


@pytest.mark.parametrize("solver", CLOSED_FORMS)
def test_features_with_huge_offsets(solver):
    X, y = small_problem()
    X = X + np.array([1e9, -1e12, 3e6])
    model, _ = fit_quietly(X, y, solver=solver)
    assert digits(model, X, y) >= 6 if solver == "normal" else 9


# ------------------------------------------------------------------ float32, n > 500,000
@pytest.fixture(scope="module")
def big_float32():
    """600,000 float32 rows with a large mean and a small spread: naive float32 accumulation
    loses every digit here."""
    rng = np.random.default_rng(7)
    n = 600_000
    X = (1e4 + rng.standard_normal((n, 3))).astype(np.float32)
    y = (X.astype(np.float64) @ np.array([0.5, -2.0, 1.25]) - 3e4
         + rng.standard_normal(n)).astype(np.float32)
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    xbar, ybar = X64.mean(axis=0), y64.mean()
    ref = np.linalg.lstsq(X64 - xbar, y64 - ybar, rcond=None)[0]
    return X, y, ref, ybar - xbar @ ref


@pytest.mark.parametrize("solver", CLOSED_FORMS + ["gd"])
def test_float32_with_more_than_half_a_million_rows_is_accumulated_in_float64(big_float32, solver):
    X, y, ref, ref_b = big_float32
    model, caught = fit_quietly(X, y, solver=solver, **({"tol": 1e-12, "max_iter": 5000}
                                                        if solver == "gd" else {}))
    assert model.coef_.dtype == np.float64
    assert ConvergenceWarning not in caught
    # float64 arithmetic on the exact float32 values: agreement to ~10 digits
    np.testing.assert_allclose(model.coef_, ref, rtol=1e-8)
    assert model.intercept_ == pytest.approx(ref_b, rel=1e-8)
    pred = model.predict(X[:5])
    np.testing.assert_allclose(pred, X[:5].astype(np.float64) @ ref + ref_b, rtol=1e-9)


# ------------------------------------------------------------------ duplicate / constant
@pytest.mark.parametrize("solver", CLOSED_FORMS + ["gd"])
def test_duplicate_columns_share_the_coefficient(solver):
    X, y = small_problem(d=2)
    Xd = np.column_stack([X[:, 0], X[:, 1], X[:, 1]])
    model, caught = fit_quietly(Xd, y, solver=solver, **({"tol": 1e-12, "max_iter": 5000}
                                                         if solver == "gd" else {}))
    assert RankDeficiencyWarning in caught or solver == "gd"
    coef, intercept = exact_least_squares(X, y)
    # minimum norm: the duplicated coefficient split in two equal halves
    assert model.coef_[0] == pytest.approx(float(coef[0]), rel=1e-9)
    assert model.coef_[1] == pytest.approx(float(coef[1]) / 2, rel=1e-6)
    assert model.coef_[2] == pytest.approx(float(coef[1]) / 2, rel=1e-6)
    assert model.intercept_ == pytest.approx(float(intercept), rel=1e-9)


@pytest.mark.parametrize("solver", CLOSED_FORMS + ["gd"])
@pytest.mark.parametrize("constant", [0.0, 1.0, -3e7])
def test_constant_column_gets_zero_and_is_named(solver, constant):
    X, y = small_problem(d=2)
    Xc = np.column_stack([X[:, 0], np.full(X.shape[0], constant), X[:, 1]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = LinearRegression(solver=solver).fit(Xc, y)
    coef, intercept = exact_least_squares(X, y)
    assert model.coef_[1] == 0.0
    assert model.coef_[[0, 2]] == pytest.approx([float(c) for c in coef], rel=1e-9 if solver != "gd" else 1e-5)
    assert model.intercept_ == pytest.approx(float(intercept), rel=1e-9 if solver != "gd" else 1e-5)
    messages = [str(w.message) for w in caught if issubclass(w.category, RankDeficiencyWarning)]
    if solver != "gd":
        assert messages and "column 1" in messages[0]


# ------------------------------------------------------------------ single row / feature
@pytest.mark.parametrize("solver", CLOSED_FORMS + ["gd"])
def test_single_row_with_intercept(solver):
    """One row: the intercept is y and every coefficient 0 (the minimum-norm fit)."""
    model, _ = fit_quietly(np.array([[3.0, -1.0, 2.0]]), np.array([5.0]), solver=solver)
    assert np.all(model.coef_ == 0)
    assert model.intercept_ == 5.0
    assert model.predict(np.array([[3.0, -1.0, 2.0]]))[0] == pytest.approx(5.0, rel=1e-15)


@pytest.mark.parametrize("solver", CLOSED_FORMS + ["gd"])
def test_single_row_without_intercept(solver):
    """One row, no intercept: w = x·y/‖x‖² (the minimum-norm interpolant)."""
    x, y = np.array([3.0, -1.0, 2.0]), 7.0
    model, _ = fit_quietly(x[None, :], np.array([y]), solver=solver, fit_intercept=False,
                           standardize=False, **({"tol": 1e-14, "max_iter": 5000}
                                                 if solver == "gd" else {}))
    expect = [float(Fraction(v) * Fraction(y) / sum(Fraction(u) ** 2 for u in x)) for u in [0] for v in x]
    np.testing.assert_allclose(model.coef_, expect, rtol=1e-9)


@pytest.mark.parametrize("solver", CLOSED_FORMS + ["gd"])
@pytest.mark.parametrize("n", [2, 3, 1000])
def test_single_feature_matches_exact(solver, n):
    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 1)) * 3 + 10
    y = 4 * X[:, 0] - 2 + rng.standard_normal(n)
    model, _ = fit_quietly(X, y, solver=solver, **({"tol": 1e-12, "max_iter": 5000}
                                                    if solver == "gd" else {}))
    assert digits(model, X, y) >= (7 if solver == "gd" else 12)


@pytest.mark.parametrize("solver", CLOSED_FORMS + ["gd"])
def test_two_rows_many_features(solver):
    """d ≫ n: an interpolating fit, finite, with the minimum norm in standardized units."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 150))
    y = np.array([1.0, -2.0])
    model, _ = fit_quietly(X, y, solver=solver, **({"tol": 1e-12, "max_iter": 5000}
                                                    if solver == "gd" else {}))
    assert np.isfinite(model.coef_).all()
    np.testing.assert_allclose(model.predict(X), y, rtol=1e-6 if solver == "gd" else 1e-10)
