"""The statistics pass on several threads: the same bits on any number of workers, BLAS on one
thread inside each, errors and numpy.errstate carried across."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

import linreg.parallel as parallel
from linreg import LinearRegression
from linreg.stats import sufficient_stats


@given(n=st.integers(1, 10**6), block_rows=st.integers(1, 5000))
def test_pieces_are_whole_blocks_covering_every_row_once(n, block_rows):
    pieces = parallel.row_pieces(n, block_rows)
    assert pieces[0][0] == 0 and pieces[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))          # contiguous
    assert all(stop > start for start, stop in pieces)                  # none empty
    assert all(start % block_rows == 0 for start, _ in pieces)          # whole blocks
    assert len(pieces) == min(-(-n // block_rows), parallel.MAX_PIECES)
    sizes = [-(-(stop - start) // block_rows) for start, stop in pieces]
    assert max(sizes) - min(sizes) <= 1                                 # balanced


@pytest.fixture
def workers(monkeypatch):
    """Set how many threads the pass may use, whatever this machine has."""
    def use(count):
        monkeypatch.setattr(parallel, "blas_threads", lambda: count)
    return use


def _data(offset, n=5000, d=7):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((n, d)) * np.arange(1, d + 1) + offset
    Y = rng.standard_normal((n, 2)) + X[:, :2] @ np.array([[1.0, -2.0], [0.5, 3.0]])
    return X, Y


@pytest.mark.parametrize("offset, weighted", [(0.0, False), (1e6, False), (0.0, True)],
                         ids=["raw-moments", "centred", "weighted"])
def test_same_bits_on_one_thread_and_on_four(workers, offset, weighted):
    X, Y = _data(offset)
    w = np.random.default_rng(12).uniform(0.1, 2.0, len(X)) if weighted else None
    workers(1)
    one = sufficient_stats(X, Y, w, block_rows=100)
    workers(4)
    four = sufficient_stats(X, Y, w, block_rows=100)
    assert np.array_equal(one.comoment, four.comoment)
    assert np.array_equal(one.mean, four.mean)
    assert (one.n_rows, one.weight_sum) == (four.n_rows, four.weight_sum)
    # and right: against numpy on the whole centred matrix
    Z = np.hstack([X, Y])
    ws = np.ones(len(X)) if w is None else w
    mean = ws @ Z / ws.sum()
    C = (Z - mean) * np.sqrt(ws)[:, None]
    exact = C.T @ C
    scale = np.sqrt(np.outer(np.diag(exact), np.diag(exact)))
    assert np.max(np.abs(four.comoment - exact) / scale) < 1e-12
    np.testing.assert_allclose(four.mean, mean, rtol=1e-12, atol=1e-9)


def test_a_large_fit_gives_the_same_coefficients_on_any_number_of_threads(workers):
    rng = np.random.default_rng(13)
    X = rng.standard_normal((3 * 4096 + 17, 5))
    y = X @ np.arange(1.0, 6.0) + rng.standard_normal(len(X))
    workers(1)
    one = LinearRegression().fit(X, y)
    workers(3)
    three = LinearRegression().fit(X, y)
    assert np.array_equal(one.coef_, three.coef_) and one.intercept_ == three.intercept_


def test_workers_run_blas_on_one_thread_and_the_setting_comes_back():
    seen = []

    def piece(start, stop):
        seen.append(parallel.blas_threads())
        return stop - start

    with threadpool_limits(2, user_api="blas"):
        if parallel.blas_threads() < 2:
            pytest.fail("no BLAS library found by threadpoolctl: the limit cannot be shown")
        assert sum(parallel.map_row_pieces(piece, 1000, 10)) == 1000
        assert parallel.blas_threads() == 2
    assert set(seen) == {1}


@pytest.mark.parametrize("outer_limit", [False, True])
def test_overlapping_limits_from_several_threads_leave_the_setting_as_it_was(outer_limit):
    """Two threads each limit BLAS and leave in the opposite order (as Dask tasks may), with
    and without a limit held by the main thread: afterwards BLAS has the threads it had."""
    import threading
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()

    def first():
        with parallel.one_blas_thread():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second():
        first_in.wait(5)
        with parallel.one_blas_thread():
            second_in.set()
            first_out.wait(5)

    def run():
        before = parallel.blas_threads()
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert first_out.is_set() and second_in.is_set()
        assert parallel.blas_threads() == before

    if outer_limit:
        with threadpool_limits(2, user_api="blas"):
            run()
    else:
        run()
    with parallel.one_blas_thread():          # and the main thread can still limit it
        assert parallel.blas_threads() == 1


def test_an_error_in_a_piece_reaches_the_caller(workers):
    workers(2)

    def piece(start, stop):
        if start >= 500:
            raise ValueError(f"bad row {start}")
        return stop - start

    with pytest.raises(ValueError, match="bad row 500"):
        parallel.map_row_pieces(piece, 1000, 100)


def test_errstate_of_the_caller_holds_in_the_workers(workers):
    workers(2)

    def piece(start, stop):
        return np.float64(1e308) * 10.0      # overflows

    with np.errstate(over="raise"), pytest.raises(FloatingPointError):
        parallel.map_row_pieces(piece, 1000, 100)
    with np.errstate(over="ignore"):
        assert np.isinf(parallel.map_row_pieces(piece, 1000, 100)).all()


# ------------------------------------------------------------------ the one-pass QR factor
def _same_factor(R, M):
    """R is a QR factor of M: RᵀR = MᵀM, and |R| equals numpy's |R| (rows differ only in sign)."""
    ref = np.linalg.qr(M, mode="r")
    assert R.shape == ref.shape
    np.testing.assert_allclose(np.abs(R), np.abs(ref), rtol=1e-9, atol=1e-12 * np.abs(ref).max())
    assert np.allclose(np.tril(R, -1), 0.0)


