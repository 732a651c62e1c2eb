"""Malformed CSV and Parquet files: clear errors within bounded memory and time, or — when a
mutated file is still readable — exactly the numbers an independent parser reads from it.

The independent reference for CSV is Python's ``csv`` module plus ``float``; a file that
linreg reads must give the same matrix, so a mutation is never read silently wrong.
"""

from __future__ import annotations

import csv
import io
import math
import os
import resource
import signal
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linreg import LinearRegression, sources

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

pa = pytest.importorskip("pyarrow")
import pyarrow.parquet as pq  # noqa: E402
from traps import PickleTrap  # noqa: E402


def good_csv(n=30, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    X = np.round(rng.standard_normal((n, 2)), 3)
    y = np.round(X @ [1.5, -2.0] + 0.25 + 0.01 * rng.standard_normal(n), 4)
    lines = ["a,b,y"] + [f"{float(a)!r},{float(b)!r},{float(t)!r}" for (a, b), t in zip(X, y)]
    return ("\n".join(lines) + "\n").encode()


def reference_parse(raw: bytes):
    """(X, y) read by Python's csv module and float(), or None if that parser refuses."""
    # bytes that are not UTF-8 survive as lone surrogates: only cells that are read must be text
    text = raw.decode("utf-8-sig", errors="surrogateescape")
    rows = [r for r in csv.reader(io.StringIO(text, newline="")) if r]
    if rows and not all(_is_text(name) for name in rows[0]):
        return None
    # the header may be mangled too: any ≥ 2 distinct names, one of them the target "y"
    width = len(rows[0]) if rows else 0
    if width < 2 or rows[0].count("y") != 1 or len(set(rows[0])) != width:
        return None
    target = rows[0].index("y")
    # a first column with an empty name is pandas' index: left out, never parsed (issue 20),
    # so whatever bytes it holds (text or not) are not read
    used = [j for j in range(width) if j or rows[0][0] != ""]
    target = used.index(target)
    data = []
    for r in rows[1:]:
        if len(r) != width:
            return None
        try:
            vals = [float(r[j]) for j in used]
        except ValueError:
            return None
        if not all(math.isfinite(v) for v in vals):
            return None
        data.append(vals)
    if not data:
        return None
    a = np.array(data)
    return np.delete(a, target, axis=1), a[:, target]


def _is_text(cell: str) -> bool:
    """Whether a cell decoded with ``surrogateescape`` was UTF-8 text in the file."""
    try:
        cell.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_or_error(path):
    """('ok', X, y) or ('error', message); anything but a ValueError fails the test."""
    try:
        src = sources.csv(path, target="y", chunk_rows=7)
        table = src.read_all()
        model = LinearRegression().fit(src)
    except ValueError as exc:
        return ("error", str(exc))
    assert np.isfinite(model.coef_).all()
    return ("ok", table.X, table.y)


MUTATIONS = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1), st.just(b"")),
    st.tuples(st.just("insert"), st.floats(0, 1),
              st.sampled_from([b"\x00", b"\xff", b"\xe9", b'"', b",", b"\n", b"\r", b" ", b"e",
                               b"-", b".", b"nan", b"inf", b"1e999", b"\xef\xbb\xbf", b"_"])),
    st.tuples(st.just("replace"), st.floats(0, 1), st.binary(min_size=1, max_size=1)),
    st.tuples(st.just("delete"), st.floats(0, 1), st.just(b"")),
)


def mutated(raw: bytes, mutations) -> bytes:
    """``raw`` after each ``(kind, where, what)`` of :data:`MUTATIONS` in turn."""
    for kind, where, what in mutations:
        i = int(where * len(raw))
        if kind == "truncate":
            raw = raw[:i]
        elif kind == "insert":
            raw = raw[:i] + what + raw[i:]
        elif kind == "replace":
            raw = raw[:i] + what + raw[i + 1:]
        else:
            raw = raw[:i] + raw[i + 1:]
    return raw


@settings(max_examples=6 * settings.default.max_examples,  # scales with the profile
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3), seed=st.integers(0, 50))
# a byte that is not UTF-8 inside the unnamed (left-out) first column: read, that column unread
@example(mutations=[("truncate", 0.5, b""), ("replace", 0.5, b"\x80"), ("delete", 0.0, b"")],
         seed=0)
