"""Metamorphic properties of cross-validation folds and of cluster-robust covariances
(hypothesis; bounded and derandomized in ``make test``, fresh and many in ``make fuzz``).

* Folds: permuting the fold labels permutes the columns of ``mse_path_`` the same way; k-fold
  cross-validation with k = n (every fold one row) is leave-one-out.
* Clusters: relabelling the clusters, or splitting them across blocks in memory, blocks of a
  CSV file or Dask partitions at any point, leaves the covariance unchanged; one observation
  per cluster is HC0 times the documented factor ``G/(G − 1) · (n − 1)/(n − p)`` (= HC1 when
  G = n), and HC0 itself without the correction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from linreg import LinearRegression, sources
from linreg.inference import summarize
from linreg.rows import MemoryRows
from linreg.selection import LinearRegressionCV

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

ALPHAS = [1e-3, 0.1, 10.0]


@st.composite
def regressions(draw, min_rows=8, max_rows=60):
    n = draw(st.integers(min_rows, max_rows))
    d = draw(st.integers(1, 4))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    X = np.round(rng.standard_normal((n, d)) * rng.uniform(0.5, 5, d) + rng.normal(0, 3, d), 4)
    y = np.round(X @ rng.standard_normal(d) + rng.standard_normal(n) * (1 + np.abs(X[:, 0])), 4)
    assume(np.linalg.cond(np.column_stack([np.ones(n), X])) < 1e6)
    return X, y, rng


def close(a, b, rtol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    np.testing.assert_allclose(a, b, rtol=0, atol=rtol * max(np.abs(b).max(), 1e-300))


# ----------------------------------------------------------------------------- folds
@given(r=regressions(min_rows=12), data=st.data())
def test_permuting_fold_labels_permutes_the_mse_path(r, data):
    X, y, rng = r
    n = len(y)
    k = data.draw(st.integers(2, min(5, n // 2)), label="folds")
    ids = np.concatenate([np.repeat(np.arange(k), 2), rng.integers(0, k, n - 2 * k)])
    rng.shuffle(ids)
    labels = np.array(data.draw(st.lists(st.integers(-50, 50), min_size=k, max_size=k,
                                         unique=True), label="new labels"))
    before = LinearRegressionCV(alphas=ALPHAS, cv=ids).fit(X, y)
    after = LinearRegressionCV(alphas=ALPHAS, cv=labels[ids]).fit(X, y)
    # folds are the distinct labels in sorted order: new fold j is the old fold whose label
    # sorts j-th
    old_of_new = np.argsort(labels)
    close(after.mse_path_, before.mse_path_[:, old_of_new])
    close(after.mse_path_.mean(axis=1), before.mse_path_.mean(axis=1))


@given(r=regressions(min_rows=4, max_rows=30), fit_intercept=st.booleans(),
       standardize=st.booleans())
def test_k_fold_with_k_equal_to_n_is_leave_one_out(r, fit_intercept, standardize):
    """The k-fold machinery (every fold's statistics in one pass, each fold held out from
    the others' merged statistics) with one row per fold, against the closed-form
    leave-one-out of ``cv="loo"``.  Exactly so without a penalty; with one, leave-one-out
    keeps the whole data's penalty ``n α`` (its documented convention, scikit-learn's), so
    it is k-fold with ``α n/(n − 1)`` — and keeps the whole data's scaling, so that holds
    without standardizing.  (``LinearRegressionCV(cv=n)`` itself refuses folds of one
    row.)"""
    from linreg.selection.folds import make_folds
    from linreg.selection.path import fold_stats, held_out_sse, path_coefficients
    X, y, _ = r
    n = len(y)
    A = np.column_stack([np.ones(n), X]) if fit_intercept else X
    assume(n > A.shape[1] + 1)          # every training set (n − 1 rows) determines the fit
    assume(max(np.linalg.cond(np.delete(A, i, axis=0)) for i in range(n)) < 1e6)
    alphas = np.array([0.0] if standardize else [0.0] + ALPHAS)
    parts = fold_stats(MemoryRows(X, y[:, None]), make_folds(n, n, False, 0))
    assert [s.n_rows for s in parts] == [1] * n
    mse = np.zeros(len(alphas))
    for f in range(n):
        training = None
        for g, s in enumerate(parts):
            if g != f:
                training = s if training is None else training.merge(s)
        coefs, intercepts = path_coefficients(training, alphas * n / (n - 1), fit_intercept,
                                              standardize)
        mse += held_out_sse(parts[f], coefs, intercepts)[:, 0] / n
    loo = LinearRegressionCV(alphas=alphas, cv="loo", fit_intercept=fit_intercept,
                             standardize=standardize).fit(X, y)
    close(loo.mse_path_[:, 0], mse, 1e-7)


def test_an_alpha_with_infinite_leave_one_out_scores_is_left_out_with_a_warning():
    """Four rows, four columns, no intercept: without a penalty every row has leverage 1
    and its left-out residual is infinite; the other alphas are chosen from."""
    X = np.array([[5.6765, 10.2162, -4.4503, 0.2875], [6.1196, 5.1883, 2.3612, 0.9336],
                  [6.1017, 10.5724, 1.3185, 3.4363], [4.5268, -6.917, -1.3241, 0.3474]])
    y = np.array([22.9008, 13.1897, 24.5649, -4.3262])
    alphas = [0.0, 1e-3, 0.1, 10.0]
    with pytest.warns(UserWarning, match=r"alphas \[0.0\] have NaN or infinite"):
        cv = LinearRegressionCV(alphas=alphas, cv="loo", fit_intercept=False,
                                standardize=False).fit(X, y)
    mse = cv.mse_path_[:, 0]
    assert not np.isfinite(mse[0]) and np.isfinite(mse[1:]).all()
    assert cv.alpha_ == alphas[1 + int(np.argmin(mse[1:]))]


# ----------------------------------------------------------------------------- clusters
def cluster_labels(n, rng, contiguous: bool):
    """2 to n/2 clusters, each at least one row: runs of rows, or scattered."""
    G = int(rng.integers(2, max(3, n // 2)))
    ids = np.concatenate([np.arange(G), rng.integers(0, G, n - G)])
    return np.sort(ids) if contiguous else rng.permutation(ids)


@given(r=regressions(), contiguous=st.booleans(), data=st.data())
def test_relabelling_clusters_changes_nothing(r, contiguous, data):
    X, y, rng = r
    g = cluster_labels(len(y), rng, contiguous)
    G = g.max() + 1
    new = np.array([f"firm {v}" for v in rng.permutation(1000)[:G]], dtype=object)
    model = LinearRegression().fit(X, y)
    before = model.summary(cov_type="cluster", groups=g)
    after = model.summary(cov_type="cluster", groups=new[g])
    close(after.cov_params(), before.cov_params())
    assert after.df_resid_inference == before.df_resid_inference == G - 1


@given(r=regressions(min_rows=10), contiguous=st.booleans(), data=st.data())
def test_splitting_clusters_across_blocks_files_and_partitions_changes_nothing(
        tmp_path_factory, r, contiguous, data):
    X, y, rng = r
    n = len(y)
    g = cluster_labels(n, rng, contiguous)
    model = LinearRegression().fit(X, y)
    whole = model.summary(cov_type="cluster", groups=g).cov_params()
    block = data.draw(st.integers(1, n), label="block rows")
    in_blocks = summarize(model, MemoryRows(X, y[:, None], block_rows=block), model.stats_,
                          "cluster", groups=g)
    close(in_blocks.cov_params(), whole)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]).assign(
        y=y, firm=[f"F{v}" for v in g])
    folder = tmp_path_factory.mktemp("clusters")
    frame.to_csv(folder / "p.csv", index=False)
    src = sources.csv(folder / "p.csv", target="y", drop=["firm"],
                      chunk_rows=data.draw(st.integers(1, n), label="chunk rows"))
    streamed = LinearRegression().fit(src).summary(cov_type="cluster", groups="firm")
    close(streamed.cov_params(), whole)
    dask = pytest.importorskip("dask")
    import dask.dataframe as dd
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 2), min_size=1, max_size=3),
                            label="partition cuts"))
    with dask.config.set(scheduler="synchronous"):
        parts = dd.from_pandas(frame, npartitions=1).repartition(divisions=[0] + cuts + [n - 1])
        fitted = LinearRegression().fit(parts.drop(columns="firm"), "y")
        on_dask = fitted.summary(cov_type="cluster", X=parts, y="y", groups="firm")
    close(on_dask.cov_params(), whole)


@given(r=regressions(), weighted=st.booleans())
def test_one_observation_per_cluster_is_hc0_times_the_correction(r, weighted):
    X, y, rng = r
    n, p = len(y), X.shape[1] + 1
    w = rng.uniform(0.5, 2.0, n) if weighted else None
    model = LinearRegression().fit(X, y, sample_weight=w)
    hc0 = model.summary(cov_type="HC0").cov_params()
    singletons = rng.permutation(n)
    corrected = model.summary(cov_type="cluster", groups=singletons).cov_params()
    close(corrected, hc0 * (n / (n - 1)) * ((n - 1) / (n - p)))
    close(corrected, model.summary(cov_type="HC1").cov_params())
    plain = model.summary(cov_type="cluster", groups=singletons, use_correction=False)
    close(plain.cov_params(), hc0)
