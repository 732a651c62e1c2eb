"""Metamorphic properties of the ways one data set can be laid out (hypothesis; bounded and
derandomized in ``make test``, fresh and many in ``make fuzz``).

* A sparse matrix: every solver gives the same result to the bit in CSR, CSC and COO, and
  with explicit zeros or entries split into duplicates; the dense copy gives the same fit to
  rounding (and the fitted values of ``numpy.linalg.lstsq``).
* A table with a categorical column: renaming its levels, reordering its rows, reordering
  its categories (the reference level fixed), splitting it into blocks of a CSV file,
  Parquet files or Dask partitions at any point — the same fit; and the column encoded by
  hand as dummies (the reference dropped) gives ``numpy.linalg.lstsq``'s coefficients.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, note
from hypothesis import strategies as st

from linreg import LinearRegression, sources

pytestmark = pytest.mark.usefixtures("single_threaded_blas")


def lstsq_design(A, y):
    """Least squares on ``[1, A]`` by numpy: (intercept, coefficients)."""
    sol = np.linalg.lstsq(np.column_stack([np.ones(len(y)), A]), y, rcond=None)[0]
    return sol[0], sol[1:]


def same_bits(a, b):
    assert np.asarray(a).tobytes() == np.asarray(b).tobytes(), (a, b)


def quiet_fit(model, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")      # short stochastic runs say they did not converge
        return model.fit(*args)


# ----------------------------------------------------------------------------- sparse
@st.composite
def sparse_problems(draw):
    n = draw(st.integers(4, 60))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    density = draw(st.sampled_from([0.1, 0.3, 0.7]))
    values = draw(st.sampled_from(["normal", "integers"]))
    X = (rng.standard_normal((n, d)) if values == "normal"
         else rng.integers(-3, 4, (n, d)).astype(float)) * (rng.random((n, d)) < density)
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    w = rng.uniform(0.5, 2.0, n) if draw(st.booleans()) else None
    return X, y, w, seed


def layouts(X: np.ndarray, rng) -> dict:
    """The same matrix stored in every way: formats, explicit zeros, split duplicates."""
    csr = sp.csr_matrix(X)
    coo = csr.tocoo()
    k = int(rng.integers(1, 6))
    zr, zc = rng.integers(0, X.shape[0], k), rng.integers(0, X.shape[1], k)
    zr, zc = zr[X[zr, zc] == 0], zc[X[zr, zc] == 0]        # stored zeros where X is zero
    halves = rng.random(coo.nnz) < 0.5                     # entries stored as two halves
    rows = np.concatenate([coo.row, zr, coo.row[halves]])
    cols = np.concatenate([coo.col, zc, coo.col[halves]])
    data = np.concatenate([np.where(halves, coo.data / 2, coo.data), np.zeros(len(zr)),
                           coo.data[halves] / 2])
    order = rng.permutation(len(rows))
    messy = sp.coo_matrix((data[order], (rows[order], cols[order])), shape=X.shape)
    return {"csc": csr.tocsc(), "coo": coo, "csr_array": sp.csr_array(X),
            "zeros and duplicates (coo)": messy, "zeros and duplicates (csr)": messy.tocsr()}


SPARSE_SOLVERS = {"normal": {}, "qr": {}, "lsqr": {}, "auto": {},
                  "gd": {"max_iter": 20}, "sgd": {"max_iter": 3},
                  "minibatch": {"max_iter": 3, "batch_size": 4, "optimizer": "adam"}}


@pytest.mark.parametrize("solver", sorted(SPARSE_SOLVERS))
@given(p=sparse_problems())
def test_every_sparse_layout_gives_the_same_fit_to_the_bit(solver, p):
    X, y, w, seed = p
    rng = np.random.default_rng(seed)
    make = lambda: LinearRegression(solver=solver, **SPARSE_SOLVERS[solver])  # noqa: E731
    reference = quiet_fit(make(), sp.csr_matrix(X), y, w)
    for name, M in layouts(X, rng).items():
        note(name)
        got = quiet_fit(make(), M, y, w)
        same_bits(got.coef_, reference.coef_)
        same_bits(got.intercept_, reference.intercept_)
    dense = quiet_fit(make(), X, y, w)
    scale = np.abs(y).max() + 1.0
    np.testing.assert_allclose(dense.predict(X), reference.predict(X), rtol=0,
                               atol=1e-8 * scale)


@given(p=sparse_problems())
def test_sparse_closed_form_has_lstsqs_fitted_values(p):
    """The fitted values are unique even when the columns are not (empty or repeated
    columns): the sparse fit gives numpy's."""
    X, y, w, _ = p
    model = quiet_fit(LinearRegression(), sp.csr_matrix(X), y, w)
    s = np.ones(len(y)) if w is None else w
    A = np.column_stack([np.ones(len(y)), X]) * np.sqrt(s)[:, None]
    sol = np.linalg.lstsq(A, y * np.sqrt(s), rcond=None)[0]
    expected = np.column_stack([np.ones(len(y)), X]) @ sol
    np.testing.assert_allclose(model.predict(X), expected, rtol=0,
                               atol=1e-7 * (np.abs(y).max() + 1.0))


