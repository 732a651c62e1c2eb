"""polars DataFrames and Series wherever pandas ones are accepted.

Each polars fit is compared with the same data as a pandas DataFrame through linreg (whose
pandas paths are tested against statsmodels and scikit-learn), and the tables with categorical
columns also against statsmodels' formulas directly: ``fit(df, "target")``, a polars Series as
the target and as sample weights, ``predict``, ``summary()``'s names; String, Categorical,
Enum and Boolean columns, nulls, formulas, ``missing="drop"``, unseen levels; the reference
level of a declared order (a polars ``Enum``) and of an undeclared one (a ``Categorical``,
which polars orders by its strings); model selection; and what a numeric polars frame costs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.formula.api as smf

from linreg import LinearRegression, LinearRegressionCV, load
from linreg.exceptions import RankDeficiencyWarning
from linreg.rows import MemoryRows
from linreg.selection import StepwiseSelector
from linreg.tables.encoding import MissingValueError, UnknownLevelError

PENGUINS = Path(__file__).resolve().parents[1] / "src" / "linreg" / "data" / "penguins.csv"


def close(a, b, rtol=1e-10, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def cars():
    """The same numeric table as pandas and polars."""
    rng = np.random.default_rng(11)
    n = 80
    frame = pd.DataFrame({"wt": rng.uniform(1.5, 5.5, n), "hp": rng.uniform(50, 330, n),
                          "qsec": rng.uniform(14, 23, n)})
    frame["mpg"] = 37 - 3.9 * frame.wt - 0.03 * frame.hp + 0.2 * frame.qsec + rng.normal(0, 2, n)
    frame["cyl"] = rng.integers(4, 9, n)           # an integer column
    return frame, pl.from_pandas(frame)


@pytest.fixture(scope="module")
def penguins():
    """The bundled Palmer penguins read by pandas and by polars: text columns (polars String)
    and missing values (NaN in pandas, nulls in polars' String and Int64 columns)."""
    frame = pd.read_csv(PENGUINS)
    polar = pl.read_csv(PENGUINS, null_values="NA")
    assert polar.schema["species"] == pl.String and polar.schema["body_mass_g"] == pl.Int64
    assert polar.null_count().sum_horizontal().item() == int(frame.isna().sum().sum())
    return frame, polar


def same_fit(a, b, rtol=1e-12):
    close(a.coef_, b.coef_, rtol)
    close(a.intercept_, b.intercept_, rtol)


# ------------------------------------------------------------------ numeric frames
def test_fit_frame_and_target_name(cars):
    frame, polar = cars
    reference = LinearRegression().fit(frame, "mpg")
    model = LinearRegression().fit(polar, "mpg")
    same_fit(model, reference)
    assert list(model.feature_names_in_) == ["wt", "hp", "qsec", "cyl"]
    assert model.summary().target_name == "mpg"
    # the features and a polars Series as the target
    split = LinearRegression().fit(polar.drop("mpg"), polar["mpg"])
    same_fit(split, reference)
    assert split.summary().target_name == "mpg"
    # several targets by name, and as a polars DataFrame
    two = LinearRegression().fit(polar, ["mpg", "qsec"])
    assert list(two.feature_names_in_) == ["wt", "hp", "cyl"] and two.coef_.shape == (2, 3)
    same_fit(two, LinearRegression().fit(frame, ["mpg", "qsec"]))
    same_fit(LinearRegression().fit(polar.drop("mpg", "qsec"), polar.select("mpg", "qsec")), two)
    with pytest.raises(ValueError, match=r"'price' is not a column of X \(its columns: wt, hp"):
        LinearRegression().fit(polar, "price")


def test_summary_is_named_as_for_pandas(cars):
    frame, polar = cars
    reference = LinearRegression().fit(frame, "mpg").summary(cov_type="HC3")
    result = LinearRegression().fit(polar, "mpg").summary(cov_type="HC3")
    for name in ("params", "bse", "tvalues", "pvalues"):
        pd.testing.assert_series_equal(getattr(result, name), getattr(reference, name),
                                       rtol=1e-10)
    assert list(result.params.index) == ["intercept", "wt", "hp", "qsec", "cyl"]
    pd.testing.assert_frame_equal(result.conf_int(), reference.conf_int(), rtol=1e-10)
    close(result.rsquared, reference.rsquared)
    assert str(result).splitlines()[:3] == str(reference).splitlines()[:3]


def test_predict_and_its_column_checks(cars):
    frame, polar = cars
    model = LinearRegression().fit(polar, "mpg")
    reference = LinearRegression().fit(frame, "mpg")
    close(model.predict(polar.drop("mpg")), reference.predict(frame.drop(columns="mpg")), 1e-12)
    close(model.predict(frame.drop(columns="mpg")), reference.predict(polar.drop("mpg")), 1e-12)
    yhat, lower, upper = model.predict(polar.drop("mpg"), interval="prediction")
    expected = reference.predict(frame.drop(columns="mpg"), interval="prediction")
    for a, b in zip((yhat, lower, upper), expected):
        close(a, b, 1e-10)
    with pytest.raises(ValueError, match=r"(?s)must be in the same order.*"
                                         r"X\[model.feature_names_in_\]"):
        model.predict(polar.select("qsec", "hp", "wt", "cyl"))
    with pytest.raises(ValueError, match=r"(?s)unseen at fit time:\n- mpg\n"):
        model.predict(polar)


def test_sample_weight_as_a_polars_series(cars):
    frame, polar = cars
    w = np.linspace(0.2, 3.0, len(frame))
    reference = LinearRegression().fit(frame, "mpg", sample_weight=w)
    model = LinearRegression().fit(polar, "mpg", sample_weight=pl.Series("w", w))
    same_fit(model, reference)
    close(model.summary().bse, reference.summary().bse, 1e-10)
    with pytest.raises(ValueError, match="sample_weight has shape"):
        LinearRegression().fit(polar, "mpg", sample_weight=pl.Series("w", w[:-1]))


@pytest.mark.parametrize("solver", ["qr", "gd", "sgd"])
def test_every_solver_reads_polars_as_pandas(cars, solver):
    frame, polar = cars
    params = dict(solver=solver, max_iter=50, random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")          # the short stochastic fits do not converge
        reference = LinearRegression(**params).fit(frame, "mpg")
        model = LinearRegression(**params).fit(polar, "mpg")
    same_fit(model, reference, 1e-12 if solver == "qr" else 1e-9)


def test_numeric_frame_takes_the_numeric_path(cars):
    """A polars frame of numbers is one array for the in-memory path, never a table: and
    when its columns lie side by side in memory (a frame made from a NumPy array), that array
    is the frame's own memory."""
    frame, polar = cars
    model = LinearRegression().fit(polar, "mpg")
    assert isinstance(model._training_rows, MemoryRows)
    assert not hasattr(model, "encoding_")
    X = np.asfortranarray(frame[["wt", "hp", "qsec"]].to_numpy())
    shared = pl.from_numpy(X, schema=["wt", "hp", "qsec"])
    fitted = LinearRegression().fit(shared, frame["mpg"].to_numpy())
    assert np.shares_memory(fitted._training_rows.arrays()[0], X)
    same_fit(fitted, LinearRegression().fit(frame[["wt", "hp", "qsec"]], frame["mpg"]))


def test_nulls_in_numeric_columns(cars):
    """A null in a numeric polars column is a missing value, as NaN in pandas: an error that
    names row and column, or with ``missing="drop"`` a row left out."""
    frame, polar = cars
    holes = polar.with_columns(
        pl.when(pl.int_range(pl.len()).is_in([3, 17])).then(None).otherwise(pl.col("hp"))
        .alias("hp"))
    pandas_holes = frame.copy()
    pandas_holes.loc[[3, 17], "hp"] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN at row 3, column 1 \('hp'\)"):
        LinearRegression().fit(holes, "mpg")
    model = LinearRegression(missing="drop").fit(holes, "mpg")
    assert model.n_dropped_ == 2
    same_fit(model, LinearRegression().fit(frame.drop(index=[3, 17]), "mpg"))
    same_fit(model, LinearRegression(missing="drop").fit(pandas_holes, "mpg"))
    predicted = model.predict(holes.drop("mpg"))
    assert np.isnan(predicted[[3, 17]]).all() and np.isfinite(np.delete(predicted, [3, 17])).all()


# ------------------------------------------------------------------ tables
FORMULAS = [
    "body_mass_g ~ flipper_length_mm + species * sex + island:flipper_length_mm",
    "body_mass_g ~ species + island + sex + year + np.log(bill_length_mm)",
    "body_mass_g ~ C(year, Treatment(2008)) + bill_length_mm:bill_depth_mm + sex",
    "body_mass_g ~ C(species, Treatment('Gentoo')) * flipper_length_mm",
]


@pytest.mark.parametrize("formula", FORMULAS)
def test_formulas_equal_pandas_and_statsmodels(penguins, formula):
    frame, polar = penguins
    model = LinearRegression(formula=formula, missing="drop").fit(polar)
    reference = LinearRegression(formula=formula, missing="drop").fit(frame)
    ols = smf.ols(formula, frame).fit()
    assert model.coef_names_ == reference.coef_names_ == list(ols.params.index[1:])
    assert model.terms_ == reference.terms_
    assert model.n_dropped_ == reference.n_dropped_ == len(frame) - ols.nobs
    result = model.summary()
    close(result.params, ols.params, 1e-8)
    close(result.bse, ols.bse, 1e-8)
    close(result.pvalues, ols.pvalues, 1e-8, atol=1e-300)
    close(result.rsquared, ols.rsquared, 1e-10)
    same_fit(model, reference, 1e-10)
    anova = result.anova(typ=2)
    pd.testing.assert_frame_equal(anova, reference.summary().anova(typ=2), rtol=1e-9)
    # predictions on the whole table: NaN where the fit dropped the row
    close(model.predict(polar), reference.predict(frame), 1e-10)


def test_text_columns_without_formula(penguins):
    frame, polar = penguins
    frame, polar = frame.dropna(), polar.drop_nulls()
    reference = LinearRegression().fit(frame, "body_mass_g")
    model = LinearRegression().fit(polar, "body_mass_g")
    same_fit(model, reference, 1e-10)
    assert model.coef_names_ == reference.coef_names_
    assert list(model.feature_names_in_) == list(reference.feature_names_in_)
    # the target as a polars Series, and the same table through Arrow
    split = LinearRegression().fit(polar.drop("body_mass_g"), polar["body_mass_g"])
    same_fit(split, reference, 1e-10)
    assert split.summary().target_name == "body_mass_g"
    arrow = LinearRegression().fit(polar.to_arrow(), "body_mass_g")
    same_fit(arrow, reference, 1e-10)


def test_weights_as_a_polars_series_in_a_formula(penguins):
    frame, polar = penguins
    frame, polar = frame.dropna().reset_index(drop=True), polar.drop_nulls()
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(frame))
    formula = "body_mass_g ~ species * sex + flipper_length_mm"
    model = LinearRegression(formula=formula).fit(polar, sample_weight=pl.Series(w))
    wls = smf.wls(formula, frame, weights=w).fit()
    close(model.summary().params, wls.params, 1e-8)
    close(model.summary().bse, wls.bse, 1e-8)


def sizes(n, rng):
    return rng.choice(["medium", "small", "large"], n)


def test_categorical_is_sorted_and_enum_keeps_its_declared_order():
    """A polars ``Categorical`` declares no order (polars sorts it by its strings; R's
    ``factor`` sorts too): its reference is the first level in sorted order, as for text.
    An ``Enum`` declares one: its first level is the reference, as for a pandas
    ``category`` — what statsmodels does with the same declared order."""
    rng = np.random.default_rng(5)
    n = 150
    size = sizes(n, rng)
    x = rng.normal(size=n)
    y = x + (size == "small") - 2 * (size == "large") + rng.normal(size=n)
    order = ["small", "medium", "large"]
    polar = pl.DataFrame({"x": x, "y": y, "size": size})
    categorical = polar.with_columns(pl.col("size").cast(pl.Categorical))
    enum = polar.with_columns(pl.col("size").cast(pl.Enum(order)))
    # as text in pandas: sorted, "large" first
    text_ols = smf.ols("y ~ size + x", pd.DataFrame({"x": x, "y": y, "size": size})).fit()
    model = LinearRegression(formula="y ~ size + x").fit(categorical)
    assert model.coef_names_ == list(text_ols.params.index[1:]) == [
        "size[T.medium]", "size[T.small]", "x"]
    close(model.summary().params, text_ols.params, 1e-9)
    same_fit(model, LinearRegression(formula="y ~ size + x").fit(polar), 1e-12)
    # an Enum: its declared order, as a pandas category with these categories
    declared = pd.DataFrame({"x": x, "y": y, "size": pd.Categorical(size, categories=order)})
    enum_ols = smf.ols("y ~ size + x", declared).fit()
    model = LinearRegression(formula="y ~ size + x").fit(enum)
    assert model.coef_names_ == list(enum_ols.params.index[1:]) == [
        "size[T.medium]", "size[T.large]", "x"]
    close(model.summary().params, enum_ols.params, 1e-9)
    pandas_fit = LinearRegression().fit(declared, "y")
    polars_fit = LinearRegression().fit(enum, "y")
    assert polars_fit.coef_names_ == pandas_fit.coef_names_
    same_fit(polars_fit, pandas_fit, 1e-12)
    # the Enum through Arrow: a dictionary column (unsigned indices) in its declared order
    arrow = LinearRegression(formula="y ~ size + x").fit(enum.to_arrow())
    assert arrow.coef_names_ == model.coef_names_
    same_fit(arrow, model, 1e-12)
    # a reference chosen in the formula wins over either order
    chosen = "y ~ C(size, Treatment('medium')) + x"
    close(LinearRegression(formula=chosen).fit(enum).summary().params,
          smf.ols(chosen, declared).fit().params, 1e-9)


def test_enum_level_never_seen_is_a_column_as_for_pandas():
    """A declared level no row has (an Enum's, a pandas category's) is a column of zeros:
    the same rank warning and minimum-norm fit from polars as from pandas."""
    rng = np.random.default_rng(2)
    n = 60
    levels = ["lo", "mid", "hi"]
    values = rng.choice(["lo", "hi"], n)
    x, y = rng.normal(size=n), rng.normal(size=n)
    polar = pl.DataFrame({"x": x, "y": y, "c": pl.Series(values, dtype=pl.Enum(levels))})
    frame = pd.DataFrame({"x": x, "y": y, "c": pd.Categorical(values, categories=levels)})
    with pytest.warns(RankDeficiencyWarning, match="c\\[T.mid\\]"):
        model = LinearRegression().fit(polar, "y")
    with pytest.warns(RankDeficiencyWarning):
        reference = LinearRegression().fit(frame, "y")
    assert model.coef_names_ == reference.coef_names_ == ["c[T.mid]", "c[T.hi]", "x"]
    same_fit(model, reference, 1e-10)


def test_boolean_columns_with_nulls():
    rng = np.random.default_rng(3)
    n = 120
    flag = rng.random(n) < 0.4
    x = rng.normal(size=n)
    y = 1.5 * flag + x + rng.normal(size=n)
    missing = rng.random(n) < 0.1
    polar = pl.DataFrame({"flag": pl.Series([None if m else bool(f) for f, m in zip(flag, missing)],
                                            dtype=pl.Boolean), "x": x, "y": y})
    assert polar.schema["flag"] == pl.Boolean and polar["flag"].null_count() == missing.sum()
    frame = pd.DataFrame({"flag": pd.array([None if m else bool(f) for f, m in zip(flag, missing)],
                                           dtype="boolean"), "x": x, "y": y})
    with pytest.raises(MissingValueError, match=rf"'flag' is missing in {missing.sum()} row"):
        LinearRegression(formula="y ~ flag + x").fit(polar)
    model = LinearRegression(formula="y ~ flag + x", missing="drop").fit(polar)
    reference = LinearRegression(formula="y ~ flag + x", missing="drop").fit(frame)
    ols = smf.ols("y ~ flag + x", frame[~missing].astype({"flag": bool})).fit()
    assert model.coef_names_ == reference.coef_names_ == list(ols.params.index[1:])
    assert model.n_dropped_ == missing.sum()
    close(model.summary().params, ols.params, 1e-9)
    same_fit(model, reference, 1e-12)


def test_predict_new_polars_data(penguins):
    frame, polar = penguins
    frame = frame.dropna().reset_index(drop=True)
    polar = polar.drop_nulls()
    formula = "body_mass_g ~ species * flipper_length_mm + sex"
    train, new = polar[::2], polar[1::2]
    model = LinearRegression(formula=formula).fit(train)
    ols = smf.ols(formula, frame.iloc[::2]).fit()
    close(model.predict(new), ols.predict(frame.iloc[1::2]), 1e-10)
    yhat, lower, upper = model.predict(new, interval="prediction")
    interval = ols.get_prediction(frame.iloc[1::2]).summary_frame(alpha=0.05)
    close(lower, interval.obs_ci_lower, 1e-9)
    close(upper, interval.obs_ci_upper, 1e-9)
    # a model fitted on pandas predicts polars, and the other way round
    from_pandas = LinearRegression(formula=formula).fit(frame.iloc[::2])
    close(from_pandas.predict(new), model.predict(frame.iloc[1::2]), 1e-10)


def test_unseen_level_and_missing_values_in_predict(penguins):
    frame, polar = penguins
    model = LinearRegression(formula="body_mass_g ~ species + flipper_length_mm").fit(
        polar.drop_nulls().filter(pl.col("species") != "Gentoo"))
    new = polar.drop_nulls(subset="flipper_length_mm")
    first = int(np.flatnonzero(new["species"].to_numpy() == "Gentoo")[0])
    with pytest.raises(UnknownLevelError, match=rf"'species'.*'Gentoo' at row {first}, which "
                                                r"the model never saw"):
        model.predict(new)
    dropping = LinearRegression(formula="body_mass_g ~ sex + flipper_length_mm",
                                missing="drop").fit(polar)
    predicted = dropping.predict(polar)
    close(predicted, LinearRegression(formula="body_mass_g ~ sex + flipper_length_mm",
                                      missing="drop").fit(frame).predict(frame), 1e-10)
    assert np.isnan(predicted[frame.sex.isna().to_numpy()]).all()
    with pytest.raises(ValueError, match="X has no column 'sex'"):
        dropping.predict(polar.drop("sex"))


def test_saved_table_model_summarizes_polars_rows(penguins, tmp_path):
    """After ``load``, ``summary(X, y)`` reads the training rows as polars, with the target
    in the table or given as a polars Series."""
    frame, polar = penguins
    polar = polar.drop_nulls()
    formula = "body_mass_g ~ species + sex + flipper_length_mm"
    model = LinearRegression(formula=formula).fit(polar)
    model.save(tmp_path / "m.json")
    loaded = load(tmp_path / "m.json")
    expected = model.summary()
    for result in (loaded.summary(X=polar),
                   loaded.summary(X=polar.drop("body_mass_g"), y=polar["body_mass_g"])):
        close(result.params, expected.params, 1e-12)
        close(result.bse, expected.bse, 1e-10)
    numeric = LinearRegression().fit(polar.select("flipper_length_mm", "bill_depth_mm"),
                                     polar["body_mass_g"])
    numeric.save(tmp_path / "n.json")
    again = load(tmp_path / "n.json").summary(
        X=polar.select("flipper_length_mm", "bill_depth_mm"), y=polar["body_mass_g"])
    close(again.bse, numeric.summary().bse, 1e-10)


# ------------------------------------------------------------------ bad input
def test_bad_polars_input_is_a_clear_error(cars):
    frame, polar = cars
    model = LinearRegression().fit(polar, "mpg")
    with pytest.raises(TypeError, match=r"LazyFrame.*X.collect\(\)"):
        LinearRegression().fit(polar.lazy(), "mpg")
    with pytest.raises(TypeError, match=r"LazyFrame.*X.collect\(\)"):
        model.predict(polar.drop("mpg").lazy())
    dated = polar.with_columns(pl.date_range(pl.date(2020, 1, 1), pl.date(2020, 3, 20),
                                             eager=True).alias("day"))
    with pytest.raises(ValueError, match="column 'day' has the type Date"):
        LinearRegression().fit(dated.with_columns(pl.lit("a").alias("s")), "mpg")
    empty = polar.with_columns(pl.lit(None).alias("nothing"))
    assert empty.schema["nothing"] == pl.Null
    with pytest.raises(MissingValueError, match=rf"'nothing' is missing in {len(frame)} row"):
        LinearRegression(formula="mpg ~ wt + nothing").fit(empty)
    with pytest.raises(MissingValueError, match="no rows to fit"):
        LinearRegression(formula="mpg ~ wt + nothing", missing="drop").fit(empty)
    with pytest.raises(ValueError, match=r"X is a polars Series \('wt'\).*X.to_frame\(\)"):
        LinearRegression().fit(polar["wt"], polar["mpg"])
    with pytest.raises(ValueError, match=r"X is a polars Series \('wt'\)"):
        model.predict(polar["wt"])
    with pytest.raises(TypeError, match="LazyFrame"):
        LinearRegressionCV().fit(polar.drop("mpg").lazy(), polar["mpg"])
    with pytest.raises(ValueError, match="partial_fit takes chunks of numbers"):
        LinearRegression().partial_fit(polar.with_columns(pl.lit("a").alias("s")).drop("mpg"),
                                       polar["mpg"])
    with pytest.raises(ValueError, match="y has 79 rows and X 80"):
        LinearRegression().fit(polar.with_columns(pl.lit("a").alias("s")).drop("mpg"),
                               polar["mpg"][:-1])


# ------------------------------------------------------------------ model selection
def test_cv_and_stepwise_accept_polars(cars):
    frame, polar = cars
    X, y = polar.drop("mpg"), polar["mpg"]
    alphas = np.logspace(-3, 1, 9)
    cv = LinearRegressionCV(alphas=alphas, cv=4).fit(X, y)
    reference = LinearRegressionCV(alphas=alphas, cv=4).fit(frame.drop(columns="mpg"),
                                                             frame["mpg"])
    assert cv.alpha_ == reference.alpha_
    same_fit(cv, reference, 1e-12)
    assert list(cv.feature_names_in_) == list(reference.feature_names_in_)
    close(cv.predict(X), reference.predict(frame.drop(columns="mpg")), 1e-12)
    selector = StepwiseSelector().fit(X, y)
    expected = StepwiseSelector().fit(frame.drop(columns="mpg"), frame["mpg"])
    assert selector.selected_names_ == expected.selected_names_ and selector.selected_
    close(selector.model_.coef_, expected.model_.coef_, 1e-12)
    close(selector.predict(X), expected.predict(frame.drop(columns="mpg")), 1e-12)


def test_linreg_runs_without_polars():
    """polars is a test dependency only: with it impossible to import, numpy, pandas and
    pyarrow data fit and predict as before, and nothing asks for it."""
    script = textwrap.dedent(f"""
        import sys
        sys.modules["polars"] = None               # import polars now raises ImportError
        import numpy as np, pandas as pd, pyarrow as pa
        from linreg import LinearRegression
        frame = pd.read_csv({str(PENGUINS)!r}).dropna()
        model = LinearRegression(formula="body_mass_g ~ species * sex + flipper_length_mm")
        model.fit(frame).predict(frame)
        LinearRegression().fit(pa.Table.from_pandas(frame), "body_mass_g").summary()
        LinearRegression().fit(frame.select_dtypes("number"), "body_mass_g").summary()
        X = np.random.default_rng(0).normal(size=(50, 3))
        LinearRegression().fit(X, X @ [1.0, 2.0, 3.0]).predict(X)
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.split() == ["ok"], result.stderr


# ------------------------------------------------------------------ what it costs
@pytest.mark.resources
def test_numeric_polars_frame_costs_at_most_one_copy():
    """A 400,000 × 20 polars frame (64 MB): its columns, separate buffers, become one array
    (one copy of the features, as a pandas frame of several blocks does); made from a NumPy
    array, no copy at all."""
    script = textwrap.dedent("""
        import numpy as np, polars as pl
        from linreg import LinearRegression
        n, d = 400_000, 20
        A = np.random.default_rng(0).normal(size=(n, d + 1))
        names = [f"x{j}" for j in range(d)] + ["y"]
        separate = pl.DataFrame({c: A[:, j].copy() for j, c in enumerate(names)})
        together = pl.from_numpy(np.asfortranarray(A), schema=names)
        del A
        LinearRegression().fit(separate.head(100), "y")
        def status(key):
            with open("/proc/self/status") as f:
                return int(next(line.split()[1] for line in f if line.startswith(key))) * 1024
        out = []
        for frame in (separate, together):
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")                       # VmHWM := VmRSS
            before = status("VmRSS:")
            model = LinearRegression().fit(frame, "y")
            out.append(status("VmHWM:") - before)
            del model
        print(*out)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True)
    separate, together = map(int, result.stdout.split())
    features = 400_000 * 20 * 8
    assert separate < 1.3 * features, f"{separate / 1e6:.0f} MB for {features / 1e6:.0f} MB"
    assert together < 0.25 * features, f"{together / 1e6:.0f} MB for {features / 1e6:.0f} MB"
