"""Plots: written as PNGs of the expected size, not blank; the reference line is the true
optimum (checked against numpy.linalg.lstsq and scikit-learn's Ridge); a clear message
without matplotlib."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from linreg import LinearRegression  # noqa: E402
from linreg import plotting  # noqa: E402
from linreg.cli import main  # noqa: E402


def run(argv):
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((300, 3)) * [1.0, 5.0, 0.2] + [1.0, -2.0, 0.0]
    y = X @ [2.0, -0.5, 3.0] + 1.0 + 0.5 * rng.standard_normal(300)
    return X, y


@pytest.fixture(scope="module")
def csv_file(data, tmp_path_factory):
    X, y = data
    path = tmp_path_factory.mktemp("plot") / "d.csv"
    rows = ["a,b,c,price"] + [",".join(repr(float(v)) for v in (*X[i], y[i])) for i in range(len(y))]
    path.write_text("\n".join(rows) + "\n")
    return path


def pixels(path):
    """(height, width) and the image's grey-level standard deviation."""
    img = mpimg.imread(path)
    grey = img[..., :3].mean(axis=2)
    return grey.shape, float(grey.std())


def assert_not_blank(path):
    _, spread = pixels(path)
    assert spread > 0.05, f"{path} looks blank (grey-level std {spread:.3f})"


# ------------------------------------------------------------------------------ the reference line
def test_optimal_loss_is_the_least_squares_minimum(data):
    X, y = data
    A = np.column_stack([X, np.ones(len(y))])
    residual = y - A @ np.linalg.lstsq(A, y, rcond=None)[0]
    expected = 0.5 * np.mean(residual ** 2)          # J* = min 1/(2n) Σ r²
    model = LinearRegression(solver="gd", max_iter=50).fit(X, y)
    assert plotting.optimal_loss(model) == pytest.approx(expected, rel=1e-10)
    assert plotting.optimal_loss(model, X, y) == pytest.approx(expected, rel=1e-10)


@pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")
def test_optimal_loss_with_a_penalty_matches_ridge(data):
    from sklearn.linear_model import Ridge

    X, y = data
    alpha, n = 0.3, len(y)
    ridge = Ridge(alpha=alpha * n).fit(X, y)
    r = y - ridge.predict(X)
    expected = 0.5 * np.mean(r ** 2) + 0.5 * alpha * np.sum(ridge.coef_ ** 2)
    model = LinearRegression(solver="gd", alpha=alpha, standardize=False, max_iter=20).fit(X, y)
    assert plotting.optimal_loss(model) == pytest.approx(expected, rel=1e-9)


# ------------------------------------------------------------------------------ from Python
def test_plot_loss_and_plot_fit_from_python(data, tmp_path):
    import matplotlib.pyplot as plt

    X, y = data
    model = LinearRegression(solver="gd", max_iter=300, tol=0).fit(X, y)
    ax = model.plot_loss()
    assert ax.get_yscale() == "log"
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("closed-form optimum" in t for t in labels)
    reference = [line for line in ax.get_lines() if line.get_linestyle() == "--"][0]
    assert reference.get_ydata()[0] == pytest.approx(plotting.optimal_loss(model, X, y), rel=1e-12)
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), model.loss_history_)
    ax.figure.savefig(tmp_path / "loss.png", dpi=100)
    assert pixels(tmp_path / "loss.png")[0] == (450, 550)
    assert_not_blank(tmp_path / "loss.png")

    axes = model.plot_fit(X, y)
    assert len(axes) == 2
    scatter = axes[0].collections[0].get_offsets()
    np.testing.assert_array_equal(scatter[:, 0], y)                       # actual
    np.testing.assert_allclose(scatter[:, 1], X @ model.coef_ + model.intercept_, rtol=1e-12)
    identity = axes[0].get_lines()[0]
    assert list(identity.get_xdata()) == list(identity.get_ydata())     # ŷ = y
    assert "actual" in axes[0].get_xlabel() and "predicted" in axes[0].get_ylabel()
    assert "residual" in axes[1].get_ylabel() and "fitted" in axes[1].get_xlabel()
    axes[0].figure.savefig(tmp_path / "fit.png", dpi=100)
    assert_not_blank(tmp_path / "fit.png")
    plt.close("all")


@pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")
def test_closed_form_and_validation_curves(data, tmp_path):
    import matplotlib.pyplot as plt

    X, y = data
    ax = LinearRegression().fit(X, y).plot_loss()
    assert "closed" in ax.get_title().lower()
    model = LinearRegression(solver="minibatch", max_iter=30, early_stopping=True,
                             validation_fraction=0.2, n_iter_no_change=100).fit(X, y)
    ax = model.plot_loss()
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "validation loss" in labels and "epoch" in ax.get_xlabel()
    ax.figure.savefig(tmp_path / "val.png", dpi=100)
    assert_not_blank(tmp_path / "val.png")
    plt.close("all")


def test_big_data_is_subsampled_in_scatter_plots():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(0)
    X = rng.standard_normal((plotting.MAX_POINTS + 5000, 2))
    y = X.sum(axis=1) + rng.standard_normal(X.shape[0])
    axes = LinearRegression().fit(X, y).plot_fit(X, y)
    assert len(axes[0].collections[0].get_offsets()) == plotting.MAX_POINTS
    assert "of 25,000 points shown" in axes[0].get_title()
    plt.close("all")


