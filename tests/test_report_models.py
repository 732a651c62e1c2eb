"""The report of every kind of fit, against statsmodels and scikit-learn: weighted (WLS),
formula and table fits (names, ANOVA, Wald tests, rows left out for missing values), several
targets, penalized fits and models chosen by cross-validation, and files read in blocks."""

import re

import numpy as np
import pandas as pd
import pytest

from linreg import LinearRegression, LinearRegressionCV
from linreg.demo import load_diabetes
from linreg.report import report_html
from linreg.report.data import report_data
from linreg.report.sample import TOP_ROWS, sample_pass

sm = pytest.importorskip("statsmodels.api")
smf = pytest.importorskip("statsmodels.formula.api")
pytest.importorskip("matplotlib")
from statsmodels.stats.anova import anova_lm  # noqa: E402
from statsmodels.stats.outliers_influence import OLSInfluence  # noqa: E402

FORMULA = "body_mass_g ~ flipper_length_mm + species * sex"


def close(a, b, tol=1e-8):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                               rtol=tol, atol=tol)


@pytest.fixture(scope="module")
def diabetes():
    X, y, names, target = load_diabetes()
    return X, y


@pytest.fixture(scope="module")
def penguins():
    from importlib import resources
    with resources.files("linreg").joinpath("data/penguins.csv").open("r") as f:
        return pd.read_csv(f)


def cells(page, table_id):
    """The text of every cell of the table ``table_id`` (the first with that id)."""
    body = page.split(f'id="{table_id}"')[1].split("</table>")[0]
    return re.findall(r"<td(?: class=\"name\")?>([^<]*)</td>", body)


def check_influence(diag, reference):
    """The plots' data equal statsmodels' OLSInfluence of ``reference`` (an OLS result)."""
    infl = OLSInfluence(reference)
    close(diag.leverage, infl.hat_matrix_diag)
    close(diag.cooks_distance, infl.cooks_distance[0])
    close(diag.resid_studentized, infl.resid_studentized_internal)


def test_weighted_fit_equals_wls(diabetes, tmp_path):
    X, y = diabetes
    w = np.random.default_rng(0).uniform(0.2, 3.0, len(y))
    w[:3] = 0.0                                   # rows of weight zero: not drawn
    model = LinearRegression().fit(X, y, sample_weight=w)
    data = report_data(model, X, y, w)
    ref = sm.WLS(y, sm.add_constant(X), weights=w).fit()
    result = data.targets[0].results
    for name in ("params", "bse", "pvalues", "rsquared", "rsquared_adj", "fvalue", "ssr"):
        close(getattr(result, name), getattr(ref, name))
    diag = data.diagnostics(0)
    keep = w > 0
    close(diag.index, np.flatnonzero(keep), 0)
    close(diag.fitted, ref.fittedvalues[keep])
    close(diag.resid, ref.resid[keep])
    # the weighted hat matrix is the whitened design's (R's hatvalues of a weighted lm);
    # statsmodels' OLSInfluence of a WLS result mixes √w and w, so the reference is OLS on
    # the whitened rows √w·[1, X], √w·y (all rows: σ² on WLS's degrees of freedom)
    root = np.sqrt(w)
    infl = OLSInfluence(sm.OLS(y * root, sm.add_constant(X) * root[:, None]).fit())
    close(diag.leverage, infl.hat_matrix_diag[keep])
    close(diag.cooks_distance, infl.cooks_distance[0][keep])
    close(diag.resid_studentized, infl.resid_studentized_internal[keep])
    path = tmp_path / "wls.html"
    model.report(X, y, path, sample_weight=w)
    page = path.read_text(encoding="utf-8")
    shown = np.array(cells(page, "coefficients"), dtype=object).reshape(-1, 7)
    close(shown[:, 1].astype(float), ref.params, 1e-5)
    close(shown[:, 2].astype(float), ref.bse, 1e-3)
    assert "Rows of weight zero (3) are not drawn" in page and "(weighted)" in page


