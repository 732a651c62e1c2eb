"""scipy.sparse X: the closed forms and LSQR against dense fits, numpy.linalg.lstsq and
scikit-learn on the same matrices; bad sparse input named."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.linear_model import Ridge

import linreg
from linreg import LinearRegression
from linreg.exceptions import ConvergenceWarning
from linreg.rows import SparseRows, as_rows
from linreg.rows.sparse import sparse_stats
from linreg.solvers import lsqr
from linreg.stats import sufficient_stats

FORMATS = ["csr", "csc", "coo"]


def sparse_design(n=400, d=25, density=0.15, seed=0, fmt="csr", index_dtype=np.int32,
                  array=False):
    """A random sparse X with an empty row and an empty column, and its dense copy."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda k: rng.normal(size=k))
    X = X.tolil()
    X[3, :] = 0          # an empty row
    X[:, 5] = 0          # an empty column
    X = X.tocsr()
    X.indices = X.indices.astype(index_dtype)
    X.indptr = X.indptr.astype(index_dtype)
    dense = X.toarray()
    if array:
        X = sp.csr_array(X)
    return X.asformat(fmt), dense


def lstsq_reference(dense, Y, w, fit_intercept):
    """Weighted least squares by numpy.linalg.lstsq: (coef (d, k), intercept (k,))."""
    A = np.hstack([dense, np.ones((dense.shape[0], 1))]) if fit_intercept else dense
    r = np.sqrt(w)[:, None]
    sol = np.linalg.lstsq(A * r, Y * r, rcond=None)[0]
    if fit_intercept:
        return sol[:-1], sol[-1]
    return sol, np.zeros(Y.shape[1])


def as_2d(model):
    coef = model.coef_ if model.coef_.ndim == 2 else model.coef_[None, :]
    return coef.T, np.atleast_1d(model.intercept_)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("array", [False, True])
def test_every_format_matches_lstsq(fmt, index_dtype, array):
    X, dense = sparse_design(fmt=fmt, index_dtype=index_dtype, array=array)
    rng = np.random.default_rng(1)
    y = dense @ rng.normal(size=dense.shape[1]) + 0.3 * rng.normal(size=dense.shape[0]) + 2.0
    dense_nonempty = np.delete(dense, 5, axis=1)    # lstsq's minimum-norm: drop the empty column
    coef, intercept = lstsq_reference(dense_nonempty, y[:, None], np.ones(len(y)), True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")              # the empty column is rank-deficient
        model = LinearRegression(solver="normal").fit(X, y)
    np.testing.assert_allclose(np.delete(model.coef_, 5), coef[:, 0], rtol=0, atol=1e-10)
    assert model.coef_[5] == 0
    np.testing.assert_allclose(model.intercept_, intercept[0], rtol=0, atol=1e-10)
    np.testing.assert_allclose(model.predict(X), dense @ model.coef_ + model.intercept_,
                               rtol=0, atol=1e-10)


@pytest.mark.parametrize("solver", ["normal", "qr", "auto", "lsqr"])
@pytest.mark.parametrize("standardize", [True, False])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.05])
def test_sparse_equals_dense_weighted_multioutput(solver, standardize, fit_intercept, alpha):
    X, dense = sparse_design(n=300, d=20, seed=2)
    X = X.tolil()
    X[:, 5] = np.random.default_rng(5).normal(size=(300, 1))   # no empty column: full rank
    X = X.tocsr()
    dense = X.toarray()
    rng = np.random.default_rng(3)
    Y = dense @ rng.normal(size=(20, 3)) + rng.normal(size=(300, 3)) + [1.0, -2.0, 0.5]
    w = rng.uniform(0.2, 3.0, size=300)
    params = dict(solver=solver, standardize=standardize, fit_intercept=fit_intercept, alpha=alpha)
    m_sparse = LinearRegression(**params).fit(X, Y, sample_weight=w)
    m_dense = LinearRegression(**{**params, "solver": "qr"}).fit(dense, Y, sample_weight=w)
    tol = 1e-8 if solver == "lsqr" else 1e-10
    np.testing.assert_allclose(m_sparse.coef_, m_dense.coef_, rtol=0, atol=tol)
    np.testing.assert_allclose(m_sparse.intercept_, m_dense.intercept_, rtol=0, atol=tol)
    expected = (solver if solver != "auto" else
                LinearRegression(**params).fit(dense, Y, sample_weight=w).solver_)
    assert m_sparse.solver_ == expected
    if alpha == 0:    # and the independent reference
        coef, intercept = lstsq_reference(dense, Y, w, fit_intercept)
        np.testing.assert_allclose(m_sparse.coef_, coef.T, rtol=0, atol=tol)
        np.testing.assert_allclose(m_sparse.intercept_, intercept, rtol=0, atol=tol)