@pytest.mark.parametrize("rows1, rows2", [(9, 40), (9, 3), (2, 3), (0, 12), (12, 0)])
def test_merging_factors_equals_factoring_the_stacked_rows(rows1, rows2):
    from linreg.tsqr import merge_qr_factors
    rng = np.random.default_rng(rows1 * 100 + rows2)
    M1, M2 = rng.standard_normal((rows1, 6)), rng.standard_normal((rows2, 6)) * 1e3
    R1 = np.linalg.qr(M1, mode="r")
    _same_factor(merge_qr_factors(R1, M2), np.vstack([M1, M2]))                     # rows
    _same_factor(merge_qr_factors(R1, np.linalg.qr(M2, mode="r")), np.vstack([M1, M2]))  # factor


def test_the_qr_factor_of_many_pieces_is_the_factor_of_all_rows(workers, monkeypatch):
    import linreg.tsqr as cf
    from linreg.design import Design
    monkeypatch.setattr(cf, "QR_BLOCK_ROWS", 50)
    rng = np.random.default_rng(14)
    X, y = rng.standard_normal((5000, 4)) + 3.0, rng.standard_normal(5000)
    w = rng.uniform(0.5, 2.0, 5000)
    design = Design(X.mean(axis=0), X.std(axis=0), True, True)
    factors = []
    for count in (1, 4):
        workers(count)
        factors.append(cf.qr_factor(X, y[:, None], design, w, np.array([y.mean()])))
    assert np.array_equal(factors[0], factors[1])            # the same bits on any thread count
    A = np.sqrt(w)[:, None] * np.column_stack([np.ones(5000), (X - X.mean(0)) / X.std(0), y - y.mean()])
    _same_factor(factors[1], A)


# ------------------------------------------------------------------ the summary's residual pass
@pytest.mark.parametrize("cov_type", ["nonrobust", "HC3"])
def test_summary_on_pieces_of_rows_equals_statsmodels_on_any_thread_count(workers, cov_type):
    """The residual pass runs on pieces of rows (3 blocks and a bit here), merged in row order:
    every number equals statsmodels WLS, and the bits do not depend on the thread count."""
    import statsmodels.api as sm
    rng = np.random.default_rng(17)
    n = 3 * 4096 + 5
    X = rng.standard_normal((n, 4)) + [0.0, 1.0, -2.0, 0.5]
    y = X @ np.array([1.5, -2.0, 0.3, 0.0]) + 3.0 + rng.standard_normal(n) * (0.5 + np.abs(X[:, 0]))
    w = rng.uniform(0.2, 3.0, n)
    results = []
    for count in (1, 4):
        workers(count)
        results.append(LinearRegression().fit(X, y, sample_weight=w).summary(cov_type))
    one, four = results
    for name in ("params", "bse", "pvalues", "resid", "leverage"):
        assert np.array_equal(getattr(one, name), getattr(four, name)), name
    assert (one.durbin_watson, one.jarque_bera, one.fvalue) == (four.durbin_watson,
                                                               four.jarque_bera, four.fvalue)
    s = sm.WLS(y, sm.add_constant(X), weights=w).fit(cov_type=cov_type)
    np.testing.assert_allclose(four.params, s.params, rtol=1e-10)
    np.testing.assert_allclose(four.bse, s.bse, rtol=1e-8)
    np.testing.assert_allclose(four.pvalues, s.pvalues, rtol=1e-7, atol=1e-300)
    np.testing.assert_allclose([four.rsquared, four.fvalue, four.llf],
                               [s.rsquared, s.fvalue, s.llf], rtol=1e-9)
    from statsmodels.stats.stattools import durbin_watson
    assert four.durbin_watson == pytest.approx(durbin_watson(s.wresid), rel=1e-10)
    Q = np.linalg.qr(np.sqrt(w)[:, None] * sm.add_constant(X))[0]     # leverage: ‖row of Q‖²
    np.testing.assert_allclose(four.leverage, np.einsum("ij,ij->i", Q, Q), rtol=1e-8)