def test_formula_fit_names_anova_wald_and_missing_rows(penguins, tmp_path):
    model = LinearRegression(formula=FORMULA, missing="drop").fit(penguins)
    ref = smf.ols(FORMULA, penguins).fit()
    data = report_data(model, penguins)
    result = data.targets[0].results
    assert list(result.param_names) == list(ref.params.index)
    close(result.params, ref.params)
    close(result.bse, ref.bse)
    assert data.n_dropped == len(penguins) - ref.nobs == 11
    anova = data.targets[0].anova
    expected = anova_lm(ref, typ=2)
    assert list(anova.index) == list(expected.index)
    close(anova[["sum_sq", "df", "F", "PR(>F)"]].to_numpy()[:-1],
          expected[["sum_sq", "df", "F", "PR(>F)"]].to_numpy()[:-1])
    wald = data.targets[0].wald.table
    expected = ref.wald_test_terms(skip_single=False, scalar=True).table
    assert list(wald.index) == list(expected.index)
    close(wald["statistic"], expected["statistic"])
    close(wald["pvalue"], expected["pvalue"])
    check_influence(data.diagnostics(0), ref)
    page = report_html(model, penguins)
    assert "(11 observations deleted due to missingness" in page
    names = cells(page, "coefficients")[::7]
    assert names == list(ref.params.index)
    anova_cells = cells(page, "anova-0")
    assert anova_cells[0] == "species" and float(anova_cells[3]) == pytest.approx(
        anova_lm(ref, typ=2).loc["species", "F"], rel=1e-5)
    assert cells(page, "wald-0")[0] == "Intercept"
    assert "species</code>: Adelie (reference), Chinstrap, Gentoo" in page


def test_formula_report_from_a_csv_in_blocks_equals_the_table(penguins, tmp_path):
    from linreg.cli import main
    csv = tmp_path / "penguins.csv"
    penguins.to_csv(csv, index=False)
    model_file, page_file = tmp_path / "m.json", tmp_path / "r.html"
    assert main(["fit", str(csv), "--formula", FORMULA, "--missing", "drop", "-o",
                 str(model_file), "-q"]) == 0
    assert main(["report", str(model_file), str(csv), "-o", str(page_file), "--chunk-rows",
                 "50", "-q"]) == 0
    page = page_file.read_text(encoding="utf-8")
    ref = smf.ols(FORMULA, penguins).fit()
    shown = np.array(cells(page, "coefficients"), dtype=object).reshape(-1, 7)
    assert list(shown[:, 0]) == list(ref.params.index)
    close(shown[:, 1].astype(float), ref.params, 1e-5)
    assert "(11 observations deleted due to missingness" in page
    assert f"<td>{ref.rsquared:.6g}</td>" in page


def test_several_targets_one_section_each(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, np.log(y), X[:, 2] * 3 + y / 10])
    Xf = X[:, [0, 1, 3, 4, 5, 6, 7, 8, 9]]
    model = LinearRegression().fit(Xf, Y)
    data = report_data(model, Xf, Y, target_names=["y", "log_y", "mix"])
    page = report_html(model, Xf, Y, target_name=["y", "log_y", "mix"])
    assert [t.name for t in data.targets] == ["y", "log_y", "mix"]
    assert page.count('id="coefficients"') == 3 and page.count("<img ") == 3
    for j, part in enumerate(data.targets):
        ref = sm.OLS(Y[:, j], sm.add_constant(Xf)).fit()
        close(part.results.params, ref.params)
        close(part.results.bse, ref.bse)
        check_influence(data.diagnostics(j), ref)
        assert f"<h2>{part.name}</h2>" in page


def _ridge_reference(X, y, alpha):
    from sklearn.linear_model import Ridge
    mean, sd = X.mean(axis=0), X.std(axis=0)
    ridge = Ridge(alpha=len(y) * alpha).fit((X - mean) / sd, y)
    w = ridge.coef_ / sd
    b = ridge.intercept_ - mean @ w
    return w, b, ridge.coef_


def test_penalized_fit_coefficients_r2_rmse_objective(diabetes):
    from sklearn.metrics import r2_score, root_mean_squared_error
    X, y = diabetes
    model = LinearRegression(alpha=0.3).fit(X, y)
    w, b, theta = _ridge_reference(X, y, 0.3)
    fitted = X @ w + b
    data = report_data(model, X, y)
    part = data.targets[0]
    close(part.params, np.r_[b, w])
    close(part.rsquared, r2_score(y, fitted))
    close(part.rmse, root_mean_squared_error(y, fitted))
    close(part.objective, np.mean((fitted - y) ** 2) / 2 + 0.3 / 2 * theta @ theta)
    page = report_html(model, X, y)
    shown = cells(page, "coefficients")
    close(np.array(shown[1::2], dtype=float), np.r_[b, w], 1e-5)
    assert f"<td>{r2_score(y, fitted):.6g}</td>" in page
    assert "std err" not in page and "do not hold for a penalized fit" in page
    assert "Residual plots" in page and "Cross-validation" not in page


