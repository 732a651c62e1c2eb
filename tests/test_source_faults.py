"""A file that changes or vanishes between the passes of a multi-pass operation: the TSQR
factor and its refinement, the residual pass of ``summary()``, every pass of a
cross-validation, every epoch of a stochastic fit, the second pass over a table with text
columns.

Each operation is first run undisturbed, counting its passes over the files (a pass is one
call of the reader's block iterator).  Then, for every pass ``k`` of it, the operation is
run again on a fresh copy of the files, with the file changed just before pass ``k``
starts — rewritten in place with other numbers of the same size, a row appended, replaced by
another file, or removed.  Every run must stop with a ``SourceChangedError`` naming the file,
and return nothing: never numbers mixed from two versions of the data.
"""

from __future__ import annotations

import functools
import os
import warnings

import numpy as np
import pandas as pd
import pytest

from linreg import LinearRegression, sources
from linreg.selection import LinearRegressionCV
from linreg.sources import SourceChangedError

pytestmark = pytest.mark.usefixtures("single_threaded_blas")

pytest.importorskip("pyarrow")

N = 240
CHANGES = ["rewrite", "append", "replace", "remove"]


def table(text: bool = False) -> pd.DataFrame:
    """Rows whose two first columns are nearly collinear (so a QR fit refines), and a
    target; with ``text``, a column of shop names."""
    rng = np.random.default_rng(0)
    a = np.round(rng.standard_normal(N), 3)
    frame = pd.DataFrame({"a": a, "b": np.round(a + 1e-3 * rng.standard_normal(N), 6),
                          "c": np.round(rng.standard_normal(N), 3)})
    frame["y"] = np.round(2 * frame.a - frame.b + 0.5 * frame.c + rng.standard_normal(N), 4)
    if text:
        frame["shop"] = np.array(["north", "south", "east"])[rng.integers(0, 3, N)]
    return frame


def write(frame: pd.DataFrame, folder, fmt: str) -> list:
    """The files of ``frame`` as ``fmt``; returns their paths (the first one is changed)."""
    if fmt == "npy":
        paths = [folder / "X.npy", folder / "y.npy"]
        np.save(paths[0], frame[["a", "b", "c"]].to_numpy())
        np.save(paths[1], frame.y.to_numpy())
        return paths
    path = folder / f"data.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, row_group_size=N // 4)
    return [path]


