"""Tables with categorical columns, missing values and formulas, against statsmodels (patsy).

Every number of ``summary()`` for categorical and formula fits equals statsmodels'
``smf.ols(...).fit()`` with the same names and order; ``missing="drop"`` equals statsmodels on
the rows it keeps; the statistics accumulated block by block, with blocks that lack levels,
equal those of the whole table; predictions on new data equal statsmodels'.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import patsy
import pyarrow as pa
import pytest
from penguins import load_penguins
import statsmodels.formula.api as smf

from linreg import LinearRegression, load
from linreg.exceptions import RankDeficiencyWarning
from linreg.persistence import ModelFileError
from linreg.rows.table import TableRows
from linreg.tables.encoding import Encoding, MissingValueError, UnknownLevelError
from linreg.tables.expressions import FormulaError
from linreg.tables.formula import parse_formula
from linreg.tables.frames import table_block



@pytest.fixture(scope="module")
def penguins():
    return load_penguins()


FORMULAS = [
    "body_mass_g ~ flipper_length_mm + species * sex + island:flipper_length_mm",
    "body_mass_g ~ island + species:sex",
    "body_mass_g ~ species + island + sex + year + bill_length_mm",
    "body_mass_g ~ C(year, Treatment(2008)) + bill_length_mm:bill_depth_mm + sex",
    "body_mass_g ~ C(species, Treatment('Gentoo')) * flipper_length_mm",
]


def close(a, b, rtol=1e-8, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


def check_against_statsmodels(model, reference, rtol=1e-8):
    names = list(reference.params.index)
    intercept = names[0] == "Intercept"
    assert model.coef_names_ == names[int(intercept):]
    result = model.summary()
    assert list(result.param_names) == names
    close(result.params, reference.params, rtol)
    close(result.bse, reference.bse, rtol)
    close(result.tvalues, reference.tvalues, rtol)
    close(result.pvalues, reference.pvalues, rtol, atol=1e-300)
    close(result.conf_int(), reference.conf_int(), rtol)
    for name in ("rsquared", "rsquared_adj", "fvalue", "f_pvalue", "aic", "bic", "ssr",
                 "df_resid", "nobs", "llf"):
        close(getattr(result, name), getattr(reference, name), rtol)


@pytest.mark.parametrize("formula", FORMULAS)
def test_formula_fits_equal_statsmodels(penguins, formula):
    model = LinearRegression(formula=formula, missing="drop").fit(penguins)
    reference = smf.ols(formula, penguins).fit()
    check_against_statsmodels(model, reference)
    assert model.n_dropped_ == len(penguins) - reference.nobs
    # the summary says so, as R's summary.lm does
    assert f"{model.n_dropped_} observations deleted due to missingness" in str(model.summary())
    # predictions on the table (rows with a missing value: NaN, as the fit dropped them)
    close(model.predict(penguins.dropna()), reference.predict(penguins.dropna()), 1e-10)


def test_formula_without_intercept(penguins):
    formula = "body_mass_g ~ species:sex + flipper_length_mm - 1"
    model = LinearRegression(formula=formula, missing="drop", fit_intercept=False).fit(penguins)
    check_against_statsmodels(model, smf.ols(formula, penguins).fit())
    with pytest.raises(ValueError, match="fit_intercept=False"):
        LinearRegression(formula=formula, missing="drop").fit(penguins)


def test_columns_encoded_without_formula(penguins):
    """fit(df, y) with text columns encodes them; the fit is the formula 'y ~ every column'."""
    data = penguins.dropna()
    X, y = data.drop(columns="body_mass_g"), data["body_mass_g"]
    model = LinearRegression().fit(X, y)
    formula = "body_mass_g ~ " + " + ".join(X.columns)
    check_against_statsmodels(model, smf.ols(formula, data).fit())
    assert list(model.feature_names_in_) == list(X.columns)
    # the same with the target named, and from a pyarrow Table
    by_name = LinearRegression().fit(data, "body_mass_g")
    close(by_name.coef_, model.coef_, 1e-12)
    arrow = LinearRegression().fit(pa.Table.from_pandas(X, preserve_index=False), y.to_numpy())
    close(arrow.coef_, model.coef_, 1e-12)
    assert arrow.coef_names_ == model.coef_names_


def test_weighted_formula_equals_wls(penguins):
    data = penguins.dropna().reset_index(drop=True)
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(data))
    formula = "body_mass_g ~ species * sex + flipper_length_mm"
    model = LinearRegression(formula=formula).fit(data, sample_weight=w)
    check_against_statsmodels(model, smf.wls(formula, data, weights=w).fit())


def test_bool_and_category_columns():
    rng = np.random.default_rng(1)
    n = 200
    df = pd.DataFrame({
        "flag": rng.random(n) < 0.4,
        "size": pd.Categorical(rng.choice(["small", "medium", "large"], n),
                               categories=["small", "medium", "large"]),
        "x": rng.normal(size=n)})
    df["y"] = 2 * df.flag + df["size"].cat.codes + df.x + rng.normal(size=n)
    model = LinearRegression(formula="y ~ flag + size + x").fit(df)
    reference = smf.ols("y ~ flag + size + x", df).fit()
    check_against_statsmodels(model, reference)
    # the declared order of a category column: its first category is the reference
    assert model.coef_names_[1:3] == ["size[T.medium]", "size[T.large]"]


def test_missing_error_names_column_count_and_row(penguins):
    data = penguins.dropna(subset=["body_mass_g"]).reset_index(drop=True)
    with pytest.raises(MissingValueError) as info:
        LinearRegression(formula="body_mass_g ~ sex + flipper_length_mm").fit(data)
    text = str(info.value)
    first = int(np.flatnonzero(data.sex.isna())[0])
    assert f"column 'sex' is missing in {data.sex.isna().sum()} row(s)" in text
    assert f"row {first})" in text and "missing='drop'" in text
    # only the columns the model uses count: without sex, two rows miss a value
    model = LinearRegression(formula="body_mass_g ~ flipper_length_mm",
                             missing="drop").fit(penguins)
    assert model.n_dropped_ == int(penguins[["body_mass_g", "flipper_length_mm"]]
                                   .isna().any(axis=1).sum()) == 2


def test_unseen_level_and_missing_in_predict(penguins):
    data = penguins.dropna()
    model = LinearRegression(formula="body_mass_g ~ species + flipper_length_mm").fit(
        data[data.species != "Gentoo"])
    with pytest.raises(UnknownLevelError, match="'Gentoo'.*row"):
        model.predict(data)
    dropping = LinearRegression(formula="body_mass_g ~ sex + flipper_length_mm",
                                missing="drop").fit(penguins)
    predicted = dropping.predict(penguins)
    assert np.isnan(predicted[penguins.sex.isna().to_numpy()]).all()
    assert np.isfinite(predicted[penguins[["sex", "flipper_length_mm"]].notna().all(axis=1)]).all()


def test_predict_on_new_data_equals_statsmodels(penguins):
    data = penguins.dropna().reset_index(drop=True)
    train, new = data.iloc[::2], data.iloc[1::2]
    formula = "body_mass_g ~ species * flipper_length_mm + sex"
    model = LinearRegression(formula=formula).fit(train)
    reference = smf.ols(formula, train).fit()
    close(model.predict(new), reference.predict(new), 1e-10)
    yhat, lower, upper = model.predict(new, interval="prediction")
    frame = reference.get_prediction(new).summary_frame(alpha=0.05)
    close(lower, frame.obs_ci_lower, 1e-9)
    close(upper, frame.obs_ci_upper, 1e-9)


def blocks_of(df, sizes):
    """The table in blocks of the given sizes (the last takes the rest)."""
    out, start = [], 0
    for size in sizes + [len(df)]:
        stop = min(start + size, len(df))
        if stop > start:
            out.append(table_block(df.iloc[start:stop], first_row=start))
        start = stop
    return out


@pytest.mark.parametrize("formula", FORMULAS[:3])
def test_blocks_lacking_levels_give_the_same_statistics(penguins, formula):
    """Sorted by species and island, the first blocks see one species only: the union of the
    levels and the merge of cells give the statistics of the whole table."""
    data = penguins.sort_values(["species", "island"]).reset_index(drop=True)
    whole = TableRows(lambda: iter([table_block(data)]), Encoding(parse_formula(formula),
                                                                    "drop"), in_memory=True)
    for sizes in ([5, 7, 40], [100, 3, 1, 150], [1] * 20):
        parts = blocks_of(data, sizes)
        streamed = TableRows(lambda parts=parts: iter(parts),
                             Encoding(parse_formula(formula), "drop"))
        a, b = whole.stats(), streamed.stats()
        assert streamed.feature_names == whole.feature_names
        close(b.mean, a.mean, 1e-12, atol=1e-12)
        close(b.comoment, a.comoment, 1e-10, atol=1e-9 * np.abs(a.comoment).max())


def test_streamed_table_fit_and_summary(penguins):
    """A fit through the rows of many blocks equals statsmodels, summary's residual pass too."""
    data = penguins.sort_values("species").reset_index(drop=True)
    formula = "body_mass_g ~ species * sex + flipper_length_mm"
    parts = blocks_of(data, [9] * 30)
    rows = TableRows(lambda: iter(parts), Encoding(parse_formula(formula), "drop"))
    model = LinearRegression(formula=formula, missing="drop").fit_encoded(rows)
    check_against_statsmodels(model, smf.ols(formula, data).fit())


