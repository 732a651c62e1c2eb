"""Streaming sources (.npy, Parquet, CSV), partial_fit and merge, against independent answers."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.linear_model import Ridge

from linreg import LinearRegression, sources
from linreg.sources import MalformedDataError, SourceChangedError

from exact import exact_least_squares, lstsq_fit, rel


def make_data(n=3000, d=4, k=1, seed=0, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * np.geomspace(1, 100, d) + offset
    W = rng.standard_normal((d, k))
    Y = X @ W + 2.0 + rng.standard_normal((n, k))
    return X, (Y[:, 0] if k == 1 else Y)


@pytest.fixture
def npy_files(tmp_path):
    X, y = make_data(offset=1e4)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    return tmp_path / "X.npy", tmp_path / "y.npy", X, y


# ----------------------------------------------------------------------------- .npy
@pytest.mark.parametrize("solver", ["auto", "normal", "qr", "gd"])
def test_npy_fit_matches_lstsq(npy_files, solver):
    xp, yp, X, y = npy_files
    src = sources.npy(xp, yp, chunk_rows=97)          # ~31 blocks
    model = LinearRegression(solver=solver, max_iter=20000, tol=1e-13).fit(src)
    coef, icpt = lstsq_fit(X, y)
    tol = 1e-10 if solver != "gd" else 1e-8
    assert rel(model.coef_, coef[:, 0]) < tol
    assert abs(model.intercept_ - icpt[0]) < tol * max(1, abs(icpt[0])) * 1e3
    assert model.n_features_in_ == 4 and not hasattr(model, "feature_names_in_")
    assert model.stats_.n_rows == len(X)


def test_npy_ridge_matches_sklearn(npy_files):
    xp, yp, X, y = npy_files
    alpha = 0.3
    model = LinearRegression(alpha=alpha, standardize=False, solver="normal").fit(
        sources.npy(xp, yp, chunk_rows=250))
    qr = LinearRegression(alpha=alpha, standardize=False, solver="qr").fit(
        sources.npy(xp, yp, chunk_rows=250))
    ref = Ridge(alpha=alpha * len(X), solver="svd").fit(X, y)
    assert rel(model.coef_, ref.coef_) < 1e-9
    assert rel(qr.coef_, ref.coef_) < 1e-9
    assert abs(qr.intercept_ - ref.intercept_) < 1e-6


def test_npy_float32_fortran_multitarget_weights(tmp_path):
    X, Y = make_data(n=2000, d=3, k=2, seed=1)
    X32 = X.astype(np.float32)
    w = np.random.default_rng(2).uniform(0, 3, len(X))
    np.save(tmp_path / "X.npy", np.asfortranarray(X32))
    np.save(tmp_path / "Y.npy", Y)
    np.save(tmp_path / "w.npy", w)
    src = sources.npy(tmp_path / "X.npy", tmp_path / "Y.npy", chunk_rows=111,
                      sample_weight_path=tmp_path / "w.npy")
    model = LinearRegression().fit(src)
    coef, icpt = lstsq_fit(X32.astype(np.float64), Y, w)
    assert model.coef_.shape == (2, 3)
    assert rel(model.coef_, coef.T) < 1e-10
    assert rel(model.intercept_, icpt) < 1e-10
    table = src.read_all()
    assert table.X.dtype == np.float32 and np.array_equal(table.X, X32)
    assert np.array_equal(table.y, Y) and table.feature_names is None
    assert np.array_equal(src.read_weights(), w)


def test_npy_auto_switches_to_streamed_qr_on_ill_conditioned(tmp_path):
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 1, 400)
    X = np.column_stack([t, t + 1e-6 * rng.standard_normal(400), rng.standard_normal(400)])
    y = X @ [1.0, 1.0, 1.0] + 0.01 * rng.standard_normal(400)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LinearRegression().fit(sources.npy(tmp_path / "X.npy", tmp_path / "y.npy",
                                                   chunk_rows=37))
    assert model.solver_ == "qr"
    coef, icpt = exact_least_squares(X, y)
    exact = np.array([float(c) for c in coef])
    # κ(X̃) ≈ 1e6: QR keeps ~κ·ε ≈ 1e-10 relative accuracy, the normal equations would not
    assert rel(model.coef_, exact) < 1e-7
    assert abs(model.intercept_ - float(icpt)) < 1e-7


def test_huge_means_keep_full_accuracy(tmp_path):
    """Blocks are accumulated around one common point: with means 1e8 times the spread the
    streamed fit is as accurate as the in-memory one (checked in exact arithmetic)."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((1500, 3)) + 1e8
    y = X @ [1.0, 2.0, 3.0] - 6e8 + rng.standard_normal(1500)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    coef, icpt = exact_least_squares(X, y)
    exact = np.array([float(c) for c in coef])
    for solver in ("normal", "qr"):
        model = LinearRegression(solver=solver).fit(
            sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=50))
        assert rel(model.coef_, exact) < 1e-13, solver


