"""LinearRegressionCV on tables and formulas: fold scores against explicit refits.

The reference for every fold is an independent design — patsy's (the design statsmodels'
formulas use), built once on all the rows, so a training fold that lacks a level still has its
column — and ``LinearRegression(alpha)`` refitted on the training rows of that design, scored
on the held-out rows.  Where every training fold has every level, the fold scores also equal
``LinearRegression(formula=..., alpha=...)`` refitted on the training rows of the table.  Files
(CSV, Parquet) and Dask DataFrames give what the table in memory gives.
"""

from __future__ import annotations


import numpy as np
import pytest
from penguins import load_penguins
from sklearn.model_selection import GroupKFold, KFold

from linreg import LinearRegression, LinearRegressionCV, load, sources
from linreg.selection import make_folds

from formula_fit import explicit_cv_scores as explicit_scores
from formula_fit import patsy_design


FORMULA = "body_mass_g ~ flipper_length_mm + species * sex"
ALPHAS = np.array([0.0, 1e-3, 1e-2, 1e-1, 1.0])


@pytest.fixture(scope="module")
def penguins():
    return load_penguins()


def rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def hashed_test_sets(n, k, seed):
    ids = make_folds(k, n, True, seed).of_rows(0, n)
    return [np.flatnonzero(ids == f) for f in range(k)]


def kfold_test_sets(n, k):
    return [test for _, test in KFold(k).split(np.arange(n))]


# ----------------------------------------------------------------------- tables in memory
@pytest.mark.parametrize("params", [
    dict(), dict(standardize=False), dict(scoring="r2"), dict(scoring="mae"),
    dict(shuffle=True, random_state=4), dict(weights=True),
])
def test_formula_fold_scores_equal_explicit_refits(penguins, params):
    params = dict(params)
    weights = (np.random.default_rng(1).uniform(0.3, 2.0, len(penguins))
               if params.pop("weights", False) else None)
    m = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS, **params).fit(
        penguins, sample_weight=weights)
    n = len(penguins)
    tests = (hashed_test_sets(n, 5, params["random_state"]) if params.get("shuffle")
             else kfold_test_sets(n, 5))
    lr = {k: v for k, v in params.items() if k == "standardize"}
    want = explicit_scores(FORMULA, penguins, tests, ALPHAS, weights, m.scoring, **lr)
    assert rel(m.score_path_, want) < 1e-9
    # rows left out for a missing value keep their numbers: fold f holds out KFold's rows
    kept = penguins[["body_mass_g", "flipper_length_mm", "species", "sex"]].notna().all(axis=1)
    assert list(m.cv_results_["fold_rows"]) == [int(kept.iloc[t].sum()) for t in tests]
    assert m.n_dropped_ == int((~kept).sum())
    # the refit: the table fit at alpha_, with its names and terms
    full = LinearRegression(formula=FORMULA, missing="drop", alpha=m.alpha_, **lr).fit(
        penguins, sample_weight=weights)
    assert rel(m.coef_, full.coef_) < 1e-9 and rel(m.intercept_, full.intercept_) < 1e-9
    assert m.coef_names_ == full.coef_names_ and m.terms_ == full.terms_
    assert m.estimator_.coef_names_ == full.coef_names_


def test_a_training_fold_without_a_level_keeps_its_column(penguins):
    """Folds by species (an array of groups): each training fold lacks the held-out species
    entirely, and still has its columns (zero in every training row) — the design is that of
    all rows — so the held-out rows are predicted with coefficient 0 there."""
    df = penguins.dropna(subset=["body_mass_g", "flipper_length_mm", "species", "sex"])
    df = df.reset_index(drop=True)
    species = df.species.to_numpy(dtype=object)
    tests = [np.flatnonzero(species == s) for s in sorted(set(species))]
    m = LinearRegressionCV(formula=FORMULA, alphas=ALPHAS, cv=species).fit(df)
    assert list(m.cv_results_["fold_rows"]) == [len(t) for t in tests]
    assert rel(m.mse_path_, explicit_scores(FORMULA, df, tests, ALPHAS)) < 1e-9
    # a refit of the table on those training rows would not have the column at all
    with pytest.raises(ValueError, match="never saw"):
        LinearRegression(formula=FORMULA).fit(df.iloc[np.r_[tests[0], tests[2]]]).predict(df)