def test_mutated_csv_is_refused_clearly_or_read_exactly(tmp_path, mutations, seed):
    raw = mutated(good_csv(seed=seed), mutations)
    path = tmp_path / "data.csv"
    path.write_bytes(raw)
    outcome = read_or_error(path)
    if outcome[0] == "error":
        assert str(path) in outcome[1], outcome[1]
        return
    ref = reference_parse(raw)
    assert ref is not None, f"linreg read a file Python's csv module refuses: {raw[:200]!r}"
    np.testing.assert_array_equal(outcome[1], ref[0])
    np.testing.assert_array_equal(outcome[2], ref[1])


@pytest.mark.parametrize("name, content, message", [
    ("truncated mid-row", good_csv()[:-12], "has 2 fields, expected 3"),
    ("UTF-16", good_csv().decode().encode("utf-16"), "not UTF-8"),
    ("latin-1 in a value", b"a,b,y\n1,2,3\n2,caf\xe9,4\n3,5,1\n", "line 3 (row 1) is not UTF-8 text"),
    ("embedded NUL", b"a,b,y\n1,2,3\n2,1\x00,4\n3,5,1\n", "is not a number"),
    ("unclosed quote", b'a,b,y\n1,2,3\n"2,1,4\n3,5,1\n4,4,4\n', "line 3"),
    ("unclosed quote at the end", b'a,b,y\n1,2,3\n2,1,4\n3,5,"1\n', "line 4 (row 2) is not valid CSV"),
    ("empty file", b"", "empty file"),
    ("header only", b"a,b,y\n", "no data rows"),
    ("binary junk", b"\xff\xfe" + bytes(range(256)) * 8, "not UTF-8"),
    ("control characters", bytes(range(1, 256)), "has no column 'y'"),
    ("NaN value", b"a,b,y\n1,2,3\nnan,1,4\n", "finite"),
    ("missing target column", b"a,b,z\n1,2,3\n", "y"),
])
def test_malformed_csv_gives_a_clear_error(tmp_path, name, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ValueError) as err:
        LinearRegression().fit(sources.csv(path, target="y"))
    assert message in str(err.value)
    assert str(path) in str(err.value)


