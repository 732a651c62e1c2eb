"""Streaming a .npy file bigger than the memory budget: peak memory and speed.

* peak resident memory of ``fit(sources.npy(...))`` on a 4 GB file, measured in a fresh
  subprocess (its ``VmHWM``, the whole process: interpreter and libraries included), next
  to the in-memory fit of the same file;
* speed of the streamed closed form vs the in-memory closed form on the same, page-cached,
  data (target: ≥ 0.7×), with scikit-learn's in-memory ``LinearRegression`` as a peer;
* the passes ``solver="auto"`` makes over a file: one on well-conditioned data, and on an
  ill-conditioned file of the same size (κ ≈ 1e4) the statistics, the TSQR and the
  refinement passes of :mod:`linreg.refine`, each timed alone next to the plain
  (statistics) pass (target: a refinement pass ≤ 1× the plain pass);
* one refinement pass against one statistics pass on 800 MB files of 10, 30 and 100
  columns (wall-clock and CPU seconds).

``--quick`` uses a ~100 MB file and only checks that the script works.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from common import rel_diff, table, timed  # noqa: E402

D = 100


def write_npy(folder: str, n: int, d: int) -> tuple[str, str]:
    """X (n, d) float64 and y (n,) written block by block (never all in memory)."""
    xp, yp = os.path.join(folder, "X.npy"), os.path.join(folder, "y.npy")
    X = np.lib.format.open_memmap(xp, mode="w+", dtype=np.float64, shape=(n, d))
    y = np.lib.format.open_memmap(yp, mode="w+", dtype=np.float64, shape=(n,))
    rng = np.random.default_rng(0)
    w = rng.standard_normal(d)
    step = 250_000
    for s in range(0, n, step):
        m = min(step, n - s)
        block = rng.standard_normal((m, d)) + np.linspace(-1, 1, d)
        X[s:s + m] = block
        y[s:s + m] = block @ w + 3.0 + 0.1 * rng.standard_normal(m)
    X.flush()
    y.flush()
    del X, y
    return xp, yp


def write_ill_conditioned_npy(folder: str, n: int, d: int) -> tuple[str, str]:
    """X = Z·diag(10⁰ … 10⁻⁴)·Q + 1 with Z ~ N(0, 1) and Q a random rotation (so the column
    scaling cannot undo it: κ ≈ 1e4 after equilibration), y = X w + 0.1·noise; written block
    by block."""
    xp, yp = os.path.join(folder, "X_ill.npy"), os.path.join(folder, "y_ill.npy")
    X = np.lib.format.open_memmap(xp, mode="w+", dtype=np.float64, shape=(n, d))
    y = np.lib.format.open_memmap(yp, mode="w+", dtype=np.float64, shape=(n,))
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    mix = np.logspace(0, -4, d)[:, None] * Q
    w = rng.standard_normal(d)
    step = 250_000
    for s in range(0, n, step):
        m = min(step, n - s)
        block = rng.standard_normal((m, d)) @ mix + 1.0
        X[s:s + m] = block
        y[s:s + m] = block @ w + 0.1 * rng.standard_normal(m)
    X.flush()
    y.flush()
    del X, y
    return xp, yp


def counting_passes(source):
    """The source, counting the passes it makes over its files in ``source.passes`` (every
    pass reads through ``_chunks``)."""
    source.passes = 0
    read = source._chunks

    def counted(order):
        source.passes += 1
        return read(order)

    source._chunks = counted
    return source


def timed_cpu(fn, repeat: int) -> tuple[float, float]:
    """(best wall-clock seconds, best CPU seconds of this process, all threads) over
    ``repeat`` runs: the CPU time is the steadier figure on a machine others share."""
    import gc
    import time
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    return wall, cpu


def one_pass_each(paths: tuple[str, str], repeat: int) -> dict:
    """Wall and CPU seconds of one statistics pass (the plain streamed pass), one TSQR pass
    and one refinement pass (:func:`linreg.refine.normal_residual_pass`, exactly as a
    refinement step makes it) over the same ``.npy`` files."""
    from linreg import sources
    from linreg.design import Design
    from linreg.refine import normal_residual_pass
    from linreg.rows import SourceRows

    rows = SourceRows(sources.npy(*paths))
    stats = rows.stats()                 # (also loads the libraries and warms the page cache)
    design = Design(stats.mean_x.copy(), np.ones(stats.n_features), True, False)
    y_shift = stats.mean_y.copy()
    x = np.zeros((stats.n_features + 1, 1))
    normal_residual_pass(rows, design, y_shift, (x, x))      # compiles (or loads) the loop
    return {"statistics": timed_cpu(rows.stats, repeat),
            "TSQR": timed_cpu(lambda: rows.qr_factor(design, y_shift), repeat),
            "refinement": timed_cpu(lambda: normal_residual_pass(rows, design, y_shift, (x, x)),
                                    repeat)}


def refinement_rows(well: tuple[str, str], ill: tuple[str, str], repeat: int) -> list[list]:
    """Rows of the passes table: whole ``"auto"`` fits with their passes counted, and one
    pass of each kind timed alone on the ill-conditioned file."""
    from linreg import LinearRegression, sources

    def fit(paths):
        source = counting_passes(sources.npy(*paths))
        return LinearRegression().fit(source), source.passes

    t_well, (m_well, p_well) = timed(lambda: fit(well), repeat=repeat)
    t_ill, (m_ill, p_ill) = timed(lambda: fit(ill), repeat=repeat)
    each = one_pass_each(ill, repeat)
    plain_wall, plain_cpu = each["statistics"]
    r = m_ill.n_refinement_passes_

    def alone(name, what):
        wall, cpu = each[name]
        return [what, f"{wall:.2f} ({wall / plain_wall:.2f}× the plain pass; CPU "
                f"{cpu:.2f} s, {cpu / plain_cpu:.2f}×)", "1", "", ""]

    return [
        ["well-conditioned, `solver=\"auto\"` (normal equations)", f"{t_well:.2f}",
         f"{p_well} (target 1)", f"{m_well.n_refinement_passes_}", f"{m_well.condition_number_:.1f}"],
        [f"ill-conditioned, `solver=\"auto\"` → {m_ill.solver_}: statistics + TSQR + refinement",
         f"{t_ill:.2f}", f"{p_ill} (= 2 + {r})", f"{r}", f"{m_ill.condition_number_:.3g}"],
        alone("statistics", "one statistics pass alone (the plain streamed pass)"),
        alone("TSQR", "one TSQR pass alone"),
        alone("refinement", "one refinement pass alone (residuals and Aᵀr in double-double "
                            "arithmetic; target ≤ 1× the plain pass)"),
    ]


def width_rows(folder: str, values: int, widths: tuple, repeat: int) -> list[list]:
    """One refinement pass against one statistics pass on files of ``values`` numbers at
    each number of columns ``d``: the statistics cost O(d²) per row (BLAS), the refinement
    about 40 float64 operations per value, so its share grows as ``d`` shrinks."""
    out = []
    for d in widths:
        sub = os.path.join(folder, f"d{d}")
        os.mkdir(sub)
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, "
                        f"{os.path.dirname(os.path.abspath(__file__))!r}); from bench_streaming "
                        f"import write_npy; write_npy({sub!r}, {values // d}, {d})"], check=True)
        paths = (os.path.join(sub, "X.npy"), os.path.join(sub, "y.npy"))
        each = one_pass_each(paths, repeat)
        (sw, sc), (rw, rc) = each["statistics"], each["refinement"]
        out.append([f"{values // d:,} × {d}", f"{sw:.3f} / {sc:.3f}", f"{rw:.3f} / {rc:.3f}",
                    f"**{rw / sw:.2f}×** / {rc / sc:.2f}×"])
        for f in paths:
            os.remove(f)
        os.rmdir(sub)
    return out


def peak_rss_of(code: str) -> tuple[float, str]:
    """(peak resident memory of a fresh interpreter running ``code``, in MB; its stdout).

    The peak is the kernel's high-water mark of the process's own memory (``VmHWM``):
    ``getrusage(...).ru_maxrss`` would not do in a subprocess, as Linux carries the parent's
    peak over ``fork``/``exec`` into it.
    """
    script = code + textwrap.dedent("""
        with open("/proc/self/status") as f:
            print("VMHWM", next(line.split()[1] for line in f if line.startswith("VmHWM:")))
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    rss = int(out.split("VMHWM")[-1].split()[0]) * 1024
    return rss / 1e6, out


