"""A CSR matrix large enough that the compiled CSR products run on threads, for the tests
that check they give the same bits on any thread count."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from linreg.parallel import PARALLEL_MIN_VALUES


def threaded_csr(rng, d: int = 300, per_row: int = 8):
    """``PARALLEL_MIN_VALUES // per_row`` rows × ``d`` columns, ``per_row`` consecutive columns
    a row (canonical CSR, nnz = ``PARALLEL_MIN_VALUES``)."""
    n = PARALLEL_MIN_VALUES // per_row
    indices = (rng.integers(0, d - per_row, size=n)[:, None] + np.arange(per_row)).ravel()
    return sp.csr_matrix((rng.normal(size=n * per_row), indices,
                          np.arange(0, n * per_row + 1, per_row)), shape=(n, d))
