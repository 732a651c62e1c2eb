"""Stochastic training against scikit-learn's SGDRegressor and PyTorch, side by side.

Full size: n = 1,000,000 rows, d = 100 features, float64 (``--quick``: n = 20,000).

* ``solver="sgd"`` one epoch vs ``SGDRegressor`` one epoch: same constant learning rate, no
  penalty, both shuffling, both on the raw features (``standardize=False``), so both run the
  same textbook update; final loss of each.
* ``solver="minibatch"``, batch 256, one epoch vs the same loop in PyTorch (``nn.Linear`` +
  ``optim.SGD``, CPU, float64, ``randperm`` + indexing per batch); and with ``optimizer="adam"``
  vs ``optim.Adam``.
* time to reach the closed-form loss within 1e-6 (relative): ``solver="gd"`` with each
  optimizer vs ``SGDRegressor`` with its defaults.
* numba compilation: the first call in a process with an empty cache, and in a second process
  that finds the cache.

These fits (raw features, a given learning rate) read X twice for ``max_iter=1``: the epoch
and the loss pass after it, which also sums the columns the start's gradient needs (no pass
before the epoch: ``linreg.descent.DeferredStart``); a fit forms the O(n·d²) sufficient
statistics only when they cost less than the loss passes they replace (``training_path_``;
``bench_stochastic_wide.py`` has the wide and sparse sizes).  The tables show the whole
``fit(max_iter=1)`` and, separately, one epoch: the
shortest interval between two consecutive epoch callbacks of a 4-epoch fit (shuffle, kernel,
loss and gradient norm of the full data — everything an epoch does).  scikit-learn's epoch is
``(fit(max_iter=3) − fit(max_iter=1))/2``; PyTorch has no setup, its epoch is the loop.
PyTorch runs on one thread, like linreg's kernel (on this 2-core machine its two-thread
default was several times slower for these small per-batch operations).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import synthetic, table, timed  # noqa: E402

from linreg import LinearRegression  # noqa: E402


def loss(X, y, coef, intercept) -> float:
    """J = 1/(2n) Σ (xᵀw + b − y)², from the rows."""
    r = X @ np.asarray(coef, dtype=np.float64).ravel() + float(np.ravel(intercept)[0]) - y
    return float(r @ r / (2 * len(y)))


def fmt(t: float) -> str:
    return f"{t:.3f} s" if t >= 0.01 else f"{t * 1e3:.2f} ms"


def ours(X, y, max_iter, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LinearRegression(max_iter=max_iter, tol=0, schedule="constant",
                                standardize=False, random_state=0, **kw).fit(X, y)


def ours_timings(X, y, repeat, **kw):
    """(whole fit with one epoch, one epoch, model after one epoch)."""
    t1, m1 = timed(ours, X, y, 1, repeat=repeat, **kw)
    stamps = []
    for _ in range(repeat):
        ours(X, y, 4, callback=lambda info: stamps.append(time.perf_counter()), **kw)
        stamps.append(np.nan)                       # no interval across two fits
    epoch = float(np.nanmin(np.diff(stamps)))
    return t1, epoch, m1


def sklearn_sgd(X, y, max_iter, eta0):
    from sklearn.linear_model import SGDRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SGDRegressor(max_iter=max_iter, tol=None, learning_rate="constant", eta0=eta0,
                            penalty=None, alpha=0.0, shuffle=True, random_state=0,
                            average=False).fit(X, y)


def torch_epoch(X, y, batch, lr, adam: bool):
    import torch
    torch.manual_seed(0)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)[:, None]
    lin = torch.nn.Linear(X.shape[1], 1).double()
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    opt = torch.optim.Adam(lin.parameters(), lr=lr) if adam else torch.optim.SGD(lin.parameters(), lr=lr)
    perm = torch.randperm(len(y))
    for start in range(0, len(y), batch):
        idx = perm[start:start + batch]
        opt.zero_grad()
        J = 0.5 * ((lin(Xt[idx]) - yt[idx]) ** 2).mean()
        J.backward()
        opt.step()
    return lin.weight.detach().numpy().ravel(), lin.bias.item()


def compile_costs() -> tuple[float, float]:
    """Seconds of the first sgd + minibatch + adam fit in a fresh process: with an empty
    numba cache, then in a second process that finds it."""
    code = textwrap.dedent("""
        import time, numpy as np
        from linreg import LinearRegression
        X = np.random.default_rng(0).standard_normal((200, 5)); y = X.sum(1)
        t = time.perf_counter()
        for solver, opt in (("sgd", "plain"), ("minibatch", "plain"), ("minibatch", "adam")):
            LinearRegression(solver=solver, optimizer=opt, max_iter=2, tol=0).fit(X, y)
        print(time.perf_counter() - t)
    """)
    with tempfile.TemporaryDirectory() as cache:
        # the benchmark (not the library) points numba at an empty cache to see a cold start
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        runs = [float(subprocess.run([sys.executable, "-c", code], env=env, check=True,
                                     capture_output=True, text=True).stdout.split()[-1])
                for _ in range(2)]
    return runs[0], runs[1]


def main(quick: bool) -> None:
    n, d = (20_000, 100) if quick else (1_000_000, 100)
    repeat = 3 if quick else 2
    X, y, _ = synthetic(n, d, noise=0.1, seed=0)
    print(f"## Stochastic training: n = {n:,}, d = {d}, float64\n", flush=True)

    exact = LinearRegression().fit(X, y)
    J_opt = loss(X, y, exact.coef_, exact.intercept_)
    # compile (or load from the cache) outside the timings
    for solver, opt in (("sgd", "plain"), ("minibatch", "plain"), ("minibatch", "adam")):
        ours(X[:500], y[:500], 1, solver=solver, optimizer=opt, learning_rate=1e-3, batch_size=256)

    # ---- sgd vs SGDRegressor
    # small enough that the noise floor of a constant step is ~1% of J*, large enough that one
    # epoch of 1e6 rows converges to it: then the final losses of two shuffles can be compared
    eta = 2e-4
    t_fit, t_epoch, m = ours_timings(X, y, repeat, solver="sgd", learning_rate=eta)
    t_sk1, sk = timed(sklearn_sgd, X, y, 1, eta, repeat=repeat)
    t_sk3, _ = timed(sklearn_sgd, X, y, 3, eta, repeat=repeat)
    t_sk_epoch = max(t_sk3 - t_sk1, 0.0) / 2
    J_ours, J_sk = loss(X, y, m.coef_, m.intercept_), loss(X, y, sk.coef_, sk.intercept_)
    # over more epochs the one statistics pass is amortised
    t_ours10, _ = timed(ours, X, y, 10, solver="sgd", learning_rate=eta)
    t_sk10, _ = timed(sklearn_sgd, X, y, 10, eta)
    table(f"sgd, one epoch, constant learning rate {eta}, shuffled (optimum J* = {J_opt:.6g})",
          ["", "linreg sgd", "sklearn SGDRegressor", "speed-up"],
          [["fit with max_iter=1", fmt(t_fit), fmt(t_sk1), f"{t_sk1 / t_fit:.2f}×"],
           ["fit with max_iter=10", fmt(t_ours10), fmt(t_sk10), f"{t_sk10 / t_ours10:.2f}×"],
           ["one epoch", fmt(t_epoch), fmt(t_sk_epoch),
            f"{t_sk_epoch / max(t_epoch, 1e-9):.2f}×"],
           ["J after one epoch (J/J* − 1)", f"{J_ours:.6g} ({J_ours / J_opt - 1:.1e})",
            f"{J_sk:.6g} ({J_sk / J_opt - 1:.1e})",
            f"rel. diff {abs(J_ours - J_sk) / J_sk:.2%}"]])

    # ---- minibatch vs torch
    import torch
    torch.set_num_threads(1)
    rows = []
    for adam, lr in ((False, 0.01), (True, 1e-3)):
        kw = dict(solver="minibatch", batch_size=256, learning_rate=lr,
                  optimizer="adam" if adam else "plain")
        t_fit, t_epoch, m = ours_timings(X, y, repeat, **kw)
        t_torch, (w, b) = timed(torch_epoch, X, y, 256, lr, adam, repeat=repeat)
        name = "adam" if adam else "plain SGD"
        rows.append([f"minibatch 256, {name}, lr {lr}", fmt(t_fit), fmt(t_epoch), fmt(t_torch),
                     f"{t_torch / t_fit:.2f}×", f"{t_torch / max(t_epoch, 1e-9):.1f}×",
                     f"{loss(X, y, m.coef_, m.intercept_):.6g}", f"{loss(X, y, w, b):.6g}"])
    table(f"minibatch, one epoch, vs PyTorch {torch.__version__} (CPU, {torch.get_num_threads()} thread)",
          ["", "linreg fit (max_iter=1)", "linreg epoch", "torch epoch",
           "speed-up (fit)", "speed-up (epoch)", "J linreg", "J torch"], rows)

    # ---- time to the closed-form loss
    target = J_opt * (1 + 1e-6)
    rows = []
    t_exact, _ = timed(lambda: LinearRegression().fit(X, y), repeat=repeat)
    rows.append(["linreg closed form (normal equations)", fmt(t_exact), "—", "yes"])
    for opt in ("plain", "momentum", "nesterov", "adam"):
        def run(opt=opt):
            return LinearRegression(solver="gd", optimizer=opt, max_iter=100_000, tol=0,
                                    callback=lambda info: info["loss"] <= target).fit(X, y)
        t, m = timed(run, repeat=repeat)
        J = loss(X, y, m.coef_, m.intercept_)
        rows.append([f"linreg gd, {opt}", fmt(t), f"{m.n_iter_} iterations",
                     "yes" if J <= J_opt * (1 + 2e-6) else f"no ({J / J_opt - 1:.1e})"])
    from sklearn.linear_model import SGDRegressor
    for label, kw in (("sklearn SGDRegressor()  (defaults)", {}),
                      ("sklearn SGDRegressor(penalty=None)", {"penalty": None})):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t, sk = timed(lambda kw=kw: SGDRegressor(random_state=0, **kw).fit(X, y), repeat=1)
        J = loss(X, y, sk.coef_, sk.intercept_)
        rows.append([label, fmt(t), f"{sk.n_iter_} epochs",
                     "yes" if J <= target else f"no: J/J* − 1 = {J / J_opt - 1:.1e}"])
    table("time to reach the closed-form loss within 1e-6 (relative)",
          ["method", "time", "work", "reached?"], rows)

    # ---- compilation
    cold, warm = compile_costs()
    table("numba compilation (first sgd + minibatch + adam fits in a new process)",
          ["", "time"], [["empty cache (compiles)", fmt(cold)],
                         ["second process (cache hit)", fmt(warm)]])


if __name__ == "__main__":
    main("--quick" in sys.argv)