def main(quick: bool) -> None:
    n = 125_000 if quick else 5_000_000          # 100 MB / 4 GB of float64 at d = 100
    folder = tempfile.mkdtemp(prefix="linreg-bench-streaming-")
    try:
        # written by a subprocess, so this process's memory stays small
        subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, "
                        f"{os.path.dirname(os.path.abspath(__file__))!r}); from bench_streaming "
                        f"import write_npy; write_npy({folder!r}, {n}, {D})"], check=True)
        xp, yp = os.path.join(folder, "X.npy"), os.path.join(folder, "y.npy")
        size_mb = os.path.getsize(xp) / 1e6
        baseline, _ = peak_rss_of("import numpy, scipy, sklearn, linreg.sources, linreg")
        stream_rss, _ = peak_rss_of(textwrap.dedent(f"""
            from linreg import LinearRegression, sources
            LinearRegression().fit(sources.npy({xp!r}, {yp!r}))
        """))
        qr_rss, _ = peak_rss_of(textwrap.dedent(f"""
            from linreg import LinearRegression, sources
            LinearRegression(solver="qr").fit(sources.npy({xp!r}, {yp!r}))
        """))
        memory_rss, _ = peak_rss_of(textwrap.dedent(f"""
            import numpy as np
            from linreg import LinearRegression
            LinearRegression().fit(np.load({xp!r}), np.load({yp!r}))
        """))
        table(f"Peak resident memory, fit on a {size_mb:,.0f} MB .npy file (n={n:,}, d={D})",
              ["how", "peak RSS (MB)", "above a bare import (MB)", "target"],
              [["linreg, sources.npy (streamed)", f"{stream_rss:,.0f}",
                f"{stream_rss - baseline:,.0f}", "< 600 MB"],
               ["linreg, sources.npy, solver='qr' (streamed TSQR)", f"{qr_rss:,.0f}",
                f"{qr_rss - baseline:,.0f}", ""],
               ["linreg, np.load + fit (in memory)", f"{memory_rss:,.0f}",
                f"{memory_rss - baseline:,.0f}", ""],
               ["python + numpy + scipy + sklearn + linreg", f"{baseline:,.0f}", "0", ""]])

        from sklearn.linear_model import LinearRegression as SkLinearRegression

        from linreg import LinearRegression, sources
        X, y = np.load(xp), np.load(yp)             # in memory (and the file is page-cached)
        repeat = 3 if quick else 2
        t_mem, m_mem = timed(lambda: LinearRegression(solver="normal").fit(X, y), repeat=repeat)
        t_str, m_str = timed(lambda: LinearRegression(solver="normal").fit(sources.npy(xp, yp)),
                             repeat=repeat)
        t_qr, m_qr = timed(lambda: LinearRegression(solver="qr").fit(sources.npy(xp, yp)),
                           repeat=1)
        t_sk, m_sk = timed(lambda: SkLinearRegression().fit(X, y), repeat=1)
        table(f"Closed form, streamed vs in memory (n={n:,}, d={D}, page-cached file)",
              ["how", "seconds", "speed vs in-memory linreg", "max rel. diff of coef_"],
              [["linreg in memory, solver='normal'", f"{t_mem:.3f}", "1.00×", "—"],
               ["linreg sources.npy, solver='normal'", f"{t_str:.3f}", f"{t_mem / t_str:.2f}× "
                "(target ≥ 0.7×)", f"{rel_diff(m_str.coef_, m_mem.coef_):.1e}"],
               ["linreg sources.npy, solver='qr' (2 passes: statistics + TSQR)", f"{t_qr:.3f}",
                f"{t_mem / t_qr:.2f}×", f"{rel_diff(m_qr.coef_, m_mem.coef_):.1e}"],
               ["scikit-learn LinearRegression in memory", f"{t_sk:.3f}", f"{t_mem / t_sk:.2f}×",
                f"{rel_diff(m_sk.coef_, m_mem.coef_):.1e}"]])
        X = y = None                 # the arrays in memory are not needed any more
        write_ill = (f"import sys; sys.path.insert(0, "
                     f"{os.path.dirname(os.path.abspath(__file__))!r}); from bench_streaming "
                     f"import write_ill_conditioned_npy; write_ill_conditioned_npy({folder!r}, "
                     f"{n}, {D})")
        subprocess.run([sys.executable, "-c", write_ill], check=True)
        ill = (os.path.join(folder, "X_ill.npy"), os.path.join(folder, "y_ill.npy"))
        table(f"Passes over a {size_mb:,.0f} MB .npy file, solver='auto' (n={n:,}, d={D}, "
              "page-cached)",
              ["fit", "seconds", "passes over the file", "refinement passes", "condition number"],
              refinement_rows((xp, yp), ill, repeat=3))
        for f in (xp, yp) + ill:
            os.remove(f)
        values = 1_250_000 if quick else 100_000_000     # 10 MB / 800 MB of float64 per file
        table(f"One refinement pass vs one statistics pass by width ({values * 8 / 1e6:,.0f} MB "
              ".npy files, page-cached; seconds wall / CPU)",
              ["rows × columns", "statistics pass", "refinement pass", "ratio wall / CPU"],
              width_rows(folder, values, (10, 30, 100), repeat=3))
    finally:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main("--quick" in sys.argv)
