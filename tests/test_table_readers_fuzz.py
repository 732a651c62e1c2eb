"""The table readers fuzzed: CSV files with text, missing values, quotes, a byte-order mark
and ragged rows, and Parquet files with dictionary, boolean and null columns, mutated at
random — each is either refused with an error naming the file (and the line, row or header
where the fault is), or read exactly as a one-piece pyarrow reading reads it, in any block
size (hypothesis; bounded in ``make test``, many more in ``make fuzz``).

The reference for CSV is pyarrow reading the whole file at once with linreg's documented
conventions (its missing-value and true/false tokens; a column of no value is numbers, one of
any other inferred type text, its cells as written; a first column without a name is pandas'
index, left out), the header split by Python's ``csv`` module: what linreg must match while
cutting the file into blocks of lines, numbering them and turning text into levels.
"""

from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from linreg import sources
from linreg.sources import MalformedDataError
from linreg.tables.blocks import Codes

pa = pytest.importorskip("pyarrow")
import pyarrow.csv as pcsv  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from linreg.sources.csv_tables import FALSE_TOKENS, MISSING_TOKENS, TRUE_TOKENS  # noqa: E402
from test_readers_fuzz import MUTATIONS, mutated  # noqa: E402

FILE_FIXTURE = [HealthCheck.function_scoped_fixture]


def joined(blocks, names) -> dict:
    """The blocks' columns end to end: numbers as floats (NaN missing), levels as values
    (None missing)."""
    out = {name: [] for name in names}
    for b in blocks:
        for name in names:
            col = b.columns[name]
            if isinstance(col, Codes):
                out[name] += [None if c < 0 else col.levels[c] for c in col.codes.tolist()]
            else:
                assert col.dtype == np.float64 and col.shape == (b.n_rows,)
                out[name] += col.tolist()
    return out


def same_values(got: list, expected: list) -> bool:
    return len(got) == len(expected) and all(
        (isinstance(e, float) and math.isnan(e) and isinstance(g, float) and math.isnan(g))
        or (g == e and type(g) is type(e)) for g, e in zip(got, expected))


def arrow_values(column: pa.ChunkedArray) -> list:
    """A pyarrow column as linreg's blocks give it: numbers as floats, text and booleans as
    themselves, None missing (NaN in numbers)."""
    t = column.type
    if pa.types.is_dictionary(t):
        column = column.cast(t.value_type)
        t = t.value_type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        return [math.nan if v is None else float(v) for v in column.to_pylist()]
    return column.to_pylist()


# ----------------------------------------------------------------------------- CSV
WORDS = ["north", "South", "a,b", 'say "hi"', "  padded ", "café", "日本", "NA", "null", "",
         "true", "FALSE", "1", "2.5", "x" * 40, "-", "#N/A", "None", "O'Brien"]