def test_missing_pyarrow_is_explained(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(ImportError, match=r"pip install 'linreg\[files\]'"):
        sources.csv(tmp_path / "any.csv", target="y")


def test_npy_bad_value_reports_file_row_column(tmp_path):
    X, y = make_data(n=500)
    X[321, 2] = np.nan
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    src = sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=50)
    with pytest.raises(MalformedDataError, match=r"X\.npy: row 321, column 2 is NaN"):
        LinearRegression().fit(src)
    with pytest.raises(MalformedDataError, match=r"row 321, column 2"):
        list(src.blocks())
    y[7] = np.inf
    X[321, 2] = 0
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    with pytest.raises(MalformedDataError, match=r"y\.npy: row 7 is inf"):
        sources.npy(tmp_path / "X.npy", tmp_path / "y.npy", chunk_rows=50).stats()


def test_npy_shape_and_dtype_errors(tmp_path):
    np.save(tmp_path / "X.npy", np.zeros((10, 2)))
    np.save(tmp_path / "y9.npy", np.zeros(9))
    np.save(tmp_path / "X1.npy", np.zeros(10))
    np.save(tmp_path / "s.npy", np.array(["a"] * 10))
    np.save(tmp_path / "o.npy", np.array([object()] * 10, dtype=object), allow_pickle=True)
    with pytest.raises(MalformedDataError, match="has 9 rows but .*X.npy has 10"):
        sources.npy(tmp_path / "X.npy", tmp_path / "y9.npy")
    with pytest.raises(MalformedDataError, match="must be 2-D"):
        sources.npy(tmp_path / "X1.npy", tmp_path / "X1.npy")
    with pytest.raises(MalformedDataError, match="not a real number type"):
        sources.npy(tmp_path / "X.npy", tmp_path / "s.npy")
    with pytest.raises(MalformedDataError, match=r"o\.npy is not a readable \.npy file: .*pickle"):
        sources.npy(tmp_path / "X.npy", tmp_path / "o.npy")
    with pytest.raises(ValueError, match="chunk_rows=0"):
        sources.npy(tmp_path / "X.npy", tmp_path / "X1.npy", chunk_rows=0)
    with pytest.raises(ValueError, match="y=None"):
        LinearRegression().fit(sources.npy(tmp_path / "X.npy", tmp_path / "X1.npy"), np.zeros(10))