@pytest.mark.parametrize("solver", ["normal", "lsqr"])
def test_against_scikit_learn_on_the_same_sparse_matrix(solver):
    X, dense = sparse_design(n=500, d=30, seed=4)
    X = (X + sp.eye(500, 30, format="csr")).tocsr()       # column 5 not empty
    rng = np.random.default_rng(5)
    y = X @ rng.normal(size=30) + rng.normal(size=500)
    w = rng.uniform(0.5, 2.0, size=500)
    ours = LinearRegression(solver=solver).fit(X, y, sample_weight=w)
    theirs = SkLinearRegression().fit(X.toarray(), y, sample_weight=w)
    np.testing.assert_allclose(ours.coef_, theirs.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, rtol=0, atol=1e-8)
    alpha = 0.01
    ridge = LinearRegression(solver=solver, alpha=alpha, standardize=False).fit(X, y,
                                                                              sample_weight=w)
    sk_ridge = Ridge(alpha=w.sum() * alpha, solver="cholesky").fit(X.toarray(), y,
                                                                  sample_weight=w)
    np.testing.assert_allclose(ridge.coef_, sk_ridge.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ridge.intercept_, sk_ridge.intercept_, rtol=0, atol=1e-8)


def test_statistics_match_the_dense_pass_and_far_columns_are_centred_exactly():
    X, dense = sparse_design(n=600, d=12, seed=6)
    X = X.tolil()
    X[:, 2] = 1e6 + np.random.default_rng(7).normal(size=(600, 1))   # mean ≫ spread: stored in every row
    X = X.tocsr()
    dense = X.toarray()
    Y = np.random.default_rng(8).normal(size=(600, 2))
    w = np.random.default_rng(9).uniform(0.5, 2, size=600)
    ours = sparse_stats(X, Y, w)
    reference = sufficient_stats(dense, Y, w)
    np.testing.assert_allclose(ours.mean, reference.mean, rtol=1e-14, atol=1e-12)
    scale = np.sqrt(np.outer(np.diag(reference.comoment), np.diag(reference.comoment)))
    assert np.all(np.abs(ours.comoment - reference.comoment) <= 1e-12 * scale)
    # the raw-sums route alone would have lost ~12 digits in column 2's variance
    raw = (dense[:, 2] ** 2) @ w - w.sum() * reference.mean[2] ** 2
    assert abs(raw - reference.comoment[2, 2]) / reference.comoment[2, 2] > 1e-6


def test_explicit_zeros_unsorted_and_duplicate_indices_are_exact():
    X, dense = sparse_design(n=200, d=10, seed=10)
    y = np.random.default_rng(11).normal(size=200)
    coo = X.tocoo()
    # every entry split in two halves (duplicates), an explicit zero added, order reversed
    rows = np.concatenate([coo.row, coo.row, [7]])[::-1]
    cols = np.concatenate([coo.col, coo.col, [8]])[::-1]
    data = np.concatenate([coo.data / 2, coo.data / 2, [0.0]])[::-1]
    messy = sp.coo_matrix((data, (rows, cols)), shape=X.shape)
    csr = sp.csr_matrix((data, cols, np.searchsorted(np.sort(rows), np.arange(201))),
                        shape=X.shape)          # unsorted, duplicated CSR built by hand
    order = np.argsort(rows, kind="stable")
    csr = sp.csr_matrix((data[order], cols[order], np.searchsorted(rows[order], np.arange(201))),
                        shape=X.shape)
    assert not csr.has_canonical_format
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = LinearRegression().fit(dense, y)
        for M in (messy, csr):
            model = LinearRegression().fit(M, y)
            np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0, atol=1e-10)
            np.testing.assert_allclose(model.predict(M), reference.predict(dense), atol=1e-10)
    assert not csr.has_canonical_format       # the caller's matrix is not modified


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_stored_value_is_named_by_row_and_column(bad):
    X, _ = sparse_design(n=100, d=8, seed=12)
    X = X.tocsr()
    r = 40
    c = int(X.indices[X.indptr[r]])
    X.data[X.indptr[r]] = bad
    y = np.zeros(100)
    for fmt in FORMATS:
        with pytest.raises(ValueError, match=f"row {r}, column {c}"):
            LinearRegression().fit(X.asformat(fmt), y)
    fitted = LinearRegression().fit(sparse_design(n=100, d=8, seed=12)[0], y)
    with pytest.raises(ValueError, match=f"row {r}, column {c}"):
        fitted.predict(X)


