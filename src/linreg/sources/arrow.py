"""What CSV, Parquet and Feather files share: pyarrow (an optional extra), Arrow tables and
record batches turned into row-major float64 blocks, and into the blocks of a table."""

from __future__ import annotations

import numpy as np

from ..parallel import map_in_threads
from .base import MalformedDataError, RawChunk
from .columns import ColumnSource
from .table_kinds import arrow_block, arrow_kind

__all__ = ["ArrowColumnSource", "arrow_rows", "need_pyarrow"]


def need_pyarrow(what: str):
    """The ``pyarrow`` module, or an ImportError saying that reading ``what`` files needs the
    ``files`` extra."""
    try:
        import pyarrow
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            f"reading {what} files needs pyarrow, which is not installed; install the 'files' "
            "extra: pip install 'linreg[files]'") from None
    return pyarrow


class ArrowColumnSource(ColumnSource):
    """A source of named columns parsed by pyarrow (CSV, Parquet, Feather).

    A file format with a schema (Parquet, Feather) provides ``_schemas`` (file → Arrow
    schema) and ``_batches(order, columns)``: ``(data, first_row, file, file_row)`` of every
    block, ``data`` a pyarrow Table or RecordBatch of the ``columns``, in file order
    (``order=None``) or in the given order of block indices.
    """

    #: file → its Arrow schema (the formats that have one)
    _schemas: dict = {}

    def _batches(self, order, columns: list):
        raise NotImplementedError

    def _chunks(self, order):
        # a column of text may be chosen (a table reads it): the numbers read here refuse it
        for f, schema in self._schemas.items():
            other = {field.name: field.type for field in schema if not _numeric(field.type)}
            for name in self._used:
                if name in other:
                    raise MalformedDataError(f"{f}: column {name!r} holds {other[name]}, not "
                                             "numbers (it is not numeric)")
        columns = self._used + [g for g in self.group_names if g not in self._used]
        for data, first, f, file_row in self._batches(order, columns):
            yield self._arrow_to_chunk(data, first, f, file_row)

    def _arrow_types(self, names: list) -> dict:
        """Column → its Arrow type, the same in every file (Parquet checks it)."""
        schema = next(iter(self._schemas.values()))
        return {name: schema.field(name).type for name in names}

    def _kinds(self, names):
        return {name: arrow_kind(t) for name, t in self._arrow_types(names).items()}

    def _type_names(self, names):
        return {name: str(t) for name, t in self._arrow_types(names).items()}

    def _table_chunks(self, order, names, kinds):
        for data, first, f, file_row in self._batches(order, names):
            try:
                block = arrow_block(data, names, kinds, first, self._rows_where(f, file_row, first))
            except (UnicodeDecodeError, IndexError) as exc:       # a corrupt file
                what = (f"text that is not UTF-8 ({exc.reason})"
                        if isinstance(exc, UnicodeDecodeError) else str(exc))
                raise MalformedDataError(
                    f"{f}: rows {file_row}–{file_row + data.num_rows - 1}: {what}; the file "
                    "may be corrupt") from None
            yield block

    def _arrow_to_chunk(self, data, first_row, file, file_row) -> RawChunk:
        """A block from a pyarrow Table or RecordBatch (missing values become NaN)."""
        rows = data.num_rows
        w = None
        if self.weight_name is not None:
            w = arrow_rows(data, [self.weight_name], rows)[:, 0]
        groups = tuple(data.column(name).to_numpy(zero_copy_only=False)
                       for name in self.group_names) or None
        return RawChunk(arrow_rows(data, self.feature_names, rows),
                        arrow_rows(data, self.target_names, rows), w, first_row, file, file_row,
                        groups)


def _numeric(t) -> bool:
    """Whether a column of Arrow type ``t`` reads as numbers (integers, floats, booleans)."""
    import pyarrow as pa
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            or pa.types.is_decimal(t))


def arrow_rows(data, names: list, rows: int) -> np.ndarray:
    """The columns ``names`` of a pyarrow Table or RecordBatch as one row-major float64 array,
    a record batch at a time through Arrow's own row-major conversion (``to_tensor``, faster
    than stacking the columns from Python), batches side by side on Arrow's number of
    threads.  Missing values become NaN."""
    import pyarrow as pa

    out = np.empty((rows, len(names)))
    if not names or not rows:
        return out
    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    table = table.select(names)
    if any(t != pa.float64() for t in table.schema.types):     # ints, bools, float32, …
        # an integer beyond 2**53 rounds, as NumPy's conversion (and a table's column) does
        table = table.cast(pa.schema([pa.field(n, pa.float64()) for n in names]), safe=False)
    batches = table.to_batches()
    starts = np.cumsum([0] + [b.num_rows for b in batches])

    def convert(i: int) -> None:
        if batches[i].num_rows:
            out[starts[i]:starts[i + 1]] = batches[i].to_tensor(
                null_to_nan=True, row_major=True).to_numpy()

    # batches on Arrow's threads (0.45 s → 0.26 s for 1e6 × 100 on two cores)
    map_in_threads(convert, list(range(len(batches))), pa.cpu_count())
    return out