def test_cross_validated_model_shows_its_curve(diabetes):
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    X, y = diabetes
    alphas = np.geomspace(1e-3, 3.0, 8)
    searched = LinearRegressionCV(alphas=alphas, cv=5).fit(X, y)
    page = report_html(searched, X, y)
    scores = np.array([[np.mean((make_pipeline(StandardScaler(), Ridge(alpha=len(tr) * a))
                                 .fit(X[tr], y[tr]).predict(X[te]) - y[te]) ** 2)
                        for tr, te in KFold(5).split(X)] for a in alphas])
    mean, se = scores.mean(axis=1), scores.std(axis=1, ddof=1) / np.sqrt(5)
    shown = np.array(cells(page, "cv-curve"), dtype=float).reshape(-1, 3)
    close(shown[:, 0], alphas, 1e-5)
    close(shown[:, 1], mean, 1e-5)
    close(shown[:, 2], se, 1e-4)
    best = alphas[np.argmin(mean)]
    assert f"alpha_min = {best:.6g}" in page and f"uses alpha = {best:.6g}" in page
    w, b, _ = _ridge_reference(X, y, best)
    close(np.array(cells(page, "coefficients")[1::2], dtype=float), np.r_[b, w], 1e-5)
    assert page.count("<img ") == 2               # the curve and the residual plots


def test_cli_report_of_a_model_fitted_with_alpha_cv(diabetes, tmp_path):
    from linreg.cli import main
    X, y = diabetes
    data = tmp_path / "d.csv"
    pd.DataFrame(np.column_stack([X, y]), columns=[f"x{j}" for j in range(10)] + ["y"]).to_csv(
        data, index=False)
    model_file, page_file = tmp_path / "m.json", tmp_path / "r.html"
    assert main(["fit", str(data), "--target", "y", "--alpha", "cv", "-o", str(model_file),
                 "-q"]) == 0
    assert main(["report", str(model_file), str(data), "-o", str(page_file), "-q"]) == 0
    page = page_file.read_text(encoding="utf-8")
    assert 'id="cv-curve"' in page and "5-fold cross-validation over 50 alphas" in page
    assert "Refit with --alpha 0 to get a summary" in page        # the command line's words


def test_big_file_in_blocks_same_numbers_sample_and_bounded_rows(tmp_path):
    rng = np.random.default_rng(3)
    n = 30_000
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.standard_t(3, size=n)
    X[123, 0], y[123] = 12.0, 80.0                  # an influential row
    frame = pd.DataFrame(np.column_stack([X, y]), columns=["a", "b", "c", "y"])
    csv = tmp_path / "big.csv"
    frame.to_csv(csv, index=False)
    from linreg.sources import from_file
    model = LinearRegression().fit(from_file(csv, target="y", chunk_rows=4096))
    ref = sm.OLS(y, sm.add_constant(X)).fit()
    cooks = OLSInfluence(ref).cooks_distance[0]
    samples = []
    for chunk in (1000, 7777, None):
        data = report_data(model, from_file(csv, target="y", chunk_rows=chunk), max_points=2000)
        close(data.targets[0].results.params, ref.params)
        close(data.targets[0].results.bse, ref.bse)
        with pytest.raises(ValueError, match="per-row"):     # nothing kept per row
            _ = data.targets[0].results.leverage
        assert data.sample.index.size <= 2000 + TOP_ROWS
        diag = data.diagnostics(0)
        assert diag.index.size == 2000
        top = np.argsort(cooks)[-TOP_ROWS:]
        assert set(top) <= set(diag.index)
        # the normal Q–Q draws the random rows alone (the most influential would bias it)
        assert (~diag.random).sum() == TOP_ROWS and not diag.random[np.isin(diag.index, top)].any()
        close(diag.cooks_distance, cooks[diag.index])
        samples.append(diag.index)
        close(data.sample.ranges.min, np.r_[X.min(axis=0), y.min()], 1e-6)
        close(data.sample.ranges.std, np.r_[X.std(axis=0), y.std()], 1e-6)
    # the sample depends on the rows, not on how they are cut into blocks
    assert all(np.array_equal(samples[0], s) for s in samples[1:])
    page = report_html(model, from_file(csv, target="y", chunk_rows=5000))
    assert "The plots draw 5,000 of the 30,000 rows" in page and "uses all 30,000 rows" in page


