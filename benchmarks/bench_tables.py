"""Tables with text columns and formulas: linreg against statsmodels' formula OLS.

A table of 20 numeric columns and 3 text columns of 5, 50 and 500 levels (572 coefficients
after treatment coding; 1% of the numbers and 5% of the text missing), fitted with
``y ~ x0 + … + x19 + text5 + text50 + text500``, rows with a missing value dropped:

* in memory, from a pandas DataFrame: ``LinearRegression(formula=…, missing="drop").fit(df)``
  against ``smf.ols(formula, df).fit()`` (patsy builds the dense design, statsmodels solves by
  a pseudo-inverse) — at the largest size statsmodels fits here, and linreg alone at
  1,000,000 rows; coefficients compared;
* from a Parquet file, end to end, each in a fresh interpreter: pyarrow's read plus the
  in-memory fit, the command line ``linreg fit FILE --formula …`` (whole file), and the same
  file streamed in blocks of 100,000 rows (peak resident memory of the whole process).

    python benchmarks/bench_tables.py            # 300,000 rows against statsmodels; 1,000,000 alone
    python benchmarks/bench_tables.py --full     # statsmodels at 1,000,000 rows too (~13 GB, minutes)
    python benchmarks/bench_tables.py --quick
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import peak_extra_memory, table, timed  # noqa: E402

LEVELS = (5, 50, 500)
NUMBERS = 20
ROOT = Path(__file__).resolve().parents[1]
SRC = str(ROOT / "src")
FORMULA = "y ~ " + " + ".join([f"x{j}" for j in range(NUMBERS)] + [f"text{k}" for k in LEVELS])


def write_file(n: int) -> str:
    """A Parquet file of ``n`` rows (written once)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = Path(tempfile.gettempdir()) / f"linreg_bench_formula_{n}.parquet"
    if path.exists():
        return str(path)
    rng = np.random.default_rng(0)
    columns, y = {}, rng.standard_normal(n)
    for k in LEVELS:
        codes = rng.integers(0, k, n)
        y += 0.1 * codes / k
        names = pa.array([f"level_{i:03d}" for i in range(k)])
        columns[f"text{k}"] = names.take(pa.array(codes, mask=rng.random(n) < 0.05))
    for j in range(NUMBERS):
        x = rng.standard_normal(n) * 10 + j
        y += 0.01 * (j + 1) * x
        columns[f"x{j}"] = pa.array(x, mask=rng.random(n) < 0.01)
    columns["y"] = pa.array(y)
    pq.write_table(pa.table(columns), path, row_group_size=100_000)
    return str(path)