# ----------------------------------------------------------------------------- tables
@st.composite
def tables(draw, min_rows=6, max_rows=40):
    """A table: numbers ``x``, a text column ``g`` (2–4 levels, each present), ``y``."""
    m = draw(st.integers(2, 4))
    n = draw(st.integers(max(min_rows, m + 4), max_rows))
    names = draw(st.lists(st.text("abcdefghij_", min_size=1, max_size=6).map(lambda s: "L" + s),
                          min_size=m, max_size=m, unique=True))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    codes = np.concatenate([np.arange(m), rng.integers(0, m, n - m)])
    rng.shuffle(codes)
    x = np.round(rng.standard_normal(n), 3)
    effect = np.round(rng.standard_normal(m) * 3, 2)
    y = np.round(1.5 * x + effect[codes] + rng.standard_normal(n), 3)
    frame = pd.DataFrame({"x": x, "g": np.array(names, dtype=object)[codes], "y": y})
    dummies = np.column_stack([codes == j for j in range(m)]).astype(float)
    assume(np.linalg.cond(np.column_stack([np.ones(n), x, dummies[:, 1:]])) < 1e6)
    return frame, seed


def by_name(model) -> dict:
    """Coefficients by name; a level's by the level alone (``C(g, …)[T.b]`` → ``[T.b]``)."""
    return {(name[name.index("[T."):] if "[T." in name else name): v
            for name, v in zip(model.coef_names_, np.atleast_1d(model.coef_))}


def assert_same_fit(got, expected, rename=None, scale=1.0):
    """The same coefficients, matched by name (``rename`` maps ``expected``'s levels to
    ``got``'s)."""
    rename = rename or {}
    want = {(f"[T.{rename[k[3:-1]]}]" if k.startswith("[T.") and k[3:-1] in rename else k): v
            for k, v in by_name(expected).items()}
    have = by_name(got)
    assert set(have) == set(want), (sorted(have), sorted(want))
    for name in want:
        assert abs(have[name] - want[name]) <= 1e-9 * scale, (name, have[name], want[name])
    assert abs(got.intercept_ - expected.intercept_) <= 1e-9 * scale


def treatment(ref) -> str:
    return f'y ~ x + C(g, Treatment("{ref}"))'


@given(t=tables(), data=st.data())
def test_renaming_levels_changes_only_the_names(t, data):
    frame, seed = t
    levels = sorted(frame.g.unique())
    new = data.draw(st.lists(st.text("klmnopqrst", min_size=1, max_size=5).map(lambda s: "M" + s),
                             min_size=len(levels), max_size=len(levels), unique=True))
    rename = dict(zip(levels, new))
    ref = data.draw(st.sampled_from(levels))
    before = LinearRegression(formula=treatment(ref)).fit(frame)
    after = LinearRegression(formula=treatment(rename[ref])).fit(frame.assign(g=frame.g.map(rename)))
    assert_same_fit(after, before, rename, np.abs(frame.y).max())