def test_file_changed_during_fit_is_detected(npy_files):
    xp, yp, X, y = npy_files
    src = sources.npy(xp, yp, chunk_rows=500)
    blocks = src.blocks()
    next(blocks)
    st = os.stat(xp)
    os.utime(xp, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    with pytest.raises(SourceChangedError, match="X.npy changed after the source was opened"):
        list(blocks)
    with pytest.raises(SourceChangedError):
        LinearRegression().fit(src)


def test_shuffled_blocks_visit_every_row_once(npy_files):
    xp, yp, X, y = npy_files
    src = sources.npy(xp, yp, chunk_rows=128)
    order1 = [b[0][0, 0] for b in src.blocks(shuffle=True, random_state=1)]
    order2 = [b[0][0, 0] for b in src.blocks(shuffle=True, random_state=1)]
    order3 = [b[0][0, 0] for b in src.blocks(shuffle=True, random_state=2)]
    assert order1 == order2 and order1 != order3
    rows = np.concatenate([b[0] for b in src.blocks(shuffle=True, random_state=5)])
    ys = np.concatenate([b[1][:, 0] for b in src.blocks(shuffle=True, random_state=5)])
    key = np.lexsort(rows.T[::-1])
    ref = np.lexsort(X.T[::-1])
    assert np.array_equal(rows[key], X[ref]) and np.array_equal(ys[key], y[ref])
    # within a block the rows are permuted, the block's set of rows is kept
    first = next(src.blocks(shuffle=True, random_state=7))[0]
    start = int(np.flatnonzero(X[:, 0] == first[0, 0])[0]) // 128 * 128
    assert sorted(first[:, 0]) == sorted(X[start:start + len(first), 0])
    assert not np.array_equal(first, X[start:start + len(first)])


def test_memory_is_bounded_by_the_chunk(tmp_path):
    """A 64 MB .npy file is fitted with far less extra resident memory than its size."""
    n, d = 160_000, 50
    X = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64, shape=(n, d))
    rng = np.random.default_rng(0)
    for s in range(0, n, 100_000):
        X[s:s + 100_000] = rng.standard_normal((min(100_000, n - s), d))
    X.flush()
    del X
    np.save(tmp_path / "y.npy", rng.standard_normal(n))
    np.save(tmp_path / "Xs.npy", rng.standard_normal((5000, d)))
    np.save(tmp_path / "ys.npy", rng.standard_normal(5000))
    script = textwrap.dedent(f"""
        import numpy as np
        from linreg import LinearRegression, sources
        src = sources.npy({str(tmp_path / 'X.npy')!r}, {str(tmp_path / 'y.npy')!r}, chunk_rows=5_000)
        small = sources.npy({str(tmp_path / 'Xs.npy')!r}, {str(tmp_path / 'ys.npy')!r}, chunk_rows=500)
        LinearRegression().fit(small)
        LinearRegression(solver="qr").fit(small)
        def status(key):   # this process's own memory (ru_maxrss would include the parent's)
            with open("/proc/self/status") as f:
                return int(next(line.split()[1] for line in f if line.startswith(key))) * 1024
        before = status("VmRSS:")
        LinearRegression().fit(src)
        LinearRegression(solver="qr").fit(src)
        print(status("VmHWM:") - before)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    extra = int(out.stdout.split()[-1])
    assert extra < 30e6, f"{extra / 1e6:.0f} MB extra for a {n * d * 8 / 1e6:.0f} MB file"


@pytest.mark.parametrize("solver", ["sgd", "minibatch"])
def test_stochastic_solvers_stream_the_file(npy_files, solver):
    xp, yp, X, y = npy_files
    X, y = X[:1500], y[:1500]
    np.save(xp, X)
    np.save(yp, y)
    fit = lambda: LinearRegression(solver=solver, random_state=3, max_iter=25).fit(  # noqa: E731
        sources.npy(xp, yp, chunk_rows=200))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = fit(), fit()
    assert np.array_equal(a.coef_, b.coef_) and a.n_iter_ == 25     # reproducible
    coef, icpt = lstsq_fit(X, y)
    best = np.mean((X @ coef[:, 0] + icpt[0] - y) ** 2)
    assert np.mean((a.predict(X) - y) ** 2) < 1.05 * best


def test_summary_of_a_streamed_fit_matches_statsmodels(npy_files):
    import statsmodels.api as sm
    xp, yp, X, y = npy_files
    model = LinearRegression().fit(sources.npy(xp, yp, chunk_rows=300))
    result = model.summary()                  # reads the file again for the residuals
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    np.testing.assert_allclose(result.params, ref.params, rtol=1e-9)
    np.testing.assert_allclose(result.bse, ref.bse, rtol=1e-8)
    assert abs(result.rsquared - ref.rsquared) < 1e-10


# ----------------------------------------------------------------------------- Parquet
@pytest.fixture
def frame():
    X, Y = make_data(n=2400, d=3, k=2, seed=4)
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    df["y"], df["y2"] = Y[:, 0], Y[:, 1]
    df["w"] = np.random.default_rng(5).uniform(0.5, 2, len(df))
    df["id"] = np.arange(len(df))
    return df


def write_parquet(df, folder, parts=3, row_group_size=300):
    for i, part in enumerate(np.array_split(np.arange(len(df)), parts)):
        df.iloc[part].to_parquet(folder / f"part{i}.parquet", row_group_size=row_group_size)


def test_parquet_glob_matches_sklearn(frame, tmp_path):
    write_parquet(frame, tmp_path)
    src = sources.parquet(str(tmp_path / "*.parquet"), target="y", drop=["y2", "id"],
                          weight="w", chunk_rows=128)
    model = LinearRegression().fit(src)
    ref = SkLinearRegression().fit(frame[["a", "b", "c"]], frame["y"], sample_weight=frame["w"])
    assert rel(model.coef_, ref.coef_) < 1e-10
    assert abs(model.intercept_ - ref.intercept_) < 1e-9
    assert list(model.feature_names_in_) == ["a", "b", "c"]
    # names checked at predict time, as for a DataFrame fit
    assert np.allclose(model.predict(frame[["a", "b", "c"]]), ref.predict(frame[["a", "b", "c"]]))
    qr = LinearRegression(solver="qr").fit(src)
    assert rel(qr.coef_, ref.coef_) < 1e-10


def test_parquet_multi_target_features_and_read_all(frame, tmp_path):
    write_parquet(frame, tmp_path, parts=2)
    src = sources.parquet([tmp_path / "part0.parquet", tmp_path / "part1.parquet"],
                          target=["y", "y2"], features=["c", "a"], chunk_rows=100)
    model = LinearRegression().fit(src)
    coef, icpt = lstsq_fit(frame[["c", "a"]].to_numpy(), frame[["y", "y2"]].to_numpy())
    assert model.coef_.shape == (2, 2) and rel(model.coef_, coef.T) < 1e-10
    t = src.read_all()
    assert t.feature_names == ["c", "a"] and t.target_name == ["y", "y2"]
    assert np.array_equal(t.X, frame[["c", "a"]].to_numpy())
    assert np.array_equal(t.y, frame[["y", "y2"]].to_numpy())
    assert src.stats().n_rows == len(frame)
    shuffled = list(src.blocks(shuffle=True, random_state=0))
    assert sum(len(b[0]) for b in shuffled) == len(frame)


def test_parquet_errors(frame, tmp_path):
    write_parquet(frame, tmp_path, parts=2)
    with pytest.raises(FileNotFoundError, match="no file matches"):
        sources.parquet(str(tmp_path / "nothing*.parquet"), target="y")
    with pytest.raises(MalformedDataError, match=r"part0\.parquet has no column 'z' \(the target\)"):
        sources.parquet(str(tmp_path / "*.parquet"), target="z")
    bad = frame.copy()
    bad.loc[1500, "b"] = np.nan
    write_parquet(bad, tmp_path, parts=2)
    src = sources.parquet(str(tmp_path / "*.parquet"), target="y", drop=["y2", "w", "id"],
                          chunk_rows=64)
    with pytest.raises(MalformedDataError,
                       match=r"part1\.parquet: row 300 \(row 1500 of the source\), feature "
                             r"column 1 \('b'\) is NaN or a missing value"):
        LinearRegression().fit(src)
    text = frame.copy()
    text["c"] = text["c"].astype(str)
    text.to_parquet(tmp_path / "part1.parquet")
    # a text column may be chosen (a table reads it as categories): reading numbers refuses it
    src = sources.parquet(str(tmp_path / "*.parquet"), target="y")
    with pytest.raises(MalformedDataError, match=r"part1\.parquet: column 'c' holds (large_)?string, not numbers"):
        src.stats()


# ----------------------------------------------------------------------------- CSV
def test_csv_matches_lstsq(frame, tmp_path):
    frame.to_csv(tmp_path / "d.csv", index=False)
    src = sources.csv(tmp_path / "d.csv", target="y", features=["a", "b", "c"], chunk_rows=100)
    model = LinearRegression().fit(src)
    coef, icpt = lstsq_fit(frame[["a", "b", "c"]].to_numpy(), frame["y"].to_numpy())
    assert rel(model.coef_, coef[:, 0]) < 1e-10
    assert len(src._ranges) >= 20            # many blocks
    qr = LinearRegression(solver="qr").fit(src)
    assert rel(qr.coef_, coef[:, 0]) < 1e-10
    X, y, names, target = src.read_all()
    assert names == ["a", "b", "c"] and target == "y"
    np.testing.assert_allclose(X, frame[["a", "b", "c"]].to_numpy(), rtol=1e-15)
    blocks = list(src.blocks(shuffle=True, random_state=3))
    assert len(blocks) == len(src._ranges) and sum(len(b[0]) for b in blocks) == len(frame)


@pytest.mark.parametrize("bad_line, message", [
    ("1.0,abc,3.0,4.0\n", r"line 503 \(row 501\), column 1 \('b'\): 'abc' is not a number"),
    ("1.0,,3.0,4.0\n", r"line 503 \(row 501\), column 1 \('b'\): an empty value"),
    ("1.0,2.0,3.0\n", r"line 503 \(row 501\) has 3 fields, expected 4"),
    ("1.0,2.0,3.0,4.0,5.0\n", r"line 503 \(row 501\) has 5 fields, expected 4"),
    ("1.0,2.0,nan,4.0\n", r"line 503 \(row 501\), column 2 \('c'\) is 'nan'"),
    ("1.0,2.0,3.0,inf\n", r"line 503 \(row 501\), column 3 \('y'\) is inf"),
])
def test_csv_malformed_rows(tmp_path, bad_line, message):
    rng = np.random.default_rng(0)
    lines = ["a,b,c,y\n"] + [",".join(f"{v:.6f}" for v in rng.standard_normal(4)) + "\n"
                            for _ in range(1000)]
    lines[502] = bad_line                   # file line 503, data row 501
    (tmp_path / "bad.csv").write_text("".join(lines))
    with pytest.raises(MalformedDataError, match=r"bad\.csv: " + message):
        LinearRegression().fit(sources.csv(tmp_path / "bad.csv", target="y", chunk_rows=64))


def test_csv_header_errors(tmp_path):
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(MalformedDataError, match="empty file"):
        sources.csv(tmp_path / "e.csv", target="y")
    (tmp_path / "d.csv").write_text("a,a,y\n1,2,3\n")
    with pytest.raises(MalformedDataError, match=r"duplicate column names \['a'\]"):
        sources.csv(tmp_path / "d.csv", target="y")
    (tmp_path / "t.csv").write_text("a;y\n1;2\n2;3\n4;4\n")
    src = sources.csv(tmp_path / "t.csv", target="y", delimiter=";")
    model = LinearRegression().fit(src)
    coef, icpt = lstsq_fit(np.array([[1.0], [2.0], [4.0]]), np.array([2.0, 3.0, 4.0]))
    assert rel(model.coef_, coef[:, 0]) < 1e-12


def test_csv_changed_during_pass(frame, tmp_path):
    frame.to_csv(tmp_path / "d.csv", index=False)
    src = sources.csv(tmp_path / "d.csv", target="y", chunk_rows=100)
    it = src.blocks()
    next(it)
    with open(tmp_path / "d.csv", "a") as f:
        f.write("1,2,3,4,5,6,7\n")
    with pytest.raises(SourceChangedError, match="d.csv changed"):
        list(it)


# ----------------------------------------------------------------------------- partial_fit, merge
def test_partial_fit_equals_batch_fit():
    X, y = make_data(n=4000, d=5, seed=6, offset=50.0)
    w = np.random.default_rng(7).uniform(0, 2, len(X))
    model = LinearRegression(solver="normal")
    cuts = [0, 1, 17, 500, 1999, 3000, 4000]          # uneven chunks, one of a single row
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")    # after one row the fit is (rightly) rank-deficient
        for a, b in zip(cuts, cuts[1:]):
            model.partial_fit(X[a:b], y[a:b], sample_weight=w[a:b])
    ref = SkLinearRegression().fit(X, y, sample_weight=w)
    assert rel(model.coef_, ref.coef_) < 1e-10
    assert abs(model.intercept_ - ref.intercept_) < 1e-9 * abs(ref.intercept_)
    ridge = LinearRegression(alpha=0.01, standardize=False)
    for a, b in zip(cuts[1:], cuts[2:]):
        ridge.partial_fit(X[a:b], y[a:b])
    X, y = X[1:], y[1:]
    ref = Ridge(alpha=0.01 * len(X), solver="svd").fit(X, y)
    assert rel(ridge.coef_, ref.coef_) < 1e-10


def test_partial_fit_keeps_full_accuracy_with_huge_means():
    rng = np.random.default_rng(13)
    X = rng.standard_normal((1200, 2)) + 1e8
    y = X @ [1.0, -1.0] + 5.0 + rng.standard_normal(1200)
    model = LinearRegression()
    for a in range(0, 1200, 100):
        model.partial_fit(X[a:a + 100], y[a:a + 100])
    coef, icpt = exact_least_squares(X, y)
    assert rel(model.coef_, np.array([float(c) for c in coef])) < 1e-12


def test_partial_fit_continues_a_fit_and_checks_shapes():
    X, Y = make_data(n=600, d=3, k=2, seed=8)
    model = LinearRegression().fit(X[:200], Y[:200])
    model.partial_fit(X[200:], Y[200:])
    coef, icpt = lstsq_fit(X, Y)
    assert rel(model.coef_, coef.T) < 1e-10
    with pytest.raises(ValueError, match="3 features"):
        model.partial_fit(X[:5, :2], Y[:5])
    with pytest.raises(ValueError, match="1 target"):
        model.partial_fit(X[:5], Y[:5, 0])
    qr = LinearRegression(solver="qr").partial_fit(X[:300], Y[:300]).partial_fit(X[300:], Y[300:])
    assert qr.solver_ == "qr" and rel(qr.coef_, coef.T) < 1e-10



def test_partial_fit_qr_continues_a_fit_from_a_file(tmp_path):
    """The QR factor of the rows so far comes from the source (one more pass over the file),
    then each chunk is stacked under it: the joint fit's exact answer."""
    X, y = make_data(n=900, d=3, seed=18)
    np.save(tmp_path / "X.npy", X[:600])
    np.save(tmp_path / "y.npy", y[:600])
    model = LinearRegression(solver="qr").fit(sources.npy(tmp_path / "X.npy", tmp_path / "y.npy",
                                                          chunk_rows=128))
    model.partial_fit(X[600:], y[600:])
    coef, icpt = lstsq_fit(X, y)
    assert model.solver_ == "qr" and model.stats_.n_rows == 900
    assert rel(model.coef_, coef[:, 0]) < 1e-10 and abs(model.intercept_ - icpt[0]) < 1e-8
    merged = LinearRegression().fit(X[:10], y[:10])
    merged.merge(LinearRegression().fit(X[10:20], y[10:20]))
    with pytest.raises(ValueError, match="can continue only a model whose rows it has seen"):
        merged.set_params(solver="qr").partial_fit(X[20:], y[20:])

def test_merge_is_the_joint_fit():
    X, y = make_data(n=3000, d=4, seed=9)
    df = pd.DataFrame(X, columns=list("abcd"))
    a = LinearRegression().fit(df.iloc[:1000], y[:1000])
    b = LinearRegression().fit(df.iloc[1000:], y[1000:])
    assert a.merge(b) is a
    ref = SkLinearRegression().fit(X, y)
    assert rel(a.coef_, ref.coef_) < 1e-10 and abs(a.intercept_ - ref.intercept_) < 1e-9
    assert a.stats_.n_rows == 3000


def test_merge_with_a_model_loaded_from_file(tmp_path):
    X, y = make_data(n=1000, d=3, seed=11)
    LinearRegression().fit(X[:400], y[:400]).save(tmp_path / "m.json")
    from linreg import load
    merged = LinearRegression().fit(X[400:], y[400:]).merge(load(tmp_path / "m.json"))
    coef, icpt = lstsq_fit(X, y)
    assert rel(merged.coef_, coef[:, 0]) < 1e-10


def test_merge_errors(tmp_path):
    X, y = make_data(n=300, d=3, seed=10)
    fitted = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="the other model is not fitted"):
        LinearRegression().fit(X, y).merge(LinearRegression())
    with pytest.raises(ValueError, match=r"different parameters: alpha=0\.0 vs 1\.0"):
        LinearRegression().fit(X, y).merge(LinearRegression(alpha=1.0).fit(X, y))
    with pytest.raises(ValueError, match="3 features with one of 2"):
        LinearRegression().fit(X, y).merge(LinearRegression().fit(X[:, :2], y))
    df = pd.DataFrame(X, columns=list("abc"))
    with pytest.raises(ValueError, match="different features"):
        LinearRegression().fit(df, y).merge(LinearRegression().fit(df[list("acb")], y))
    with pytest.raises(ValueError, match="different targets"):
        LinearRegression().fit(X, y).merge(LinearRegression().fit(X, np.c_[y, y]))
    no_stats = LinearRegression().fit(X, y)
    del no_stats.stats_
    with pytest.raises(ValueError, match="no sufficient statistics"):
        LinearRegression().fit(X, y).merge(no_stats)
    with pytest.raises(ValueError, match="another LinearRegression"):
        fitted.merge(Ridge())