def test_the_random_rows_are_uniform():
    """The random part of the sample: every row equally likely (the keys are uniform)."""
    from linreg.rows import MemoryRows
    n, limit = 4000, 400
    X = np.arange(n, dtype=float)[:, None]
    counts = np.zeros(n)
    for seed in range(40):
        sample = sample_pass(MemoryRows(X, X.copy()), np.ones((1, 1)), np.zeros(1),
                             limit=limit, seed=seed)
        counts[sample.index[sample.rows_for(0)]] += 1
    # 40 draws of 400 of 4000: 4 expected per row; deciles of the rows get ~1600 each
    deciles = counts.reshape(10, -1).sum(axis=1)
    assert counts.sum() == 40 * limit and np.all(np.abs(deciles - 1600) < 200)


def test_bad_input_is_refused_clearly(diabetes, penguins):
    X, y = diabetes
    model = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="needs the targets y"):
        report_data(model, X)
    with pytest.raises(ValueError, match="not the rows the model was fitted on"):
        report_data(model, X[:-1], y[:-1])
    with pytest.raises(ValueError, match="features"):
        report_data(model, X[:, :5], y)
    ridge = LinearRegression(alpha=1.0).fit(X, y)
    with pytest.raises(ValueError, match="not the rows the model was fitted on"):
        report_data(ridge, X[:-1], y[:-1])
    with pytest.raises(ValueError, match="max_points"):
        report_data(model, X, y, max_points=5)
    formula = LinearRegression(formula=FORMULA, missing="drop").fit(penguins)
    with pytest.raises(ValueError, match="table"):
        report_data(formula, X, y)
    with pytest.raises(TypeError, match="path"):
        model.report(X, y)


def test_a_fit_too_wide_for_its_statistics_is_refused():
    import scipy.sparse as sparse
    X = sparse.random(300, 40, density=0.1, random_state=0, format="csr")
    y = np.asarray(X.sum(axis=1)).ravel()
    model = LinearRegression(solver="lsqr").fit(X, y)
    model.stats_ = None                       # as a fit too wide for the d × d statistics
    with pytest.raises(ValueError, match="LSQR"):
        report_data(model, X, y)


@pytest.mark.resources
def test_report_data_of_a_file_in_blocks_holds_blocks_not_rows(tmp_path):
    """A file read 20,000 rows at a time: the NumPy memory the report's passes hold at their
    peak is that of a few blocks and the plots' sample — the same for 200,000 rows as for
    1,000,000 (40 MB as float64; the peak is about 8 MB)."""
    import tracemalloc

    import pyarrow as pa
    import pyarrow.csv as pcsv

    from linreg.sources import from_file
    rng = np.random.default_rng(4)
    peaks = []
    for n in (200_000, 1_000_000):
        X = rng.normal(size=(n, 4))
        y = X @ [1.0, 2.0, -1.0, 0.5] + rng.normal(size=n)
        path = tmp_path / f"big{n}.csv"
        pcsv.write_csv(pa.table({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "d": X[:, 3],
                                 "y": y}), path)
        del X, y
        model = LinearRegression().fit(from_file(path, target="y", chunk_rows=20_000))
        tracemalloc.start()
        try:
            data = report_data(model, from_file(path, target="y", chunk_rows=20_000))
            peaks.append(tracemalloc.get_traced_memory()[1])
        finally:
            tracemalloc.stop()
        assert data.n_rows == n and data.sample.index.size <= 5000 + TOP_ROWS
    assert peaks[1] < 1.2 * peaks[0] + 2**20, [p / 2**20 for p in peaks]
    assert peaks[1] < 40e6 / 4, [p / 2**20 for p in peaks]      # a quarter of the rows
