"""Dask arrays whose chunks are scipy.sparse matrices, on a real Dask cluster: the same fits
as the in-memory sparse matrix, the dense matrix (numpy.linalg.lstsq) and the dense Dask
array; summary() against statsmodels; bad input named."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import dask.array as da

from linreg import LinearRegression
from linreg.rows.dask import DaskRows

from exact import rel
from test_dask import _compare_with_statsmodels
from test_sparse import lstsq_reference

#: uneven partitions, one empty; y and the weights chunked otherwise than X
ROW_CHUNKS = (70, 130, 0, 1, 99)


def sparse_data(n=300, d=8, k=1, seed=0, density=0.3):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda m: rng.normal(size=m) * 3.0)
    X = X.tolil()
    X[:, 2] = 5.0 + 0.1 * rng.standard_normal((n, 1))       # a column far from zero: dense
    X[7, :] = 0.0                                          # an empty row
    X = X.tocsr()
    Y = X @ rng.standard_normal((d, k)) + 2.0 + rng.standard_normal((n, k))
    w = rng.uniform(0.2, 3.0, n)
    return X, (Y[:, 0] if k == 1 else Y), w


def dask_sparse(X, column_chunks=None):
    """X as a dask array of CSR chunks (split along the columns too, when asked)."""
    return da.from_array(X, chunks=(ROW_CHUNKS, column_chunks or X.shape[1]), asarray=False)


@pytest.mark.parametrize("solver, weighted, k, fit_intercept, standardize",
                         [("normal", False, 1, True, False), ("normal", True, 2, False, True),
                          ("qr", True, 2, True, True), ("qr", False, 2, False, True),
                          ("auto", True, 1, False, False), ("auto", False, 2, True, True)])
def test_sparse_chunks_fit_as_the_sparse_matrix_and_lstsq(client, solver, weighted, k,
                                                          fit_intercept, standardize):
    X, Y, w = sparse_data(k=k, seed=k + 2 * weighted)
    w = w if weighted else None
    Xd = dask_sparse(X, column_chunks=(3, 5))          # split along the columns: rechunked
    Yd = da.from_array(Y, chunks=90)
    wd = None if w is None else da.from_array(w, chunks=110)
    params = dict(solver=solver, fit_intercept=fit_intercept, standardize=standardize)
    model = LinearRegression(**params).fit(Xd, Yd, sample_weight=wd)
    memory = LinearRegression(**params).fit(X, Y, sample_weight=w)
    coef, icpt = lstsq_reference(X.toarray(), Y.reshape(len(Y), -1),
                                 np.ones(len(Y)) if w is None else w, fit_intercept)
    assert model.coef_.shape == memory.coef_.shape
    assert rel(model.coef_, memory.coef_) < 1e-10
    assert rel(np.atleast_2d(model.coef_).T, coef) < 1e-10
    assert rel(model.intercept_, icpt if k > 1 else icpt[0]) < 1e-10 + (not fit_intercept)
    assert np.all(np.atleast_1d(model.intercept_) == 0) or fit_intercept
    assert model.stats_.n_rows == X.shape[0] and model.n_features_in_ == X.shape[1]
    # predict: a lazy dask array, each sparse chunk multiplied as it is
    pred = model.predict(Xd)
    assert isinstance(pred, da.Array) and pred.shape == np.shape(Y)
    assert rel(pred.compute(), memory.predict(X)) < 1e-10


def test_sparse_chunks_are_never_densified_whole(monkeypatch):
    """The statistics, predict and the stochastic epochs read the sparse chunks without
    making any of them a dense array: only columns far from zero are densified, on their own
    (as in memory).  Run in this process (Dask's synchronous scheduler), to see every
    conversion."""
    import dask
    X, y, _ = sparse_data(seed=9)
    densified = []
    original = sp.csr_matrix.toarray
    monkeypatch.setattr(sp.csr_matrix, "toarray", lambda self, *a, **kw: densified.append(
        self.shape) or original(self, *a, **kw))
    Xd, yd = dask_sparse(X), da.from_array(y, chunks=100)
    with dask.config.set(scheduler="synchronous"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression(solver="normal").fit(Xd, yd)
        model.predict(Xd).compute()
        model.summary("HC3")
        LinearRegression(solver="sgd", max_iter=2).fit(Xd, yd)
    # columns far from zero on their own (a 1-row partition's stored values are all far from
    # their mean): never a partition's d columns
    assert densified and all(shape[1] < X.shape[1] for shape in densified), densified


@pytest.mark.parametrize("solver, shuffle", [("sgd", False), ("minibatch", True)])
def test_stochastic_epochs_read_csr_partitions_as_the_dense_dask_fit(client, monkeypatch,
                                                                     solver, shuffle):
    """The same partitions in the same order (shuffled or not: the order depends only on the
    partition sizes and the seed), through the CSR kernels instead of the dense ones."""
    from linreg import stochastic_sparse
    X, Y, w = sparse_data(k=2, seed=4)
    Yd, wd = da.from_array(Y, chunks=(80, 2)), da.from_array(w, chunks=80)
    params = dict(solver=solver, batch_size=16, max_iter=3, shuffle=shuffle, random_state=3,
                  learning_rate=0.01)
    csr_epochs = []
    kernel = stochastic_sparse.run_sparse_epoch
    monkeypatch.setattr(stochastic_sparse, "run_sparse_epoch",
                        lambda X, *a: csr_epochs.append(X.format) or kernel(X, *a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = LinearRegression(**params).fit(dask_sparse(X), Yd, sample_weight=wd)
        b = LinearRegression(**params).fit(da.from_array(X.toarray(), chunks=(ROW_CHUNKS, 8)),
                                           Yd, sample_weight=wd)
    assert set(csr_epochs) == {"csr"} and len(csr_epochs) == 3 * len(ROW_CHUNKS)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=0, atol=1e-12 * np.abs(b.coef_).max())
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-12)
    np.testing.assert_allclose(a.loss_history_, b.loss_history_, rtol=1e-11)


@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
def test_summary_of_sparse_chunks_matches_statsmodels(client, cov_type):
    X, y, w = sparse_data(seed=6)
    Xd, yd, wd = dask_sparse(X), da.from_array(y, chunks=75), da.from_array(w, chunks=75)
    model = LinearRegression().fit(Xd, yd, sample_weight=wd)
    r = model.summary(cov_type)
    _compare_with_statsmodels(r, X.toarray(), y, w, cov_type)
    np.testing.assert_allclose(r.resid, y - model.predict(X), rtol=0, atol=1e-10)


def test_ill_conditioned_sparse_chunks_use_the_partitions_factors(client, monkeypatch):
    rng = np.random.default_rng(12)
    X, y, _ = sparse_data(seed=12)
    X = X.tolil()
    X[:, 4] = X[:, 3].toarray() + 1e-5 * rng.standard_normal((X.shape[0], 1))   # κ ≈ 3e5
    X = X.tocsr()
    factored = []
    tsqr = DaskRows.qr_factor
    monkeypatch.setattr(DaskRows, "qr_factor",
                        lambda self, *a, **kw: factored.append(a) or tsqr(self, *a, **kw))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression().fit(dask_sparse(X), da.from_array(y, chunks=60))
        memory = LinearRegression().fit(X, y)
    assert model.solver_ == memory.solver_ == "qr" and factored
    coef, icpt = lstsq_reference(X.toarray(), y[:, None], np.ones(len(y)), True)
    assert rel(model.coef_, coef[:, 0]) < 1e-9 and rel(model.coef_, memory.coef_) < 1e-9


def test_bad_sparse_chunks_are_named(client):
    X, y, w = sparse_data(seed=8)
    X = X.tolil()
    X[215, 6] = np.nan             # partition 4: rows 201 to 299
    X = X.tocsr()
    with pytest.raises(ValueError, match=r"dask partition 4 of X \(sparse\) stores NaN at "
                                         r"row 215, column 6"):
        LinearRegression().fit(dask_sparse(X), da.from_array(y, chunks=100))
    X, y, w = sparse_data(seed=8)
    y[150] = np.inf
    with pytest.raises(ValueError, match=r"dask partition 1, row 150: target column 0 is inf"):
        LinearRegression().fit(dask_sparse(X), da.from_array(y, chunks=100))
    y[150] = 1.0
    w[3] = -1.0
    with pytest.raises(ValueError, match=r"dask partition 0, row 3: sample_weight is -1.0; "):
        LinearRegression().fit(dask_sparse(X), y, sample_weight=w)
    sparse_y = sp.csr_matrix(y[:, None])
    with pytest.raises(ValueError, match=r"y is sparse \(csr_matrix chunks\); linreg needs a "
                                         r"dense y"):
        LinearRegression().fit(dask_sparse(X), da.from_array(sparse_y, chunks=(100, 1),
                                                             asarray=False))
    with pytest.raises(ValueError, match=r"y is sparse \(csr_matrix matrix\)"):
        LinearRegression().fit(dask_sparse(X), sparse_y)
    with pytest.raises(ValueError, match=r"X has 300 rows but y has 299"):
        LinearRegression().fit(dask_sparse(X), y[:-1])


@pytest.mark.parametrize("solver", ["normal", "qr", "minibatch"])
def test_partial_fit_takes_a_dask_array_of_sparse_chunks_as_one_chunk(client, solver):
    """As a dense dask array is: the chunk in memory (one CSR matrix), then the in-memory
    sparse partial_fit."""
    X, y, _ = sparse_data(seed=10)
    a, b = LinearRegression(solver=solver, random_state=0), LinearRegression(solver=solver,
                                                                             random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rows in (slice(0, 120), slice(120, 300)):
            a.partial_fit(da.from_array(X[rows], chunks=(50, 8), asarray=False),
                          da.from_array(y[rows], chunks=50))
            b.partial_fit(X[rows], y[rows])
    assert rel(a.coef_, b.coef_) < 1e-12 and rel(a.intercept_, b.intercept_) < 1e-12
    if solver != "minibatch":
        coef, _ = lstsq_reference(X.toarray(), y[:, None], np.ones(len(y)), True)
        assert rel(a.coef_, coef[:, 0]) < 1e-10
