"""Columns of any kind, read as the blocks of a table (:class:`~linreg.tables.blocks.TableBlock`).

Every column a table uses is one of four kinds:

* ``"number"``: integers, floats, decimals; a block gives them as float64, NaN where missing;
* ``"text"``: strings; a block gives them as :class:`~linreg.tables.blocks.Codes` into the
  distinct strings of the block, ``-1`` where missing;
* ``"bool"``: booleans; :class:`~linreg.tables.blocks.Codes` into ``[False, True]`` (those
  the block holds), ``-1`` where missing;
* ``"category"``: a column that declares its levels (an Arrow dictionary column, a pandas
  ``category`` written to Parquet or Feather): :class:`~linreg.tables.blocks.Codes` into the
  declared levels in their declared order (``declared=True``).

A column of any other type (dates and times in Parquet/Feather, binary, nested, complex
numbers) is of kind ``"other"``: :meth:`~linreg.sources.columns.ColumnSource.column_kinds`
says so, and a table cannot read it.

Codes come from Arrow's hashing (``dictionary_encode``) or from the dictionary an Arrow column
already has, NumPy's ``unique`` for ``.npy``/``.npz`` columns: never a Python object per row.
"""

from __future__ import annotations

import numpy as np

from ..tables.blocks import Codes, TableBlock
from .base import MalformedDataError

__all__ = ["KINDS", "OTHER", "arrow_block", "arrow_kind", "numpy_codes", "numpy_kind",
           "refuse_other"]

#: the kinds of column a table reads
KINDS = ("number", "text", "bool", "category")
#: the kind of a column a table cannot read
OTHER = "other"


def arrow_kind(t) -> str:
    """The kind of a column of Arrow type ``t`` (a column of nulls only is ``"number"``)."""
    import pyarrow as pa
    types = pa.types
    if types.is_integer(t) or types.is_floating(t) or types.is_decimal(t) or types.is_null(t):
        return "number"
    if types.is_boolean(t):
        return "bool"
    string_view = getattr(types, "is_string_view", lambda _: False)
    if types.is_string(t) or types.is_large_string(t) or string_view(t):
        return "text"
    if types.is_dictionary(t):
        return "category"
    return OTHER


def numpy_kind(dtype: np.dtype) -> str:
    """The kind of a NumPy column of ``dtype``."""
    if dtype.fields is not None:
        return OTHER
    return {"f": "number", "i": "number", "u": "number", "b": "bool", "U": "text",
            "S": "text"}.get(dtype.kind, OTHER)


def refuse_other(kinds: dict, types: dict, where: str) -> None:
    """Raise :class:`MalformedDataError` for the first column of kind ``"other"``, naming its
    type (``types``: column → the type to show)."""
    for name, kind in kinds.items():
        if kind == OTHER:
            raise MalformedDataError(
                f"{where}: column {name!r} holds {types[name]}, which a table reads neither as "
                "numbers nor as categories; leave it out, or convert it to numbers or text "
                "first")


def arrow_block(data, names: list, kinds: dict, first_row: int, where) -> TableBlock:
    """The columns ``names`` of a pyarrow Table or RecordBatch as a :class:`TableBlock`.

    Parameters
    ----------
    data : pyarrow.Table or pyarrow.RecordBatch
    names : list of str
    kinds : dict
        The kind of each column (:data:`KINDS`); a column's Arrow type must be one its kind
        converts from (a ``"number"`` column: any type that casts to float64).
    first_row : int
        The global data-row number of the first row.
    where : callable
        ``where(r)``: where row ``r`` of the block is, in words.
    """
    columns = {}
    for name in names:
        col = data.column(name)
        kind = kinds[name]
        if kind == "number":
            columns[name] = _numbers(col)
        else:
            columns[name] = _codes(col, declared=kind == "category")
    return TableBlock(columns, data.num_rows, first_row, where)


def _numbers(col) -> np.ndarray:
    """An Arrow column as a writable float64 array, NaN where a value is missing."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if col.type != pa.float64():
        col = pc.cast(col, pa.float64(), safe=False)   # a big integer rounds, as in float64
    if isinstance(col, pa.ChunkedArray):
        out = col.to_numpy() if col.num_chunks else np.empty(0)
    else:
        out = col.to_numpy(zero_copy_only=False)
    # never a read-only view of Arrow's (possibly memory-mapped) buffers
    return out if out.flags.writeable else out.copy()


def _codes(col, declared: bool) -> Codes:
    """An Arrow column as :class:`Codes`: its own dictionary (``declared``: an Arrow dictionary
    column), or the distinct values found by Arrow's hashing."""
    import pyarrow as pa
    import pyarrow.compute as pc
    if not pa.types.is_dictionary(col.type):
        col = pc.dictionary_encode(col)
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    if len(chunks) > 1:        # one dictionary for all the pieces of the block
        table = pa.Table.from_arrays([pa.chunked_array(chunks, col.type)], ["c"])
        chunks = table.unify_dictionaries().column(0).chunks
    if not chunks:
        return Codes(np.empty(0, dtype=np.int32), [], declared)
    dictionary = chunks[0].dictionary
    codes = np.concatenate([pc.cast(c.indices, pa.int32()).fill_null(-1).to_numpy(
        zero_copy_only=False) for c in chunks])
    levels = dictionary.to_pylist()
    if codes.size and (codes.min() < -1 or codes.max() >= len(levels)):
        raise IndexError(f"codes of a dictionary column point outside its {len(levels)} "
                         "values")
    if dictionary.null_count or len(set(levels)) < len(levels):
        codes, levels = _clean_dictionary(codes, levels)
    return Codes(codes if codes.flags.writeable else codes.copy(), levels, declared)


def _clean_dictionary(codes: np.ndarray, levels: list) -> tuple:
    """Codes into a dictionary that holds a missing value or a value twice (Arrow allows both):
    the missing one's codes become -1, a repeated value's codes point to its first place."""
    first, remap, kept = {}, np.empty(len(levels) + 1, dtype=np.int32), []
    for i, level in enumerate(levels):
        if level is None:
            remap[i] = -1
            continue
        if level not in first:
            first[level] = len(kept)
            kept.append(level)
        remap[i] = first[level]
    remap[-1] = -1                       # codes of -1 (missing) stay -1
    return remap[codes], kept


def numpy_codes(values: np.ndarray) -> Codes:
    """A NumPy column of booleans or text as :class:`Codes` into its distinct values (sorted;
    bytes are read as UTF-8)."""
    levels, codes = np.unique(values, return_inverse=True)
    levels = levels.tolist()
    if values.dtype.kind == "S":
        levels = [v.decode("utf-8", errors="replace") for v in levels]
    return Codes(codes.astype(np.int32).reshape(-1), levels)