@given(t=tables(), data=st.data())
def test_reordering_rows_changes_nothing(t, data):
    frame, seed = t
    order = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))).permutation(len(frame))
    before = LinearRegression(formula="y ~ x + g").fit(frame)
    after = LinearRegression(formula="y ~ x + g").fit(frame.iloc[order])
    assert after.coef_names_ == before.coef_names_
    assert_same_fit(after, before, scale=np.abs(frame.y).max())


@given(t=tables(), data=st.data())
def test_reordering_categories_with_the_reference_fixed_changes_nothing(t, data):
    """A pandas categorical column: its first category is the reference, the others name
    their columns in the declared order."""
    frame, seed = t
    levels = sorted(frame.g.unique())
    first = data.draw(st.permutations(levels))
    second = [first[0]] + list(data.draw(st.permutations(first[1:])))
    fits = [LinearRegression(formula="y ~ x + g").fit(
        frame.assign(g=pd.Categorical(frame.g, categories=order))) for order in (first, second)]
    assert fits[1].coef_names_ == [f"g[T.{v}]" for v in second[1:]] + ["x"]   # patsy's order
    assert_same_fit(fits[1], fits[0], scale=np.abs(frame.y).max())


@given(t=tables(min_rows=8), data=st.data())
def test_splitting_a_table_into_blocks_files_or_partitions_changes_nothing(
        tmp_path_factory, t, data):
    """Cut anywhere (a block may hold one level only, or none of some): the levels are the
    union, the statistics merge by level — the fit in memory."""
    pytest.importorskip("pyarrow")
    frame, seed = t
    n = len(frame)
    memory = LinearRegression(formula="y ~ x + g").fit(frame)
    scale = np.abs(frame.y).max()
    folder = tmp_path_factory.mktemp("split")
    frame.to_csv(folder / "t.csv", index=False)
    chunk = data.draw(st.integers(1, n), label="chunk_rows")
    assert_same_fit(LinearRegression(formula="y ~ x + g").fit(
        sources.csv(folder / "t.csv", target=None, chunk_rows=chunk)), memory, scale=scale)
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 2), min_size=1, max_size=3),
                            label="cuts"))
    for i, (lo, hi) in enumerate(zip([0] + cuts, cuts + [n])):
        frame.iloc[lo:hi].to_parquet(folder / f"part{i}.parquet",
                                     row_group_size=data.draw(st.integers(1, n), label="group"))
    assert_same_fit(LinearRegression(formula="y ~ x + g").fit(
        sources.parquet(str(folder / "part*.parquet"), target=None)), memory, scale=scale)
    dask = pytest.importorskip("dask")
    import dask.dataframe as dd
    with dask.config.set(scheduler="synchronous"):
        parts = dd.from_pandas(frame, npartitions=1).repartition(divisions=[0] + cuts + [n - 1])
        assert_same_fit(LinearRegression(formula="y ~ x + g").fit(parts), memory, scale=scale)


@given(t=tables())
def test_dummies_by_hand_give_the_encodings_fit(t):
    """The reference (first level in sorted order) dropped, one 0/1 column per other level:
    numpy.linalg.lstsq on that design has the automatic encoding's coefficients."""
    frame, seed = t
    levels = sorted(frame.g.unique())
    dummies = np.column_stack([(frame.g == v).to_numpy(float) for v in levels[1:]])
    b0, b = lstsq_design(np.column_stack([frame.x, dummies]), frame.y.to_numpy())
    model = LinearRegression(formula="y ~ x + g").fit(frame)
    assert model.coef_names_ == [f"g[T.{v}]" for v in levels[1:]] + ["x"]   # patsy's order
    scale = np.abs(frame.y).max()
    np.testing.assert_allclose(model.coef_, np.r_[b[1:], b[0]], rtol=0, atol=1e-9 * scale)
    assert abs(model.intercept_ - b0) <= 1e-9 * scale
    # and linreg's numeric path on the same hand-made columns
    hand = pd.DataFrame(dummies, columns=[f"g[T.{v}]" for v in levels[1:]]).assign(x=frame.x)
    by_hand = LinearRegression().fit(hand, frame.y.to_numpy())
    assert list(by_hand.feature_names_in_) == model.coef_names_
    np.testing.assert_allclose(by_hand.coef_, model.coef_, rtol=0, atol=1e-9 * scale)
