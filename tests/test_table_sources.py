"""File sources read as the blocks of a table (numbers or codes per column): ``column_kinds``
and ``table_blocks`` of CSV, Parquet, Feather and ``.npy``/``.npz`` files, checked against
pandas (or pyarrow, NumPy) reading the same file."""

import gzip
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
from penguins import load_penguins

from linreg import sources
from linreg.sources import MalformedDataError, SourceChangedError
from linreg.sources.csv_file import MISSING_TOKENS
from linreg.tables.blocks import Codes, TableBlock

PENGUIN_KINDS = {"species": "text", "island": "text", "bill_length_mm": "number",
                 "bill_depth_mm": "number", "flipper_length_mm": "number",
                 "body_mass_g": "number", "sex": "text", "year": "number"}


@pytest.fixture(scope="module")
def penguins():
    return load_penguins()


def write(frame, folder, fmt, **options):
    """``frame`` written as ``fmt`` (csv, csv.gz, parquet, feather) by pandas/pyarrow."""
    path = os.path.join(folder, f"data.{fmt}")
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "csv.gz":
        with gzip.open(path, "wt") as f:
            frame.to_csv(f, index=False)
    elif fmt == "parquet":
        frame.to_parquet(path, row_group_size=options.get("row_group_size", 100))
    else:
        feather.write_feather(frame, path, chunksize=options.get("chunksize", 90))
    return path


def pandas_reading(path) -> pd.DataFrame:
    """The trusted reading of the same file."""
    if ".csv" in path:
        return pd.read_csv(path, keep_default_na=False, na_values=MISSING_TOKENS)
    return pd.read_parquet(path) if path.endswith(".parquet") else pd.read_feather(path)


def values(column) -> list:
    """A column of blocks or of pandas as a list: floats (NaN missing) or levels (None)."""
    if isinstance(column, pd.Series):
        if column.dtype.kind in "fiu":
            return column.astype(float).tolist()
        return [None if pd.isna(v) else v for v in column.tolist()]
    return column


def joined(blocks: list, names: list) -> dict:
    """The blocks' columns end to end, codes replaced by their levels (None where missing)."""
    out = {}
    for name in names:
        parts = []
        for b in blocks:
            col = b.columns[name]
            if isinstance(col, Codes):
                assert col.codes.shape == (b.n_rows,) and col.codes.min(initial=-1) >= -1
                levels = col.levels
                parts += [None if c < 0 else levels[c] for c in col.codes.tolist()]
            else:
                assert col.dtype == np.float64 and col.shape == (b.n_rows,)
                parts += col.tolist()
        out[name] = parts
    return out


def assert_same(got: list, expected: list):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        if isinstance(e, float) and np.isnan(e):
            assert isinstance(g, float) and np.isnan(g)
        else:
            assert g == e and type(g) is type(e), (g, e)


# ----------------------------------------------------------------------------- penguins
@pytest.mark.parametrize("fmt", ["csv", "csv.gz", "parquet", "feather"])
@pytest.mark.parametrize("chunk_rows", [3, 7, 64, None])
def test_penguins_blocks_equal_pandas(penguins, tmp_path, fmt, chunk_rows):
    path = write(penguins, tmp_path, fmt)
    src = sources.from_file(path, chunk_rows=chunk_rows)        # no target
    assert src.column_kinds() == PENGUIN_KINDS
    names = list(penguins.columns)
    blocks = list(src.table_blocks(names))
    assert all(isinstance(b, TableBlock) for b in blocks)
    starts = [b.first_row for b in blocks]
    assert starts == list(np.cumsum([0] + [b.n_rows for b in blocks[:-1]]))
    assert sum(b.n_rows for b in blocks) == len(penguins)
    if chunk_rows is not None and fmt in ("parquet", "feather"):
        assert max(b.n_rows for b in blocks) <= chunk_rows
    if chunk_rows is None:
        assert len(blocks) == 1 or fmt != "csv"
    expected = pandas_reading(path)
    got = joined(blocks, names)
    for name in names:
        assert_same(got[name], values(expected[name]))
    if chunk_rows == 3:     # levels are the block's own: some blocks lack some species
        assert any(len(b.columns["species"].levels) < 3 for b in blocks)
        assert any(-1 in b.columns["sex"].codes for b in blocks)
        assert all(not b.columns["sex"].declared for b in blocks)


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
def test_a_target_among_the_names(penguins, tmp_path, fmt):
    path = write(penguins, tmp_path, fmt)
    src = sources.from_file(path, target="body_mass_g", chunk_rows=50)
    blocks = list(src.table_blocks(["body_mass_g", "species", "sex"]))
    assert_same(joined(blocks, ["body_mass_g"])["body_mass_g"],
                values(penguins["body_mass_g"]))
    assert src.column_kinds(["sex", "year"]) == {"sex": "text", "year": "number"}


