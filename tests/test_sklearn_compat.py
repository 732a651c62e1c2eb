"""scikit-learn's own estimator checks, and use inside its tools."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures
from sklearn.utils.estimator_checks import parametrize_with_checks

from linreg import LinearRegression


@parametrize_with_checks([
    LinearRegression(),
    LinearRegression(solver="qr", standardize=False),
    LinearRegression(solver="normal", alpha=0.1, fit_intercept=False),
])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((120, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.3 * X[:, 0] ** 2 + 0.1 * rng.standard_normal(120)
    return X, y


def test_pipeline_and_cross_val_score():
    X, y = _data()
    pipe = make_pipeline(PolynomialFeatures(2), LinearRegression())
    scores = cross_val_score(pipe, X, y, cv=5)
    assert scores.shape == (5,) and np.all(scores > 0.95)


def test_grid_search_over_alpha_and_solver():
    X, y = _data(1)
    grid = GridSearchCV(LinearRegression(), {"alpha": [0.0, 0.1, 10.0], "solver": ["normal", "gd"]}, cv=3)
    grid.fit(X, y)
    assert grid.best_params_["alpha"] == 0.0
    assert grid.best_estimator_.coef_.shape == (3,)


def test_dataframe_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = _data(2)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    m = LinearRegression().fit(df, y)
    assert list(m.feature_names_in_) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="feature names"):
        m.predict(df[["c", "b", "a"]])
