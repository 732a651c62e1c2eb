"""The arrays the compiled kernels read, each given as one type whatever the caller's flags.

numba compiles a kernel once per combination of its arguments' types, and an array's type
includes whether it is writable: the same rows as a NumPy array (writable), a memory map of
an ``.npy`` file or an Arrow buffer (read-only) would each compile — and cache — a version of
every kernel they reach, several seconds each.  The kernels never write to their inputs, so
their inputs are handed over as read-only views (no copy): one version serves both.
"""

from __future__ import annotations

import numpy as np

__all__ = ["read_only"]


def read_only(a: np.ndarray) -> np.ndarray:
    """``a`` itself if it is read-only, else a read-only view of it (no copy)."""
    if not a.flags.writeable:
        return a
    view = a.view()
    view.flags.writeable = False
    return view
