"""In-memory tables (pandas and pyarrow) as :class:`~linreg.tables.blocks.TableBlock`\\ s, and
the test of whether a table needs the encoding at all."""

from __future__ import annotations

import numpy as np

from .blocks import Codes, TableBlock

__all__ = ["is_table", "table_block", "column_kind", "needs_encoding"]


def is_table(X) -> bool:
    """A pandas DataFrame or a pyarrow Table (what the encoding reads in memory)."""
    module = type(X).__module__
    return ((module.startswith("pandas") and hasattr(X, "columns") and hasattr(X, "iloc"))
            or (module.startswith("pyarrow") and hasattr(X, "schema") and hasattr(X, "column")))


def _is_arrow(X) -> bool:
    return type(X).__module__.startswith("pyarrow")


def column_names(X) -> list:
    return [str(c) for c in (X.schema.names if _is_arrow(X) else X.columns)]


def column_kind(X, name: str) -> str:
    """``"number"``, ``"bool"``, ``"category"``, ``"text"`` or ``"other"`` (dates, …)."""
    if _is_arrow(X):
        import pyarrow as pa
        t = X.schema.field(name).type
        if pa.types.is_dictionary(t):
            return "category"
        if pa.types.is_boolean(t):
            return "bool"
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            return "number"
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return "text"
        return "other"
    import pandas as pd
    col = _pandas(X, name)
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "category"
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_numeric_dtype(dtype):
        return "number"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "text"
    return "other"


def needs_encoding(X) -> bool:
    """Whether a table has a column that is not plain numbers (text, booleans, categories) or
    a missing value a float column cannot hold as NaN: then it goes through the encoding."""
    if not is_table(X):
        return False
    return any(column_kind(X, c) != "number" for c in column_names(X))


def table_block(X, names: list | None = None, first_row: int = 0) -> TableBlock:
    """The columns ``names`` (all by default) of an in-memory table as one block."""
    names = column_names(X) if names is None else names
    columns = {}
    for name in names:
        kind = column_kind(X, name)
        if kind == "other":
            dtype = X.schema.field(name).type if _is_arrow(X) else _pandas(X, name).dtype
            raise ValueError(f"column {name!r} has the type {dtype}, which linreg cannot use as "
                             "numbers or categories: convert it to numbers or text first")
        columns[name] = (_arrow_column(X.column(name), kind) if _is_arrow(X)
                         else _pandas_column(_pandas(X, name), kind))
    n = X.num_rows if _is_arrow(X) else len(X)
    return TableBlock(columns, n, first_row)


def number_like(level) -> bool:
    """A level that reads as a finite number (``"3.5"``, ``2``): in a column of text, a sign
    that the column is numbers with a stray word in it, not categories."""
    if isinstance(level, (bool, np.bool_)):
        return False
    if isinstance(level, (int, float, np.integer, np.floating)):
        return bool(np.isfinite(level))
    try:
        return bool(np.isfinite(float(level)))
    except (TypeError, ValueError):
        return False


def check_untyped_text(X, block: TableBlock, names: list) -> None:
    """Refuse a column of Python objects (what ``pandas.read_csv`` makes of a numeric column
    with a stray word in it) whose values are partly numbers: the message names the first
    value that is not a number and its row, and how to use the values as categories all
    the same.  Typed text (pandas ``string``, ``category``, Arrow strings) is categories."""
    if _is_arrow(X):
        return
    import pandas as pd
    for name in names:
        col = block.columns.get(name)
        if not isinstance(col, Codes) or not pd.api.types.is_object_dtype(_pandas(X, name).dtype):
            continue
        numbers = [number_like(v) for v in col.levels]
        if any(numbers) and not all(numbers):
            bad = [i for i, is_number in enumerate(numbers) if not is_number]
            r = int(np.flatnonzero(np.isin(col.codes, bad))[0])
            raise ValueError(
                f"column {name!r} mixes numbers and text: {col.levels[col.codes[r]]!r} at "
                f"{block.locate(r)} is not a number. If the column is numbers, fix or drop "
                f"that value; if its values are categories, say so in a formula: "
                f"formula='... ~ C({name}) + ...'")


def _pandas(X, name: str):
    """The pandas column whose label reads ``name`` (labels may be numbers)."""
    labels = [str(c) for c in X.columns]
    return X.iloc[:, labels.index(name)]


def _pandas_column(col, kind: str):
    import pandas as pd
    if kind == "number":
        return col.to_numpy(dtype=np.float64, na_value=np.nan)
    if kind == "category":
        return Codes(np.asarray(col.cat.codes, dtype=np.int64),
                     [_py(v) for v in col.cat.categories], declared=True)
    codes, uniques = pd.factorize(col, use_na_sentinel=True)
    return Codes(np.asarray(codes, dtype=np.int64), [_py(v) for v in uniques])


def _arrow_column(col, kind: str):
    import pyarrow as pa
    import pyarrow.compute as pc
    if kind == "number":
        return pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False)
    if kind != "category":
        col = pc.dictionary_encode(col)
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    if not chunks:
        return Codes(np.empty(0, dtype=np.int64), [])
    index, parts = {}, []
    for chunk in chunks:
        local = [index.setdefault(v, len(index)) for v in chunk.dictionary.to_pylist()]
        idx = pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        lookup = np.asarray(local + [-1], dtype=np.int64)
        parts.append(lookup[idx])
    levels = list(index)
    return Codes(np.concatenate(parts), levels, declared=kind == "category")


def _py(value):
    return value.item() if isinstance(value, np.generic) else value
