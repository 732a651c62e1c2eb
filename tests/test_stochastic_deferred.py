"""A stochastic fit on the raw design with a given step reads no column moments before its
first epoch (linreg.deferred_start.DeferredStart): the same coefficients, histories and errors as
the fit that reads them first."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import linreg.estimator as estimator
from linreg import LinearRegression
from linreg.rows import MemoryRows, SparseRows

STOPPED_ON_PURPOSE = pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")


def problem(sparse: bool, k: int = 1, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((600, 12)) + 0.5
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    Y = X @ rng.standard_normal((12, k)) + 1.0 + 0.1 * rng.standard_normal((600, k))
    return X, (Y[:, 0] if k == 1 else Y), rng.uniform(0.5, 2.0, 600)


def fit(X, y, sw=None, deferred=True, monkeypatch=None, **kw):
    if not deferred:
        monkeypatch.setattr(estimator, "defers_moments", lambda *args: False)
    params = dict(standardize=False, learning_rate=0.01, max_iter=3, tol=0, batch_size=8)
    params.update(kw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return LinearRegression(**params).fit(X, y, sample_weight=sw)
    finally:
        if monkeypatch is not None:
            monkeypatch.undo()


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("solver", ["sgd", "minibatch"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("k", [1, 2])
def test_deferred_start_is_the_fit_that_reads_the_moments_first(sparse, solver, weighted, k,
                                                                monkeypatch):
    X, y, sw = problem(sparse, k)
    sw = sw if weighted else None
    now = fit(X, y, sw, solver=solver, fit_intercept=k == 1)
    before = fit(X, y, sw, deferred=False, monkeypatch=monkeypatch, solver=solver,
                 fit_intercept=k == 1)
    assert now.training_path_ == before.training_path_ == "rows"
    np.testing.assert_array_equal(now.coef_, before.coef_)
    np.testing.assert_array_equal(now.intercept_, before.intercept_)
    for name in ("loss_history_", "grad_norm_history_", "progressive_loss_history_"):
        np.testing.assert_allclose(getattr(now, name), getattr(before, name), rtol=1e-12)
    assert now.n_iter_ == before.n_iter_ == 3


@pytest.mark.parametrize("rows", [MemoryRows, SparseRows])
def test_no_moments_pass_before_the_epoch(rows, monkeypatch):
    X, y, _ = problem(rows is SparseRows)

    def refused(self):
        raise AssertionError("the moments were read")

    monkeypatch.setattr(rows, "moments", refused)
    model = fit(X, y, solver="sgd")
    assert model.n_iter_ == 3 and np.isfinite(model.loss_history_).all()


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("bad, word", [(np.nan, "NaN"), (np.inf, "inf"), (1e200, "overflow")])
def test_bad_values_are_named_by_row_and_column(sparse, bad, word):
    X, y, _ = problem(False)
    X[321, 4] = bad
    X = sp.csr_matrix(X) if sparse else X
    with pytest.raises(ValueError, match=word) as error:
        fit(X, y, solver="sgd")
    assert "column 4" in str(error.value)
    if word != "overflow":
        assert "row 321" in str(error.value)


@STOPPED_ON_PURPOSE
@pytest.mark.parametrize("sparse", [False, True])
def test_a_start_at_the_optimum_runs_no_epoch(sparse, monkeypatch):
    X, y, _ = problem(sparse)
    y = np.zeros_like(y)
    now = fit(X, y, solver="sgd")
    before = fit(X, y, deferred=False, monkeypatch=monkeypatch, solver="sgd")
    assert now.n_iter_ == before.n_iter_ == 0
    assert now.stop_reason_ == before.stop_reason_ == "tolerance"
    np.testing.assert_array_equal(now.coef_, before.coef_)
    np.testing.assert_array_equal(now.loss_history_, before.loss_history_)
    assert (now.training_state_.rng.bit_generator.state
            == before.training_state_.rng.bit_generator.state)