def measure(code: str) -> tuple[float, float]:
    """(seconds of the timed part, peak resident MB) of ``code`` in a fresh interpreter."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {SRC!r})
        import numpy, pandas, pyarrow, pyarrow.parquet, formulaic
        import linreg
        from linreg import LinearRegression, sources
        # warm up (numba's compiled loops load from their cache): the timed part is the work
        warm = pandas.DataFrame({{"y": [1.0, 2.0, 4.0, 3.0], "x": [0.0, 1.0, 2.0, 4.0],
                                  "g": ["a", "b", "a", "b"]}})
        LinearRegression(formula="y ~ x + g").fit(warm).summary()
        t0 = time.perf_counter()
    """) + textwrap.dedent(code) + textwrap.dedent("""
        print("SECONDS", time.perf_counter() - t0)
        with open("/proc/self/status") as f:
            print("VMHWM", next(line.split()[1] for line in f if line.startswith("VmHWM:")))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    return (float(out.split("SECONDS")[-1].split()[0]),
            int(out.split("VMHWM")[-1].split()[0]) * 1024 / 1e6)


def process_seconds(args: list) -> float:
    """Wall seconds of ``python ARGS`` (a fresh interpreter, imports included), best of two."""
    import time
    env = {**os.environ, "PYTHONPATH": SRC}
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, *args], check=True, env=env, capture_output=True,
                       text=True)
        best = min(best, time.perf_counter() - t0)
    return best


def main(quick: bool, full: bool = False) -> None:
    import pandas as pd
    import statsmodels.formula.api as smf

    from linreg import LinearRegression

    n_big = 20_000 if quick else 1_000_000
    n_peer = 10_000 if quick else 300_000
    path = write_file(n_big)
    frame = pd.read_parquet(path)
    rows = []
    for n, with_peer in ((n_peer, True), (n_big, full)):
        df = frame.iloc[:n].copy()
        mem, (t_ours, model) = peak_extra_memory(
            lambda df=df: timed(lambda: LinearRegression(formula=FORMULA, missing="drop").fit(df)))
        dense = df.dropna().shape[0] * (len(model.coef_) + 1) * 8 / 1e6
        t_summary, _ = timed(model.summary)
        row = [f"{n:,}", f"{len(model.coef_) + 1}", f"{t_ours:.2f}", f"{mem / 1e6:.0f}",
               f"{dense:.0f}", f"{t_summary:.2f}"]
        if with_peer:
            peer_mem, (t_peer, ref) = peak_extra_memory(
                lambda df=df: timed(lambda: smf.ols(FORMULA, df).fit()))
            ours = np.r_[model.intercept_, model.coef_]
            assert list(ref.params.index[1:]) == model.coef_names_
            # the largest difference, in standard errors of the coefficient
            diff = np.max(np.abs(ours - ref.params.to_numpy()) / ref.bse.to_numpy())
            row += [f"{t_peer:.1f}", f"{peer_mem / 1e6:.0f}", f"**{t_peer / t_ours:.0f}×**",
                    f"{diff:.1e}"]
        else:
            row += ["(not run)", "", "", ""]
        rows.append(row)
    table(f"In memory, from a pandas DataFrame (`{FORMULA[:40]}…`, rows with a missing value "
          "dropped)", ["rows", "parameters", "linreg fit s", "linreg extra MB",
                       "dense design MB", "linreg summary() s", "statsmodels fit s", "statsmodels extra MB",
                       "speed-up", "max |Δ params| / s.e."], rows)

    t_read_fit, m_read_fit = measure(f"""
        df = pyarrow.parquet.read_table({path!r}).to_pandas()
        LinearRegression(formula={FORMULA!r}, missing="drop").fit(df)
    """)
    t_whole, m_whole = measure(f"""
        LinearRegression(formula={FORMULA!r}, missing="drop").fit(
            sources.parquet({path!r}, target=None, chunk_rows=None))
    """)
    t_stream, m_stream = measure(f"""
        LinearRegression(formula={FORMULA!r}, missing="drop").fit(
            sources.parquet({path!r}, target=None, chunk_rows=100_000))
    """)
    # end to end, as a user runs them: a whole process each, imports included
    t_cli = process_seconds(["-m", "linreg", "fit", path, "--formula", FORMULA, "--missing",
                             "drop", "--quiet"])
    t_script = process_seconds(["-c", textwrap.dedent(f"""
        import pyarrow.parquet
        from linreg import LinearRegression
        df = pyarrow.parquet.read_table({path!r}).to_pandas()
        LinearRegression(formula={FORMULA!r}, missing="drop").fit(df)
    """)])
    table(f"From a Parquet file of {n_big:,} rows ({os.path.getsize(path) / 1e6:.0f} MB), each in "
          "a fresh interpreter (peak RSS of the whole process)",
          ["how", "seconds", "peak RSS (MB)"],
          [["pyarrow read + to_pandas + in-memory fit", f"{t_read_fit:.2f}", f"{m_read_fit:.0f}"],
           ["the source read whole (`chunk_rows=None`)", f"{t_whole:.2f} "
            f"({t_whole / t_read_fit:.2f}×)", f"{m_whole:.0f}"],
           ["the source streamed, `chunk_rows=100_000`", f"{t_stream:.2f} "
            f"({t_stream / t_read_fit:.2f}×)", f"{m_stream:.0f}"],
           ["a script: pyarrow read + in-memory fit (whole process, imports included)",
            f"{t_script:.2f}", ""],
           ["`linreg fit FILE --formula … --missing drop` (whole command: also the training "
            "R², RMSE, MAE)", f"{t_cli:.2f} ({t_cli / t_script:.2f}× the script)", ""]])


if __name__ == "__main__":
    main("--quick" in sys.argv, "--full" in sys.argv)
