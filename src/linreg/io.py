r"""Whole data files in memory: the chosen columns of a CSV, Parquet, ``.npy`` or ``.npz`` file
as float64 arrays, every value checked, every problem reported in one line that names the file,
the column and (where it applies) the line.

CSV and Parquet are read with pyarrow (multi-threaded, typed: the optional extra
``linreg[files]``); ``.npy``/``.npz`` with numpy and ``allow_pickle=False``.  For files bigger
than memory, stream them with :mod:`linreg.sources` instead.

Examples
--------
>>> import tempfile, os
>>> from linreg.io import read_table
>>> path = os.path.join(tempfile.mkdtemp(), "d.csv")
>>> _ = open(path, "w").write("id,a,y\n1,0.5,2\n2,1.5,4\n")
>>> t = read_table(path, target="y", drop="id")
>>> t.X.tolist(), t.y.tolist(), t.feature_names, t.target_names
([[0.5], [1.5]], [2.0, 4.0], ['a'], ['y'])
"""

from __future__ import annotations

import csv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["read_table", "Table", "DataFileError", "CSV_SUFFIXES", "PARQUET_SUFFIXES"]

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


class DataFileError(ValueError):
    """A data file cannot be used: the message names the file, the column and the line."""


@dataclass
class Table:
    """Columns read from a data file: features ``X`` (n, d), target ``y`` ((n,), (n, k) or
    None), sample ``weights`` ((n,) or None), and their names."""

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    target_names: list[str]
    path: str
    weights: np.ndarray | None = None
    weight_name: str | None = None


def _select(all_names: list[str], path: str, target: list[str] | None,
            features: list[str] | None, drop: list[str] | None,
            features_role: str = "a feature",
            weight: str | None = None) -> tuple[list[str], list[str]]:
    """Which columns are features and which targets; every name checked against the file."""
    seen = set()
    for name in all_names:
        if name in seen:
            raise DataFileError(f"{path}: the column name {name!r} appears more than once in the header")
        seen.add(name)

    def check(names, what):
        for name in names or ():
            if name not in seen:
                shown = ", ".join(map(repr, all_names[:30])) + (", …" if len(all_names) > 30 else "")
                raise DataFileError(f"{path} has no column {name!r} ({what}); its columns are: {shown}")

    check(target, "the target")
    check([weight] if weight is not None else None, "the sample weights")
    check(features, features_role)
    check(drop, "to drop")
    if features is not None and drop is not None:
        raise DataFileError("give features or drop, not both")
    target = target or []
    if features is None:
        excluded = set(target) | set(drop or ()) | {weight}
        features = [n for n in all_names if n not in excluded]
    both = [n for n in features if n in target]
    if both:
        raise DataFileError(f"column {both[0]!r} is both the target and a feature")
    if weight is not None and (weight in features or weight in target):
        role = "a feature" if weight in features else "the target"
        raise DataFileError(f"column {weight!r} is both the sample weights and {role}")
    if not features:
        raise DataFileError(f"{path}: no feature columns are left once the target and the dropped columns are removed")
    return features, target


def _require_pyarrow():
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise DataFileError("reading CSV and Parquet files needs pyarrow, an optional extra: "
                           "pip install 'linreg[files]'") from None


def _csv_header(path: Path) -> list[str]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            row = next(csv.reader(f), None)
    except UnicodeDecodeError:
        raise DataFileError(f"{path}: line 1 (the header) is not UTF-8 text; save the file as "
                           "UTF-8") from None
    except csv.Error as exc:
        raise DataFileError(f"{path}: line 1 (the header) cannot be read as CSV: {exc}") from None
    if row is None:
        raise DataFileError(f"{path}: the file is empty (it needs a header row of column names)")
    return row  # exactly as pyarrow names the columns (no stripping)


def _first_bad_csv_row(path: Path, header: list[str], columns: list[str]) -> str:
    """Find the first ragged row or non-numeric value (slow; only run after pyarrow failed)."""
    position = {name: j for j, name in enumerate(header)}
    index = {name: position[name] for name in columns}
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as f:
        reader = csv.reader(f)
        try:
            next(reader, None)
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    return (f"{path}: line {line} has {len(row)} fields but the header has "
                            f"{len(header)} (a ragged row)")
                for name, j in index.items():
                    text = row[j]
                    if text in _CSV_NULLS:
                        continue
                    try:
                        float(text)
                    except ValueError:
                        return (f"{path}: column {name!r} is not numeric: line {line} (data "
                                f"row {line - 1}) holds {text[:40]!r}")
        except csv.Error as exc:
            return f"{path}: line {reader.line_num + 1} is not valid CSV ({exc})"
    return ""


#: the texts pyarrow reads as a missing value (its default null_values)
_CSV_NULLS = {"", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
              "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null"}


def _csv_columns(path: Path):
    header = _csv_header(path)
    return header, lambda columns: _read_csv(path, header, columns)


