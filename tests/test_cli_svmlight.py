"""The command line on svmlight / libsvm files (``.svm``, ``.svmlight``, ``.libsvm``), in process.

Trusted answers: scikit-learn's ``load_svmlight_file`` (the rows) with ``numpy.linalg.lstsq``
(coefficients, predictions) and ``sklearn.metrics`` (evaluate); every refusal's message.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import dump_svmlight_file, load_svmlight_file
from sklearn.metrics import mean_absolute_error, r2_score, root_mean_squared_error

from linreg import load, sources
from linreg.cli import main
from linreg.persistence import ModelFileError


def run(argv):
    """(exit status, stdout, stderr) of ``main(argv)``."""
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def reference(path, zero_based=False, n_features=None):
    """``(X dense, y, coef, intercept)``: scikit-learn's reading, and least squares with an
    intercept by numpy.linalg.lstsq."""
    X, y = load_svmlight_file(str(path), zero_based=zero_based, n_features=n_features)
    X = X.toarray()
    A = np.column_stack([np.ones(len(y)), X])
    theta = np.linalg.lstsq(A, y, rcond=None)[0]
    return X, y, theta[1:], theta[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("svm")
    rng = np.random.default_rng(3)
    n, d = 150, 8
    X = sp.random(n, d, density=0.5, random_state=4, format="csr")
    X.data = np.round(X.data * 10, 3)
    y = X @ rng.standard_normal(d) + 2.0 + 0.1 * rng.standard_normal(n)
    train = folder / "train.svm"
    dump_svmlight_file(X, y, str(train), zero_based=False)
    # a file for prediction whose largest index (5) is below the model's width (8)
    narrow = folder / "narrow.libsvm"
    dump_svmlight_file(X[:12, :5], y[:12], str(narrow), zero_based=False)
    model = folder / "model.json"
    code, out, err = run(["fit", train, "-o", model])
    assert code == 0, err
    return {"folder": folder, "train": train, "narrow": narrow, "model": model, "d": d}


def test_fit_closed_form_matches_lstsq(files):
    _, _, coef, intercept = reference(files["train"])
    code, out, err = run(["fit", files["train"], "--solver", "normal", "--json", "-q"])
    assert code == 0, err
    report = json.loads(out)
    assert report["target"] == "label" and report["n_features"] == files["d"]
    assert list(report["coef"]) == [f"x{j}" for j in range(1, files["d"] + 1)]
    np.testing.assert_allclose(list(report["coef"].values()), coef, rtol=1e-8, atol=1e-8)
    assert report["intercept"] == pytest.approx(intercept, rel=1e-8, abs=1e-8)
    model = load(files["model"])
    np.testing.assert_allclose(model.coef_, coef, rtol=1e-8, atol=1e-8)
    assert model.n_features_in_ == files["d"]
    assert list(model.feature_names_in_) == [f"x{j}" for j in range(1, files["d"] + 1)]
    assert model.metadata_["svmlight"] == {"zero_based": False}
    assert model.metadata_["target_name"] == "label"


def test_predict_and_evaluate_against_the_reference(files, tmp_path):
    X, y, coef, intercept = reference(files["train"])
    out_csv = tmp_path / "p.csv"
    code, _, err = run(["predict", files["model"], files["train"], "-o", out_csv])
    assert code == 0, err
    lines = out_csv.read_text().splitlines()
    assert lines[0].strip('"') == "prediction_label"
    np.testing.assert_allclose(np.array(lines[1:], dtype=float), X @ coef + intercept,
                               rtol=1e-8, atol=1e-8)
    code, out, err = run(["evaluate", files["model"], files["train"], "--json"])
    assert code == 0, err
    m = json.loads(out)
    fitted = X @ coef + intercept
    assert m["target"] == ["label"] and m["n"] == len(y)
    assert m["r2"] == pytest.approx(r2_score(y, fitted), rel=1e-9)
    assert m["rmse"] == pytest.approx(root_mean_squared_error(y, fitted), rel=1e-6)
    assert m["mae"] == pytest.approx(mean_absolute_error(y, fitted), rel=1e-6)


def test_alpha_cv_and_intervals_on_an_svmlight_file(files, tmp_path):
    """``fit --alpha cv``: the folds' statistics from the sparse blocks, as
    LinearRegressionCV on scikit-learn's reading made dense; ``predict --interval``: the
    model's intervals on those rows."""
    from linreg import LinearRegression, LinearRegressionCV
    X, y, _, _ = reference(files["train"])
    model = tmp_path / "cv.json"
    code, out, err = run(["fit", files["train"], "--alpha", "cv", "--alphas", "0,0.01,0.1,1",
                          "--cv", "4", "-o", model])
    assert code == 0, err
    want = LinearRegressionCV(alphas=[0, 0.01, 0.1, 1], cv=4).fit(X, y)
    got = load(model)
    assert got.alpha == want.alpha_
    np.testing.assert_allclose(got.coef_, want.coef_, rtol=1e-10, atol=1e-12)
    code, out, err = run(["predict", files["model"], files["train"], "--interval", "prediction",
                          "--level", "0.9"])
    assert code == 0, err
    table = np.loadtxt(io.StringIO(out), delimiter=",", skiprows=1)
    yhat, lower, upper = LinearRegression().fit(X, y).predict(X, interval="prediction",
                                                              level=0.9)
    np.testing.assert_allclose(table, np.column_stack([yhat, lower, upper]), rtol=1e-9)


