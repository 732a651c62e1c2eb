"""LinearRegressionCV on a real Dask cluster (LocalCluster): every fold's statistics in one
pass over the partitions, equal to the in-memory fit with the same settings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import dask.array as da
import dask.dataframe as dd

from linreg import LinearRegressionCV

ALPHAS = np.array([0.0, 1e-3, 1e-2, 1e-1])




def rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("shuffle", [False, True])
def test_dask_array_and_frame_equal_memory(client, shuffle):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 4)) * [1, 5, 20, 0.1] + 100.0
    y = X @ [1.0, -0.2, 0.05, 3.0] - 4.0 + rng.standard_normal(3000)
    w = rng.uniform(0.5, 2.0, 3000)
    mem = LinearRegressionCV(alphas=ALPHAS, shuffle=shuffle).fit(X, y, sample_weight=w)
    Xd = da.from_array(X, chunks=((700, 800, 1000, 500), (2, 2)))
    m = LinearRegressionCV(alphas=ALPHAS, shuffle=shuffle).fit(
        Xd, da.from_array(y, chunks=600), sample_weight=da.from_array(w, chunks=900))
    assert rel(m.mse_path_, mem.mse_path_) < 1e-10 and m.alpha_ == mem.alpha_
    assert rel(m.coef_, mem.coef_) < 1e-10
    df = pd.DataFrame(X, columns=list("abcd")).assign(y=y, w=w)
    f = LinearRegressionCV(alphas=ALPHAS, shuffle=shuffle).fit(
        dd.from_pandas(df, npartitions=4), "y", sample_weight="w")
    assert rel(f.mse_path_, mem.mse_path_) < 1e-10 and f.alpha_ == mem.alpha_
    assert list(f.feature_names_in_) == list("abcd")


def test_stepwise_selector_on_dask_equals_statsmodels(client):
    """StepwiseSelector from a dask array (weights as an array) and a dask DataFrame (weights
    as a column): the path and the model are statsmodels WLS refits'; predict is lazy."""
    import statsmodels.api as sm

    from linreg.selection import StepwiseSelector
    rng = np.random.default_rng(4)
    n, d = 1500, 6
    X = rng.standard_normal((n, d)) * [1, 2, 3, 1, 0.5, 2] + 40.0
    y = X @ [0.5, 0.0, -0.2, 0.0, 0.8, 0.05] + rng.standard_normal(n)
    w = rng.uniform(0.5, 2.0, n)

    def wls(cols):
        return sm.WLS(y, sm.add_constant(X[:, sorted(cols)], has_constant="add")
                      if cols else np.ones((n, 1)), weights=w).fit()

    Xd = da.from_array(X, chunks=((400, 600, 500), (3, 3)))
    arr = StepwiseSelector(criterion="aic").fit(Xd, da.from_array(y, chunks=500),
                                                sample_weight=da.from_array(w, chunks=700))
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(d)]).assign(y=y, w=w)
    ddf = dd.from_pandas(df, npartitions=3)
    frame = StepwiseSelector(criterion="aic").fit(ddf, "y", sample_weight="w")
    for sel in (arr, frame):
        model = []
        for action, j, v in sel.path_[1:]:
            model = model + [j] if action == "+" else [c for c in model if c != j]
            assert abs(v - wls(model).aic) <= 1e-8 * abs(v)
        r = wls(sel.selected_)
        np.testing.assert_allclose(sel.model_.coef_, r.params[1:], rtol=1e-8)
    assert list(frame.feature_names_in_) == [f"x{j}" for j in range(d)]
    np.testing.assert_allclose(arr.predict(Xd).compute(), r.fittedvalues, rtol=1e-8)
    np.testing.assert_allclose(frame.predict(ddf[[f"x{j}" for j in range(d)]]).compute(),
                               r.fittedvalues, rtol=1e-8)