def _read_csv(path: Path, header: list[str], columns: list[str]):
    import pyarrow as pa
    import pyarrow.csv as pcsv

    convert = pcsv.ConvertOptions(include_columns=columns,
                                  column_types={name: pa.float64() for name in columns})
    # a parse block must hold whole rows: widen it for very wide files (pyarrow's default,
    # 1 MB, is less than one row of a file with a few hundred thousand columns)
    header_bytes = sum(len(name.encode("utf-8")) + 1 for name in header)
    read = pcsv.ReadOptions(block_size=int(min(max(1 << 20, 16 * header_bytes), 1 << 30)))
    try:
        table = pcsv.read_csv(path, read_options=read, convert_options=convert)
    except pa.ArrowException as exc:
        located = _first_bad_csv_row(path, header, columns)
        raise DataFileError(located or f"{path}: {exc}") from None
    return table, table.num_rows


def _parquet_columns(path: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataFileError(f"{path} is not a readable Parquet file: {exc}") from None

    def get(columns):
        for name in columns:
            t = schema.field(name).type
            if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
                    or pa.types.is_decimal(t)):
                raise DataFileError(f"{path}: column {name!r} is not numeric (it holds {t})")
        try:
            table = pq.read_table(path, columns=columns)
        except (pa.ArrowException, OSError) as exc:
            raise DataFileError(f"{path} is not a readable Parquet file: {exc}") from None
        return table, table.num_rows

    return list(schema.names), get


def _npy_columns(path: Path):
    try:
        a = np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError) as exc:
        hint = " (linreg never loads pickled objects)" if "pickle" in str(exc) else ""
        raise DataFileError(f"{path} is not a readable .npy file: {exc}{hint}") from None
    if a.dtype.names:
        names = list(a.dtype.names)
        return names, lambda columns: ({n: a[n] for n in columns}, a.shape[0])
    if a.ndim != 2:
        raise DataFileError(f"{path} holds an array of shape {a.shape}; linreg reads a 2-D array "
                           "(rows × columns, named 0, 1, …) or a structured array with named fields")
    if a.dtype.kind not in "fiub":
        raise DataFileError(f"{path} holds {a.dtype} values, not numbers")
    names = [str(j) for j in range(a.shape[1])]
    return names, lambda columns: (a, a.shape[0])


def _npz_columns(path: Path):
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataFileError(f"{path} is not a readable .npz archive: {exc}") from None
    names = list(archive.files)

    def get(columns):
        arrays = {}
        for name in columns:
            try:
                a = archive[name]
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
                raise DataFileError(f"{path}: array {name!r} cannot be read safely: {exc}") from None
            if a.ndim != 1:
                raise DataFileError(f"{path}: array {name!r} has shape {a.shape}; a .npz data file "
                                   "holds one 1-D array per column")
            arrays[name] = a
        lengths = {len(a) for a in arrays.values()}
        if len(lengths) > 1:
            raise DataFileError(f"{path}: the columns have different lengths {sorted(lengths)} "
                               "(a ragged table)")
        return arrays, lengths.pop() if lengths else 0

    return names, get


def _matrix(data, names: list[str], n: int, path, line_offset: int) -> np.ndarray:
    """The columns ``names`` of ``data`` (a pyarrow Table, or a dict of numpy columns) as one
    row-major float64 array; a missing value or a non-numeric column is reported by name and
    row.  Row-major so that every result is bit for bit what the Python API gives on the
    usual row-major arrays."""
    M = np.empty((n, len(names)))
    if isinstance(data, np.ndarray):  # a plain 2-D .npy (memory-mapped): columns by index
        index = [int(name) for name in names]
        for start in range(0, n, 65536):  # whole rows at a time: one sequential read
            M[start:start + 65536] = data[start:start + 65536][:, index]
        return M
    if isinstance(data, dict):
        for j, name in enumerate(names):
            a = np.asarray(data[name])
            if a.dtype.kind not in "fiub":
                raise DataFileError(f"{path}: column {name!r} is not numeric (it holds {a.dtype})")
            M[:, j] = a
        return M
    import pyarrow as pa
    import pyarrow.compute as pc

    for name in names:
        column = data.column(name)
        if column.null_count:
            r = pc.index(pc.is_null(column), True).as_py()
            line = f" (line {r + 1 + line_offset})" if line_offset else ""
            raise DataFileError(f"{path}: column {name!r} has a missing value (empty, NA or NaN) "
                               f"at row {r + 1}{line}")
    table = data.select(names)
    if any(t != pa.float64() for t in table.schema.types):
        table = table.cast(pa.schema([pa.field(name, pa.float64()) for name in names]))
    # a record batch (~1 MB) at a time: the strided writes stay in cache (4× faster than
    # writing whole columns into a row-major array)
    start = 0
    for batch in table.to_batches():
        rows = batch.num_rows
        if rows:
            np.stack([c.to_numpy(zero_copy_only=False) for c in batch.columns], axis=1,
                     out=M[start:start + rows])
        start += rows
    return M


