"""The command line as a new user meets it (issue 20): a fit shown without saving, why the
solver ran, mistyped and swapped arguments, duplicate columns, ``predict --keep``."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

import linreg
from linreg.cli import main


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def cars(tmp_path_factory):
    """mtcars-like data written as pandas writes it (with its unnamed index column)."""
    rng = np.random.default_rng(7)
    n = 40
    frame = pd.DataFrame({"name": [f"car {i}" for i in range(n)],
                          "wt": rng.uniform(1.5, 5.5, n), "hp": rng.uniform(50, 330, n)})
    frame["mpg"] = 37 - 3.9 * frame.wt - 0.03 * frame.hp + rng.normal(0, 2, n)
    folder = tmp_path_factory.mktemp("cars")
    path = folder / "cars.csv"
    frame.drop(columns="name").to_csv(path, index=False)
    named = folder / "named.csv"
    frame.to_csv(named, index=False)
    return {"folder": folder, "csv": path, "named": named, "frame": frame}


def test_fit_without_output_shows_the_fit_and_writes_nothing(cars):
    before = set(cars["folder"].iterdir())
    code, out, err = run(["fit", cars["csv"], "--target", "mpg"])
    assert code == 0, err
    assert set(cars["folder"].iterdir()) == before
    ols = sm.OLS(cars["frame"].mpg, sm.add_constant(cars["frame"][["wt", "hp"]])).fit()
    listed = dict(line.split() for line in out.splitlines() if line.startswith("  "))
    assert float(listed["wt"]) == pytest.approx(ols.params["wt"], rel=1e-8)
    assert float(listed["intercept"]) == pytest.approx(ols.params["const"], rel=1e-8)
    assert f"R² {ols.rsquared:.6g}" in out
    assert "not saved (give -o MODEL.json" in out


def test_fit_says_why_the_solver_ran(cars, tmp_path):
    code, out, err = run(["fit", cars["csv"], "--target", "mpg", "--json"])
    assert code == 0, err
    report = json.loads(out)
    assert report["solver"] == "normal"
    assert f"condition number is {report['condition_number']:.3g}" in report["solver_reason"]
    assert "κ² ≤ 1e6" in report["solver_reason"]
    code, out, _ = run(["fit", cars["csv"], "--target", "mpg", "--solver", "qr"])
    assert code == 0 and "why qr: asked for (--solver qr)" in out
    # an ill-conditioned design: auto switches to QR and says why
    x = np.linspace(0, 1, 50)
    frame = pd.DataFrame({"a": x, "b": x + 1e-5 * np.sin(40 * x), "y": x + np.cos(x)})
    frame.to_csv(tmp_path / "ill.csv", index=False)
    code, out, err = run(["fit", tmp_path / "ill.csv", "--target", "y", "--json"])
    report = json.loads(out)
    assert report["solver"] == "qr", err
    assert report["condition_number"] ** 2 > 1e6
    assert "κ² > 1e6" in report["solver_reason"] and "--solver auto" in report["solver_reason"]


def test_mistyped_option_suggests_the_close_one_and_the_command_help(cars):
    code, out, err = run(["fit", cars["csv"], "--target", "mpg", "--sovler", "qr"])
    assert code == 2 and err.count("\n") == 1
    assert "--sovler" in err and "did you mean --solver?" in err
    assert "(see linreg fit --help)" in err
    code, _, err = run(["summary", "m.json", "d.csv", "--cov-tpye", "HC3"])
    assert code == 2 and "did you mean --cov-type?" in err and "linreg summary --help" in err
    code, _, err = run(["fit", cars["csv"], "--target", "mpg", "--zzzz"])
    assert code == 2 and "did you mean" not in err and "--zzzz" in err


def test_duplicate_column_is_named(cars):
    code, _, err = run(["fit", cars["csv"], "--target", "mpg", "--features", "wt,wt"])
    assert code == 1 and err.count("\n") == 1
    assert "'wt' more than once" in err and "internal error" not in err


def test_swapped_model_and_data_are_recognised(cars, tmp_path):
    model = tmp_path / "m.json"
    assert run(["fit", cars["csv"], "--target", "mpg", "-o", model])[0] == 0
    for command in ("predict", "evaluate", "summary"):
        code, _, err = run([command, cars["csv"], model])
        assert code == 1 and "look swapped" in err and "MODEL DATA" in err, command


def test_predict_keeps_columns_and_names_the_prediction_after_the_target(cars, tmp_path):
    model = tmp_path / "m.json"
    assert run(["fit", cars["named"], "--target", "mpg", "--drop", "name", "-o", model])[0] == 0
    code, out, err = run(["predict", model, cars["named"], "--keep", "name,wt"])
    assert code == 0, err
    got = pd.read_csv(io.StringIO(out))
    assert list(got.columns) == ["name", "wt", "prediction_mpg"]
    frame = cars["frame"]
    assert got["name"].tolist() == frame["name"].tolist()
    np.testing.assert_array_equal(got["wt"], frame["wt"])
    expected = linreg.load(model).predict(frame[["wt", "hp"]])
    np.testing.assert_allclose(got["prediction_mpg"], expected, rtol=1e-15)
    code, _, err = run(["predict", model, cars["named"], "--keep", "name",
                        "-o", tmp_path / "p.parquet", "--interval", "prediction"])
    assert code == 0, err
    got = pd.read_parquet(tmp_path / "p.parquet")
    assert list(got.columns) == ["name", "prediction_mpg", "lower_mpg", "upper_mpg"]
    code, _, err = run(["predict", model, cars["named"], "--keep", "nope"])
    assert code == 1 and "'nope'" in err and "--keep" in err
    code, _, err = run(["predict", model, cars["named"], "--keep", "name", "-o", tmp_path / "p.npy"])
    assert code == 1 and "'name'" in err and ".npy" in err


def test_messages_speak_the_command_lines_options(cars, tmp_path):
    """Errors and warnings name --options, never Python's keywords (issue 20)."""
    cases = [
        (["fit", cars["csv"], "--target", "mpg", "--solver", "gd", "--optimizer", "plain",
          "--learning-rate", "5", "--no-standardize"],
         ["--learning-rate 5 makes gradient descent diverge", "--learning-rate auto",
          "leaving out --no-standardize"]),
        (["fit", cars["csv"], "--target", "mpg", "--max-iter", "0"],
         ["--max-iter 0 must be an integer >= 1"]),
        (["fit", cars["csv"], "--target", "mpg", "--solver", "minibatch", "--batch-size", "0"],
         ["--batch-size 0 must be an integer >= 1"]),
        (["fit", cars["csv"], "--target", "mpg", "--early-stopping",
          "--validation-fraction", "1.5"],
         ["--validation-fraction 1.5 must be in (0, 1)"]),
        (["fit", cars["csv"], "--target", "mpg", "--solver", "minibatch", "--batch-size", "100"],
         ["--batch-size 100 is larger than the number of training rows: 40 samples"]),
        (["fit", cars["csv"], "--target", "mpg", "--solver", "minibatch", "--early-stopping",
          "--chunk-rows", "10"],
         ["--early-stopping needs the rows in memory"]),
    ]
    for argv, expected in cases:
        code, _, err = run(argv)
        assert code == 1 and err.count("\n") == 1, err
        for text in expected:
            assert text in err, (text, err)
        assert not re.search(r"[a-z_]=\S", err), err       # no Python name=value
    model = tmp_path / "m.json"
    assert run(["fit", cars["csv"], "--target", "mpg", "-o", model, "-q"])[0] == 0
    part = tmp_path / "part.csv"
    part.write_text("\n".join(cars["csv"].read_text().splitlines()[:11]) + "\n")
    code, _, err = run(["summary", model, part])
    assert code == 1 and "10 rows, but the model was fitted on 40" in err
    assert "the training data file the model was fitted on (linreg summary MODEL DATA" in err
    assert "X, y and sample_weight" not in err


