"""svmlight / libsvm text files: parse rates and one streamed ``sgd`` epoch against Vowpal
Wabbit's one pass over its own text format, written from the same rows.

    python benchmarks/bench_svmlight.py            # 1,000,000 × 20,000, 20 non-zeros a row;
                                                   # then sgd over a 2 GB file: peak RSS
    python benchmarks/bench_svmlight.py --quick    # 20,000 rows: checks the script works

Candidates for reading the file: scikit-learn's ``load_svmlight_file`` (whole file), pyarrow's
CSV reader with each line as one field then split by pyarrow compute, and linreg's compiled
parser (``sources.svmlight``: one pass over its blocks).  Then whole fits as a user runs them:
``LinearRegression(solver="sgd", max_iter=1).fit(sources.svmlight(path))``, the same on raw
features with a fixed rate and the width given (``standardize=False``,
``learning_rate=0.5/mean ‖x‖²`` computed once outside the timing, ``n_features=d``: the epoch
parses the file, and the loss pass after it takes the blocks the fit kept in memory — up to
``keep_bytes``, 128 MiB, about half of this file's — and parses only the others), and
``vowpalwabbit.Workspace("-d FILE --passes 1 --quiet")`` (its driver learns over the file when
the workspace is made; ``finish()`` ends it), in three rounds side by side (each time the best
of its three, the range in brackets).  The title gives the load average.  The files are
written under /tmp and deleted.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from numba import njit

sys.path.insert(0, os.path.dirname(__file__))
from common import own_peak_rss_bytes  # noqa: E402

ROWS, COLUMNS, PER_ROW = 1_000_000, 20_000, 20
#: rounds of the whole fits, side by side
ROUNDS = 3


@njit(cache=True)
def _write_int(out, at, v):
    if v == 0:
        out[at] = 48
        return at + 1
    start = at
    while v > 0:
        out[at] = 48 + v % 10
        v //= 10
        at += 1
    out[start:at] = out[start:at][::-1].copy()
    return at


@njit(cache=True)
def _write_fixed(out, at, v):
    """``v`` with four decimals (what a tool exporting features typically writes)."""
    if v < 0:
        out[at] = 45
        at += 1
        v = -v
    q = int(round(v * 10000.0))
    at = _write_int(out, at, q // 10000)
    out[at] = 46
    at += 1
    frac = q % 10000
    for p in (1000, 100, 10, 1):
        out[at] = 48 + (frac // p) % 10
        at += 1
    return at


@njit(cache=True)
def _rows_text(seed, first, m, d, per_row, true_coef, vw):
    np.random.seed(seed + first)
    out = np.empty(m * (per_row * 18 + 24), dtype=np.uint8)
    at = 0
    for _ in range(m):
        cols = np.empty(per_row, dtype=np.int64)
        t = 0
        while t < per_row:           # distinct columns, drawn until there are enough
            c = np.random.randint(0, d)
            if c not in cols[:t]:
                cols[t] = c
                t += 1
        cols.sort()
        vals = np.empty(per_row)
        y = 0.0
        for t in range(per_row):
            vals[t] = round(np.random.standard_normal() * 10000.0) / 10000.0
            y += vals[t] * true_coef[cols[t]]
        y += 0.1 * np.random.standard_normal()
        at = _write_fixed(out, at, y)
        if vw:
            out[at] = 32
            out[at + 1] = 124      # "|"
            at += 2
        for t in range(per_row):
            out[at] = 32
            at = _write_int(out, at + 1, cols[t] + 1)
            out[at] = 58
            at = _write_fixed(out, at + 1, vals[t])
        out[at] = 10
        at += 1
    return out[:at]


def write_files(folder: str, n: int, d: int, per_row: int, seed: int = 0,
                vw: bool = True) -> tuple:
    """An svmlight file (one-based) and, with ``vw``, the same rows in Vowpal Wabbit's
    format (``label | index:value …``); written 50,000 rows at a time."""
    coef = np.random.default_rng(seed).normal(size=d)
    svm = os.path.join(folder, "data.svm")
    vwp = os.path.join(folder, "data.vw")
    with open(svm, "wb") as fs, open(vwp if vw else os.devnull, "wb") as fv:
        for first in range(0, n, 50_000):
            m = min(50_000, n - first)
            fs.write(_rows_text(seed, first, m, d, per_row, coef, False).tobytes())
            if vw:
                fv.write(_rows_text(seed, first, m, d, per_row, coef, True).tobytes())
    return svm, (vwp if vw else None)


def timed(fn, repeat: int = 1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def parse_sklearn(path, d):
    from sklearn.datasets import load_svmlight_file
    X, y = load_svmlight_file(path, n_features=d)
    return X.nnz


def parse_pyarrow(path, d):
    """Each line one string field (a delimiter that never occurs), split by pyarrow compute:
    tokens by blanks, the label the first, the rest ``index:value`` split at the colon."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(column_names=["line"]),
                          parse_options=pcsv.ParseOptions(delimiter="\x01", quote_char=False),
                          convert_options=pcsv.ConvertOptions(column_types={"line": pa.string()}))
    nnz = 0
    for chunk in table.column("line").chunks:
        tokens = pc.split_pattern(chunk, " ")
        labels = pc.cast(pc.list_element(tokens, 0), pa.float64())
        pairs = pc.list_slice(tokens, 1)
        flat = pc.list_flatten(pairs)
        parts = pc.split_pattern(flat, ":")
        index = pc.cast(pc.list_element(parts, 0), pa.int32())
        value = pc.cast(pc.list_element(parts, 1), pa.float64())
        indptr = pc.list_value_length(pairs)
        nnz += len(value)
        del labels, index, indptr
    return nnz


