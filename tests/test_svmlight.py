"""sources.svmlight against scikit-learn's load_svmlight_file on files dump_svmlight_file wrote;
its refusals (file and line named); and iterative fits from rows not in memory (the rows path
over blocks) against the in-memory fits of the same rows, which tests/test_sparse_training.py
checks against the textbook."""

import os
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file

from linreg import LinearRegression, sources
from linreg.sources import MalformedDataError, SourceChangedError

QUIET = pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")


def sparse_rows(n=300, d=40, seed=0, decimals=None, density=0.2):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed,
                  data_rvs=lambda m: rng.normal(size=m))
    y = X @ rng.normal(size=d) + 0.5 + 0.1 * rng.normal(size=n)
    if decimals is not None:
        X.data, y = np.round(X.data, decimals), np.round(y, decimals)
        X.eliminate_zeros()
    return X, y


def read(path, **kw):
    X, Y, w = sources.svmlight(path, **kw).gather()
    return X, Y[:, 0], w


@pytest.mark.parametrize("block_bytes", [50, 997, 1 << 20])
def test_matches_scikit_learn(tmp_path, block_bytes):
    # short values (the compiled fast path) and full-precision ones (read by Python)
    for decimals, zero_based in ((4, False), (None, True)):
        X, y = sparse_rows(decimals=decimals)
        path = str(tmp_path / f"a{decimals}.svm")
        dump_svmlight_file(X, y, path, zero_based=zero_based, comment="made by a test")
        Xs, ys = load_svmlight_file(path, zero_based=zero_based, n_features=X.shape[1])
        Xr, yr, w = read(path, zero_based=zero_based, block_bytes=block_bytes,
                         n_features=X.shape[1])
        assert w is None and Xr.indices.dtype == np.int32
        assert Xr.has_canonical_format
        np.testing.assert_array_equal(Xr.indptr, Xs.indptr)
        np.testing.assert_array_equal(Xr.indices, Xs.indices)
        np.testing.assert_array_equal(Xr.data, Xs.data)         # the same doubles, bit for bit
        np.testing.assert_array_equal(yr, ys)


def test_qid_comments_width_and_last_line(tmp_path):
    X, y = sparse_rows(n=50, decimals=3)
    qid = np.repeat(np.arange(10), 5)
    path = str(tmp_path / "q.svm")
    dump_svmlight_file(X, y, path, zero_based=False, query_id=qid)
    text = open(path).read().rstrip("\n")      # no final newline: read as any line
    lines = text.split("\n")
    lines.insert(3, "# a line that is only a comment")
    lines[5] += "   # a comment after a row 99:1"
    open(path, "w").write("\n".join(lines))
    Xs, ys, qs = load_svmlight_file(path, zero_based=False, query_id=True)
    src = sources.svmlight(path, block_bytes=64)
    assert src.n_features == Xs.shape[1] and src.count_rows() == 50   # inferred: largest index
    Xr, Yr, _ = src.gather()
    assert (Xr != Xs).nnz == 0
    np.testing.assert_array_equal(Yr[:, 0], ys)
    np.testing.assert_array_equal(src.read_qid(), qs)


def test_int64_indices(tmp_path):
    # scikit-learn reads indices as C ints (it cannot read this file): the matrix written is
    # the reference
    d = 4_000_000_000
    X = sp.csr_matrix((np.array([1.0, 2.5, 0.25]), np.array([2, d - 1, 6], dtype=np.int64),
                       np.array([0, 2, 3], dtype=np.int64)), shape=(2, d))
    y = np.array([1.5, -2.0])
    path = str(tmp_path / "wide.svm")
    with open(path, "w") as f:       # (dump_svmlight_file allocates d per row)
        for i in range(2):
            cols = X.indices[X.indptr[i]:X.indptr[i + 1]]
            vals = X.data[X.indptr[i]:X.indptr[i + 1]]
            f.write(f"{float(y[i])!r} " + " ".join(f"{c + 1}:{float(v)!r}" for c, v in zip(cols, vals)) + "\n")
    Xr, yr, _ = read(path)
    assert Xr.shape == (2, d) and Xr.indices.dtype == np.int64
    np.testing.assert_array_equal(Xr.indices, X.indices)
    np.testing.assert_array_equal(Xr.indptr, X.indptr)
    np.testing.assert_array_equal(Xr.data, X.data)
    np.testing.assert_array_equal(yr, y)