def test_every_level_in_every_training_fold_equals_formula_refits(penguins):
    """With shuffled folds every training fold has every level: each fold score equals
    LinearRegression(formula=..., alpha=...) refitted on the training rows of the table."""
    n = len(penguins)
    m = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS, shuffle=True,
                           random_state=7).fit(penguins)
    for f, test in enumerate(hashed_test_sets(n, 5, 7)):
        train = penguins.drop(index=penguins.index[test])
        held = penguins.iloc[test]
        for i, a in enumerate(ALPHAS):
            fit = LinearRegression(formula=FORMULA, missing="drop", alpha=a).fit(train)
            assert fit.coef_names_ == m.coef_names_
            e = fit.predict(held) - held.body_mass_g.to_numpy()
            assert rel(m.mse_path_[i, f], np.nanmean(e**2)) < 1e-9


def test_text_columns_with_y(penguins):
    """fit(table with text columns, y): the columns' formula, as LinearRegression builds it."""
    X, y = penguins.drop(columns="body_mass_g"), penguins.body_mass_g
    m = LinearRegressionCV(missing="drop", alphas=ALPHAS, cv=4).fit(X, y)
    formula = ("body_mass_g ~ species + island + bill_length_mm + bill_depth_mm + "
               "flipper_length_mm + sex + year")
    want = explicit_scores(formula, penguins, kfold_test_sets(len(penguins), 4), ALPHAS)
    assert rel(m.mse_path_, want) < 1e-9
    full = LinearRegression(missing="drop", alpha=m.alpha_).fit(X, y)
    assert m.coef_names_ == full.coef_names_ and rel(m.coef_, full.coef_) < 1e-9
    assert list(m.feature_names_in_) == list(full.feature_names_in_)


def test_fold_ids_groups_and_splitters(penguins):
    ids = np.arange(len(penguins)) % 3
    m = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS, cv=ids).fit(penguins)
    tests = [np.flatnonzero(ids == f) for f in range(3)]
    assert rel(m.mse_path_, explicit_scores(FORMULA, penguins, tests, ALPHAS)) < 1e-9
    groups = penguins.year.to_numpy()
    g = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS,
                           cv=GroupKFold(3)).fit(penguins, groups=groups)
    tests = [test for _, test in GroupKFold(3).split(penguins, groups=groups)]
    assert rel(g.mse_path_, explicit_scores(FORMULA, penguins, tests, ALPHAS)) < 1e-9


def test_refit_predicts_saves_and_loads(penguins, tmp_path):
    m = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS).fit(penguins)
    full = LinearRegression(formula=FORMULA, missing="drop", alpha=m.alpha_).fit(penguins)
    assert rel(np.nan_to_num(m.predict(penguins)), np.nan_to_num(full.predict(penguins))) < 1e-9
    assert np.isnan(m.predict(penguins)).sum() == m.n_dropped_
    model = m.estimator_
    assert model.terms_ == full.terms_
    path = tmp_path / "cv.json"
    model.save(path)
    back = load(path)
    assert back.coef_names_ == full.coef_names_
    assert np.array_equal(np.nan_to_num(back.predict(penguins)),
                          np.nan_to_num(model.predict(penguins)))
    if m.alpha_ == 0:
        result = model.summary()
        assert result.nobs == len(penguins) - m.n_dropped_


def test_loo_and_gcv_on_a_table(penguins):
    """Leave-one-out of a table's fit equals scikit-learn's RidgeCV on patsy's design (alpha
    per row n_w·alpha, standardize=False)."""
    from sklearn.linear_model import RidgeCV
    alphas = np.geomspace(1e-3, 1.0, 4)
    m = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=alphas, cv="loo",
                           standardize=False).fit(penguins)
    X, y, _ = patsy_design(FORMULA, penguins)
    n = len(y)
    sk = RidgeCV(alphas=n * alphas, store_cv_results=True).fit(X, y)
    assert rel(m.mse_path_[:, 0], sk.cv_results_.mean(axis=0)) < 1e-8
    gcv = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=alphas, cv="gcv",
                             standardize=False).fit(penguins)
    A = np.column_stack([np.ones(n), X])
    for i, a in enumerate(alphas):
        H = A @ np.linalg.solve(A.T @ A + np.diag([0.0] + [n * a] * X.shape[1]), A.T)
        r = y - H @ y
        assert rel(gcv.mse_path_[i, 0], np.mean(r**2) / (1 - np.trace(H) / n) ** 2) < 1e-8


