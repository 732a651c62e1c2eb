"""A CSV file read as the blocks of a table: the kind of each column inferred once, every block
then parsed with those types, a block the parser refuses read again line by line to say which
line, which column and which value does not fit."""

from __future__ import annotations

import csv as _csv
import io

import numpy as np

from .base import MalformedDataError
from .table_kinds import arrow_block

__all__ = ["FALSE_TOKENS", "MISSING_TOKENS", "TRUE_TOKENS", "CsvTables", "csv_kind"]

#: cells read as missing values: pyarrow's defaults (R's NA, pandas' empty cell and "nan",
#: spreadsheets' #N/A, NULL, …); NaN among them is reported as not finite, the others as
#: missing values
MISSING_TOKENS = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan",
                  "1.#IND", "1.#QNAN", "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null", "None"]
#: cells read as 1 and 0 (R's and pandas' logicals), as Parquet booleans are
TRUE_TOKENS = ["true", "True", "TRUE"]
FALSE_TOKENS = ["false", "False", "FALSE"]


def csv_kind(t) -> str:
    """The kind of a CSV column pyarrow inferred as type ``t``: integers, floats and columns
    with no value are ``"number"``, ``true``/``false`` ones ``"bool"``, any other (text,
    dates, times) ``"text"``: the cells as written are its levels."""
    import pyarrow as pa
    types = pa.types
    if types.is_integer(t) or types.is_floating(t) or types.is_decimal(t) or types.is_null(t):
        return "number"
    return "bool" if types.is_boolean(t) else "text"


def _is_number(value: str) -> bool:
    """Whether pyarrow reads the cell ``value`` as a float64."""
    try:
        float(value)
    except ValueError:
        return False
    return "_" not in value          # Python reads 1_000, pyarrow does not


