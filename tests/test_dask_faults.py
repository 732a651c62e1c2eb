"""A Dask worker killed (SIGKILL) in the middle of a fit, a summary, a cross-validation or a
stochastic fit, on a real LocalCluster of worker processes.

The kill is made deterministic by a worker plugin: the first time the n-th task of a named
kind (a partition's statistics, a block of the residual pass, …) starts executing, on
whichever worker, that worker kills its own process before running it — so a task of the
operation is in flight, some partitions' results already sit in the killed worker's memory
(lost with it), and others are still to come.  The plugin writes down which task it killed,
in which process and when, so each test shows that the kill happened inside the call, that
the process is gone and that the task ran again elsewhere.

The result must equal an undisturbed run to the bit — Dask recomputes lost partitions, a
retried task's result replaces the lost one (the merged statistics count every row once) and
the merges are in a fixed order — or be one clear error saying that workers died.
"""

from __future__ import annotations

import logging
import os
import time
import warnings

import numpy as np
import pandas as pd
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
import dask.array as da  # noqa: E402
import dask.dataframe as dd  # noqa: E402

from linreg import LinearRegression  # noqa: E402
from linreg.selection import LinearRegressionCV  # noqa: E402
from worker_kill import KillAtTask, arm, disarm  # noqa: E402

N, D, PARTS = 2400, 4, 8