@pytest.mark.parametrize("text, line, words", [
    ("1 2:3\n1 2:x\n", 2, "a feature value 'x' is not a number"),
    ("1 2:3\n1 2\n", 2, "malformed pair"),
    ("1 2:3\n\n1 2:3\n", 2, "blank line"),
    ("1 2:3\n1 0:3\n", 2, "feature index 0"),
    ("1 2:3\n1 9:3\n", 2, "beyond n_features=5"),
    ("1 2:nan\n", 1, "NaN"),
    ("1 2:1e999\n", 1, "inf"),
    ("one 2:3\n", 1, "the label 'one' is not a number"),
    ("1 2:3 1:3\n", 1, "not in increasing order"),
    ("1 2:3 2:3\n", 1, "not in increasing order"),
    ("1 qid:a 2:3\n", 1, "malformed qid"),
])
def test_refusals_name_file_and_line(tmp_path, text, line, words):
    path = str(tmp_path / "bad.svm")
    open(path, "w").write("# header\n" + text)
    with pytest.raises(MalformedDataError, match=f"bad.svm: line {line + 1}: .*{words}"):
        sources.svmlight(path, n_features=5, block_bytes=8).gather()
    if "n_features" in words:
        return
    with pytest.raises(MalformedDataError, match=f"bad.svm: line {line + 1}: .*{words}"):
        sources.svmlight(path, block_bytes=8).gather()      # the width found first


@QUIET
def test_file_changed_between_passes(tmp_path):
    X, y = sparse_rows(n=200, d=5000, decimals=4, density=0.002)
    path = str(tmp_path / "c.svm")
    dump_svmlight_file(X, y, path, zero_based=False)
    src = sources.svmlight(path, block_bytes=2000)
    with open(path, "a") as f:
        f.write("1 1:1\n")
    with pytest.raises(SourceChangedError):
        LinearRegression(solver="sgd", max_iter=2).fit(src)