def test_predict_a_file_narrower_than_the_model(files):
    _, _, coef, intercept = reference(files["train"])
    X = load_svmlight_file(str(files["narrow"]), zero_based=False,
                           n_features=files["d"])[0].toarray()
    assert X.shape[1] == files["d"] and not X[:, 5:].any()
    code, out, err = run(["predict", files["model"], files["narrow"]])
    assert code == 0, err
    got = np.array(out.splitlines()[1:], dtype=float)
    np.testing.assert_allclose(got, X @ coef + intercept, rtol=1e-8, atol=1e-8)


def test_an_index_beyond_the_model_names_file_and_line(files, tmp_path):
    wide = tmp_path / "wide.svm"
    wide.write_text("1 1:0.5 3:1\n2 2:1 9:0.25\n")
    code, _, err = run(["predict", files["model"], wide])
    assert code == 1
    assert f"{wide}: line 2: feature index beyond n_features=8: '9:0.25'" in err
    assert f"the model {files['model']} has 8 features, x1 … x8" in err
    code, _, err = run(["evaluate", files["model"], wide])
    assert code == 1 and "line 2" in err and "Traceback" not in err


def test_zero_based_fit_predict_and_names(tmp_path):
    rng = np.random.default_rng(8)
    X = sp.random(60, 4, density=0.7, random_state=2, format="csr")
    y = X @ [1.0, -2.0, 0.5, 3.0] + 1.0 + 0.01 * rng.standard_normal(60)
    path = tmp_path / "zero.svmlight"
    dump_svmlight_file(X, y, str(path), zero_based=True)
    Xr, yr, coef, intercept = reference(path, zero_based=True)
    code, _, err = run(["fit", path])
    assert code == 1 and "line" in err and "give --zero-based" in err
    model = tmp_path / "m.json"
    code, out, err = run(["fit", path, "--zero-based", "--solver", "qr", "-o", model])
    assert code == 0, err
    assert "x0 " in out and "x3 " in out and "x4" not in out
    saved = load(model)
    assert list(saved.feature_names_in_) == ["x0", "x1", "x2", "x3"]
    np.testing.assert_allclose(saved.coef_, coef, rtol=1e-8, atol=1e-8)
    code, out, err = run(["predict", model, path])       # the model says zero-based
    assert code == 0, err
    np.testing.assert_allclose(np.array(out.splitlines()[1:], dtype=float),
                               Xr @ coef + intercept, rtol=1e-8, atol=1e-8)
    code, out, err = run(["summary", model, path, "--json"])
    assert code == 0, err
    assert json.loads(out)["inference"]["param_names"] == ["intercept", "x0", "x1", "x2", "x3"]


@pytest.mark.parametrize("argv, words", [
    (["--target", "y"], "--target does not apply to the svmlight file {p}: its label is the target"),
    (["--features", "x1"], "--features does not apply to the svmlight file {p}"),
    (["--drop", "x1"], "--drop does not apply to the svmlight file {p}"),
    (["--weight", "w"], "--weight does not apply to the svmlight file {p}: it has no weight column"),
    (["--formula", "label ~ x1"], "--formula does not apply to the svmlight file {p}"),
    (["--missing", "drop"], "--missing drop does not apply to the svmlight file {p}"),
    (["--chunk-rows", "10"], "--chunk-rows does not apply to the svmlight file {p}"),
    (["--sep", ";"], "--sep does not apply to the svmlight file {p}"),
])
def test_fit_refuses_table_options(files, argv, words):
    code, _, err = run(["fit", files["train"], *argv])
    assert code == 2, err
    assert words.format(p=files["train"]) in err and "give --target" not in err


