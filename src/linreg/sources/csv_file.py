"""A CSV file with a header line: blocks of whole lines parsed by pyarrow; a block the parser
refuses is read again line by line to say which line, which column and what is wrong."""

from __future__ import annotations

import csv as _csv
import io
import math

import numpy as np

from .arrow import ArrowColumnSource, need_pyarrow
from .base import (
    DEFAULT_CHUNK_ROWS,
    NEEDS_FINITE,
    MalformedDataError,
    RawChunk,
    checked_chunk_rows,
    describe_value,
)
from .columns import expand_paths
from .csv_tables import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS, CsvTables

__all__ = ["CsvSource", "csv"]


class CsvSource(CsvTables, ArrowColumnSource):
    """A CSV file with a header line, cut into blocks of whole lines and parsed by pyarrow.

    The blocks are byte ranges ending at a line break, found on the first pass, so later
    passes can visit them in any order.  (So a quoted field must not contain a line break.)
    With ``chunk_rows=None`` the whole file is one block, read and parsed by pyarrow's threads.

    Read as a table (:meth:`table_blocks`), the kind of each column is inferred by pyarrow
    from the file's first lines (see :class:`~linreg.sources.csv_tables.CsvTables`); the
    cells of :data:`MISSING_TOKENS` are missing values in every kind of column, and a column
    of ``true``/``false`` (or ``True``/``TRUE``, ``False``/``FALSE``) is of kind ``"bool"``.
    """

    def __init__(self, path, target, features=None, drop=None, weight=None, delimiter=",",
                 chunk_rows: int | None = DEFAULT_CHUNK_ROWS, features_role: str = "a feature"):
        need_pyarrow("CSV")
        self.chunk_rows = checked_chunk_rows(chunk_rows)
        self.path = expand_paths(path)[0]
        if not isinstance(delimiter, str) or len(delimiter) != 1:
            raise ValueError(f"delimiter={delimiter!r} must be one character")
        self.delimiter = delimiter
        self._snapshot()
        #: a compressed file's text, decompressed once into memory (pyarrow's codecs)
        self._raw = _decompressed(self.path)
        with self._binary() as f:
            header = f.readline()
            self._data_start = f.tell()
            sample = f.read(1 << 16)
        try:
            text = header.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError:
            raise MalformedDataError(
                f"{self.path}: line 1 (the header) is not UTF-8 text; save the file as "
                "UTF-8") from None
        try:
            # strict: a quote never closed on the header line is an error, not a name
            self.columns = (next(_csv.reader([text], delimiter=delimiter, strict=True))
                            if text else [])
        except _csv.Error as exc:
            raise MalformedDataError(
                f"{self.path}: line 1 (the header) cannot be read as CSV: "
                f"{_csv_reason(exc)}") from None
        if not self.columns:
            raise MalformedDataError(f"{self.path}: empty file, expected a header line with "
                                     "column names")
        if len(self.columns) > 1 and self.columns[0] == "" and features is None:
            drop = _leave_out_unnamed_index(self.path, drop)
        self._select(self.columns, target, features, drop, weight, self.path, features_role)
        self._position = {c: j for j, c in enumerate(self.columns)}
        # a parse block must hold whole rows: widen it for very wide files (pyarrow's
        # default, 1 MB, is less than one row of a file with a few hundred thousand columns)
        self._block_size = int(min(max(1 << 20, 16 * len(header)), 1 << 30))
        lines = sample.count(b"\n")
        bytes_per_line = len(sample) / lines if lines else max(len(sample), 64)
        self._chunk_bytes = (None if self.chunk_rows is None
                             else max(256, int(bytes_per_line * self.chunk_rows)))
        self._ranges: list | None = None   # (offset, length, first_row, rows), after a pass
        self.n_rows = None
        self._types: dict | None = None    # column → Arrow type, inferred for a table

    def _binary(self):
        """The file's bytes (decompressed) as a binary file object (a file changed or removed
        since the source was opened: :class:`SourceChangedError`, naming it)."""
        if self._raw is not None:
            return io.BytesIO(self._raw)
        self.check_unchanged()
        return open(self.path, "rb")

    def __repr__(self):
        return f"sources.csv({self.path!r}, target={self.target_names!r})"

    def _files(self):
        return [self.path]

    def _n_chunks(self):
        self._index()
        return len(self._ranges)

    def count_rows(self) -> int:
        """The number of data rows: the lines after the header that are not empty (the
        parser skips those), counted once without parsing, and remembered."""
        if getattr(self, "_data_rows", None) is None:
            self.check_unchanged()
            with self._binary() as f:
                f.seek(self._data_start)
                self._data_rows = _nonempty_lines(iter(lambda: f.read(1 << 24), b""))
        return self._data_rows

    def _index(self):
        if self._ranges is None:
            for _ in self._scan(None):
                pass

    def _scan(self, parse):
        """Read the file front to back in blocks of whole lines; record their ranges and yield
        ``parse(buf, first_row)`` of each (``parse`` None: only the ranges)."""
        if self._chunk_bytes is None:
            yield from self._scan_whole(parse)
            return
        ranges, first_row, parsed = [], 0, 0
        with self._binary() as f:
            f.seek(self._data_start)
            offset = self._data_start
            while True:
                self.check_unchanged()
                buf = f.read(self._chunk_bytes)
                if not buf:
                    break
                if not buf.endswith(b"\n"):
                    buf += f.readline()
                rows = buf.count(b"\n") + (0 if buf.endswith(b"\n") else 1)
                ranges.append((offset, len(buf), first_row, rows))
                if parse:
                    block = parse(buf, first_row)
                    parsed += _rows_of(block)
                    yield block
                offset += len(buf)
                first_row += rows
        self._ranges = ranges
        if parse:
            # the rows read, not the lines: a blank line is no row (a quoted line break
            # joins two lines into one)
            self.n_rows = parsed
        if not parse:
            yield None

    def _scan_whole(self, parse):
        """The whole file as one block, read and parsed by pyarrow's threads."""
        self.check_unchanged()
        size = self._states[self.path].size if self._raw is None else len(self._raw)
        length = size - self._data_start
        self._ranges = []
        if length <= 0:
            self.n_rows = 0
            if not parse:
                yield None
            return
        if not parse:
            rows, last = 0, b"\n"
            with self._binary() as f:
                f.seek(self._data_start)
                for block in iter(lambda: f.read(1 << 24), b""):
                    rows += block.count(b"\n")
                    last = block[-1:]
            rows += last != b"\n"          # a last line without its line end
            self._ranges = [(self._data_start, length, 0, rows)]
            yield None
            return
        chunk = parse(None, 0)
        self.n_rows = _rows_of(chunk)
        self._ranges = [(self._data_start, length, 0, self.n_rows)]
        yield chunk

    def _chunks(self, order):
        if order is None:
            yield from self._scan(self._parse)
            return
        self._index()
        with self._binary() as f:
            for i in order.tolist():
                offset, length, first_row, _ = self._ranges[i]
                self.check_unchanged()
                f.seek(offset)
                yield self._parse(f.read(length), first_row)

    def _parse(self, buf: bytes | None, first_row: int) -> RawChunk:
        """Parse ``buf`` (whole lines, ``first_row`` the data row of the first; None: all the
        lines below the header, read from the file) into a block; a block the parser refuses
        is diagnosed line by line."""
        import pyarrow as pa
        import pyarrow.csv as pcsv
        if buf is None and self._raw is not None:
            buf = self._raw[self._data_start:]
        if buf is None:
            data = pa.OSFile(self.path)
            data.seek(self._data_start)
        else:
            data = pa.BufferReader(buf)
        read_options = pcsv.ReadOptions(column_names=self.columns, block_size=self._block_size)
        parse_options = pcsv.ParseOptions(delimiter=self.delimiter)
        try:
            table = pcsv.read_csv(
                data, read_options=read_options, parse_options=parse_options,
                convert_options=pcsv.ConvertOptions(
                    # labels read along (cluster ids) are text: "01" and "1" stay apart
                    column_types={**{c: pa.float64() for c in self._used},
                                  **{c: pa.string() for c in self.group_names}},
                    null_values=MISSING_TOKENS,
                    include_columns=self._used + [c for c in self.group_names
                                                  if c not in self._used]))
        except pa.ArrowInvalid:
            # true/false columns (as R and pandas write logicals) read as 1/0, as Parquet
            # booleans do; anything else that is not a number is diagnosed line by line
            table = self._read_booleans(buf, read_options, parse_options)
            if table is None:
                self._diagnose(buf, first_row)
                raise  # pragma: no cover - _diagnose always finds the culprit
        finally:
            data.close()
        self._check_whole_records(buf, table.num_rows, first_row)
        if any(table.column(c).null_count for c in self._used):
            self._diagnose(buf, first_row)
        return self._arrow_to_chunk(table, first_row, self.path, first_row)

    def _read_booleans(self, buf, read_options, parse_options):
        """The block read again with its types inferred and ``true``/``false`` (any case) as
        booleans; None unless every used column is then boolean or numeric."""
        import pyarrow as pa
        import pyarrow.csv as pcsv
        data = pa.OSFile(self.path) if buf is None else pa.BufferReader(buf)
        try:
            if buf is None:
                data.seek(self._data_start)
            table = pcsv.read_csv(data, read_options=read_options, parse_options=parse_options,
                                  convert_options=pcsv.ConvertOptions(
                                      true_values=TRUE_TOKENS, false_values=FALSE_TOKENS,
                                      null_values=MISSING_TOKENS, include_columns=self._used))
        except pa.ArrowInvalid:
            return None
        finally:
            data.close()
        numeric = all(pa.types.is_boolean(t) or pa.types.is_integer(t)
                      or pa.types.is_floating(t) or pa.types.is_null(t)
                      for t in table.schema.types)
        return table if numeric else None

    def _diagnose(self, buf: bytes | None, first_row: int):
        """Find the first bad line of a block the fast parser refused, and say what is wrong
        (``buf`` None: all the lines below the header)."""
        if buf is None:
            with self._binary() as f:
                f.seek(self._data_start)
                buf = f.read()
        where = {c: self._position[c] for c in self._used}
        for row, lineno, fields in self._field_lines(buf, first_row):
            for name, j in where.items():
                value = fields[j].strip()
                if value.lower() in ("true", "false"):
                    continue
                try:
                    x = float(value)
                except ValueError:
                    if value and value in MISSING_TOKENS:     # NA, NULL, #N/A, …
                        raise MalformedDataError(
                            f"{self.path}: line {lineno} (row {row}), column {j} ({name!r}): "
                            f"a missing value ({value!r}); linreg needs finite numbers") from None
                    raise MalformedDataError(
                        f"{self.path}: line {lineno} (row {row}), column {j} ({name!r}): "
                        f"{'an empty value' if not value else repr(value) + ' is not a number'}"
                        "; linreg needs finite numbers") from None
                if not math.isfinite(x):
                    raise MalformedDataError(
                        f"{self.path}: line {lineno} (row {row}), column {j} ({name!r}) is "
                        f"{value!r}; {NEEDS_FINITE}")
        self._refuse_unreadable_line(buf, first_row)
        raise MalformedDataError(f"{self.path}: rows {first_row}–: the CSV parser refused this "
                                 "block (a quoted field with a line break?)")

    def _refuse_unreadable_line(self, buf: bytes, first_row: int) -> None:
        """Raise :class:`MalformedDataError` naming the first line of ``buf`` that Python's
        csv module refuses read strictly (a quote never closed on its line, a character
        after a closing quote): what a block refused with no other culprit holds."""
        text = io.StringIO(buf.decode("utf-8", errors="replace"), newline="")
        for i, line in enumerate(text):
            if not line.strip("\r\n"):
                continue
            try:
                next(_csv.reader([line.rstrip("\r\n")], delimiter=self.delimiter, strict=True))
            except _csv.Error as exc:
                raise MalformedDataError(
                    f"{self.path}: line {first_row + i + 2} (row {first_row + i}) is not valid "
                    f"CSV ({_csv_reason(exc)})") from None

    def _field_lines(self, buf: bytes, first_row: int):
        """``(row, line, fields)`` of every line of ``buf`` that is not blank, read by Python's
        csv module; raises :class:`MalformedDataError` for a line that is not valid CSV or
        whose number of fields is not the header's."""
        text = io.StringIO(buf.decode("utf-8", errors="replace"), newline="")
        for i, line in enumerate(text):
            row, lineno = first_row + i, first_row + i + 2
            if not line.strip("\r\n"):
                continue
            try:
                fields = next(_csv.reader([line.rstrip("\r\n")], delimiter=self.delimiter))
            except _csv.Error as exc:
                raise MalformedDataError(
                    f"{self.path}: line {lineno} (row {row}) is not valid CSV "
                    f"({_csv_reason(exc)})") from None
            if len(fields) != len(self.columns):
                raise MalformedDataError(
                    f"{self.path}: line {lineno} (row {row}) has {len(fields)} fields, expected "
                    f"{len(self.columns)} (the header's columns)")
            yield row, lineno, fields

    def _where(self, c, r):
        return f"{self.path}: line {c.first_row + r + 2} (row {c.first_row + r})"

    def _bad_value(self, c, r, j, names, what, value):
        col = self._position[names[j]] if names else j
        raise MalformedDataError(
            f"{self._where(c, r)}, column {col} ({names[j]!r}) is {describe_value(value)}; "
            "linreg needs finite numbers")

    def _all_zero_weights(self, n_rows: int) -> MalformedDataError:
        return MalformedDataError(
            f"{self.path}: the sample weights ({self.weight_name!r}) are zero in every row, "
            f"lines 2–{n_rows + 1} (rows 0–{n_rows - 1}): there is nothing to fit")


