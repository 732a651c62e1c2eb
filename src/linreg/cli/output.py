"""What the commands write: files (replaced atomically), tables of predictions, strict JSON,
the coefficient listing and figures."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np

from ..io import PARQUET_SUFFIXES
from ..sources.arrow import need_pyarrow
from .errors import CommandError

__all__ = ["MAX_LISTED", "write_output", "table_bytes", "dump_json", "jsonable",
           "print_coefficients", "coefficients_json", "save_figure"]

#: most coefficients a human-readable report lists before it says how many more there are
MAX_LISTED = 25


def write_output(path: str, data: bytes) -> None:
    from ..fileio import atomic_write_bytes

    target = Path(path)
    if not target.parent.exists():
        raise CommandError(f"cannot write {path}: the folder {str(target.parent)!r} does not exist")
    try:
        atomic_write_bytes(target, data)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}; any previous file there "
                           "is unchanged") from None


def table_bytes(columns: dict[str, np.ndarray], path: str | None, missing=()) -> bytes:
    """Predictions as CSV (floats written with round-trip precision), Parquet or .npy; a NaN
    in the columns ``missing`` is a missing value (``NA`` in a CSV file, as R writes it and
    pandas and linreg read it — an empty cell would be a blank line in a one-column file;
    null in Parquet; NaN in .npy)."""
    suffix = Path(path).suffix.lower() if path else ".csv"
    if suffix in PARQUET_SUFFIXES:
        need_pyarrow("Parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq
        buf = io.BytesIO()
        pq.write_table(pa.table({k: pa.array(v, from_pandas=True) for k, v in columns.items()}), buf)
        return buf.getvalue()
    text = [k for k, v in columns.items() if np.asarray(v).dtype.kind not in "biuf"]
    if suffix == ".npy":
        if text:
            raise CommandError(f"cannot write the text column(s) {', '.join(map(repr, text))} "
                               f"to {path}: a .npy file holds numbers; use .csv or .parquet")
        buf = io.BytesIO()
        np.save(buf, np.column_stack(list(columns.values())), allow_pickle=False)
        return buf.getvalue()
    # floats are written so that reading the file back gives exactly the same numbers:
    # pyarrow writes the shortest such text; without it, 17 significant digits
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
    except ImportError:
        if text:
            raise CommandError("writing text columns needs pyarrow: pip install "
                               "'linreg[files]'") from None
        M = np.column_stack([np.asarray(v, dtype=np.float64) for v in columns.values()])
        buf = io.StringIO()
        buf.write(",".join(columns) + "\n")
        np.savetxt(buf, M, delimiter=",", fmt="%.17g")
        return buf.getvalue().encode("utf-8")
    nulls = [k for k in missing if k not in text and np.isnan(np.asarray(columns[k], dtype=np.float64)).any()]
    out = io.BytesIO()
    pcsv.write_csv(pa.table({k: (pa.array(v, from_pandas=True) if k in text or k in nulls
                                 else np.asarray(v, dtype=np.float64))
                             for k, v in columns.items()}), out,
                   write_options=pcsv.WriteOptions(null_string="NA") if nulls else None)
    return out.getvalue()


def dump_json(obj, out) -> None:
    """Strict JSON (no NaN/Infinity: they become null) on ``out``."""
    out.write(json.dumps(jsonable(obj), indent=1, allow_nan=False) + "\n")


def jsonable(x):
    """numpy values and arrays as plain JSON values (non-finite floats as null)."""
    if isinstance(x, dict):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.floating, float)):
        x = float(x)
        return x if math.isfinite(x) else None
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    if x is None or isinstance(x, (str, int, bool)):
        return x
    if hasattr(x, "tolist"):  # e.g. a pandas Series
        return jsonable(x.tolist())
    return str(x)


def _coefficient_rows(model, names) -> list[tuple[str, str]]:
    coef = np.asarray(model.coef_)
    intercept = np.atleast_1d(model.intercept_)
    names = names or [f"x{j}" for j in range(coef.shape[-1])]
    if coef.ndim == 1:
        rows = [(n, f"{c:.10g}") for n, c in zip(names, coef, strict=True)]
        rows.append(("intercept", f"{intercept[0]:.10g}"))
    else:
        rows = [(n, "  ".join(f"{c:16.10g}" for c in coef[:, j])) for j, n in enumerate(names)]
        rows.append(("intercept", "  ".join(f"{c:16.10g}" for c in intercept)))
    return rows


def print_coefficients(model, names, out, largest: bool = False) -> None:
    """The coefficients, at most :data:`MAX_LISTED` of them, then the intercept: the first
    ones in order, or (``largest``, for a wide sparse design whose first columns say little)
    those largest in absolute value, largest first; then how many are not shown (``--json``
    lists them all)."""
    rows = _coefficient_rows(model, names)
    coefs, intercept = rows[:-1], rows[-1]
    hidden = len(coefs) - MAX_LISTED
    if largest and hidden > 0 and np.ndim(model.coef_) == 1:
        coef = np.asarray(model.coef_)
        out.write(f"  ({len(coef)} coefficients, {np.count_nonzero(coef)} not zero; the "
                  f"{MAX_LISTED} largest in absolute value:)\n")
        coefs = [coefs[j] for j in np.argsort(-np.abs(coef), kind="stable")]
    shown = coefs[:MAX_LISTED] + [intercept]
    width = max(len(r[0]) for r in shown)
    for name, value in shown[:-1]:
        out.write(f"  {name:<{width}}  {value}\n")
    if hidden > 0:
        out.write(f"  … {hidden} more (see --json)\n")
    out.write(f"  {intercept[0]:<{width}}  {intercept[1]}\n")


def coefficients_json(model, names) -> dict:
    coef = np.asarray(model.coef_)
    names = names or [f"x{j}" for j in range(coef.shape[-1])]
    if coef.ndim == 1:
        return {"coef": dict(zip(names, jsonable(coef), strict=True)), "intercept": jsonable(model.intercept_)}
    return {"coef": {n: jsonable(coef[:, j]) for j, n in enumerate(names)},
            "intercept": jsonable(model.intercept_)}


def save_figure(fig, path: str) -> None:
    from .. import plotting

    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf"):
        raise CommandError(f"cannot write a plot as {path!r}: use .png, .svg or .pdf")
    buf = io.BytesIO()
    fig.savefig(buf, format=suffix, dpi=plotting.DPI)
    write_output(path, buf.getvalue())
