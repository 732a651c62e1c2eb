"""The command-line tool, through ``main(argv)`` and as a real subprocess.

Trusted answers: numpy.linalg.lstsq (coefficients), scikit-learn's metrics (evaluate),
statsmodels (prediction intervals), and the Python API on the same data (round trip).
"""

from __future__ import annotations

import io
import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

import linreg
from linreg import LinearRegression
from linreg.cli import main

BIN = Path(sys.executable).parent

# models fitted by the CLI carry their feature names; these tests call them with plain arrays
pytestmark = pytest.mark.filterwarnings("ignore:X does not have valid feature names")


def run(argv):
    """(exit status, stdout, stderr) of ``main(argv)``."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def run_process(argv, **kwargs):
    return subprocess.run([sys.executable, "-m", "linreg", *map(str, argv)], capture_output=True,
                          text=True, timeout=120, **kwargs)


def write_csv(path, header, rows):
    lines = [",".join(header)] + [",".join(map(str, r)) for r in rows]
    Path(path).write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def data():
    """A small regression problem with an id column that must be dropped."""
    rng = np.random.default_rng(5)
    n, d = 200, 4
    X = rng.standard_normal((n, d)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 5.0, -1.0, 2.0]
    y = X @ [1.5, -0.2, 4.0, 0.7] + 3.0 + 0.3 * rng.standard_normal(n)
    return X, y


@pytest.fixture(scope="module")
def files(data, tmp_path_factory):
    X, y = data
    folder = tmp_path_factory.mktemp("cli")
    header = ["id", "a", "b", "c", "d", "price"]
    rows = [[i, *map(repr, X[i].tolist()), repr(float(y[i]))] for i in range(len(y))]
    train = write_csv(folder / "train.csv", header, rows)
    new = write_csv(folder / "new.csv", ["d", "c", "b", "a"],  # another column order
                    [[*map(repr, X[i, ::-1].tolist())] for i in range(len(y))])
    model = folder / "model.json"
    code, out, err = run(["fit", train, "--target", "price", "--drop", "id", "-o", model])
    assert code == 0, err
    return {"folder": folder, "train": train, "new": new, "model": model}


# ------------------------------------------------------------------------------ help
@pytest.mark.parametrize("command", ["fit", "predict", "evaluate", "summary", "plot", "demo"])
def test_every_command_has_help_with_an_example(command):
    code, text, _ = run([command, "--help"])
    assert code == 0
    assert "example:" in text and f"linreg {command}" in text.split("example:")[1]


def test_no_command_prints_usage_and_fails():
    code, out, err = run([])
    assert code == 2 and "fit" in err and "predict" in err


def test_usage_error_is_one_line(files):
    code, out, err = run(["fit", files["train"], "-o", files["folder"] / "x.json"])
    assert code == 2
    assert err.count("\n") == 1 and "--target" in err


# ------------------------------------------------------------------------------ fit / predict
def test_fit_matches_lstsq_and_records_metadata(files, data):
    X, y = data
    A = np.column_stack([X, np.ones(len(y))])
    expected = np.linalg.lstsq(A, y, rcond=None)[0]
    model = linreg.load(files["model"])
    np.testing.assert_allclose(model.coef_, expected[:-1], rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, expected[-1], rtol=1e-9)
    raw = json.loads(Path(files["model"]).read_text())
    assert raw["feature_names"] == ["a", "b", "c", "d"]
    assert raw["metadata"]["target_name"] == "price"
    assert raw["params"]["solver"] == "auto" and raw["fitted"]["solver_"] in ("normal", "qr")
    assert raw["library_version"] == linreg.__version__
    assert "J(w, b)" in raw["metadata"]["objective"]
    metrics = raw["metadata"]["training_metrics"]
    y_hat = A @ expected
    assert metrics["n"] == len(y)
    assert metrics["r2"] == pytest.approx(r2_score(y, y_hat), rel=1e-10)
    assert metrics["rmse"] == pytest.approx(root_mean_squared_error(y, y_hat), rel=1e-9)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(y, y_hat), rel=1e-9)


def test_fit_predict_round_trip_equals_python_api(files, data, tmp_path):
    X, y = data
    out = tmp_path / "pred.csv"
    code, _, err = run(["predict", files["model"], files["new"], "-o", out])
    assert code == 0, err
    header = out.read_text().splitlines()[0]
    assert header.strip('"') == "prediction_price"   # named after the model's target
    got = np.loadtxt(out, delimiter=",", skiprows=1)
    # bit for bit what the saved model, and a fit from Python, give
    np.testing.assert_array_equal(got, linreg.load(files["model"]).predict(X))
    np.testing.assert_array_equal(got, LinearRegression().fit(X, y).predict(X))


def test_subprocess_round_trip(files, data, tmp_path):
    """The installed `linreg` script and `python -m linreg`, as real processes."""
    X, y = data
    model, out = tmp_path / "m.json", tmp_path / "p.csv"
    script = BIN / "linreg"
    proc = subprocess.run([str(script), "fit", str(files["train"]), "--target", "price", "--drop",
                           "id", "-o", str(model), "--quiet"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""
    proc = run_process(["predict", model, files["new"], "-o", out])
    assert proc.returncode == 0, proc.stderr
    got = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_array_equal(got, linreg.load(model).predict(X))
    np.testing.assert_array_equal(got, LinearRegression().fit(X, y).predict(X))


def test_predict_to_stdout_and_other_formats(files, data, tmp_path):
    X, y = data
    expected = linreg.load(files["model"]).predict(X)
    code, out, _ = run(["predict", files["model"], files["new"]])
    assert code == 0
    np.testing.assert_array_equal(np.loadtxt(io.StringIO(out), delimiter=",", skiprows=1), expected)
    code, _, err = run(["predict", files["model"], files["new"], "-o", tmp_path / "p.npy"])
    assert code == 0, err
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy")[:, 0], expected)
    code, _, err = run(["predict", files["model"], files["new"], "-o", tmp_path / "p.parquet"])
    assert code == 0, err
    import pyarrow.parquet as pq
    np.testing.assert_array_equal(pq.read_table(tmp_path / "p.parquet").column("prediction_price").to_numpy(),
                                  expected)


def test_predict_interval_matches_statsmodels(files, data, tmp_path):
    import statsmodels.api as sm

    X, y = data
    out = tmp_path / "pi.csv"
    code, _, err = run(["predict", files["model"], files["new"], "-o", out,
                        "--interval", "prediction", "--level", "0.9"])
    assert code == 0, err
    got = np.loadtxt(out, delimiter=",", skiprows=1)
    frame = sm.OLS(y, sm.add_constant(X)).fit().get_prediction(sm.add_constant(X)) \
        .summary_frame(alpha=0.1)
    np.testing.assert_allclose(got[:, 0], frame["mean"], rtol=1e-9)
    np.testing.assert_allclose(got[:, 1], frame["obs_ci_lower"], rtol=1e-8, atol=1e-9)
    np.testing.assert_allclose(got[:, 2], frame["obs_ci_upper"], rtol=1e-8, atol=1e-9)


def test_predict_names_the_missing_column(files, tmp_path):
    bad = write_csv(tmp_path / "bad.csv", ["a", "b", "d"], [[1, 2, 3]])
    code, out, err = run(["predict", files["model"], bad])
    assert code == 1 and err.count("\n") == 1
    assert "'c'" in err and "model needs" in err


def test_fit_options_reach_the_estimator(files, data, tmp_path):
    """--alpha with --no-standardize is sklearn's Ridge(alpha=n·alpha); gd converges to it."""
    from sklearn.linear_model import Ridge

    X, y = data
    model = tmp_path / "ridge.json"
    code, out, err = run(["fit", files["train"], "--target", "price", "--features", "a,b,c,d",
                          "--alpha", "0.5", "--no-standardize", "--solver", "gd", "--max-iter",
                          "100000", "--tol", "1e-12", "--learning-rate", "auto", "-o", model,
                          "--json"])
    assert code == 0, err
    report = json.loads(out)
    ridge = Ridge(alpha=0.5 * len(y)).fit(X, y)
    np.testing.assert_allclose([report["coef"][c] for c in "abcd"], ridge.coef_, rtol=1e-6)
    assert report["solver"] == "gd" and report["n_iter"] > 1
    assert linreg.load(model).get_params()["alpha"] == 0.5


