"""scikit-learn's own tests that pass sparse input to ``LinearRegression`` and ``Ridge``
(``sklearn/linear_model/tests/test_base.py`` and ``test_ridge.py``), run against linreg.

Each test keeps scikit-learn's data, containers and assertion; where scikit-learn's reference
is its own estimator, the reference here is the independent answer the test names (a weighted
closed form solved by ``scipy.linalg.solve``, the dense fit, scikit-learn's estimator itself).
linreg's penalty is ``(α/2)‖w‖²`` on the mean loss of the raw features, so scikit-learn's
``Ridge(alpha=a)`` is linreg's ``alpha = a / Σ weights`` with ``standardize=False``."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_almost_equal
from scipy import linalg
from sklearn.datasets import load_diabetes, make_regression, make_sparse_uncorrelated
from sklearn.linear_model import Ridge

from linreg import LinearRegression
from linreg.exceptions import RankDeficiencyWarning

CSR = [sp.csr_matrix, sp.csr_array]
CSC = [sp.csc_matrix, sp.csc_array]
COO = [sp.coo_matrix, sp.coo_array]
EVERY = COO + CSC + CSR + [sp.dok_matrix, sp.dok_array, sp.lil_matrix, sp.lil_array]
SEEDS = [0, 1, 42]


def ridge(alpha: float, weights_total: float, **kwargs) -> LinearRegression:
    """linreg's estimator for scikit-learn's ``Ridge(alpha)`` on rows of total weight
    ``weights_total``."""
    return LinearRegression(alpha=alpha / weights_total, standardize=False, **kwargs)


def add_dummy_feature(X) -> np.ndarray:
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    return np.hstack([np.ones((X.shape[0], 1)), X])


# --- test_base.py -------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("container", [None] + CSR)
def test_linear_regression_sample_weights(container, fit_intercept, seed):
    rng = np.random.RandomState(seed)
    n_samples, n_features = 6, 5
    X = rng.normal(size=(n_samples, n_features))
    if container is not None:
        X = container(X)
    y = rng.normal(size=n_samples)
    sample_weight = 1.0 + rng.uniform(size=n_samples)
    reg = LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=sample_weight)
    assert reg.coef_.shape == (X.shape[1],)
    # the closed form of weighted least squares: θ = (Xᵀ W X)⁻¹ Xᵀ W y
    W = np.diag(sample_weight)
    X_aug = add_dummy_feature(X) if fit_intercept else (X.toarray() if sp.issparse(X) else X)
    coefs = linalg.solve(X_aug.T @ W @ X_aug, X_aug.T @ W @ y)
    if fit_intercept:
        assert_allclose(reg.coef_, coefs[1:], rtol=1e-7, atol=1e-9)
        assert_allclose(reg.intercept_, coefs[0], rtol=1e-7, atol=1e-9)
    else:
        assert_allclose(reg.coef_, coefs, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("container", [sp.eye, sp.eye_array])
def test_linear_regression_sparse(container, seed):
    # an identity design with an intercept: 101 parameters from 100 rows, and the
    # minimum-norm solution puts mean(β) in the intercept
    rng = np.random.RandomState(seed)
    n = 100
    X = container(n, n, format="csr")
    beta = rng.rand(n)
    y = X @ beta
    with pytest.warns(RankDeficiencyWarning, match="100 rows cannot determine 101"):
        ols = LinearRegression().fit(X, y.ravel())
    assert_array_almost_equal(beta, ols.coef_ + ols.intercept_)
    assert_array_almost_equal(ols.predict(X) - y.ravel(), 0)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("container", CSR)
def test_linear_regression_sparse_equal_dense(fit_intercept, container):
    rng = np.random.RandomState(0)
    X = rng.randn(200, 2)
    X[X < 0.1] = 0.0
    y = rng.rand(200)
    dense = LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    sparse = LinearRegression(fit_intercept=fit_intercept).fit(container(X), y)
    assert dense.intercept_ == pytest.approx(sparse.intercept_, rel=1e-12, abs=1e-14)
    assert_allclose(dense.coef_, sparse.coef_, rtol=1e-12)


def test_linear_regression_multiple_outcome():
    rng = np.random.RandomState(0)
    X, y = make_regression(random_state=rng)           # 100 rows, 100 features
    Y = np.vstack((y, y)).T
    with pytest.warns(RankDeficiencyWarning, match="100 rows cannot determine 101"):
        reg = LinearRegression().fit(X, Y)
    assert reg.coef_.shape == (2, X.shape[1])
    Y_pred = reg.predict(X)
    with pytest.warns(RankDeficiencyWarning):
        y_pred = reg.fit(X, y).predict(X)
    assert_array_almost_equal(np.vstack((y_pred, y_pred)).T, Y_pred, decimal=3)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("container", COO)
def test_linear_regression_sparse_multiple_outcome(container, seed):
    rng = np.random.RandomState(seed)
    X, y = make_sparse_uncorrelated(random_state=rng)
    X = container(X)
    Y = np.vstack((y, y)).T
    ols = LinearRegression().fit(X, Y)
    assert ols.coef_.shape == (2, X.shape[1])
    Y_pred = ols.predict(X)
    y_pred = ols.fit(X, y.ravel()).predict(X)
    assert_array_almost_equal(np.vstack((y_pred, y_pred)).T, Y_pred, decimal=3)
    # and the coefficients are numpy's least squares on the dense design
    exact = np.linalg.lstsq(add_dummy_feature(X), y, rcond=None)[0]
    assert_allclose(ols.coef_, exact[1:], rtol=1e-10, atol=1e-12)


def test_positive_and_sparse():
    # scikit-learn refuses positive=True on sparse X; linreg fits it (from the Gram matrix of
    # the sparse rows) and the answer is the dense one
    X = sp.random(60, 10, density=0.4, random_state=0, format="csr")
    y = X @ np.linspace(-1.0, 1.0, 10) + np.random.RandomState(0).normal(0.0, 0.1, 60)
    sparse = LinearRegression(positive=True).fit(X, y)
    dense = LinearRegression(positive=True).fit(X.toarray(), y)
    assert np.all(sparse.coef_ >= 0.0)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-10, atol=1e-12)


# --- test_ridge.py --------------------------------------------------------------------------

X_DIABETES, Y_DIABETES = load_diabetes(return_X_y=True)


def _ridge_diabetes(container):
    X = X_DIABETES if container is None else container(X_DIABETES)
    fit = ridge(1.0, len(Y_DIABETES), fit_intercept=False).fit(X, Y_DIABETES)
    reference = Ridge(fit_intercept=False).fit(X_DIABETES, Y_DIABETES)
    assert_allclose(fit.coef_, reference.coef_, rtol=1e-10)
    return np.round(fit.score(X, Y_DIABETES), 5)


def _multi_ridge_diabetes(container):
    X = X_DIABETES if container is None else container(X_DIABETES)
    Y = np.vstack((Y_DIABETES, Y_DIABETES)).T
    fit = ridge(1.0, len(Y_DIABETES), fit_intercept=False).fit(X, Y)
    assert fit.coef_.shape == (2, X_DIABETES.shape[1])
    Y_pred = fit.predict(X)
    y_pred = fit.fit(X, Y_DIABETES).predict(X)
    assert_array_almost_equal(np.vstack((y_pred, y_pred)).T, Y_pred, decimal=3)


@pytest.mark.parametrize("test_func", [_ridge_diabetes, _multi_ridge_diabetes])
@pytest.mark.parametrize("container", CSR)
def test_dense_sparse(test_func, container):
    ret_dense = test_func(None)
    ret_sparse = test_func(container)
    if ret_dense is not None and ret_sparse is not None:
        assert_array_almost_equal(ret_dense, ret_sparse, decimal=3)


@pytest.mark.parametrize("n_samples,n_features", [[2, 3], [3, 2]])
@pytest.mark.parametrize("container", EVERY)
def test_sparse_design_with_sample_weights(n_samples, n_features, container):
    rng = np.random.RandomState(42)
    X = rng.randn(n_samples, n_features)
    y = rng.randn(n_samples)
    sample_weights = rng.randn(n_samples) ** 2 + 1
    sparse = ridge(1.0, sample_weights.sum(), fit_intercept=False).fit(
        container(X), y, sample_weight=sample_weights)
    dense = Ridge(alpha=1.0, fit_intercept=False).fit(X, y, sample_weight=sample_weights)
    assert_array_almost_equal(sparse.coef_, dense.coef_, decimal=6)


def _sparse_offset_regression(seed: int, n_samples=100, n_features=20):
    """scikit-learn's ``_make_sparse_offset_regression``: sparse-ish X with a large offset in y
    and X's columns far from zero."""
    rng = np.random.RandomState(seed)
    X, y, _ = make_regression(n_samples=n_samples, n_features=n_features, n_informative=5,
                              coef=True, random_state=rng, bias=13.0)
    X += 30.0 * np.random.RandomState(seed).uniform(size=n_features)
    X[X < 31] = 0.0
    return X, y


@pytest.mark.parametrize("solver", ["normal", "qr", "lsqr", "auto"])
@pytest.mark.parametrize("with_sample_weight", [True, False])
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("container", CSR)
def test_ridge_fit_intercept_sparse(solver, with_sample_weight, seed, container):
    X, y = _sparse_offset_regression(seed)
    sample_weight = None
    total = X.shape[0]
    if with_sample_weight:
        sample_weight = 1.0 + np.random.RandomState(seed).uniform(size=X.shape[0])
        total = sample_weight.sum()
    reference = Ridge(solver="cholesky", alpha=1.0).fit(X, y, sample_weight=sample_weight)
    dense = ridge(1.0, total, solver=solver).fit(X, y, sample_weight=sample_weight)
    sparse = ridge(1.0, total, solver=solver).fit(container(X), y, sample_weight=sample_weight)
    assert_allclose(sparse.intercept_, reference.intercept_, rtol=1e-7)
    assert_allclose(sparse.coef_, reference.coef_, rtol=5e-7, atol=1e-9)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
