"""A Dask array of ``scipy.sparse`` CSR chunks vs the same rows as one CSR matrix in memory.

Full size: 1,000,000 rows × 2,000 columns, 20 non-zeros a row (random columns, normal
values), ``y = Xβ + 1 + noise``, in 8 row partitions generated and persisted on a
``LocalCluster`` of 2 worker processes (one thread each).  Timed: ``LinearRegression(
solver="normal").fit`` on the dask arrays (each partition's statistics from sparse products on
its worker, merged in a tree) and on the partitions gathered into this process as one CSR
matrix (in memory; ``"normal"`` there too: the same Gram path — ``"auto"`` in memory would take
LSQR at this size).  Also: the client's peak extra resident memory during each fit, and the
size of the CSR matrix.  ``--quick``: 80,000 × 500, only checks the script.
"""

from __future__ import annotations

import logging
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import peak_extra_memory, rel_diff, table, timed  # noqa: E402


def partition(i: int, rows: int, d: int, per_row: int, beta: np.ndarray):
    """Partition ``i``: a CSR block of ``rows`` rows and its targets (made on a worker)."""
    import scipy.sparse as sp
    rng = np.random.default_rng(1000 + i)
    indices = np.sort(rng.integers(0, d, size=(rows, per_row)).astype(np.int32), axis=1)
    indptr = np.arange(0, rows * per_row + 1, per_row, dtype=np.int64)
    X = sp.csr_matrix((rng.normal(size=rows * per_row), indices.ravel(), indptr),
                      shape=(rows, d))
    X.sum_duplicates()
    return X, X @ beta + 1.0 + 0.1 * rng.normal(size=rows)


def main(quick: bool) -> None:
    import dask
    import dask.array as da
    import scipy.sparse as sp
    from dask.distributed import Client, LocalCluster, wait

    from linreg import LinearRegression

    n, d, per_row, parts = (80_000, 500, 20, 8) if quick else (1_000_000, 2_000, 20, 8)
    rows = n // parts
    beta = np.random.default_rng(0).normal(size=d)
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit="4GiB",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        made = [dask.delayed(partition, pure=True)(i, rows, d, per_row, beta)
                for i in range(parts)]
        X = da.concatenate([da.from_delayed(p[0], (rows, d), dtype=np.float64,
                                            meta=sp.csr_matrix((0, d))) for p in made])
        y = da.concatenate([da.from_delayed(p[1], (rows,), dtype=np.float64) for p in made])
        X, y = client.persist([X, y])
        wait([X, y])

        LinearRegression(solver="normal").fit(X, y)      # warm-up: workers import linreg
        t_dask, m_dask = timed(lambda: LinearRegression(solver="normal").fit(X, y), repeat=3)
        mem_dask, _ = peak_extra_memory(lambda: LinearRegression(solver="normal").fit(X, y))

        X_mem = sp.vstack(client.gather(client.compute(X.to_delayed().ravel().tolist())),
                          format="csr")
        y_mem = y.compute()
        size = X_mem.data.nbytes + X_mem.indices.nbytes + X_mem.indptr.nbytes
        t_mem, m_mem = timed(lambda: LinearRegression(solver="normal").fit(X_mem, y_mem),
                             repeat=3)
        mem_mem, _ = peak_extra_memory(lambda: LinearRegression(solver="normal").fit(X_mem, y_mem))

        mb = 1 << 20
        table(f"Fit of a Dask array of CSR chunks, n={n:,}, d={d:,}, {per_row} non-zeros a row, "
              f"{parts} partitions, 2 workers (CSR: {size / mb:,.0f} MB)",
              ["how", "seconds", "client's peak extra memory", "max rel. diff of coef_"],
              [["linreg, dask array of CSR chunks", f"{t_dask:.2f}", f"{mem_dask / mb:,.0f} MB",
                f"{rel_diff(m_dask.coef_, m_mem.coef_):.1e} vs in memory"],
               ["linreg, one CSR matrix in memory", f"{t_mem:.2f}", f"{mem_mem / mb:,.0f} MB",
                f"dask / memory: {t_dask / t_mem:.2f}×"]])


if __name__ == "__main__":
    main("--quick" in sys.argv)
