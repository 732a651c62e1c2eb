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
from dask.distributed import wait

from linreg import LinearRegression, dask_support
from linreg.rows.dask import DaskRows

from exact import exact_least_squares, lstsq_fit, rel




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
    # the training rows stay on the cluster: summary() needs no arguments
    r = model.summary()
    assert r.target_name == "target" and r.param_names == ("intercept", "a", "b", "c")
    np.testing.assert_allclose(r.params, [ref.intercept_, *ref.coef_], rtol=1e-9)
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
    # a text column is categorical (treatment coded), as in memory
    labelled = df.assign(c=np.where(df["c"] > 0, "up", "down"))
    text = LinearRegression().fit(dd.from_pandas(labelled, npartitions=2), "target")
    memory = LinearRegression().fit(labelled, "target")
    assert text.coef_names_ == memory.coef_names_ == ["c[T.up]", "a", "b"]
    assert rel(text.coef_, memory.coef_) < 1e-10


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
    assert a.n_iter_ == 12 and a.stop_reason_ == "max_iter"


def test_a_dask_fit_says_why_it_stopped_and_how_far(client):
    """The same loop as in memory: the reason, and the gap against numpy.linalg.lstsq."""
    from linreg import ConvergenceWarning
    X, y = make_data(n=4000, d=3, seed=8)
    X[:, 1] = X[:, 0] + 0.3 * X[:, 1]
    Xd, yd = da.from_array(X, chunks=(1000, 3)), da.from_array(y, chunks=1000)
    with pytest.warns(ConvergenceWarning, match="stopped at max_iter=5 iterations") as caught:
        model = LinearRegression(solver="gd", optimizer="plain", max_iter=5).fit(Xd, yd)
    assert model.stop_reason_ == "max_iter"
    coef, icpt = lstsq_fit(X, y)
    best = np.mean((X @ coef[:, 0] + icpt[0] - y) ** 2)
    gap = (np.mean((model.predict(X) - y) ** 2) - best) / best
    assert caught[0].message.relative_loss_gap == pytest.approx(gap, rel=1e-6)


def test_errors_and_missing_dask(monkeypatch):
    X, y = make_data(n=100, d=2)
    with pytest.raises(ValueError, match="needs y"):
        LinearRegression().fit(da.from_array(X, chunks=50))
    with pytest.raises(ValueError, match="X has 100 rows but y has 99"):
        LinearRegression().fit(da.from_array(X, chunks=50), da.from_array(y[:99], chunks=50))
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"pip install 'linreg\[dask\]'"):
        dask_support.require_dask()
    assert not dask_support.is_dask_collection(X)