class CsvTables:
    """The table side of :class:`~linreg.sources.csv_file.CsvSource`.

    The kind of each column is pyarrow's type inference over the file's first lines: its
    first parse block of bytes (``_block_size``, 1 MB or more, whatever ``chunk_rows`` is),
    as :func:`pyarrow.csv.read_csv` infers types from its first block.  Every block is then
    parsed with those types (numbers as float64, text as strings, booleans as booleans), so
    all blocks agree; a later cell that does not fit (text in a column of numbers) is an
    error naming the file, the line, the column and the value.
    """

    def _inferred_types(self) -> dict:
        """Column → the Arrow type pyarrow infers from the file's first lines (cached)."""
        if getattr(self, "_types", None) is None:
            import pyarrow as pa
            import pyarrow.csv as pcsv
            self.check_unchanged()
            with self._binary() as f:
                f.seek(self._data_start)
                sample = f.read(self._block_size)
                if sample and not sample.endswith(b"\n"):
                    cut = sample.rfind(b"\n") + 1
                    sample = sample[:cut] if cut else sample + f.readline()
            self._sample_lines = sample.count(b"\n") + (0 if sample.endswith(b"\n") else 1)
            if not sample.strip():                 # no data rows: no value says otherwise
                self._types = dict.fromkeys(self.columns, pa.null())
                return self._types
            try:
                table = pcsv.read_csv(pa.BufferReader(sample), **self._table_options(None, None))
            except pa.ArrowInvalid as exc:
                self._diagnose_table(sample, 0, [], {}, exc)
            self._types = {name: t for name, t in zip(self.columns, table.schema.types)}
        return self._types

    def _table_options(self, names, kinds) -> dict:
        """pyarrow's options for a block of the columns ``names`` of those ``kinds`` (None:
        every column, types inferred)."""
        import pyarrow as pa
        import pyarrow.csv as pcsv
        arrow = {"number": pa.float64(), "text": pa.string(), "bool": pa.bool_()}
        convert = pcsv.ConvertOptions(
            null_values=MISSING_TOKENS, strings_can_be_null=True, true_values=TRUE_TOKENS,
            false_values=FALSE_TOKENS, include_columns=names or [],
            column_types=None if names is None else {n: arrow[kinds[n]] for n in names})
        return dict(read_options=pcsv.ReadOptions(column_names=self.columns,
                                                  block_size=self._block_size),
                    parse_options=pcsv.ParseOptions(delimiter=self.delimiter),
                    convert_options=convert)

    def _kinds(self, names):
        types = self._inferred_types()
        return {name: csv_kind(types[name]) for name in names}

    def _type_names(self, names):
        types = self._inferred_types()
        return {name: str(types[name]) for name in names}

    def _table_chunks(self, order, names, kinds):
        def parse(buf, first_row):
            return self._parse_table(buf, first_row, names, kinds)
        if order is None:
            yield from self._scan(parse)
            return
        self._index()
        with self._binary() as f:
            for i in order.tolist():
                offset, length, first_row, _ = self._ranges[i]
                self.check_unchanged()
                f.seek(offset)
                yield parse(f.read(length), first_row)

    def _parse_table(self, buf: bytes | None, first_row: int, names: list, kinds: dict):
        """The lines ``buf`` (None: every line below the header) as a TableBlock."""
        import pyarrow as pa
        import pyarrow.csv as pcsv
        if buf is None and self._raw is not None:
            buf = self._raw[self._data_start:]
        if buf is None:
            data = pa.OSFile(self.path)
            data.seek(self._data_start)
        else:
            data = pa.BufferReader(buf)
        try:
            table = pcsv.read_csv(data, **self._table_options(names, kinds))
        except pa.ArrowInvalid as exc:
            self._diagnose_table(buf, first_row, names, kinds, exc)
        finally:
            data.close()
        self._check_whole_records(buf, table.num_rows, first_row)
        lines = None
        if buf is not None and table.num_rows != buf.count(b"\n") + (not buf.endswith(b"\n")):
            lines = _nonblank_lines(buf)       # pyarrow skips blank lines: where is each row
        elif buf is None and table.num_rows != self._count_lines():
            lines = _nonblank_lines(self._data_bytes())
        path = self.path

        def where(r: int) -> str:
            return f"line {first_row + 2 + (r if lines is None else int(lines[r]))} of {path}"
        return arrow_block(table, names, kinds, first_row, where)

    def _check_whole_records(self, buf: bytes | None, rows: int, first_row: int) -> None:
        """In blocks of lines (``chunk_rows`` set), a block must end where a row ends: a
        quoted field holding a line break may be cut at a block's end, its halves then read
        as rows of two blocks.  Where a block has fewer rows than lines that are not blank
        (a line break inside quotes), Python's csv module says whether its last row is
        closed; if not, raise :class:`MalformedDataError` naming the line it starts on."""
        if self._chunk_bytes is None or buf is None:
            return
        if rows in (buf.count(b"\n") + (not buf.endswith(b"\n")), len(_nonblank_lines(buf))):
            return
        text = buf.decode("utf-8", errors="replace")
        starts = self._record_starts(text)
        if len(self._record_starts(text + "x\n")) == len(starts) + 1:
            return           # one more row after it: the block ends outside quotes
        line = first_row + starts[-1] + 1
        raise MalformedDataError(
            f"{self.path}: line {line} (row {line - 2}): a quoted field runs on past the end of "
            f"the block of lines it is read in (a line break inside quotes, or a quote never "
            f"closed): remove the line breaks inside quotes, or read the file as one block "
            f"(chunk_rows=None)")

    def _record_starts(self, text: str) -> list:
        """The line (1-based) on which each row of ``text`` starts, by Python's csv module."""
        reader = _csv.reader(io.StringIO(text, newline=""), delimiter=self.delimiter)
        starts, before = [], 0
        for _ in reader:
            starts.append(before + 1)
            before = reader.line_num
        return starts

    def _data_bytes(self) -> bytes:
        """Every byte below the header line (decompressed)."""
        with self._binary() as f:
            f.seek(self._data_start)
            return f.read()

    def _count_lines(self) -> int:
        """The lines below the header, counted 16 MB at a time."""
        lines, last = 0, b"\n"
        with self._binary() as f:
            f.seek(self._data_start)
            for piece in iter(lambda: f.read(1 << 24), b""):
                lines += piece.count(b"\n")
                last = piece[-1:]
        return lines + (last != b"\n")

    def _diagnose_table(self, buf: bytes | None, first_row: int, names: list, kinds: dict,
                        exc: Exception):
        """Raise :class:`MalformedDataError` for the first line of ``buf`` that pyarrow
        refused: not UTF-8, not CSV, too few or many fields, or a cell that does not fit its
        column's kind."""
        if buf is None:
            buf = self._data_bytes()
        try:
            buf.decode("utf-8")
        except UnicodeDecodeError as bad:
            row = first_row + buf.count(b"\n", 0, bad.start)
            raise MalformedDataError(f"{self.path}: line {row + 2} (row {row}) is not UTF-8 "
                                     "text; save the file as UTF-8") from None
        for row, lineno, fields in self._field_lines(buf, first_row):
            for name in names:
                j = self._position[name]
                value = fields[j]
                if value in MISSING_TOKENS:
                    continue
                if kinds[name] == "number" and not _is_number(value):
                    what = "is not a number"
                    read = "numbers"
                elif kinds[name] == "bool" and value not in TRUE_TOKENS + FALSE_TOKENS:
                    what = "is not true or false"
                    read = "true/false values"
                else:
                    continue
                raise MalformedDataError(
                    f"{self.path}: line {lineno} (row {row}), column {j} ({name!r}): "
                    f"{value!r} {what}, but the column holds {read} in the first "
                    f"{self._sample_lines} rows (lines 2–{self._sample_lines + 1}), from which "
                    "its kind is inferred. Correct the value (a missing one may be left empty "
                    "or written NA), or, if the column holds text, let text appear within its "
                    f"first {self._sample_lines} rows")
        self._refuse_unreadable_line(buf, first_row)
        reason = " ".join(str(exc).split())
        raise MalformedDataError(f"{self.path}: rows {first_row}–: the CSV parser refused this "
                                 f"block ({reason})")


def _nonblank_lines(buf: bytes) -> np.ndarray:
    """The 0-based index of each line of ``buf`` that is not blank (pyarrow skips the blank
    ones), found without a Python object per line."""
    a = np.frombuffer(buf, dtype=np.uint8)
    breaks = np.flatnonzero(a == 10)
    starts = np.concatenate([[0], breaks + 1])
    stops = np.concatenate([breaks, [a.size]])
    if starts[-1] == a.size:               # nothing after the last line break
        starts, stops = starts[:-1], stops[:-1]
    length = stops - starts
    cr = np.zeros(length.size, dtype=bool)
    cr[length > 0] = a[stops[length > 0] - 1] == 13
    return np.flatnonzero(length - cr > 0)
