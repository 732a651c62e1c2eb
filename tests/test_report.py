"""The report page and the diagnostic plots' data, against statsmodels."""

import re

import numpy as np
import pytest

from linreg import LinearRegression
from linreg.demo import load_diabetes
from linreg.report.diagnostics import diagnostics, lowess, plot_diagnostics, ppoints, results_html, sample_rows
from linreg.report.page import report_html

sm = pytest.importorskip("statsmodels.api")
pytest.importorskip("matplotlib")
from statsmodels.nonparametric.smoothers_lowess import lowess as sm_lowess  # noqa: E402
from statsmodels.stats.outliers_influence import OLSInfluence  # noqa: E402


def _penguins():
    """bill length, bill depth and flipper length → body mass; rows with a missing value dropped."""
    import csv
    from importlib import resources
    with resources.files("linreg").joinpath("data/penguins.csv").open("r") as f:
        rows = list(csv.DictReader(f))
    cols = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    M = np.array([[float(r[c]) for c in cols] for r in rows
                  if all(re.fullmatch(r"[0-9.]+", r[c]) for c in cols)])
    return M[:, :-1], M[:, -1]


@pytest.mark.parametrize("dataset", ["diabetes", "penguins"])
def test_diagnostic_data_equal_statsmodels(dataset):
    X, y = load_diabetes()[:2] if dataset == "diabetes" else _penguins()
    model = LinearRegression().fit(X, y)
    diag = diagnostics(model.summary(), model.predict(X), y)
    ref = OLSInfluence(sm.OLS(y, sm.add_constant(X)).fit())
    np.testing.assert_allclose(diag.leverage, ref.hat_matrix_diag, rtol=0, atol=1e-8)
    np.testing.assert_allclose(diag.cooks_distance, ref.cooks_distance[0], rtol=0, atol=1e-8)
    np.testing.assert_allclose(diag.resid_studentized, ref.resid_studentized_internal, rtol=0, atol=1e-8)
    np.testing.assert_allclose(diag.resid, ref.resid, rtol=0, atol=1e-8)


def test_lowess_equals_statsmodels_without_robustness_iterations():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    y = np.sin(2 * x) + 0.3 * rng.normal(size=200)
    xs, ys = lowess(x, y)
    np.testing.assert_allclose(ys, sm_lowess(y, x, frac=2 / 3, it=0, xvals=xs), atol=1e-10)


def test_ppoints_is_rs():
    # R: ppoints(5) = (1:5 - 3/8)/(5 + 1 - 3/4); ppoints(20) = (1:20 - 1/2)/20
    np.testing.assert_allclose(ppoints(5), (np.arange(1, 6) - 0.375) / 5.25)
    np.testing.assert_allclose(ppoints(20), (np.arange(1, 21) - 0.5) / 20)


def test_report_page_holds_the_apis_numbers(tmp_path):
    X, y, names, target = load_diabetes()
    model = LinearRegression(solver="gd", max_iter=2000).fit(X, y)
    path = tmp_path / "report.html"
    model.report(X, y, path)
    page = path.read_text(encoding="utf-8")
    result = model.summary()
    cells = re.findall(r"<td>([^<]*)</td>", page.split('id="coefficients"')[1].split("</table>")[0])
    coef = np.array([float(c) for c in cells]).reshape(len(result.params), 6)[:, 0]
    np.testing.assert_allclose(coef, result.params, rtol=1e-5)
    assert page.count("<img ") == 2                # the diagnostic plots and the loss curve
    assert "All 442 rows" in page and len(page.encode()) < 3e6
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", page) and "<script" not in page


def test_large_data_plots_a_documented_sample():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12_000, 3))
    y = X @ [1.0, 2.0, -1.0] + rng.normal(size=12_000)
    X[5, 0], y[5] = 30.0, 200.0                     # one influential row: always drawn
    model = LinearRegression().fit(X, y)
    diag = diagnostics(model.summary(), model.predict(X), y)
    rows = sample_rows(diag)
    assert rows.size == 5000 and 5 in rows and np.all(np.diff(rows) > 0)
    page = report_html(model, X, y)
    assert "draw 5,000 of the 12,000 rows" in page and "uses all 12,000 rows" in page
    assert "12,000" in page.split('id="fit-statistics"')[1].split("</table>")[0].replace("12000", "12,000")


def test_plot_diagnostics_refuses_several_targets_and_penalized_fits():
    """R's four panels are OLS quantities of one target (the report page shows several
    targets and penalized fits in their own way: tests/test_report_models.py)."""
    pytest.importorskip("matplotlib")
    X, y = load_diabetes()[:2]
    with pytest.raises(ValueError, match="one target"):
        plot_diagnostics(LinearRegression().fit(X, np.column_stack([y, y])), X,
                         np.column_stack([y, y]))
    with pytest.raises(ValueError, match="penalty"):
        plot_diagnostics(LinearRegression(alpha=1.0).fit(X, y), X, y)


def test_results_html_and_plot_diagnostics():
    import matplotlib
    matplotlib.use("Agg")
    X, y = load_diabetes()[:2]
    model = LinearRegression().fit(X, y)
    html = results_html(model.summary())
    assert f"{model.summary().rsquared:.6g}" in html and f"{model.intercept_:.6g}" in html
    axes = plot_diagnostics(model, X, y)
    assert [ax.get_title() for ax in axes] == ["Residuals vs Fitted", "Normal Q–Q", "Scale–Location",
                                                "Residuals vs Leverage"]
    import matplotlib.pyplot as plt
    plt.close("all")


def test_cli_report(tmp_path):
    from linreg.cli import main
    data = tmp_path / "d.csv"
    X, y, names, target = load_diabetes()
    np.savetxt(data, np.column_stack([X, y]), delimiter=",", header=",".join(names + [target]), comments="")
    model, page = tmp_path / "m.json", tmp_path / "r.html"
    assert main(["fit", str(data), "--target", target, "-o", str(model), "-q"]) == 0
    assert main(["report", str(model), str(data), "-o", str(page), "-q"]) == 0
    assert "Residuals vs fitted" in page.read_text(encoding="utf-8")


def test_results_show_their_table_in_a_notebook():
    """RegressionResults._repr_html_ (and MultiOutputResults', one table per target) is the
    report's results table, with the numbers the API gives."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 2))
    Y = X @ [[1.0, -2.0], [0.5, 3.0]] + rng.normal(size=(80, 2))
    single = LinearRegression().fit(X, Y[:, 0]).summary()
    html = single._repr_html_()
    assert html == results_html(single)
    assert f"{single.params[1]:.6g}" in html and f"{single.rsquared:.6g}" in html
    both = LinearRegression().fit(X, Y).summary()
    html = both._repr_html_()
    assert html.count('id="coefficients"') == 2
    assert f"{both[1].params[2]:.6g}" in html