def open_source(paths, fmt: str, chunk_rows: int = N // 4):
    if fmt == "npy":
        return sources.npy(*paths, chunk_rows=chunk_rows)
    return sources.from_file(paths[0], target="y", chunk_rows=chunk_rows)


def change(path, how: str, newer: bytes) -> None:
    """Change the file ``path``: ``newer`` (the same file of another version of the data)
    written over it in place, or in its place (a new inode), one row more, or no file."""
    if how == "remove":
        path.unlink()
    elif how == "append":
        raw = path.read_bytes()
        with open(path, "ab") as f:
            f.write(raw.splitlines(True)[-1] if path.suffix == ".csv" else raw[-40:])
    elif how == "rewrite":
        with open(path, "r+b") as f:
            f.write(newer)
            f.truncate()
    else:
        tmp = path.with_name(path.name + ".new")
        tmp.write_bytes(newer)
        os.replace(tmp, path)


def newer_version(frame: pd.DataFrame, folder, fmt: str) -> bytes:
    """The first file of another version of ``frame``: the values of ``a`` in its last two
    rows swapped (so a CSV or ``.npy`` file keeps its size: only the numbers and the
    modification time tell the versions apart)."""
    other = frame.copy()
    other.loc[[N - 2, N - 1], "a"] = other.a.iloc[[N - 1, N - 2]].to_numpy()
    folder.mkdir()
    return write(other, folder, fmt)[0].read_bytes()


@pytest.fixture
def count_passes(monkeypatch):
    """``count_passes(at, fn)``: from now on every pass over any file source (a call of a
    reader's block iterator) is counted, and ``fn()`` runs just before pass ``at`` starts.
    Returns the counter (``.passes``)."""
    from linreg.sources.base import Source

    class Counter:
        passes = 0

    classes = [Source, *_subclasses(Source)]
    originals = {(cls, name): getattr(cls, name) for cls in classes
                 for name in ("_chunks", "_table_chunks") if hasattr(cls, name)}

    def install(at=None, fn=None):
        counter = Counter()
        for (cls, name), method in originals.items():
            monkeypatch.setattr(cls, name, _counting(method, counter, at, fn))
        return counter
    return install


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _counting(method, counter, at, fn):
    def wrapped(self, *args, **kwargs):
        counter.passes += 1
        if counter.passes == at:
            fn()
        return method(self, *args, **kwargs)
    return wrapped


def fit_qr(src):
    model = LinearRegression(solver="qr").fit(src)
    assert model.n_refinement_passes_ >= 1        # the refinement pass is among the passes
    return model


def fit_and_summary(src):
    model = LinearRegression().fit(src)
    return model, model.summary(cov_type="HC1")


def cross_validation(src):
    return LinearRegressionCV(alphas=[0.1, 10.0], cv=3, shuffle=True, scoring="mae").fit(src)


def leave_one_out(src):
    return LinearRegressionCV(alphas=[0.1, 10.0], cv="loo").fit(src)


def sgd(src):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")           # three epochs do not converge: it says so
        return LinearRegression(solver="sgd", max_iter=3, random_state=0).fit(src)


OPERATIONS = {"qr": fit_qr, "summary": fit_and_summary, "cv": cross_validation,
              "loo": leave_one_out, "sgd": sgd}


def refused_at_every_pass(tmp_path, count_passes, frame, fmt, operation, min_passes):
    """Run ``operation`` undisturbed (counting passes), then once per pass and kind of change
    with the file changed just before that pass: every run is an error naming the file."""
    folder = tmp_path / "clean"
    folder.mkdir()
    counter = count_passes()
    operation(open_source(write(frame, folder, fmt), fmt))
    total = counter.passes
    assert total >= min_passes
    newer = newer_version(frame, tmp_path / "newer", fmt)
    if fmt != "parquet":
        assert len(newer) == (folder / ("X.npy" if fmt == "npy" else f"data.{fmt}")).stat().st_size
    for k in range(1, total + 1):
        for how in CHANGES:
            folder = tmp_path / f"{k}-{how}"
            folder.mkdir()
            paths = write(frame, folder, fmt)
            src = open_source(paths, fmt)
            counter = count_passes(at=k, fn=functools.partial(change, paths[0], how, newer))
            with pytest.raises(SourceChangedError) as caught:
                operation(src)
            assert counter.passes == k, f"pass {k} ({how}) went on after the change"
            assert str(paths[0]) in str(caught.value), (k, how, caught.value)
    return total


@pytest.mark.parametrize("fmt", ["npy", "csv", "parquet"])
@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_a_file_changed_before_any_pass_stops_the_operation(tmp_path, count_passes, fmt, name):
    frame = table()
    refused_at_every_pass(tmp_path, count_passes, frame, fmt, OPERATIONS[name],
                          {"qr": 3, "summary": 2, "cv": 2, "loo": 2, "sgd": 4}[name])


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_table_with_text_changed_before_any_pass_stops_the_fit(tmp_path, count_passes, fmt):
    """The table path: the levels learned in the first pass, the residuals of the second
    read through them — a changed file is never read with another file's levels."""
    def fit_table(src):
        model = LinearRegression(formula="y ~ a + c + shop").fit(src)
        return model, model.summary()

    refused_at_every_pass(tmp_path, count_passes, table(text=True), fmt, fit_table, 2)


def test_the_undisturbed_runs_read_what_pandas_reads(tmp_path):
    """What the passes above read when nothing changes: the fit equals the one in memory."""
    frame = table(text=True)
    path = write(frame, tmp_path, "csv")[0]
    streamed = LinearRegression(formula="y ~ a + c + shop").fit(sources.csv(path, "y",
                                                                            chunk_rows=50))
    memory = LinearRegression(formula="y ~ a + c + shop").fit(pd.read_csv(path))
    np.testing.assert_allclose(streamed.coef_, memory.coef_, rtol=1e-12)