def test_thousands_of_levels_exact():
    rng = np.random.default_rng(2)
    n, levels = 3_000, 1_000
    df = pd.DataFrame({"g": rng.integers(0, levels, n).astype(str), "x": rng.normal(size=n)})
    df["y"] = df.x + rng.normal(size=n) + df.g.str.len()
    model = LinearRegression(formula="y ~ g + x").fit(df)
    # patsy's design (as statsmodels builds it) solved by numpy: statsmodels' own pinv of a
    # 3,000 × 1,001 design takes ten seconds and more
    y, design = patsy.dmatrices("y ~ g + x", df)
    assert model.coef_names_ == design.design_info.column_names[1:]
    design = np.asarray(design)
    reference = np.linalg.solve(design.T @ design, design.T @ np.asarray(y).ravel())
    close(np.r_[model.intercept_, model.coef_], reference, 1e-8)


def test_one_level_column_warns_rank():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"g": ["a"] * 50, "h": rng.choice(["u", "v"], 50), "x": rng.normal(size=50)})
    df["y"] = df.x + rng.normal(size=50)
    # a categorical with one level has no treatment column (as in R and patsy)
    model = LinearRegression(formula="y ~ g + x").fit(df)
    assert model.coef_names_ == ["x"]
    # a transform that repeats a column: the warning names both by their formula names
    with pytest.warns(RankDeficiencyWarning, match=r"'x'.*'I\(x \* 2\)'"):
        LinearRegression(formula="y ~ x + I(x * 2)").fit(df)
    # two categoricals that are one relabelled: their dummies are equal
    with pytest.warns(RankDeficiencyWarning):
        LinearRegression(formula="y ~ h + k").fit(df.assign(k=df.h.map({"u": 1, "v": 0}).astype(str)))


