"""Sparse X: ``LinearRegression().fit`` on a CSR matrix against scikit-learn's
``LinearRegression`` (which runs ``scipy.sparse.linalg.lsqr`` on sparse input).

Full size: 1,000,000 rows × 20,000 columns, 20 non-zeros a row (random columns, normal values),
``y = Xβ + 1 + noise``.  linreg's ``"auto"`` takes LSQR here (d > 4096: no d × d Gram).
Accuracy, side by side: the loss ``J`` of each solution, the relative normal-equations residual
``‖X̃ᵀr‖ / (‖X̃‖_F ‖r‖)`` of the centred design (0 at the exact least-squares solution), and the
coefficients' relative distance from a reference solved far tighter (scipy's LSQR on the
centred system at ``atol = btol = 1e-14``; the closed form's d × d Gram would take 3.2 GB).
Times: the best of ``REPEAT`` fits of each library, taken in turn (other work on the machine
slows both alike); "CPU time" is the process's CPU seconds over all threads (linreg's products
run on as many threads as BLAS may use, scikit-learn's on one) — on a machine busy with other
work the wall time of a threaded fit says little, its CPU time more.  The peak extra memory
comes from one more fit of each, before the timed ones, sampled every 2 ms by a thread (whose
wake-ups would otherwise be timed too: they take a core a fit on two threads is using).
Targets (issue 13): ≥ 2× faster at equal or better accuracy, peak extra memory ≤ the CSR's size.
``--quick``: 50,000 × 2,000 (the Gram path) and only checks that the script works.
"""

from __future__ import annotations

import os
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(__file__))
from common import peak_extra_memory, rel_diff, table  # noqa: E402


def sparse_problem(n: int, d: int, per_row: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    indices = rng.integers(0, d, size=(n, per_row)).astype(np.int32)
    indices.sort(axis=1)
    data = rng.normal(size=n * per_row)
    indptr = np.arange(0, n * per_row + 1, per_row, dtype=np.int64 if n * per_row >= 2**31
                       else np.int32)
    X = sp.csr_matrix((data, indices.ravel(), indptr), shape=(n, d))
    X.sum_duplicates()
    beta = rng.normal(size=d)
    y = X @ beta + 1.0 + 0.1 * rng.normal(size=n)
    return X, y


def quality(X, y, coef, intercept) -> tuple[float, float]:
    """(J = mean squared residual / 2, ‖X̃ᵀr‖/(‖X̃‖_F‖r‖) with X̃ the centred X)."""
    r = y - (X @ coef + intercept)
    mean = np.asarray(X.mean(axis=0)).ravel()
    g = X.T @ r - mean * r.sum()
    frob = np.sqrt(X.multiply(X).sum() - X.shape[0] * mean @ mean)
    return float(r @ r / (2 * len(r))), float(np.linalg.norm(g) / (frob * np.linalg.norm(r)))


REPEAT = 3


def tight_reference(X, y):
    """(coef, intercept) of the centred least-squares problem by scipy's LSQR at 1e-14."""
    from scipy.sparse.linalg import LinearOperator, lsqr
    mean = np.asarray(X.mean(axis=0)).ravel()
    n, d = X.shape
    A = LinearOperator((n, d), matvec=lambda v: X @ v - mean @ v,
                       rmatvec=lambda r: X.T @ r - mean * r.sum(), dtype=np.float64)
    coef = lsqr(A, y - y.mean(), atol=1e-14, btol=1e-14, iter_lim=10 * d)[0]
    return coef, y.mean() - mean @ coef


def linreg_fit(X, y):
    from linreg import LinearRegression
    return LinearRegression().fit(X, y)


def sklearn_fit(X, y):
    """scikit-learn's fit, its LSQR's iteration count recorded (``n_iter_``, for the table)."""
    import sklearn.linear_model._base as base
    from sklearn.linear_model import LinearRegression
    original, counts = base.lsqr, []

    def counted(*args, **kwargs):
        result = original(*args, **kwargs)
        counts.append(int(result[2]))
        return result

    base.lsqr = counted
    try:
        model = LinearRegression().fit(X, y)
    finally:
        base.lsqr = original
    model.n_iter_ = max(counts, default="")
    return model


def main(quick: bool) -> None:
    n, d, per_row = (50_000, 2_000, 20) if quick else (1_000_000, 20_000, 20)
    X, y = sparse_problem(n, d, per_row)
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    small, ys = sparse_problem(2_000, 500, 5, seed=1)   # warm up imports and first calls (LSQR)
    linreg_fit(small, ys)
    sklearn_fit(small, ys)
    reference, _ = tight_reference(X, y)
    fits = (("linreg LinearRegression()", linreg_fit),
            ("scikit-learn LinearRegression()", sklearn_fit))
    best = {name: float("inf") for name, _ in fits}
    cpu = dict(best)
    memory, fitted = {}, {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in fits:       # the memory, sampled in a thread: a fit of its own
            memory[name], _ = peak_extra_memory(fn, X, y)
        for _attempt in range(1 if quick else REPEAT):
            for name, fn in fits:     # the times, with nothing else running in the process
                t0, c0 = time.perf_counter(), time.process_time()
                model = fn(X, y)
                best[name] = min(best[name], time.perf_counter() - t0)
                cpu[name] = min(cpu[name], time.process_time() - c0)
                fitted[name] = model
    rows = []
    for name, _ in fits:
        model = fitted[name]
        J, residual = quality(X, y, model.coef_, model.intercept_)
        extra = memory[name]
        rows.append([name, f"{best[name]:.2f} s", f"{cpu[name]:.2f} s", f"{extra / 2**20:.0f} MB",
                     f"{extra / csr_bytes:.2f}", f"{J:.10g}", f"{residual:.1e}",
                     f"{rel_diff(model.coef_, reference):.1e}",
                     str(getattr(model, "n_iter_", "")) or "",
                     getattr(model, "solver_", "lsqr (scipy)")])
    ours, theirs = fitted.values()
    ratio = best[fits[1][0]] / best[fits[0][0]]
    table(f"CSR {n:,} × {d:,}, {per_row} non-zeros a row ({csr_bytes / 2**20:.0f} MB); "
                f"linreg {ratio:.2f}× faster; coefficients differ by "
                f"{rel_diff(ours.coef_, theirs.coef_):.1e} (relative)",
                ["fit", "time", "CPU time", "peak extra memory", "/ CSR size", "J", "‖X̃ᵀr‖/(‖X̃‖‖r‖)",
                 "coef error vs 1e-14 LSQR", "LSQR iterations", "solver"], rows)


if __name__ == "__main__":
    main("--quick" in sys.argv)
