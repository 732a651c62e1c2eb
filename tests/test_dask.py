"""Fitting on a real Dask cluster (LocalCluster, worker processes on 127.0.0.1), against
numpy.linalg.lstsq, scikit-learn and exact rational arithmetic."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression as SkLinearRegression

import dask
import dask.array as da
import dask.dataframe as dd
from dask.distributed import Client, LocalCluster, wait

from linreg import LinearRegression, dask_support

from exact import exact_least_squares, lstsq_fit, rel


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit="1GiB") as cluster:
        with Client(cluster) as c:
            yield c


def make_data(n=6000, d=5, k=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1, 50, d) + 100.0
    W = rng.standard_normal((d, k))
    Y = X @ W - 4.0 + rng.standard_normal((n, k))
    return X, (Y[:, 0] if k == 1 else Y)


@pytest.mark.parametrize("solver", ["auto", "normal", "qr", "gd"])
def test_dask_array_fit_matches_lstsq(client, solver):
    X, y = make_data()
    Xd = da.from_array(X, chunks=((1000, 1500, 500, 3000), (2, 3)))   # uneven, column-split
    yd = da.from_array(y, chunks=700)                                   # misaligned with X
    model = LinearRegression(solver=solver, max_iter=20000, tol=1e-13).fit(Xd, yd)
    coef, icpt = lstsq_fit(X, y)
    tol = 1e-10 if solver != "gd" else 1e-7
    assert rel(model.coef_, coef[:, 0]) < tol
    assert abs(model.intercept_ - icpt[0]) < tol * 1e3
    assert model.stats_.n_rows == len(X) and model.n_features_in_ == 5


def test_dask_weights_and_several_targets(client):
    X, Y = make_data(n=3000, d=3, k=2, seed=1)
    w = np.random.default_rng(2).uniform(0, 2, len(X))
    model = LinearRegression().fit(da.from_array(X, chunks=(400, 3)),
                                   da.from_array(Y, chunks=(400, 2)),
                                   sample_weight=da.from_array(w, chunks=400))
    coef, icpt = lstsq_fit(X, Y, w)
    assert model.coef_.shape == (2, 3)
    assert rel(model.coef_, coef.T) < 1e-10 and rel(model.intercept_, icpt) < 1e-10


def test_dask_dataframe_with_target_name_and_series(client):
    X, y = make_data(n=4000, d=3, seed=3)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["target"] = y
    ddf = dd.from_pandas(df, npartitions=5)
    model = LinearRegression().fit(ddf, "target")
    ref = SkLinearRegression().fit(df[["a", "b", "c"]], y)
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    assert rel(model.coef_, ref.coef_) < 1e-10 and abs(model.intercept_ - ref.intercept_) < 1e-8
    series = LinearRegression().fit(ddf[["a", "b", "c"]], ddf["target"])
    assert rel(series.coef_, ref.coef_) < 1e-10
    unknown = LinearRegression().fit(ddf[["a", "b", "c"]].to_dask_array(),   # chunk sizes nan
                                     ddf["target"].to_dask_array())
    assert rel(unknown.coef_, ref.coef_) < 1e-10
    pred = model.predict(ddf)                       # lazy: nothing computed yet
    assert dask.is_dask_collection(pred)
    np.testing.assert_allclose(pred.compute().to_numpy(), ref.predict(df[["a", "b", "c"]]),
                               rtol=1e-10)
    w = np.random.default_rng(9).uniform(0, 2, len(df))
    weighted = LinearRegression().fit(dd.from_pandas(df.assign(w=w), npartitions=3), "target",
                                      sample_weight="w")
    ref_w = SkLinearRegression().fit(df[["a", "b", "c"]], y, sample_weight=w)
    assert list(weighted.feature_names_in_) == ["a", "b", "c"]
    assert rel(weighted.coef_, ref_w.coef_) < 1e-10
    with pytest.raises(ValueError, match=r"column 'nope' is not in the DataFrame"):
        LinearRegression().fit(ddf, "nope")
    text = dd.from_pandas(df.assign(c=df["c"].astype(str)), npartitions=2)
    with pytest.raises(ValueError, match=r"column 'c' has dtype .*, not numbers"):
        LinearRegression().fit(text, "target")


def test_predict_on_dask_array_is_lazy_and_correct(client):
    X, Y = make_data(n=2000, d=4, k=2, seed=4)
    Xd = da.from_array(X, chunks=(300, 4))
    model = LinearRegression().fit(Xd, da.from_array(Y, chunks=(300, 2)))
    pred = model.predict(Xd)
    assert isinstance(pred, da.Array) and pred.shape == (2000, 2)
    coef, icpt = lstsq_fit(X, Y)
    np.testing.assert_allclose(pred.compute(), X @ coef + icpt, rtol=1e-10)
    single = LinearRegression().fit(Xd, da.from_array(Y[:, 0], chunks=300)).predict(Xd)
    assert single.shape == (2000,)
    with pytest.raises(ValueError, match="X has 3 features, the model expects 4"):
        model.predict(Xd[:, :3])


def test_bad_value_in_a_partition_is_located(client):
    X, y = make_data(n=3000, d=3, seed=5)
    X[2345, 1] = np.nan
    with pytest.raises(ValueError, match=r"dask partition 4, row 2345: feature column 1 is NaN"):
        LinearRegression().fit(da.from_array(X, chunks=(500, 3)), da.from_array(y, chunks=500))
    df = pd.DataFrame(X, columns=["a", "b", "c"], index=np.arange(3000) + 10_000).assign(y=y)
    with pytest.raises(ValueError, match=r"partition \d+, row \d+ \(index 12345\): feature "
                                         r"column 1 \('b'\) is NaN"):
        LinearRegression().fit(dd.from_pandas(df, npartitions=4), "y")


def test_huge_means_keep_full_accuracy(client):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((2000, 3)) + 1e8
    y = X @ [1.0, 2.0, 3.0] - 6e8 + rng.standard_normal(2000)
    model = LinearRegression().fit(da.from_array(X, chunks=(150, 3)), da.from_array(y, chunks=150))
    coef, icpt = exact_least_squares(X, y)
    assert rel(model.coef_, np.array([float(c) for c in coef])) < 1e-13


def test_ill_conditioned_design_uses_tsqr_on_the_cluster(client):
    rng = np.random.default_rng(6)
    t = rng.uniform(0, 1, 600)
    X = np.column_stack([t, t + 1e-6 * rng.standard_normal(600), rng.standard_normal(600)])
    y = X @ [1.0, 1.0, 1.0] + 0.01 * rng.standard_normal(600)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression().fit(da.from_array(X, chunks=(90, 3)),
                                       da.from_array(y, chunks=90))
    assert model.solver_ == "qr"
    coef, icpt = exact_least_squares(X, y)
    assert rel(model.coef_, np.array([float(c) for c in coef])) < 1e-7


def test_only_small_matrices_travel(client):
    """Rows generated on the workers stay there: the bytes moved between workers are those of
    the (d+k)×(d+k) statistics, not of the 16 MB of rows."""
    d = 20
    X = da.random.RandomState(0).standard_normal((100_000, d), chunks=(10_000, d))
    y = X @ np.arange(1.0, d + 1) + 1.0
    X, y = client.persist([X, y])
    wait([X, y])
    client.run(lambda dask_worker: dask_worker.transfer_incoming_log.clear())
    model = LinearRegression().fit(X, y)
    moved = sum(sum(e["total"] for e in log) for log in client.run(
        lambda dask_worker: list(dask_worker.transfer_incoming_log)).values())
    # 10 partitions' statistics (a y block, 80 kB, may join its X block once)
    assert moved < 10 * (d + 1) ** 2 * 8 * 10 + 10 * 80_000, moved
    assert rel(model.coef_, np.arange(1.0, d + 1)) < 1e-10


def test_stochastic_solvers_visit_partitions(client):
    X, y = make_data(n=4000, d=3, seed=7)
    Xd, yd = da.from_array(X, chunks=(2000, 3)), da.from_array(y, chunks=2000)
    coef, icpt = lstsq_fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = LinearRegression(solver="minibatch", batch_size=32, random_state=0, max_iter=12).fit(Xd, yd)
    # stochastic: near, not at, the optimum — the mean squared error within 10% of the best
    best = np.mean((X @ coef[:, 0] + icpt[0] - y) ** 2)
    assert np.mean((a.predict(X) - y) ** 2) < 1.1 * best
    assert a.n_iter_ == 12


def test_errors_and_missing_dask(monkeypatch):
    X, y = make_data(n=100, d=2)
    with pytest.raises(ValueError, match="needs y"):
        LinearRegression().fit(da.from_array(X, chunks=50))
    with pytest.raises(ValueError, match="X has 100 rows but y has 99"):
        LinearRegression().fit(da.from_array(X, chunks=50), da.from_array(y[:99], chunks=50))
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"pip install 'linreg\[dask\]'"):
        dask_support._require_dask()
    assert not dask_support.is_dask_collection(X)