#: what a worker imports to run the operations below, imported once by the process that
#: forks the workers: a killed worker's replacement is ready at once, not after seconds of
#: imports (the cluster's workers are forked from it, not started afresh)
PRELOAD = ["distributed", "numpy", "pandas", "scipy.linalg", "dask.dataframe",
           "linreg.estimator", "linreg.rows.dask", "linreg.rows.table_dask",
           "linreg.inference.summarize", "linreg.selection.cv", "worker_kill"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two worker processes (one thread each), restarted by their nannies when killed, with
    the dormant :class:`worker_kill.KillAtTask` plugin.  A task whose worker dies a second
    time is given up (``allowed-failures`` 1, instead of 3, so that the error case needs two
    deaths, not four).  The cluster keeps a nanny whose worker is slow to come back (by
    default it closes it when the worker's name has not re-registered 15 s after an earlier
    loss of the same name: on a busy machine, a second kill within 15 s would shrink the
    cluster to one worker)."""
    from distributed import Client, LocalCluster
    from distributed.utils import get_mp_context
    root = tmp_path_factory.mktemp("kill")
    with dask.config.set({"distributed.scheduler.allowed-failures": 1,
                          "distributed.deploy.lost-worker-timeout": "1h",
                          "distributed.worker.multiprocessing-method": "forkserver"}):
        get_mp_context().set_forkserver_preload(PRELOAD)
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, memory_limit="1GiB",
                          silence_logs=logging.CRITICAL) as c:
            with Client(c) as client:
                client.register_plugin(KillAtTask(str(root)))
                client.kill_root = root
                yield client


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((N, D)) * [1.0, 3.0, 0.5, 20.0] + [0.0, 5.0, -2.0, 100.0]
    y = X @ [1.5, -2.0, 0.25, 0.01] + 3.0 + rng.standard_normal(N)
    return X, y


def arrays(client, persist: bool):
    X, y = data()
    Xd, yd = da.from_array(X, chunks=(N // PARTS, D)), da.from_array(y, chunks=N // PARTS)
    return tuple(client.persist([Xd, yd])) if persist else (Xd, yd)


def frame(client, persist: bool, text: bool = False):
    X, y = data()
    df = pd.DataFrame(X, columns=[f"x{j}" for j in range(D)]).assign(y=y)
    df["g"] = np.arange(N) % 37           # cluster labels
    if text:            # a text column: the table path (levels learned per partition)
        df["shop"] = np.array(["north", "south", "east", "west", "centre"])[
            np.random.default_rng(1).integers(0, 5, N)]
        df = df.drop(columns="g")
    out = dd.from_pandas(df, npartitions=PARTS)
    return client.persist(out) if persist else out


def killed_during(client, folder, prefixes, nth, operation):
    """``operation()`` run while the plugin kills a worker at the ``nth`` task named by
    ``prefixes``; returns its result after checking that the kill happened inside the call,
    while one of its tasks was starting, that the worker is gone and that the task then ran
    in another process."""
    client.wait_for_workers(2, timeout=60)
    folder.mkdir(exist_ok=True)
    arm(client.kill_root, folder, prefixes, nth)
    try:
        start = time.time()
        result = operation()
        end = time.time()
    finally:
        disarm(client.kill_root)
    pid, key, when = (folder / "killed").read_text().split()
    assert start < float(when) < end, "the worker died inside the call, not before or after"
    assert int(pid) not in client.run(os.getpid).values()       # that worker is gone
    runs = [line.split() for line in (folder / "started").read_text().splitlines()]
    assert [p for p, k in runs if k == key and p != pid], f"{key} never ran again"
    assert len(runs) > nth, "tasks of the operation ran after the kill"
    return result


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype
    assert a.tobytes() == b.tobytes(), f"{a} != {b}"


def same_fit(got, expected):
    same_bits(got.coef_, expected.coef_)
    same_bits(got.intercept_, expected.intercept_)
    if expected.stats_ is not None:
        assert got.stats_.n_rows == expected.stats_.n_rows == N    # every row counted once
        assert got.stats_.weight_sum == N
        same_bits(got.stats_.mean, expected.stats_.mean)
        same_bits(got.stats_.comoment, expected.stats_.comoment)


# ----------------------------------------------------------------------------- fits
@pytest.mark.parametrize("kind, persist", [("array", False), ("frame", True)])
def test_fit_survives_a_killed_worker_to_the_bit(cluster, tmp_path, kind, persist):
    """The statistics pass loses the partitions' statistics (and, persisted, the data) that
    the killed worker held: recomputed, merged in the same tree, every row once."""
    X, y = (arrays(cluster, persist) if kind == "array"
            else (frame(cluster, persist).drop(columns="g"), "y"))
    expected = LinearRegression().fit(X, y)
    prefix = "_array_partition_stats" if kind == "array" else "_frame_partition_stats"
    got = killed_during(cluster, tmp_path, (prefix,), 3, lambda: LinearRegression().fit(X, y))
    same_fit(got, expected)
    # and the undisturbed result is the one in memory (to rounding: other block boundaries)
    np.testing.assert_allclose(got.coef_, LinearRegression().fit(*data()).coef_, rtol=1e-12)


def test_tsqr_survives_a_killed_worker(cluster, tmp_path):
    """The partitions' triangular factors, merged in a tree on the cluster."""
    X, y = arrays(cluster, persist=True)
    expected = LinearRegression(solver="qr").fit(X, y)
    got = killed_during(cluster, tmp_path, ("_array_partition_factor",), 4,
                        lambda: LinearRegression(solver="qr").fit(X, y))
    same_fit(got, expected)


def test_summary_survives_a_killed_worker(cluster, tmp_path):
    """The residual pass (cluster-robust: labels read with each partition) loses a block's
    totals with the worker: they are recomputed, not dropped and not added twice."""
    df = frame(cluster, persist=True)
    model = LinearRegression().fit(df.drop(columns="g"), "y")

    def summary():
        return model.summary(cov_type="cluster", X=df, y="y", groups="g")

    expected = summary()
    got = killed_during(cluster, tmp_path, ("_run_aligned",), 3, summary)
    for name in ("params", "bse", "ssr", "rsquared"):
        same_bits(getattr(got, name), getattr(expected, name))
    assert got.nobs == N


def test_table_with_a_text_column_survives_a_killed_worker(cluster, tmp_path):
    """The table path: levels learned per partition and merged by value; a lost partition's
    cells come back with the same levels, merged in the same order."""
    df = frame(cluster, persist=False, text=True)
    expected = LinearRegression().fit(df, "y")
    got = killed_during(cluster, tmp_path, ("_partition_cells",), 3,
                        lambda: LinearRegression().fit(df, "y"))
    assert got.coef_names_ == expected.coef_names_
    same_fit(got, expected)


def test_cross_validation_survives_a_killed_worker(cluster, tmp_path):
    """Every fold's statistics in one pass (a block's are a list, one per fold): a retried
    block replaces its lost list."""
    df = frame(cluster, persist=False).drop(columns="g")
    cv = dict(alphas=[0.01, 1.0, 100.0], cv=4, shuffle=True, random_state=3)
    expected = LinearRegressionCV(**cv).fit(df, "y")
    got = killed_during(cluster, tmp_path, ("_run_aligned",), 3,
                        lambda: LinearRegressionCV(**cv).fit(df, "y"))
    same_bits(got.mse_path_, expected.mse_path_)
    assert got.alpha_ == expected.alpha_
    same_fit(got, expected)
    assert sum(got.cv_results_["fold_rows"]) == N


def test_stochastic_fit_survives_a_killed_worker(cluster, tmp_path):
    """An epoch brings the partitions to the client one at a time; the one whose worker dies
    comes anyway, with the same rows, so the run is the same to the bit."""
    X, y = arrays(cluster, persist=True)
    settings = dict(solver="sgd", max_iter=3, random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")       # three epochs do not converge: it says so
        expected = LinearRegression(**settings).fit(X, y)
        got = killed_during(cluster, tmp_path, ("_array_block",), 5,
                            lambda: LinearRegression(**settings).fit(X, y))
    same_bits(got.coef_, expected.coef_)
    same_bits(got.intercept_, expected.intercept_)
    same_bits(got.loss_history_, expected.loss_history_)


def at_offset(A: np.ndarray, offset: int) -> np.ndarray:
    """A copy of ``A`` whose data start ``offset`` bytes past a 64-byte boundary."""
    buf = np.empty(A.nbytes + 128, dtype=np.uint8)
    start = (-buf.ctypes.data) % 64 + offset
    out = buf[start:start + A.nbytes].view(A.dtype).reshape(A.shape)
    out[...] = A
    return out


def test_a_partition_gives_the_same_bits_at_any_byte_offset():
    """A partition sent over the network lands at any byte offset of its message (so it may
    not even be aligned to 8 bytes), and NumPy and BLAS round differently on such arrays: the
    rows are aligned before any arithmetic, so a recomputed partition gives the same bits
    wherever it lands."""
    X, y = data()
    names = [f"x{j}" for j in range(D)]

    def frame_at(df, offset):
        return pd.DataFrame(at_offset(df.to_numpy(), offset), columns=df.columns, copy=False)

    fits = []
    with dask.config.set(scheduler="synchronous"):
        for offset in (0, 4, 8, 12):
            Xd = da.from_array(X, chunks=(N // PARTS, D)).map_blocks(at_offset, offset)
            yd = da.from_array(y, chunks=N // PARTS).map_blocks(at_offset, offset)
            assert Xd.to_delayed()[1, 0].compute().flags.aligned == (offset % 8 == 0)
            df = dd.from_pandas(pd.DataFrame(X, columns=names).assign(y=y), npartitions=PARTS)
            df = df.map_partitions(frame_at, offset)
            fits.append((LinearRegression().fit(Xd, yd), LinearRegression().fit(df, "y")))
    for a, f in fits[1:]:
        same_fit(a, fits[0][0])
        same_fit(f, fits[0][1])


# ----------------------------------------------------------------------------- giving up
def test_a_task_that_keeps_killing_its_workers_is_one_clear_error(cluster, tmp_path):
    """When every worker that runs a partition dies, the fit stops with Dask's KilledWorker
    — which says that the workers died and where to look — and leaves no fitted model."""
    X, y = arrays(cluster, persist=False)
    model = LinearRegression()
    cluster.wait_for_workers(2, timeout=60)
    arm(cluster.kill_root, tmp_path, ("_array_partition_stats",), 2, every=True)
    try:
        with pytest.raises(distributed.KilledWorker,
                           match="workers died while running it.*worker logs"):
            model.fit(X, y)
    finally:
        disarm(cluster.kill_root)
    assert not hasattr(model, "coef_")
    cluster.wait_for_workers(2, timeout=60)
    same_fit(LinearRegression().fit(X, y), LinearRegression().fit(X, y))  # the cluster recovered
