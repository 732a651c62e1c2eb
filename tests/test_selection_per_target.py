"""LinearRegressionCV with one alpha per target: every target's fold scores against explicit
refits of that target alone, leave-one-out against scikit-learn's
``RidgeCV(alpha_per_target=True)``, the refit against scikit-learn's ``Ridge`` with one alpha
per target; the default (one alpha for all targets) unchanged; ``.npy`` sources as memory."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import Ridge, RidgeCV
from test_selection import ALPHAS, explicit_scores, fold_ids, rel

from linreg import LinearRegression, LinearRegressionCV, sources


def targets_data(n=240, d=5, seed=3):
    """Three targets that want very different penalties: a strong signal with little noise,
    a weak one drowned in noise, one in between."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1, 8, d) + 2.0
    W = np.array([[1.0, 0.02, 0.4], [-2.0, 0.0, 0.3], [0.5, 0.01, 0.0], [0.0, -0.02, 0.2],
                  [0.3, 0.0, -0.1]])[:d]
    Y = X @ W + [1.0, -2.0, 0.5] + rng.standard_normal((n, 3)) * [0.2, 6.0, 1.0]
    return X, Y, rng.uniform(0.3, 2.5, n)


ALPHA_GRID = np.r_[0.0, np.geomspace(1e-4, 30.0, 14)]


@pytest.mark.parametrize("params", [
    dict(), dict(standardize=False, weighted=False), dict(scoring="r2", cv=4),
    dict(scoring="mae", shuffle=True, random_state=5), dict(selection="1se"),
    dict(fit_intercept=False),
])
def test_each_target_equals_explicit_refits_of_that_target(params):
    params = dict(params)
    weighted = params.pop("weighted", True)
    X, Y, w = targets_data()
    w = w if weighted else None
    m = LinearRegressionCV(alphas=ALPHA_GRID, alpha_per_target=True, **params).fit(
        X, Y, sample_weight=w)
    k = Y.shape[1]
    n_folds = params.get("cv", 5)
    assert m.mse_path_.shape == m.score_path_.shape == (len(ALPHA_GRID), n_folds, k)
    assert m.alpha_.shape == m.alpha_min_.shape == m.alpha_1se_.shape == (k,)
    ids = fold_ids(m, len(Y))
    lr = {key: v for key, v in params.items() if key in ("fit_intercept", "standardize")}
    for j in range(k):
        want = explicit_scores(X, Y[:, j], w, ids, ALPHA_GRID, m.scoring, **lr)
        assert rel(m.score_path_[:, :, j], want) < 1e-9
        mean = want.mean(axis=1)
        loss = -mean if m.scoring == "r2" else mean
        best = int(np.argmin(loss))
        se = want.std(axis=1, ddof=1) / np.sqrt(n_folds)
        if m.selection == "min":
            assert m.alpha_[j] == ALPHA_GRID[best]
        else:
            assert m.alpha_[j] == ALPHA_GRID[np.flatnonzero(loss <= loss[best] + se[best]).max()]
        assert rel(m.cv_results_[f"mean_test_{m.scoring}"][:, j], mean) < 1e-9
        # the refit of target j alone on all rows, with its alpha
        full = LinearRegression(alpha=m.alpha_[j], solver="normal", **lr).fit(
            X, Y[:, j], sample_weight=w)
        assert rel(m.coef_[j], full.coef_) < 1e-9
        assert abs(m.intercept_[j] - full.intercept_) <= 1e-9 * max(1.0, abs(full.intercept_))
    # the targets do want different penalties here, so the test means something
    assert len(set(m.alpha_.tolist())) > 1
    assert rel(m.predict(X), X @ m.coef_.T + m.intercept_) < 1e-12