def test_bad_formulas_are_clear_errors(penguins, tmp_path):
    with pytest.raises(FormulaError, match="no_such_column"):
        LinearRegression(formula="body_mass_g ~ no_such_column").fit(penguins)
    with pytest.raises(FormulaError):
        LinearRegression(formula="body_mass_g ~ __import__('os').system('touch "
                         f"{tmp_path / 'owned'}')").fit(penguins)
    assert not (tmp_path / "owned").exists()
    with pytest.raises(ValueError, match="formula"):
        LinearRegression(formula="body_mass_g ~ species").fit(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="all .* rows have a missing value|column 'empty'"):
        LinearRegression(formula="body_mass_g ~ empty", missing="drop").fit(
            penguins.assign(empty=np.nan))


def test_model_file_round_trip(penguins, tmp_path):
    formula = "body_mass_g ~ C(species, Treatment('Gentoo')) * sex + flipper_length_mm"
    model = LinearRegression(formula=formula, missing="drop").fit(penguins)
    path = tmp_path / "m.json"
    model.save(path)
    loaded = load(path)
    assert loaded.coef_names_ == model.coef_names_
    data = penguins.dropna()
    close(loaded.predict(data), model.predict(data), 1e-14)
    close(loaded.summary(X=penguins).bse, model.summary().bse, 1e-12)
    # a hostile expression in a model file is refused on load, nothing run
    doc = json.loads(path.read_text())
    doc["encoding"]["terms"].append(["__import__('os').system('touch owned')"])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError):
        load(bad)