# ------------------------------------------------------------------- files and Dask
@pytest.fixture(scope="module")
def files(penguins, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cv-tables")
    penguins.to_csv(folder / "penguins.csv", index=False)
    pytest.importorskip("pyarrow")
    penguins.iloc[:150].to_parquet(folder / "a.parquet", row_group_size=40)
    penguins.iloc[150:].to_parquet(folder / "b.parquet", row_group_size=64)
    return folder


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("scoring", ["mse", "mae"])
def test_files_equal_the_table_in_memory(penguins, files, shuffle, scoring):
    """CSV in blocks of 50 rows (each block learns its levels; the last is all Chinstrap),
    Parquet in row groups: one pass gives what the table in memory gives."""
    params = dict(formula=FORMULA, missing="drop", alphas=ALPHAS, shuffle=shuffle,
                  scoring=scoring)
    mem = LinearRegressionCV(**params).fit(penguins)
    for src in (sources.csv(files / "penguins.csv", target=None, chunk_rows=50),
                sources.parquet(str(files / "*.parquet"), target=None, chunk_rows=30)):
        m = LinearRegressionCV(**params).fit(src)
        assert rel(m.score_path_, mem.score_path_) < 1e-10, src
        assert m.alpha_ == mem.alpha_ and rel(m.coef_, mem.coef_) < 1e-10
        assert m.coef_names_ == mem.coef_names_ and m.n_dropped_ == mem.n_dropped_


def test_csv_with_blank_lines(penguins, files):
    """Empty lines (which the reader skips) are not rows: the count before the pass and the
    rows' numbers are those of the rows read."""
    text = (files / "penguins.csv").read_text().splitlines()
    text = text[:40] + [""] + text[40:200] + ["", ""] + text[200:] + ["", ""]
    path = files / "blank-lines.csv"
    path.write_text("\n".join(text) + "\n")
    mem = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS).fit(penguins)
    for chunk_rows in (None, 50):
        m = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS).fit(
            sources.csv(path, target=None, chunk_rows=chunk_rows))
        assert rel(m.mse_path_, mem.mse_path_) < 1e-10


def test_csv_fold_ids_need_no_count(penguins, files):
    ids = np.arange(len(penguins)) % 4
    src = sources.csv(files / "penguins.csv", target=None, chunk_rows=64)
    m = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS, cv=ids).fit(src)
    tests = [np.flatnonzero(ids == f) for f in range(4)]
    assert rel(m.mse_path_, explicit_scores(FORMULA, penguins, tests, ALPHAS)) < 1e-9
    short = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS, cv=ids[:200])
    with pytest.raises(ValueError, match="fold ids for 200 rows"):
        short.fit(sources.csv(files / "penguins.csv", target=None, chunk_rows=64))


def test_dask_frame_equals_the_table_in_memory(penguins, client):
    dd = pytest.importorskip("dask.dataframe")
    for shuffle in (False, True):
        mem = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS,
                                 shuffle=shuffle, scoring="mae").fit(penguins)
        m = LinearRegressionCV(formula=FORMULA, missing="drop", alphas=ALPHAS, shuffle=shuffle,
                               scoring="mae").fit(dd.from_pandas(penguins, npartitions=3))
        assert rel(m.score_path_, mem.score_path_) < 1e-10
        assert rel(m.coef_, mem.coef_) < 1e-10 and m.coef_names_ == mem.coef_names_


# ------------------------------------------------------------------------------- bad input
def test_bad_table_input(penguins):
    with pytest.raises(ValueError, match="needs a table"):
        LinearRegressionCV(formula=FORMULA).fit(np.zeros((10, 2)), np.zeros(10))
    with pytest.raises(ValueError, match="without y"):
        LinearRegressionCV(formula=FORMULA).fit(penguins, penguins.body_mass_g)
    with pytest.raises(ValueError, match="missing"):
        LinearRegressionCV(formula=FORMULA, missing="skip").fit(penguins)
    with pytest.raises(ValueError, match="missing"):       # missing="error" names the column
        LinearRegressionCV(formula=FORMULA).fit(penguins)
    with pytest.raises(ValueError, match="only 344 rows"):
        LinearRegressionCV(formula=FORMULA, missing="drop", cv=400).fit(penguins)
    with pytest.raises(ValueError, match="fold ids for 10 rows"):
        LinearRegressionCV(formula=FORMULA, missing="drop", cv=np.arange(10) % 2).fit(penguins)
    with pytest.raises(ValueError, match="formula must be"):
        LinearRegressionCV(formula=3).fit(penguins)
    # a fold whose rows all have a missing value has no rows
    df = penguins.copy()
    df.loc[df.index[:69], "sex"] = None
    with pytest.raises(ValueError, match="fold 0 holds 0 rows"):
        LinearRegressionCV(formula=FORMULA, missing="drop").fit(df)
