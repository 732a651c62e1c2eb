"""Reading a source's next block on a thread (linreg.rows.files.read_ahead, used by the passes
that number their rows: cross-validation's folds, leave-one-out, the second pass of "mae"):
the blocks arrive in order, a reading error reaches the caller as itself, and a caller that
stops early stops the reader and closes the blocks."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from linreg import LinearRegressionCV, sources
from linreg.rows.files import read_ahead
from linreg.sources import MalformedDataError


def test_order_and_end():
    assert list(read_ahead(iter(range(50)))) == list(range(50))
    assert list(read_ahead(iter([]))) == []
    assert list(read_ahead(iter(range(7)), depth=3)) == list(range(7))


def test_a_reading_error_reaches_the_caller():
    def blocks():
        yield 1
        yield 2
        raise MalformedDataError("row 17 is NaN")

    got = []
    with pytest.raises(MalformedDataError, match="row 17 is NaN"):
        for b in read_ahead(blocks()):
            got.append(b)
    assert got == [1, 2]


def test_stopping_early_closes_the_blocks_and_ends_the_thread():
    closed = threading.Event()

    def blocks():
        try:
            for i in range(10_000):
                yield i
        finally:
            closed.set()

    before = threading.active_count()
    with pytest.raises(RuntimeError, match="stop"):
        for b in read_ahead(blocks()):
            if b == 3:
                raise RuntimeError("stop")
    assert closed.is_set()
    assert threading.active_count() == before


def test_a_nan_in_a_file_is_named_through_the_cv_pass(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((500, 3))
    X[321, 2] = np.nan
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", rng.standard_normal(500))
    with pytest.raises(MalformedDataError, match="row 321, column 2"):
        LinearRegressionCV(alphas=[0.1, 1.0]).fit(
            sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=64))