def test_where_names_the_line_or_row(penguins, tmp_path):
    csv_path = write(penguins, tmp_path, "csv")
    with open(csv_path) as f:
        lines = f.read().splitlines()
    for block in sources.csv(csv_path, target=None, chunk_rows=10).table_blocks(["island"]):
        for r in (0, block.n_rows - 1):
            text = block.locate(r)
            line = int(text.split()[1])
            assert text == f"line {line} of {csv_path}"
            # the line holds the row's island, and line 1 is the header
            assert lines[line - 1].split(",")[1] == penguins["island"][block.first_row + r]
            assert line == block.first_row + r + 2
    pq_path = write(penguins, tmp_path, "parquet")
    last = list(sources.parquet(pq_path, target=None, chunk_rows=64).table_blocks(["sex"]))[-1]
    assert last.locate(2) == f"row {last.first_row + 2} of {pq_path}"


def test_blank_lines_keep_lines_right(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("g,x\na,1\n\nb,2\r\n\r\nc,3\n")
    block, = sources.csv(path, target=None, chunk_rows=None).table_blocks(["g", "x"])
    assert joined([block], ["g"])["g"] == ["a", "b", "c"]
    assert [block.locate(r) for r in range(3)] == [f"line {n} of {path}" for n in (2, 4, 6)]


@pytest.mark.parametrize("fmt", ["csv", "parquet", "feather"])
def test_shuffled_blocks_cover_every_row_once(penguins, tmp_path, fmt):
    numbers = [c for c, kind in PENGUIN_KINDS.items() if kind == "number"]
    filled = penguins.fillna(dict.fromkeys(numbers, -1.0))   # blocks() reads finite numbers
    path = write(filled, tmp_path, fmt, row_group_size=40, chunksize=40)
    src = sources.from_file(path, chunk_rows=40)
    names = ["species", "bill_depth_mm", "sex"]
    ordered = list(src.table_blocks(names))
    shuffled = list(src.table_blocks(names, shuffle=True, random_state=3))
    assert [b.first_row for b in shuffled] != [b.first_row for b in ordered]
    assert sorted(b.first_row for b in shuffled) == [b.first_row for b in ordered]
    expected = pandas_reading(path)
    for b in shuffled:           # each block holds its own rows, in file order
        rows = expected.iloc[b.first_row:b.first_row + b.n_rows]
        for name, col in joined([b], names).items():
            assert_same(col, values(rows[name]))
    # the same block order as the numbers read with blocks(shuffle=True)
    numeric = sources.from_file(path, target="bill_depth_mm", features=["year"], chunk_rows=40)
    firsts = [c.first_row for *_, c in numeric.checked_blocks(shuffle=True, random_state=3)]
    assert firsts == [b.first_row for b in shuffled]


# ----------------------------------------------------------------------------- kinds
@pytest.mark.parametrize("fmt", ["parquet", "feather"])
def test_declared_categories(tmp_path, fmt):
    frame = pd.DataFrame({
        "c": pd.Categorical(["b", "a", "b", None, "a", "b", "a"], categories=["z", "b", "a"]),
        "n": pd.Categorical([3, 1, 3, 3, 1, 1, 1], categories=[3, 1]),
        "x": np.arange(7.0)})
    path = write(frame, tmp_path, fmt, row_group_size=3, chunksize=3)
    src = sources.from_file(path, chunk_rows=2)
    # Parquet keeps the dictionary of text only: integer categories come back as integers
    n_kind = "category" if fmt == "feather" else "number"
    assert src.column_kinds() == {"c": "category", "n": n_kind, "x": "number"}
    blocks = list(src.table_blocks(["c", "n", "x"]))
    assert len(blocks) == 5                      # row groups of 3 cut into 2 + 1
    for b in blocks:
        assert b.columns["c"].declared and b.columns["c"].levels == ["z", "b", "a"]
        if fmt == "feather":
            assert b.columns["n"].declared and b.columns["n"].levels == [3, 1]
    expected = pandas_reading(path)
    got = joined(blocks, ["c", "n"])
    assert got["c"] == ["b", "a", "b", None, "a", "b", "a"] == values(expected["c"])
    assert got["n"] == [3, 1, 3, 3, 1, 1, 1] == expected["n"].tolist()
    assert {type(v) for v in got["n"]} == {int if n_kind == "category" else float}


def test_bool_columns(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("f,x\ntrue,1\nFALSE,2\nNA,3\nTrue,4\nfalse,5\n,6\n")
    src = sources.csv(path, target=None, chunk_rows=3)
    assert src.column_kinds() == {"f": "bool", "x": "number"}
    blocks = list(src.table_blocks(["f", "x"]))
    for b in blocks:
        assert all(type(level) is bool for level in b.columns["f"].levels)
    expected = pandas_reading(str(path))
    assert_same(joined(blocks, ["f"])["f"], values(expected["f"]))
    assert joined(blocks, ["f"])["f"] == [True, False, None, True, False, None]
    table = pa.table({"f": pa.array([True, None, False, False]), "y": [1.0, 2.0, None, 4.0]})
    pq.write_table(table, tmp_path / "b.parquet", row_group_size=2)
    src = sources.parquet(tmp_path / "b.parquet", target="y", chunk_rows=2)
    assert src.column_kinds() == {"f": "bool", "y": "number"}
    got = joined(list(src.table_blocks(["f", "y"])), ["f", "y"])
    assert got["f"] == table.column("f").to_pylist()
    assert_same(got["y"], [1.0, 2.0, np.nan, 4.0])


def test_csv_missing_tokens_in_text_and_numbers(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text('g,x\na,1\nNA,NULL\n"",2\nn/a,#N/A\nNone,nan\nb,\n')
    block, = sources.csv(path, target=None).table_blocks(["g", "x"])
    expected = pandas_reading(str(path))
    got = joined([block], ["g", "x"])
    assert got["g"] == values(expected["g"]) == ["a", None, None, None, None, "b"]
    assert_same(got["x"], values(expected["x"]))
    assert block.columns["g"].levels == ["a", "b"]


def test_csv_kinds_come_from_the_first_lines_whatever_chunk_rows(tmp_path):
    # text first appears on line 102: still within the lines pyarrow infers the kinds from
    rows = [f"{i},{i % 3}" for i in range(100)] + ["x7,1", "2020-01-02,2"]
    path = tmp_path / "late.csv"
    path.write_text("code,k\n" + "\n".join(rows) + "\n")
    src = sources.csv(path, target=None, chunk_rows=3)
    assert src.column_kinds() == {"code": "text", "k": "number"}
    got = joined(list(src.table_blocks(["code"])), ["code"])["code"]
    assert got == pd.read_csv(path, dtype=str)["code"].tolist()      # cells as written
    dates = tmp_path / "dates.csv"
    dates.write_text("d,x\n2020-01-02,1\n2021-03-04,2\n")
    assert sources.csv(dates, target=None).column_kinds()["d"] == "text"


def test_npy_tables(tmp_path):
    rec = np.array([(1.5, "ab", True), (np.nan, "c", False), (2.0, "ab", True)],
                   dtype=[("x", "f8"), ("s", "U3"), ("b", "?")])
    np.save(tmp_path / "t.npy", rec)
    np.savez(tmp_path / "t.npz", x=rec["x"], s=rec["s"], b=rec["b"], d=np.arange(3).astype("M8[D]"))
    for name in ("t.npy", "t.npz"):
        src = sources.from_file(tmp_path / name, chunk_rows=2)
        kinds = src.column_kinds(["x", "s", "b"])
        assert kinds == {"x": "number", "s": "text", "b": "bool"}
        blocks = list(src.table_blocks(["x", "s", "b"]))
        got = joined(blocks, ["x", "s", "b"])
        assert_same(got["x"], [1.5, np.nan, 2.0])
        assert got["s"] == ["ab", "c", "ab"] and got["b"] == [True, False, True]
        assert blocks[1].locate(0) == f"row 2 of {tmp_path / name}"
    src = sources.from_file(tmp_path / "t.npz", target="x", features=["b"])
    assert src.column_kinds(["d"]) == {"d": "other"}
    with pytest.raises(MalformedDataError, match=r"column 'd' holds datetime64\[D\] values"):
        src.table_blocks(["x", "d"])


# ----------------------------------------------------------------------------- errors
def test_text_in_a_later_block_of_a_numeric_column(tmp_path):
    # more than the first MB the kinds are inferred from: the bad cell is far below it
    n = 120_000
    frame = pd.DataFrame({"g": np.where(np.arange(n) % 2, "left", "right"),
                          "x": np.arange(n) * 0.25, "f": np.arange(n) % 3 == 0})
    path = tmp_path / "late.csv"
    frame.to_csv(path, index=False)
    # one block of the whole file, which pyarrow parses in several pieces
    block, = sources.csv(path, target=None, chunk_rows=None).table_blocks(["g", "x", "f"])
    expected = pandas_reading(str(path))
    for name, col in joined([block], ["g", "x", "f"]).items():
        assert_same(col, values(expected[name]))
    frame["x"] = frame["x"].astype(object)
    frame.loc[100_000, "x"] = "abc"
    frame.to_csv(path, index=False)
    assert os.path.getsize(path) > 2 << 20
    src = sources.csv(path, target=None, chunk_rows=5000)
    assert src.column_kinds() == {"g": "text", "x": "number", "f": "bool"}
    # data row 100000 is line 100002 (the header is line 1)
    with pytest.raises(MalformedDataError,
                       match=r"late\.csv: line 100002 \(row 100000\), column 1 \('x'\): 'abc' is "
                             r"not a number, but the column holds numbers in the first (\d+) rows "
                             r"\(lines 2–\d+\), from which its kind is inferred\. Correct the "
                             r"value"):
        list(src.table_blocks(["g", "x"]))
    list(src.table_blocks(["g", "f"]))          # the other columns read well
    frame.loc[100_000, "x"] = 1.0
    frame["f"] = frame["f"].astype(object)
    frame.loc[118_123, "f"] = "maybe"
    frame.to_csv(path, index=False)
    src = sources.csv(path, target=None, chunk_rows=None)
    with pytest.raises(MalformedDataError, match=r"line 118125 \(row 118123\), column 2 \('f'\): "
                                                 r"'maybe' is not true or false"):
        list(src.table_blocks(["f"]))


def test_malformed_csv_lines(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("g,x\na,1\nb,2,3\n")
    with pytest.raises(MalformedDataError, match=r"ragged\.csv: line 3 \(row 1\) has 3 fields, "
                                                 r"expected 2"):
        sources.csv(path, target=None).column_kinds()
    path = tmp_path / "latin.csv"
    path.write_bytes(b"g,x\n" + b"a,1\n" * 70_000 + b"caf\xe9,2\n")
    src = sources.csv(path, target=None, chunk_rows=10_000)
    with pytest.raises(MalformedDataError, match=r"line 70002 \(row 70000\) is not UTF-8"):
        list(src.table_blocks(["g"]))


def test_unknown_and_unreadable_columns(tmp_path):
    table = pa.table({"t": pa.array([1, 2], pa.timestamp("s")), "x": [1.0, 2.0]})
    pq.write_table(table, tmp_path / "t.parquet")
    src = sources.parquet(tmp_path / "t.parquet", target=None)
    assert src.column_kinds() == {"t": "other", "x": "number"}
    with pytest.raises(MalformedDataError, match=r"t\.parquet: column 't' holds timestamp\[m?s\], which "):
        src.table_blocks(["x", "t"])
    with pytest.raises(MalformedDataError, match=r"t\.parquet has no column 'z'; its columns "
                                                 r"are \['t', 'x'\]"):
        src.table_blocks(["z"])
    with pytest.raises(ValueError, match="more than once"):
        src.table_blocks(["x", "x"])


def test_parquet_files_must_agree_on_kinds(tmp_path):
    pq.write_table(pa.table({"g": ["a", "b"], "x": [1, 2]}), tmp_path / "part0.parquet")
    pq.write_table(pa.table({"g": ["c", None], "x": [0.5, None]}), tmp_path / "part1.parquet")
    src = sources.parquet(str(tmp_path / "part*.parquet"), target=None, chunk_rows=1)
    assert src.column_kinds() == {"g": "text", "x": "number"}       # int64 and double
    blocks = list(src.table_blocks(["g", "x"]))
    got = joined(blocks, ["g", "x"])
    assert got["g"] == ["a", "b", "c", None]
    assert_same(got["x"], [1.0, 2.0, 0.5, np.nan])
    assert blocks[3].locate(0) == f"row 1 of {tmp_path / 'part1.parquet'} (row 3 of the source)"
    pq.write_table(pa.table({"g": [1, 2], "x": [1, 2]}), tmp_path / "part2.parquet")
    src = sources.parquet(str(tmp_path / "part*.parquet"), target=None)
    with pytest.raises(MalformedDataError,
                       match=r"column 'g' holds string \(text\) in \S*part0\.parquet but int64 "
                             r"\(number\) in \S*part2\.parquet"):
        src.column_kinds(["x", "g"])


@pytest.mark.parametrize("fmt", ["csv", "parquet", "feather"])
def test_a_file_changed_while_read(penguins, tmp_path, fmt):
    path = write(penguins, tmp_path, fmt)
    src = sources.from_file(path, chunk_rows=50)
    blocks = src.table_blocks(["species"])
    next(blocks)
    with open(path, "ab") as f:
        f.write(b"\n")
    with pytest.raises(SourceChangedError, match=f"{path} changed after the source was opened"):
        list(blocks)
    with pytest.raises(SourceChangedError, match=f"{path} changed"):
        list(src.table_blocks(["species"]))


# ----------------------------------------------------------------------------- numbers
def test_numbers_keep_their_messages(penguins, tmp_path):
    csv_path = write(penguins, tmp_path, "csv")
    src = sources.csv(csv_path, target="body_mass_g", chunk_rows=50)
    with pytest.raises(MalformedDataError, match=r"line 2 \(row 0\), column 0 \('species'\): "
                                                 r"'Adelie' is not a number"):
        src.stats()
    for fmt in ("parquet", "feather"):
        path = write(penguins, tmp_path, fmt)
        src = sources.from_file(path, target="body_mass_g")      # text features: no error yet
        with pytest.raises(MalformedDataError, match=r"column 'species' holds (large_)?string, "
                                                     r"not numbers \(it is not numeric\)"):
            src.stats()
    # numeric columns only: the numbers read are the pandas ones
    numeric = penguins.dropna(subset=["bill_length_mm", "body_mass_g"])
    numeric[["bill_length_mm", "year", "body_mass_g"]].to_parquet(tmp_path / "n.parquet",
                                                                  index=False)
    src = sources.parquet(tmp_path / "n.parquet", target="body_mass_g", chunk_rows=30)
    X, Y, _ = src.gather()
    np.testing.assert_array_equal(X, numeric[["bill_length_mm", "year"]].to_numpy(float))
    np.testing.assert_array_equal(Y[:, 0], numeric["body_mass_g"].to_numpy(float))


def test_feather_reads_label_columns_along(tmp_path):
    feather.write_feather(pa.table({"x": [1.0, 2.0, 3.0], "y": [1.0, 2.0, 4.0],
                                    "g": ["a", "b", "a"]}), tmp_path / "g.feather")
    src = sources.from_file(tmp_path / "g.feather", target="y", features=["x"])
    (X, Y, w, (labels,)), = src.grouped_blocks(["g"])
    assert X[:, 0].tolist() == [1.0, 2.0, 3.0] and labels.tolist() == ["a", "b", "a"]