def test_python_keeps_its_own_spelling_of_the_same_messages(cars):
    from linreg import LinearRegression
    from linreg.exceptions import DivergenceError, TrainingDataMismatchError
    X, y = cars["frame"][["wt", "hp"]], cars["frame"]["mpg"]
    with pytest.raises(ValueError, match=r"^max_iter=0 must be an integer >= 1$"):
        LinearRegression(max_iter=0).fit(X, y)
    with pytest.raises(DivergenceError, match=r"learning_rate=5 .*learning_rate='auto'.*"
                                              r"standardize=True"):
        LinearRegression(solver="gd", optimizer="plain", learning_rate=5.0,
                         standardize=False).fit(X, y)
    model = LinearRegression().fit(X, y)
    with pytest.raises(TrainingDataMismatchError, match=r"Pass the training data \(X, y and "
                                                        r"sample_weight\) unchanged"):
        model.summary(X=X[:10], y=y[:10])


def test_cov_type_option_in_any_case(cars, tmp_path):
    model = tmp_path / "m.json"
    assert run(["fit", cars["csv"], "--target", "mpg", "-o", model, "-q"])[0] == 0
    code, lower, err = run(["summary", model, cars["csv"], "--cov-type", "hc3", "--json"])
    assert code == 0, err
    code, upper, err = run(["summary", model, cars["csv"], "--cov-type", "HC3", "--json"])
    frame = cars["frame"]
    ols = sm.OLS(frame.mpg, sm.add_constant(frame[["wt", "hp"]])).fit(cov_type="HC3")
    assert json.loads(lower)["inference"] == json.loads(upper)["inference"]
    np.testing.assert_allclose(json.loads(lower)["inference"]["bse"], ols.bse, rtol=1e-8)