@QUIET
@pytest.mark.parametrize("solver", ["sgd", "gd"])
def test_rows_path_over_svmlight_blocks(tmp_path, solver):
    # 5000 columns: too wide for the statistics; the blocks (a few rows each) are read in file
    # order, so the trajectory is the in-memory one on the same rows
    X, y = sparse_rows(n=400, d=5000, decimals=4, density=0.002)
    path = str(tmp_path / "w.svm")
    dump_svmlight_file(X, y, path, zero_based=False)
    params = dict(solver=solver, max_iter=4, shuffle=False, random_state=3)
    streamed = LinearRegression(**params).fit(sources.svmlight(path, n_features=5000,
                                                               block_bytes=3000))
    memory = LinearRegression(**params).fit(X, y)
    assert streamed.training_path_ == memory.training_path_ == "rows"
    assert streamed.stats_ is None
    np.testing.assert_allclose(streamed.coef_, memory.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, memory.intercept_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(streamed.loss_history_, memory.loss_history_, rtol=1e-12)
    np.testing.assert_allclose(streamed.predict(X), memory.predict(X), atol=1e-10)


@QUIET
@pytest.mark.parametrize("solver", ["sgd", "minibatch"])
def test_rows_path_dense_files_weights_two_targets(tmp_path, solver):
    # 600 dense columns and few epochs: the rows cost less than the statistics; blocks of 64
    # rows, a multiple of the batch, so no mini-batch is cut short by a block's end
    rng = np.random.default_rng(1)
    n, d = 256, 600
    X = rng.normal(size=(n, d)) + 1.0
    Y = X[:, :3] @ rng.normal(size=(3, 2)) + rng.normal(size=(n, 2))
    w = rng.uniform(0.5, 2.0, size=n)
    table = np.column_stack([X, Y, w])
    np.save(tmp_path / "t.npy", table)
    names = [str(j) for j in range(d + 3)]
    params = dict(solver=solver, max_iter=2, shuffle=False, random_state=0, batch_size=16)
    npy = sources.arrays(tmp_path / "t.npy", target=names[d:d + 2], features=names[:d],
                         weight=names[-1], chunk_rows=64)
    memory = LinearRegression(**params).fit(X, Y, sample_weight=w)
    streamed = LinearRegression(**params).fit(npy)
    assert streamed.training_path_ == memory.training_path_ == "rows"
    np.testing.assert_allclose(streamed.coef_, memory.coef_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(streamed.intercept_, memory.intercept_, rtol=0, atol=1e-12)
    if solver == "sgd":
        header = ",".join(names)
        np.savetxt(tmp_path / "t.csv", table, delimiter=",", header=header, comments="",
                   fmt="%.17g")
        csv = sources.csv(tmp_path / "t.csv", target=names[d:d + 2], features=names[:d],
                          weight=names[-1], chunk_rows=64)
        from_csv = LinearRegression(**params).fit(csv)
        assert from_csv.training_path_ == "rows"
        np.testing.assert_allclose(from_csv.coef_, memory.coef_, rtol=0, atol=1e-12)


@QUIET
def test_narrow_file_keeps_the_statistics(tmp_path):
    # 10 columns and the default max_iter: the statistics cost less (the same rule as memory)
    X, y = sparse_rows(n=300, d=10, decimals=4)
    path = str(tmp_path / "n.svm")
    dump_svmlight_file(X, y, path, zero_based=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streamed = LinearRegression(solver="sgd", random_state=0).fit(sources.svmlight(path))
    memory = LinearRegression(solver="normal").fit(X, y)
    assert streamed.training_path_ == "statistics"
    np.testing.assert_allclose(streamed.stats_.comoment, memory.stats_.comoment, rtol=1e-9,
                               atol=1e-9)
    assert os.path.exists(path)


@pytest.mark.parametrize("shuffle", [False, True])
def test_a_pass_reuses_a_bounded_set_of_block_arrays(tmp_path, shuffle):
    """A streamed pass over many blocks (read ahead on threads, as a fit reads them) parses
    and shuffles into a few sets of arrays used again, not new ones for every block, and
    holds a few blocks at a time; the rows are the file's (shuffled: in another order)."""
    import tracemalloc

    from linreg.rows.files import SourceRows
    from linreg.sources.svmlight_blocks import KEEP, BlockArrays

    X, y = sparse_rows(n=20_000, d=40, decimals=4)
    path = str(tmp_path / "a.svm")
    dump_svmlight_file(X, y, path)
    made = []
    real = BlockArrays.take

    def take(self, rows, values, dtype):
        before = self.made
        out = real(self, rows, values, dtype)
        made.append(self.made - before)
        return out

    source = sources.svmlight(path, n_features=40, zero_based=True, block_bytes=8000)
    assert len(source._ranges) > 200
    for _ in SourceRows(source).blocks_ahead(shuffle, np.random.default_rng(0)):
        pass                                # compiled, imported: not counted below
    xx, xy, n, total = np.zeros((40, 40)), np.zeros(40), 0, 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(BlockArrays, "take", take)
        tracemalloc.start()
        for Xb, Yb, _ in SourceRows(source).blocks_ahead(shuffle, np.random.default_rng(0)):
            xx += (Xb.T @ Xb).toarray()
            xy += Xb.T @ Yb[:, 0]
            n += Xb.shape[0]
            total += Xb.data.nbytes + Xb.indices.nbytes + Xb.indptr.nbytes + Yb.nbytes
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert n == 20_000 and len(made) >= len(source._ranges) * (2 if shuffle else 1)
    assert sum(made) <= 2 * KEEP, f"{sum(made)} sets of arrays for {len(made)} blocks"
    np.testing.assert_allclose(xx, (X.T @ X).toarray(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(xy, X.T @ y, rtol=1e-12, atol=1e-9)
    assert peak < total / 4, f"{peak} bytes at most, {total} bytes in all the blocks"


@QUIET
@pytest.mark.parametrize("standardize", [True, False])
def test_a_fit_keeps_parsed_blocks_for_its_later_passes(tmp_path, standardize):
    """Within a fit the passes after the first take the blocks kept in memory (up to
    ``keep_bytes``) instead of parsing them again; the fit is the same, bit for bit, whatever
    is kept, and nothing is kept after it."""
    from linreg.sources.svmlight import SvmlightSource

    X, y = sparse_rows(n=600, d=5000, decimals=4, density=0.002)
    path = str(tmp_path / "k.svm")
    dump_svmlight_file(X, y, path, zero_based=False)
    parsed = []
    real = SvmlightSource._parse

    def parse(self, buf, i, *args, **kw):
        parsed.append(i)
        return real(self, buf, i, *args, **kw)

    params = dict(solver="sgd", max_iter=3, tol=0, random_state=1, standardize=standardize)
    if not standardize:
        params["learning_rate"] = 0.05
    fits, counts = [], []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(SvmlightSource, "_parse", parse)
        for keep in (0, 12_000, None):
            kw = {} if keep is None else {"keep_bytes": keep}
            src = sources.svmlight(path, n_features=5000, block_bytes=2000, **kw)
            parsed.clear()
            fits.append(LinearRegression(**params).fit(src))
            counts.append(len(parsed))
            assert src._kept is None
    blocks = len(src._ranges)
    assert fits[0].training_path_ == "rows"
    assert counts[2] == blocks                  # all kept: each block parsed once
    assert blocks < counts[1] < counts[0]       # some kept
    assert counts[0] >= 4 * blocks              # none kept: every pass parses every block
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.coef_, fits[0].coef_)
        np.testing.assert_array_equal(fit.intercept_, fits[0].intercept_)
        np.testing.assert_array_equal(fit.loss_history_, fits[0].loss_history_)


@QUIET
def test_file_changed_while_blocks_are_kept(tmp_path):
    X, y = sparse_rows(n=200, d=5000, decimals=4, density=0.002)
    path = str(tmp_path / "c.svm")
    dump_svmlight_file(X, y, path, zero_based=False)
    src = sources.svmlight(path, n_features=5000, block_bytes=2000)

    def change(*_):
        with open(path, "a") as f:
            f.write("1 1:1\n")

    with pytest.raises(SourceChangedError):
        LinearRegression(solver="sgd", max_iter=3, tol=0, callback=change).fit(src)
    assert src._kept is None


@QUIET
def test_shuffled_epochs_visit_rows_in_place(tmp_path):
    """A shuffled streamed epoch hands the kernel each block's rows in place with their
    permutation (no permuted copy): the fit is the one over the permuted copies, bit for bit."""
    from linreg.sources.svmlight import SvmlightSource

    X, y = sparse_rows(n=600, d=5000, decimals=4, density=0.002)
    path = str(tmp_path / "s.svm")
    dump_svmlight_file(X, y, path, zero_based=False)
    params = dict(solver="sgd", max_iter=3, tol=0, random_state=2)
    in_place = LinearRegression(**params).fit(sources.svmlight(path, block_bytes=2000))
    with pytest.MonkeyPatch.context() as mp:
        mp.delattr(SvmlightSource, "ordered_blocks")
        copied = LinearRegression(**params).fit(sources.svmlight(path, block_bytes=2000))
    assert in_place.training_path_ == "rows"
    np.testing.assert_array_equal(in_place.coef_, copied.coef_)
    np.testing.assert_array_equal(in_place.intercept_, copied.intercept_)
    np.testing.assert_array_equal(in_place.loss_history_, copied.loss_history_)