def test_fit_without_intercept(files, data, tmp_path):
    X, y = data
    code, out, err = run(["fit", files["train"], "--target", "price", "--drop", "id",
                          "--no-intercept", "-o", tmp_path / "m.json", "--json"])
    assert code == 0, err
    expected = np.linalg.lstsq(X, y, rcond=None)[0]
    np.testing.assert_allclose([json.loads(out)["coef"][c] for c in "abcd"], expected, rtol=1e-9)
    assert json.loads(out)["intercept"] == 0.0


def test_multi_target_fit(files, data, tmp_path):
    X, y = data
    code, out, err = run(["fit", files["train"], "--target", "price,d", "--features", "a,b,c",
                          "-o", tmp_path / "m.json", "--json"])
    assert code == 0, err
    A = np.column_stack([X[:, :3], np.ones(len(y))])
    expected = np.linalg.lstsq(A, np.column_stack([y, X[:, 3]]), rcond=None)[0]
    got = np.array([json.loads(out)["coef"][c] for c in "abc"])
    np.testing.assert_allclose(got, expected[:3], rtol=1e-8, atol=1e-12)
    code, out, err = run(["predict", tmp_path / "m.json", files["new"]])
    assert code == 0 and out.splitlines()[0].replace('"', "") == "prediction_price,prediction_d"