# ----------------------------------------------------------------------------- one reader for every format
def write_every_format(frame, folder):
    """``frame`` as CSV, Parquet, .npz, structured .npy and (numbers only) 2-D .npy files."""
    paths = {"csv": folder / "t.csv", "parquet": folder / "t.parquet", "npz": folder / "t.npz",
             "structured": folder / "s.npy", "matrix": folder / "m.npy"}
    frame.to_csv(paths["csv"], index=False)
    frame.to_parquet(paths["parquet"], row_group_size=500)
    np.savez(paths["npz"], **{c: frame[c].to_numpy() for c in frame.columns})
    np.save(paths["structured"], frame.to_records(index=False))
    np.save(paths["matrix"], frame.to_numpy(dtype=np.float64))
    return paths


@pytest.mark.parametrize("chunk_rows", [97, None])
def test_from_file_reads_every_format_the_same(frame, tmp_path, chunk_rows):
    """Weighted fits from all five kinds of file equal scikit-learn's on the frame; the rows
    read equal the frame's numbers (CSV through its shortest round-trip text)."""
    paths = write_every_format(frame, tmp_path)
    ref = SkLinearRegression().fit(frame[["a", "b", "c"]], frame["y"], sample_weight=frame["w"])
    position = {c: str(j) for j, c in enumerate(frame.columns)}   # a 2-D .npy names by index
    for kind, path in paths.items():
        name = (lambda c: position[c]) if kind == "matrix" else (lambda c: c)
        src = sources.from_file(path, target=name("y"), features=[name(c) for c in "abc"],
                                weight=name("w"), chunk_rows=chunk_rows)
        model = LinearRegression().fit(src)
        assert rel(model.coef_, ref.coef_) < 1e-10, kind
        assert abs(model.intercept_ - ref.intercept_) < 1e-9, kind
        X, y, names, target = src.read_all()
        np.testing.assert_array_equal(X, frame[["a", "b", "c"]].to_numpy(), err_msg=kind)
        np.testing.assert_array_equal(y, frame["y"].to_numpy(), err_msg=kind)
        np.testing.assert_array_equal(src.read_weights(), frame["w"].to_numpy(), err_msg=kind)
        assert names == [name(c) for c in "abc"] and target == name("y")
        shuffled = np.concatenate([b[0] for b in src.blocks(shuffle=True, random_state=1)])
        assert sorted(shuffled[:, 0]) == sorted(frame["a"]), kind    # every row, once


