"""Model selection: ``LinearRegressionCV`` against scikit-learn ``RidgeCV``.

Full size: n = 1,000,000 rows, d = 100 features, 20 alphas, 5 folds.  Targets: ≥ 100× faster
than ``RidgeCV(cv=5)`` and ≥ 20× faster than ``RidgeCV()`` (efficient leave-one-out), with
the same chosen alpha on equal folds.

Alphas convert as the README says (``standardize=False``): on a training fold of ``n_train``
rows scikit-learn's ``Ridge`` alpha is ``n_train·alpha``; for leave-one-out (whole data's
penalty held fixed) it is ``n·alpha``.  The folds are ``KFold(5)`` (contiguous) on both sides.
``RidgeCV(cv=5)`` refits every fold and alpha (100 Ridge fits); on this 2-core machine that is
timed at ``n_cv`` rows (a tenth of n, said in the table) and its time scaled by n/n_cv, which
is kind to it (its cost grows at least linearly in n).
``--quick`` uses n = 20,000, d = 20 and only checks that the script works.
"""

from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import synthetic, table, timed  # noqa: E402


def main(quick: bool) -> None:
    from sklearn.linear_model import RidgeCV

    from linreg import LinearRegressionCV
    n, d = (20_000, 20) if quick else (1_000_000, 100)
    n_cv = n if quick else n // 10
    X, y, _ = synthetic(n, d, noise=30.0, seed=1)
    alphas = np.geomspace(1e-5, 1.0, 20)
    LinearRegressionCV(alphas=alphas).fit(X[:5000], y[:5000])     # imports, first calls

    t_cv, m = timed(lambda: LinearRegressionCV(alphas=alphas, cv=5, standardize=False).fit(X, y))
    t_loo, ml = timed(lambda: LinearRegressionCV(alphas=alphas, cv="loo",
                                                 standardize=False).fit(X, y))
    t_gcv, _ = timed(lambda: LinearRegressionCV(alphas=alphas, cv="gcv",
                                                standardize=False).fit(X, y))

    t_sk_loo, sk = timed(lambda: RidgeCV(alphas=n * alphas).fit(X, y))
    Xs, ys = X[:n_cv], y[:n_cv]
    n_train = n_cv * 4 // 5
    t_sk_cv, skc = timed(lambda: RidgeCV(alphas=n_train * alphas, cv=5).fit(Xs, ys))
    t_small, ms = timed(lambda: LinearRegressionCV(alphas=alphas, cv=5,
                                                   standardize=False).fit(Xs, ys))
    scaled = t_sk_cv * n / n_cv
    same_cv = bool(np.isclose(skc.alpha_ / n_train, ms.alpha_, rtol=1e-12))
    same_loo = bool(np.isclose(sk.alpha_ / n, ml.alpha_, rtol=1e-12))
    rows = [
        [f"linreg LinearRegressionCV(cv=5), n={n:,}", f"{t_cv:.2f}", "", f"alpha_={m.alpha_:.3g}"],
        [f"linreg LinearRegressionCV(cv='loo'), n={n:,}", f"{t_loo:.2f}", "",
         f"alpha_={ml.alpha_:.3g}"],
        [f"linreg LinearRegressionCV(cv='gcv'), n={n:,}", f"{t_gcv:.2f}", "", ""],
        [f"sklearn RidgeCV() (LOO), n={n:,}", f"{t_sk_loo:.2f}",
         f"{t_sk_loo / t_cv:.0f}× (vs linreg 5-fold), {t_sk_loo / t_loo:.0f}× (vs linreg LOO)",
         f"same alpha as linreg LOO: {same_loo}"],
        [f"sklearn RidgeCV(cv=5), n={n_cv:,}", f"{t_sk_cv:.2f}",
         f"{t_sk_cv / t_small:.0f}× (linreg at n={n_cv:,}: {t_small:.2f} s)",
         f"same alpha as linreg 5-fold: {same_cv}"],
        [f"sklearn RidgeCV(cv=5), scaled to n={n:,}", f"≈{scaled:.0f}", f"{scaled / t_cv:.0f}×", ""],
    ]
    table(f"Model selection: {n:,} × {d}, 20 alphas (seconds, best of 1)",
          ["method", "seconds", "linreg faster by", "check"], rows)
    if not (same_cv and same_loo):
        raise SystemExit("the chosen alphas differ")


if __name__ == "__main__":
    main("--quick" in sys.argv)
