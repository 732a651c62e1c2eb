"""LSQR's one-pass operator (:class:`linreg.solvers.lsqr_operator.OnePassOperator`): ``Aᵀu`` from the
previous iteration's ``A v``, ``AᵀA v`` and ``Aᵀu`` when scipy's LSQR asks for it, a real
product otherwise — the fits equal the two-pass operator's, and any other order of calls
gets exact products."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from linreg import LinearRegression
from linreg.csr_products import csr_times, csr_times_and_normal, csr_transpose_times
from linreg.solvers import lsqr
from linreg.solvers.lsqr_products import MemoryProducts
from sparse_rows import threaded_csr


def _design(seed: int, ill: bool):
    rng = np.random.default_rng(seed)
    n, d = 400, 12
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, d)
    X[rng.uniform(size=(n, d)) < 0.5] = 0.0
    if ill:                                           # κ ≈ 1e5 after equilibration
        X[:, -1] = X[:, 0] + 1e-5 * rng.normal(size=n)
    Y = X @ rng.normal(size=(d, 2)) + 1.5 + rng.normal(size=(n, 2))
    return sp.csr_matrix(X), Y, rng.uniform(0.5, 2.0, n)


_INIT = lsqr.OnePassOperator.__init__


def _fit(monkeypatch, one_pass: bool, X, Y, w, **kw):
    counts = []

    def counted(self, *args):
        _INIT(self, *args)
        counts.append(self)

    monkeypatch.setattr(MemoryProducts, "one_pass", property(lambda self: one_pass))
    monkeypatch.setattr(lsqr.OnePassOperator, "__init__", counted)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression(solver="lsqr", **kw).fit(X, Y, sample_weight=w)
    return model, counts


@pytest.mark.parametrize("ill", [False, True])
@pytest.mark.parametrize("fit_intercept, alpha", [(True, 0.0), (False, 0.01)])
def test_one_pass_fit_equals_the_two_pass_fit(monkeypatch, ill, fit_intercept, alpha):
    X, Y, w = _design(40 + ill, ill)
    kw = {"fit_intercept": fit_intercept, "alpha": alpha}
    two, none = _fit(monkeypatch, False, X, Y, w, **kw)
    one, ops = _fit(monkeypatch, True, X, Y, w, **kw)
    assert not none and len(ops) == 1
    # rmatvec calls = matvec calls + 1 per target and run: the real Aᵀu passes are one per
    # target to start, one more for a target LSQR runs again from where it stopped (its
    # error estimate above COEF_TOL: the ill-conditioned design here) and at most two more
    # (steps whose combination would carry too much error)
    real = (ops[0].passes - ops[0].reused + 2) // 2
    assert 2 <= real <= 6 and ops[0].reused >= 2 * one.n_iter_ - 6
    scale = np.abs(two.coef_).max()
    np.testing.assert_allclose(one.coef_, two.coef_, rtol=0, atol=(1e-9 if ill else 1e-12) * scale)
    np.testing.assert_allclose(one.intercept_, two.intercept_, rtol=0, atol=1e-9 * scale)


def test_products_in_any_order_are_exact():
    rng = np.random.default_rng(3)
    X = sp.random(60, 8, density=0.4, random_state=rng, format="csr")
    matvec, rmatvec = (lambda z: X @ z), (lambda r: X.T @ r)

    def normal(z, kept, out=None):
        t = X @ z
        kept[:] = t
        if out is not None:                   # the operator's last A v, dropped by the caller
            out[:] = t
            t = out
        return t, X.T @ t

    A = lsqr.OnePassOperator(X.shape, matvec, rmatvec, normal)

    def check(w, reused: bool):
        before = A.reused
        np.testing.assert_allclose(A.rmatvec(w), X.T @ w, rtol=1e-12, atol=1e-12)
        assert A.reused - before == int(reused)

    u0 = rng.normal(size=60)
    check(u0, False)                                   # the first Aᵀu: a pass
    t = A.matvec(rng.normal(size=8))
    check(rng.normal(size=60), False)                  # outside the span of t and u: a pass
    u1 = rng.normal(size=60)
    check(u1, False)
    t = A.matvec(rng.normal(size=8))
    u2 = (t - 0.7 * u1) / 1.3                          # LSQR's step: combined
    check(u2, True)
    t2 = A.matvec(rng.normal(size=8))
    t2 *= 3.0                                          # the caller changes what it got
    check(t2 + 0.5 * u2, True)                         # the kept t is the operator's own copy
    t3 = A.matvec(rng.normal(size=8))
    A.matvec(rng.normal(size=8))                       # t3 is no longer kept
    check(t3 - 0.2 * rng.normal(size=60), False)
    check(2.0 * A.matvec(np.ones(8)) - 1e-3 * t3, False)   # u is t3 - …: outside the span
    assert A.passes == 6 + 5 and A.reused == 2         # six A v (each one read), five Aᵀu


def test_fused_product_has_the_bits_of_the_two_products_on_any_thread_count():
    rng = np.random.default_rng(32)
    X = threaded_csr(rng)                                     # nnz = PARALLEL_MIN_VALUES
    n, d = X.shape
    v, root_s = rng.normal(size=d), np.sqrt(rng.uniform(0.5, 2.0, n))
    t = csr_times(X, v, 0.25, root_s, workers=1)
    g, total = csr_transpose_times(X, t, root_s, workers=1)
    for workers in (1, 2):
        kept = np.empty(n)
        t_f, g_f, total_f = csr_times_and_normal(X, v, 0.25, root_s, workers, kept)
        np.testing.assert_array_equal(t_f, t)
        np.testing.assert_array_equal(kept, t)
        np.testing.assert_array_equal(g_f, g)
        assert total_f == total


def test_streamed_rows_one_pass_per_iteration(tmp_path, monkeypatch):
    from linreg import sources
    from linreg.solvers.lsqr_products import StreamedProducts
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 5)) * rng.uniform(0.5, 3.0, 5)
    y = X @ rng.normal(size=5) + 1.0 + rng.normal(size=300)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    npy = sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=70)
    monkeypatch.setattr(lsqr, "GRAM_MAX_FEATURES", 3)       # LSQR from the moments alone
    monkeypatch.setattr(StreamedProducts, "one_pass", False)
    two = LinearRegression(solver="lsqr").fit(npy)
    monkeypatch.setattr(StreamedProducts, "one_pass", True)
    one, ops = _fit(monkeypatch, True, npy, None, None)
    assert ops[0].reused >= one.n_iter_ - 2 and ops[0].passes <= one.n_iter_ + 3
    np.testing.assert_allclose(one.coef_, two.coef_, rtol=1e-12)
    np.testing.assert_allclose(one.intercept_, two.intercept_, rtol=1e-12)


@pytest.mark.parametrize("k", [1, 2])
def test_the_first_product_comes_from_the_moments_pass(monkeypatch, k):
    """Without a d × d matrix, with an intercept: LSQR's first Aᵀb is Σ s (x − x̄)(y − ȳ)ᵀ
    from the pass of the column moments — one real Aᵀu fewer per target, the same fit."""
    from linreg.solvers import lsqr_products
    monkeypatch.setattr(lsqr, "GRAM_MAX_FEATURES", 5)
    X, Y, w = _design(44, False)
    Y = Y[:, :k]
    calls = []
    original = lsqr_products.csr_transpose_times

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(lsqr_products, "csr_transpose_times", counted)
    started = LinearRegression(solver="lsqr").fit(X, Y, sample_weight=w)
    with_start = len(calls)
    monkeypatch.setattr(lsqr.OnePassOperator, "start", lambda self, b, g: None)
    calls.clear()
    plain = LinearRegression(solver="lsqr").fit(X, Y, sample_weight=w)
    assert started.solver_ == plain.solver_ == "lsqr" and started.stats_ is None
    assert len(calls) - with_start == k
    np.testing.assert_allclose(started.coef_, plain.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(started.intercept_, plain.intercept_, rtol=0, atol=1e-12)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_nonfinite_value_is_named_on_the_matrix_free_path(monkeypatch, bad):
    monkeypatch.setattr(lsqr, "GRAM_MAX_FEATURES", 5)
    X, Y, _ = _design(45, False)
    r = 17
    c = int(X.indices[X.indptr[r]])
    X.data[X.indptr[r]] = bad
    with pytest.raises(ValueError, match=f"row {r}, column {c}"):
        LinearRegression(solver="lsqr").fit(X, Y[:, 0])