def test_read_table_is_the_source_read_whole(frame, tmp_path):
    from linreg.io import read_table

    paths = write_every_format(frame, tmp_path)
    for kind in ("csv", "parquet", "npz", "structured"):
        table = read_table(paths[kind], target="y", drop=["y2", "id"], weight="w")
        X, y, _, _ = sources.from_file(paths[kind], target="y", drop=["y2", "id"], weight="w",
                                       chunk_rows=64).read_all()
        np.testing.assert_array_equal(table.X, X)
        np.testing.assert_array_equal(table.X, frame[["a", "b", "c"]].to_numpy())
        np.testing.assert_array_equal(table.y, y)
        np.testing.assert_array_equal(table.weights, frame["w"].to_numpy())
        assert table.feature_names == ["a", "b", "c"] and table.target_names == ["y"]
        assert table.weight_name == "w" and table.X.dtype == np.float64


def test_one_error_class_for_both_readers(tmp_path):
    from linreg.io import DataFileError, read_table

    assert DataFileError is MalformedDataError and issubclass(MalformedDataError, ValueError)
    (tmp_path / "bad.csv").write_text("a,y\n1,2\nx,3\n")
    with pytest.raises(MalformedDataError, match=r"bad\.csv: line 3 \(row 1\), column 0 \('a'\)"):
        read_table(tmp_path / "bad.csv", target="y")
    with pytest.raises(DataFileError, match=r"bad\.csv: line 3 \(row 1\), column 0 \('a'\)"):
        sources.csv(tmp_path / "bad.csv", target="y").read_all()
    (tmp_path / "data.xlsx").write_text("a,y\n1,2\n")
    with pytest.raises(DataFileError, match=r"data\.xlsx: cannot tell the format .* '\.xlsx'"):
        sources.from_file(tmp_path / "data.xlsx", target="y")
    with pytest.raises(DataFileError, match="no such file"):
        sources.from_file(tmp_path / "absent.csv", target="y")


