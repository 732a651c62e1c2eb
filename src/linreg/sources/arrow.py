"""What CSV and Parquet files share: pyarrow (an optional extra), and Arrow tables and record
batches turned into row-major float64 blocks."""

from __future__ import annotations

import numpy as np

from ..parallel import map_in_threads
from .base import RawChunk
from .columns import ColumnSource

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
    """A source of named columns parsed by pyarrow (CSV, Parquet)."""

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
        table = table.cast(pa.schema([pa.field(n, pa.float64()) for n in names]))
    batches = table.to_batches()
    starts = np.cumsum([0] + [b.num_rows for b in batches])

    def convert(i: int) -> None:
        if batches[i].num_rows:
            out[starts[i]:starts[i + 1]] = batches[i].to_tensor(
                null_to_nan=True, row_major=True).to_numpy()

    # batches on Arrow's threads (0.45 s → 0.26 s for 1e6 × 100 on two cores)
    map_in_threads(convert, list(range(len(batches))), pa.cpu_count())
    return out