def _rows_of(block) -> int:
    """The rows of a parsed block (a :class:`RawChunk` of numbers, or a table's block)."""
    return block.X.shape[0] if isinstance(block, RawChunk) else block.n_rows


#: compressed CSV files: extension → pyarrow's codec name
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd"}


def _decompressed(path) -> bytes | None:
    """The text of a ``.csv.gz``, ``.csv.bz2`` or ``.csv.zst`` file (None for a plain file).
    Held in memory: a compressed file cannot be cut into byte ranges without reading it."""
    import os
    codec = COMPRESSIONS.get(os.path.splitext(str(path))[1].lower())
    if codec is None:
        return None
    import pyarrow as pa
    try:
        with pa.input_stream(str(path), compression=codec) as stream:
            return stream.read()
    except (pa.ArrowException, OSError) as exc:
        raise MalformedDataError(f"{path} cannot be decompressed as {codec}: "
                                 f"{' '.join(str(exc).split())}") from None


def _leave_out_unnamed_index(path, drop):
    """The drop list with the first column, whose header is empty: the row index pandas'
    ``to_csv`` writes, never a feature by accident.  Said in a warning unless ``drop``
    already names it (``""``, ``--drop ''``)."""
    from ..exceptions import warn_user
    from ..validation import name_list
    drop = name_list(drop) or []
    if "" not in drop:
        warn_user(f"{path}: column 0 has no name in the header (the row index pandas' to_csv "
                  "writes?), so it is left out of the features; give it a name in the header "
                  "to use it", UserWarning)
        drop = drop + [""]
    return drop