# ------------------------------------------------------------------------------ from the shell
@pytest.mark.parametrize("solver", ["normal", "gd"])
def test_cli_plot_writes_a_png_of_the_expected_size(solver, csv_file, tmp_path):
    model = tmp_path / "m.json"
    code, _, err = run(["fit", csv_file, "--target", "price", "--solver", solver, "--max-iter", "200",
                        "-o", model, "-q"])
    assert code == 0, err
    png = tmp_path / "fit.png"
    code, _, err = run(["plot", model, csv_file, "-o", png])
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width = int(3 * plotting.PANEL_SIZE[0] * plotting.DPI)
    height = int(plotting.PANEL_SIZE[1] * plotting.DPI)
    shape, spread = pixels(png)
    assert shape == (height, width)
    assert spread > 0.05
    # each third of the image (one panel each) has something drawn in it
    img = mpimg.imread(png)[..., :3].mean(axis=2)
    for k in range(3):
        assert img[:, k * width // 3:(k + 1) * width // 3].std() > 0.05
    # without data: the loss curve alone
    code, _, err = run(["plot", model, "-o", tmp_path / "loss.png"])
    assert code == 0, err
    assert pixels(tmp_path / "loss.png")[0] == (height, int(plotting.PANEL_SIZE[0] * plotting.DPI))
    assert_not_blank(tmp_path / "loss.png")


def test_cli_plot_svg_and_bad_extension(csv_file, tmp_path):
    model = tmp_path / "m.json"
    assert run(["fit", csv_file, "--target", "price", "-o", model, "-q"])[0] == 0
    code, _, err = run(["plot", model, "-o", tmp_path / "p.svg"])
    assert code == 0 and (tmp_path / "p.svg").read_text().lstrip().startswith("<?xml")
    code, _, err = run(["plot", model, "-o", tmp_path / "p.gif"])
    assert code == 1 and err.count("\n") == 1 and ".png" in err


def test_missing_matplotlib_gives_a_clear_message(csv_file, tmp_path, monkeypatch):
    model = tmp_path / "m.json"
    assert run(["fit", csv_file, "--target", "price", "-o", model, "-q"])[0] == 0
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run(["plot", model, "-o", tmp_path / "p.png"])
    assert code == 1 and err.count("\n") == 1
    assert "matplotlib" in err and "pip install 'linreg[plot]'" in err
    assert not Path(tmp_path / "p.png").exists()
    with pytest.raises(ImportError, match=r"linreg\[plot\]"):
        LinearRegression().fit([[0.0], [1.0], [3.0]], [1.0, 2.0, 2.0]).plot_loss()


def test_demo_plot(tmp_path):
    png = tmp_path / "demo.png"
    code, out, err = run(["demo", "--plot", png])
    assert code == 0, err
    assert "R²" in out and f"wrote {png}" in out
    shape, spread = pixels(png)
    assert shape == (int(plotting.PANEL_SIZE[1] * plotting.DPI),
                     int(3 * plotting.PANEL_SIZE[0] * plotting.DPI))
    assert spread > 0.05


@pytest.mark.filterwarnings("ignore::linreg.ConvergenceWarning")
def test_validation_curve_survives_the_model_file(data, tmp_path):
    import matplotlib.pyplot as plt

    import linreg

    X, y = data
    model = LinearRegression(solver="minibatch", max_iter=15, early_stopping=True,
                             validation_fraction=0.2, n_iter_no_change=100).fit(X, y)
    model.save(tmp_path / "m.json")
    loaded = linreg.load(tmp_path / "m.json")
    np.testing.assert_array_equal(loaded.validation_loss_history_, model.validation_loss_history_)
    np.testing.assert_array_equal(loaded.learning_rate_history_, model.learning_rate_history_)
    ax = loaded.plot_loss(X, y)
    assert "validation loss" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close("all")


def test_plot_cv_draws_the_mean_and_both_alphas(tmp_path):
    """The curve is the mean held-out MSE of explicit refits (scikit-learn's KFold scores), the
    error bars one standard error, the two marked alphas LinearRegressionCV's."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure
    from sklearn.model_selection import KFold, cross_val_score

    from linreg import LinearRegression, LinearRegressionCV
    from linreg.plotting import draw_cv, model_figure
    rng = np.random.default_rng(2)
    X = rng.standard_normal((120, 4))
    y = X @ [1.0, 0.5, 0.0, 0.0] + rng.standard_normal(120)
    alphas = [0.01, 0.1, 1.0, 10.0]
    cv = LinearRegressionCV(alphas=alphas, cv=4).fit(X, y)
    ax = Figure().subplots()
    draw_cv(ax, cv)
    x, mean = ax.lines[0].get_data()
    want = [-cross_val_score(LinearRegression(alpha=a), X, y, cv=KFold(4),
                             scoring="neg_mean_squared_error").mean() for a in alphas]
    np.testing.assert_allclose(x, alphas)
    np.testing.assert_allclose(mean, want, rtol=1e-9)
    marked = sorted(line.get_xdata()[0] for line in ax.lines[-2:])  # the axvlines, after the error bars
    assert marked == sorted([cv.alpha_min_, cv.alpha_1se_])
    with pytest.raises(ValueError, match="plot_cv needs a fitted LinearRegressionCV"):
        draw_cv(ax, LinearRegression().fit(X, y))
    model = cv.estimator_
    model.metadata_ = {"cv_path": {"scoring": "mse", "selection": "min", "n_folds": 4, "alphas": alphas,
                                   "mean": want, "se": [0.1] * 4, "alpha_min": cv.alpha_min_,
                                   "alpha_1se": cv.alpha_1se_}}
    assert len(model_figure(model).axes) == 2  # the CV curve, then the loss