def test_quiet_on_clean_tables(penguins):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LinearRegression(formula="body_mass_g ~ species + flipper_length_mm",
                         missing="drop").fit(penguins).summary()


@pytest.mark.parametrize("kind", ["csv", "parquet", "feather"])
@pytest.mark.parametrize("chunk_rows", [7, 50, None])
def test_files_streamed_equal_memory(penguins, tmp_path, kind, chunk_rows):
    """CSV, Parquet and Feather files read in blocks (the first blocks lack most levels: the
    rows are sorted by species) give the in-memory fit to 1e-10, summary included."""
    from linreg import sources
    data = penguins.sort_values(["species", "island"]).reset_index(drop=True)
    path = tmp_path / f"p.{kind}"
    if kind == "csv":
        data.to_csv(path, index=False)
        source = sources.csv(path, target=None, chunk_rows=chunk_rows)
    elif kind == "parquet":
        data.to_parquet(path, index=False)
        source = sources.parquet(path, target=None, chunk_rows=chunk_rows or 100_000)
    else:
        data.to_feather(path)
        source = sources.from_file(path, chunk_rows=chunk_rows or 100_000)
    formula = "body_mass_g ~ flipper_length_mm + species * sex + island"
    memory = LinearRegression(formula=formula, missing="drop").fit(data)
    streamed = LinearRegression(formula=formula, missing="drop").fit(source)
    assert streamed.coef_names_ == memory.coef_names_
    assert streamed.n_dropped_ == memory.n_dropped_
    close(streamed.coef_, memory.coef_, 1e-10)
    close(streamed.intercept_, memory.intercept_, 1e-10)
    close(streamed.summary().bse, memory.summary().bse, 1e-10)


def test_csv_without_formula_encodes_text_columns(penguins, tmp_path):
    from linreg import sources
    path = tmp_path / "p.csv"
    penguins.to_csv(path, index=False)
    source = sources.csv(path, target="body_mass_g", chunk_rows=40)
    model = LinearRegression(missing="drop").fit(source)
    reference = smf.ols("body_mass_g ~ " + " + ".join(c for c in penguins.columns
                                                      if c != "body_mass_g"), penguins).fit()
    check_against_statsmodels(model, reference)
    with pytest.raises(MissingValueError, match="line"):
        LinearRegression().fit(sources.csv(path, target="body_mass_g", chunk_rows=40))


