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
