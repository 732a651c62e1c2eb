"""Files read as the blocks of a table (``source.table_blocks``): speed and peak memory.

A penguins-like table of 1,000,000 rows: 3 text columns of 5, 50 and 500 levels (5% missing)
and 20 numeric columns (1% missing), as a CSV and as a Parquet file.  Each is read

* whole, by pyarrow alone (``pyarrow.csv.read_csv``, ``pyarrow.parquet.read_table``);
* through ``table_blocks`` of all 23 columns with ``chunk_rows=100_000`` (text columns
  become codes, numbers float64 with NaN), every block dropped once seen;

each in a fresh interpreter, whose peak resident memory (``VmHWM``, the whole process) is
reported next to that of an interpreter that only imports the libraries.

    python benchmarks/bench_table_sources.py            # 1,000,000 rows (written once to /tmp)
    python benchmarks/bench_table_sources.py --quick    # 20,000 rows
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
from common import table  # noqa: E402

LEVELS = (5, 50, 500)
NUMBERS = 20
SRC = str(Path(__file__).resolve().parents[1] / "src")


def write_files(n: int) -> tuple[str, str]:
    """The CSV and Parquet files of ``n`` rows, written once."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    stem = Path(tempfile.gettempdir()) / f"linreg_bench_table_{n}"
    csv_path, pq_path = f"{stem}.csv", f"{stem}.parquet"
    if os.path.exists(csv_path) and os.path.exists(pq_path):
        return csv_path, pq_path
    rng = np.random.default_rng(0)
    columns = {}
    for k in LEVELS:
        names = pa.array([f"level_{i:03d}" for i in range(k)])
        codes = pa.array(rng.integers(0, k, n), mask=rng.random(n) < 0.05)
        columns[f"text{k}"] = names.take(codes)
    for j in range(NUMBERS):
        columns[f"x{j}"] = pa.array(np.round(rng.standard_normal(n) * 10 + j, 4),
                                    mask=rng.random(n) < 0.01)
    data = pa.table(columns)
    pcsv.write_csv(data, csv_path)
    pq.write_table(data, pq_path)
    return csv_path, pq_path


def measure(code: str) -> tuple[float, float]:
    """(seconds of the timed part, peak resident MB) of ``code`` in a fresh interpreter."""
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {SRC!r})
        import numpy, pyarrow, pyarrow.csv, pyarrow.parquet, pyarrow.compute
        from linreg import sources
        t0 = time.perf_counter()
    """) + textwrap.dedent(code) + textwrap.dedent("""
        print("SECONDS", time.perf_counter() - t0)
        with open("/proc/self/status") as f:
            print("VMHWM", next(line.split()[1] for line in f if line.startswith("VmHWM:")))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    seconds = float(out.split("SECONDS")[-1].split()[0])
    return seconds, int(out.split("VMHWM")[-1].split()[0]) * 1024 / 1e6


def main(quick: bool) -> None:
    n = 20_000 if quick else 1_000_000
    csv_path, pq_path = write_files(n)
    names = [f"text{k}" for k in LEVELS] + [f"x{j}" for j in range(NUMBERS)]
    _, base = measure("pass")
    rows = []
    for label, path, whole in (("CSV", csv_path, "pyarrow.csv.read_csv"),
                               ("Parquet", pq_path, "pyarrow.parquet.read_table")):
        t_whole, m_whole = measure(f"t = {whole}({path!r}); n = t.num_rows")
        t_blocks, m_blocks = measure(f"""
            src = sources.from_file({path!r}, chunk_rows=100_000)
            n = 0
            for block in src.table_blocks({names!r}):
                n += block.n_rows
            assert n == {n}
        """)
        size = os.path.getsize(path) / 1e6
        rows.append([f"{label} ({size:.0f} MB)", f"`{whole}`, whole", f"{t_whole:.2f}",
                     f"{m_whole:.0f}", f"{m_whole - base:.0f}"])
        rows.append(["", "`table_blocks`, chunk_rows=100,000", f"{t_blocks:.2f} "
                     f"({t_blocks / t_whole:.1f}×)", f"{m_blocks:.0f}", f"{m_blocks - base:.0f}"])
    table(f"{n:,} rows: 3 text columns ({', '.join(map(str, LEVELS))} levels) and {NUMBERS} "
          f"numeric columns; an interpreter with the libraries imported: {base:.0f} MB",
          ["file", "read by", "seconds", "peak RSS (MB)", "above the imports (MB)"], rows)


if __name__ == "__main__":
    main("--quick" in sys.argv)