# ------------------------------------------------------------------------------ other formats
def test_parquet_npy_and_npz_give_the_same_fit(files, data, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    X, y = data
    expected = linreg.load(files["model"]).coef_
    cols = {"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "d": X[:, 3], "price": y}
    pq.write_table(pa.table(cols), tmp_path / "t.parquet")
    np.savez(tmp_path / "t.npz", **cols)
    np.save(tmp_path / "t.npy", np.column_stack([X, y]))
    structured = np.zeros(len(y), dtype=[(k, "f8") for k in cols])
    for k, v in cols.items():
        structured[k] = v
    np.save(tmp_path / "s.npy", structured)
    for path, target in (("t.parquet", "price"), ("t.npz", "price"), ("t.npy", "4"),
                         ("s.npy", "price")):
        code, out, err = run(["fit", tmp_path / path, "--target", target, "-o",
                              tmp_path / "m.json", "--json"])
        assert code == 0, (path, err)
        np.testing.assert_allclose(list(json.loads(out)["coef"].values()), expected, rtol=1e-12)


# ------------------------------------------------------------------------------ bad files
BAD_FILES = {
    # name: (file text, --target, what the one line must mention)
    "non-numeric": ("a,b,y\n1,2,3\n4,five,6\n", "y", ["'b'", "line 3", "'five'"]),
    "None": ("a,b,y\n1,2,3\n4,None,6\n", "y", ["'b'", "line 3", "'None'"]),
    "missing target": ("a,b,c\n1,2,3\n4,5,6\n", "y", ["'y'", "no column"]),
    "empty": ("", "y", ["empty"]),
    "header only": ("a,b,y\n", "y", ["no data rows"]),
    "ragged row": ("a,b,y\n1,2,3\n4,5\n7,8,9\n", "y", ["line 3", "2 fields"]),
    # rows are counted from 0, as in linreg.sources; lines from 1 (the header is line 1)
    "NaN": ("a,b,y\n1,2,3\n4,NaN,6\n7,8,9\n", "y", ["'b'", "line 3 (row 1)", "'NaN'"]),
    "empty value": ("a,b,y\n1,2,3\n4,5,6\n7,,9\n", "y", ["'b'", "line 4 (row 2)", "empty"]),
    "infinite": ("a,b,y\n1,2,3\ninf,5,6\n", "y", ["'a'", "is inf", "line 3 (row 1)"]),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_gives_one_clear_line(case, tmp_path):
    text, target, mentions = BAD_FILES[case]
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, out, err = run(["fit", path, "--target", target, "-o", tmp_path / "m.json"])
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("linreg fit: error: "), err
    assert "Traceback" not in err
    for m in mentions:
        assert m in err, (m, err)
    assert not (tmp_path / "m.json").exists()


@pytest.mark.parametrize("argv, mentions", [
    (["--features", "a,zz"], ["'zz'", "no column"]),
    (["--drop", "nope"], ["'nope'"]),
    (["--features", "a,y"], ["both the target and a feature"]),
    (["--alpha", "-1"], ["alpha", ">= 0"]),
    (["--max-iter", "0"], ["--max-iter 0"]),           # the option's name (issue 20)
    (["--solver", "gd", "--learning-rate", "-0.1"], ["--learning-rate -0.1"]),
])
def test_bad_column_or_value_gives_one_clear_line(argv, mentions, tmp_path):
    path = write_csv(tmp_path / "ok.csv", ["a", "b", "y"], [[1, 2, 3], [4, 5, 7], [7, 9, 8]])
    code, out, err = run(["fit", path, "--target", "y", "-o", tmp_path / "m.json", *argv])
    assert code == 1 and err.count("\n") == 1, err
    for m in mentions:
        assert m in err, (m, err)


def test_bad_file_in_a_real_process_has_no_traceback(tmp_path):
    text, target, mentions = BAD_FILES["NaN"]
    path = tmp_path / "nan.csv"
    path.write_text(text)
    proc = run_process(["fit", path, "--target", target, "-o", tmp_path / "m.json"])
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    for m in mentions:
        assert m in proc.stderr


def test_debug_shows_the_traceback(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD_FILES["NaN"][0])
    with pytest.raises(Exception, match="'b'"):
        main(["fit", str(path), "--target", "y", "-o", str(tmp_path / "m.json"), "--debug"])


def test_bad_model_file_and_unknown_extension(files, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "linreg-model", "format_version": 1, "par')
    code, _, err = run(["predict", broken, files["new"]])
    assert code == 1 and err.count("\n") == 1 and "not complete JSON" in err
    code, _, err = run(["predict", tmp_path / "absent.json", files["new"]])
    assert code == 1 and "no such model file" in err
    other = tmp_path / "data.xlsx"
    other.write_text("x")
    code, _, err = run(["fit", other, "--target", "y", "-o", tmp_path / "m.json"])
    assert code == 1 and ".xlsx" in err and ".csv" in err


def test_pickled_npy_is_refused(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    code, _, err = run(["fit", tmp_path / "obj.npy", "--target", "0", "-o", tmp_path / "m.json"])
    assert code == 1 and "pickle" in err.lower() and err.count("\n") == 1


# ------------------------------------------------------------------------------ atomic outputs
def test_outputs_are_replaced_and_never_half_written(files, tmp_path):
    out = tmp_path / "pred.csv"
    out.write_text("old contents\n")
    bad = write_csv(tmp_path / "bad.csv", ["a", "b", "c", "d"], [[1, 2, "x", 4]])
    code, _, _ = run(["predict", files["model"], bad, "-o", out])
    assert code == 1 and out.read_text() == "old contents\n"
    code, _, err = run(["predict", files["model"], files["new"], "-o", out])
    assert code == 0, err
    assert out.read_text().splitlines()[0].strip('"') == "prediction_price"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files
    code, _, err = run(["predict", files["model"], files["new"], "-o", tmp_path / "no" / "p.csv"])
    assert code == 1 and "does not exist" in err


# ------------------------------------------------------------------------------ evaluate / summary
def test_evaluate_matches_sklearn_metrics(files, data):
    X, y = data
    y_hat = LinearRegression().fit(X, y).predict(X)
    code, out, err = run(["evaluate", files["model"], files["train"], "--json"])
    assert code == 0, err
    got = json.loads(out)
    assert got["n"] == len(y)
    assert got["r2"] == pytest.approx(r2_score(y, y_hat), rel=1e-12)
    assert got["rmse"] == pytest.approx(root_mean_squared_error(y, y_hat), rel=1e-12)
    assert got["mae"] == pytest.approx(mean_absolute_error(y, y_hat), rel=1e-12)
    code, out, err = run(["evaluate", files["model"], files["train"]])
    assert code == 0 and "R²" in out and "RMSE" in out and "MAE" in out and "n = 200" in out


def test_evaluate_needs_the_target(files):
    code, _, err = run(["evaluate", files["model"], files["new"]])
    assert code == 1 and "'price'" in err and err.count("\n") == 1


def test_summary_without_and_with_data(files, data):
    import statsmodels.api as sm

    X, y = data
    code, out, err = run(["summary", files["model"]])
    assert code == 0, err
    assert "price" in out and "intercept" in out and "need the data" in out
    code, out, err = run(["summary", files["model"], "--json"])
    assert code == 0 and json.loads(out)["target"] == "price"
    code, out, err = run(["summary", files["model"], files["train"], "--json", "--cov-type", "HC3"])
    assert code == 0, err
    inference = json.loads(out)["inference"]
    ols = sm.OLS(y, sm.add_constant(X)).fit(cov_type="HC3")
    np.testing.assert_allclose(inference["params"], ols.params, rtol=1e-9)
    np.testing.assert_allclose(inference["bse"], ols.bse, rtol=1e-8)
    assert inference["rsquared"] == pytest.approx(ols.rsquared, rel=1e-10)
    code, out, err = run(["summary", files["model"], files["train"]])
    assert code == 0, err
    for name in ("a", "b", "c", "d", "R"):
        assert name in out


# ------------------------------------------------------------------------------ the target's name
def test_summary_table_is_titled_with_the_target_column(files, data, tmp_path):
    X, y = data
    code, out, err = run(["summary", files["model"], files["train"]])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].strip() == "Linear regression results: price"
    assert lines[2].split()[:3] == ["Dep.", "variable:", "price"]
    code, out, err = run(["summary", files["model"], files["train"], "--json"])
    assert code == 0 and json.loads(out)["inference"]["target_name"] == "price"
    # several targets: one table each, under each column's name
    two = tmp_path / "two.json"
    assert run(["fit", files["train"], "--target", "price,d", "--features", "a,b,c",
                "-o", two, "-q"])[0] == 0
    code, out, err = run(["summary", two, files["train"], "--json"])
    assert code == 0, err
    assert [r["target_name"] for r in json.loads(out)["inference"]] == ["price", "d"]
    # a model saved from Python on plain arrays records no target: --target names it
    LinearRegression().fit(X, y).save(tmp_path / "plain.json")
    code, out, err = run(["summary", tmp_path / "plain.json", files["train"], "--target", "price",
                          "--drop", "id"])
    assert code == 0, err
    assert out.splitlines()[0].strip() == "Linear regression results: price"


def test_python_summary_uses_the_name_y_carries(data, files):
    import pandas as pd
    import statsmodels.api as sm

    X, y = data
    frame = pd.DataFrame(X, columns=list("abcd"))
    price = pd.Series(y, name="price")
    model = LinearRegression().fit(frame, price)
    result = model.summary(X=frame, y=price)
    # statsmodels takes the dependent variable's name from the Series the same way
    reference = sm.OLS(price, sm.add_constant(frame)).fit()
    assert result.target_name == reference.model.endog_names == "price"
    assert str(result).splitlines()[0].strip() == "Linear regression results: price"
    np.testing.assert_allclose(result.bse, reference.bse, rtol=1e-8)
    assert model.summary(X=frame, y=price, target_names="cost").target_name == "cost"
    both = pd.DataFrame({"price": y, "d": X[:, 3]})
    two = LinearRegression().fit(frame[list("abc")], both)
    assert [r.target_name for r in two.summary(X=frame[list("abc")], y=both)] == ["price", "d"]
    with pytest.raises(ValueError, match="names 1 target"):
        two.summary(X=frame[list("abc")], y=both, target_names=["price"])
    # unnamed data keeps the old titles; a saved model with a recorded target uses it
    assert LinearRegression().fit(X, y).summary().target_name == "y"
    assert linreg.load(files["model"]).summary(X=X, y=y).target_name == "price"


# ------------------------------------------------------------------------------ sample weights
@pytest.fixture(scope="module")
def weighted(data, tmp_path_factory):
    """The training data with two weight columns (w, and another, u, for --weight overrides)
    and a fitted weighted model."""
    X, y = data
    rng = np.random.default_rng(11)
    w = rng.uniform(0.2, 3.0, len(y))
    u = rng.uniform(0.5, 1.5, len(y))
    folder = tmp_path_factory.mktemp("weighted")
    header = ["id", "a", "b", "w", "c", "d", "u", "price"]
    rows = [[i, *map(repr, X[i, :2].tolist()), repr(float(w[i])), *map(repr, X[i, 2:].tolist()),
             repr(float(u[i])), repr(float(y[i]))] for i in range(len(y))]
    train = write_csv(folder / "weighted.csv", header, rows)
    model = folder / "weighted.json"
    code, out, err = run(["fit", train, "--target", "price", "--drop", "id,u", "--weight", "w",
                          "-o", model, "--json"])
    assert code == 0, err
    return {"train": train, "model": model, "w": w, "u": u, "report": json.loads(out),
            "folder": folder}


def weighted_lstsq(X, y, w):
    A = np.column_stack([X, np.ones(len(y))])
    return np.linalg.lstsq(A * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]


def test_weighted_fit_matches_weighted_lstsq_and_records_the_weight(weighted, data):
    X, y = data
    w = weighted["w"]
    expected = weighted_lstsq(X, y, w)
    model = linreg.load(weighted["model"])
    np.testing.assert_allclose(model.coef_, expected[:-1], rtol=1e-9)
    np.testing.assert_allclose(model.intercept_, expected[-1], rtol=1e-9)
    # the weight column is never a feature, and the model file names it
    raw = json.loads(Path(weighted["model"]).read_text())
    assert raw["feature_names"] == ["a", "b", "c", "d"]
    assert raw["metadata"]["weight_name"] == "w" and raw["metadata"]["target_name"] == "price"
    report = weighted["report"]
    assert report["weight"] == "w"
    y_hat = np.column_stack([X, np.ones(len(y))]) @ expected
    metrics = raw["metadata"]["training_metrics"]
    assert metrics["r2"] == pytest.approx(r2_score(y, y_hat, sample_weight=w), rel=1e-10)
    assert metrics["rmse"] == pytest.approx(root_mean_squared_error(y, y_hat, sample_weight=w),
                                            rel=1e-9)
    assert metrics["mae"] == pytest.approx(mean_absolute_error(y, y_hat, sample_weight=w), rel=1e-9)
    assert report["training_metrics"] == metrics
    code, out, err = run(["fit", weighted["train"], "--target", "price", "--drop", "id,u",
                          "--weight", "w", "-o", weighted["folder"] / "again.json"])
    assert code == 0 and "weighted by 'w'" in out


def test_weighted_summary_matches_statsmodels_wls(weighted, data):
    import statsmodels.api as sm

    X, y = data
    w = weighted["w"]
    for cov_type in ("nonrobust", "HC1"):
        code, out, err = run(["summary", weighted["model"], weighted["train"], "--json",
                              "--cov-type", cov_type])
        assert code == 0, err
        described = json.loads(out)
        assert described["weight"] == "w"
        inference = described["inference"]
        wls = sm.WLS(y, sm.add_constant(X), weights=w).fit(cov_type=cov_type)
        np.testing.assert_allclose(inference["params"], wls.params, rtol=1e-9)
        np.testing.assert_allclose(inference["bse"], wls.bse, rtol=1e-8)
        np.testing.assert_allclose(inference["pvalues"], wls.pvalues, rtol=1e-6, atol=1e-300)
        assert inference["rsquared"] == pytest.approx(wls.rsquared, rel=1e-10)
        assert inference["llf"] == pytest.approx(wls.llf, rel=1e-10)
        assert inference["fvalue"] == pytest.approx(wls.fvalue, rel=1e-8)
    code, out, err = run(["summary", weighted["model"], weighted["train"]])
    assert code == 0, err
    assert "WLS" in out and "sample weights" in out


def test_weighted_evaluate_matches_sklearn_and_hand_formulas(weighted, data):
    X, y = data
    w = weighted["w"]
    y_hat = linreg.load(weighted["model"]).predict(X)
    code, out, err = run(["evaluate", weighted["model"], weighted["train"], "--json"])
    assert code == 0, err
    got = json.loads(out)
    assert got["weight"] == "w" and got["n"] == len(y)
    assert got["r2"] == pytest.approx(r2_score(y, y_hat, sample_weight=w), rel=1e-12)
    assert got["rmse"] == pytest.approx(root_mean_squared_error(y, y_hat, sample_weight=w),
                                        rel=1e-12)
    assert got["mae"] == pytest.approx(mean_absolute_error(y, y_hat, sample_weight=w), rel=1e-12)
    # the weighted definitions, by hand
    mean_w = np.sum(w * y) / np.sum(w)
    r2 = 1 - np.sum(w * (y - y_hat) ** 2) / np.sum(w * (y - mean_w) ** 2)
    assert got["r2"] == pytest.approx(r2, rel=1e-12)
    assert got["rmse"] == pytest.approx(np.sqrt(np.sum(w * (y - y_hat) ** 2) / np.sum(w)), rel=1e-12)
    assert got["mae"] == pytest.approx(np.sum(w * np.abs(y - y_hat)) / np.sum(w), rel=1e-12)
    # unweighted it would differ: the weights were used
    assert got["rmse"] != pytest.approx(root_mean_squared_error(y, y_hat), rel=1e-6)
    code, out, err = run(["evaluate", weighted["model"], weighted["train"]])
    assert code == 0 and "weighted by w" in out


def test_weight_option_overrides_the_model_s_column(weighted, data, tmp_path):
    import statsmodels.api as sm

    X, y = data
    u = weighted["u"]
    y_hat = linreg.load(weighted["model"]).predict(X)
    code, out, err = run(["evaluate", weighted["model"], weighted["train"], "--weight", "u",
                          "--json"])
    assert code == 0, err
    got = json.loads(out)
    assert got["weight"] == "u"
    assert got["rmse"] == pytest.approx(root_mean_squared_error(y, y_hat, sample_weight=u),
                                        rel=1e-12)
    # summary's data must be the training data: the same weights under another name work …
    renamed = Path(weighted["train"]).read_text().replace(",w,", ",training_weight,", 1)
    (tmp_path / "renamed.csv").write_text(renamed)
    code, out, err = run(["summary", weighted["model"], tmp_path / "renamed.csv", "--json",
                          "--weight", "training_weight"])
    assert code == 0, err
    wls = sm.WLS(y, sm.add_constant(X), weights=weighted["w"]).fit()
    np.testing.assert_allclose(json.loads(out)["inference"]["bse"], wls.bse, rtol=1e-8)
    # … other weights are not the training data, and the model's column must be in the file
    code, out, err = run(["summary", weighted["model"], weighted["train"], "--weight", "u"])
    assert code == 1 and err.count("\n") == 1 and "training data" in err, err
    code, out, err = run(["summary", weighted["model"], tmp_path / "renamed.csv"])
    assert code == 1 and err.count("\n") == 1 and "'w'" in err and "renamed.csv" in err, err


BAD_WEIGHTS = {
    # name: (file text, what the one line must mention besides the file and the column 'w')
    "missing": ("a,v,y\n1,1,2\n2,1,5\n3,1,7\n", ["no column"]),
    "non-numeric": ("a,w,y\n1,1,2\n2,x,5\n3,1,7\n", ["line 3", "'x'"]),
    "negative": ("a,w,y\n1,1,2\n2,-1.5,5\n3,1,7\n", ["line 3", "-1.5", ">= 0"]),
    "NaN": ("a,w,y\n1,1,2\n2,1,5\n3,nan,7\n", ["line 4"]),
    "empty": ("a,w,y\n1,1,2\n2,,5\n3,1,7\n", ["line 3"]),
    "infinite": ("a,w,y\n1,inf,2\n2,1,5\n3,1,7\n", ["line 2", "inf"]),
    "all zero": ("a,w,y\n1,0,2\n2,0,5\n3,0.0,7\n", ["zero in every row", "lines 2–4"]),
}


@pytest.mark.parametrize("case", sorted(BAD_WEIGHTS))
def test_bad_weight_column_gives_one_clear_line(case, tmp_path):
    text, mentions = BAD_WEIGHTS[case]
    path = tmp_path / "weights.csv"
    path.write_text(text)
    code, out, err = run(["fit", path, "--target", "y", "--weight", "w", "-o", tmp_path / "m.json"])
    assert code == 1 and err.count("\n") == 1 and err.startswith("linreg fit: error: "), err
    for m in [str(path), "'w'", *mentions]:
        assert m in err, (m, err)
    assert not (tmp_path / "m.json").exists()


def test_weight_column_is_never_a_feature_or_the_target(tmp_path):
    path = write_csv(tmp_path / "ok.csv", ["a", "w", "y"], [[1, 1, 3], [2, 2, 5], [3, 1, 8]])
    for argv in (["--features", "a,w"], ["--target", "w"]):
        code, out, err = run(["fit", path, "--target", "y", "--weight", "w",
                              "-o", tmp_path / "m.json", *argv])
        assert code == 1 and err.count("\n") == 1 and "'w'" in err and "weights" in err, err


def test_weighted_fit_and_evaluate_as_real_processes(weighted, data, tmp_path):
    X, y = data
    w = weighted["w"]
    model = tmp_path / "m.json"
    proc = run_process(["fit", weighted["train"], "--target", "price", "--drop", "id,u",
                        "--weight", "w", "-o", model, "--quiet"])
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    proc = run_process(["evaluate", model, weighted["train"], "--json"])
    assert proc.returncode == 0, proc.stderr
    y_hat = np.column_stack([X, np.ones(len(y))]) @ weighted_lstsq(X, y, w)
    assert json.loads(proc.stdout)["r2"] == pytest.approx(r2_score(y, y_hat, sample_weight=w),
                                                         rel=1e-10)
    proc = run_process(["fit", weighted["train"], "--target", "price", "--weight", "nope",
                        "-o", model])
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "'nope'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_demo_runs():
    code, out, err = run(["demo"])
    assert code == 0, err
    assert "diabetes" in out and "R²" in out and "qr" in out


# ------------------------------------------------------------------------------ progress bar
def _slow_fit_argv(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.standard_normal(300)
    path = write_csv(tmp_path / "slow.csv", ["a", "b", "y"],
                     [[repr(float(v)) for v in (X[i, 0], X[i, 1], y[i])] for i in range(300)])
    # tol=0 runs every iteration: long enough (> the bar's 0.3 s delay) on any machine
    return ["fit", str(path), "--target", "y", "--solver", "gd", "--tol", "0", "--max-iter",
            "20000", "-o", str(tmp_path / "m.json")]


def _run_with_pty_stderr(argv):
    """Run ``python -m linreg argv`` with stderr on a pseudo-terminal; its stderr text."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "linreg", *argv], stdout=subprocess.DEVNULL,
                            stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif proc.poll() is not None:
            break
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_not_in_a_pipe(tmp_path):
    argv = _slow_fit_argv(tmp_path)
    code, text = _run_with_pty_stderr(argv)
    assert code == 0, text
    assert "iteration" in text and "it/s" in text and "loss" in text and "done in" in text
    assert "\r" in text  # redrawn in place
    proc = run_process(argv)  # stderr is a pipe
    assert proc.returncode == 0 and "it/s" not in proc.stderr and "\r" not in proc.stderr


def test_quiet_and_closed_form_make_no_progress_bar(tmp_path, monkeypatch):
    import linreg.progress

    made = []

    class Recording(linreg.progress.ProgressBar):
        def __init__(self, *args, **kwargs):
            made.append(args)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(linreg.progress, "ProgressBar", Recording)
    path = write_csv(tmp_path / "small.csv", ["a", "y"], [[0, 1], [1, 3], [2, 4], [3, 7]])
    argv = ["fit", path, "--target", "y", "-o", tmp_path / "m.json", "--max-iter", "50"]
    assert run(argv + ["--solver", "gd"])[0] == 0
    assert made == [(50,)]  # an iterative fit gets a bar (drawn only on a terminal)
    assert run(argv + ["--solver", "gd", "--quiet"])[0] == 0
    assert run(argv)[0] == 0  # closed form: one pass, no bar
    assert made == [(50,)]


# ------------------------------------------------------------------------------ the bar itself
class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_progress_bar_line_by_hand():
    from linreg.progress import ProgressBar

    clock, out = Clock(), FakeTerminal()
    bar = ProgressBar(100, stream=out, delay=0.3, refresh=0.1, width=10, clock=clock)
    assert bar.enabled  # a terminal
    clock.now = 0.2
    bar({"epoch": 1, "loss": 2.0})
    assert out.getvalue() == ""  # within the delay: quick fits print nothing
    clock.now = 10.0
    bar({"epoch": 50, "loss": 0.125})
    # 50 epochs in 10 s: 5 it/s, 50 epochs left: at most 10 s
    assert out.getvalue() == ("\rfitting  █████░░░░░  50% epoch 50/100  loss 0.125  5 it/s  "
                              "≤0:00:10 left")
    clock.now = 10.05
    bar({"epoch": 51, "loss": 0.1})
    assert out.getvalue().count("\r") == 1  # throttled: at most one drawing per 0.1 s
    clock.now = 20.0
    bar({"epoch": 80, "loss": 0.01})
    bar.close()
    assert out.getvalue().endswith("epoch 80/100  loss 0.01  4 it/s  done in 0:00:20\n")


def test_progress_bar_off_when_not_a_terminal_and_never_stops_the_fit():
    from linreg.progress import ProgressBar, format_duration, format_rate

    out = io.StringIO()
    bar = ProgressBar(10, stream=out, delay=0.0, refresh=0.0)
    assert not bar.enabled
    assert bar({"epoch": 3, "loss": 1.0}) is None
    bar.close()
    assert out.getvalue() == ""
    assert format_duration(3725) == "1:02:05" and format_duration(float("inf")) == "?"
    assert format_rate(2410.0) == "2.41k it/s" and format_rate(3.2e6) == "3.2M it/s"
    with pytest.raises(ValueError, match="total"):
        ProgressBar(0)


# ------------------------------------------------------------------------------ stochastic options
@pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")
def test_stochastic_options_reproduce_the_python_api(files, data, tmp_path):
    """--solver minibatch --optimizer adam --batch-size --seed: the same model as from Python."""
    X, y = data
    code, out, err = run(["fit", files["train"], "--target", "price", "--drop", "id",
                          "--solver", "minibatch", "--optimizer", "adam", "--batch-size", "16",
                          "--seed", "7", "--max-iter", "20", "--learning-rate", "0.01",
                          "-o", tmp_path / "m.json", "--json"])
    assert code == 0, err
    python = LinearRegression(solver="minibatch", optimizer="adam", batch_size=16, random_state=7,
                              max_iter=20, learning_rate=0.01).fit(X, y)
    np.testing.assert_array_equal([json.loads(out)["coef"][c] for c in "abcd"], python.coef_)
    assert json.loads(out)["n_iter"] == python.n_iter_
    code, _, err = run(["fit", files["train"], "--target", "price", "--checkpoint-every", "3",
                        "-o", tmp_path / "m.json"])
    assert code == 1 and "--checkpoint" in err and err.count("\n") == 1


def test_parquet_column_types(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = 50
    rng = np.random.default_rng(1)
    ints = np.arange(n, dtype=np.int64)
    flags = rng.random(n) > 0.5
    y = 2.0 * ints - 3.0 * flags + 1.0
    pq.write_table(pa.table({"i": ints, "f": flags, "label": ["x"] * n, "y": y}), tmp_path / "t.parquet")
    code, out, err = run(["fit", tmp_path / "t.parquet", "--target", "y", "--drop", "label",
                          "-o", tmp_path / "m.json", "--json"])
    assert code == 0, err
    np.testing.assert_allclose([json.loads(out)["coef"]["i"], json.loads(out)["coef"]["f"]],
                               [2.0, -3.0], rtol=1e-10)
    # with the text column, the table is encoded (as statsmodels encodes it): the booleans are
    # a category, and a text column of one level gives no column (its one level is the reference)
    code, out, err = run(["fit", tmp_path / "t.parquet", "--target", "y", "-o", tmp_path / "m.json",
                          "--json"])
    assert code == 0, err
    assert json.loads(out)["coef_names"] == ["f[T.True]", "i"]
    np.testing.assert_allclose([json.loads(out)["coef"]["i"], json.loads(out)["coef"]["f[T.True]"]],
                               [2.0, -3.0], rtol=1e-10)


def test_outputs_get_ordinary_file_permissions(files, tmp_path):
    """Atomic replacement writes through a private temporary file; the result must still
    have the mode a plain write gives (or keep the mode of the file it replaces)."""
    umask = os.umask(0o022)
    os.umask(umask)
    fresh = tmp_path / "fresh.csv"
    assert run(["predict", files["model"], files["new"], "-o", fresh])[0] == 0
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
    kept = tmp_path / "kept.csv"
    kept.write_text("old")
    kept.chmod(0o640)
    assert run(["predict", files["model"], files["new"], "-o", kept])[0] == 0
    assert kept.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("edit, message", [
    (lambda m: m["metadata"].update(colour="red"), "unknown keys"),
    (lambda m: m["metadata"].update(target_name=3), "target_name"),
    (lambda m: m["metadata"]["training_metrics"].update(r2="high"), "training_metrics.r2"),
    (lambda m: m["metadata"].update(objective="x" * 20_000), "objective"),
    (lambda m: m.update(metadata=[1, 2]), "metadata"),
    (lambda m: m["training_stats"].update(mean=[0.0]), "training_stats.mean"),
    (lambda m: m["training_stats"].update(n_features=2), "n_features"),
    (lambda m: m["training_stats"].update(extra=1), "training_stats"),
])
def test_model_file_metadata_and_statistics_are_checked_on_load(files, tmp_path, edit, message):
    raw = json.loads(Path(files["model"]).read_text())
    edit(raw)
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(linreg.ModelFileError, match=message):
        linreg.load(path)
    code, _, err = run(["summary", path])
    assert code == 1 and err.count("\n") == 1 and "not a valid linreg model file" in err


def test_loaded_model_keeps_its_training_statistics(files, data):
    X, y = data
    loaded = linreg.load(files["model"])
    fresh = LinearRegression().fit(X, y)
    np.testing.assert_allclose(loaded.stats_.mean, fresh.stats_.mean, rtol=1e-15)
    np.testing.assert_allclose(loaded.stats_.comoment, fresh.stats_.comoment, rtol=1e-13)
    assert loaded.stats_.n_rows == len(y)


def test_summary_of_a_penalized_fit_refuses_only_the_ols_statistics(files, tmp_path):
    # (issue 20: it used to refuse the whole summary; now the coefficients, R² and RMSE are
    # shown, and the refusal of standard errors and p-values is one sentence of it)
    model = tmp_path / "ridge.json"
    assert run(["fit", files["train"], "--target", "price", "--drop", "id", "--alpha", "0.1",
                "-o", model, "-q"])[0] == 0
    code, out, err = run(["summary", model, files["train"]])
    words = " ".join(out.split())
    assert code == 0 and err == "" and "std err" not in out
    assert "Not shown: Standard errors, t-values and p-values" in words
    assert "--alpha 0.1" in words and "Refit with --alpha 0" in words


def test_summary_of_several_targets_gives_one_result_each(files, data, tmp_path):
    import statsmodels.api as sm

    X, y = data
    model = tmp_path / "two.json"
    assert run(["fit", files["train"], "--target", "price,d", "--features", "a,b,c",
                "-o", model, "-q"])[0] == 0
    code, out, err = run(["summary", model, files["train"], "--json"])
    assert code == 0, err
    results = json.loads(out)["inference"]
    assert len(results) == 2
    for result, target in zip(results, (y, X[:, 3])):
        ols = sm.OLS(target, sm.add_constant(X[:, :3])).fit()
        np.testing.assert_allclose(result["bse"], ols.bse, rtol=1e-8)


def test_missing_pyarrow_gives_a_clear_message(files, tmp_path, monkeypatch):
    for name in list(sys.modules):
        if name == "pyarrow" or name.startswith("pyarrow."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    code, _, err = run(["fit", files["train"], "--target", "price", "-o", tmp_path / "m.json"])
    assert code == 1 and err.count("\n") == 1 and "pip install 'linreg[files]'" in err
    # predictions are still written exactly (17 significant digits) without pyarrow
    from linreg.cli import _table_bytes
    values = np.random.default_rng(2).standard_normal(50) * 1e3
    text = _table_bytes({"prediction": values}, "p.csv").decode()
    assert text.splitlines()[0] == "prediction"
    np.testing.assert_array_equal(np.loadtxt(io.StringIO(text), skiprows=1), values)


def test_a_failed_write_leaves_the_old_output_intact(files, tmp_path, monkeypatch):
    import errno

    out = tmp_path / "pred.csv"
    out.write_text("old contents\n")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    code, _, err = run(["predict", files["model"], files["new"], "-o", out])
    assert code == 1 and err.count("\n") == 1
    assert "No space left on device" in err and "unchanged" in err
    assert out.read_text() == "old contents\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pred.csv"]  # no temporary file left
    code, _, err = run(["fit", files["train"], "--target", "price", "-o", tmp_path / "m.json"])
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err
    assert not (tmp_path / "m.json").exists()


def test_model_without_feature_names_reads_columns_in_order(files, data, tmp_path):
    X, y = data
    python = LinearRegression().fit(X, y)  # plain arrays: no feature names
    python.save(tmp_path / "plain.json")
    code, out, err = run(["predict", tmp_path / "plain.json", files["train"], "--drop", "id,price"])
    assert code == 0, err
    np.testing.assert_array_equal(np.loadtxt(io.StringIO(out), delimiter=",", skiprows=1),
                                  python.predict(X))
    code, out, err = run(["predict", tmp_path / "plain.json", files["train"]])
    assert code == 1 and "--drop" in err and "6 feature columns" in err
    code, out, err = run(["evaluate", tmp_path / "plain.json", files["train"], "--target", "price",
                          "--drop", "id", "--json"])
    assert code == 0, err
    assert json.loads(out)["r2"] == pytest.approx(r2_score(y, python.predict(X)), rel=1e-12)


def test_warnings_are_one_line_each_and_name_the_columns(tmp_path):
    path = write_csv(tmp_path / "dup.csv", ["a", "b", "y"],
                     [[1, 2, 3], [2, 4, 5], [3, 6, 8], [4, 8, 8]])  # b = 2a
    code, out, err = run(["fit", path, "--target", "y", "-o", tmp_path / "m.json", "--json"])
    assert code == 0
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("linreg: warning: ")
    assert "column 0 ('a')" in err and "column 1 ('b')" in err
    assert json.loads(out)["warnings"] == [lines[0].removeprefix("linreg: warning: ")]


@pytest.mark.parametrize("raw, mentions", [
    (b"a,\xe9,y\n1,2,3\n", ["line 1", "UTF-8"]),
    (b"a,b,y\n1,\x00,3\n4,5,6\n", ["'b'", "line 2"]),
    (b'a,b,y\n1,"2,3\n4,5,6\n', ["line 2", "2 fields"]),  # the row the quote opens
])
def test_malformed_csv_bytes_give_one_line(raw, mentions, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(raw)
    code, out, err = run(["fit", path, "--target", "y", "-o", tmp_path / "m.json"])
    assert code == 1 and err.count("\n") == 1 and "internal error" not in err, err
    for m in mentions:
        assert m in err


def test_corrupt_binary_files_give_one_line(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not really a zip archive")
    np.save(tmp_path / "whole.npy", np.arange(300.0).reshape(100, 3))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "whole.npy").read_bytes()[:1000])
    pq.write_table(pa.table({"a": np.arange(100.0), "y": np.arange(100.0)}), tmp_path / "ok.parquet")
    data = (tmp_path / "ok.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    for name, target in (("bad.npz", "y"), ("cut.npy", "2"), ("cut.parquet", "y")):
        code, _, err = run(["fit", tmp_path / name, "--target", target, "-o", tmp_path / "m.json"])
        assert code == 1 and err.count("\n") == 1 and "internal error" not in err, (name, err)
        assert name in err


def test_read_table_from_python(files, data):
    from linreg.io import DataFileError, read_table

    X, y = data
    table = read_table(files["train"], target="price", drop="id")
    np.testing.assert_array_equal(table.X, X)
    np.testing.assert_array_equal(table.y, y)
    assert table.feature_names == ["a", "b", "c", "d"] and table.target_names == ["price"]
    only = read_table(files["new"], features=["a", "b", "c", "d"])
    assert only.y is None
    np.testing.assert_array_equal(only.X, X)
    with pytest.raises(DataFileError, match="no column 'zz'"):
        read_table(files["train"], target="zz")
    assert issubclass(DataFileError, ValueError)


def test_too_many_columns_are_refused_before_reading(tmp_path, monkeypatch):
    import linreg.cli.fit

    path = write_csv(tmp_path / "wide.csv", [f"c{j}" for j in range(6)] + ["y"],
                     [list(range(7)), list(range(1, 8))])
    monkeypatch.setattr(linreg.cli.fit, "_most_columns", lambda: 5)
    code, _, err = run(["fit", path, "--target", "y", "-o", tmp_path / "m.json"])
    assert code == 1 and err.count("\n") == 1
    assert "7 columns are chosen, more than the 5" in err and "--features" in err
    assert run(["fit", path, "--target", "y", "--features", "c0,c1", "-o", tmp_path / "m.json",
                "-q"])[0] == 0
    # the real limit: what 8·p² bytes of statistics allow in this machine's memory
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    monkeypatch.undo()
    limit = linreg.cli._most_columns()
    assert 8 * limit ** 2 <= memory < 8 * (limit + 1) ** 2


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["fit", "--help"]])
def test_version_and_help_load_no_numerics(argv):
    """`linreg --version` and the help answer without importing scikit-learn, SciPy or numba
    (the modules Python reports importing with -X importtime; a structural check, not a timing)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "linreg", *argv],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("linreg 0.") if argv == ["--version"] else "usage:" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:")}
    assert "linreg.cli" in imported  # importtime reported the imports
    heavy = sorted(m for m in imported if m.split(".")[0] in ("sklearn", "scipy", "numba"))
    assert heavy == []


@pytest.mark.resources
def test_version_answers_quickly():
    times = []
    for _ in range(3):
        start = time.perf_counter()
        assert run_process(["--version"]).returncode == 0
        times.append(time.perf_counter() - start)
    assert min(times) < 0.5, times  # about 0.1 s (interpreter start-up, argparse)


def test_the_command_line_knows_every_solver_and_runs_every_command():
    import argparse

    import linreg.cli
    from linreg.cli.parser import SOLVER_CHOICES
    from linreg.solvers import SOLVER_NAMES

    assert SOLVER_CHOICES == SOLVER_NAMES  # spelled out in the parser to keep --help fast
    sub = next(a for a in linreg.cli.build_parser()._actions
               if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == set(linreg.cli.COMMANDS)
    for name in linreg.cli.COMMANDS:
        assert callable(linreg.cli.command_function(name))


def test_the_package_imports_its_public_names_on_first_use():
    """linreg/__init__.py loads its names lazily (PEP 562); every spelling still works."""
    code = ("import sys, linreg\n"
            "assert 'sklearn' not in sys.modules and 'linreg.estimator' not in sys.modules\n"
            "assert set(linreg.__all__) <= set(dir(linreg))\n"
            "from linreg import LinearRegression, load, sources\n"
            "from linreg import *\n"
            "assert linreg.load is load and linreg.LinearRegression is LinearRegression\n"
            "assert linreg.exceptions.ConvergenceWarning is linreg.ConvergenceWarning\n"
            "assert all(getattr(linreg, n) is not None for n in linreg.__all__)\n"
            "assert not hasattr(linreg, 'no_such_name') and not hasattr(linreg, 'data')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# ----------------------------------------------------------------------------- model selection
def test_fit_alpha_cv_saves_the_refit_and_its_curve(files, data, tmp_path):
    """--alpha cv: the file is the LinearRegression refitted with LinearRegressionCV's alpha (on
    the same folds: scikit-learn's KFold through GridSearchCV's scores), and records the curve."""
    from sklearn.model_selection import KFold, cross_val_score

    from linreg import LinearRegressionCV
    X, y = data
    out = tmp_path / "cv.json"
    code, text, err = run(["fit", files["train"], "--target", "price", "--drop", "id", "--alpha", "cv",
                           "--cv", "4", "--alphas", "0.001,0.01,0.1,1", "-o", out])
    assert code == 0, err
    assert "chosen by 4-fold cross-validation" in text
    model = linreg.load(out)
    want = LinearRegressionCV(alphas=[0.001, 0.01, 0.1, 1], cv=4).fit(X, y)
    assert model.alpha == want.alpha_
    np.testing.assert_allclose(model.coef_, want.coef_, rtol=1e-10)
    curve = model.metadata_["cv_path"]
    assert curve["alphas"] == [0.001, 0.01, 0.1, 1] and curve["n_folds"] == 4
    for alpha, mean in zip(curve["alphas"], curve["mean"]):
        scores = cross_val_score(LinearRegression(alpha=alpha), X, y, cv=KFold(4),
                                 scoring="neg_mean_squared_error")
        assert mean == pytest.approx(-scores.mean(), rel=1e-9)
    code, _, err = run(["predict", out, files["new"]])  # an ordinary model file
    assert code == 0, err


@pytest.mark.parametrize("argv, message", [
    (["--alpha", "cv", "--solver", "gd"], "--solver gd does not apply"),
    (["--alpha", "cv", "--cv", "1"], "at least 2 folds"),
    (["--alpha", "cv", "--alphas", "0.1,x"], "--alphas must be numbers"),
    (["--alphas", "0.1,1"], "--alphas goes with --alpha cv"),
    (["--alpha", "cv", "--alphas", "1,-1"], "alpha"),
])
def test_fit_alpha_cv_bad_options(files, tmp_path, argv, message):
    code, _, err = run(["fit", files["train"], "--target", "price", "--drop", "id", "-o",
                        tmp_path / "m.json", *argv])
    assert code == 1 and message in err, err


def test_fit_alpha_not_cv_nor_number_is_a_usage_error(files, tmp_path):
    code, _, err = run(["fit", files["train"], "--target", "price", "-o", tmp_path / "m.json",
                        "--alpha", "auto"])
    assert code == 2 and "'auto' is not 'cv' or a number" in err


def test_model_file_cv_path_is_validated(files, tmp_path):
    out = tmp_path / "cv.json"
    assert run(["fit", files["train"], "--target", "price", "--drop", "id", "--alpha", "cv",
                "--alphas", "0.01,0.1", "-o", out])[0] == 0
    doc = json.loads(out.read_text())
    doc["metadata"]["cv_path"]["alpha_min"] = 7.0
    out.write_text(json.dumps(doc))
    with pytest.raises(linreg.ModelFileError, match="cv_path.alpha_min must be one of"):
        linreg.load(out)


@pytest.mark.parametrize("direction", ["both", "exhaustive"])
def test_select_prints_the_path_and_saves_the_statsmodels_fit(files, data, tmp_path, direction):
    import itertools

    import statsmodels.api as sm
    X, y = data
    names = ["a", "b", "c", "d"]
    bic = {cols: sm.OLS(y, sm.add_constant(X[:, list(cols)], has_constant="add") if cols
                        else np.ones((len(y), 1))).fit().bic
           for k in range(5) for cols in itertools.combinations(range(4), k)}
    best = min(bic, key=bic.get)
    out = tmp_path / "sel.json"
    code, text, err = run(["select", files["train"], "--target", "price", "--drop", "id",
                           "--direction", direction, "-o", out, "--json"])
    assert code == 0, err
    report = json.loads(text)
    assert sorted(report["selected"]) == [names[j] for j in best]
    assert report["value"] == pytest.approx(bic[best], rel=1e-8)
    model = linreg.load(out)
    assert sorted(model.feature_names_in_) == [names[j] for j in best]
    r = sm.OLS(y, sm.add_constant(X[:, [names.index(c) for c in model.feature_names_in_]])).fit()
    np.testing.assert_allclose(model.coef_, r.params[1:], rtol=1e-8)
    code, text, _ = run(["select", files["train"], "--target", "price", "--drop", "id"])
    assert code == 0 and "selected: " in text and "BIC" in text


def test_select_bad_input(files, tmp_path):
    code, _, err = run(["select", files["train"], "--target", "price", "--criterion", "cp"])
    assert code == 2 and "criterion" in err
    code, _, err = run(["select", files["train"], "--target", "price,a"])
    assert code == 1 and "one --target" in err
