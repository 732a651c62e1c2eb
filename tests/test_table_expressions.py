"""Formula factors evaluated safely (linreg.tables.expressions), against formulaic's own
``model_matrix``, numpy and hand-worked values; hostile terms refused with nothing run."""

from __future__ import annotations

import ast
import builtins
import json
import warnings

import numpy as np
import pandas as pd
import pytest
from penguins import load_penguins
from hypothesis import given, settings
from hypothesis import strategies as st

from linreg.tables.blocks import Codes, TableBlock
from linreg.tables.expressions import (ALLOWED_FUNCTIONS, Categorical, FormulaError, Numeric,
                                       check_expression, columns_used, evaluate, finish_state,
                                       is_stateful, merge_state, quote_name, state_partial)

import formulaic  # noqa: E402  (a dev dependency)




def as_block(df: pd.DataFrame) -> dict:
    """A table's columns in the block form: float64 with NaN, or Codes into sorted levels."""
    out = {}
    for name in df.columns:
        column = df[name]
        if pd.api.types.is_numeric_dtype(column):
            out[name] = column.to_numpy(np.float64, na_value=np.nan)
        else:
            cat = pd.Categorical(column)
            out[name] = Codes(np.asarray(cat.codes, dtype=np.int64), list(cat.categories))
    return out