def test_sparse_y_and_shape_mismatch_are_refused():
    X, _ = sparse_design(n=50, d=6, seed=13)
    with pytest.raises(ValueError, match="y is a scipy.sparse"):
        LinearRegression().fit(X, sp.csr_matrix(np.ones((50, 1))))
    with pytest.raises(ValueError, match="inconsistent numbers of samples|49"):
        LinearRegression().fit(X, np.ones(49))
    model = LinearRegression().fit(X, np.arange(50.0))
    with pytest.raises(ValueError, match="6 features"):
        model.predict(sp.random(5, 7, density=0.5, format="csr"))


def test_summary_on_sparse_rows_equals_dense():
    X, dense = sparse_design(n=300, d=8, seed=14)
    X = (X + sp.eye(300, 8, format="csr")).tocsr()
    dense = X.toarray()
    y = dense @ np.arange(1.0, 9.0) + np.random.default_rng(15).normal(size=300)
    s_sparse = LinearRegression().fit(X, y).summary(cov_type="HC1")
    s_dense = LinearRegression().fit(dense, y).summary(cov_type="HC1")
    np.testing.assert_allclose(s_sparse.bse, s_dense.bse, rtol=1e-10)
    np.testing.assert_allclose(s_sparse.params, s_dense.params, rtol=0, atol=1e-10)


def test_sparse_rows_hand_out_bounded_dense_blocks():
    X, dense = sparse_design(n=50, d=6, seed=16)
    rows = as_rows(X, np.zeros(50), validate=lambda X, y, w: (X, y[:, None], True, w))
    assert isinstance(rows, SparseRows) and rows.arrays() is None
    rows.block_rows = 16
    blocks = list(rows.blocks())
    assert [b[0].shape for b in blocks] == [(16, 6), (16, 6), (16, 6), (2, 6)]
    np.testing.assert_array_equal(np.vstack([b[0] for b in blocks]), dense)


@pytest.mark.parametrize("rule", ["width", "cost"])
def test_wide_sparse_auto_runs_lsqr_without_a_gram(monkeypatch, rule):
    if rule == "width":
        monkeypatch.setattr(lsqr, "GRAM_MAX_FEATURES", 30)
    else:                   # 40³ = 64,000 > 10 · nnz (about 3,600 non-zeros) and > 10⁴
        monkeypatch.setattr(lsqr, "GRAM_FLOPS_PER_NONZERO", 10)
        monkeypatch.setattr(lsqr, "GRAM_FREE_FLOPS", 1e4)
    rng = np.random.default_rng(17)
    X = sp.random(400, 40, density=0.2, format="csr", random_state=17,
                  data_rvs=lambda k: rng.normal(size=k))
    X = (X + sp.eye(400, 40, format="csr")).tocsr()
    Y = X @ rng.normal(size=(40, 2)) + rng.normal(size=(400, 2))
    w = rng.uniform(0.5, 2.0, size=400)

    def no_gram(*args, **kwargs):
        raise AssertionError("the wide path must not compute the d × d statistics")

    monkeypatch.setattr(SparseRows, "stats", no_gram)
    model = LinearRegression(alpha=0.01).fit(X, Y, sample_weight=w)
    assert model.solver_ == "lsqr" and model.stats_ is None and model.stop_reason_ == "tolerance"
    monkeypatch.undo()
    reference = LinearRegression(solver="qr", alpha=0.01).fit(X.toarray(), Y, sample_weight=w)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=0, atol=1e-8)
    np.testing.assert_allclose(model.loss_history_[-1], reference.loss_history_[-1], rtol=1e-9)