def _names(value) -> list[str] | None:
    if value is None or isinstance(value, list):
        return value
    return [value] if isinstance(value, str) else list(value)


def read_table(path, target=None, features=None, drop=None, need_target: bool = False,
               features_role: str = "a feature", max_columns: int | None = None,
               weight: str | None = None) -> Table:
    """Read the chosen columns of a CSV, Parquet, ``.npy`` or ``.npz`` file as float64.

    Parameters
    ----------
    path : str or Path
    target : list of str or None
        Target column names (one, or several for a multi-output model).
    features, drop : list of str or None
        The feature columns, or the columns to leave out (default: every other column).
    need_target : bool
        Whether the target must be present.
    features_role : str
        How an error message calls the feature list (e.g. "a feature the model needs").
    max_columns : int, optional
        Refuse, before reading any row, more chosen columns than this (e.g. more than the
        statistics of a fit can hold in memory).
    weight : str, optional
        A column of sample weights (never also a feature): finite, >= 0 and not all zero.

    Raises
    ------
    DataFileError
        With one line naming the file, the column and (where it applies) the row: for an
        empty file, an unknown column, a non-numeric value, a ragged row, a NaN or a missing
        value; for a negative weight, or weights that are zero in every row.
    """
    target, features, drop = (_names(target), _names(features), _names(drop))
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    if path.is_dir():
        raise DataFileError(f"{path} is a folder, not a data file")
    suffix = path.suffix.lower()
    line_offset = 0
    if suffix in CSV_SUFFIXES:
        _require_pyarrow()
        if path.stat().st_size == 0:
            raise DataFileError(f"{path}: the file is empty (it needs a header row of column names)")
        all_names, get = _csv_columns(path)
        line_offset = 1
    elif suffix in PARQUET_SUFFIXES:
        _require_pyarrow()
        all_names, get = _parquet_columns(path)
    elif suffix == ".npy":
        all_names, get = _npy_columns(path)
    elif suffix == ".npz":
        all_names, get = _npz_columns(path)
    else:
        raise DataFileError(f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}; "
                           "use .csv, .parquet, .npy or .npz")
    if need_target and not target:
        raise DataFileError("a target column is needed: the name of the column to predict")
    feature_names, target_names = _select(all_names, str(path), target, features, drop,
                                          features_role, weight)
    chosen = len(feature_names) + len(target_names)
    if max_columns is not None and chosen > max_columns:
        raise DataFileError(
            f"{path}: {chosen} columns are chosen, more than the {max_columns} whose "
            f"{max_columns}×{max_columns} statistics fit in this machine's memory; choose fewer "
            "columns (--features)")
    weight_names = [] if weight is None else [weight]
    columns, n = get(feature_names + target_names + weight_names)
    if n == 0:
        raise DataFileError(f"{path} has a header but no data rows")
    X = _matrix(columns, feature_names, n, path, line_offset)
    y = None
    if target_names:
        Y = _matrix(columns, target_names, n, path, line_offset)
        y = Y[:, 0].copy() if len(target_names) == 1 else Y
    w = None if weight is None else _matrix(columns, weight_names, n, path, line_offset)
    del columns
    _check_all_finite(X, feature_names, path, line_offset)
    if y is not None:
        _check_all_finite(y.reshape(n, -1), target_names, path, line_offset)
    if w is not None:
        _check_all_finite(w, weight_names, path, line_offset)
        w = _checked_weights(w[:, 0], weight, path, line_offset)
    return Table(X, y, feature_names, target_names, str(path), w, weight)


def _checked_weights(w: np.ndarray, name: str, path, line_offset: int) -> np.ndarray:
    """``w`` if every weight is >= 0 and one at least is positive; else the error names the
    column and the first negative row (or, for all zeros, the rows)."""
    negative = np.flatnonzero(w < 0)
    if negative.size:
        r = int(negative[0])
        line = f" (line {r + 1 + line_offset})" if line_offset else ""
        raise DataFileError(f"{path}: column {name!r} holds the sample weight {w[r]:g} at row "
                           f"{r + 1}{line}; sample weights must be >= 0")
    if not np.any(w > 0):
        lines = f" (lines {1 + line_offset}–{len(w) + line_offset})" if line_offset else ""
        raise DataFileError(f"{path}: column {name!r} of sample weights is zero in every row, "
                           f"rows 1–{len(w)}{lines}: there is nothing to fit")
    return w


def _check_all_finite(A: np.ndarray, names: list[str], path, line_offset: int) -> None:
    from .validation import first_nonfinite

    where = first_nonfinite(A)
    if where is None:
        return
    r, c = where
    kind = "NaN" if np.isnan(A[r, c]) else "an infinite value"
    line = f" (line {r + 1 + line_offset})" if line_offset else ""
    raise DataFileError(f"{path}: column {names[c]!r} has {kind} at row {r + 1}{line}; "
                       "linreg needs finite numbers (drop or impute missing values first)")