def test_a_file_without_target_is_read_for_prediction(frame, tmp_path):
    paths = write_every_format(frame[["a", "b", "c"]], tmp_path)
    for kind in ("csv", "parquet", "npz", "structured"):
        src = sources.from_file(paths[kind], features=["c", "a"], chunk_rows=1000)
        X, y, names, target = src.read_all()
        assert y is None and target is None and names == ["c", "a"]
        np.testing.assert_array_equal(X, frame[["c", "a"]].to_numpy())
        with pytest.raises(ValueError, match="no target column"):
            LinearRegression().fit(src)


def test_weights_are_checked_with_file_line_and_column(frame, tmp_path):
    bad = frame.copy()
    bad.loc[700, "w"] = -0.5
    bad.to_csv(tmp_path / "neg.csv", index=False)
    for chunk_rows in (64, None):
        src = sources.csv(tmp_path / "neg.csv", target="y", weight="w", drop=["y2", "id"],
                          chunk_rows=chunk_rows)
        with pytest.raises(MalformedDataError, match=r"neg\.csv: line 702 \(row 700\), sample "
                                                     r"weight 'w' is -0\.5; weights must be >= 0"):
            LinearRegression().fit(src)
    write_parquet(bad, tmp_path, parts=2)
    with pytest.raises(MalformedDataError, match=r"part0\.parquet: row 700 \(row 700 of the "
                                                 r"source\), sample weight 'w' is -0\.5"):
        LinearRegression().fit(sources.parquet(str(tmp_path / "*.parquet"), target="y",
                                               weight="w", drop=["y2", "id"]))
    zero = frame.assign(w=0.0)
    zero.to_csv(tmp_path / "zero.csv", index=False)
    with pytest.raises(MalformedDataError, match=r"zero\.csv: the sample weights \('w'\) are "
                                                 r"zero in every row, lines 2–2401"):
        LinearRegression().fit(sources.csv(tmp_path / "zero.csv", target="y", weight="w"))