def test_a_wide_lsqr_fit_saves_and_says_why_it_has_no_summary(monkeypatch, tmp_path):
    """No d × d statistics were formed: the model file records rank_ as null and loads back
    with the same predictions; summary() says why it cannot give a covariance."""
    monkeypatch.setattr(lsqr, "GRAM_MAX_FEATURES", 30)
    rng = np.random.default_rng(19)
    X = (sp.random(300, 40, density=0.2, format="csr", random_state=19)
         + sp.eye(300, 40, format="csr")).tocsr()
    y = X @ rng.normal(size=40) + rng.normal(size=300)
    model = LinearRegression().fit(X, y)
    assert model.solver_ == "lsqr" and model.rank_ is None
    model.save(tmp_path / "wide.json")
    back = linreg.load(tmp_path / "wide.json")
    assert back.rank_ is None
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    with pytest.raises(ValueError, match=r"LSQR without the 40 × 40 statistics.*refit with "
                                         r"solver='normal'"):
        model.summary()


def test_lsqr_on_an_ill_conditioned_design_warns(monkeypatch):
    rng = np.random.default_rng(18)
    base = rng.normal(size=(300, 5))
    X = np.hstack([base, base[:, :1] + 1e-5 * rng.normal(size=(300, 1))])   # κ ≈ 1e5
    y = rng.normal(size=300)
    monkeypatch.setattr(lsqr, "LSQR_MIN_ITER", 3)
    monkeypatch.setattr(lsqr, "LSQR_ITER_PER_FEATURE", 0)
    with pytest.warns(ConvergenceWarning, match="LSQR stopped at the iteration limit"):
        model = LinearRegression(solver="lsqr").fit(sp.csr_matrix(X), y)
    assert model.stop_reason_ == "max_iter" and model.n_iter_ == 3
    monkeypatch.undo()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)     # with its own limit it converges
        converged = LinearRegression(solver="lsqr").fit(sp.csr_matrix(X), y)
    reference = np.linalg.lstsq(np.hstack([X, np.ones((300, 1))]), y, rcond=None)[0]
    # the documented accuracy: about 1e-12·κ relative, κ ≈ 1e5 (equilibrated)
    np.testing.assert_allclose(converged.coef_, reference[:-1], rtol=0,
                               atol=1e-6 * np.abs(reference).max())
    assert converged.stop_reason_ == "exact"


def test_lsqr_needs_rows_in_memory():
    from linreg.rows import StatsRows
    stats = sufficient_stats(np.eye(4), np.ones((4, 1)))
    with pytest.raises(ValueError, match="solver='lsqr' needs the rows in memory"):
        LinearRegression(solver="lsqr").solve_from_stats(stats)
    assert StatsRows(stats).matrix() is None


@pytest.mark.parametrize("coef_tol, runs", [(1.0, 1), (1e-30, 2)])
def test_lsqr_runs_again_from_where_it_stopped_when_its_error_estimate_is_too_large(
        monkeypatch, coef_tol, runs):
    """LSQR stops at LSQR_TOL; when its estimate of the coefficients' relative error is above
    COEF_TOL it runs once more from there (x0) at LSQR_TOL_MIN — same answer either way."""
    rng = np.random.default_rng(23)
    X = sp.random(500, 30, density=0.3, format="csr", random_state=23)
    y = X @ rng.normal(size=30) + 2.0 + 0.1 * rng.normal(size=500)
    calls = []
    original = lsqr.lsqr

    def counted(*args, **kwargs):
        calls.append(kwargs.get("atol"))
        return original(*args, **kwargs)

    monkeypatch.setattr(lsqr, "lsqr", counted)
    monkeypatch.setattr(lsqr, "COEF_TOL", coef_tol)
    model = LinearRegression(solver="lsqr").fit(X, y)
    assert calls == [lsqr.LSQR_TOL, lsqr.LSQR_TOL_MIN][:runs]
    reference = np.linalg.lstsq(np.hstack([X.toarray(), np.ones((500, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(model.coef_, reference[:-1], rtol=0, atol=1e-8)
    np.testing.assert_allclose(model.intercept_, reference[-1], rtol=0, atol=1e-8)
    assert model.stop_reason_ == "exact"


def test_lsqr_forward_error_estimate():
    assert lsqr.forward_error(1e-6, 2.0, 4.0, 10.0) == pytest.approx(1e-6 * 16 / (4 * 10))
    assert lsqr.forward_error(0.0, 0.0, 0.0, 0.0) == 0.0
    assert lsqr.forward_error(1.0, 1.0, 1.0, 0.0) == float("inf")