def _csv_reason(exc: Exception) -> str:
    """The csv module's complaint, without its hint about opening files (a stray carriage
    return inside a line is what it means for a file read line by line)."""
    text = str(exc).split(" - do you need")[0]
    if "unexpected end of data" in text:
        return text + " (a quote that is never closed)"
    return text + " (a stray carriage return, \\r?)" if "new-line character" in text else text


def csv(path, target, features=None, drop=None, weight=None, delimiter=",",
        chunk_rows: int | None = DEFAULT_CHUNK_ROWS) -> CsvSource:
    """Rows from a CSV file with a header line (parsed by pyarrow, ``chunk_rows`` at a time).

    ``target``, ``features``, ``drop``, ``weight`` name columns as in
    :func:`linreg.sources.parquet`.
    Errors name the line (1-based, the header is line 1), the data row (0-based) and the
    column.  ``chunk_rows=None`` parses the whole file as one block.  Needs pyarrow
    (``pip install 'linreg[files]'``).
    """
    return CsvSource(path, target, features, drop, weight, delimiter, chunk_rows)


def _nonempty_lines(blocks) -> int:
    """The lines of a byte stream (given in blocks) that hold something besides their line
    end (``\\n`` or ``\\r\\n``); a last line without its line end counts."""
    rows, last_end, offset, last = 0, -1, 0, b"\n"
    for block in blocks:
        arr = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(arr == 10)
        if ends.size:
            gap = ends - np.concatenate([[last_end - offset], ends[:-1]])
            before = np.where(ends > 0, arr[np.maximum(ends - 1, 0)], last[-1])
            rows += int(np.count_nonzero((gap > 2) | ((gap == 2) & (before != 13))))
            last_end = offset + int(ends[-1])
        offset += len(block)
        last = block[-1:] or last
    tail = offset - 1 - last_end          # bytes after the last line end
    if tail > 1 or (tail == 1 and last != b"\r"):
        rows += 1
    return rows