def test_npy_and_npz_tables_give_clear_errors(tmp_path):
    np.savez(tmp_path / "ragged.npz", a=np.ones(3), y=np.ones(4))
    np.savez(tmp_path / "wide.npz", a=np.ones((3, 2)), y=np.ones(3))
    np.save(tmp_path / "flat.npy", np.ones(5))
    np.save(tmp_path / "text.npy", np.array([(1.0, "x", 2.0)] * 3,
                                            dtype=[("a", "f8"), ("s", "U3"), ("y", "f8")]))
    cases = [("ragged.npz", {}, r"ragged\.npz: the columns have different lengths \[3, 4\]"),
             ("wide.npz", {}, r"wide\.npz: array 'a' has shape \(3, 2\)"),
             ("flat.npy", {}, r"flat\.npy holds an array of shape \(5,\)"),
             ("text.npy", {}, r"text\.npy: column 's' holds <U3 values, not numbers"),
             ("text.npy", {"features": ["a", "zz"]},
              r"text\.npy has no column 'zz' \(a feature\); its columns are \['a', 's', 'y'\]")]
    for name, options, message in cases:
        with pytest.raises(MalformedDataError, match=message):
            sources.from_file(tmp_path / name, target="y", **options).gather()
    src = sources.from_file(tmp_path / "text.npy", target="y", drop="s")
    assert src.read_all().X.tolist() == [[1.0]] * 3