def random_table(n=400, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(2.0, 1.5, n)
    x[rng.choice(n, 20, replace=False)] = np.nan
    return pd.DataFrame({
        "x": x, "z": rng.uniform(-3.0, 5.0, n), "w": rng.exponential(2.0, n) + 0.1,
        "k": rng.integers(1, 5, n), "h": rng.choice([0.5, 1.5, 2.5], n),
        "g": rng.choice(["a", "b", "c"], n), "bill length": rng.normal(40.0, 5.0, n),
    })


PENGUINS = load_penguins()
PENGUIN_BLOCK = as_block(PENGUINS)
RANDOM = random_table()
RANDOM_BLOCK = as_block(RANDOM)


def formulaic_matrix(formula: str, df: pd.DataFrame):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return formulaic.model_matrix(formula, df)


def assert_numeric_matches(expr: str, df: pd.DataFrame, block: dict, ours: Numeric | None = None, rtol=1e-13,
                           atol=0.0):
    """Our values and names equal formulaic's on the rows it keeps; NaN on the rows it drops
    (``atol`` is relative to the largest value)."""
    mm = formulaic_matrix(f"~ {expr} - 1", df)
    ours = evaluate(expr, block) if ours is None else ours
    assert isinstance(ours, Numeric)
    assert ours.names == list(mm.columns)
    assert ours.values.dtype == np.float64 and ours.values.shape == (len(df), len(mm.columns))
    kept = mm.index.to_numpy()
    expected = mm.to_numpy(np.float64)
    np.testing.assert_allclose(ours.values[kept], expected, rtol=rtol, atol=atol * np.max(np.abs(expected)))
    dropped = np.setdiff1d(np.arange(len(df)), kept)
    assert np.isnan(ours.values[dropped]).any(axis=1).all()


def dummies(cat: Categorical, prefix: str) -> pd.DataFrame:
    """The reduced-rank treatment coding of our Categorical, named as formulaic names it."""
    reference = cat.levels[0] if cat.reference is None else cat.reference
    kept = [level for level in cat.levels if level != reference]
    values = np.column_stack([(np.asarray(cat.levels, dtype=object)[cat.codes] == level) & (cat.codes >= 0)
                              for level in kept]).astype(float)
    return pd.DataFrame(values, columns=[f"{prefix}[T.{level}]" for level in kept])


# ------------------------------------------------------------------ numeric factors vs formulaic
PENGUIN_NUMERIC = [
    "bill_length_mm", "np.log(bill_length_mm)", "np.log1p(bill_depth_mm)", "np.log2(body_mass_g)",
    "np.log10(flipper_length_mm)", "np.exp(bill_depth_mm / 10)", "np.sqrt(body_mass_g)",
    "np.abs(bill_length_mm - 44)", "np.square(bill_depth_mm)", "log(bill_length_mm)", "log2(body_mass_g)",
    "log10(body_mass_g)", "exp(bill_depth_mm / 10)", "abs(bill_length_mm - 44)",
    "I(bill_length_mm ** 2)", "I(bill_length_mm * bill_depth_mm)", "I(body_mass_g / 1000)",
    "I(body_mass_g // 100)", "I(-flipper_length_mm)", "I(+flipper_length_mm)",
    "I(2 ** (bill_depth_mm / 4))", "I((bill_length_mm - 40) ** -1)", "I(year - 2007)",
    "I(np.sqrt(body_mass_g) * (1 / 3) - 2 * 2)",
    "poly(bill_length_mm, 1)", "poly(bill_length_mm, 3)", "poly(body_mass_g, degree=4)",
    "poly(bill_length_mm, 2, raw=True)", "poly(flipper_length_mm, degree=3, raw=True)",
]


@pytest.mark.parametrize("expr", PENGUIN_NUMERIC)
def test_numeric_factor_equals_formulaic_on_penguins(expr):
    assert_numeric_matches(expr, PENGUINS, PENGUIN_BLOCK)


PENGUIN_STATEFUL = ["center(bill_length_mm)", "scale(body_mass_g)", "standardize(flipper_length_mm)",
                    "scale(bill_depth_mm, center=False)", "scale(bill_depth_mm, scale=False)",
                    "scale(bill_depth_mm, ddof=0)", "standardize(bill_depth_mm, ddof=1)",
                    "standardize(body_mass_g, rescale=False)", "center(np.log(body_mass_g))",
                    "I(center(bill_length_mm) ** 2)"]


@pytest.mark.parametrize("expr", PENGUIN_STATEFUL)
def test_stateful_factor_equals_formulaic_on_complete_rows(expr):
    # formulaic's centre and scale are NaN when any value is missing; on the complete rows the
    # two agree (linreg leaves missing values out of the statistics, as R does)
    df = PENGUINS.dropna(subset=["bill_length_mm"]).reset_index(drop=True)
    assert_numeric_matches(expr, df, as_block(df))


RANDOM_NUMERIC = ["np.log(z)", "np.sqrt(z)", "I(z ** 0.5)", "np.log(w)", "I(x * z - w / 2)", "I(x ** 3)",
                  "np.exp(x)", "np.log1p(x)", "I(k // 2)", "I(z // 0.7)", "abs(z)", "np.abs(x)",
                  "np.log(`bill length`)", "I(`bill length` * x)", "`bill length`", "poly(z, 5)",
                  "poly(x, 3)", "poly(x, 2, raw=True)", "poly(w, degree=10)"]


@pytest.mark.parametrize("expr", RANDOM_NUMERIC)
def test_numeric_factor_equals_formulaic_on_random_data(expr):
    # log and sqrt of negative values give NaN (formulaic drops those rows), quietly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = evaluate(expr, RANDOM_BLOCK)
    # the orthogonal polynomials' state is computed differently (see expr_state): high degrees
    # agree to about 1e-11 of the columns' size
    assert_numeric_matches(expr, RANDOM, RANDOM_BLOCK, ours, rtol=1e-12, atol=1e-11 if "poly" in expr else 0)


@pytest.mark.parametrize("expr", ["center(z)", "scale(z)", "standardize(w)", "I(center(z) + scale(w))",
                                  "scale(`bill length`)", "center(z + w)", "I(scale(z) * 2)"])
def test_stateful_factor_equals_formulaic_on_random_data(expr):
    assert_numeric_matches(expr, RANDOM, RANDOM_BLOCK)


@pytest.mark.parametrize("expr, numpy_function", [("sqrt(z)", np.sqrt), ("numpy.log(w)", np.log),
                                                  ("numpy.square(z)", np.square), ("exp(x)", np.exp)])
def test_spellings_formulaic_lacks_equal_numpy(expr, numpy_function):
    ours = evaluate(expr, RANDOM_BLOCK)
    assert ours.names == [expr]
    with np.errstate(all="ignore"):
        expected = numpy_function(RANDOM[columns_used(expr)[0]].to_numpy())
    np.testing.assert_array_equal(ours.values[:, 0], expected)


def test_names_follow_formulaics_normal_spelling():
    assert evaluate("I(z**2)", RANDOM_BLOCK).names == ["I(z ** 2)"]
    assert evaluate("np.log(  w )", RANDOM_BLOCK).names == ["np.log(w)"]
    assert evaluate("poly(z,2)", RANDOM_BLOCK).names == ["poly(z, 2)[1]", "poly(z, 2)[2]"]
    assert evaluate("bill length", RANDOM_BLOCK).names == ["bill length"]  # formulaic's lookup factor
    assert evaluate("`bill length`", RANDOM_BLOCK).names == ["bill length"]


# ------------------------------------------------------------------ categorical factors
@pytest.mark.parametrize("expr", ["species", "sex", "island", "C(species)", "C(species, Treatment('Gentoo'))",
                                  "C(species, Treatment(reference='Chinstrap'))",
                                  "C(year)", "C(year, Treatment(2008))",
                                  "C(species, levels=['Gentoo', 'Adelie', 'Chinstrap'])",
                                  "C(island, Treatment('Dream'), levels=['Torgersen', 'Dream', 'Biscoe'])",
                                  "C(year, levels=[2009, 2007, 2008])", "I(species)"])
def test_categorical_factor_codes_like_formulaic_on_penguins(expr):
    ours = evaluate(expr, PENGUIN_BLOCK)
    assert isinstance(ours, Categorical) and ours.codes.dtype == np.int64
    mm = formulaic_matrix(f"~ {expr}", PENGUINS).drop(columns="Intercept")
    expected = dummies(ours, expr)
    kept = mm.index.to_numpy()
    assert list(expected.columns) == list(mm.columns)
    np.testing.assert_array_equal(expected.to_numpy()[kept], mm.to_numpy(np.float64))
    np.testing.assert_array_equal(np.flatnonzero(ours.codes < 0), np.setdiff1d(np.arange(len(PENGUINS)), kept))


@pytest.mark.parametrize("expr", ["C(h)", "C(k)", "C(h, Treatment(2.5))", "C(k, Treatment(3))", "g", "C(g, Treatment('c'))",
                                  "C(k, levels=[4, 3, 2, 1])", "C(h * 3)"])
def test_categorical_factor_codes_like_formulaic_on_random_data(expr):
    ours = evaluate(expr, RANDOM_BLOCK)
    mm = formulaic_matrix(f"~ {expr}", RANDOM).drop(columns="Intercept")
    expected = dummies(ours, expr)
    assert list(expected.columns) == list(mm.columns)
    np.testing.assert_array_equal(expected.to_numpy()[mm.index.to_numpy()], mm.to_numpy(np.float64))


def test_c_of_numbers_by_hand():
    cat = evaluate("C(v)", {"v": np.array([2.5, 1.0, np.nan, 2.5, np.inf, 7.0])})
    assert cat.levels == [1, 2.5, 7] and cat.reference is None and not cat.declared
    assert [type(level) for level in cat.levels] == [int, float, int]
    np.testing.assert_array_equal(cat.codes, [1, 0, -1, 1, -1, 2])
    ref = evaluate("C(v, Treatment(3))", {"v": np.array([3.0, 1.0])})
    assert ref.reference == 3 and ref.levels == [1, 3]
    assert evaluate("C(v, Treatment('1.5'))", {"v": np.array([1.5, 2.0])}).reference == 1.5
    # whole numbers are int levels (as an integer column's levels are named: C(year)[T.2008])
    assert evaluate("C(v // 2)", {"v": np.array([-1.0, 4.5])}).levels == [-1, 2]
    assert evaluate("C(year, Treatment('2009'))", PENGUIN_BLOCK).reference == 2009
    bare = evaluate("C(sex, Treatment)", PENGUIN_BLOCK)
    assert bare.reference is None and bare.levels == ["female", "male"]


def test_codes_pass_through_with_missing_and_declared_order():
    codes = Codes(np.array([1, -1, 0, 1]), ["low", "high"], declared=True)
    for expr in ("g", "C(g)"):
        cat = evaluate(expr, {"g": codes})
        np.testing.assert_array_equal(cat.codes, [1, -1, 0, 1])
        assert cat.levels == ["low", "high"] and cat.declared and cat.reference is None
    cat = evaluate("C(g, Treatment('high'))", {"g": codes})
    assert cat.reference == "high" and cat.declared
    boolean = evaluate("C(b, Treatment('True'))", {"b": Codes(np.array([0, 1]), [False, True])})
    assert boolean.reference is True
    text = evaluate("C(t, Treatment(2008))", {"t": Codes(np.array([0, 1]), ["2007", "2008"])})
    assert text.reference == "2008"


def test_declared_levels_reorder_codes_and_refuse_an_unknown_value():
    g = Codes(np.array([0, 1, 2, -1, 1]), ["a", "b", "unused"])
    data = {"g": Codes(g.codes[[0, 1, 3, 4]], g.levels), "v": np.array([1.0, 2.0, np.nan, 3.0])}
    cat = evaluate("C(g, levels=['b', 'a'])", data)  # an unused block level is no error
    assert cat.levels == ["b", "a"] and cat.declared
    np.testing.assert_array_equal(cat.codes, [1, 0, -1, 0])
    with pytest.raises(FormulaError, match=r"the value 'c'.*levels=\['a', 'b'\]"):
        evaluate("C(g, levels=['a', 'b'])", {"g": Codes(np.array([0, 2]), ["a", "b", "c"])})
    with pytest.raises(FormulaError, match=r"the value 3, .*levels=\[1, 2\]"):
        evaluate("C(v, levels=[1, 2])", data)
    with pytest.raises(FormulaError, match="reference level 'z' is not among"):
        evaluate("C(g, Treatment('z'), levels=['a', 'b'])", data)
    with pytest.raises(FormulaError, match="level 'a' is not a number"):
        evaluate("C(v, Treatment('a'))", data)


# ------------------------------------------------------------------ missing values
def test_missing_values_propagate():
    data = {"x": np.array([1.0, np.nan, 4.0, -1.0]), "g": Codes(np.array([0, -1, 1, 0]), ["p", "q"])}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning for log(-1)
        values = evaluate("np.log(x)", data).values[:, 0]
        centred = evaluate("center(x)", data).values[:, 0]
        polys = evaluate("poly(x, 2)", data).values
    np.testing.assert_array_equal(np.isnan(values), [False, True, False, True])
    np.testing.assert_allclose(centred, [-1 / 3, np.nan, 8 / 3, -7 / 3])  # mean of 1, 4, -1 is 4/3
    assert np.isnan(polys[1]).all() and not np.isnan(polys[[0, 2, 3]]).any()
    np.testing.assert_array_equal(evaluate("g", data).codes, [0, -1, 1, 0])
    np.testing.assert_array_equal(evaluate("C(x)", data).codes, [1, -1, 2, 0])


def test_hand_worked_scale_and_poly():
    data = {"x": np.array([1.0, 2.0, 3.0, 4.0, 5.0])}
    # mean 3, squared deviations 4+1+0+1+4 = 10: sd (ddof=1) = sqrt(10/4), (ddof=0) = sqrt(2)
    np.testing.assert_allclose(evaluate("scale(x)", data).values[:, 0], (data["x"] - 3) / np.sqrt(2.5))
    np.testing.assert_allclose(evaluate("standardize(x)", data).values[:, 0], (data["x"] - 3) / np.sqrt(2.0))
    # orthogonal linear and quadratic: (x-3)/sqrt(10), ((x-3)^2 - 2)/sqrt(14)
    expected = np.column_stack([(data["x"] - 3) / np.sqrt(10), ((data["x"] - 3) ** 2 - 2) / np.sqrt(14)])
    np.testing.assert_allclose(evaluate("poly(x, 2)", data).values, expected, atol=1e-15)
    state = finish_state("poly(x, 2)", state_partial("poly(x, 2)", data))
    np.testing.assert_allclose(state["poly(x, 2)"]["alpha"], [3.0, 3.0], rtol=1e-15)
    np.testing.assert_allclose(state["poly(x, 2)"]["norms2"], [5.0, 10.0, 14.0], rtol=1e-14)


# ------------------------------------------------------------------ state learnt block by block
def split_rows(n: int, pieces: int, rng) -> list[np.ndarray]:
    cuts = np.sort(rng.integers(0, n + 1, pieces - 1))  # uneven; some blocks may be empty
    return np.split(np.arange(n), cuts)


def take(block: dict, rows: np.ndarray) -> dict:
    return {name: (Codes(col.codes[rows], col.levels) if isinstance(col, Codes) else col[rows])
            for name, col in block.items()}


def merged_state(expr: str, block: dict, pieces: int, seed: int, shuffle: bool) -> dict:
    rng = np.random.default_rng(seed)
    n = len(next(iter(block.values())))
    partials = [json.loads(json.dumps(state_partial(expr, take(block, rows))))
                for rows in split_rows(n, pieces, rng)]
    if shuffle:
        rng.shuffle(partials)
    while len(partials) > 1:  # a tree of merges, as Dask would do
        partials = [merge_state(expr, *partials[i:i + 2]) if i + 1 < len(partials) else partials[i]
                    for i in range(0, len(partials), 2)]
    return finish_state(expr, partials[0])


def formulaic_state(expr: str, df: pd.DataFrame) -> dict:
    return formulaic_matrix(f"~ {expr} - 1", df).model_spec.transform_state


@pytest.mark.parametrize("pieces", [1, 2, 3, 7])
@pytest.mark.parametrize("expr, column", [("poly(bill_length_mm, 3)", "bill_length_mm"),
                                          ("poly(body_mass_g, 6)", "body_mass_g"),
                                          ("poly(flipper_length_mm, 10)", "flipper_length_mm")])
def test_merged_poly_state_equals_formulaics_whole_data_state(expr, column, pieces):
    ours = merged_state(expr, PENGUIN_BLOCK, pieces, seed=pieces, shuffle=pieces > 2)[expr]
    theirs = formulaic_state(expr, PENGUINS)[expr]
    degree = len(ours["alpha"])
    alpha = np.array([theirs["alpha"][k] for k in range(degree)])
    norms2 = np.array([theirs["norms2"][k] for k in range(degree + 1)])
    spread = np.nanstd(PENGUINS[column])
    tol = 1e-13 if degree <= 6 else 1e-11
    assert np.max(np.abs(np.array(ours["alpha"]) - alpha)) <= tol * spread
    np.testing.assert_allclose(ours["norms2"], norms2, rtol=tol)
    whole = evaluate(expr, PENGUIN_BLOCK, state={expr: ours})
    assert_numeric_matches(expr, PENGUINS, PENGUIN_BLOCK, whole, rtol=1e-12, atol=1e-11 if degree > 6 else 1e-13)


@pytest.mark.parametrize("seed", range(4))
def test_merged_poly_state_on_shifted_sorted_random_data(seed):
    # sorted data split in blocks: every block lies elsewhere, far from zero
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": np.sort(rng.normal(1e4, 30.0, 500) * rng.choice([1, -1]))})
    expr = "poly(x, 5)"
    ours = merged_state(expr, as_block(df), pieces=7, seed=seed, shuffle=True)[expr]
    theirs = formulaic_state(expr, df)[expr]
    np.testing.assert_allclose(ours["alpha"], [theirs["alpha"][k] for k in range(5)], rtol=1e-12)
    np.testing.assert_allclose(ours["norms2"], [theirs["norms2"][k] for k in range(6)], rtol=1e-11)


@pytest.mark.parametrize("pieces", [1, 2, 5, 7])
@pytest.mark.parametrize("expr", ["center(body_mass_g)", "scale(bill_length_mm)", "standardize(flipper_length_mm)",
                                  "scale(bill_depth_mm, center=False, ddof=3)",
                                  "I(center(body_mass_g) + scale(bill_depth_mm))"])
def test_merged_moment_state_equals_formulaics_whole_data_state(expr, pieces):
    df = PENGUINS.dropna(subset=["bill_length_mm"]).reset_index(drop=True)
    ours = merged_state(expr, as_block(df), pieces, seed=pieces, shuffle=True)
    theirs = formulaic_state(expr, df)
    assert set(ours) == set(theirs)
    for key, state in ours.items():
        for name in ("center", "scale"):
            if theirs[key][name] is None:
                assert state[name] is None
            else:
                np.testing.assert_allclose(state[name], float(theirs[key][name]), rtol=1e-13)


@pytest.mark.parametrize("expr", ["poly(z, 4)", "I(center(x) * scale(w))", "C(g)", "np.log(w)", "g"])
def test_state_survives_json_and_gives_identical_values(expr):
    state = finish_state(expr, state_partial(expr, RANDOM_BLOCK))
    text = json.dumps(state, allow_nan=False)
    again = evaluate(expr, RANDOM_BLOCK, state=json.loads(text))
    first = evaluate(expr, RANDOM_BLOCK, state=state)
    if isinstance(first, Numeric):
        np.testing.assert_array_equal(again.values, first.values)
        np.testing.assert_array_equal(evaluate(expr, RANDOM_BLOCK).values, first.values)
    assert is_stateful(expr) == bool(state)


def test_state_learnt_on_training_data_applies_to_new_rows():
    train, new = {"x": np.array([1.0, 2.0, 3.0, 4.0, 5.0])}, {"x": np.array([0.0, 10.0])}
    for expr in ("center(x)", "poly(x, 2)"):
        state = finish_state(expr, state_partial(expr, train))
        mm = formulaic_matrix(f"~ {expr} - 1", pd.DataFrame(train))
        expected = formulaic.model_matrix(mm.model_spec, pd.DataFrame(new))
        np.testing.assert_allclose(evaluate(expr, new, state).values, expected.to_numpy(), rtol=1e-13)


def test_state_problems_are_named():
    with pytest.raises(FormulaError, match=r"poly\(x, 3\).*at least 4 distinct values.*there are 2"):
        evaluate("poly(x, 3)", {"x": np.array([1.0, 2.0, 1.0, 2.0, 1.0])})
    with pytest.raises(FormulaError, match="no spread"):
        evaluate("scale(x)", {"x": np.array([3.0, 3.0, 3.0])})
    with pytest.raises(FormulaError, match="no values"):
        evaluate("center(x)", {"x": np.array([np.nan, np.nan])})
    with pytest.raises(FormulaError, match="infinite value"):
        evaluate("center(np.log(x))", {"x": np.array([0.0, 1.0])})
    with pytest.raises(FormulaError, match=r"state learnt for center\(x\) is missing"):
        evaluate("center(x)", {"x": np.array([1.0, 2.0])}, state={"center(z)": {"center": 0.0, "scale": None}})
    with pytest.raises(FormulaError, match="'center' must be a finite number"):
        evaluate("center(x)", {"x": np.array([1.0])}, state={"center(x)": {"center": "0", "scale": None}})
    with pytest.raises(FormulaError, match="'scale' must be positive"):
        evaluate("scale(x)", {"x": np.array([1.0])}, state={"scale(x)": {"center": 0.0, "scale": 0.0}})
    with pytest.raises(FormulaError, match="'center' must be a finite number, not None"):
        evaluate("center(x)", {"x": np.array([1.0])}, state={"center(x)": {"center": None, "scale": None}})
    with pytest.raises(FormulaError, match="'scale' must be None"):
        evaluate("center(x)", {"x": np.array([1.0])}, state={"center(x)": {"center": 0.0, "scale": 2.0}})
    with pytest.raises(FormulaError, match=r"'norms2\[1\]' must be a finite number"):
        evaluate("poly(x, 1)", {"x": np.array([1.0])}, state={"poly(x, 1)": {"alpha": [1.0], "norms2": [1.0, "a"]}})
    with pytest.raises(FormulaError, match="2 'alpha' and 3 'norms2'"):
        evaluate("poly(x, 2)", {"x": np.array([1.0])}, state={"poly(x, 2)": {"alpha": [1.0], "norms2": [1.0]}})


# ------------------------------------------------------------------ what a term reads and needs
def test_columns_used_in_order_of_first_use():
    assert columns_used("I(z * np.log(x) + z / `bill length`)") == ["z", "x", "bill length"]
    assert columns_used("C(species, Treatment('Gentoo'))") == ["species"]
    assert columns_used("poly(log, degree=2)") == ["log"]  # a column may be called log
    assert columns_used("scale(np, ddof=0)") == ["np"]
    assert is_stateful("I(center(x) + 1)") and is_stateful("poly(x, 2)")
    assert not is_stateful("poly(x, 2, raw=True)") and not is_stateful("np.log(x)")
    assert set(ALLOWED_FUNCTIONS) >= {"np.log", "log", "C", "I", "center", "scale", "standardize", "poly"}


def test_quote_name():
    assert quote_name("x") == "x" and quote_name("bill length") == "`bill length`"
    assert quote_name("_id") == "`_id`" and quote_name("class") == "`class`"
    assert columns_used(quote_name("bill length")) == ["bill length"]
    with pytest.raises(FormulaError, match="backtick"):
        quote_name("a`b")


def test_table_block_is_accepted():
    block = TableBlock({"x": np.array([1.0, 4.0])}, n_rows=2)
    np.testing.assert_array_equal(evaluate("np.sqrt(x)", block).values[:, 0], [1.0, 2.0])


def test_constant_term_spans_the_block():
    np.testing.assert_array_equal(evaluate("I(2 ** 3)", {"x": np.zeros(3)}).values, np.full((3, 1), 8.0))


# ------------------------------------------------------------------ refused
def test_unknown_column_is_named_with_the_columns_available():
    with pytest.raises(FormulaError, match=r"names the column 'flipper'.*its columns are 'species', 'island'"):
        evaluate("np.log(flipper)", PENGUIN_BLOCK)


@pytest.mark.parametrize("expr, what", [("species + 1", r"column 'species' is categorical.*operator \+"),
                                        ("np.log(sex)", r"column 'sex' is categorical.*np\.log\(\)"),
                                        ("center(island)", "categorical"), ("poly(species, 2)", "categorical"),
                                        ("I(-species)", "categorical")])
def test_arithmetic_on_a_categorical_column_is_refused(expr, what):
    with pytest.raises(FormulaError, match=what):
        evaluate(expr, PENGUIN_BLOCK)


def hostile(path: str) -> list[str]:
    return [
        f"__import__('os').system('touch {path}')",
        f"open('{path}', 'w')",
        f"np.save('{path}', x)",
        f"numpy.savetxt('{path}', x)",
        f"np.lib.npyio.save('{path}', x)",
        f"exec(\"open('{path}', 'w')\")",
        f"eval(\"open('{path}', 'w')\")",
        f"getattr(np, 'sa'+'ve')('{path}', x)",
        f"(lambda: open('{path}', 'w'))()",
        f"[open('{path}', 'w') for c in x]",
        f"np.log(x).__class__.__init__.__globals__['__builtins__']['open']('{path}', 'w')",
        f"x.tofile('{path}')",
        f"np.log(x)[open('{path}', 'w')]",
        f"np.log(*open('{path}', 'w'))",
        f"np.log(**{{'out': open('{path}', 'w')}})",
        f"f'{{open(\"{path}\", \"w\")}}'",
        f"(f := open('{path}', 'w'))",
        f"C(x, Treatment(open('{path}', 'w')))",
        f"C(x, levels=[open('{path}', 'w')])",
        f"poly(x, degree=open('{path}', 'w'))",
        f"`x` + open('{path}', 'w')",
        f"x if open('{path}', 'w') else x",
        f"x and open('{path}', 'w')",
    ]


@pytest.mark.parametrize("index", range(len(hostile("p"))))
def test_hostile_term_is_refused_and_nothing_runs(tmp_path, index):
    target = tmp_path / "pwned"
    expr = hostile(str(target))[index]

    class Untouchable(dict):
        def __getitem__(self, key):
            raise AssertionError("data read before the term was checked")

    with pytest.raises(FormulaError, match="formula term"):
        check_expression(expr)
    with pytest.raises(FormulaError):
        evaluate(expr, Untouchable(x=np.ones(3)))
    for call in (columns_used, is_stateful):
        with pytest.raises(FormulaError):
            call(expr)
    assert not target.exists()


@pytest.mark.parametrize("expr, what", [
    ("x.__class__.__bases__", "attribute access"), ("np.__dict__", "attribute access"),
    ("np.load('f')", "calling 'np.load'"), ("np.lib.format", "attribute access"),
    ("x ** 10 ** 100", "constant exponent"), ("x ** 10 ** 10", "constant exponent"),
    ("x ** 99999999999999999999999", "constant exponent"), ("x ** (1e400)", "constant exponent"),
    ("x ** -101", "constant exponent"), ("poly(x, 1000)", "from 1 to 10"), ("poly(x, True)", "from 1 to 10"),
    ("_x", "underscore"), ("x[0]", "subscript"), ("x > 1", "comparison"), ("x % 2", "operator %"),
    ("~x", "unary operators"), ("not x", "unary operators"), ("'text'", "not a real number"), ("1j * x", "not a real number"),
    ("None", "not a real number"), ("center(center(x))", "inside center"), ("scale(poly(x, 2))", "several columns"),
    ("np.log(C(x))", "categorical column"), ("Treatment('a')", "inside C"), ("C(x, Sum)", "contrasts"),
    ("C(x, contr.treatment('a'))", "contrasts"), ("np.log(x, out=x)", "no option 'out'"),
    ("scale(x, ddof=-1)", "ddof"), ("scale(x, center=1)", "True or False"), ("C(x, levels=[])", "non-empty"),
    ("C(x, levels=['a', 'a'])", "twice"), ("C(x, levels=x)", "list of levels"), ("np.log(x, x)", "at most 1"),
    ("center(x=x)", "no option 'x'"), ("C()", "needs a column"), ("x +", "not a valid expression"),
    ("bill length", "backticks"), ("`bill length", "never closed"), ("``", "empty backticks"),
    ("np.log(" * 70 + "x" + ")" * 70, "nests"), ("x" + "+x" * 5000, "characters long"),
    ("(" * 300 + "x" + ")" * 300, "not a valid expression|nests"), ("{x}", "a set"), ("(x, x)", "a tuple"),
    ("print(x)", "calling 'print'"), ("np.log", "attribute access"), ("np.sum(x)", "calling 'np.sum'"),
])
def test_refused_terms_say_what_and_where(expr, what):
    with pytest.raises(FormulaError, match=what) as error:
        check_expression(expr)
    message = str(error.value)
    assert "formula term" in message
    assert len(message) < 1500


def test_refusal_lists_what_is_allowed():
    with pytest.raises(FormulaError) as error:
        check_expression("np.load(x)")
    for name in ("np.log", "center", "poly", "C(x, Treatment(level))", "backticks"):
        assert name in str(error.value)


def test_no_eval_exec_or_compile_of_code(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval/exec used")

    real_compile = builtins.compile

    def ast_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            raise AssertionError("compile used for code")
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(builtins, "compile", ast_only)
    for expr in PENGUIN_NUMERIC + PENGUIN_STATEFUL + ["C(species, Treatment('Gentoo'))"]:
        evaluate(expr, PENGUIN_BLOCK)


def test_column_named_like_code_is_only_looked_up(tmp_path):
    name = f"open('{tmp_path / 'pwned'}', 'w')"
    out = evaluate(name, {name: np.array([1.0, 2.0])})
    assert out.names == [name] and not (tmp_path / "pwned").exists()
    assert state_partial(name, {name: np.array([1.0])}) == {}


@pytest.mark.parametrize("expr", ["poly(x, 3)", "center(x)", "scale(x, center=False)"])
def test_empty_and_single_row_blocks_merge_in_either_order(expr):
    x = np.random.default_rng(5).normal(3.0, 2.0, 60)
    blocks = [x[:0], x[:1], x[1:2], np.array([np.nan]), x[2:]]
    partials = [state_partial(expr, {"x": b}) for b in blocks]
    forward, backward = partials[0], partials[-1]
    for p in partials[1:]:
        forward = merge_state(expr, forward, p)
    for p in partials[-2::-1]:
        backward = merge_state(expr, p, backward)
    whole = finish_state(expr, state_partial(expr, {"x": x}))
    for merged in (forward, backward):
        np.testing.assert_allclose(evaluate(expr, {"x": x}, finish_state(expr, merged)).values,
                                   evaluate(expr, {"x": x}, whole).values, rtol=1e-13, atol=1e-15)


def test_backticked_names_never_clash_with_placeholders():
    data = {"_q0_": np.array([1.0, 2.0]), "a b": np.array([10.0, 20.0]), "if": np.array([5.0, 6.0])}
    out = evaluate("I(`_q0_` + `a b` * `if`)", data)
    np.testing.assert_array_equal(out.values[:, 0], [51.0, 122.0])
    assert out.names == ["I(`_q0_` + `a b` * `if`)"]
    assert columns_used("I(`_q0_` + `a b` * `if`)") == ["_q0_", "a b", "if"]
    with pytest.raises(FormulaError, match="underscore"):
        check_expression("I(_q0_ + `a b`)")


TOKENS = ["x", "z", "g", "np", ".", "log", "exp", "(", ")", "+", "-", "*", "/", "**", "//", "2", "10", "1e400",
          ",", "C", "I", "poly", "center", "Treatment", "'a'", "levels", "=", "[", "]", "`", "lambda", ":",
          "__class__", "open", "for", "in", " ", "raw", "True", "degree", "scale", "%", "<", "{", "}", "not"]


@settings(max_examples=200)
@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=25))
def test_any_text_is_either_refused_or_evaluated(tokens):
    expr = "".join(tokens)
    data = {"x": np.array([1.0, 2.0, 3.0, 5.0, np.nan]), "z": np.array([0.5, -1.0, 2.0, 3.0, 4.0]),
            "g": Codes(np.array([0, 1, 0, -1, 1]), ["a", "b"])}
    try:
        check_expression(expr)
    except FormulaError:
        return
    try:
        out = evaluate(expr, data)
    except FormulaError:
        return
    assert isinstance(out, (Numeric, Categorical))
    if isinstance(out, Numeric):
        assert out.values.shape[0] == 5 and out.values.dtype == np.float64
