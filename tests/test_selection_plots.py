"""LinearRegressionCV.plot_path and StepwiseSelector.plot_path draw what they say: the CV
curve's points are the mean held-out MSE of scikit-learn's cross_val_score over the same folds,
its error bars one standard error of those scores, the marked alphas the minimum and the
one-standard-error rule of those means; the coefficient paths are scikit-learn Ridge fits on
the standardized features; a stepwise path's points are statsmodels' criteria.  PNGs are
written, of the expected size, not blank."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.linear_model import Ridge  # noqa: E402
from sklearn.model_selection import KFold, cross_val_score  # noqa: E402
from test_selection import ic_statsmodels  # noqa: E402

from linreg import LinearRegression, LinearRegressionCV, plotting  # noqa: E402
from linreg.selection import StepwiseSelector  # noqa: E402

ALPHAS = np.geomspace(1e-3, 30.0, 9)


def data(n=160, seed=6):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4)) * [1.0, 3.0, 0.5, 8.0] + [0.0, 2.0, -1.0, 5.0]
    y = X @ [0.8, -0.3, 0.0, 0.05] + 1.0 + 1.5 * rng.standard_normal(n)
    return X, y


def kfold_scores(X, y, alphas, k=5):
    """(n_alphas, k) held-out MSE of LinearRegression(alpha) refitted on every training fold."""
    return np.array([-cross_val_score(LinearRegression(alpha=a), X, y, cv=KFold(k),
                                      scoring="neg_mean_squared_error") for a in alphas])


def errorbar_segments(ax):
    """(lower, upper) of the first error-bar collection."""
    segs = ax.collections[0].get_segments()
    return np.array([s[0][1] for s in segs]), np.array([s[1][1] for s in segs])


def vertical_lines(ax):
    return {line.get_label(): line.get_xdata()[0] for line in ax.lines
            if len(line.get_xdata()) == 2 and line.get_xdata()[0] == line.get_xdata()[1]}


@pytest.mark.parametrize("selection", ["min", "1se"])
def test_cv_curve_and_coefficient_paths(selection):
    X, y = data()
    n = len(y)
    m = LinearRegressionCV(alphas=ALPHAS, selection=selection).fit(X, y)
    ax_cv, ax_coef = m.plot_path(axes=Figure().subplots(1, 2))
    scores = kfold_scores(X, y, ALPHAS)
    mean, se = scores.mean(1), scores.std(1, ddof=1) / np.sqrt(5)
    x, drawn = ax_cv.lines[0].get_data()
    np.testing.assert_allclose(x, ALPHAS)
    np.testing.assert_allclose(drawn, mean, rtol=1e-9)
    lower, upper = errorbar_segments(ax_cv)
    np.testing.assert_allclose(upper - mean, se, rtol=1e-8)
    np.testing.assert_allclose(mean - lower, se, rtol=1e-8)
    best = int(np.argmin(mean))
    one_se = ALPHAS[np.flatnonzero(mean <= mean[best] + se[best]).max()]
    marks = vertical_lines(ax_cv)
    (low_label,) = [k for k in marks if k.startswith("min:")]
    (se_label,) = [k for k in marks if k.startswith("1se:")]
    assert marks[low_label] == ALPHAS[best] and marks[se_label] == one_se
    assert ("(chosen)" in low_label) == (selection == "min")
    assert ("(chosen)" in se_label) == (selection == "1se")
    assert ax_cv.get_xscale() == "log"
    # coefficients × sd: Ridge on the standardized features with alpha = n·alpha
    Xs = (X - X.mean(0)) / X.std(0)
    want = np.array([Ridge(alpha=n * a).fit(Xs, y).coef_ for a in ALPHAS])
    paths = [line for line in ax_coef.lines if len(line.get_xdata()) == len(ALPHAS)]
    assert len(paths) == 4
    for j, line in enumerate(paths):
        np.testing.assert_allclose(line.get_xdata(), ALPHAS)
        np.testing.assert_allclose(line.get_ydata(), want[:, j], rtol=1e-8, atol=1e-12)
        assert line.get_label() == f"x{j}"
    assert vertical_lines(ax_coef)[f"chosen alpha={m.alpha_:.3g}"] == m.alpha_


def test_unstandardized_coefficients_are_ridge_coefficients():
    X, y = data(seed=2)
    n = len(y)
    m = LinearRegressionCV(alphas=ALPHAS, standardize=False).fit(X, y)
    (_, ax_coef) = m.plot_path(axes=Figure().subplots(1, 2))
    want = np.array([Ridge(alpha=n * a).fit(X, y).coef_ for a in ALPHAS])
    paths = [line for line in ax_coef.lines if len(line.get_xdata()) == len(ALPHAS)]
    for j, line in enumerate(paths):
        np.testing.assert_allclose(line.get_ydata(), want[:, j], rtol=1e-8, atol=1e-12)
    assert ax_coef.get_ylabel() == "coefficient"


def test_one_curve_per_target():
    X, y = data(seed=4)
    rng = np.random.default_rng(0)
    Y = np.column_stack([y, 0.02 * X[:, 0] + rng.standard_normal(len(y))])
    m = LinearRegressionCV(alphas=ALPHAS, alpha_per_target=True).fit(X, Y)
    (ax,) = m.plot_path(axes=Figure().subplots(1, 1), coefficients=False)
    curves = [line for line in ax.lines if line.get_marker() == "o"]      # not the caps
    assert len(curves) == 2
    marks = vertical_lines(ax)
    for j in range(2):
        mean = kfold_scores(X, Y[:, j], ALPHAS).mean(1)
        np.testing.assert_allclose(curves[j].get_ydata(), mean, rtol=1e-9)
        chosen = [v for k, v in marks.items() if k.startswith(f"target {j}: min")]
        assert chosen == [ALPHAS[np.argmin(mean)]]
    (ax2,) = m.plot_path(axes=[Figure().subplots()], coefficients=False, target=1)
    assert len([line for line in ax2.lines if line.get_marker() == "o"]) == 1
    with pytest.raises(ValueError, match="target must be an index in 0–1"):
        m.plot_path(axes=Figure().subplots(1, 2), target=2)


def test_png_written_and_bad_requests(tmp_path):
    X, y = data()
    m = LinearRegressionCV(alphas=ALPHAS).fit(X, y)
    out = tmp_path / "path.png"
    axes = m.plot_path(path=out)
    assert len(axes) == 2
    img = mpimg.imread(out)
    assert img.shape[:2] == (plotting.PANEL_SIZE[1] * plotting.DPI,
                             2 * plotting.PANEL_SIZE[0] * plotting.DPI)
    assert img[..., :3].mean(axis=2).std() > 0.05
    with pytest.raises(ValueError, match="draws 2 panel"):
        m.plot_path(axes=Figure().subplots(1, 1))
    with pytest.raises(ValueError, match="use .png, .svg or .pdf"):
        m.plot_path(path=tmp_path / "path.gif")
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        LinearRegressionCV().plot_path()
    with pytest.raises(NotFittedError):
        StepwiseSelector().plot_path()


@pytest.mark.parametrize("direction", ["both", "exhaustive"])
def test_stepwise_path_points_are_statsmodels_criteria(tmp_path, direction):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 6))
    y = X @ [1.0, 0.0, 0.5, 0.0, -0.3, 0.0] + rng.standard_normal(200)
    sel = StepwiseSelector(criterion="aic", direction=direction, start=None).fit(X, y)
    ax = sel.plot_path(path=tmp_path / "step.png")
    x, values = ax.lines[0].get_data()
    if direction == "exhaustive":
        want = [ic_statsmodels(X, y, cols, "aic") for _, cols, _ in sel.path_]
        np.testing.assert_array_equal(x, [k for k, _, _ in sel.path_])
    else:
        model, want = [], [ic_statsmodels(X, y, [], "aic")]
        for action, j, _ in sel.path_[1:]:
            model = model + [j] if action == "+" else [c for c in model if c != j]
            want.append(ic_statsmodels(X, y, model, "aic"))
        texts = [t.get_text() for t in ax.texts]
        assert texts == ["start"] + [f"{'+' if a == '+' else '−'}x{j}" for a, j, _ in sel.path_[1:]]
    np.testing.assert_allclose(values, want, rtol=1e-8)
    ring_x, ring_y = ax.lines[1].get_data()
    assert ring_y[0] == pytest.approx(min(want), rel=1e-8)
    assert (tmp_path / "step.png").stat().st_size > 5000
