"""The bundled dataset, end to end: fit it with every batch solver and compare.

The data are the diabetes data of Efron, Hastie, Johnstone and Tibshirani (2004), "Least
Angle Regression", Annals of Statistics: 442 patients, 10 baseline variables (age, sex, body
mass index, average blood pressure and six blood serum measurements) and a measure of disease
progression one year later.  Shipped in original units as ``linreg/data/diabetes.csv``.
"""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np

__all__ = ["load_diabetes", "fit_demo_models", "run_demo"]


def load_diabetes() -> tuple[np.ndarray, np.ndarray, list[str], str]:
    """(X of shape (442, 10), y of shape (442,), feature names, target name)."""
    with resources.files("linreg").joinpath("data/diabetes.csv").open("r") as f:
        header = f.readline().strip().split(",")
        data = np.loadtxt(f, delimiter=",")
    return data[:, :-1], data[:, -1], header[:-1], header[-1]


def fit_demo_models(X, y) -> dict:
    """The demo's fits: solver name → fitted model (the table's columns, and the figure's)."""
    from .estimator import LinearRegression
    return {solver: LinearRegression(solver=solver, max_iter=10_000, tol=1e-10).fit(X, y)
            for solver in ("normal", "qr", "gd")}


def run_demo(out=None, models: dict | None = None) -> int:
    """Print the demo's table of ``models`` (default: :func:`fit_demo_models`)."""
    out = out or sys.stdout
    X, y, names, target = load_diabetes()
    print(f"linreg demo: diabetes data (Efron et al. 2004), n = {X.shape[0]}, d = {X.shape[1]}, "
          f"target = {target!r}", file=out)
    print("objective: J(w, b) = 1/(2n) Σ (x_iᵀw + b − y_i)²   (alpha = 0)\n", file=out)
    models = fit_demo_models(X, y) if models is None else models
    width = max(len(n) for n in names + ["intercept"])
    print(f"{'':{width}}  " + "  ".join(f"{s:>16}" for s in models), file=out)
    for j, name in enumerate(names):
        print(f"{name:{width}}  " + "  ".join(f"{m.coef_[j]:16.10g}" for m in models.values()), file=out)
    print(f"{'intercept':{width}}  " + "  ".join(f"{m.intercept_:16.10g}" for m in models.values()), file=out)
    print(f"{'R²':{width}}  " + "  ".join(f"{m.score(X, y):16.10f}" for m in models.values()), file=out)
    print(f"{'iterations':{width}}  " + "  ".join(f"{m.n_iter_:16d}" for m in models.values()), file=out)
    ref = models["qr"]
    print(f"\ncondition number of the standardized design: {ref.condition_number_:.4g}", file=out)
    for solver in ("normal", "gd"):
        m = models[solver]
        rel = np.max(np.abs(m.coef_ - ref.coef_)) / np.max(np.abs(ref.coef_))
        print(f"{solver:>6} vs qr: largest coefficient difference {rel:.2e} (relative), "
              f"intercept difference {abs(m.intercept_ - ref.intercept_):.2e}", file=out)
    return 0