def test_refit_equals_sklearn_ridge_with_one_alpha_per_target():
    X, Y, _ = targets_data()
    n = len(Y)
    m = LinearRegressionCV(alphas=ALPHA_GRID[1:], alpha_per_target=True,
                           standardize=False).fit(X, Y)
    ridge = Ridge(alpha=n * m.alpha_).fit(X, Y)     # alpha per row × n rows
    assert rel(m.coef_, ridge.coef_) < 1e-9
    assert rel(m.intercept_, ridge.intercept_) < 1e-9


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_loo_per_target_equals_ridgecv(fit_intercept):
    X, Y, _ = targets_data(n=150)
    n = len(Y)
    alphas = np.geomspace(1e-4, 30.0, 12)
    m = LinearRegressionCV(alphas=alphas, cv="loo", alpha_per_target=True, standardize=False,
                           fit_intercept=fit_intercept).fit(X, Y)
    sk = RidgeCV(alphas=n * alphas, alpha_per_target=True, fit_intercept=fit_intercept,
                 store_cv_results=True).fit(X, Y)
    # scikit-learn: cv_results_ (n_samples, n_targets, n_alphas)
    assert rel(m.mse_path_[:, 0, :], sk.cv_results_.mean(axis=0).T) < 1e-9
    assert rel(m.alpha_ * n, sk.alpha_) < 1e-12
    assert rel(m.coef_, sk.coef_) < 1e-9
    g = LinearRegressionCV(alphas=alphas, cv="gcv", alpha_per_target=True,
                           standardize=False, fit_intercept=fit_intercept).fit(X, Y)
    assert g.mse_path_.shape == (12, 1, 3) and g.alpha_.shape == (3,)


def test_default_is_one_alpha_from_the_mean_over_targets():
    X, Y, w = targets_data()
    m = LinearRegressionCV(alphas=ALPHA_GRID).fit(X, Y, sample_weight=w)
    want = np.mean([explicit_scores(X, Y[:, j], w, fold_ids(m, len(Y)), ALPHA_GRID)
                    for j in range(3)], axis=0)
    assert m.mse_path_.shape == (len(ALPHA_GRID), 5)
    assert rel(m.mse_path_, want) < 1e-9
    assert isinstance(m.alpha_, float) and m.alpha_ == ALPHA_GRID[np.argmin(want.mean(1))]
    full = LinearRegression(alpha=m.alpha_, solver="normal").fit(X, Y, sample_weight=w)
    assert rel(m.coef_, full.coef_) < 1e-9


def test_one_target_is_unchanged_by_alpha_per_target():
    X, Y, _ = targets_data()
    y = Y[:, 0]
    m = LinearRegressionCV(alphas=ALPHAS, alpha_per_target=True).fit(X, y)
    assert m.mse_path_.shape == (len(ALPHAS), 5) and isinstance(m.alpha_, float)
    assert rel(m.mse_path_, explicit_scores(X, y, None, fold_ids(m, len(y)), ALPHAS)) < 1e-9
    assert m.coef_.shape == (5,)


def test_npy_source_per_target_equals_explicit_refits(tmp_path):
    X, Y, _ = targets_data(n=700)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    m = LinearRegressionCV(alphas=ALPHA_GRID, alpha_per_target=True, shuffle=True).fit(
        sources.npy(tmp_path / "X.npy", tmp_path / "Y.npy", chunk_rows=97))
    ids = fold_ids(m, len(Y))
    for j in range(3):
        assert rel(m.mse_path_[:, :, j], explicit_scores(X, Y[:, j], None, ids, ALPHA_GRID)) < 1e-9


def test_per_target_bad_input_and_nan_scores_name_the_target():
    X, Y, _ = targets_data(n=60)
    with pytest.raises(ValueError, match="alpha_per_target must be True or False"):
        LinearRegressionCV(alpha_per_target="yes").fit(X, Y)
    Y = Y.copy()
    Y[:12, 1] = 4.0            # target 1 is constant on the first fold: its r2 there is NaN
    with pytest.raises(ValueError, match="target 1: every alpha"):
        LinearRegressionCV(alphas=ALPHAS, scoring="r2", alpha_per_target=True).fit(X, Y)
