"""The command line on tables: text columns, ``--formula``, ``--missing``, ``--chunk-rows``.

Trusted answers: statsmodels' ``smf.ols``/``smf.wls`` on the same table read by pandas
(coefficients and their names, standard errors, R², predictions and their intervals), and
scikit-learn's metrics on the rows statsmodels keeps.
"""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

import linreg
from linreg.cli import main
from linreg.cli.describe import training_metrics
from linreg.cli.tables import Metrics

smf = pytest.importorskip("statsmodels.formula.api")
pytest.importorskip("formulaic")
pytest.importorskip("pyarrow")

FORMULA = "body_mass_g ~ flipper_length_mm + species * sex"
#: every column but the target, as statsmodels writes the fit without a formula
ALL_COLUMNS = ("body_mass_g ~ species + island + bill_length_mm + bill_depth_mm + "
               "flipper_length_mm + sex + year")


def run(argv):
    """(exit status, stdout, stderr) of ``main(argv)``."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def close(a, b, rtol=1e-9, atol=0.0):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=rtol, atol=atol)


@pytest.fixture(scope="module")
def csv_path():
    with resources.as_file(resources.files("linreg") / "data" / "penguins.csv") as path:
        yield Path(path)


@pytest.fixture(scope="module")
def penguins(csv_path):
    """The bundled penguins as pandas reads them (``NA`` a missing value)."""
    return pd.read_csv(csv_path)


@pytest.fixture(scope="module")
def files(penguins, csv_path, tmp_path_factory):
    """The penguins as CSV and Parquet (with a weight column), and the complete rows."""
    folder = tmp_path_factory.mktemp("penguins")
    weighted = penguins.assign(w=np.random.default_rng(4).uniform(0.5, 2.0, len(penguins)))
    weighted.to_parquet(folder / "penguins.parquet", index=False)
    weighted.to_csv(folder / "weighted.csv", index=False)
    penguins.dropna().to_csv(folder / "complete.csv", index=False)
    return {"csv": csv_path, "parquet": folder / "penguins.parquet",
            "weighted_csv": folder / "weighted.csv", "complete": folder / "complete.csv",
            "folder": folder, "weighted": weighted}


def fit_json(argv):
    code, out, err = run(["fit", *argv, "--json"])
    assert code == 0, err
    return json.loads(out)


def check_coefficients(report, reference):
    names = list(reference.params.index)
    assert names[0] == "Intercept"
    assert report["coef_names"] == names[1:]
    assert list(report["coef"]) == names[1:]
    close([report["coef"][n] for n in names[1:]], reference.params.iloc[1:], 1e-9)
    close(report["intercept"], reference.params.iloc[0], 1e-9)


# ------------------------------------------------------------------------------ fit
@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize("chunk_rows", [None, 37])
def test_formula_fit_and_summary_equal_statsmodels(files, penguins, tmp_path, kind, chunk_rows):
    chunks = [] if chunk_rows is None else ["--chunk-rows", chunk_rows]
    model = tmp_path / "m.json"
    report = fit_json([files[kind], "--formula", FORMULA, "--missing", "drop", "-o", model,
                       *chunks])
    reference = smf.ols(FORMULA, penguins).fit()
    check_coefficients(report, reference)
    assert report["n_rows"] == reference.nobs == len(penguins) - report["n_dropped"]
    assert report["n_dropped"] == 11 and report["formula"] == FORMULA
    assert report["missing"] == "drop" and report["target"] == "body_mass_g"
    assert report["columns"] == ["flipper_length_mm", "species", "sex"]
    close(report["training_metrics"]["r2"], reference.rsquared, 1e-9)
    close(report["training_metrics"]["rmse"], np.sqrt(reference.ssr / reference.nobs), 1e-9)
    code, out, err = run(["summary", model, files[kind], "--json", *chunks])
    assert code == 0, err
    inference = json.loads(out)["inference"]
    assert inference["param_names"] == list(reference.params.index)
    close(inference["params"], reference.params, 1e-9)
    close(inference["bse"], reference.bse, 1e-9)
    close(inference["pvalues"], reference.pvalues, 1e-8, atol=1e-300)
    close(inference["rsquared"], reference.rsquared, 1e-10)
    close(inference["rsquared_adj"], reference.rsquared_adj, 1e-10)
    assert inference["nobs"] == reference.nobs and inference["n_dropped"] == 11


def test_text_columns_are_encoded_without_a_formula(files, penguins):
    report = fit_json([files["csv"], "--target", "body_mass_g", "--missing", "drop"])
    check_coefficients(report, smf.ols(ALL_COLUMNS, penguins).fit())
    assert report["formula"] == ALL_COLUMNS
    # --features and --drop choose the columns, as for numbers
    report = fit_json([files["csv"], "--target", "body_mass_g", "--missing", "drop",
                       "--drop", "year,island"])
    check_coefficients(report, smf.ols("body_mass_g ~ species + bill_length_mm + bill_depth_mm"
                                       " + flipper_length_mm + sex", penguins).fit())


def test_weighted_formula_fit_equals_wls(files, tmp_path):
    data = files["weighted"].dropna()
    model = tmp_path / "w.json"
    report = fit_json([files["parquet"], "--formula", FORMULA, "--missing", "drop",
                       "--weight", "w", "-o", model])
    reference = smf.wls(FORMULA, data, weights=data.w).fit()
    check_coefficients(report, reference)
    assert report["weight"] == "w"
    code, out, err = run(["summary", model, files["weighted_csv"], "--json"])
    assert code == 0, err
    inference = json.loads(out)["inference"]
    close(inference["bse"], reference.bse, 1e-9)
    close(inference["rsquared"], reference.rsquared, 1e-10)
    for argv in (["--formula", FORMULA], ["--target", "body_mass_g"]):
        code, out, err = run(["fit", files["csv"], *argv, "--missing", "drop", "--weight", "sex"])
        assert code == 1 and "the sample-weight column 'sex' holds text values" in err


def test_printed_fit_names_coefficients_and_rows_left_out(files, penguins):
    code, out, err = run(["fit", files["csv"], "--formula", FORMULA, "--missing", "drop"])
    assert code == 0 and err == ""
    reference = smf.ols(FORMULA, penguins).fit()
    lines = out.splitlines()
    assert lines[0].startswith(f"fitted {int(reference.nobs)} rows × 6 features of ")
    assert lines[1] == "(11 rows with a missing value left out)"
    assert lines[2] == f"formula: {FORMULA}"
    shown = {line.split()[0]: float(line.split()[1]) for line in lines
             if line.startswith("  ")}
    assert list(shown) == list(reference.params.index[1:]) + ["intercept"]
    close(list(shown.values()), list(reference.params.iloc[1:]) + [reference.params.iloc[0]],
          1e-9)


def test_missing_values_are_an_error_that_says_the_option(files, penguins):
    code, out, err = run(["fit", files["csv"], "--formula", FORMULA])
    first = int(np.flatnonzero(penguins[["body_mass_g", "flipper_length_mm", "species", "sex"]]
                               .isna().any(axis=1))[0])
    assert code == 1 and out == "" and err.count("\n") == 1
    assert f"line {first + 2} of {files['csv']}" in err
    assert "--missing drop" in err and "missing=" not in err
    # a model fitted with --missing error refuses missing values when it predicts too
    model = files["folder"] / "strict.json"
    assert run(["fit", files["complete"], "--formula", FORMULA, "-o", model])[0] == 0
    code, out, err = run(["predict", model, files["csv"]])
    assert code == 1 and "--missing error" in err and "--missing drop" in err
    assert "missing=" not in err


def test_usage_errors(files, tmp_path):
    model = tmp_path / "m.json"
    for argv, says in [
            (["--formula", FORMULA, "--target", "bill_length_mm"], "different targets"),
            (["--formula", FORMULA, "--target", "body_mass_g", "--drop", "year"], "--drop"),
            ([], "--target"),
            (["--formula", FORMULA, "--no-intercept"], "- 1"),
            (["--formula", "body_mass_g ~ species +"], "--formula"),
            (["--formula", "body_mass_g ~ no_such_column"], "no_such_column")]:
        code, out, err = run(["fit", files["csv"], *argv, "-o", model])
        assert code == 2 and says in err and err.count("\n") == 1, (argv, err)
        assert not model.exists()
    # the same target in both places is fine; so is an intercept left out in the formula
    report = fit_json([files["complete"], "--formula", "body_mass_g ~ species - 1",
                       "--target", "body_mass_g"])
    assert report["coef_names"] == ["species[Adelie]", "species[Chinstrap]", "species[Gentoo]"]
    assert report["intercept"] == 0


def test_alpha_cv_with_a_formula(files, penguins, tmp_path):
    """``--alpha cv`` on a CSV read in blocks: the CV curve recorded in the model file is the
    mean over 5 contiguous folds (KFold over the file's rows, the rows with a missing value
    left out of each) of LinearRegression refitted on patsy's design of all rows; the model
    is the table fit at the alpha of the lowest mean."""
    from formula_fit import explicit_cv_scores
    from sklearn.model_selection import KFold

    model = tmp_path / "cv.json"
    alphas = [0.0, 0.001, 0.01, 0.1, 1.0]
    code, out, err = run(["fit", files["csv"], "--formula", FORMULA, "--missing", "drop",
                          "--alpha", "cv", "--alphas", ",".join(map(str, alphas)),
                          "--chunk-rows", "64", "-o", model])
    assert code == 0, err
    assert "chosen by 5-fold cross-validation" in out and "(11 rows with a missing" in out
    tests = [t for _, t in KFold(5).split(np.arange(len(penguins)))]
    want = explicit_cv_scores(FORMULA, penguins, tests, np.array(alphas)).mean(axis=1)
    fitted = linreg.load(model)
    path = fitted.metadata_["cv_path"]
    close(path["mean"], want, rtol=1e-9)
    best = alphas[int(np.argmin(want))]
    assert path["alpha_min"] == best and fitted.alpha == best
    reference = linreg.LinearRegression(formula=FORMULA, missing="drop", alpha=best).fit(penguins)
    assert fitted.coef_names_ == reference.coef_names_
    close(fitted.coef_, reference.coef_, rtol=1e-9)
    code, out, err = run(["predict", model, files["csv"]])
    assert code == 0, err
    for bad, says in ((["--cv", "1"], "at least 2 folds"), (["--solver", "gd"], "--solver gd"),
                      (["--cv", "400"], "only 344 rows")):
        code, out, err = run(["fit", files["csv"], "--formula", FORMULA, "--missing", "drop",
                              "--alpha", "cv", *bad])
        assert code == 1 and says in err and err.count("\n") == 1, (bad, err)
    # a weighted Parquet file with text columns, no formula
    code, out, err = run(["fit", files["parquet"], "--target", "body_mass_g", "--weight", "w",
                          "--missing", "drop", "--alpha", "cv", "--cv", "3", "--json"])
    assert code == 0, err
    report = json.loads(out)
    weighted = files["weighted"].drop(columns="w")
    tests = [t for _, t in KFold(3).split(np.arange(len(weighted)))]
    cv = linreg.LinearRegressionCV(cv=3, missing="drop").fit(
        weighted.drop(columns="body_mass_g"), weighted.body_mass_g,
        sample_weight=files["weighted"].w.to_numpy())
    want = explicit_cv_scores(ALL_COLUMNS, weighted, tests, cv.alphas_,
                              weights=files["weighted"].w.to_numpy()).mean(axis=1)
    close(cv.cv_results_["mean_test_mse"], want, rtol=1e-9)
    coef = report["coef"]
    close([coef[n] for n in cv.coef_names_], cv.coef_, rtol=1e-9)


def test_select_terms(files, penguins, tmp_path):
    """``linreg select --formula``: whole terms, each step's AIC statsmodels' fit of the model
    it reaches (on the rows the full formula keeps); the saved model is the chosen formula's
    fit."""
    formula = "body_mass_g ~ flipper_length_mm + bill_length_mm + island + species * sex"
    model = tmp_path / "chosen.json"
    code, out, err = run(["select", files["csv"], "--formula", formula, "--missing", "drop",
                          "--criterion", "aic", "--chunk-rows", "50", "--json", "-o", model])
    assert code == 0, err
    report = json.loads(out)
    data = penguins.dropna(subset=["body_mass_g", "flipper_length_mm", "bill_length_mm",
                                   "island", "species", "sex"])
    assert report["n_dropped"] == len(penguins) - len(data)
    terms = set()
    for action, term, value in report["path"][1:]:
        terms = terms | {term} if action == "+" else terms - {term}
        rhs = " + ".join(sorted(terms))
        close(value, smf.ols(f"body_mass_g ~ {rhs}", data).fit().aic, rtol=1e-9)
    assert set(report["selected"]) == terms
    reference = smf.ols(report["formula"], data).fit()
    close(report["value"], reference.aic, rtol=1e-9)
    fitted = linreg.load(model)
    assert fitted.coef_names_ == list(reference.params.index[1:])
    close(fitted.coef_, reference.params.values[1:], rtol=1e-8)
    code, out, err = run(["select", files["csv"], "--formula", "body_mass_g ~ species +"])
    assert code == 2 and "--formula" in err


# ------------------------------------------------------------------------------ hostile input
@pytest.mark.parametrize("term", [
    "__import__('os').system('touch {owned}')",
    "open('{owned}', 'w')",
    "np.save('{owned}', flipper_length_mm)",
    "eval(\"open('{owned}', 'w')\")",
])
def test_hostile_formulas_are_refused_and_never_run(files, tmp_path, term):
    owned = tmp_path / "owned"
    model = tmp_path / "m.json"
    formula = "body_mass_g ~ species + " + term.format(owned=owned)
    code, out, err = run(["fit", files["complete"], "--formula", formula, "-o", model])
    assert not owned.exists() and not model.exists()
    assert code == 2 and "--formula" in err and err.count("\n") == 1


def test_hostile_model_files_are_refused_and_never_run(files, tmp_path):
    model = tmp_path / "m.json"
    assert run(["fit", files["complete"], "--formula", FORMULA, "-o", model])[0] == 0
    owned = tmp_path / "owned"
    hostile = f"__import__('os').system('touch {owned}')"
    doc = json.loads(model.read_text())
    encoding = doc["encoding"]
    # the numeric factor renamed to code everywhere the file names it
    encoding["terms"] = [[hostile if f == "flipper_length_mm" else f for f in t]
                         for t in encoding["terms"]]
    encoding["lookups"].remove("flipper_length_mm")
    encoding["kinds"][hostile] = encoding["kinds"].pop("flipper_length_mm")
    encoding["widths"] = {hostile: [hostile]}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    for argv in (["predict", bad, files["complete"]], ["evaluate", bad, files["complete"]],
                 ["summary", bad, files["complete"]]):
        code, out, err = run(argv)
        assert code == 1 and out == "" and err.count("\n") == 1, err
        assert not owned.exists()


# ------------------------------------------------------------------------------ using a model
@pytest.fixture(scope="module")
def dropping(files):
    """A model fitted with --missing drop on the penguins CSV."""
    model = files["folder"] / "dropping.json"
    code, out, err = run(["fit", files["csv"], "--formula", FORMULA, "--missing", "drop",
                          "-o", model])
    assert code == 0, err
    return model


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_predict_leaves_rows_with_missing_values_empty(files, penguins, dropping, tmp_path, kind):
    reference = smf.ols(FORMULA, penguins).fit()
    output = tmp_path / f"p.{kind}"
    code, out, err = run(["predict", dropping, files[kind], "--keep", "species", "-o", output,
                          "--chunk-rows", 50])
    assert code == 0
    assert "11 rows with a missing value left out" in err
    got = pd.read_csv(output) if kind == "csv" else pd.read_parquet(output)
    assert list(got.columns) == ["species", "prediction_body_mass_g"]
    assert got.species.tolist() == penguins.species.tolist()
    used = penguins[["body_mass_g", "flipper_length_mm", "species", "sex"]]
    # the target is not needed to predict: only rows missing a feature are left out
    missing = penguins[["flipper_length_mm", "species", "sex"]].isna().any(axis=1).to_numpy()
    assert got.prediction_body_mass_g.isna().to_numpy().tolist() == missing.tolist()
    close(got.prediction_body_mass_g[~missing], reference.predict(penguins[~missing]), 1e-10)
    assert used.isna().any(axis=1).sum() == 11
    if kind == "csv":      # NA, as R writes it (and pandas and linreg read it)
        assert output.read_text().count(",NA\n") == missing.sum()
    # alone in its file, a missing prediction is a line of its own
    code, out, err = run(["predict", dropping, files[kind]])
    close(pd.read_csv(io.StringIO(out)).prediction_body_mass_g, got.prediction_body_mass_g,
          1e-15)


def test_predict_intervals_equal_statsmodels(files, penguins, dropping):
    code, out, err = run(["predict", dropping, files["complete"], "--interval", "prediction",
                          "--level", 0.9])
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out))
    complete = penguins.dropna()
    frame = smf.ols(FORMULA, penguins).fit().get_prediction(complete).summary_frame(alpha=0.1)
    close(got.prediction_body_mass_g, frame["mean"], 1e-10)
    close(got.lower_body_mass_g, frame.obs_ci_lower, 1e-9)
    close(got.upper_body_mass_g, frame.obs_ci_upper, 1e-9)


def test_evaluate_equals_statsmodels_and_sklearn(files, penguins, dropping):
    reference = smf.ols(FORMULA, penguins).fit()
    kept = penguins.loc[reference.fittedvalues.index]
    code, out, err = run(["evaluate", dropping, files["parquet"], "--json", "--chunk-rows", 29])
    assert code == 0, err
    got = json.loads(out)
    assert got["n"] == reference.nobs and got["n_dropped"] == 11
    close(got["r2"], reference.rsquared, 1e-10)
    close(got["rmse"], root_mean_squared_error(kept.body_mass_g, reference.fittedvalues), 1e-10)
    close(got["mae"], mean_absolute_error(kept.body_mass_g, reference.fittedvalues), 1e-10)
    code, out, err = run(["evaluate", dropping, files["csv"]])
    assert code == 0 and "(11 rows with a missing value left out)" in out


def test_unseen_level_names_column_level_and_line(files, penguins, tmp_path):
    complete = penguins.dropna().reset_index(drop=True)
    train = tmp_path / "no_gentoo.csv"
    complete[complete.species != "Gentoo"].to_csv(train, index=False)
    model = tmp_path / "m.json"
    assert run(["fit", train, "--formula", FORMULA, "-o", model])[0] == 0
    line = int(np.flatnonzero(complete.species == "Gentoo")[0]) + 2   # the header is line 1
    for command in ("predict", "evaluate", "summary"):
        code, out, err = run([command, model, files["complete"]])
        assert code == 1 and out == "" and err.count("\n") == 1
        assert ("column 'species' has the level 'Gentoo' at line "
                f"{line} of {files['complete']}") in err, err


def test_summary_prints_the_expanded_names(files, penguins, dropping):
    reference = smf.ols(FORMULA, penguins).fit()
    code, out, err = run(["summary", dropping, files["csv"]])
    assert code == 0, err
    for name in reference.params.index:
        assert f"\n{name} " in out      # whole, never cut short
    assert out.rstrip("\n").endswith("(11 rows with a missing value left out)")
    # without data: the model file's description
    code, out, err = run(["summary", dropping])
    assert code == 0, err
    assert f"formula: {FORMULA} (missing values: --missing drop)" in out
    assert "species[T.Chinstrap]:sex[T.male]" in out
    code, out, err = run(["summary", dropping, "--json"])
    description = json.loads(out)
    assert description["coef_names"] == list(reference.params.index[1:])
    assert description["n_dropped"] == 11 and description["formula"] == FORMULA
    close([description["coef"][n] for n in reference.params.index[1:]],
          reference.params.iloc[1:], 1e-9)


def test_model_file_round_trip(files, penguins, dropping):
    model = linreg.load(dropping)
    assert model.coef_names_ == list(smf.ols(FORMULA, penguins).fit().params.index[1:])
    assert model.n_dropped_ == 11 and model.missing == "drop"
    assert model.metadata_["target_name"] == "body_mass_g"
    code, out, err = run(["predict", dropping, files["csv"]])
    assert code == 0
    close(pd.read_csv(io.StringIO(out)).prediction_body_mass_g, model.predict(penguins), 1e-12)
    # the loaded model refits nothing: summary from Python on the same file agrees
    from linreg import sources
    result = model.summary(X=sources.csv(files["csv"], target=None))
    code, out, err = run(["summary", dropping, files["csv"], "--json"])
    close(json.loads(out)["inference"]["bse"], result.bse, 1e-12)


def test_target_must_be_the_models(files, dropping):
    code, out, err = run(["evaluate", dropping, files["csv"], "--target", "bill_length_mm"])
    assert code == 1 and "'body_mass_g'" in err and "--target" in err
    assert run(["evaluate", dropping, files["csv"], "--target", "body_mass_g"])[0] == 0


def test_report_and_plot_read_tables(files, penguins, dropping, tmp_path):
    pytest.importorskip("matplotlib")
    for kind in ("csv", "parquet"):
        page = tmp_path / f"r-{kind}.html"
        code, out, err = run(["report", dropping, files[kind], "-o", page, "--chunk-rows", 100])
        assert code == 0, err
        text = page.read_text(encoding="utf-8")
        reference = smf.ols(FORMULA, penguins).fit()
        assert f"({len(penguins) - int(reference.nobs)} observations deleted" in text
        assert f"<td>{reference.rsquared:.6g}</td>" in text
    code, out, err = run(["plot", dropping, files["csv"], "-o", tmp_path / "fit.png"])
    assert code == 0, err
    assert (tmp_path / "fit.png").stat().st_size > 0


# ------------------------------------------------------------------------------ numbers, streamed
def test_numeric_files_streamed_give_the_same_model(tmp_path):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(300, 3))
    frame = pd.DataFrame(X, columns=["a", "b", "c"]).assign(
        y=X @ [1.0, -2.0, 0.5] + 3 + rng.normal(size=300), w=rng.uniform(0.5, 2, 300))
    path = tmp_path / "d.csv"
    frame.to_csv(path, index=False)
    whole = fit_json([path, "--target", "y", "--weight", "w", "-o", tmp_path / "whole.json"])
    streamed = fit_json([path, "--target", "y", "--weight", "w", "--chunk-rows", 64,
                         "-o", tmp_path / "streamed.json"])
    assert set(whole) == set(streamed) and "formula" not in whole
    close(list(streamed["coef"].values()), list(whole["coef"].values()), 1e-12)
    close(streamed["intercept"], whole["intercept"], 1e-12)
    close(list(streamed["training_metrics"].values()), list(whole["training_metrics"].values()),
          1e-12)
    for command in ("evaluate", "summary"):
        plain = json.loads(run([command, tmp_path / "whole.json", path, "--json"])[1])
        chunked = json.loads(run([command, tmp_path / "whole.json", path, "--json",
                                  "--chunk-rows", 41])[1])
        if command == "evaluate":
            close([plain[k] for k in ("n", "r2", "rmse", "mae")],
                  [chunked[k] for k in ("n", "r2", "rmse", "mae")], 1e-12)
        else:
            close(chunked["inference"]["bse"], plain["inference"]["bse"], 1e-10)
    plain = pd.read_csv(io.StringIO(run(["predict", tmp_path / "whole.json", path])[1]))
    chunked = pd.read_csv(io.StringIO(run(["predict", tmp_path / "whole.json", path,
                                           "--chunk-rows", 50])[1]))
    close(chunked, plain, 1e-12)


def test_chunk_rows_must_be_positive(files):
    code, out, err = run(["fit", files["csv"], "--target", "body_mass_g", "--chunk-rows", 0])
    assert code == 2 and "--chunk-rows" in err


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_metrics_in_blocks_equal_sklearn(k, weighted):
    rng = np.random.default_rng(k)
    n = 203
    y = rng.normal(size=(n, k)) * 100 + 1e6
    y_pred = y + rng.normal(size=(n, k))
    w = rng.uniform(0, 3, n) if weighted else None
    metrics = Metrics()
    for start in range(0, n, 17):
        rows = slice(start, start + 17)
        metrics.add(y[rows], y_pred[rows], None if w is None else w[rows])
    got = metrics.result()
    y1, p1 = (y[:, 0], y_pred[:, 0]) if k == 1 else (y, y_pred)
    assert got["n"] == n
    close(got["r2"], r2_score(y1, p1, sample_weight=w), 1e-10)
    close(got["rmse"], root_mean_squared_error(y1, p1, sample_weight=w), 1e-12)
    close(got["mae"], mean_absolute_error(y1, p1, sample_weight=w), 1e-12)
    # a constant target: R² as scikit-learn's (1 when predicted exactly, else 0)
    for pred, expected in ((np.full(5, 2.0), 1.0), (np.arange(5.0), 0.0)):
        constant = Metrics()
        constant.add(np.full(5, 2.0), pred)
        assert constant.result()["r2"] == expected == training_metrics(np.full(5, 2.0), pred)["r2"]


def test_numeric_files_and_missing_values(tmp_path):
    path = tmp_path / "na.csv"
    frame = pd.DataFrame({"a": [1.0, 2, 3, 4, 5, 6], "b": [2.0, np.nan, 4, 1, 0, 3],
                          "y": [3.0, 5, 8, 3, 1, 7]})
    frame.to_csv(path, index=False, na_rep="NA")
    for extra in ([], ["--missing", "error"]):
        code, out, err = run(["fit", path, "--target", "y", *extra])
        assert code == 1 and "line 3" in err and "'b'" in err and "--missing drop" in err
    model = tmp_path / "m.json"
    report = fit_json([path, "--target", "y", "--missing", "drop", "-o", model])
    reference = smf.ols("y ~ a + b", frame).fit()
    check_coefficients(report, reference)
    assert report["n_dropped"] == 1
    code, out, err = run(["predict", model, path])
    assert code == 0 and "1 row with a missing value left out: its prediction" in err
    got = pd.read_csv(io.StringIO(out)).prediction_y
    assert got.isna().tolist() == frame.b.isna().tolist()
    close(got.dropna(), reference.fittedvalues, 1e-10)
    # without --missing drop, a numeric file is read whole, as ever: no formula in the report
    complete = tmp_path / "complete.csv"
    frame.dropna().to_csv(complete, index=False)
    report = fit_json([complete, "--target", "y", "--missing", "error"])
    assert "formula" not in report and "coef_names" not in report


def test_a_column_of_numbers_and_text(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("a,b,y\n1,2,3\n4,five,6\n5,3,1\n2,2,2\n")
    code, out, err = run(["fit", path, "--target", "y"])
    assert code == 1 and err.count("\n") == 1
    # a CSV declares no types: a column of numbers with a word in it is read as numbers, and
    # the word reported where it is
    assert "line 3 (row 1), column 1 ('b'): 'five' is not a number" in err
    # asked for by a formula, its values are categories
    frame = pd.read_csv(path, dtype={"b": str})
    report = fit_json([path, "--formula", "y ~ a + b"])
    check_coefficients(report, smf.ols("y ~ a + b", frame).fit())


def test_summary_anova_equals_anova_lm(tmp_path):
    """``linreg summary MODEL DATA --anova [1|2]`` prints (and --json gives) statsmodels'
    anova_lm table of the same formula."""
    from statsmodels.stats.anova import anova_lm

    data = Path(__file__).resolve().parents[1] / "src" / "linreg" / "data" / "penguins.csv"
    frame = pd.read_csv(data)
    formula = "body_mass_g ~ flipper_length_mm + species * sex + island"
    model = tmp_path / "m.json"
    assert run(["fit", data, "--formula", formula, "--missing", "drop", "-o", model])[0] == 0
    for typ in ("1", "2"):
        code, out, err = run(["summary", model, data, "--anova", typ, "--json"])
        assert code == 0, err
        table = json.loads(out)["anova"]
        reference = anova_lm(smf.ols(formula, frame).fit(), typ=int(typ))
        assert table["terms"] == list(reference.index)
        for column in reference.columns:
            mine = np.array([np.nan if v is None else v for v in table[column]], dtype=float)
            np.testing.assert_allclose(mine, reference[column].to_numpy(), rtol=1e-8)
    code, text, _ = run(["summary", model, data, "--anova"])
    assert code == 0 and "Analysis of variance (type 2)" in text and "species:sex" in text
    code, _, err = run(["summary", model, "--anova"])
    assert code == 2 and "needs the data" in err
