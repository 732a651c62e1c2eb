"""Parquet file(s), read row group by row group through pyarrow."""

from __future__ import annotations

from .arrow import ArrowColumnSource, need_pyarrow
from .base import DEFAULT_CHUNK_ROWS, MalformedDataError, checked_chunk_rows
from .columns import expand_paths
from .table_kinds import arrow_kind

__all__ = ["ParquetSource", "parquet"]


class ParquetSource(ArrowColumnSource):
    """Parquet file(s) read row group by row group, ``chunk_rows`` rows at a time.

    Every file must give a column the same kind (:meth:`column_kinds`: an integer column in
    one file and a float column in another are both numbers; text in one and numbers in
    another is refused, naming both files)."""

    def __init__(self, pattern, target, features=None, drop=None, weight=None,
                 chunk_rows: int | None = DEFAULT_CHUNK_ROWS, features_role: str = "a feature"):
        pa = need_pyarrow("Parquet")
        import pyarrow.parquet as pq
        self.chunk_rows = checked_chunk_rows(chunk_rows)
        self.pattern = pattern
        self.paths = expand_paths(pattern)
        self._snapshot()
        units, total, columns, self._schemas = [], 0, None, {}
        for f in self.paths:
            try:
                with pq.ParquetFile(f) as pf:
                    meta = pf.metadata
                    schema = meta.schema.to_arrow_schema()
            except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
                raise _not_parquet(f, exc) from None
            names = schema.names            # a new list at every access: read it once
            if columns is None:
                columns = list(names)
                self._select(columns, target, features, drop, weight, f, features_role)
            position = {name: i for i, name in enumerate(names)}
            for name in self._used:
                if name not in position:
                    raise MalformedDataError(f"{f}: column {name!r} is missing (it is in "
                                             f"{self.paths[0]})")
            self._schemas[f] = schema
            file_row = 0
            for g in range(meta.num_row_groups):
                rows = meta.row_group(g).num_rows
                units.append((f, g, total, file_row))
                total += rows
                file_row += rows
        self._units = units
        self.n_rows = total

    def __repr__(self):
        return f"sources.parquet({self.pattern!r}, target={self.target_names!r})"

    def _files(self):
        return self.paths

    def _n_chunks(self):
        return len(self._units)

    def _arrow_types(self, names):
        """Column → Arrow type; refuses a column missing from a file, or of another kind
        than in the first file."""
        first = self.paths[0]
        types = {}
        for name in names:
            for f, schema in self._schemas.items():
                if schema.get_field_index(name) < 0:
                    raise MalformedDataError(f"{f}: column {name!r} is missing (it is in "
                                             f"{first})")
                t = schema.field(name).type
                if name not in types:
                    types[name] = t
                elif arrow_kind(t) != arrow_kind(types[name]):
                    raise MalformedDataError(
                        f"column {name!r} holds {types[name]} ({arrow_kind(types[name])}) in "
                        f"{first} but {t} ({arrow_kind(t)}) in {f}; every file of the source "
                        "must give a column the same kind")
        return types

    def _batches(self, order, columns):
        # A shuffled pass visits the row groups (of all files) in random order; each group is
        # streamed in batches of chunk_rows, so memory stays bounded by the batch size.
        import pyarrow as pa
        import pyarrow.parquet as pq
        idx = range(len(self._units)) if order is None else order.tolist()
        open_file, pf = None, None
        try:
            for i in idx:
                f, g, first, file_row = self._units[i]
                self.check_unchanged()
                if f != open_file:
                    if pf is not None:
                        pf.close()
                    pf, open_file = None, f
                    try:
                        pf = pq.ParquetFile(f)
                    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
                        raise _not_parquet(f, exc) from None
                expected = pf.metadata.row_group(g).num_rows
                size = self.chunk_rows or max(1, expected)
                batches = pf.iter_batches(batch_size=size, row_groups=[g], columns=columns,
                                          use_threads=True)
                start = file_row
                while True:
                    try:
                        batch = next(batches, None)
                    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
                        raise _not_parquet(f, exc, f" (row group {g}, from row {file_row})"
                                           ) from None
                    if batch is None:
                        break
                    rows = batch.num_rows
                    yield batch, first, f, file_row
                    first += rows
                    file_row += rows
                if file_row - start != expected:       # a corrupt page read as fewer rows
                    raise _not_parquet(f, f"its metadata says {expected} rows, but "
                                          f"{file_row - start} could be read",
                                       f" (row group {g}, from row {start})")
        finally:
            if pf is not None:
                pf.close()


def _not_parquet(path, exc, where: str = "") -> MalformedDataError:
    """A file pyarrow cannot read as Parquet: the error names the file (and where in it)."""
    reason = " ".join(str(exc).split())      # pyarrow's messages span lines: keep one
    return MalformedDataError(f"{path} is not a readable Parquet file{where}: {reason}")


def parquet(pattern, target, features=None, drop=None, weight=None,
            chunk_rows: int | None = DEFAULT_CHUNK_ROWS) -> ParquetSource:
    """Rows from Parquet file(s): ``pattern`` is a path, a glob (``"data/*.parquet"``, files
    in sorted order) or a list of paths.

    ``target``: the target column (or a list of them for several targets); ``features``: the
    feature columns (default: every other column), ``drop``: columns to leave out,
    ``weight``: a column of sample weights.  Needs pyarrow (``pip install 'linreg[files]'``).
    A shuffled pass (stochastic solvers) visits the row groups of all files in a random order
    and shuffles the rows of each block of ``chunk_rows`` (``None``: whole row groups).
    """
    return ParquetSource(pattern, target, features, drop, weight, chunk_rows)
