"""Concurrency: one fitted model used from many threads gives exactly the answers of
sequential calls (predict, prediction intervals, scoring, saving to separate files), and
models fitted in parallel threads equal models fitted one after another."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

import linreg
from linreg import LinearRegression

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

N_THREADS = 16
ROUNDS = 20


def make(seed=0, n=2000, d=8, k=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.5, 3, d) + rng.standard_normal(d)
    Y = X @ rng.standard_normal((d, k or 1)) + 0.3 * rng.standard_normal((n, k or 1))
    return X, (Y[:, 0] if k is None else Y)


def run_in_threads(fn, jobs):
    """Run ``fn(job)`` for every job on N_THREADS threads that all start together."""
    barrier = threading.Barrier(N_THREADS)

    def start(job):
        try:
            barrier.wait(timeout=10)
        except threading.BrokenBarrierError:
            pass
        return fn(job)

    with ThreadPoolExecutor(N_THREADS) as pool:
        # the first N_THREADS jobs meet at the barrier; later ones pass the broken barrier
        return list(pool.map(start, jobs))


@pytest.mark.parametrize("k", [None, 3])
@pytest.mark.parametrize("solver", ["normal", "qr", "gd"])
def test_predict_from_many_threads_equals_sequential(solver, k):
    X, y = make(k=k)
    model = LinearRegression(solver=solver).fit(X, y)
    rng = np.random.default_rng(1)
    queries = [rng.standard_normal((int(rng.integers(1, 3000)), X.shape[1])).astype(
        rng.choice([np.float64, np.float32])) for _ in range(N_THREADS * 2)]
    expected = [model.predict(q) for q in queries]

    def job(i):
        return [model.predict(queries[i]) for _ in range(ROUNDS)]

    results = run_in_threads(job, range(len(queries)))
    for i, per_round in enumerate(results):
        for got in per_round:
            np.testing.assert_array_equal(got, expected[i])
    # and the sequential answer is the model's equation, computed independently
    q = queries[0].astype(np.float64)
    coef = model.coef_.T if model.coef_.ndim == 2 else model.coef_
    np.testing.assert_allclose(expected[0], q @ coef + model.intercept_, rtol=1e-12, atol=1e-12)


def test_predict_with_dataframes_from_many_threads():
    X, y = make()
    names = [f"f{j}" for j in range(X.shape[1])]
    model = LinearRegression().fit(pd.DataFrame(X, columns=names), y)
    frames = [pd.DataFrame(np.random.default_rng(i).standard_normal((500, X.shape[1])), columns=names)
              for i in range(N_THREADS)]
    expected = [model.predict(f) for f in frames]
    results = run_in_threads(lambda i: [model.predict(frames[i]) for _ in range(ROUNDS)],
                             range(N_THREADS))
    for i, per_round in enumerate(results):
        for got in per_round:
            np.testing.assert_array_equal(got, expected[i])


def test_prediction_intervals_and_scores_from_many_threads():
    X, y = make()
    model = LinearRegression().fit(X, y)
    queries = [np.random.default_rng(i).standard_normal((300, X.shape[1])) for i in range(N_THREADS)]
    expected = [(model.predict(q, interval="prediction", level=0.9), model.score(X[:500], y[:500]))
                for q in queries]

    def job(i):
        return [(model.predict(queries[i], interval="prediction", level=0.9),
                 model.score(X[:500], y[:500])) for _ in range(5)]

    for i, per_round in enumerate(run_in_threads(job, range(N_THREADS))):
        for (yhat, lo, hi), score in per_round:
            np.testing.assert_array_equal(yhat, expected[i][0][0])
            np.testing.assert_array_equal(lo, expected[i][0][1])
            np.testing.assert_array_equal(hi, expected[i][0][2])
            assert score == expected[i][1]


@pytest.mark.parametrize("solver", ["normal", "qr", "gd"])
def test_models_fitted_in_parallel_threads_equal_sequential_fits(solver):
    datasets = [make(seed=s, n=800, d=6) for s in range(N_THREADS)]
    sequential = [LinearRegression(solver=solver).fit(X, y) for X, y in datasets]
    parallel = run_in_threads(lambda i: LinearRegression(solver=solver).fit(*datasets[i]),
                              range(N_THREADS))
    for a, b in zip(sequential, parallel):
        np.testing.assert_array_equal(a.coef_, b.coef_)
        assert a.intercept_ == b.intercept_


def test_saving_one_model_from_many_threads_to_one_file_never_tears_it(tmp_path):
    """Concurrent saves of two different models to the same path: the file is always one
    complete model or the other (each save is an atomic rename)."""
    X, y = make()
    models = [LinearRegression().fit(X, y), LinearRegression(alpha=1.0).fit(X, y)]
    path = tmp_path / "shared.json"
    models[0].save(path)

    def job(i):
        models[i % 2].save(path)
        loaded = linreg.load(path)
        return any(np.array_equal(loaded.coef_, m.coef_) for m in models)

    assert all(run_in_threads(job, range(N_THREADS * 2)))
    final = linreg.load(path)
    assert any(np.array_equal(final.coef_, m.coef_) for m in models)
    assert list(tmp_path.glob("*.tmp")) == []


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
def test_summaries_from_many_threads_equal_sequential(cov_type):
    """Inference (standard errors, tests, the text table) on one model from many threads."""
    X, y = make(n=1500, d=5)
    model = LinearRegression().fit(X, y)
    expected = model.summary(cov_type=cov_type)
    results = run_in_threads(lambda i: [model.summary(cov_type=cov_type) for _ in range(3)],
                             range(N_THREADS))
    for per_round in results:
        for got in per_round:
            np.testing.assert_array_equal(got.bse, expected.bse)
            np.testing.assert_array_equal(got.params, expected.params)
            assert str(got) == str(expected)
    # and the standard errors are statsmodels' (an independent implementation)
    import statsmodels.api as sm
    ref = sm.OLS(y, sm.add_constant(X)).fit(cov_type=cov_type)   # intercept first, as ours
    np.testing.assert_allclose(expected.params, ref.params, rtol=1e-10)
    np.testing.assert_allclose(expected.bse, ref.bse, rtol=1e-8)
