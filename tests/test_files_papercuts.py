"""Data files as they come (issue 20): CSV logicals and missing-value tokens, .tsv and other
separators, the unnamed index column pandas writes."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from linreg import sources
from linreg.cli import main
from linreg.io import DataFileError, read_table


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture()
def frame():
    rng = np.random.default_rng(3)
    n = 30
    f = pd.DataFrame({"x": rng.normal(size=n), "am": rng.integers(0, 2, n).astype(bool)})
    f["y"] = 1 + 2 * f.x - 3 * f.am + 0.1 * rng.normal(size=n)
    return f


@pytest.mark.parametrize("chunk_rows", [None, 4])
def test_csv_true_false_read_as_parquet_booleans(frame, tmp_path, chunk_rows):
    text = frame.to_csv(index=False)          # pandas writes True/False
    lower = text.replace("True", "true").replace("False", "FALSE")
    (tmp_path / "a.csv").write_text(text)
    (tmp_path / "b.csv").write_text(lower)
    frame.to_parquet(tmp_path / "a.parquet")
    X_pq, y_pq, _ = sources.from_file(tmp_path / "a.parquet", target="y",
                                      chunk_rows=chunk_rows).gather()
    for name in ("a.csv", "b.csv"):
        X, y, _ = sources.from_file(tmp_path / name, target="y", chunk_rows=chunk_rows).gather()
        np.testing.assert_array_equal(X, X_pq)
        np.testing.assert_array_equal(X[:, 1], frame.am.to_numpy(dtype=float))
        np.testing.assert_array_equal(y, y_pq)


@pytest.mark.parametrize("token", ["NA", "NULL", "#N/A", "N/A", "null", "None"])
@pytest.mark.parametrize("chunk_rows", [None, 2])
def test_missing_value_tokens_are_missing_values(tmp_path, token, chunk_rows):
    path = tmp_path / "m.csv"
    path.write_text(f"a,b,y\n1,2,3\n2,5,4\n3,{token},6\n4,4,4\n")
    with pytest.raises(DataFileError, match=rf"line 4 \(row 2\), column 1 \('b'\): a missing "
                                            rf"value \('{token}'\)"):
        sources.from_file(path, target="y", chunk_rows=chunk_rows).gather()
    path.write_text("a,b,y\n1,2,3\n2,maybe,4\n")
    with pytest.raises(DataFileError, match=r"'maybe' is not a number"):
        read_table(path, target="y")


def test_tsv_and_other_separators(frame, tmp_path):
    frame = frame.astype({"am": int})
    ols = sm.OLS(frame.y, sm.add_constant(frame[["x", "am"]])).fit()
    frame.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    frame.to_csv(tmp_path / "d.csv", sep=";", index=False)
    for path, extra in ((tmp_path / "d.tsv", []), (tmp_path / "d.csv", ["--sep", ";"]),
                        (tmp_path / "d.tsv", ["--sep", "\\t"])):
        code, out, err = run(["fit", path, "--target", "y", "--json", *extra])
        assert code == 0, err
        coef = pd.read_json(io.StringIO(out), typ="series")["coef"]
        assert coef["x"] == pytest.approx(ols.params["x"], rel=1e-9)
        assert coef["am"] == pytest.approx(ols.params["am"], rel=1e-9)
    code, _, err = run(["fit", tmp_path / "d.csv", "--target", "y"])
    assert code == 1 and "'y'" in err              # ';' is not the separator it looks for
    code, _, err = run(["fit", tmp_path / "d.csv", "--target", "y", "--sep", ";;"])
    assert code == 2 and "one character" in err


def test_unnamed_index_column_is_left_out_with_a_warning(frame, tmp_path):
    frame = frame.astype({"am": int})
    frame.to_csv(tmp_path / "i.csv")          # pandas' default: the index, with no name
    assert (tmp_path / "i.csv").read_text().startswith(",x,am,y")
    with pytest.warns(UserWarning, match="column 0 has no name"):
        t = read_table(tmp_path / "i.csv", target="y")
    assert t.feature_names == ["x", "am"]
    np.testing.assert_array_equal(t.X, frame[["x", "am"]].to_numpy())
    code, out, err = run(["fit", tmp_path / "i.csv", "--target", "y"])
    assert code == 0 and "column 0 has no name" in err and "give it a name" in err
    ols = sm.OLS(frame.y, sm.add_constant(frame[["x", "am"]])).fit()
    assert f"R² {ols.rsquared:.6g}" in out
    for drop in ("", ",am"):
        code, out, err = run(["fit", tmp_path / "i.csv", "--target", "y", "--drop", drop])
        assert code == 0 and err == "", err
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        t = read_table(tmp_path / "i.csv", target="y", drop=[""])
    assert t.feature_names == ["x", "am"]


@pytest.mark.parametrize("name, codec", [("d.csv.gz", "gzip"), ("d.csv.bz2", "bz2"),
                                         ("d.csv.zst", "zstd"), ("d.tsv.gz", "gzip")])
@pytest.mark.parametrize("chunk_rows", [None, 7])
def test_compressed_csv_reads_as_the_plain_file(frame, tmp_path, name, codec, chunk_rows):
    import pyarrow as pa
    frame = frame.astype({"am": int})
    sep = "\t" if ".tsv" in name else ","
    with pa.output_stream(tmp_path / name, compression=codec) as stream:
        stream.write(frame.to_csv(sep=sep, index=False).encode())
    X, y, _ = sources.from_file(tmp_path / name, target="y", chunk_rows=chunk_rows).gather()
    np.testing.assert_array_equal(X, frame[["x", "am"]].to_numpy(dtype=float))
    np.testing.assert_array_equal(y[:, 0], frame.y.to_numpy())
    ols = sm.OLS(frame.y, sm.add_constant(frame[["x", "am"]])).fit()
    code, out, err = run(["fit", tmp_path / name, "--target", "y"])
    assert code == 0 and f"R² {ols.rsquared:.6g}" in out, err


def test_bad_compressed_files_are_named(tmp_path):
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataFileError, match=r"bad\.csv\.gz cannot be decompressed as gzip"):
        read_table(tmp_path / "bad.csv.gz", target="y")
    (tmp_path / "d.npy.gz").write_bytes(b"x")
    with pytest.raises(DataFileError, match=r"d\.npy\.gz: a compressed file is read as CSV"):
        read_table(tmp_path / "d.npy.gz", target="y")


@pytest.mark.parametrize("chunk_rows", [None, 4])
def test_feather_file_reads_as_parquet_does(frame, tmp_path, chunk_rows):
    import pyarrow as pa
    import pyarrow.feather as feather
    table = pa.Table.from_pandas(frame.assign(name=[f"r{i}" for i in range(len(frame))]),
                                 preserve_index=False)
    feather.write_feather(table, tmp_path / "d.feather", chunksize=9)     # 4 record batches
    frame.to_parquet(tmp_path / "d.parquet")
    X, y, _ = sources.from_file(tmp_path / "d.feather", target="y", drop=["name"],
                                chunk_rows=chunk_rows).gather()
    X_pq, y_pq, _ = sources.from_file(tmp_path / "d.parquet", target="y").gather()
    np.testing.assert_array_equal(X, X_pq)
    np.testing.assert_array_equal(y, y_pq)
    with pytest.raises(DataFileError, match=r"column 'name' holds (large_)?string, not numbers"):
        sources.from_file(tmp_path / "d.feather", target="y").gather()
    model = tmp_path / "m.json"
    assert run(["fit", tmp_path / "d.feather", "--target", "y", "--drop", "name",
                "-o", model, "-q"])[0] == 0
    code, out, err = run(["predict", model, tmp_path / "d.feather", "--keep", "name"])
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out))
    assert got["name"].tolist() == [f"r{i}" for i in range(len(frame))]
    (tmp_path / "junk.arrow").write_bytes(b"junk")
    with pytest.raises(DataFileError, match=r"junk\.arrow is not a readable Feather"):
        read_table(tmp_path / "junk.arrow", target="y")
