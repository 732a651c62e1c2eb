"""The core: closed form and batch gradient descent vs scikit-learn, statsmodels, NumPy, PyTorch.

Full size: n = 1,000,000, d = 100, dense float64 (X is 800 MB).  ``--quick``: n = 20,000.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from common import peak_extra_memory, rel_diff, synthetic, table, timed


def torch_full_batch_gd(X, y, lr, epochs):
    """The PyTorch way: nn.Linear + optim.SGD on the full batch, float64, CPU."""
    import torch

    Xt = torch.from_numpy(X)
    yt = torch.from_numpy(y).reshape(-1, 1)
    model = torch.nn.Linear(X.shape[1], 1, dtype=torch.float64)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(epochs):
        opt.zero_grad()
        loss = 0.5 * torch.mean((model(Xt) - yt) ** 2)
        loss.backward()
        opt.step()
    return model.weight.detach().numpy().ravel(), float(model.bias.detach())


def main(quick: bool = False) -> None:
    from sklearn.linear_model import LinearRegression as SkLinearRegression
    from sklearn.linear_model import Ridge

    from linreg import LinearRegression

    n, d = (20_000, 100) if quick else (1_000_000, 100)
    X, y, _ = synthetic(n, d)
    x_bytes = X.nbytes
    rows = []

    t_ours, ours = timed(lambda: LinearRegression().fit(X, y), repeat=3)
    mem_ours, _ = peak_extra_memory(lambda: LinearRegression().fit(X, y))
    rows.append(["linreg `solver=\"auto\"`", f"{t_ours:.3f}", "1.0", f"{mem_ours / x_bytes:.1%}", "—"])

    t_sk, sk = timed(lambda: SkLinearRegression().fit(X, y))
    mem_sk, _ = peak_extra_memory(lambda: SkLinearRegression().fit(X, y))
    rows.append(["scikit-learn `LinearRegression`", f"{t_sk:.3f}", f"{t_sk / t_ours:.1f}",
                 f"{mem_sk / x_bytes:.0%}", f"{rel_diff(ours.coef_, sk.coef_):.1e}"])

    t_ridge, ridge = timed(lambda: Ridge(alpha=0.0, solver="cholesky").fit(X, y), repeat=2)
    mem_ridge, _ = peak_extra_memory(lambda: Ridge(alpha=0.0, solver="cholesky").fit(X, y))
    rows.append(["scikit-learn `Ridge(solver=\"cholesky\")`", f"{t_ridge:.3f}", f"{t_ridge / t_ours:.1f}",
                 f"{mem_ridge / x_bytes:.0%}", f"{rel_diff(ours.coef_, ridge.coef_):.1e}"])

    def np_lstsq():
        A = np.hstack([np.ones((n, 1)), X])
        return np.linalg.lstsq(A, y, rcond=None)[0]

    t_np, sol = timed(np_lstsq)
    mem_np, _ = peak_extra_memory(np_lstsq)
    rows.append(["`numpy.linalg.lstsq` on [1, X]", f"{t_np:.3f}", f"{t_np / t_ours:.1f}",
                 f"{mem_np / x_bytes:.0%}", f"{rel_diff(ours.coef_, sol[1:]):.1e}"])

    import statsmodels.api as sm

    def sm_ols():
        return sm.OLS(y, sm.add_constant(X)).fit()

    t_sm, res = timed(sm_ols)
    mem_sm, _ = peak_extra_memory(sm_ols)
    rows.append(["statsmodels `OLS(...).fit()`", f"{t_sm:.3f}", f"{t_sm / t_ours:.1f}",
                 f"{mem_sm / x_bytes:.0%}", f"{rel_diff(ours.coef_, res.params[1:]):.1e}"])
    table(f"Closed form, n = {n:,}, d = {d}, float64 (X = {x_bytes / 2**20:.0f} MiB)",
          ["method", "fit seconds", "time ÷ linreg", "extra peak memory ÷ size of X",
           "max coef difference vs linreg (relative)"], rows)

    # ------------------------------------------------------------ batch gradient descent
    iters = 1000
    torch_epochs = 50 if quick else 100
    gd = LinearRegression(solver="gd", standardize=False, max_iter=iters, tol=0)
    t_gd, gd = timed(lambda: gd.fit(X, y))
    lr = gd.learning_rate_                      # 1/L: the same step for both
    import torch

    torch.set_num_threads(2)
    t0 = time.perf_counter()
    tw, tb = torch_full_batch_gd(X, y, lr, torch_epochs)
    t_torch = (time.perf_counter() - t0) * iters / torch_epochs
    ref = LinearRegression(solver="gd", standardize=False, max_iter=torch_epochs, tol=0,
                           learning_rate=lr).fit(X, y)
    table(f"Batch gradient descent, {iters} iterations, learning rate 1/L = {lr:.4g}, raw features",
          ["method", "seconds", "time ÷ linreg", f"agreement after {torch_epochs} epochs (relative)"],
          [["linreg `solver=\"gd\"` (statistics: one pass, then O(d²) per iteration)",
            f"{t_gd:.3f}", "1.0", "—"],
           [f"PyTorch `nn.Linear` + `optim.SGD`, full batch (measured {torch_epochs} epochs, "
            f"× {iters // torch_epochs})", f"{t_torch:.1f}", f"{t_torch / t_gd:.0f}",
            f"{rel_diff(tw, ref.coef_):.1e}"]])


if __name__ == "__main__":
    main("--quick" in sys.argv)
