"""In-memory tables (pandas, polars and pyarrow) as :class:`~linreg.tables.blocks.TableBlock`\\ s,
and the test of whether a table needs the encoding at all.

A polars DataFrame is read column by column without converting the frame: numeric columns
through ``Series.to_numpy()`` (no copy for a float64 column without nulls), the others through
Arrow (:mod:`linreg.sources.table_kinds`, which reads every Arrow dictionary and string type).
A polars ``Enum`` declares its levels (the first is the reference, as for a pandas
``category``); a polars ``Categorical`` does not (polars sorts it by its strings), so its
levels are sorted as text's are.  polars is never imported unless the data is polars."""

from __future__ import annotations

import numpy as np

from .blocks import Codes, TableBlock

__all__ = ["is_table", "table_block", "column_kind", "needs_encoding", "is_polars",
           "is_polars_frame", "check_polars_X", "polars_values", "drop_columns", "with_columns"]


def is_table(X) -> bool:
    """A pandas or polars DataFrame or a pyarrow Table (what the encoding reads in memory)."""
    module = type(X).__module__
    return ((module.startswith("pandas") and hasattr(X, "columns") and hasattr(X, "iloc"))
            or (module.startswith("pyarrow") and hasattr(X, "schema") and hasattr(X, "column"))
            or is_polars_frame(X))


def is_polars(obj) -> bool:
    """A polars DataFrame, LazyFrame or Series (recognised without importing polars)."""
    return type(obj).__module__.startswith("polars.")


def is_polars_frame(X) -> bool:
    """A polars DataFrame (not a LazyFrame: its rows do not exist until it is collected)."""
    return is_polars(X) and hasattr(X, "get_column") and hasattr(X, "schema")


def check_polars_X(X) -> None:
    """Refuse a polars LazyFrame or Series as ``X``, saying what to pass instead."""
    if not is_polars(X) or is_polars_frame(X):
        return
    if hasattr(X, "collect"):
        raise TypeError("X is a polars LazyFrame, a query whose rows do not exist yet: pass "
                        "X.collect() (a DataFrame), or write the rows to a Parquet file "
                        "(X.sink_parquet(path)) and fit linreg.sources.parquet(path, ...), "
                        "which reads it in blocks")
    if hasattr(X, "dtype"):
        raise ValueError(f"X is a polars Series ({X.name!r}): X is a table of features, "
                         "even of one: pass a DataFrame (X.to_frame())")


def polars_values(obj):
    """A polars Series or DataFrame as a NumPy array (nulls as NaN; a float64 Series
    without nulls without a copy); anything else unchanged."""
    if is_polars(obj) and hasattr(obj, "to_numpy"):
        return obj.to_numpy()
    return obj


def drop_columns(X, names: list):
    """The table ``X`` (pandas, polars, pyarrow) without the columns ``names`` it has."""
    present = [c for c in column_names(X) if c in set(names)]
    if not present:
        return X
    if _is_arrow(X):
        return X.drop_columns(present)
    if is_polars_frame(X):
        return X.drop(present)
    return X.drop(columns=[X.columns[column_names(X).index(c)] for c in present])


def with_columns(X, names: list, values: np.ndarray):
    """The table ``X`` with the columns ``values[:, j]`` named ``names[j]`` added last, in
    ``X``'s own library (a pandas frame gets a fresh default index)."""
    if _is_arrow(X):
        import pyarrow as pa
        for j, name in enumerate(names):
            X = X.append_column(name, pa.array(values[:, j]))
        return X
    if is_polars_frame(X):
        import polars as pl
        return X.with_columns([pl.Series(name, values[:, j]) for j, name in enumerate(names)])
    import pandas as pd
    return pd.concat([X.reset_index(drop=True), pd.DataFrame(values, columns=names)], axis=1)


def _is_arrow(X) -> bool:
    return type(X).__module__.startswith("pyarrow")


def column_names(X) -> list:
    return [str(c) for c in (X.schema.names if _is_arrow(X) else X.columns)]


def column_kind(X, name: str) -> str:
    """``"number"``, ``"bool"``, ``"category"``, ``"text"`` or ``"other"`` (dates, …)."""
    if is_polars_frame(X):
        return _polars_kind(X.schema[name])
    if _is_arrow(X):
        import pyarrow as pa
        t = X.schema.field(name).type
        if pa.types.is_dictionary(t):
            return "category"
        if pa.types.is_boolean(t):
            return "bool"
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            return "number"
        string_view = getattr(pa.types, "is_string_view", lambda _: False)
        if pa.types.is_string(t) or pa.types.is_large_string(t) or string_view(t):
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
    kinds = {}
    for name in names:
        kind = kinds[name] = column_kind(X, name)
        if kind == "other":
            dtype = (X.schema.field(name).type if _is_arrow(X) else X.schema[name]
                     if is_polars_frame(X) else _pandas(X, name).dtype)
            raise ValueError(f"column {name!r} has the type {dtype}, which linreg cannot use as "
                             "numbers or categories: convert it to numbers or text first")
    if is_polars_frame(X):
        return TableBlock(_polars_columns(X, kinds), X.height, first_row)
    columns = {name: (_arrow_column(X.column(name), kind) if _is_arrow(X)
                      else _pandas_column(_pandas(X, name), kind)) for name, kind in kinds.items()}
    n = X.num_rows if _is_arrow(X) else len(X)
    return TableBlock(columns, n, first_row)


def _polars_kind(dtype) -> str:
    """The kind of a polars column of ``dtype``: a ``Categorical`` is text (polars orders it
    by its strings: it declares no order), an ``Enum`` a category (its declared order), a
    column of nulls only (``Null``) numbers that are all missing."""
    import polars as pl
    if isinstance(dtype, pl.Enum):
        return "category"
    if dtype == pl.Boolean:
        return "bool"
    if dtype == pl.String or dtype == pl.Categorical:
        return "text"
    if dtype.is_numeric() or dtype == pl.Null:
        return "number"
    return "other"


def _polars_columns(X, kinds: dict) -> dict:
    """The columns of a polars DataFrame: numbers as float64 arrays (NaN where null or NaN;
    no copy for a float64 column without nulls), the others as codes read through Arrow one
    column at a time (its strings copied once, then dropped: never the frame converted)."""
    import polars as pl
    from ..sources.table_kinds import arrow_block
    columns = {}
    for name, kind in kinds.items():
        if kind == "number":
            col = X.get_column(name)
            columns[name] = (col if col.dtype == pl.Float64 else col.cast(pl.Float64)).to_numpy()
        else:
            columns[name] = arrow_block(X.select(name).to_arrow(), [name], {name: kind}, 0,
                                        None).columns[name]
    return columns


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
    the same.  Typed text (pandas ``string``, ``category``, Arrow and polars strings) is
    categories."""
    if _is_arrow(X) or is_polars_frame(X):
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
        idx = pc.fill_null(pc.cast(chunk.indices, pa.int64()), -1).to_numpy(zero_copy_only=False)
        lookup = np.asarray(local + [-1], dtype=np.int64)
        parts.append(lookup[idx])
    levels = list(index)
    return Codes(np.concatenate(parts), levels, declared=kind == "category")


def _py(value):
    return value.item() if isinstance(value, np.generic) else value
