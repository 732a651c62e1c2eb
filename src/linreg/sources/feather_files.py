"""A Feather (Arrow IPC file) file, read record batch by record batch, memory-mapped."""

from __future__ import annotations

from .arrow import ArrowColumnSource, need_pyarrow
from .base import DEFAULT_CHUNK_ROWS, MalformedDataError, checked_chunk_rows
from .columns import expand_paths

__all__ = ["FEATHER_SUFFIXES", "FeatherSource"]

#: the extensions read as Arrow IPC files (Feather version 2 is the Arrow IPC file format)
FEATHER_SUFFIXES = (".feather", ".arrow", ".ipc")


class FeatherSource(ArrowColumnSource):
    """A Feather / Arrow IPC file (``pyarrow.feather.write_feather``, ``DataFrame.to_feather``,
    R's ``arrow::write_feather``), each record batch cut into blocks of ``chunk_rows``."""

    def __init__(self, path, target, features=None, drop=None, weight=None,
                 chunk_rows: int | None = DEFAULT_CHUNK_ROWS, features_role: str = "a feature"):
        need_pyarrow("Feather")
        self.chunk_rows = checked_chunk_rows(chunk_rows)
        self.path = expand_paths(path)[0]
        self._snapshot()
        with self._open() as reader:
            schema = reader.schema
            sizes = [reader.get_batch(i).num_rows for i in range(reader.num_record_batches)]
        self._select(list(schema.names), target, features, drop, weight, self.path,
                     features_role)
        self._schemas = {self.path: schema}
        self._units, first = [], 0
        for i, rows in enumerate(sizes):
            self._units.append((i, first))
            first += rows
        self.n_rows = first

    def _open(self):
        import pyarrow as pa
        try:
            return pa.ipc.open_file(pa.memory_map(str(self.path)))
        except (pa.ArrowException, OSError) as exc:
            reason = " ".join(str(exc).split())
            raise MalformedDataError(f"{self.path} is not a readable Feather (Arrow IPC) file: "
                                     f"{reason}") from None

    def __repr__(self):
        return f"sources.feather({self.path!r}, target={self.target_names!r})"

    def _files(self):
        return [self.path]

    def _n_chunks(self):
        return len(self._units)

    def _batches(self, order, columns):
        idx = range(len(self._units)) if order is None else order.tolist()
        self.check_unchanged()
        with self._open() as reader:
            for i in idx:
                batch_index, first = self._units[i]
                self.check_unchanged()
                batch = reader.get_batch(batch_index).select(columns)
                size = self.chunk_rows or max(1, batch.num_rows)
                for start in range(0, batch.num_rows, size):
                    yield batch.slice(start, size), first + start, self.path, first + start