def test_svmlight_options_refused_on_other_files(tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,y\n1,2\n2,3\n3,5\n")
    for option in (["--n-features", "3"], ["--zero-based"]):
        code, _, err = run(["fit", csv, "--target", "y", *option])
        assert code == 2 and f"{option[0]} is for svmlight files" in err and str(csv) in err


@pytest.mark.parametrize("command, argv, words", [
    ("predict", ["--drop", "x1"], "--drop does not apply"),
    ("predict", ["--keep", "x1"], "--keep does not apply"),
    ("predict", ["--chunk-rows", "5"], "--chunk-rows does not apply"),
    ("evaluate", ["--target", "y"], "--target does not apply"),
    ("evaluate", ["--weight", "w"], "--weight does not apply"),
    ("summary", ["--target", "y"], "--target does not apply"),
])
def test_applying_refuses_table_options(files, command, argv, words):
    code, _, err = run([command, files["model"], files["train"], *argv])
    assert code == 2 and words in err and str(files["train"]) in err


def test_n_features_widens_and_bounds(files, tmp_path):
    model = tmp_path / "m.json"
    code, out, err = run(["fit", files["train"], "--n-features", "12", "-o", model, "--json"])
    assert code == 0, err
    assert json.loads(out)["n_features"] == 12 and load(model).n_features_in_ == 12
    code, _, err = run(["fit", files["train"], "--n-features", "3"])
    assert code == 1 and "line 1" in err and "beyond --n-features 3" in err


def test_a_model_of_named_columns_refuses_an_svmlight_file(files, tmp_path):
    csv = tmp_path / "d.csv"
    csv.write_text("a,b,y\n1,0,2\n2,1,3\n3,0,5\n4,2,4\n")
    model = tmp_path / "m.json"
    assert run(["fit", csv, "--target", "y", "-o", model])[0] == 0
    code, _, err = run(["predict", model, files["train"]])
    assert code == 1 and "reads its feature columns by name (a, b)" in err


def test_summary_and_select(files):
    code, out, err = run(["summary", files["model"], files["train"]])
    assert code == 0, err
    assert "x8 " in out and "label" in out and "R-squared" in out
    code, out, err = run(["select", files["train"], "--criterion", "aic"])
    assert code == 0, err
    assert "target 'label'" in out and "selected: x" in out
    code, _, err = run(["select", files["train"], "-o", files["folder"] / "s.json"])
    assert code == 2 and "-o: a model of the features chosen" in err


def test_wide_file_report_and_summary_refusal(tmp_path):
    """More features than a Gram is built for: LSQR, the largest coefficients listed, the
    model saved with its width; summary's own error comes through."""
    rng = np.random.default_rng(1)
    n, d = 60, 4200
    rows = [" ".join(f"{j}:{rng.standard_normal():.4f}"
                     for j in sorted(rng.choice(np.arange(1, d + 1), 3, replace=False)))
            for _ in range(n)]
    rows[0] += f" {d}:1"
    path = tmp_path / "wide.svm"
    path.write_text("".join(f"{rng.standard_normal():.4f} {r}\n" for r in rows))
    model = tmp_path / "m.json"
    code, out, err = run(["fit", path, "-o", model])
    assert code == 0, err
    assert "solver lsqr" in out and f"{d} features, more than the 4096" in out
    assert f"({d} coefficients," in out and f"… {d - 25} more (see --json)" in out
    assert len(out.splitlines()) < 40
    assert load(model).n_features_in_ == d
    code, _, err = run(["summary", model, path])
    assert code == 1 and "too wide" in err and "Traceback" not in err
    assert "refit with --solver normal" in err and "solver='normal'" not in err
    code, _, err = run(["report", model, path, "-o", tmp_path / "r.html"])
    assert code == 1 and "refit with --solver normal" in err, err
    code, out, err = run(["summary", model])
    assert code == 0, err
    assert f"(no standard errors or p-values: their covariance would be a {d} × {d}" in out
    assert "linreg summary MODEL DATA" not in out and len(out.splitlines()) < 40


def test_from_file_knows_svmlight(files, tmp_path):
    src = sources.from_file(files["train"])
    assert isinstance(src, sources.SvmlightSource) and src.n_features == files["d"]
    with pytest.raises(sources.MalformedDataError, match=r"train\.svm: target='y' does not apply"):
        sources.from_file(files["train"], target="y")
    csv = tmp_path / "d.csv"
    csv.write_text("a,y\n1,2\n")
    with pytest.raises(sources.MalformedDataError, match=r"d\.csv: n_features and zero_based"):
        sources.from_file(csv, target="y", zero_based=True)


def test_model_file_svmlight_metadata_is_validated(files, tmp_path):
    data = json.loads(files["model"].read_text())
    bad = tmp_path / "bad.json"
    data["metadata"]["svmlight"] = {"zero_based": "no"}
    bad.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="svmlight must be an object"):
        load(bad)
    data["metadata"]["svmlight"] = {"zero_based": True}      # but the names say x1 …
    bad.write_text(json.dumps(data))
    with pytest.raises(ModelFileError, match="feature_names of a model of svmlight files"):
        load(bad)
    del data["metadata"]["svmlight"]                          # as an older file: loads
    bad.write_text(json.dumps(data))
    assert load(bad).n_features_in_ == files["d"]
