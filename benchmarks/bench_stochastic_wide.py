"""Stochastic fits on wide and sparse data, as whole ``fit`` calls, side by side with
scikit-learn's ``SGDRegressor`` on the same matrices.

Sizes (``--quick``: a hundredth of the rows, at least 2,000): dense 1,000,000 × 100, 100,000 × 1,000 and
20,000 × 5,000 (each 763 MiB of float64), and CSR 1,000,000 × 20,000 with 20 non-zeros a
row.  Every fit: raw features (``standardize=False``), shuffled, a constant learning rate
``0.5/mean ‖x‖²`` (the same for both libraries), no penalty, ``max_iter`` epochs and no
stopping rule (``tol=0``, ``tol=None``).  linreg's ``sgd`` and ``minibatch`` (256 rows)
keep their full-data loss history (one pass over the rows per epoch) and take the path the
cost model picks (``training_path_``); for the dense sizes the table also shows the fit
forced to form the d × d statistics first, as every linreg fit did before
(``training_path_ = "statistics"``).  ``J`` is the loss of the returned coefficients,
computed here from the rows (the mini-batches take 1/256 as many steps of the same size,
so their ``J`` after one epoch is higher: the table is about time).  The fits run side by
side in rounds — ``SGDRegressor``, ``sgd``, ``minibatch``, three rounds — so a burst of load
on a shared machine hits all of them; each time is the best of its three, with the range in
brackets (one run for the forced statistics).  The title gives the load average before the
table.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_sparse import sparse_problem  # noqa: E402
from common import synthetic, table, timed  # noqa: E402

from linreg import LinearRegression  # noqa: E402
from linreg.solvers import paths  # noqa: E402


def loss(X, y, coef, intercept) -> float:
    r = X @ np.ravel(coef) + float(np.ravel(intercept)[0]) - y
    return float(r @ r / (2 * len(y)))


def step_size(X) -> float:
    """0.5 / mean ‖x_i‖²: stable for one-sample SGD on these rows."""
    if hasattr(X, "indptr"):
        mean_sq = float(X.data @ X.data) / X.shape[0]
    else:
        mean_sq = float(np.einsum("ij,ij->", X[:20_000], X[:20_000])) / min(len(X), 20_000)
    return 0.5 / mean_sq


def linreg_fit(X, y, solver, epochs, lr, path=None):
    real = paths.training_path
    if path is not None:        # force a path (the "statistics" rows of the table)
        paths.training_path = lambda *args: path
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return LinearRegression(solver=solver, batch_size=256, max_iter=epochs, tol=0,
                                    learning_rate=lr, schedule="constant", standardize=False,
                                    random_state=0).fit(X, y)
    finally:
        paths.training_path = real


def sklearn_fit(X, y, epochs, lr):
    from sklearn.linear_model import SGDRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SGDRegressor(max_iter=epochs, tol=None, learning_rate="constant", eta0=lr,
                            penalty=None, alpha=0.0, shuffle=True, random_state=0,
                            average=False).fit(X, y)


def fmt(t: float) -> str:
    return f"{t:.3f} s" if t < 10 else f"{t:.1f} s"


#: rounds of the side-by-side fits
ROUNDS = 3


def spread(times: list) -> str:
    """``best (best–worst)`` of a run's times."""
    return f"{fmt(min(times))} ({min(times):.3f}–{max(times):.3f})"


def one_size(name: str, X, y, epochs_list, with_statistics: bool) -> None:
    """The table of one size: each library's whole fits, and the time of one more epoch
    (linreg's includes its loss pass)."""
    lr = step_size(X)
    small = slice(0, 2000)
    for solver in ("sgd", "minibatch"):        # compile (or load from the cache) first
        linreg_fit(X[small], y[small], solver, 1, lr)
    rows, times = [], {}
    load = os.getloadavg()[0]
    for epochs in epochs_list:
        runs = [("sklearn", None), ("sgd", None), ("minibatch", None)]
        if with_statistics and epochs == epochs_list[0]:
            runs += [("sgd", "statistics")]
        seen, models = {}, {}
        for round_ in range(ROUNDS):
            for who, path in runs:
                if path and round_:
                    continue
                if who == "sklearn":
                    t, models[who, path] = timed(sklearn_fit, X, y, epochs, lr)
                else:
                    t, models[who, path] = timed(linreg_fit, X, y, who, epochs, lr, path)
                seen.setdefault((who, path), []).append(t)
        t_sk = min(seen["sklearn", None])
        times["sklearn", epochs] = t_sk
        sk = models["sklearn", None]
        rows.append([f"scikit-learn SGDRegressor(max_iter={epochs})",
                     spread(seen["sklearn", None]), "1.00",
                     f"{loss(X, y, sk.coef_, sk.intercept_):.6g}", "—"])
        for solver, path in runs[1:]:
            t, m = min(seen[solver, path]), models[solver, path]
            times[solver if path is None else "forced", epochs] = t
            label = f"linreg {solver}{' 256' if solver == 'minibatch' else ''}, max_iter={epochs}"
            if path:
                label += ", statistics forced (as before)"
            rows.append([label, spread(seen[solver, path]), f"{t_sk / t:.2f}",
                         f"{loss(X, y, m.coef_, m.intercept_):.6g}", m.training_path_])
    first, last = epochs_list[0], epochs_list[-1]
    extra = {who: (times[who, last] - times[who, first]) / (last - first)
             for who in ("sklearn", "sgd", "minibatch")}
    rows.append([f"one more epoch: (fit(max_iter={last}) − fit(max_iter={first}))/{last - first}",
                 f"SGDRegressor {fmt(extra['sklearn'])}, sgd {fmt(extra['sgd'])}, minibatch "
                 f"{fmt(extra['minibatch'])}", f"{extra['sklearn'] / extra['sgd']:.2f} (sgd)",
                 "", ""])
    table(f"{name}: whole fit, learning rate {lr:.3g} (load average {load:.2f} before)",
          ["fit", "time", "SGDRegressor ÷ this", "J after", "training_path_"], rows)


def main(quick: bool) -> None:
    scale = 100 if quick else 1
    epochs_list = (1, 5)
    for n, d in ((1_000_000, 100), (100_000, 1_000), (20_000, 5_000)):
        n = max(n // scale, 2_000)
        X, y, _ = synthetic(n, d, noise=0.1, seed=0)
        y = y / np.sqrt(d)          # targets of unit order whatever d
        # (--quick: the d × d work of the forced statistics alone would take a minute)
        one_size(f"dense {n:,} × {d:,}", X, y, epochs_list,
                 with_statistics=not quick or d <= 100)
        del X, y
    n, d = 1_000_000 // scale, 20_000
    X, y = sparse_problem(n, d, 20)
    one_size(f"CSR {n:,} × {d:,}, 20 non-zeros a row", X, y, epochs_list,
             with_statistics=False)


if __name__ == "__main__":
    main("--quick" in sys.argv)
