"""A stochastic fit on the raw design with a given step from rows not in memory (an svmlight
file, .npy files) reads them only for its epochs and loss passes: the starting values come
with the first loss pass (linreg.deferred_start.BlockDeferredStart) — the same coefficients and
histories as the fit that reads the column moments first, and bad values still named."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file

import linreg.estimator as estimator
from linreg import LinearRegression, sources
from linreg.sources import MalformedDataError
from linreg.sources.numpy_files import NpyXYSource
from linreg.sources.svmlight import SvmlightSource


@pytest.fixture(autouse=True)
def rows_path(monkeypatch):
    """The rows path whatever the cost model says of these small files (and no block read
    for its estimate)."""
    monkeypatch.setattr(estimator.training_paths, "training_path", lambda *args: "rows")


def svm_file(tmp_path, bad=None):
    rng = np.random.default_rng(0)
    X = sp.random(900, 30, density=0.2, format="csr", random_state=0,
                  data_rvs=lambda m: rng.normal(size=m))
    y = X @ rng.normal(size=30) + 0.5 + 0.1 * rng.normal(size=900)
    path = str(tmp_path / "a.svm")
    dump_svmlight_file(X, y, path, zero_based=False)
    if bad is not None:
        lines = open(path).read().split("\n")
        lines[bad] = lines[bad].replace(" 1:", " 1:nan 2:", 1) if " 1:" in lines[bad] \
            else lines[bad] + " 30:nan"
        open(path, "w").write("\n".join(lines))
    return lambda: sources.svmlight(path, n_features=30, block_bytes=4000)


def npy_files(tmp_path, k=2, weighted=True, bad=None):
    rng = np.random.default_rng(1)
    X = rng.standard_normal((700, 9)) + 0.3
    Y = X @ rng.standard_normal((9, k)) + 1.0 + 0.1 * rng.standard_normal((700, k))
    if bad is not None:
        X[bad] = np.nan
    paths = [str(tmp_path / name) for name in ("X.npy", "Y.npy", "w.npy")]
    np.save(paths[0], X)
    np.save(paths[1], Y if k > 1 else Y[:, 0])
    np.save(paths[2], rng.uniform(0.5, 2.0, 700))
    return lambda: sources.npy(paths[0], paths[1], chunk_rows=128,
                               sample_weight_path=paths[2] if weighted else None)


def fit(source, deferred=True, monkeypatch=None, **kw):
    if not deferred:
        original = estimator.defers_moments
        monkeypatch.setattr(estimator, "defers_moments", lambda *args: False)
    params = dict(solver="sgd", standardize=False, learning_rate=0.02, max_iter=3, tol=0,
                  batch_size=8, random_state=3)
    params.update(kw)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return LinearRegression(**params).fit(source)
    finally:
        if monkeypatch is not None:
            monkeypatch.setattr(estimator, "defers_moments", original)


def same_fit(now, before):
    assert now.training_path_ == before.training_path_ == "rows"
    np.testing.assert_array_equal(now.coef_, before.coef_)
    np.testing.assert_array_equal(now.intercept_, before.intercept_)
    for name in ("loss_history_", "grad_norm_history_", "progressive_loss_history_"):
        np.testing.assert_allclose(getattr(now, name), getattr(before, name), rtol=1e-15,
                                   atol=0)
    assert now.n_iter_ == before.n_iter_ == 3


@pytest.mark.parametrize("shuffle", [False, True])
def test_svmlight_fit_is_the_fit_that_reads_the_moments_first(tmp_path, shuffle, monkeypatch):
    source = svm_file(tmp_path)
    same_fit(fit(source(), shuffle=shuffle),
             fit(source(), False, monkeypatch, shuffle=shuffle))


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("solver, k, weighted", [("sgd", 2, True), ("minibatch", 2, True),
                                                 ("sgd", 1, False)])
def test_npy_fit_is_the_fit_that_reads_the_moments_first(tmp_path, shuffle, solver, k,
                                                         weighted, monkeypatch):
    source = npy_files(tmp_path, k, weighted)
    kw = dict(shuffle=shuffle, solver=solver, fit_intercept=k == 1)
    same_fit(fit(source(), **kw), fit(source(), False, monkeypatch, **kw))


@pytest.mark.parametrize("kind", ["svmlight", "npy"])
def test_one_epoch_reads_the_rows_twice(tmp_path, kind, monkeypatch):
    cls = SvmlightSource if kind == "svmlight" else NpyXYSource
    source = (svm_file if kind == "svmlight" else npy_files)(tmp_path)
    reads = []
    chunks = cls._chunks

    def counted(self, order):
        reads.append(order is None)
        return chunks(self, order)

    monkeypatch.setattr(cls, "_chunks", counted)
    monkeypatch.setattr("linreg.rows.base.Rows.moments",
                        lambda self: pytest.fail("the moments were read"))
    model = fit(source(), max_iter=1)
    assert model.n_iter_ == 1 and np.isfinite(model.loss_history_).all()
    assert len(reads) == 2          # the epoch and the loss pass after it


def test_nan_is_named_by_file_and_line(tmp_path):
    with pytest.raises(MalformedDataError, match=r"a\.svm: line 401"):
        fit(svm_file(tmp_path, bad=400)())
    with pytest.raises(MalformedDataError, match=r"X\.npy: row 321, column 0 is NaN"):
        fit(npy_files(tmp_path, bad=321)())


def test_overflow_is_named_by_column(tmp_path):
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 4))
    X[123, 2] = 1e200
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", X[:, 0])
    with pytest.raises(ValueError, match="overflow") as error:
        fit(sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=64))
    assert "2" in str(error.value)
