"""Inference: ``fit`` + ``summary`` against statsmodels ``OLS(...).fit().summary()``.

Full size: n = 1,000,000 rows, d = 100 features (800 MB of float64).  Targets:
fit + summary ≥ 5× faster than statsmodels, extra peak memory ≤ 25% of X's size; the
cluster-robust summary (1,000 clusters) and HAC (Newey and West's rule of thumb for the lags,
floor(4·(n/100)^(2/9)) = 30 at full size) ≥ 10× faster than statsmodels
``OLS(...).fit(cov_type="cluster" | "HAC", cov_kwds=...)``.

linreg computes the summary from the sufficient statistics of ``fit`` plus one blocked pass
over the rows (residuals, leverage, diagnostics); statsmodels forms the pseudo-inverse of the
whole design.  Both runs are checked to agree (standard errors, R², AIC).
``--quick`` uses n = 20,000, d = 20 and only checks that the script works.
"""

from __future__ import annotations

import os
import sys
import warnings

import numpy as np


sys.path.insert(0, os.path.dirname(__file__))
from common import peak_extra_memory, rel_diff, synthetic, table, timed  # noqa: E402


def linreg_fit_summary(X, y, cov_type, **options):
    from linreg import LinearRegression
    result = LinearRegression().fit(X, y).summary(cov_type, **options)
    str(result)                              # the table, as statsmodels' summary() makes it
    return result


def statsmodels_fit_summary(X, y, cov_type, **options):
    import statsmodels.api as sm
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.OLS(y, sm.add_constant(X, has_constant="add")).fit(
            cov_type=cov_type, cov_kwds=options or None)
        str(res.summary())
    return res


def main(quick: bool) -> None:
    n, d = (20_000, 20) if quick else (1_000_000, 100)
    X, y, _ = synthetic(n, d, noise=1.0, seed=1)
    rng = np.random.default_rng(3)
    clusters = rng.integers(0, 1000 if not quick else 50, n)
    # errors correlated within clusters and over time, as these covariances are made for
    y = y + rng.standard_normal(int(clusters.max()) + 1)[clusters]
    y = y + np.convolve(rng.standard_normal(n + 9), np.ones(10) / 10, mode="valid")
    maxlags = int(np.floor(4 * (n / 100) ** (2 / 9)))
    x_bytes = X.nbytes
    rows = []
    # warm up: imports and first-call costs must not count as the methods' memory or time
    Xw, yw, _ = synthetic(200, 3, seed=2)
    linreg_fit_summary(Xw, yw, "HC3")
    statsmodels_fit_summary(Xw, yw, "HC3")
    runs = [("nonrobust", {}, ""), ("HC3", {}, ""),
            ("cluster", {"groups": clusters}, f" ({clusters.max() + 1:,} clusters)"),
            ("HAC", {"maxlags": maxlags}, f" ({maxlags} lags)")]
    for cov_type, options, what in runs:
        # one run each measures both (statsmodels takes about a minute at full size): the
        # wall time of the memory-sampled call (the sampler only reads /proc every 2 ms)
        t_lr, (mem_lr, r) = timed(peak_extra_memory, linreg_fit_summary, X, y, cov_type,
                                  **options)
        t_sm, (mem_sm, s) = timed(peak_extra_memory, statsmodels_fit_summary, X, y, cov_type,
                                  **options)
        agree = max(rel_diff(r.bse, s.bse), rel_diff(r.params, s.params),
                    rel_diff(r.rsquared, s.rsquared), rel_diff(r.aic, s.aic),
                    rel_diff(r.condition_number, s.condition_number),
                    rel_diff(r.fvalue, s.fvalue))
        rows.append([cov_type + what, "linreg fit + summary", f"{t_lr:.2f}",
                     f"{t_sm / t_lr:.1f}×", f"{mem_lr / 2**20:.0f}",
                     f"{100 * mem_lr / x_bytes:.1f}%", f"{agree:.1e}"])
        rows.append([cov_type + what, "statsmodels OLS().fit().summary()", f"{t_sm:.2f}",
                     "1.0×", f"{mem_sm / 2**20:.0f}", f"{100 * mem_sm / x_bytes:.1f}%", ""])
    table(f"fit + summary, n = {n:,}, d = {d} (X: {x_bytes / 2**20:.0f} MB); "
          "targets: ≥ 5× faster than statsmodels (cluster, HAC: ≥ 10×), extra memory ≤ 25% of X",
          ["cov_type", "method", "seconds", "speed-up vs statsmodels", "extra peak MB",
           "extra / X", "max rel. diff vs statsmodels"], rows)


if __name__ == "__main__":
    main("--quick" in sys.argv)
