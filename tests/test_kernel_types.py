"""The compiled kernels see one type per input whether the caller's arrays are writable or
read-only (a memory-mapped ``.npy`` file, an Arrow buffer, an array unpickled on a Dask
worker): one compiled version serves both, and the results are the same bits."""

from __future__ import annotations

import numpy as np
import pytest

from linreg.kernel_types import read_only


def frozen(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def test_read_only_is_a_view_never_a_copy():
    a = np.arange(6.0).reshape(2, 3)
    v = read_only(a)
    assert not v.flags.writeable and np.shares_memory(a, v) and a.flags.writeable
    assert read_only(v) is v


def test_residual_sums_compile_once_for_writable_and_read_only_rows():
    from linreg.refine import residual_sums_block
    from linreg.refine_kernel import normal_residual_sums
    rng = np.random.default_rng(0)
    X, Y, w = rng.standard_normal((300, 4)), rng.standard_normal((300, 2)), rng.random(300)
    u = (rng.standard_normal((4, 2)), np.zeros((4, 2)))
    c = (rng.standard_normal(2), np.zeros(2))
    plain = residual_sums_block((X, Y, w), 0, u, c)
    before = len(normal_residual_sums.signatures)
    again = residual_sums_block((frozen(X), frozen(Y), frozen(w)), 0,
                                tuple(map(frozen, u)), tuple(map(frozen, c)))
    assert len(normal_residual_sums.signatures) == before
    for a, b in zip(plain, again):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")      # two epochs on purpose
def test_passes_and_epochs_compile_once_for_writable_and_read_only_rows():
    """The moments pass, the loss pass and every dense epoch kernel, as a fit on an array
    and on the same rows memory-mapped from an ``.npy`` file (read-only) reaches them."""
    from linreg import LinearRegression
    from linreg import passes, stochastic
    kernels = [passes._dense_moments, passes._dense_pass, stochastic._plain_sample_epoch,
               stochastic._sample_epoch, stochastic._batch_epoch, stochastic.max_sample_curvature]
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.standard_normal(200)
    fits = [dict(solver="sgd", max_iter=2, tol=0), dict(solver="sgd", max_iter=2, tol=0,
                                                         optimizer="adam"),
            dict(solver="minibatch", max_iter=2, tol=0, batch_size=16)]

    def fitted(A):
        return [LinearRegression(**f).fit(A, y).coef_ for f in fits]

    plain = fitted(X)
    before = [len(k.signatures) for k in kernels]
    assert min(before) >= 1                       # every kernel was reached
    again = fitted(frozen(X))
    assert [len(k.signatures) for k in kernels] == before
    for a, b in zip(plain, again):
        np.testing.assert_array_equal(a, b)