def parse_linreg(path, d):
    from linreg import sources
    return sum(X.nnz for X, _, _ in sources.svmlight(path, n_features=d).blocks())


def fit_linreg(path):
    from linreg import LinearRegression, sources
    return LinearRegression(solver="sgd", max_iter=1).fit(sources.svmlight(path))


def step_size(path, d) -> float:
    """0.5 / mean ‖x_i‖² (as benchmarks/bench_stochastic_wide.py): a fixed rate, computed
    once, outside the timing."""
    from linreg import sources
    squares, n = 0.0, 0
    for X, _, _ in sources.svmlight(path, n_features=d).blocks():
        squares += float(X.data @ X.data)
        n += X.shape[0]
    return 0.5 * n / squares


def fit_linreg_raw(path, d, lr):
    """Raw features and a fixed rate, ``n_features`` given: no pass before the epoch (the
    starting values come with the loss pass after it), which reuses the blocks kept in
    memory (``keep_bytes``) and parses the rest of the file again."""
    from linreg import LinearRegression, sources
    return LinearRegression(solver="sgd", max_iter=1, standardize=False,
                            learning_rate=lr).fit(sources.svmlight(path, n_features=d))


def fit_vw(path):
    import vowpalwabbit
    ws = vowpalwabbit.Workspace(f"-d {path} --passes 1 --quiet")
    ws.finish()
    return ws


def rss_child(path: str, lr: str | None = None) -> None:
    """Run in a child process: one streamed sgd epoch over ``path`` (with ``lr``: on raw
    features at that rate, the width given), then print peak RSS."""
    t = time.perf_counter()
    if lr is None:
        fit_linreg(path)
    else:
        fit_linreg_raw(path, COLUMNS, float(lr))
    took = time.perf_counter() - t
    peak = own_peak_rss_bytes() / 2**20        # not ru_maxrss: it holds the parent's peak
    print(f"{took:.2f} {peak:.0f}")