def test_a_header_quote_never_closed_is_refused(tmp_path):
    """Python's csv module reads ``a,b,"y`` and the lines below as one field that never ends;
    linreg must not take the header as a, b, y (a case the CSV fuzzer found)."""
    import csv as _csv
    import io as _io
    path = tmp_path / "q.csv"
    text = 'a,b,"y\n0.126,-0.132,0.6986\n0.64,0.105,0.9883\n'
    path.write_text(text)
    with pytest.raises(_csv.Error):
        list(_csv.reader(_io.StringIO(text, newline=""), strict=True))
    with pytest.raises(ValueError, match=r"q\.csv: line 1 \(the header\).*never closed"):
        sources.csv(path, target="y")


def test_the_package_keeps_every_public_name_and_says_which_npy_reader_is_which(tmp_path):
    """sources.py became a package: every name it exported is still exported, and the two
    ``.npy`` readers have names that say which is which (their old names still work)."""
    from linreg.validation import name_list
    exported = {"Source", "NpySource", "ParquetSource", "CsvSource", "ArraySource", "npy",
                "parquet", "csv", "arrays", "from_file", "is_source", "representative_point",
                "shifted_stats", "unshift", "Table", "MalformedDataError", "SourceChangedError",
                "DEFAULT_CHUNK_ROWS", "CSV_SUFFIXES", "PARQUET_SUFFIXES", "svmlight",
                "SvmlightSource", "SVMLIGHT_SUFFIXES", "is_svmlight"}
    assert set(sources.__all__) == exported
    assert all(hasattr(sources, name) for name in exported)
    np.save(tmp_path / "X.npy", np.ones((4, 2)))
    np.save(tmp_path / "y.npy", np.ones(4))
    pair = sources.npy(tmp_path / "X.npy", tmp_path / "y.npy")
    table = sources.from_file(tmp_path / "X.npy", target="1")
    assert sources.NpySource is sources.NpyXYSource and isinstance(pair, sources.NpyXYSource)
    assert sources.ArraySource is sources.NpyColumnsSource
    assert isinstance(table, sources.NpyColumnsSource) and table.feature_names == ["0"]
    assert name_list(None) is None and name_list("y") == ["y"]
    names = ["a", "b"]
    assert name_list(("a", "b")) == names and name_list(names) is not names