def good_table_csv(seed: int, bom: bool) -> bytes:
    """A table with text (quotes, commas, missing tokens), numbers (some missing), booleans."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 25))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["x", "g", "b", "y"])
    for _ in range(n):
        x = rng.choice(["NA", ""]) if rng.random() < 0.15 else repr(round(rng.normal(), 3))
        b = rng.choice(["true", "false", "True", "FALSE", "NA"])
        writer.writerow([x, str(rng.choice(WORDS[:10])), b, repr(round(rng.normal() * 5, 2))])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def reference_csv(raw: bytes):
    """(names, {name: values}) as a one-piece pyarrow reading gives them, or None when it
    refuses the file (or its header is not a list of distinct, non-empty names)."""
    first, _, rest = raw.partition(b"\n")
    try:
        header = next(csv.reader([first.decode("utf-8-sig").rstrip("\r")], strict=True))
    except (UnicodeDecodeError, csv.Error, StopIteration):
        return None
    index = len(header) > 1 and header[0] == ""       # pandas' index column: left out
    names = header[1:] if index else header
    if not names or len(set(names)) != len(names):
        return None
    header = ["index column"] + names if index else header
    if not rest.strip(b"\r\n"):
        return names, {name: [] for name in names}          # no rows: nothing to refuse
    options = dict(read_options=pcsv.ReadOptions(column_names=header, block_size=1 << 24),
                   parse_options=pcsv.ParseOptions(delimiter=","))

    def convert(types=None):
        return pcsv.ConvertOptions(null_values=MISSING_TOKENS, strings_can_be_null=True,
                                   true_values=TRUE_TOKENS, false_values=FALSE_TOKENS,
                                   column_types=types, include_columns=names)
    try:
        inferred = pcsv.read_csv(pa.BufferReader(rest), convert_options=convert(), **options)
        types = {}
        for name, t in zip(names, inferred.schema.types):
            if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t):
                types[name] = pa.float64()          # numbers; a column of no value too
            elif pa.types.is_boolean(t):
                types[name] = pa.bool_()
            else:
                types[name] = pa.string()      # text, dates, nulls only: cells as written
        table = pcsv.read_csv(pa.BufferReader(rest), convert_options=convert(types), **options)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    return names, {name: arrow_values(table.column(name)) for name in names}


def read_table_csv(path, chunk_rows):
    """(names, {name: values}) of every column, read as a table; the source counts the rows
    it read (blank lines are none, a quoted line break joins two lines into one row)."""
    src = sources.csv(path, target=None, chunk_rows=chunk_rows)
    names = list(src.feature_names)          # every column (but a pandas index column)
    got = joined(list(src.table_blocks(names)), names)
    assert src.n_rows == len(got[names[0]])
    return names, got


@settings(max_examples=4 * settings.default.max_examples,  # scales with the profile
          suppress_health_check=FILE_FIXTURE)
@given(seed=st.integers(0, 10_000), bom=st.booleans(),
       mutations=st.lists(st.one_of(MUTATIONS, st.tuples(
           st.sampled_from(["insert"]), st.floats(0, 1),
           st.sampled_from([b",", b'"', b'""', b"\n", b"NA", b"true", b"x,", b"\xef\xbb\xbf"]))),
           min_size=1, max_size=3),
       chunk_rows=st.sampled_from([1, 2, 5, None]))
def test_mutated_csv_table_is_refused_clearly_or_read_as_pyarrow_reads_it(
        tmp_path, seed, bom, mutations, chunk_rows):
    raw = mutated(good_table_csv(seed, bom), mutations)
    path = tmp_path / "t.csv"
    path.write_bytes(raw)
    note(repr(raw))
    expected = reference_csv(raw)
    try:
        names, got = read_table_csv(path, chunk_rows)
    except MalformedDataError as exc:
        message = str(exc)
        assert str(path) in message, message
        assert any(w in message for w in ("line", "header", "empty file", "no data")), message
        return
    assert expected is not None, f"linreg read a file a one-piece pyarrow reading refuses: {raw!r}"
    assert names == expected[0]
    for name in names:
        assert same_values(got[name], expected[1][name]), (name, got[name], expected[1][name])


@pytest.mark.parametrize("content, message", [
    (b'g,y\n"a,1\nb,2\n', "line 2"),                     # a quote never closed
    (b"g,y\na,1\nb,2,3\nc,4\n", "line 3"),               # a ragged row
    (b"g,y\na,1\nb\n", "line 3"),                        # a short row at the end
    (b"\xef\xbb\xbfg,y\na,1\n", None),                   # a byte-order mark: read
])
def test_csv_table_faults_name_the_line(tmp_path, content, message):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    if message is None:
        names, got = read_table_csv(path, 1)
        assert names == ["g", "y"] and got["g"] == ["a"] and got["y"] == [1.0]
        return
    with pytest.raises(MalformedDataError, match=message) as err:
        read_table_csv(path, 1)
    assert str(path) in str(err.value)


def test_blank_lines_and_quoted_line_breaks_are_not_rows(tmp_path):
    """The rows of a CSV file are counted as read, not as lines: contiguous folds after a
    first pass are scikit-learn's KFold of the rows (they were cut by the line count); a
    line break inside quotes within a block is read as pyarrow reads it."""
    from linreg import LinearRegression
    from linreg.selection import LinearRegressionCV
    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(30, 2)), 4)
    y = np.round(X @ [1.0, 2.0] + rng.normal(size=30), 4)
    lines = ["a,b,y"] + [f"{a!r},{b!r},{t!r}" for (a, b), t in zip(X.tolist(), y.tolist())]
    path = tmp_path / "blank.csv"
    path.write_text("\n".join(lines[:5] + ["", "\r"] + lines[5:] + [""]) + "\n")
    for chunk_rows in (4, None):
        src = sources.csv(path, "y", chunk_rows=chunk_rows)
        LinearRegression().fit(src)
        assert src.n_rows == 30
        cv = LinearRegressionCV(alphas=[0.1, 1.0], cv=3).fit(src)
        memory = LinearRegressionCV(alphas=[0.1, 1.0], cv=3).fit(X, y)
        assert cv.cv_results_["fold_rows"].tolist() == [10, 10, 10]
        np.testing.assert_allclose(cv.mse_path_, memory.mse_path_, rtol=1e-12)
    text = tmp_path / "quoted.csv"
    text.write_bytes(b'g,y\n"two\nlines",1\nb,2\n')
    assert read_table_csv(text, None)[1] == {"g": ["two\nlines", "b"], "y": [1.0, 2.0]}
    assert read_table_csv(text, 1)[1] == {"g": ["two\nlines", "b"], "y": [1.0, 2.0]}


def test_a_quoted_field_cut_by_the_end_of_a_block_is_refused(tmp_path):
    """A quote opened on line 12 and never closed: read in one piece, the rest of the file
    is one value; cut into blocks of lines, the first block's last row would swallow the
    lines up to the block's end and the next block's lines would be rows again — neither
    reading of the file, so it is refused, naming the line."""
    lines = [f"{i}.5,{2 * i}.25" for i in range(10)] + ['7.5,"9.0'] + [
        f"{i}.5,{3 * i}.75" for i in range(60)]
    path = tmp_path / "open.csv"
    path.write_text("a,y\n" + "\n".join(lines) + "\n")
    for read in (lambda: read_table_csv(path, 5),
                 lambda: list(sources.csv(path, "y", chunk_rows=5).blocks())):
        with pytest.raises(MalformedDataError,
                           match="line 12 .*(quoted field runs on past|never closed)") as e:
            read()
        assert str(path) in str(e.value)


# ----------------------------------------------------------------------------- Parquet
@st.composite
def arrow_tables(draw):
    """A table of 1–40 rows: dictionary-encoded text, plain text, booleans, integers and
    floats, each with or without nulls."""
    n = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))

    def nulls(values, p):
        return [None if rng.random() < p else v for v in values]

    p = draw(st.sampled_from([0.0, 0.2, 1.0]))
    words = [str(w) for w in rng.choice(WORDS, n)]
    columns = {
        "dict": pa.array(nulls(words, p), type=pa.string()).dictionary_encode(),
        "text": pa.array(nulls(words[::-1], p), type=pa.string()),
        "flag": pa.array(nulls([bool(v) for v in rng.integers(0, 2, n)], p), type=pa.bool_()),
        "count": pa.array(nulls([int(v) for v in rng.integers(-5, 5, n)], p), type=pa.int64()),
        "y": pa.array(nulls([float(v) for v in rng.normal(size=n)], p), type=pa.float64()),
    }
    return pa.table(columns)


@settings(suppress_health_check=FILE_FIXTURE)
@given(table=arrow_tables(), group=st.integers(1, 40), chunk_rows=st.sampled_from([1, 3, None]))
def test_parquet_table_columns_read_as_pyarrow_reads_them(tmp_path, table, group, chunk_rows):
    path = tmp_path / "t.parquet"
    pq.write_table(table, path, row_group_size=group)
    src = sources.parquet(path, target=None, chunk_rows=chunk_rows)
    names = table.column_names
    assert src.column_kinds(names) == {"dict": "category", "text": "text", "flag": "bool",
                                       "count": "number", "y": "number"}
    got = joined(list(src.table_blocks(names)), names)
    expected = pq.read_table(path)
    for name in names:
        assert same_values(got[name], arrow_values(expected.column(name))), name


@settings(max_examples=2 * settings.default.max_examples,  # scales with the profile
          suppress_health_check=FILE_FIXTURE)
@given(table=arrow_tables(), kind=st.sampled_from(["truncate", "replace", "zero-run"]),
       where=st.floats(0, 1), byte=st.integers(0, 255))
def test_mutated_parquet_table_is_refused_clearly_or_read_as_pyarrow_reads_it(
        tmp_path, table, kind, where, byte):
    good = tmp_path / "good.parquet"
    pq.write_table(table, good, row_group_size=7)
    raw = good.read_bytes()
    i = int(where * (len(raw) - 1))
    raw = (raw[:i] if kind == "truncate" else raw[:i] + bytes([byte]) + raw[i + 1:]
           if kind == "replace" else raw[:i] + bytes(64) + raw[i + 64:])
    path = tmp_path / "t.parquet"
    path.write_bytes(raw)
    try:
        src = sources.parquet(path, target=None, chunk_rows=5)
        names = list(src.file_columns)
        got = joined(list(src.table_blocks(names)), names)
    except MalformedDataError as exc:
        assert str(path) in str(exc), str(exc)
        return
    expected = pq.read_table(path)           # linreg read it: so does pyarrow, the same
    assert names == expected.column_names
    for name in names:
        assert same_values(got[name], arrow_values(expected.column(name))), name


def test_every_byte_of_a_parquet_table_replaced_is_refused_clearly_or_read_as_pyarrow_does(
        tmp_path):
    """Each byte of an 11-row file (two row groups: dictionary, text, booleans, integers,
    floats) replaced by 0, 1 and 255 in turn — every byte with the ``fuzz`` profile, every
    40th in ``make test``.  Before the checks this found corrupt pages read as fewer rows
    (a row group silently dropped), dictionary codes beyond the dictionary, text that is
    not UTF-8 and a footer's column names that are not, escaping without the file's name."""
    table = pa.table({
        "dict": pa.array(["café", "a,b", "", "café", "South", "-", "2.5", "", "O'Brien",
                          "None", "NA"]).dictionary_encode(),
        "text": pa.array(["NA", "None", "O'Brien", "", "2.5", "-", "South", "café", "",
                          "a,b", "café"]),
        "flag": pa.array([True, False, True, False, False, True, True, True, True, False,
                          True]),
        "count": pa.array([0, -2, 4, -1, 2, -3, 3, -2, 0, 0, 0], type=pa.int64()),
        "y": pa.array(np.linspace(-1.0, 1.0, 11))})
    good = tmp_path / "good.parquet"
    pq.write_table(table, good, row_group_size=7)
    raw = good.read_bytes()
    stride = max(1, 1000 // settings.default.max_examples)
    path = tmp_path / "t.parquet"
    outcomes = {"refused": 0, "read": 0}
    for i in range(0, len(raw), stride):
        for byte in (0, 1, 255):
            path.write_bytes(raw[:i] + bytes([byte]) + raw[i + 1:])
            try:        # as a table, and the numbers alone
                src = sources.parquet(path, target=None, chunk_rows=5)
                names = list(src.file_columns)
                got = joined(list(src.table_blocks(names)), names)
                numbers = sources.parquet(path, target="y", features=["count", "flag"],
                                          chunk_rows=5).read_all()
            except MalformedDataError as exc:
                assert str(path) in str(exc), (i, byte, str(exc))
                outcomes["refused"] += 1
                continue
            expected = pq.read_table(path)
            for name in names:
                assert same_values(got[name], arrow_values(expected.column(name))), (i, byte)
            np.testing.assert_array_equal(numbers.X, np.column_stack(
                [arrow_values(expected.column(c)) for c in ("count", "flag")]).astype(float))
            np.testing.assert_array_equal(numbers.y, arrow_values(expected.column("y")))
            outcomes["read"] += 1
    assert outcomes["refused"] and outcomes["read"]


def test_integers_beyond_2_to_the_53_round_as_numpy_converts_them(tmp_path):
    """As a feature, an int64 column is converted to float64 as NumPy converts it (and as a
    table's column is); it was a bare "Integer value … not in range" naming no file."""
    ids = np.array([2**60 + 1, 5, -(2**55) - 3, 2**60], dtype=np.int64)
    pq.write_table(pa.table({"id": ids, "y": [1.0, 2.0, 3.0, 5.0]}), tmp_path / "big.parquet")
    read = sources.parquet(tmp_path / "big.parquet", target="y").read_all()
    np.testing.assert_array_equal(read.X[:, 0], ids.astype(np.float64))