def _in_child_with_limits(fn, seconds, max_bytes):
    """Run ``fn()`` in a forked child with an alarm and a memory ceiling; return its report."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        signal.alarm(seconds)
        try:
            resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))
            out = "OK " + str(fn())
        except BaseException as exc:
            out = f"{type(exc).__name__}: {str(exc)[:300]}"
        os.write(w, out.encode())
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        out = f.read().decode()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        out = f"killed by signal {os.WTERMSIG(status)}" + (" (time limit)" if os.WTERMSIG(status) == signal.SIGALRM else "")
    return out


def test_csv_with_a_million_columns_is_refused_in_bounded_time_and_memory(tmp_path):
    """A 1,000,000-column header (~8 MB): creating the source and fitting must end within
    20 s and 4 GB of address space with a clear error (the Gram matrix alone would be 8 TB)."""
    ncol = 1_000_000
    path = tmp_path / "wide.csv"
    with open(path, "w") as f:
        f.write(",".join(f"c{i}" for i in range(ncol)) + ",y\n")
        for _ in range(2):
            f.write(",".join(["1"] * (ncol + 1)) + "\n")

    def attempt():
        t0 = time.perf_counter()
        try:
            LinearRegression().fit(sources.csv(path, target="y"))
        except (ValueError, MemoryError) as exc:
            return f"refused after {time.perf_counter() - t0:.1f} s: {type(exc).__name__}: {exc}"
        return "fitted"

    out = _in_child_with_limits(attempt, 20, 4 * 2**30)
    assert out.startswith("OK refused"), out


@pytest.fixture
def good_parquet(tmp_path):
    rng = np.random.default_rng(0)
    table = pa.table({"a": rng.standard_normal(200), "b": rng.standard_normal(200),
                      "y": rng.standard_normal(200)})
    path = tmp_path / "good.parquet"
    pq.write_table(table, path, row_group_size=50)
    return path


@settings(max_examples=2 * settings.default.max_examples,  # scales with the profile
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["truncate", "replace", "zero-run"]), where=st.floats(0, 1),
       byte=st.integers(0, 255))
@pytest.mark.resources
def test_corrupted_parquet_is_an_error_or_finite(good_parquet, tmp_path, kind, where, byte):
    raw = good_parquet.read_bytes()
    i = int(where * (len(raw) - 1))
    if kind == "truncate":
        raw = raw[:i]
    elif kind == "replace":
        raw = raw[:i] + bytes([byte]) + raw[i + 1:]
    else:
        raw = raw[:i] + bytes(64) + raw[i + 64:]
    path = tmp_path / "corrupt.parquet"
    path.write_bytes(raw)
    t0 = time.perf_counter()
    try:
        model = LinearRegression().fit(sources.parquet(path, target="y"))
    except (ValueError, OSError) as exc:       # pyarrow's ArrowInvalid is a ValueError
        assert str(exc)
    else:
        assert np.isfinite(model.coef_).all() and np.isfinite(model.intercept_)
    assert time.perf_counter() - t0 < 10


@pytest.mark.parametrize("name, make, message", [
    ("list column", lambda: pa.table({"a": [[1.0]] * 4, "b": [1.0] * 4, "y": [1.0] * 4}), "holds list"),
    ("null value", lambda: pa.table({"a": [1.0, None, 2.0, 3.0], "b": [1.0] * 4, "y": [1.0] * 4}), "missing value"),
    ("inf value", lambda: pa.table({"a": [1.0, np.inf, 2.0, 3.0], "b": [1.0] * 4, "y": [1.0] * 4}), "inf"),
])
def test_malformed_parquet_values_give_a_clear_error(tmp_path, name, make, message):
    path = tmp_path / "bad.parquet"
    pq.write_table(make(), path)
    with pytest.raises(ValueError) as err:
        LinearRegression().fit(sources.parquet(path, target="y"))
    assert message in str(err.value) and str(path) in str(err.value)


@pytest.mark.parametrize("content", [b"", b"PAR1", b"not a parquet file at all", b"PAR1" + bytes(100) + b"PAR1"])
def test_not_a_parquet_file_is_a_clear_error(tmp_path, content):
    path = tmp_path / "bad.parquet"
    path.write_bytes(content)
    with pytest.raises((ValueError, OSError)) as err:
        LinearRegression().fit(sources.parquet(path, target="y"))
    # the error must say which file, or at least that it is not a readable Parquet file
    assert str(path) in str(err.value) or "arquet" in str(err.value), str(err.value)


def test_parquet_with_many_columns_opens_in_bounded_time(tmp_path):
    """20,000 columns (a 6 MB file): opening the source must not take quadratic time."""
    ncol = 20_000
    path = tmp_path / "wide.parquet"
    pq.write_table(pa.table({**{f"c{i}": np.ones(2) for i in range(ncol)}, "y": np.ones(2)}), path)

    def attempt():
        t0 = time.perf_counter()
        src = sources.parquet(path, target="y")
        return f"opened in {time.perf_counter() - t0:.1f} s with {len(src.feature_names)} features"

    out = _in_child_with_limits(attempt, 10, 4 * 2**30)
    assert out.startswith("OK opened"), out


@settings(max_examples=4 * settings.default.max_examples,  # scales with the profile
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(MUTATIONS, min_size=1, max_size=3), seed=st.integers(0, 50))
def test_mutated_csv_through_read_table_is_refused_clearly_or_read_exactly(tmp_path, mutations, seed):
    """The whole-file reader of the command line (linreg.io.read_table), same property."""
    from linreg.io import read_table
    raw = mutated(good_csv(seed=seed), mutations)
    path = tmp_path / "data.csv"
    path.write_bytes(raw)
    try:
        table = read_table(path, target=["y"])
    except ValueError as exc:
        assert str(path) in str(exc), str(exc)
        return
    ref = reference_parse(raw)
    assert ref is not None, f"read_table read a file Python's csv module refuses: {raw[:200]!r}"
    np.testing.assert_array_equal(table.X, ref[0])
    np.testing.assert_array_equal(table.y, ref[1])


@pytest.mark.parametrize("kind", ["npz", "npy"])
def test_data_files_with_pickles_are_refused_and_never_unpickled(tmp_path, kind):
    """.npy/.npz data files holding pickled objects: a clear error, nothing executed (the
    command line's reader and the streaming source)."""
    from linreg.io import read_table
    marker = tmp_path / "code-ran"
    objects = np.array([PickleTrap(marker)] * 3, dtype=object)
    if kind == "npz":
        path = tmp_path / "data.npz"
        np.savez(path, X=objects, y=np.ones(3))
        readers = [lambda: read_table(path, target=["y"])]
    else:
        path, y_path = tmp_path / "X.npy", tmp_path / "y.npy"
        np.save(path, objects.reshape(3, 1), allow_pickle=True)
        np.save(y_path, np.ones(3))
        readers = [lambda: read_table(path), lambda: sources.npy(path, y_path)]
    for read in readers:
        with pytest.raises(ValueError) as err:
            read()
        assert str(path) in str(err.value)
    assert not marker.exists()