@pytest.mark.parametrize("persist", [False, True])
def test_dask_dataframe_equals_memory(penguins, client, persist):
    """Partitions learn their levels apart (the first ones see one species only) and merge by
    value: the fit and its summary equal the in-memory ones."""
    dd = pytest.importorskip("dask.dataframe")
    data = penguins.sort_values(["species", "island"]).reset_index(drop=True)
    frame = dd.from_pandas(data, npartitions=7)
    if persist:
        frame = frame.persist()
    formula = "body_mass_g ~ flipper_length_mm + species * sex + island"
    memory = LinearRegression(formula=formula, missing="drop").fit(data)
    model = LinearRegression(formula=formula, missing="drop").fit(frame)
    assert model.coef_names_ == memory.coef_names_ and model.n_dropped_ == memory.n_dropped_
    close(model.coef_, memory.coef_, 1e-10)
    close(model.summary().bse, memory.summary().bse, 1e-10)
    close(model.summary(cov_type="cluster", groups="island").bse,
          memory.summary(cov_type="cluster", groups=data.island.to_numpy()).bse, 1e-10)
    # in memory, groups are the table's rows (those dropped for a missing value left out), or
    # a column's name
    close(memory.summary(cov_type="cluster", groups="island").bse,
          smf.ols(formula, data).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(
              data.dropna(subset=["body_mass_g", "flipper_length_mm", "species", "sex",
                                  "island"]).island)[0]}).bse, 1e-8)
    # without a formula: fit(frame, "target") encodes the text columns
    plain = LinearRegression(missing="drop").fit(frame, "body_mass_g")
    plain_memory = LinearRegression(missing="drop").fit(data, "body_mass_g")
    close(plain.coef_, plain_memory.coef_, 1e-10)


@pytest.mark.parametrize("typ", [1, 2])
def test_anova_of_formula_fits_equals_anova_lm(penguins, tmp_path, typ):
    from statsmodels.stats.anova import anova_lm

    from linreg import sources
    formula = "body_mass_g ~ flipper_length_mm + species * sex + island"
    reference = anova_lm(smf.ols(formula, penguins).fit(), typ=typ)
    model = LinearRegression(formula=formula, missing="drop").fit(penguins)
    table = model.summary().anova(typ=typ)
    assert list(table.index) == list(reference.index)
    assert list(table.columns) == list(reference.columns)
    close(table.to_numpy(), reference.to_numpy(), 1e-8, atol=1e-300)
    # the same from a CSV file read in blocks of 25 rows
    path = tmp_path / "p.csv"
    penguins.to_csv(path, index=False)
    streamed = LinearRegression(formula=formula, missing="drop").fit(
        sources.csv(path, target=None, chunk_rows=25))
    close(streamed.summary().anova(typ=typ).to_numpy(), reference.to_numpy(), 1e-8, atol=1e-300)
    # the joint Wald F of each term, as statsmodels' wald_test_terms
    mine = model.summary().wald_test_terms().table
    theirs = smf.ols(formula, penguins).fit().wald_test_terms(skip_single=False, scalar=True).table
    close(mine["statistic"], theirs["statistic"], 1e-8)


TRANSFORMS = ("body_mass_g ~ np.log(bill_length_mm) + I(flipper_length_mm ** 2) + "
              "center(bill_depth_mm) + standardize(year) + species:np.sqrt(flipper_length_mm)")


def test_transforms_equal_statsmodels(penguins):
    """Functions, I(), and patsy's stateful center/standardize (same definitions here)."""
    # (patsy learns center/standardize before dropping rows, so NaN would spread: its
    # reference runs on the complete rows; linreg learns the state without missing values)
    data = penguins.dropna()
    model = LinearRegression(formula=TRANSFORMS).fit(data)
    check_against_statsmodels(model, smf.ols(TRANSFORMS, data).fit())