def main(argv: list) -> None:
    import warnings

    from linreg import ConvergenceWarning
    warnings.simplefilter("ignore", ConvergenceWarning)     # one epoch, on purpose
    if argv[:1] == ["--rss-child"]:
        rss_child(*argv[1:3])
        return
    quick = "--quick" in argv
    n = 20_000 if quick else ROWS
    d, per_row = (2_000, PER_ROW) if quick else (COLUMNS, PER_ROW)
    folder = tempfile.mkdtemp(prefix="linreg-svmlight-")
    try:
        svm, vwp = write_files(folder, n, d, per_row)
        size = os.path.getsize(svm) / 1e6
        print(f"# svmlight: {n:,} rows × {d:,} columns, {per_row} non-zeros a row, "
              f"{size:.0f} MB ({os.path.getsize(vwp) / 1e6:.0f} MB in VW's format); load "
              f"average {os.getloadavg()[0]:.2f}\n")
        parse_linreg(svm, d)          # compile once (cached on disk afterwards)
        fit_linreg(svm)
        lr = step_size(svm, d)
        fit_linreg_raw(svm, d, lr)
        print("| reader | seconds | MB/s |\n|---|---:|---:|")
        for name, fn in (("scikit-learn load_svmlight_file", parse_sklearn),
                         ("pyarrow CSV (line as one field) + compute split", parse_pyarrow),
                         ("linreg sources.svmlight (compiled, blocks)", parse_linreg)):
            seconds, _ = timed(lambda fn=fn: fn(svm, d))
            print(f"| {name} | {seconds:.2f} | {size / seconds:.0f} |")
        # the fits side by side in rounds (a burst of load on a shared machine hits all of
        # them): the best of each, the range in brackets
        fits = [("linreg fit(sources.svmlight(path)), sgd, max_iter=1", lambda: fit_linreg(svm)),
                ("linreg fit(sources.svmlight(path, n_features=d)), sgd, max_iter=1, "
                 f"standardize=False, learning_rate=0.5/mean ‖x‖² = {lr:.3g}",
                 lambda: fit_linreg_raw(svm, d, lr))]
        try:
            import vowpalwabbit  # noqa: F401
            fits.append(("Vowpal Wabbit -d FILE --passes 1", lambda: fit_vw(vwp)))
        except ImportError:
            pass
        times = {name: [] for name, _ in fits}
        paths = {}
        for _ in range(ROUNDS):
            for name, fn in fits:
                seconds, out = timed(fn)
                times[name].append(seconds)
                paths[name] = getattr(out, "training_path_", None)
        print(f"\n| one pass of learning (best of {ROUNDS} rounds) | seconds |\n|---|---:|")
        for name, _ in fits:
            t = times[name]
            path = f" (training_path_={paths[name]!r})" if paths[name] else ""
            print(f"| {name}{path} | {min(t):.2f} [{min(t):.2f}–{max(t):.2f}] |")
        if len(fits) < 3:
            print("| Vowpal Wabbit | not installed (pip install linreg[bench]) |")
    finally:
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)
    rss_section(quick, lr)


def rss_section(quick: bool, lr: float) -> None:
    """A 2 GB svmlight file (quick: ~20 MB) through one streamed sgd epoch, in a fresh
    process: its peak resident memory."""
    n = 70_000 if quick else 7_600_000
    folder = tempfile.mkdtemp(prefix="linreg-svmlight-rss-", dir="/tmp")
    try:
        svm, _ = write_files(folder, n, COLUMNS, PER_ROW, seed=1, vw=False)
        size = os.path.getsize(svm) / 1e9
        print("\n| file | fit | sgd, one epoch | peak RSS of the process |\n|---|---|---:|---:|")
        for name, extra in (("default", []), ("raw features, fixed rate, width given", [repr(lr)])):
            out = subprocess.run([sys.executable, __file__, "--rss-child", svm] + extra,
                                 check=True, capture_output=True, text=True).stdout.split()
            print(f"| {size:.2f} GB, {n:,} rows × {COLUMNS:,} | {name} | {float(out[0]):.1f} s | "
                  f"{float(out[1]):.0f} MB |")
    finally:
        for name in os.listdir(folder):
            os.remove(os.path.join(folder, name))
        os.rmdir(folder)


if __name__ == "__main__":
    main(sys.argv[1:])
