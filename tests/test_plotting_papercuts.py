"""Plots as a new user reads them (issue 20): a closed-form fit's loss panel, titles that fit,
the target's name on the axes, the penalty only when there is one, the demo's figure."""

from __future__ import annotations

import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from linreg import LinearRegression, plotting  # noqa: E402
from linreg.cli import main  # noqa: E402


@pytest.fixture()
def cars():
    rng = np.random.default_rng(5)
    n = 50
    X = pd.DataFrame({"wt": rng.uniform(1.5, 5.5, n), "hp": rng.uniform(50, 330, n)})
    y = pd.Series(37 - 3.9 * X.wt - 0.03 * X.hp + rng.normal(0, 2, n), name="mpg")
    return X, y


def test_closed_form_loss_panel_compares_with_the_intercept_only_model(cars):
    X, y = cars
    model = LinearRegression().fit(X, y)
    ax = model.plot_loss()
    bars = [p.get_width() for p in ax.patches]
    # J₀ of ŷ = mean y is the (population) variance over 2; J of the fit is SSR/(2n)
    residual = y - model.predict(X)
    np.testing.assert_allclose(bars, [np.var(y) / 2, np.mean(residual**2) / 2], rtol=1e-10)
    assert "no iterations" in ax.get_title() and "penalty" not in ax.get_title()
    assert "‖w‖²" not in ax.get_title()
    assert "mpg²" in ax.get_xlabel()
    assert f"J / J₀ = {1 - model.score(X, y):.4g}" in ax.get_xlabel()    # 1 − R²
    plt.close("all")


def test_penalty_in_the_title_only_when_alpha_is_positive(cars):
    X, y = cars
    title = LinearRegression(solver="gd", max_iter=50).fit(X, y).plot_loss().get_title()
    assert title.endswith("J = Σ(ŷ − y)²/(2n)")
    title = LinearRegression(solver="gd", alpha=0.1, max_iter=50).fit(X, y).plot_loss().get_title()
    assert title.endswith("+ (α/2)‖w‖²")
    plt.close("all")


def test_axis_labels_use_the_series_name(cars):
    X, y = cars
    model = LinearRegression().fit(X.to_numpy(), y.to_numpy())     # the model never saw names
    left, right = model.plot_fit(X.to_numpy(), y)
    assert left.get_xlabel() == "actual mpg" and right.get_xlabel() == "fitted (predicted) mpg"
    named = LinearRegression(solver="gd", max_iter=30).fit(X, y)
    assert "mpg²" in named.plot_loss().get_ylabel()
    plt.close("all")


def test_titles_fit_inside_the_figure():
    rng = np.random.default_rng(0)
    n = plotting.MAX_POINTS + 5_000
    X = rng.normal(size=(n, 2))
    y = X @ [1.0, 2.0] + rng.normal(size=n)
    model = LinearRegression(solver="gd", max_iter=20).fit(X, y)
    fig = plotting.model_figure(model, X, y, target_name="dep_delay")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width = fig.bbox.width
    for ax in fig.axes:
        box = ax.title.get_window_extent(canvas.get_renderer())
        assert box.x0 >= 0 and box.x1 <= width, ax.get_title()
    assert any("points shown" in ax.get_title() for ax in fig.axes)


def test_demo_figure_draws_the_tables_fit(tmp_path):
    out, err = io.StringIO(), io.StringIO()
    assert main(["demo", "--plot", str(tmp_path / "d.png")], stdout=out, stderr=err) == 0
    text = out.getvalue()
    table_iterations = int(re.search(r"^iterations\s+1\s+1\s+(\d+)$", text, re.M).group(1))
    drawn = int(re.search(r"its loss curve \((\d+) iterations\)", text).group(1))
    assert drawn == table_iterations > 1
    from linreg.demo import fit_demo_models, load_diabetes
    X, y, _, _ = load_diabetes()
    assert fit_demo_models(X, y)["gd"].n_iter_ == table_iterations
