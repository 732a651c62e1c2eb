"""solver="lsqr" on rows that are not in memory: files (a .npy pair, a CSV) and Dask arrays,
read block by block (dense blocks, and CSR blocks through the Rows interface), against the
in-memory LSQR fit and numpy.linalg.lstsq on the weighted, ridge-augmented design."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from linreg import LinearRegression, sources
from linreg.rows.base import Rows
from linreg.solvers import lsqr

N, D = 150, 6


def problem(seed: int, k: int):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D)) * rng.uniform(0.5, 3.0, D) + rng.normal(size=D)
    Y = X @ rng.normal(size=(D, k)) + 2.0 + rng.normal(size=(N, k))
    w = rng.uniform(0.5, 2.0, N)
    return X, Y, w


def lstsq_reference(X, Y, w, alpha, fit_intercept, standardize):
    """coef (d, k) and intercept (k,) from numpy.linalg.lstsq: rows scaled by √s, the
    penalty (α/2)‖θ‖² on the standardized coefficients as rows √(n_w α)·I."""
    s = np.ones(len(X)) if w is None else w
    n_w = s.sum()
    mean = s @ X / n_w
    if standardize:
        spread = s @ (X - mean) ** 2 / n_w if fit_intercept else s @ X**2 / n_w
        scale = np.sqrt(spread)
    else:
        scale = np.ones(X.shape[1])
    Z = X / scale
    if fit_intercept:
        Z = np.hstack([Z, np.ones((len(X), 1))])
    A = Z * np.sqrt(s)[:, None]
    B = Y * np.sqrt(s)[:, None]
    if alpha > 0:
        ridge = np.sqrt(n_w * alpha) * np.eye(X.shape[1], Z.shape[1])
        A, B = np.vstack([A, ridge]), np.vstack([B, np.zeros((X.shape[1], Y.shape[1]))])
    theta = np.linalg.lstsq(A, B, rcond=None)[0]
    coef = theta[:X.shape[1]] / scale[:, None]
    intercept = theta[-1] if fit_intercept else np.zeros(Y.shape[1])
    return coef, intercept


def as_fitted(coef, intercept, k):
    return (coef[:, 0], float(intercept[0])) if k == 1 else (coef.T, intercept)


def check(model, memory, reference):
    coef, intercept = reference
    assert model.solver_ == "lsqr"
    np.testing.assert_allclose(model.coef_, memory.coef_, rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.intercept_, memory.intercept_, rtol=0, atol=1e-10)
    size = max(np.abs(coef).max(), np.abs(intercept).max())
    np.testing.assert_allclose(model.coef_, coef, rtol=0, atol=1e-8 * size)
    np.testing.assert_allclose(model.intercept_, intercept, rtol=0, atol=1e-8 * size)


def write_csv(path, X, Y, w):
    names = [f"x{j}" for j in range(X.shape[1])] + [f"y{c}" for c in range(Y.shape[1])]
    table = np.hstack([X, Y] + ([] if w is None else [w[:, None]]))
    lines = [",".join(names + ([] if w is None else ["w"]))]
    lines += [",".join(repr(float(v)) for v in row) for row in table]
    path.write_text("\n".join(lines) + "\n")
    return path


CASES = [  # weights, targets, alpha, standardize, fit_intercept
    (True, 2, 0.0, True, True),
    (False, 1, 0.1, False, False),
    (True, 2, 0.05, False, True),
    (False, 2, 0.0, True, False),
    (True, 1, 0.02, True, True),
]


@pytest.mark.parametrize("weighted, k, alpha, standardize, fit_intercept", CASES)
@pytest.mark.parametrize("wide", [True, False])
def test_lsqr_on_files_and_dask_equals_memory_and_lstsq(tmp_path, monkeypatch, weighted, k,
                                                        alpha, standardize, fit_intercept,
                                                        wide):
    """wide: d > GRAM_MAX_FEATURES, LSQR from the column moments (one streamed pass) with
    no d × d matrix, and "auto" picks it; else LSQR after the statistics."""
    import dask
    import dask.array as da
    if wide:
        monkeypatch.setattr(lsqr, "GRAM_MAX_FEATURES", D - 2)
    X, Y, w = problem(20 + k, k)
    w = w if weighted else None
    y = Y[:, 0] if k == 1 else Y
    params = dict(alpha=alpha, standardize=standardize, fit_intercept=fit_intercept)
    memory = LinearRegression(solver="lsqr", **params).fit(X, y, sample_weight=w)
    reference = as_fitted(*lstsq_reference(X, Y, w, alpha, fit_intercept, standardize), k)
    check(memory, memory, reference)

    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    if weighted:
        np.save(tmp_path / "w.npy", w)
    npy = sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=16,
                      sample_weight_path=tmp_path / "w.npy" if weighted else None)
    solver = "auto" if wide else "lsqr"
    model = LinearRegression(solver=solver, **params).fit(npy)
    check(model, memory, reference)
    assert (model.stats_ is None) == wide and model.n_features_in_ == D
    np.testing.assert_allclose(model.predict(X), memory.predict(X), rtol=0, atol=1e-9)

    csv = sources.csv(write_csv(tmp_path / "rows.csv", X, Y, w),
                      target="y0" if k == 1 else ["y0", "y1"], weight="w" if weighted else None,
                      chunk_rows=23)
    check(LinearRegression(solver="lsqr", **params).fit(csv), memory, reference)

    with dask.config.set(scheduler="synchronous"):
        dX = da.from_array(X, chunks=((40, 1, 59, 50), -1))
        dy = da.from_array(y, chunks=((40, 1, 59, 50),) + ((-1,) if k > 1 else ()))
        dw = None if w is None else da.from_array(w, chunks=((40, 1, 59, 50),))
        model = LinearRegression(solver=solver, **params).fit(dX, dy, sample_weight=dw)
    check(model, memory, reference)


class CsrBlocks(Rows):
    """Rows handed out as CSR blocks (as a svmlight file or Dask's sparse chunks give them)."""

    def __init__(self, X, Y, w, block_rows):
        self.X, self.Y, self.w, self.block_rows = sp.csr_matrix(X), Y, w, block_rows
        self.n_features, self.n_targets, self.single_target = X.shape[1], Y.shape[1], False

    def stats(self):
        raise AssertionError("the matrix-free fit must not form the statistics")

    def blocks(self, shuffle=False, rng=None):
        for lo in range(0, self.X.shape[0], self.block_rows):
            hi = lo + self.block_rows
            yield self.X[lo:hi], self.Y[lo:hi], None if self.w is None else self.w[lo:hi]


@pytest.mark.parametrize("fit_intercept, standardize, alpha", [(True, True, 0.0),
                                                               (False, True, 0.1)])
def test_lsqr_streams_csr_blocks(fit_intercept, standardize, alpha):
    X, Y, w = problem(30, 2)
    X[np.abs(X) < 1.0] = 0.0                       # sparse rows
    fitted = lsqr.fit_matrix_free(CsrBlocks(X, Y, w, 17), fit_intercept, standardize, alpha)
    coef, intercept = lstsq_reference(X, Y, w, alpha, fit_intercept, standardize)
    size = np.abs(coef).max()
    np.testing.assert_allclose(fitted["coef_"], coef.T, rtol=0, atol=1e-8 * size)
    np.testing.assert_allclose(fitted["intercept_"], intercept, rtol=0, atol=1e-8 * size)
    assert fitted["stop_reason_"] == "tolerance" and fitted["stats_"] is None


def test_streamed_lsqr_names_a_nonfinite_value_and_a_negative_weight(monkeypatch):
    import dask
    import dask.array as da
    monkeypatch.setattr(lsqr, "GRAM_MAX_FEATURES", D - 2)
    X, Y, w = problem(31, 1)
    X[77, 3] = np.nan
    with dask.config.set(scheduler="synchronous"), pytest.raises(ValueError,
                                                                 match="from row 60 .*NaN"):
        LinearRegression().fit(da.from_array(X, chunks=(30, -1)), da.from_array(Y[:, 0], 30))
    X[77, 3] = 1.0
    w[44] = -1.0
    with dask.config.set(scheduler="synchronous"), pytest.raises(ValueError,
                                                                 match="row 44: sample_weight"):
        LinearRegression().fit(da.from_array(X, chunks=(30, -1)), da.from_array(Y[:, 0], 30),
                               sample_weight=da.from_array(w, 30))


def test_csr_products_equal_scipy_and_give_the_same_bits_on_any_thread_count():
    from linreg.csr_products import csr_times, csr_transpose_times
    from linreg.parallel import PARALLEL_MIN_VALUES
    from sparse_rows import threaded_csr
    rng = np.random.default_rng(32)
    X = threaded_csr(rng)                                     # nnz = PARALLEL_MIN_VALUES
    n, d = X.shape
    assert X.has_canonical_format and X.nnz >= PARALLEL_MIN_VALUES     # run on threads
    v, t, s = rng.normal(size=d), rng.normal(size=n), rng.uniform(0.5, 2.0, n)
    one, two = (csr_times(X, v, 0.25, np.sqrt(s), workers=k) for k in (1, 2))
    np.testing.assert_array_equal(one, two)
    np.testing.assert_allclose(one, np.sqrt(s) * (X @ v - 0.25), rtol=1e-12, atol=1e-12)
    (g1, t1), (g2, t2) = (csr_transpose_times(X, t, np.sqrt(s), workers=k) for k in (1, 2))
    np.testing.assert_array_equal(g1, g2)
    assert t1 == t2
    np.testing.assert_allclose(g1, X.T @ (np.sqrt(s) * t), rtol=1e-11, atol=1e-10)
    np.testing.assert_allclose(t1, np.sum(np.sqrt(s) * t), rtol=1e-11)


@pytest.mark.parametrize("fit_intercept, standardize, alpha", [(True, True, 0.0),
                                                               (False, False, 0.1)])
def test_lsqr_on_a_dask_array_of_sparse_chunks(monkeypatch, fit_intercept, standardize, alpha):
    """A Dask array whose chunks are CSR matrices, wider than the Gram path: "auto" streams
    LSQR over the partitions as they are (never densified) and agrees with lstsq."""
    import dask
    import dask.array as da
    monkeypatch.setattr(lsqr, "GRAM_MAX_FEATURES", D - 2)
    X, Y, w = problem(32, 2)
    X[np.abs(X) < 1.0] = 0.0
    chunks = ((40, 1, 59, 50), (D,))
    dX = da.from_array(sp.csr_matrix(X), chunks=chunks, asarray=False)
    with dask.config.set(scheduler="synchronous"):
        model = LinearRegression(alpha=alpha, standardize=standardize,
                                 fit_intercept=fit_intercept).fit(
            dX, da.from_array(Y, chunks=(chunks[0], -1)), sample_weight=da.from_array(w, chunks[0]))
    coef, intercept = lstsq_reference(X, Y, w, alpha, fit_intercept, standardize)
    assert model.solver_ == "lsqr" and model.stats_ is None
    size = np.abs(coef).max()
    np.testing.assert_allclose(model.coef_, coef.T, rtol=0, atol=1e-8 * size)
    np.testing.assert_allclose(model.intercept_, intercept, rtol=0, atol=1e-8 * size)