# ----------------------------------------------------------------------------- summary
def _summary_data(weighted, seed=11, n=230, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + np.linspace(-2.0, 3.0, d)
    # heteroscedastic, autocorrelated noise: HC3 and Durbin–Watson far from their trivial values
    e = np.convolve(rng.standard_normal(n + 4), np.ones(5) / 5, mode="valid")
    y = X @ np.linspace(1.0, -1.0, d) + 2.0 + e * (0.5 + np.abs(X[:, 0]))
    w = rng.uniform(0.2, 3.0, n) if weighted else None
    return X, y, w


def _compare_with_statsmodels(r, X, y, w, cov_type, fit_intercept=True, f_pvalue_digits=None):
    from statsmodels.stats.outliers_influence import OLSInfluence
    from test_inference import _compare, _statsmodels, close, compare_residual_diagnostics
    s, exog = _statsmodels(X, y, w, fit_intercept, cov_type)
    _compare(r, s, f_pvalue_digits=f_pvalue_digits)
    compare_residual_diagnostics(r, s)          # Durbin–Watson across partitions included
    # WLS is OLS on rows scaled by √s: its hat matrix is the reference for the leverage
    import statsmodels.api as sm
    root = np.ones(len(y)) if w is None else np.sqrt(w)
    hat = OLSInfluence(sm.OLS(y * root, exog * root[:, None]).fit()).hat_matrix_diag
    close(r.leverage, hat, 1e-8, "leverage")


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
@pytest.mark.parametrize("weighted", [False, True])
def test_summary_on_the_cluster_matches_statsmodels(client, weighted, cov_type):
    """The residual pass runs on the workers, partition by partition (uneven sizes, one
    empty, y chunked differently from X): every number equals statsmodels OLS/WLS."""
    X, y, w = _summary_data(weighted)
    chunks = (40, 75, 0, 1, 64, 50)
    Xd = da.from_array(X, chunks=(chunks, 2))
    yd = da.from_array(y, chunks=90)
    wd = None if w is None else da.from_array(w, chunks=(chunks,))
    model = LinearRegression().fit(Xd, yd, sample_weight=wd)
    r = model.summary(cov_type, X=Xd, y=yd, sample_weight=wd)
    _compare_with_statsmodels(r, X, y, w, cov_type)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
def test_summary_of_a_dask_dataframe_matches_statsmodels(client, cov_type):
    X, y, w = _summary_data(True, seed=12)
    df = pd.DataFrame(X, columns=list("abcd")).assign(target=y, w=w)
    ddf = dd.from_pandas(df, npartitions=6)
    model = LinearRegression().fit(ddf, "target", sample_weight="w")
    r = model.summary(cov_type, X=ddf, y="target", sample_weight="w")
    assert r.param_names == ("intercept", "a", "b", "c", "d")
    _compare_with_statsmodels(r, X, y, w, cov_type)
    other = dd.from_pandas(df.assign(target=y + 1.0), npartitions=6)
    with pytest.raises(ValueError, match="not the rows the model was fitted on"):
        model.summary(cov_type, X=other, y="target", sample_weight="w")


def test_summary_of_an_ill_conditioned_design_uses_the_partitions_factors(client, monkeypatch):
    """κ(S) > 1e6: the bread comes from the TSQR factor of the partitions (computed on the
    workers), which keeps the standard errors to statsmodels' digits."""
    from test_inference import _data
    factored = []
    tsqr = DaskRows.qr_factor
    monkeypatch.setattr(DaskRows, "qr_factor",
                        lambda self, *a, **kw: factored.append(a) or tsqr(self, *a, **kw))
    X, y, w, _ = _data("strongly_collinear")
    Xd, yd = da.from_array(X, chunks=(35, 5)), da.from_array(y, chunks=35)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression().fit(Xd, yd)
    for cov_type in ("nonrobust", "HC3"):
        factored.clear()
        r = model.summary(cov_type, X=Xd, y=yd)
        assert len(factored) == 1
        _compare_with_statsmodels(r, X, y, None, cov_type, f_pvalue_digits=1e-8)


def _arrays_in(obj, depth=0):
    """Every numpy array inside a computed result (tuples, lists, dicts, objects' fields)."""
    if depth > 6:
        return
    if isinstance(obj, np.ndarray):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _arrays_in(item, depth + 1)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _arrays_in(item, depth + 1)
    elif hasattr(obj, "__dict__"):
        yield from _arrays_in(vars(obj), depth + 1)


def test_summary_never_brings_partition_rows_to_the_client(client):
    """Everything the client receives while summarizing is recorded: no block of rows of X
    (a partition's rows) among it, and far fewer bytes than the data — the small totals,
    plus the per-row residuals (and leverage, for HC3) that the influence measures need."""
    n, d, rows = 20_000, 12, 2_500
    rng = np.random.default_rng(13)
    X = rng.standard_normal((n, d))
    y = X @ np.arange(1.0, d + 1) + rng.standard_normal(n)
    Xd, yd = client.persist([da.from_array(X, chunks=(rows, d)), da.from_array(y, chunks=rows)])
    wait([Xd, yd])
    model = LinearRegression().fit(Xd, yd)
    received = []

    def recording_get(dsk, keys, **kwargs):
        out = client.get(dsk, keys, **kwargs)
        received.extend(_arrays_in(out))
        return out

    def row_blocks():
        return [a for a in received if a.ndim == 2 and a.shape[0] > 2 * d and a.shape[1] >= d]

    with dask.config.set(scheduler=recording_get):
        # the detector sees rows when they do come to the client (a stochastic solver's visit)
        next(DaskRows(Xd, yd, None).blocks(False, None))
        assert [a.shape for a in row_blocks()] == [(rows, d)]
        received.clear()
        r = model.summary("HC3", X=Xd, y=yd)
        assert received, "the summary computed nothing through the scheduler"
        assert row_blocks() == []
        moved = sum(a.nbytes for a in received)
        totals = (n // rows) * 4 * (d + 2) ** 2 * 8        # a few small matrices a partition
        assert moved <= 2 * n * 8 + totals, moved           # + leverage and residual a row
        received.clear()
        nonrobust = model.summary(X=Xd, y=yd)
        assert row_blocks() == [] and sum(a.nbytes for a in received) < 2 * n * 8
        received.clear()
        lev = nonrobust.leverage                # on first use: one more pass on the workers
        assert row_blocks() == [] and sum(a.nbytes for a in received) < 2 * n * 8
    assert received
    np.testing.assert_allclose(lev, r.leverage, rtol=1e-10)
    import statsmodels.api as sm
    s = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HC3")
    np.testing.assert_allclose(r.bse, s.bse, rtol=1e-8)
    np.testing.assert_allclose(nonrobust.bse, sm.OLS(y, sm.add_constant(X)).fit().bse, rtol=1e-8)


def test_dummies_that_repeat_the_intercept_on_dask(client):
    """The penguins fit with every species dummy and the intercept: the same rank decision,
    warning and summary as in memory and as statsmodels (issue: dummies that repeat the
    intercept)."""
    from linreg import RankDeficiencyWarning
    from test_rank import check_estimable, penguin_design, statsmodels_fit
    X, y = penguin_design()
    cols = ["species_Chinstrap", "species_Gentoo", "flipper_length_mm", "species_Adelie"]
    frame = dd.from_pandas(pd.concat([X[cols], y], axis=1), npartitions=4)
    with pytest.warns(RankDeficiencyWarning, match="the intercept and"):
        model = LinearRegression().fit(frame, "body_mass_g")
    r = model.summary(X=frame, y="body_mass_g")
    check_estimable(r, model, X[cols], y, statsmodels_fit(X[cols], y), 2)
    assert r.identified.tolist() == [False, False, False, True, False]
