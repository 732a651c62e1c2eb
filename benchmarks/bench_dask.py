"""LinearRegression on a Dask cluster vs dask-ml and vs our own in-memory fit.

A ``LocalCluster`` of 2 worker processes (one thread each) on 127.0.0.1 holds
``X`` (1,000,000 × 100, float64, 800 MB) and ``y`` in 10 row partitions, generated and
persisted on the workers.  Timed: ``linreg.LinearRegression().fit(X, y)`` on the dask arrays
(statistics per partition, tree-reduced on the cluster), the same fit on the arrays gathered
into this process (in memory), and dask-ml's ``LinearRegression`` with its solvers (``C``
huge, so its L2 penalty vanishes and all fit the same least-squares problem).  Also
measured: the bytes moved between workers during our fit.

Targets: ≥ 8× faster than dask-ml (its fastest solver), coefficients equal to the in-memory
fit to 1e-8, overhead vs in memory ≤ 3×.  ``--quick``: 100,000 × 20, only checks the script.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import rel_diff, table, timed  # noqa: E402


def main(quick: bool) -> None:
    import dask.array as da
    from dask.distributed import Client, LocalCluster, wait

    from linreg import LinearRegression

    n, d = (100_000, 20) if quick else (1_000_000, 100)
    parts = 10
    logging.getLogger("distributed").setLevel(logging.ERROR)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit="6GiB",
                      silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
        rs = da.random.RandomState(0)
        X = rs.standard_normal((n, d), chunks=(n // parts, d)) + np.linspace(-1, 1, d)
        w_true = np.random.default_rng(1).standard_normal(d)
        y = X @ w_true + 3.0 + 0.1 * rs.standard_normal(n, chunks=n // parts)
        X, y = client.persist([X, y])
        wait([X, y])

        LinearRegression().fit(X, y)           # warm-up: workers import linreg
        client.run(lambda dask_worker: dask_worker.transfer_incoming_log.clear())
        t_dask, m_dask = timed(lambda: LinearRegression().fit(X, y), repeat=3)
        moved = sum(sum(e["total"] for e in log) for log in client.run(
            lambda dask_worker: list(dask_worker.transfer_incoming_log)).values()) / 3

        in_memory = client.compute([X, y], sync=True)
        t_mem, m_mem = timed(lambda data=in_memory: LinearRegression().fit(*data), repeat=3)
        del in_memory

        rows = [["linreg, dask arrays (2 workers)", f"{t_dask:.3f}", "1.0×",
                 f"{rel_diff(m_dask.coef_, m_mem.coef_):.1e} (target ≤ 1e-8)"],
                ["linreg, in memory (this process)", f"{t_mem:.3f}",
                 f"overhead of dask: {t_dask / t_mem:.2f}× (target ≤ 3×)", "—"]]
        from dask_ml.linear_model import LinearRegression as DaskMLLinearRegression
        solvers = (["newton", "lbfgs", "admm", "gradient_descent", "proximal_grad"] if quick
                   else ["newton", "lbfgs", "admm"])
        best = np.inf
        for solver in solvers:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t, m = timed(lambda solver=solver: DaskMLLinearRegression(
                    solver=solver, penalty="l2", C=1e12).fit(X, y), repeat=1)
            best = min(best, t)
            rows.append([f"dask-ml LinearRegression, solver='{solver}'", f"{t:.3f}",
                         f"linreg is {t / t_dask:.1f}× faster",
                         f"{rel_diff(np.ravel(m.coef_), m_mem.coef_):.1e}"])
        rows.append(["→ linreg vs dask-ml's fastest solver", "", f"{best / t_dask:.1f}× "
                     "(target ≥ 8×)", ""])
        table(f"Fit on a Dask LocalCluster, n={n:,}, d={d}, {parts} partitions "
              f"(bytes moved between workers per linreg fit: {moved:,.0f})",
              ["how", "seconds", "ratio", "max rel. diff of coef_ vs in-memory linreg"], rows)


if __name__ == "__main__":
    main("--quick" in sys.argv)
