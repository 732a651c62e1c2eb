"""Exact 5-fold cross-validation over a 4 GB ``.npy`` file, streamed in one pass.

``LinearRegressionCV(cv=5, alphas=20 values).fit(sources.npy(...))`` reads the file once:
every block's rows go to their folds' statistics, and everything after the pass is O(d³) per
fold.  Measured against a plain streamed ``LinearRegression().fit(sources.npy(...))`` of the
same (page-cached) file — the same data as ``bench_streaming.py`` (its ``write_npy``):

* seconds, best of ``repeat`` runs of each, the runs interleaved (this machine is shared):
  contiguous folds (``KFold(5)``'s, the default) and hashed folds (``shuffle=True``);
  target ≤ 1.3× the plain fit;
* peak resident memory of each in a fresh interpreter (``VmHWM``, interpreter and libraries
  included); target < 600 MB;
* a check: the CV model's refit equals ``LinearRegression(alpha=alpha_)`` streamed (1e-10).

``--quick`` uses a ~100 MB file and only checks that the script works.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from bench_streaming import D, peak_rss_of  # noqa: E402
from common import rel_diff, table  # noqa: E402

ALPHAS = "np.geomspace(1e-5, 1.0, 20)"


def interleaved(fns: dict, repeat: int):
    """Best wall-clock and best CPU seconds (all the process's threads) of each function over
    ``repeat`` rounds, one run of each per round; and each one's last result."""
    best = {name: float("inf") for name in fns}
    cpu = {name: float("inf") for name in fns}
    results = {}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0, c0 = time.perf_counter(), time.process_time()
            results[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t0)
            cpu[name] = min(cpu[name], time.process_time() - c0)
    return best, cpu, results


def main(quick: bool) -> None:
    n = 125_000 if quick else 5_000_000          # 100 MB / 4 GB of float64 at d = 100
    folder = tempfile.mkdtemp(prefix="linreg-bench-cv-streaming-")
    try:
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {here!r}); "
                        f"from bench_streaming import write_npy; write_npy({folder!r}, {n}, {D})"],
                       check=True)
        xp, yp = os.path.join(folder, "X.npy"), os.path.join(folder, "y.npy")
        size_mb = os.path.getsize(xp) / 1e6

        from linreg import LinearRegression, LinearRegressionCV, sources
        alphas = np.geomspace(1e-5, 1.0, 20)

        def plain():
            return LinearRegression().fit(sources.npy(xp, yp))

        def kfold():
            return LinearRegressionCV(alphas=alphas, cv=5).fit(sources.npy(xp, yp))

        def hashed():
            return LinearRegressionCV(alphas=alphas, cv=5, shuffle=True).fit(sources.npy(xp, yp))

        load = [f"{os.getloadavg()[0]:.2f}"]
        plain()                                   # page-cache the file, load the libraries
        kfold()
        best, cpu, fitted = interleaved({"plain": plain, "kfold": kfold, "hashed": hashed},
                                   repeat=2 if quick else 3)
        cv = fitted["kfold"]
        check = LinearRegression(alpha=cv.alpha_).fit(sources.npy(xp, yp))
        agree = rel_diff(cv.coef_, check.coef_)

        rss = {}
        for name, code in (("plain", "LinearRegression().fit(src)"),
                           ("kfold", f"LinearRegressionCV(alphas={ALPHAS}, cv=5).fit(src)"),
                           ("hashed", f"LinearRegressionCV(alphas={ALPHAS}, cv=5, "
                                      "shuffle=True).fit(src)")):
            rss[name], _ = peak_rss_of(textwrap.dedent(f"""
                import numpy as np
                from linreg import LinearRegression, LinearRegressionCV, sources
                src = sources.npy({xp!r}, {yp!r})
                {code}
            """))
        baseline, _ = peak_rss_of("import numpy, scipy, sklearn, linreg.sources, linreg")
        t0 = best["plain"]
        table(f"5-fold CV streamed from a {size_mb:,.0f} MB .npy file in one pass (n={n:,}, "
              f"d={D}, 20 alphas, page-cached; best of interleaved runs)",
              ["fit", "seconds", "÷ plain streamed fit", "CPU seconds (÷ plain)", "peak RSS (MB)"],
              [["`LinearRegression().fit(sources.npy(...))` (one pass)", f"{t0:.2f}", "1.00",
                f"{cpu['plain']:.2f} (1.00)", f"{rss['plain']:,.0f}"],
               ["`LinearRegressionCV(cv=5)`, contiguous folds (default)", f"{best['kfold']:.2f}",
                f"**{best['kfold'] / t0:.2f}** (target ≤ 1.3)",
                f"{cpu['kfold']:.2f} ({cpu['kfold'] / cpu['plain']:.2f})",
                f"{rss['kfold']:,.0f} (target < 600)"],
               ["`LinearRegressionCV(cv=5, shuffle=True)`, hashed folds", f"{best['hashed']:.2f}",
                f"{best['hashed'] / t0:.2f}",
                f"{cpu['hashed']:.2f} ({cpu['hashed'] / cpu['plain']:.2f})", f"{rss['hashed']:,.0f}"],
               ["bare import of python + numpy + scipy + scikit-learn + linreg", "", "", "",
                f"{baseline:,.0f}"]])
        print(f"load average before and after: {load[0]} / {os.getloadavg()[0]:.2f} (2 cores)")
        print(f"alpha_ = {cv.alpha_:.3g}; refit vs LinearRegression(alpha=alpha_) streamed: "
              f"max rel. diff of coef_ {agree:.1e}")
        if agree > 1e-10:
            raise SystemExit("the CV refit differs from the streamed fit at alpha_")
    finally:
        for f in os.listdir(folder):
            os.remove(os.path.join(folder, f))
        os.rmdir(folder)


if __name__ == "__main__":
    main("--quick" in sys.argv)
