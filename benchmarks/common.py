"""Shared helpers for the benchmarks: timing, peak memory, and a markdown table.

Each ``benchmarks/bench_<topic>.py`` is a script with ``main(quick: bool)``; ``run.py`` runs them
all, one after another, in one process each (so peak-memory figures do not mix).
``--quick`` shrinks the data so that a run only checks that the script works.
"""

from __future__ import annotations

import gc
import os
import resource
import threading
import time

import numpy as np


def timed(fn, *args, repeat: int = 1, **kwargs):
    """(best seconds over ``repeat`` runs, last result)."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t0)
    return best, result


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_extra_memory(fn, *args, interval: float = 0.002, **kwargs):
    """(peak resident memory above the starting point, in bytes; result), sampled in a thread."""
    gc.collect()
    start = _rss_bytes()
    peak = [start]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(interval)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        result = fn(*args, **kwargs)
    finally:
        done.set()
        t.join()
    peak[0] = max(peak[0], _rss_bytes())
    return peak[0] - start, result


def max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def own_peak_rss_bytes() -> int:
    """The high-water mark of this process's own resident memory (``VmHWM``).  In a child
    process ``getrusage(...).ru_maxrss`` is not that: Linux carries the parent's peak over
    ``fork``/``exec`` into it."""
    with open("/proc/self/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith("VmHWM:"))) * 1024


def rel_diff(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(float).tiny))


def table(title: str, header: list[str], rows: list[list]) -> str:
    """A markdown table, printed and returned."""
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |",
             "|" + "---|" * len(header)]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    return text


def synthetic(n: int, d: int, k: int = 1, noise: float = 0.1, seed: int = 0, dtype=np.float64):
    """Dense well-conditioned data: X ~ N(0, 1) shifted, y = X w + 3 + noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    X += np.linspace(-1, 1, d).astype(dtype)
    w = rng.standard_normal((d, k)) if k > 1 else rng.standard_normal(d)
    y = X @ w + 3.0 + noise * rng.standard_normal((n, k) if k > 1 else n)
    return X, y, w