def test_poly_equals_formulaic_design(penguins):
    """poly() is formulaic's (orthogonal polynomials); patsy has none: the reference is the
    least-squares fit on formulaic's own design matrix."""
    import formulaic
    data = penguins.dropna()
    formula = "body_mass_g ~ poly(flipper_length_mm, 3) + sex"
    model = LinearRegression(formula=formula).fit(data)
    y, X = formulaic.model_matrix(formula, data)
    # the same columns (formulaic orders terms by degree, linreg as patsy and R do)
    assert sorted(model.coef_names_) == sorted(c for c in X.columns if c != "Intercept")
    expected, *_ = np.linalg.lstsq(X.to_numpy(), y.to_numpy()[:, 0], rcond=None)
    expected = dict(zip(X.columns, expected))
    close(np.r_[model.intercept_, model.coef_],
          [expected["Intercept"]] + [expected[c] for c in model.coef_names_], 1e-9)


@pytest.mark.parametrize("chunk_rows", [13, 100])
def test_stateful_transforms_streamed_equal_memory(penguins, tmp_path, chunk_rows):
    """center/standardize/poly learn their state in one extra pass over the blocks (merged
    partial states): the streamed fit equals the in-memory one, and the model file keeps the
    state (its predictions on new data equal the fitted model's)."""
    from linreg import sources
    formula = "body_mass_g ~ poly(flipper_length_mm, 2) + center(bill_depth_mm) + species"
    path = tmp_path / "p.csv"
    penguins.to_csv(path, index=False)
    memory = LinearRegression(formula=formula, missing="drop").fit(penguins)
    streamed = LinearRegression(formula=formula, missing="drop").fit(
        sources.csv(path, target=None, chunk_rows=chunk_rows))
    close(streamed.coef_, memory.coef_, 1e-9)
    model_path = tmp_path / "m.json"
    streamed.save(model_path)
    new = penguins.dropna().iloc[::3]
    close(load(model_path).predict(new), memory.predict(new), 1e-9)


def test_partial_fit_and_merge_of_tables(penguins):
    """partial_fit reads numbers only: a table is refused with what to do; two table fits
    merge when their designs have the same columns (then exactly), else clearly not."""
    data = penguins.dropna().reset_index(drop=True)
    formula = "body_mass_g ~ species + flipper_length_mm"
    with pytest.raises(ValueError, match="partial_fit takes chunks of numbers"):
        LinearRegression(formula=formula).partial_fit(data, None)
    with pytest.raises(ValueError, match="partial_fit takes chunks of numbers"):
        LinearRegression().partial_fit(data.drop(columns="body_mass_g"), data.body_mass_g)
    shuffled = data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    a = LinearRegression(formula=formula).fit(shuffled.iloc[:150])
    b = LinearRegression(formula=formula).fit(shuffled.iloc[150:])
    whole = LinearRegression(formula=formula).fit(data)
    close(a.merge(b).coef_, whole.coef_, 1e-10)
    other = LinearRegression(formula=formula).fit(data[data.species != "Gentoo"])
    with pytest.raises(ValueError, match="designs differ"):
        LinearRegression(formula=formula).fit(data).merge(other)


@pytest.mark.parametrize("cov_type", ["HC0", "HC3"])
def test_robust_summary_of_tables_equals_statsmodels(penguins, cov_type):
    """The residual pass reads a table's design as sparse blocks (one entry per categorical
    term a row): its robust covariances equal statsmodels' on the dense design, weighted too."""
    data = penguins.dropna().reset_index(drop=True)
    formula = "body_mass_g ~ flipper_length_mm + species * sex + island:bill_depth_mm"
    model = LinearRegression(formula=formula).fit(data)
    reference = smf.ols(formula, data).fit(cov_type=cov_type)
    close(model.summary(cov_type=cov_type).bse, reference.bse, 1e-8)
    close(model.summary(cov_type=cov_type).leverage, reference.get_influence().hat_matrix_diag,
          1e-8)
    w = np.random.default_rng(4).uniform(0.5, 2.0, len(data))
    weighted = LinearRegression(formula=formula).fit(data, sample_weight=w)
    close(weighted.summary(cov_type=cov_type).bse,
          smf.wls(formula, data, weights=w).fit(cov_type=cov_type).bse, 1e-8)
