"""DataFrames: what a polars frame costs against the same pandas frame.

* numbers only, 1,000,000 × 20 (plus the target): ``fit(df, "y")`` and ``predict`` from a
  pandas frame, a polars frame whose columns are separate buffers (one copy into an array),
  and a polars frame made from a NumPy array (``pl.from_numpy``: its columns share one buffer,
  no copy); coefficients compared;
* a table with 20 numeric and 3 text columns of 5, 50 and 500 levels (572 coefficients): pandas
  ``string`` columns, polars ``String`` and polars ``Categorical`` columns.

Each case in a fresh interpreter; times are the best of two runs, the memory the largest peak
resident memory a run adds to the process (the frame itself already in memory).

    python benchmarks/bench_frames.py
    python benchmarks/bench_frames.py --quick
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import table  # noqa: E402

SRC = str(Path(__file__).resolve().parents[1] / "src")

CASE = textwrap.dedent("""
    import json, sys, time
    sys.path.insert(0, {src!r})
    import numpy as np, pandas as pd, polars as pl
    from linreg import LinearRegression
    n, d, kind, text = {n}, 20, {kind!r}, {text!r}
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, d + 1))
    names = [f"x{{j}}" for j in range(d)] + ["y"]
    columns = {{c: A[:, j].copy() for j, c in enumerate(names)}}
    if text:
        for k in (5, 50, 500):
            columns[f"text{{k}}"] = np.array([f"level_{{i:03d}}" for i in range(k)],
                                             dtype=object)[rng.integers(0, k, n)]
    if kind == "pandas":
        df = pd.DataFrame(columns)
        if text:
            df = df.astype({{f"text{{k}}": "string" for k in (5, 50, 500)}})
    elif kind == "polars from_numpy":
        df = pl.from_numpy(np.asfortranarray(A), schema=names)
    else:
        df = pl.DataFrame(columns)
        if kind == "polars Categorical":
            df = df.with_columns(pl.col("text5", "text50", "text500").cast(pl.Categorical))
    del A, columns
    features = df.drop(columns="y") if kind == "pandas" else df.drop("y")
    LinearRegression().fit(df.head(2000), "y")          # imports and compiled code, once
    def status(key):
        with open("/proc/self/status") as f:
            return int(next(l.split()[1] for l in f if l.startswith(key))) * 1024
    def measured(fn, repeat=2):
        best, peak = float("inf"), 0                     # the best time, the largest peak
        for _ in range(repeat):
            out = None
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")                             # VmHWM := VmRSS
            before = status("VmRSS:")
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
            peak = max(peak, status("VmHWM:") - before)
        return best, peak, out
    t_fit, m_fit, model = measured(lambda: LinearRegression().fit(df, "y"))
    t_pred, m_pred, _ = measured(lambda: model.predict(features))
    print(json.dumps([t_fit, m_fit, t_pred, m_pred, model.coef_.tolist()]))
""")


def run(n: int, kind: str, text: bool) -> list:
    script = CASE.format(src=SRC, n=n, kind=kind, text=text)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(quick: bool) -> None:
    import numpy as np
    n = 20_000 if quick else 1_000_000
    for text, kinds in ((False, ["pandas", "polars", "polars from_numpy"]),
                        (True, ["pandas", "polars", "polars Categorical"])):
        results = {kind: run(n, kind, text) for kind in kinds}
        reference = np.asarray(results["pandas"][4])
        rows = []
        for kind, (t_fit, m_fit, t_pred, m_pred, coef) in results.items():
            diff = float(np.max(np.abs(np.asarray(coef) - reference)) / np.max(np.abs(reference)))
            rows.append([kind, f"{t_fit:.2f}", f"{m_fit / 1e6:.0f}", f"{t_pred:.2f}",
                         f"{m_pred / 1e6:.0f}", f"{diff:.0e}"])
        what = ("20 numeric and 3 text columns (5, 50, 500 levels)" if text
                else "20 numeric columns")
        table(f"`fit(df, \"y\")` and `predict` on {n:,} rows × {what}",
              ["frame", "fit (s)", "fit: extra peak MB", "predict (s)",
               "predict: extra peak MB", "coef vs pandas (rel.)"], rows)


if __name__ == "__main__":
    main("--quick" in sys.argv)
