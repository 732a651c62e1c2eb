"""Input checks that say what is wrong and where."""

from __future__ import annotations

import math
import numbers
import os

import numpy as np

from .exceptions import bad_value

__all__ = ["first_nonfinite", "check_finite", "column_label", "check_choice",
           "check_nonnegative_float", "check_positive_int", "check_sample_weight",
           "most_columns", "name_list", "listed"]


def column_label(j: int, feature_names=None) -> str:
    if feature_names is not None and j < len(feature_names):
        return f"column {j} ({feature_names[j]!r})"
    return f"column {j}"


def listed(labels: list[str], limit: int = 10) -> str:
    """``a, b, c`` — at most ``limit`` of them, then how many more."""
    shown = ", ".join(labels[:limit])
    return shown if len(labels) <= limit else f"{shown} and {len(labels) - limit} more"


def name_list(value) -> list | None:
    """One name or several as a new list: ``None`` stays ``None``, a string ``s`` is ``[s]``,
    any other iterable of names is ``list(value)``."""
    if value is None:
        return None
    return [value] if isinstance(value, str) else list(value)


def first_nonfinite(A: np.ndarray, block_rows: int = 8192) -> tuple[int, int] | None:
    """(row, column) of the first NaN or ±inf in ``A`` (row-major order), or None.

    A whole-array sum finds the common all-finite case with no temporary array; only when it
    is not finite (which also happens when finite values overflow) are the blocks scanned.
    """
    if A.size == 0 or A.dtype.kind in "iub":
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(A.sum()):
            return None
    A2 = A.reshape(A.shape[0], -1)
    for start in range(0, A2.shape[0], block_rows):
        bad = ~np.isfinite(A2[start:start + block_rows])
        if bad.any():
            flat = int(np.argmax(bad))
            r, c = divmod(flat, bad.shape[1])
            return start + r, c
    return None


def check_finite(A: np.ndarray, name: str, feature_names=None) -> None:
    """Raise ``ValueError`` naming the first NaN/inf in ``A`` by row and column."""
    where = first_nonfinite(A)
    if where is None:
        return
    r, c = where
    value = A.reshape(A.shape[0], -1)[r, c]
    kind = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
    col = f", {column_label(c, feature_names)}" if A.ndim > 1 and (A.shape[1] > 1 or name == "X") else ""
    raise ValueError(f"{name} contains {kind} at row {r}{col}; linreg needs finite values "
                     "(drop or impute missing values first).")


def check_sample_weight(sample_weight, n_rows: int) -> np.ndarray:
    """Sample weights as a new float64 array of shape ``(n_rows,)``: one number means the
    same weight for every row.  Refuses a wrong shape, non-numbers, NaN/inf and negative
    weights, naming the row."""
    if isinstance(sample_weight, numbers.Real) and not isinstance(sample_weight, bool):
        return np.full(n_rows, float(sample_weight))
    try:
        w = np.array(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("sample_weight must be numbers (one per row), not "
                         f"{type(sample_weight).__name__}") from None
    if w.shape != (n_rows,):
        raise ValueError(f"sample_weight has shape {w.shape}; expected ({n_rows},): one weight "
                         "for each row of X")
    check_finite(w, "sample_weight")
    negative = np.flatnonzero(w < 0)
    if negative.size:
        r = int(negative[0])
        raise ValueError(f"Negative values in data passed to sample_weight: {float(w[r])!r} at row {r}; "
                         "weights must be >= 0")
    return w


def check_choice(name: str, value, choices) -> None:
    if not isinstance(value, str) or value not in choices:
        raise bad_value(name, value, f" is not one of {', '.join(map(repr, choices))}")


def check_nonnegative_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value < 0:
        raise bad_value(name, value, " must be a finite number >= 0")
    return float(value)


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise bad_value(name, value, f" must be an integer >= {minimum}")
    return int(value)


def check_fraction(name: str, value, example: str) -> float:
    """``value`` as a float strictly between 0 and 1; ``example`` ends the error message,
    e.g. ``"0.95 for 95% intervals"``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < 1:
        raise bad_value(name, value, f" must be a number strictly between 0 and 1 "
                                     f"(e.g. {example})")
    return float(value)


def most_columns() -> int | None:
    """Every solver starts from the (d+k)×(d+k) statistics of [X, y] (8 bytes each): the
    most columns whose statistics fit in this machine's memory (None if unknown)."""
    try:
        memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return int(math.isqrt(memory // 8))


def coefficient_names(model) -> list | None:
    """The name of each column of ``model.coef_``: the design's columns of a table or formula
    fit (``coef_names_``, e.g. ``species[T.Gentoo]``), else the input columns
    (``feature_names_in_``), else None."""
    names = getattr(model, "coef_names_", None)
    if names is None:
        names = getattr(model, "feature_names_in_", None)
    return None if names is None else [str(n) for n in names]
